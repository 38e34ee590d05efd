#!/usr/bin/env python3
"""API tests of resources, availability and bookings: the booking rules
(exclusive, capacity, hours per week, sends per day, availability) under
races, on one and on two campaignd processes sharing the database.
Usage: test_bookings.py BINARY"""
import concurrent.futures
import os
import subprocess
import threading
import unittest
import uuid

from harness import Server, campaign, main

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")


def psql(sql, *args):
    """One value from the test database (for audit and outbox checks)."""
    cmd = ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


class BookingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server({"CAMPAIGND_DB_POOL_SIZE": "8"})

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        # A fresh organisation per test keeps the tests independent of order.
        self.org = "bk-" + uuid.uuid4().hex[:10]
        self.manager = self.srv.token("mia", self.org, "manager")
        self.planner = self.srv.token("pat", self.org, "planner")
        self.viewer = self.srv.token("vic", self.org, "viewer")

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or self.manager, **kw)

    def resource(self, **over):
        body = {"kind": "slot", "name": "Banner " + uuid.uuid4().hex[:6],
                "cost_per_unit": {"amount": "100.00", "currency": "EUR"}}
        body.update(over)
        st, h, b = self.req("POST", "/v1/resources", body)
        self.assertEqual(st, 201, b)
        return b

    def campaign(self, token=None):
        st, _, b = self.req("POST", "/v1/campaigns", campaign(), token or self.planner)
        self.assertEqual(st, 201, b)
        return b

    def book(self, camp, res, start, end, token=None, **over):
        body = {"campaign_id": camp["id"], "resource_id": res["id"], "start": start, "end": end}
        body.update(over)
        return self.req("POST", "/v1/bookings", body, token)

    # -- resources ---------------------------------------------------------

    def test_resource_crud_and_roles(self):
        res = self.resource(kind="person", name="Writer", capacity=40, capacity_unit="hours_per_week",
                            skills=["copywriting", "seo"])
        self.assertEqual((res["capacity"], res["capacity_unit"], res["active"]), (40, "hours_per_week", True))
        st, h, b = self.req("GET", "/v1/resources/" + res["id"], token=self.viewer)
        self.assertEqual((st, h["etag"]), (200, '"1"'))
        self.assertEqual(self.req("GET", "/v1/resources/" + res["id"], headers={"If-None-Match": '"1"'})[0], 304)
        st, h, b = self.req("PATCH", "/v1/resources/" + res["id"], {"capacity": 35}, headers={"If-Match": '"1"'})
        self.assertEqual((st, b["capacity"], h["etag"]), (200, 35, '"2"'))
        self.assertEqual(self.req("PATCH", "/v1/resources/" + res["id"], {"capacity": 30},
                                  headers={"If-Match": '"1"'})[0], 412)
        # A person's unit and skills change without sending its kind again: the stored kind decides.
        st, h, b = self.req("PATCH", "/v1/resources/" + res["id"], {"capacity_unit": "concurrent",
                                                                   "skills": ["seo", "design"]})
        self.assertEqual((st, b.get("capacity_unit"), b.get("skills"), h.get("etag")),
                         (200, "concurrent", ["seo", "design"], '"3"'), b)
        st, h, b = self.req("PATCH", "/v1/resources/" + res["id"], {"capacity_unit": "hours_per_week"})
        self.assertEqual((st, b.get("capacity_unit")), (200, "hours_per_week"), b)
        # and a patch giving a slot a person's unit is still refused, by the stored kind
        slot = self.resource(kind="slot")
        st, _, b = self.req("PATCH", "/v1/resources/" + slot["id"], {"capacity_unit": "hours_per_week"})
        self.assertEqual((st, [e["field"] for e in b.get("errors", [])]), (422, ["capacity_unit"]), b)
        st, _, b = self.req("GET", "/v1/resources?kind=person&skill=seo", token=self.planner)
        self.assertEqual([r["id"] for r in b["items"]], [res["id"]])
        # Writes are for managers and admins.
        self.assertEqual(self.req("POST", "/v1/resources", {"kind": "slot", "name": "x"}, self.planner)[0], 403)
        self.assertEqual(self.req("PATCH", "/v1/resources/" + res["id"], {"name": "y"}, self.viewer)[0], 403)
        # An integration reads bookings, not resources.
        integ = self.srv.token("crm", self.org, "integration")
        self.assertEqual(self.req("GET", "/v1/resources", token=integ)[0], 403)
        self.assertEqual(self.req("GET", "/v1/bookings", token=integ)[0], 200)
        # Names are unique per organisation.
        st, _, b = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Writer"})
        self.assertEqual((st, b["code"]), (409, "already_exists"))

    def test_resource_validation(self):
        bad = [
            ({"kind": "slot", "name": "a", "capacity_unit": "hours_per_week"}, "capacity_unit"),
            ({"kind": "person", "name": "a", "capacity_unit": "sends_per_day"}, "capacity_unit"),
            ({"kind": "slot", "name": "a", "skills": ["seo"]}, "skills"),
            ({"kind": "slot", "name": "a", "capacity": 0}, "capacity"),
            ({"kind": "slot", "name": "a", "capacity": "3"}, "capacity"),
            ({"kind": "room", "name": "a"}, "kind"),
            ({"kind": "slot", "name": "a", "active": "yes"}, "active"),
            ({"kind": "slot", "name": "a", "cost_per_unit": {"amount": "-1", "currency": "EUR"}},
             "cost_per_unit.amount"),
            ({"kind": "slot", "name": "a", "id": str(uuid.uuid4())}, "id"),
        ]
        for body, field in bad:
            st, _, b = self.req("POST", "/v1/resources", body)
            self.assertEqual((st, b["code"]), (422, "validation_failed"), body)
            self.assertIn(field, [e["field"] for e in b["errors"]], body)
        self.assertEqual(self.req("GET", "/v1/resources?active=maybe")[0], 400)

    def test_resource_delete_or_deactivate(self):
        unbooked = self.resource()
        self.assertEqual(self.req("DELETE", "/v1/resources/" + unbooked["id"])[0], 204)
        self.assertEqual(self.req("GET", "/v1/resources/" + unbooked["id"])[0], 404)
        booked = self.resource()
        camp = self.campaign()
        self.assertEqual(self.book(camp, booked, "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z")[0], 201)
        st, h, b = self.req("DELETE", "/v1/resources/" + booked["id"])
        self.assertEqual((st, b["active"], h["etag"]), (200, False, f'"{b["version"]}"'))
        st, _, b = self.book(camp, booked, "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z")
        self.assertEqual((st, b["code"]), (409, "resource_inactive"))
        self.assertEqual(self.req("GET", "/v1/bookings?resource_id=" + booked["id"])[2]["items"][0]["status"],
                         "tentative")

    # -- bookings ----------------------------------------------------------

    def test_create_get_list_and_cost(self):
        res, camp = self.resource(), self.campaign()
        st, h, b = self.book(camp, res, "2026-03-01T10:00:00+01:00", "2026-03-01T12:00:00+01:00",
                             status="confirmed", notes="hero banner")
        self.assertEqual(st, 201, b)
        self.assertEqual(h["location"], "/v1/bookings/" + b["id"])
        self.assertEqual((b["start"], b["end"]), ("2026-03-01T09:00:00+00:00", "2026-03-01T11:00:00+00:00"))
        self.assertEqual((b["status"], b["quantity"], b["cost_estimate"]),
                         ("confirmed", 1, {"amount": "100.00", "currency": "EUR"}))
        st, h, got = self.req("GET", "/v1/bookings/" + b["id"], token=self.viewer)
        self.assertEqual((st, got, h["etag"]), (200, b, '"1"'))
        for q, n in [("campaign_id=" + camp["id"], 1), ("resource_id=" + res["id"], 1), ("status=cancelled", 0),
                     ("status=tentative,confirmed", 1), ("from=2026-03-01T11:00:00Z", 0),
                     ("to=2026-03-01T09:00:00Z", 0), ("from=2026-03-01&to=2026-03-02", 1)]:
            st, _, page = self.req("GET", "/v1/bookings?" + q)
            self.assertEqual((st, len(page["items"])), (200, n), q)
        for q in ["status=done", "campaign_id=nope", "from=2026-13-01", "from=2026-03-02&to=2026-03-01",
                  "sort=price", "colour=red"]:
            st, _, b2 = self.req("GET", "/v1/bookings?" + q)
            self.assertEqual(st, 400, q)

    def test_half_open_adjacency_and_offsets(self):
        res, camp = self.resource(), self.campaign()
        self.assertEqual(self.book(camp, res, "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z")[0], 201)
        # Ends where the other starts: no overlap, on both sides.
        self.assertEqual(self.book(camp, res, "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z")[0], 201)
        self.assertEqual(self.book(camp, res, "2026-03-01T08:00:00Z", "2026-03-01T09:00:00Z")[0], 201)
        # The same instant written with another offset collides.
        st, _, b = self.book(camp, res, "2026-03-01T11:30:00+02:00", "2026-03-01T12:30:00+02:00")
        self.assertEqual((st, b["code"], b["rule"]), (409, "booking_conflict", "resource_double_booked"))
        self.assertEqual([c["start"] for c in b["conflicts"]], ["2026-03-01T09:00:00+00:00",
                                                                 "2026-03-01T10:00:00+00:00"])
        st, _, b = self.book(camp, res, "2026-03-01T05:00:00-05:00", "2026-03-01T05:30:00-05:00")
        self.assertEqual((st, b["rule"]), (409, "resource_double_booked"))

    def test_tentative_blocks_and_cancel_frees(self):
        res, camp = self.resource(), self.campaign()
        st, _, first = self.book(camp, res, "2026-03-01T09:00:00Z", "2026-03-01T17:00:00Z")
        self.assertEqual(first["status"], "tentative")
        st, _, b = self.book(camp, res, "2026-03-01T12:00:00Z", "2026-03-01T13:00:00Z")
        self.assertEqual((st, b["conflicts"][0]["id"]), (409, first["id"]))
        st, h, c = self.req("POST", f"/v1/bookings/{first['id']}/cancel", {"reason": "moved to April"})
        self.assertEqual((st, c["status"], c["status_reason"], h["etag"]), (200, "cancelled", "moved to April", '"2"'))
        self.assertEqual(self.book(camp, res, "2026-03-01T12:00:00Z", "2026-03-01T13:00:00Z")[0], 201)
        # Cancelling again changes nothing; a cancelled booking cannot come back.
        st, _, again = self.req("POST", f"/v1/bookings/{first['id']}/cancel")
        self.assertEqual((st, again["version"]), (200, 2))
        st, _, b = self.req("PATCH", "/v1/bookings/" + first["id"], {"status": "confirmed"})
        self.assertEqual((st, b["code"]), (409, "invalid_state"))

    def test_patch_into_conflict_leaves_booking_unchanged(self):
        res, camp = self.resource(), self.campaign()
        _, _, a = self.book(camp, res, "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z")
        _, _, b = self.book(camp, res, "2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z")
        st, _, err = self.req("PATCH", "/v1/bookings/" + b["id"], {"start": "2026-03-01T09:30:00Z"})
        self.assertEqual((st, err["rule"], [c["id"] for c in err["conflicts"]]),
                         (409, "resource_double_booked", [a["id"]]))
        self.assertEqual(self.req("GET", "/v1/bookings/" + b["id"])[2], b)
        # Moving within free time works and bumps the version; the period stays half-open.
        st, h, moved = self.req("PATCH", "/v1/bookings/" + b["id"], {"start": "2026-03-01T10:00:00Z"},
                                headers={"If-Match": '"1"'})
        self.assertEqual((st, moved["start"], moved["version"], h["etag"]), (200, "2026-03-01T10:00:00+00:00", 2, '"2"'))
        self.assertEqual(self.req("PATCH", "/v1/bookings/" + b["id"], {"notes": "x"},
                                  headers={"If-Match": '"1"'})[0], 412)
        # A reversed period, and fields a PATCH may not change.
        for body, field in [({"end": "2026-03-01T09:00:00Z"}, "end"), ({"resource_id": res["id"]}, "resource_id"),
                            ({"campaign_id": camp["id"]}, "campaign_id"), ({"quantity": 0}, "quantity"),
                            ({"status": "done"}, "status")]:
            st, _, e = self.req("PATCH", "/v1/bookings/" + b["id"], body)
            self.assertEqual((st, e["errors"][0]["field"]), (422, field), body)

    def test_capacity_concurrent(self):
        res, camp = self.resource(capacity=3), self.campaign()
        self.assertEqual(self.book(camp, res, "2026-03-01T09:00:00Z", "2026-03-01T12:00:00Z", quantity=2)[0], 201)
        self.assertEqual(self.book(camp, res, "2026-03-01T11:00:00Z", "2026-03-01T14:00:00Z")[0], 201)
        st, _, b = self.book(camp, res, "2026-03-01T11:30:00Z", "2026-03-01T11:45:00Z")
        self.assertEqual((st, b["rule"], len(b["conflicts"])), (409, "capacity_exceeded", 2))
        # After 12:00 only one unit is taken.
        self.assertEqual(self.book(camp, res, "2026-03-01T12:00:00Z", "2026-03-01T13:00:00Z", quantity=2)[0], 201)
        self.assertEqual(self.book(camp, res, "2026-03-01T13:00:00Z", "2026-03-01T15:00:00Z", quantity=4)[0], 409)
        # Lowering capacity below what is booked is refused; raising it is fine.
        st, _, b = self.req("PATCH", "/v1/resources/" + res["id"], {"capacity": 2})
        self.assertEqual((st, b["code"]), (409, "booking_conflict"))
        self.assertEqual(self.req("GET", "/v1/resources/" + res["id"])[2]["capacity"], 3)
        self.assertEqual(self.req("PATCH", "/v1/resources/" + res["id"], {"capacity": 5})[0], 200)

    def test_becoming_exclusive_rechecks_bookings(self):
        res, camp = self.resource(capacity=2), self.campaign()
        self.assertEqual(self.book(camp, res, "2026-03-01T09:00:00Z", "2026-03-01T11:00:00Z")[0], 201)
        self.assertEqual(self.book(camp, res, "2026-03-01T10:00:00Z", "2026-03-01T12:00:00Z")[0], 201)
        st, _, b = self.req("PATCH", "/v1/resources/" + res["id"], {"capacity": 1})
        self.assertEqual((st, b["code"], b["rule"]), (409, "booking_conflict", "resource_double_booked"))
        lone = self.resource(capacity=2)
        self.assertEqual(self.book(camp, lone, "2026-03-01T09:00:00Z", "2026-03-01T11:00:00Z")[0], 201)
        self.assertEqual(self.req("PATCH", "/v1/resources/" + lone["id"], {"capacity": 1})[0], 200)
        st, _, b = self.book(camp, lone, "2026-03-01T10:00:00Z", "2026-03-01T12:00:00Z")
        self.assertEqual((st, b["rule"]), (409, "resource_double_booked"))

    def test_exclusion_constraint_holds_without_triggers(self):
        """The final guarantee: even a writer that bypasses every trigger cannot overlap an exclusive resource."""
        admin = os.environ.get("CAMPAIGND_TEST_ADMIN_URL")
        if not admin:
            self.skipTest("needs CAMPAIGND_TEST_ADMIN_URL (tests/run.sh sets it)")
        res, camp = self.resource(), self.campaign()
        self.assertEqual(self.book(camp, res, "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z")[0], 201)
        sql = ("BEGIN; SET LOCAL session_replication_role = replica; "
               "INSERT INTO bookings (org_id, campaign_id, resource_id, period, exclusive, created_by) "
               f"VALUES ('{self.org}', '{camp['id']}', '{res['id']}', "
               "'[2026-03-01 09:30Z, 2026-03-01 10:30Z)', true, 'rogue'); COMMIT;")
        # The superuser, in the service's database.
        head, _, query = admin.partition("?")
        url = head.rsplit("/", 1)[0] + "/" + DB.split("?")[0].rsplit("/", 1)[1] + ("?" + query if query else "")
        out = subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", url, "-c", sql], capture_output=True, text=True)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("bookings_no_overlap", out.stderr)
        self.assertEqual(len(self.req("GET", "/v1/bookings?resource_id=" + res["id"])[2]["items"]), 1)

    def test_hours_per_week_and_sends_per_day(self):
        # no cost: 30 hours at 100.00 would overrun the campaign's budget, which the conflict rules refuse first
        writer = self.resource(kind="person", name="Writer", capacity=40, capacity_unit="hours_per_week",
                               cost_per_unit=None)
        camp = self.campaign()
        # Monday 2026-03-02 and Friday 2026-03-06 are in one ISO week.
        self.assertEqual(self.book(camp, writer, "2026-03-02T09:00:00Z", "2026-03-02T17:00:00Z", quantity=30)[0], 201)
        st, _, b = self.book(camp, writer, "2026-03-06T09:00:00Z", "2026-03-06T17:00:00Z", quantity=11)
        self.assertEqual((st, b["rule"]), (409, "capacity_exceeded"))
        self.assertEqual(self.book(camp, writer, "2026-03-06T09:00:00Z", "2026-03-06T17:00:00Z", quantity=10)[0], 201)
        self.assertEqual(self.book(camp, writer, "2026-03-09T09:00:00Z", "2026-03-09T17:00:00Z", quantity=11)[0], 201)
        email = self.resource(kind="channel", name="Newsletter", capacity=2, capacity_unit="sends_per_day")
        for hour in ("08", "12"):
            self.assertEqual(self.book(camp, email, f"2026-03-02T{hour}:00:00Z", f"2026-03-02T{hour}:30:00Z")[0], 201)
        st, _, b = self.book(camp, email, "2026-03-02T18:00:00Z", "2026-03-02T18:30:00Z")
        self.assertEqual((st, b["rule"], len(b["conflicts"])), (409, "capacity_exceeded", 2))
        self.assertEqual(self.book(camp, email, "2026-03-03T08:00:00Z", "2026-03-03T08:30:00Z")[0], 201)

    def test_availability_both_ways(self):
        person = self.resource(kind="person", name="Designer", cost_per_unit=None)
        camp = self.campaign()
        path = f"/v1/resources/{person['id']}/availability"
        st, h, leave = self.req("POST", path, {"kind": "leave", "start": "2026-03-02T00:00:00Z",
                                               "end": "2026-03-07T00:00:00Z", "note": "holiday"})
        self.assertEqual((st, h["location"]), (201, f"{path}/{leave['id']}"))
        st, _, b = self.book(camp, person, "2026-03-03T09:00:00Z", "2026-03-03T12:00:00Z")
        self.assertEqual((st, b["rule"], b["conflicts"][0]["id"]), (409, "person_unavailable", leave["id"]))
        self.assertEqual(self.book(camp, person, "2026-03-07T00:00:00Z", "2026-03-07T02:00:00Z")[0], 201)
        # Leave over an existing booking is refused too, naming the booking.
        st, _, b = self.req("POST", path, {"kind": "unavailable", "start": "2026-03-07T01:00:00Z",
                                           "end": "2026-03-08T00:00:00Z"})
        self.assertEqual((st, b["rule"], b["conflicts"][0]["type"]), (409, "resource_booked", "booking"))
        st, _, page = self.req("GET", path + "?from=2026-03-01&to=2026-03-31", token=self.viewer)
        self.assertEqual([a["id"] for a in page["items"]], [leave["id"]])
        self.assertEqual(self.req("DELETE", f"{path}/{leave['id']}", token=self.planner)[0], 403)
        self.assertEqual(self.req("DELETE", f"{path}/{leave['id']}")[0], 204)
        self.assertEqual(self.req("DELETE", f"{path}/{leave['id']}")[0], 404)
        self.assertEqual(self.book(camp, person, "2026-03-03T09:00:00Z", "2026-03-03T12:00:00Z")[0], 201)
        slot = self.resource()
        self.req("POST", f"/v1/resources/{slot['id']}/availability",
                 {"kind": "blackout", "start": "2026-04-01T00:00:00Z", "end": "2026-04-02T00:00:00Z"})
        st, _, b = self.book(camp, slot, "2026-04-01T09:00:00Z", "2026-04-01T10:00:00Z")
        self.assertEqual((st, b["rule"]), (409, "blackout"))

    def test_bad_periods_refused(self):
        res, camp = self.resource(), self.campaign()
        for start, end in [("2026-03-01T09:00:00Z", "infinity"), ("-infinity", "2026-03-01T09:00:00Z"),
                           ("2026-03-01T09:00:00Z", "2026-03-01T09:00:00Z"),
                           ("2026-03-01T10:00:00Z", "2026-03-01T09:00:00Z"),
                           ("2026-03-01T09:00:00", "2026-03-01T10:00:00"),
                           ("2026-02-30T09:00:00Z", "2026-03-01T10:00:00Z"), ("2026-03-01", "2026-03-02"),
                           ("2026-03-01T09:00:00Z'; DROP TABLE bookings; --", "2026-03-01T10:00:00Z")]:
            st, _, b = self.book(camp, res, start, end)
            self.assertEqual((st, b["code"]), (422, "validation_failed"), (start, end))
        for over in [{"quantity": 0}, {"quantity": 1.5}, {"status": "cancelled"}, {"segment_id": "x"},
                     {"cost_estimate": {"amount": "1", "currency": "EUR"}}, {"colour": "red"}]:
            st, _, b = self.book(camp, res, "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z", **over)
            self.assertEqual(st, 422, over)
        self.assertEqual(self.req("GET", "/v1/bookings?limit=500")[2]["items"], [])

    def test_roles_and_ownership(self):
        res = self.resource()
        mine, theirs = self.campaign(self.planner), self.campaign(self.srv.token("pia", self.org, "planner"))
        self.assertEqual(self.book(mine, res, "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z", self.planner)[0], 201)
        st, _, b = self.book(theirs, res, "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z", self.planner)
        self.assertEqual((st, b["code"]), (403, "forbidden"))
        _, _, other = self.book(theirs, res, "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z")  # the manager may
        self.assertEqual(self.req("POST", f"/v1/bookings/{other['id']}/cancel", token=self.planner)[0], 403)
        self.assertEqual(self.req("PATCH", f"/v1/bookings/{other['id']}", {"notes": "x"}, self.planner)[0], 403)
        for role in ("viewer", "analyst", "approver", "integration"):
            tok = self.srv.token("r", self.org, role)
            self.assertEqual(self.book(mine, res, "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z", tok)[0], 403, role)
            self.assertEqual(self.req("GET", "/v1/bookings/" + other["id"], token=tok)[0], 200, role)

    def test_other_organisation(self):
        res, camp = self.resource(), self.campaign()
        _, _, mine = self.book(camp, res, "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z")
        stranger = self.srv.token("eve", "x-" + self.org, "admin")
        other_res = self.srv.request("POST", "/v1/resources", {"kind": "slot", "name": "theirs"}, stranger)[2]
        other_camp = self.srv.request("POST", "/v1/campaigns", campaign(), stranger)[2]
        # Their ids do not exist here, and ours do not exist there.
        st, _, b = self.book(camp, other_res, "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z")
        self.assertEqual((st, b["errors"][0]["field"]), (422, "resource_id"))
        st, _, b = self.book(other_camp, res, "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z")
        self.assertEqual((st, b["errors"][0]["field"]), (422, "campaign_id"))
        # each missing reference named, whether the conflict rules' slice or the references' statement found it
        # missing (a manager's booking reads them from the slice, a planner's from both)
        other_seg = self.srv.request("POST", "/v1/segments", {"name": "theirs"}, stranger)[2]
        for token in (self.manager, self.planner):
            st, _, b = self.book(camp, res, "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z", token,
                                 segment_id=other_seg["id"])
            self.assertEqual((st, [e["field"] for e in b["errors"]]), (422, ["segment_id"]), b)
            st, _, b = self.book(other_camp, other_res, "2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z", token,
                                 segment_id=other_seg["id"])
            self.assertEqual((st, [e["field"] for e in b["errors"]]),
                             (422, ["campaign_id", "resource_id", "segment_id"]), b)
        for method, path in [("GET", "/v1/bookings/" + mine["id"]), ("POST", f"/v1/bookings/{mine['id']}/cancel"),
                             ("GET", "/v1/resources/" + res["id"]), ("DELETE", "/v1/resources/" + res["id"]),
                             ("GET", f"/v1/resources/{res['id']}/availability")]:
            self.assertEqual(self.srv.request(method, path, None, stranger)[0], 404, path)
        # Their overlapping booking on their own resource is no conflict of ours, and never shows ours.
        st, _, b = self.srv.request("POST", "/v1/bookings", {"campaign_id": other_camp["id"],
                                    "resource_id": other_res["id"], "start": "2026-03-01T09:00:00Z",
                                    "end": "2026-03-01T10:00:00Z"}, stranger)
        self.assertEqual(st, 201)
        self.assertEqual(self.srv.request("GET", "/v1/bookings", token=stranger)[2]["items"], [b])

    def test_idempotent_booking_and_audit(self):
        res, camp = self.resource(), self.campaign()
        body = {"campaign_id": camp["id"], "resource_id": res["id"], "start": "2026-03-01T09:00:00Z",
                "end": "2026-03-01T10:00:00Z"}
        key = {"Idempotency-Key": "book-" + uuid.uuid4().hex}
        st1, h1, b1 = self.req("POST", "/v1/bookings", body, headers=key)
        st2, h2, b2 = self.req("POST", "/v1/bookings", body, headers=key)
        self.assertEqual((st1, st2, b1, h2.get("idempotent-replayed")), (201, 201, b2, "true"))
        self.assertEqual((h1["etag"], h2["etag"]), ('"1"', '"1"'))
        self.assertEqual(self.req("POST", "/v1/bookings", dict(body, quantity=1), headers=key)[0], 422)
        ckey = {"Idempotency-Key": "cancel-" + uuid.uuid4().hex}
        st, h, b = self.req("POST", f"/v1/bookings/{b1['id']}/cancel", {"reason": "r"}, headers=ckey)
        self.assertEqual((st, h["etag"], b["version"]), (200, '"2"', 2))
        st, h, b = self.req("POST", f"/v1/bookings/{b1['id']}/cancel", {"reason": "r"}, headers=ckey)
        self.assertEqual((st, h["etag"], h.get("idempotent-replayed")), (200, '"2"', "true"))
        actions = psql(f"SELECT string_agg(action || ':' || actor, ',' ORDER BY id) FROM audit_log "
                       f"WHERE entity = 'booking' AND entity_id = '{b1['id']}'")
        self.assertEqual(actions, "create:mia,status_change:mia")
        events = psql(f"SELECT string_agg(type, ',' ORDER BY id) FROM outbox_events WHERE entity_id = '{b1['id']}'")
        self.assertEqual(events, "booking.created,booking.cancelled")

    # -- races -------------------------------------------------------------

    def race(self, servers, camp, res, n, quantity=1):
        """n simultaneous requests for the same period, spread over servers."""
        barrier = threading.Barrier(n)
        body = {"campaign_id": camp["id"], "resource_id": res["id"], "start": "2026-05-01T09:00:00Z",
                "end": "2026-05-01T10:00:00Z", "quantity": quantity}

        def one(i):
            barrier.wait()
            st, _, b = servers[i % len(servers)].request("POST", "/v1/bookings", body, self.manager)
            return st, b.get("code") if st != 201 else None

        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            return list(ex.map(one, range(n)))

    def test_race_exclusive_slot(self):
        camp = self.campaign()
        for _ in range(3):
            res = self.resource()
            results = self.race([self.srv], camp, res, 40)
            self.assertEqual(sorted(s for s, _ in results), [201] + [409] * 39, results)
            self.assertTrue(all(c == "booking_conflict" for s, c in results if s == 409), results)

    def test_race_capacity_three(self):
        camp = self.campaign()
        for _ in range(2):
            res = self.resource(capacity=3)
            results = self.race([self.srv], camp, res, 20)
            self.assertEqual(sorted(s for s, _ in results), [201] * 3 + [409] * 17, results)

    def test_race_two_processes(self):
        second = Server({"CAMPAIGND_DB_POOL_SIZE": "8"})
        try:
            camp = self.campaign()
            for capacity, n, winners in [(1, 40, 1), (3, 20, 3), (1, 40, 1)]:
                res = self.resource(capacity=capacity)
                results = self.race([self.srv, second], camp, res, n)
                self.assertEqual(sorted(s for s, _ in results), [201] * winners + [409] * (n - winners), results)
                st, _, page = self.req("GET", f"/v1/bookings?resource_id={res['id']}&limit=500")
                self.assertEqual(len(page["items"]), winners)
        finally:
            self.assertEqual(second.stop(), 0)


if __name__ == "__main__":
    main()
