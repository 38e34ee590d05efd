"""Hostile input on every write route: broken JSON, wrong top-level types,
duplicate keys, NUL bytes, deep nesting, oversized bodies, and every field of
each body replaced by values of the wrong type. Each must be a 4xx
problem+json (the harness fails any 5xx and checks the contract), a wrong
field value is a 422 naming that field unless ACCEPTED says the value is valid
there, and nothing may be written. Usage: test_hostile.py BINARY"""
import os
import subprocess
import unittest
import uuid

from harness import Server, campaign, main

RAW_BODIES = [
    (b"{", 400), (b"[]", 400), (b'"text"', 400), (b"null", 400), (b"", 400),
    (b'{"a":1,"a":2}', 400), (b'{"name":"a\\u0000b"}', 400), (b"[" * 3000 + b"]" * 3000, 400),
    (b'{"name":' * 2000 + b"1" + b"}" * 2000, (400, 422)), (b"\xff\xfe{}", 400),
]
OPTIONAL_BODY = "/cancel"  # POST /v1/bookings/{id}/cancel takes no body at all
WRONG_VALUES = [None, 42, -1, 1.5, True, "", "x" * 5000, [], [1, 2], {}, {"a": {"b": {"c": []}}},
                "2026-02-30", "9999-99-99T99:99:99Z", "infinity", "'; DROP TABLE campaigns; --", "\u202e\ufeff"]
# Of WRONG_VALUES, those that are right for a field: any non-empty line of text for a name, and also null and
# "" where the text is optional. Every other value must be refused.
TEXT = ["2026-02-30", "9999-99-99T99:99:99Z", "infinity", "'; DROP TABLE campaigns; --", "\u202e\ufeff"]
OPTIONAL_TEXT = [None, ""] + TEXT
ACCEPTED = {
    ("POST", "campaigns", "name"): TEXT, ("POST", "campaigns", "budget"): [None],
    ("POST", "campaigns", "channels"): [[]], ("POST", "campaigns", "tags"): [[]],
    ("PATCH", "campaigns", "name"): TEXT, ("PATCH", "campaigns", "budget"): [None],
    ("POST", "transitions", "reason"): OPTIONAL_TEXT,
    ("POST", "segments", "name"): TEXT, ("POST", "segments", "description"): OPTIONAL_TEXT,
    ("POST", "segments", "estimated_size"): [None, 42], ("POST", "segments", "parent_id"): [None],
    ("PATCH", "segments", "description"): OPTIONAL_TEXT,
    ("POST", "resources", "name"): TEXT, ("POST", "resources", "capacity"): [42], ("POST", "resources", "skills"): [[]],
    ("POST", "resources", "cost_per_unit"): [None],
    ("PATCH", "resources", "notes"): OPTIONAL_TEXT, ("PATCH", "resources", "active"): [True],
    ("POST", "availability", "note"): OPTIONAL_TEXT,
    ("POST", "bookings", "notes"): OPTIONAL_TEXT, ("PATCH", "bookings", "notes"): OPTIONAL_TEXT,
    ("POST", "cancel", "reason"): OPTIONAL_TEXT,
    ("POST", "key-events", "name"): TEXT, ("POST", "key-events", "description"): OPTIONAL_TEXT,
    ("PATCH", "key-events", "name"): TEXT,
    ("POST", "feed-tokens", "name"): TEXT, ("POST", "feed-tokens", "filters"): [{}],
    ("POST", "workflows", "name"): TEXT, ("POST", "workflows", "description"): OPTIONAL_TEXT,
    ("PATCH", "workflows", "description"): OPTIONAL_TEXT,
    ("POST", "decisions", "comment"): TEXT,  # a rejection says what must change
    ("POST", "risks", "title"): TEXT, ("POST", "risks", "owner"): TEXT, ("POST", "risks", "mitigation"): [None] + TEXT,
    ("POST", "risks", "due_date"): [None], ("POST", "risks", "notes"): OPTIONAL_TEXT + ["x" * 5000],
    ("PATCH", "risks", "title"): TEXT, ("PATCH", "risks", "owner"): TEXT, ("PATCH", "risks", "mitigation"): [None] + TEXT,
    ("PATCH", "risks", "due_date"): [None], ("PATCH", "risks", "notes"): OPTIONAL_TEXT + ["x" * 5000],
    ("PUT", "targets", "targets"): [[]],  # the empty set clears the targets
    ("POST", "webhooks", "description"): OPTIONAL_TEXT, ("POST", "webhooks", "active"): [True],
    ("PATCH", "webhooks", "description"): OPTIONAL_TEXT, ("PATCH", "webhooks", "active"): [True],
}
# A value of the right shape that a rule refuses, with the status and code.
REFUSED_BY_RULE = {
    ("POST", "bookings", "quantity"): (42, 409, "booking_conflict"),  # a slot's capacity is 1
    ("PATCH", "bookings", "quantity"): (42, 409, "booking_conflict"),
}


def risk():
    return {"title": "Launch bug", "category": "technical", "probability": 2, "impact": 2, "mitigation": "m",
            "owner": "pat", "status": "open", "due_date": "2026-03-01", "notes": "n"}


def webhook():
    # A public address literal: the URL's address rules need no DNS, and this server delivers nothing.
    return {"url": "https://93.184.216.34/hook", "event_types": ["booking.created"], "description": "d",
            "active": False}


class HostileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.org = "hostile-" + uuid.uuid4().hex[:8]
        cls.admin = cls.srv.token("ada", cls.org, "admin")
        cls.planner = cls.srv.token("olga", cls.org, "planner")  # owns the campaigns the admin decides
        cls.workflow = cls.make(cls, "/v1/workflows", {"name": "W " + uuid.uuid4().hex[:6],
                                                      "steps": [{"name": "Director", "role": "manager"}]})

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def make(self, path, body, token=None):
        st, _, b = self.srv.request("POST", path, body, token or self.admin)
        assert st == 201, (path, b)
        return b

    def fresh(self):
        """Rows of their own for one probe: a draft campaign, a segment, a resource, a booking, ..."""
        return {"camp": self.make("/v1/campaigns", campaign())["id"],
                "seg": self.make("/v1/segments", {"name": "S " + uuid.uuid4().hex[:8]})["id"],
                "res": self.make("/v1/resources", {"kind": "slot", "name": "R " + uuid.uuid4().hex[:8]})["id"]}

    def booking(self, f):
        return {"campaign_id": f["camp"], "resource_id": f["res"], "start": "2026-03-02T09:00:00Z",
                "end": "2026-03-02T10:00:00Z", "quantity": 1, "notes": "n"}

    def routes(self):
        """(key, method, make) for every write route; make() -> (path, a valid body), on rows made for it, so
        the valid body would be accepted and a probe is refused only for the value it changes."""
        def unique(prefix):
            return prefix + " " + uuid.uuid4().hex[:8]

        def key_event():
            return {"name": "Fair", "kind": "industry_event", "start_date": "2026-03-18", "end_date": "2026-03-19",
                    "description": "d"}

        def with_booking(suffix, body):
            def make():
                f = self.fresh()
                bk = self.make("/v1/bookings", self.booking(f))
                return "/v1/bookings/" + bk["id"] + suffix, body
            return make

        def decision():
            camp = self.make("/v1/campaigns", campaign(), self.planner)
            appr = self.make(f"/v1/campaigns/{camp['id']}/approval", {"workflow_id": self.workflow["id"]},
                             self.planner)
            return f"/v1/approvals/{appr['id']}/decisions", {"decision": "reject", "comment": "c", "step": 0}

        return [
            ("campaigns", "POST", lambda: ("/v1/campaigns", campaign(name=unique("C")))),
            ("campaigns", "PATCH", lambda: ("/v1/campaigns/" + self.fresh()["camp"],
                                            {"name": "x", "budget": {"amount": "1.00", "currency": "EUR"}})),
            ("transitions", "POST", lambda: (f"/v1/campaigns/{self.fresh()['camp']}/transitions",
                                             {"to": "cancelled", "reason": "r"})),
            ("approval", "POST", lambda: (f"/v1/campaigns/{self.fresh()['camp']}/approval",
                                          {"workflow_id": self.workflow["id"]})),
            ("segments", "POST", lambda: ("/v1/segments", {"name": unique("S"), "description": "d",
                                                           "estimated_size": 5, "parent_id": self.fresh()["seg"]})),
            ("segments", "PATCH", lambda: ("/v1/segments/" + self.fresh()["seg"], {"description": "d"})),
            ("resources", "POST", lambda: ("/v1/resources", {
                "kind": "person", "name": unique("P"), "capacity": 40, "capacity_unit": "hours_per_week",
                "skills": ["seo"], "cost_per_unit": {"amount": "1.00", "currency": "EUR"}})),
            ("resources", "PATCH", lambda: ("/v1/resources/" + self.fresh()["res"], {"notes": "n", "active": True})),
            ("availability", "POST", lambda: (f"/v1/resources/{self.fresh()['res']}/availability", {
                "kind": "leave", "start": "2026-05-01T00:00:00Z", "end": "2026-05-02T00:00:00Z", "note": "n"})),
            ("bookings", "POST", lambda: ("/v1/bookings", self.booking(self.fresh()))),
            ("bookings", "PATCH", with_booking("", {"status": "confirmed", "quantity": 1, "notes": "n"})),
            ("cancel", "POST", with_booking("/cancel", {"reason": "r"})),
            ("key-events", "POST", lambda: ("/v1/key-events", key_event())),
            ("key-events", "PATCH", lambda: ("/v1/key-events/" + self.make("/v1/key-events", key_event())["id"],
                                             {"name": "y"})),
            ("feed-tokens", "POST", lambda: ("/v1/calendar/feed-tokens", {"name": "t", "filters": {
                "resource_id": self.fresh()["res"], "types": ["booking"], "channel": "email", "owner": "pat"}})),
            ("workflows", "POST", lambda: ("/v1/workflows", {"name": unique("W"), "description": "d",
                                                             "steps": [{"name": "Director", "role": "manager",
                                                                        "approver_sub": "mia"}]})),
            ("workflows", "PATCH", lambda: ("/v1/workflows/" + self.make("/v1/workflows", {
                "name": unique("W"), "steps": [{"name": "Director", "role": "manager"}]})["id"], {"description": "d2"})),
            ("decisions", "POST", decision),
            ("risks", "POST", lambda: (f"/v1/campaigns/{self.fresh()['camp']}/risks", risk())),
            ("risks", "PATCH", lambda: ("/v1/risks/" + self.make(f"/v1/campaigns/{self.fresh()['camp']}/risks",
                                                                 risk())["id"], risk())),
            ("targets", "PUT", lambda: (f"/v1/campaigns/{self.fresh()['camp']}/targets",
                                        {"targets": [{"kpi": "leads", "channel": "email", "target": 10}]})),
            ("webhooks", "POST", lambda: ("/v1/webhooks", webhook())),
            ("webhooks", "PATCH", lambda: ("/v1/webhooks/" + self.make("/v1/webhooks", webhook())["id"],
                                           {"url": "https://93.184.216.34/other", "event_types": ["*"],
                                            "description": "d", "active": False})),
        ]

    def fingerprint(self):
        """A digest of every row this test's organisation has, in every table a write route touches."""
        tables = ("campaigns", "segments", "resources", "availability", "bookings", "key_events",
                  "calendar_feed_tokens", "workflows", "approval_requests", "approval_decisions", "audit_log",
                  "outbox_events", "risks", "kpi_targets", "kpi_target_sets", "measurements",
                  "webhook_subscriptions")
        sql = " UNION ALL ".join(
            f"SELECT '{t}', md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {t} t "
            "WHERE org_id = :'org'" for t in tables) + ";"
        return subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", "-v", "org=" + self.org,
                               os.environ["CAMPAIGND_TEST_DATABASE_URL"]],
                              input=sql, capture_output=True, text=True, check=True).stdout

    def test_hostile_bodies_everywhere(self):
        for key, method, make in self.routes():
            path, valid = make()
            for raw, want in RAW_BODIES:
                if raw == b"" and path.endswith(OPTIONAL_BODY):
                    continue
                st, _, b = self.srv.request(method, path, token=self.admin, raw=raw,
                                            headers={"Content-Type": "application/json"})
                self.assertIn(st, want if isinstance(want, tuple) else (want,), (method, path, raw[:20], b))
            st, _, b = self.srv.request(method, path, token=self.admin, raw=b"x" * 70000,
                                        headers={"Content-Type": "application/json"})
            self.assertEqual(st, 413, (method, path))
            st, _, b = self.srv.request(method, path, token=self.admin, raw=b"name=x",
                                        headers={"Content-Type": "text/plain"})
            self.assertEqual(st, 415, (method, path))
            for field in valid:
                accepted = ACCEPTED.get((method, key, field), [])
                for value in WRONG_VALUES:
                    st, _, b = self.srv.request(method, path, dict(valid, **{field: value}), self.admin)
                    with self.subTest(method=method, route=key, field=field, value=value):
                        if value in accepted:
                            self.assertLess(st, 300, b)
                            path, valid = make()  # the accepted write used up these rows
                            continue
                        rule = REFUSED_BY_RULE.get((method, key, field))
                        if rule and type(value) is int and value == rule[0]:
                            self.assertEqual((st, b["code"]), rule[1:], b)
                            continue
                        self.assertEqual(st, 422, b)
                        named = [e["field"] for e in b.get("errors", [])]
                        self.assertTrue(any(n == field or n.startswith((field + ".", field + "[")) for n in named), b)
            # Unknown fields are refused, never ignored.
            st, _, b = self.srv.request(method, path, dict(valid, colour="red"), self.admin)
            self.assertEqual(st, 422, (method, path, b))

    def test_refused_bodies_write_nothing(self):
        routes = [(method, make()) for _, method, make in self.routes()]
        before = self.fingerprint()
        for method, (path, valid) in routes:
            for raw, _ in RAW_BODIES:
                if raw == b"" and path.endswith(OPTIONAL_BODY):
                    continue
                self.srv.request(method, path, token=self.admin, raw=raw, headers={"Content-Type": "application/json"})
            self.srv.request(method, path, dict(valid, colour="red"), self.admin)
            for field in valid:
                self.srv.request(method, path, dict(valid, **{field: {"a": {"b": {"c": []}}}}), self.admin)
        self.assertEqual(self.fingerprint(), before)


if __name__ == "__main__":
    main()
