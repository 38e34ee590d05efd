#!/usr/bin/env python3
"""The role matrix of SPEC §5 (README "Roles"), route by route: every role
calls every route, and is refused with 403 exactly where the matrix says so.
Writes that are allowed act on a fresh row each time, so no call depends on
another's outcome. Usage: test_roles.py BINARY"""
import unittest
import uuid

from harness import Server, campaign, main

ROLES = ("admin", "manager", "planner", "approver", "analyst", "integration", "viewer")
ALL = set(ROLES)
NOT_INTEGRATION = ALL - {"integration"}
ADMIN_MANAGER = {"admin", "manager"}


class RoleMatrixTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.org = "roles-" + uuid.uuid4().hex[:10]
        cls.tokens = {r: cls.srv.token("user-" + r, cls.org, r) for r in ROLES}
        # Rows owned by someone with no token here, so a planner owns none of them.
        cls.owner = cls.srv.token("olga", cls.org, "planner")

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def make(self, path, body, token=None):
        st, _, b = self.srv.request("POST", path, body, token or self.tokens["admin"])
        self.assertEqual(st, 201, (path, b))
        return b

    def campaign(self):
        return self.make("/v1/campaigns", campaign(), self.owner)

    def resource(self):
        return self.make("/v1/resources", {"kind": "slot", "name": "Slot " + uuid.uuid4().hex[:8]})

    def segment(self):
        return self.make("/v1/segments", {"name": "Segment " + uuid.uuid4().hex[:8]})

    def key_event(self):
        return self.make("/v1/key-events", {"name": "Fair", "kind": "industry_event", "start_date": "2026-03-18",
                                            "end_date": "2026-03-19"})

    def booking(self):
        return self.make("/v1/bookings", {"campaign_id": self.campaign()["id"], "resource_id": self.resource()["id"],
                                          "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"})

    def workflow(self):
        return self.make("/v1/workflows", {"name": "W " + uuid.uuid4().hex[:8],
                                           "steps": [{"name": "Director", "role": "manager"}]})

    def approval(self):
        camp = self.campaign()
        return self.make(f"/v1/campaigns/{camp['id']}/approval", {"workflow_id": self.workflow()["id"]}, self.owner)

    def risk(self, camp=None):
        camp = camp or self.campaign()
        return self.make(f"/v1/campaigns/{camp['id']}/risks",
                         {"title": "Launch bug", "category": "technical", "probability": 2, "impact": 3})

    def check(self, allowed, call, ok=200):
        """call(token) -> status: ok (the route's success status) for every role in allowed, 403 for every
        other. Each call acts on rows of its own, so an allowed role has no other reason to be refused."""
        for role in ROLES:
            st = call(self.tokens[role])
            self.assertEqual(st, ok if role in allowed else 403, role)

    def status(self, method, path, body=None):
        return lambda token: self.srv.request(method, path, body, token)[0]

    def test_reads(self):
        c, s, r, b, k = self.campaign(), self.segment(), self.resource(), self.booking(), self.key_event()
        for allowed, path in (
                (ALL, "/v1/campaigns"), (ALL, "/v1/campaigns/" + c["id"]),
                (NOT_INTEGRATION, "/v1/segments"), (NOT_INTEGRATION, "/v1/segments/" + s["id"]),
                (NOT_INTEGRATION, "/v1/resources"), (NOT_INTEGRATION, "/v1/resources/" + r["id"]),
                (NOT_INTEGRATION, f"/v1/resources/{r['id']}/availability"),
                (ALL, "/v1/bookings"), (ALL, "/v1/bookings/" + b["id"]),
                (ALL, "/v1/key-events"), (ALL, "/v1/key-events/" + k["id"]),
                (ALL, "/v1/calendar?from=2026-03-01&to=2026-04-01"), (ALL, "/v1/calendar.ics"),
                (ALL, "/v1/calendar/feed-tokens"),
                (NOT_INTEGRATION, "/v1/workflows"), (NOT_INTEGRATION, "/v1/workflows/" + self.workflow()["id"]),
                (NOT_INTEGRATION, "/v1/approvals"), (NOT_INTEGRATION, "/v1/approvals/" + self.approval()["id"]),
                (NOT_INTEGRATION, "/v1/risks"), (NOT_INTEGRATION, "/v1/risks/" + self.risk(c)["id"]),
                (NOT_INTEGRATION, f"/v1/campaigns/{c['id']}/risks"),
                (NOT_INTEGRATION, "/v1/risks/matrix?from=2026-03-01&to=2026-03-31")):
            with self.subTest(path=path):
                self.check(allowed, self.status("GET", path))

    def test_campaign_writes(self):
        self.check({"admin", "manager", "planner"}, self.status("POST", "/v1/campaigns", campaign()), 201)
        # Someone else's campaign: a planner may not touch it.
        self.check(ADMIN_MANAGER, lambda t: self.status("PATCH", "/v1/campaigns/" + self.campaign()["id"],
                                                        {"notes": "x"})(t))
        self.check(ADMIN_MANAGER, lambda t: self.status("DELETE", "/v1/campaigns/" + self.campaign()["id"])(t), 204)
        self.check(ADMIN_MANAGER, lambda t: self.status("POST", f"/v1/campaigns/{self.campaign()['id']}/transitions",
                                                        {"to": "cancelled"})(t))

    def test_segment_resource_and_key_event_writes(self):
        self.check(ADMIN_MANAGER, lambda t: self.status("POST", "/v1/segments",
                                                        {"name": "S " + uuid.uuid4().hex[:8]})(t), 201)
        self.check(ADMIN_MANAGER, lambda t: self.status("PATCH", "/v1/segments/" + self.segment()["id"],
                                                        {"description": "x"})(t))
        self.check(ADMIN_MANAGER, lambda t: self.status("DELETE", "/v1/segments/" + self.segment()["id"])(t), 204)
        self.check(ADMIN_MANAGER, lambda t: self.status("POST", "/v1/resources",
                                                        {"kind": "slot", "name": "R " + uuid.uuid4().hex[:8]})(t), 201)
        self.check(ADMIN_MANAGER, lambda t: self.status("PATCH", "/v1/resources/" + self.resource()["id"],
                                                        {"notes": "x"})(t))
        self.check(ADMIN_MANAGER, lambda t: self.status("DELETE", "/v1/resources/" + self.resource()["id"])(t), 204)
        self.check(ADMIN_MANAGER, lambda t: self.status(
            "POST", f"/v1/resources/{self.resource()['id']}/availability",
            {"kind": "leave", "start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"})(t), 201)

        def delete_availability(token):
            r = self.resource()
            a = self.make(f"/v1/resources/{r['id']}/availability",
                          {"kind": "leave", "start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"})
            return self.status("DELETE", f"/v1/resources/{r['id']}/availability/{a['id']}")(token)
        self.check(ADMIN_MANAGER, delete_availability, 204)
        self.check(ADMIN_MANAGER, self.status("POST", "/v1/key-events", {
            "name": "Fair", "kind": "industry_event", "start_date": "2026-03-18", "end_date": "2026-03-19"}), 201)
        self.check(ADMIN_MANAGER, lambda t: self.status("PATCH", "/v1/key-events/" + self.key_event()["id"],
                                                        {"name": "y"})(t))
        self.check(ADMIN_MANAGER, lambda t: self.status("DELETE", "/v1/key-events/" + self.key_event()["id"])(t), 204)

    def test_booking_writes(self):
        # For someone else's campaign: managers and admins only.
        self.check(ADMIN_MANAGER, lambda t: self.status("POST", "/v1/bookings", {
            "campaign_id": self.campaign()["id"], "resource_id": self.resource()["id"],
            "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"})(t), 201)
        self.check(ADMIN_MANAGER, lambda t: self.status("PATCH", "/v1/bookings/" + self.booking()["id"],
                                                        {"notes": "x"})(t))
        self.check(ADMIN_MANAGER, lambda t: self.status("POST", f"/v1/bookings/{self.booking()['id']}/cancel")(t))
        # For their own campaign, a planner books too.
        planner = self.tokens["planner"]
        mine = self.make("/v1/campaigns", campaign(), planner)
        st, _, b = self.srv.request("POST", "/v1/bookings", {
            "campaign_id": mine["id"], "resource_id": self.resource()["id"],
            "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"}, planner)
        self.assertEqual(st, 201, b)

    def test_approval_writes(self):
        steps = [{"name": "Director", "role": "manager"}]
        self.check({"admin"}, lambda t: self.status("POST", "/v1/workflows",
                                                    {"name": "W " + uuid.uuid4().hex[:8], "steps": steps})(t), 201)
        self.check({"admin"}, lambda t: self.status("PATCH", "/v1/workflows/" + self.workflow()["id"],
                                                    {"description": "x"})(t))
        self.check({"admin"}, lambda t: self.status("DELETE", "/v1/workflows/" + self.workflow()["id"])(t), 204)
        # Submitting someone else's campaign: managers and admins.
        self.check(ADMIN_MANAGER, lambda t: self.status("POST", f"/v1/campaigns/{self.campaign()['id']}/approval",
                                                        {"workflow_id": self.workflow()["id"]})(t), 201)
        # Deciding a manager step: managers and admins (approvers decide approver steps).
        self.check(ADMIN_MANAGER, lambda t: self.status("POST", f"/v1/approvals/{self.approval()['id']}/decisions",
                                                        {"decision": "approve"})(t), 201)

    def test_risk_writes(self):
        body = {"title": "Launch bug", "category": "technical", "probability": 2, "impact": 3}
        # Someone else's campaign: as for the campaign itself, managers and admins only.
        self.check(ADMIN_MANAGER, lambda t: self.status("POST", f"/v1/campaigns/{self.campaign()['id']}/risks",
                                                        body)(t), 201)
        self.check(ADMIN_MANAGER, lambda t: self.status("PATCH", "/v1/risks/" + self.risk()["id"], {"impact": 4})(t))
        self.check(ADMIN_MANAGER, lambda t: self.status("DELETE", "/v1/risks/" + self.risk()["id"])(t), 204)
        # Notes: approvers too, on any campaign's risks.
        self.check(ADMIN_MANAGER | {"approver"},
                   lambda t: self.status("PATCH", "/v1/risks/" + self.risk()["id"], {"notes": "x"})(t))
        # Their own campaign's risks: a planner writes them.
        planner = self.tokens["planner"]
        mine = self.make("/v1/campaigns", campaign(), planner)
        st, _, r = self.srv.request("POST", f"/v1/campaigns/{mine['id']}/risks", body, planner)
        self.assertEqual(st, 201, r)
        self.assertEqual(self.srv.request("PATCH", "/v1/risks/" + r["id"], {"impact": 5}, planner)[0], 200)
        self.assertEqual(self.srv.request("DELETE", "/v1/risks/" + r["id"], None, planner)[0], 204)

    def test_kpi_reads(self):
        c = self.campaign()
        for allowed, path in (
                (ALL, "/v1/kpis"), (NOT_INTEGRATION, "/v1/measurements"), (NOT_INTEGRATION, "/v1/measurements.csv"),
                (ALL, f"/v1/campaigns/{c['id']}/targets"), (NOT_INTEGRATION, f"/v1/dashboards/campaigns/{c['id']}"),
                (NOT_INTEGRATION, "/v1/dashboards/channels"),
                (NOT_INTEGRATION, "/v1/dashboards/portfolio?from=2026-03-01&to=2026-03-31"),
                (NOT_INTEGRATION, "/v1/dashboards/capacity?from=2026-03-01&to=2026-03-31")):
            with self.subTest(path=path):
                self.check(allowed, self.status("GET", path))

    def test_kpi_writes(self):
        ingest = {"admin", "manager", "analyst", "integration"}

        def row(camp):
            return {"campaign_id": camp["id"], "date": "2026-03-02", "source": "crm",
                    "external_id": uuid.uuid4().hex, "leads": 3}

        def push(token):  # someone else's campaign: a planner may push only for their own
            st, _, b = self.srv.request("POST", "/v1/measurements/batch", {"rows": [row(self.campaign())]}, token)
            return 403 if st == 422 and b["errors"][0]["field"] == "rows[0].campaign_id" else st
        self.check(ingest, push)

        def upload(token):
            camp = self.campaign()
            st, _, b = self.srv.request(
                "POST", "/v1/imports/measurements", token=token, headers={"Content-Type": "text/csv"},
                raw=f"campaign_id,date,source,external_id,leads\n{camp['id']},2026-03-02,crm,{uuid.uuid4().hex},3\n"
                .encode())
            return 403 if st == 422 and b["errors"][0]["field"].endswith("campaign_id") else st
        self.check(ingest, upload)
        # A planner's own campaign takes their rows.
        planner = self.tokens["planner"]
        mine = self.make("/v1/campaigns", campaign(), planner)
        st, _, b = self.srv.request("POST", "/v1/measurements/batch", {"rows": [row(mine)]}, planner)
        self.assertEqual((st, b["summary"]["created"]), (200, 1), b)

        def delete(token):
            st, _, b = self.srv.request("POST", "/v1/measurements/batch", {"rows": [row(self.campaign())]},
                                        self.tokens["admin"])
            return self.status("DELETE", "/v1/measurements/" + b["results"][0]["id"])(token)
        self.check(ADMIN_MANAGER, delete, 204)
        # Targets follow the campaign: someone else's for managers and admins, their own for a planner.
        targets = {"targets": [{"kpi": "leads", "target": 10}]}
        self.check(ADMIN_MANAGER, lambda t: self.status("PUT", f"/v1/campaigns/{self.campaign()['id']}/targets",
                                                        targets)(t))
        st, _, b = self.srv.request("PUT", f"/v1/campaigns/{mine['id']}/targets", targets, planner)
        self.assertEqual(st, 200, b)

    def test_webhooks_admin_only(self):
        body = {"url": "https://93.184.216.34/hook", "event_types": ["booking.created"], "active": False}
        hook = lambda: self.make("/v1/webhooks", body)["id"]
        self.check({"admin"}, self.status("GET", "/v1/webhooks"))
        self.check({"admin"}, self.status("POST", "/v1/webhooks", body), 201)
        self.check({"admin"}, lambda t: self.status("GET", "/v1/webhooks/" + hook())(t))
        self.check({"admin"}, lambda t: self.status("PATCH", "/v1/webhooks/" + hook(), {"description": "d"})(t))
        self.check({"admin"}, lambda t: self.status("DELETE", "/v1/webhooks/" + hook())(t), 204)
        self.check({"admin"}, lambda t: self.status("POST", f"/v1/webhooks/{hook()}/rotate-secret")(t))
        self.check({"admin"}, lambda t: self.status("GET", f"/v1/webhooks/{hook()}/deliveries")(t))

    def test_audit_for_admins_and_managers(self):
        self.check(ADMIN_MANAGER, self.status("GET", "/v1/audit?limit=1"))

    def test_feed_tokens_for_everyone(self):
        self.check(ALL, self.status("POST", "/v1/calendar/feed-tokens", {"name": "mine"}), 201)

    def test_forecasts(self):
        # This organisation has no completed campaign: a role allowed gets 422 insufficient_history, never 403.
        plan = {"currency": "EUR", "start_date": "2027-03-01", "end_date": "2027-03-28",
                "channels": [{"channel": "email", "amount": "100.00"}]}
        allocate = {"kpi": "leads", "budget": "100.00", "currency": "EUR", "start_date": "2027-03-01",
                    "end_date": "2027-03-28", "channels": [{"channel": "email"}]}
        for path, body in (("/v1/forecasts", plan), ("/v1/forecasts/backtest", {"currency": "EUR"}),
                           ("/v1/budget/allocate", allocate)):
            self.check({"admin", "manager", "planner", "analyst"}, self.status("POST", path, body), 422)


if __name__ == "__main__":
    main()
