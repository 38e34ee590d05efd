#!/usr/bin/env python3
"""API tests of a campaign's status against its bookings, held by the database under the campaign's lock:
a scheduled campaign holds no tentative booking, a cancelled or completed one takes no booking, cancelling
releases every booking and completing those not started. The races run many rounds over two campaignd
processes sharing the database, and check the database after each round.
Usage: test_campaign_bookings.py BINARY"""
import concurrent.futures
import datetime
import os
import subprocess
import threading
import unittest
import uuid

from harness import Server, campaign, main

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")


def psql(sql):
    cmd = ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def at(day, hour):
    """A period bound in a far future March, day and hour given."""
    return "2031-03-%02dT%02d:00:00Z" % (day, hour)


class CampaignBookingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server({"CAMPAIGND_DB_POOL_SIZE": "8", "CAMPAIGND_THREADS": "8"})
        cls.other = Server({"CAMPAIGND_DB_POOL_SIZE": "8", "CAMPAIGND_THREADS": "8"})  # a second replica

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0
        assert cls.other.stop() == 0

    def setUp(self):
        self.org = "cb-" + uuid.uuid4().hex[:10]
        tok = lambda sub, role: self.srv.token(sub, self.org, role)
        self.admin, self.manager, self.planner = tok("ada", "admin"), tok("mia", "manager"), tok("pat", "planner")

    def req(self, method, path, body=None, token=None, srv=None, **kw):
        return (srv or self.srv).request(method, path, body, token or self.manager, **kw)

    def resource(self):
        st, _, b = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Banner " + uuid.uuid4().hex[:6]})
        self.assertEqual(st, 201, b)
        return b

    def campaign(self, **over):
        st, _, b = self.req("POST", "/v1/campaigns", campaign(**over), self.planner)
        self.assertEqual(st, 201, b)
        return b

    def approved_campaign(self, **over):
        st, _, wf = self.req("POST", "/v1/workflows", {"name": "Lead " + uuid.uuid4().hex[:6],
                                                      "steps": [{"name": "Lead", "role": "manager"}]}, self.admin)
        camp = self.campaign(**over)
        st, _, appr = self.req("POST", f"/v1/campaigns/{camp['id']}/approval", {"workflow_id": wf["id"]},
                               self.planner)
        self.assertEqual(st, 201, appr)
        st, _, b = self.req("POST", f"/v1/approvals/{appr['id']}/decisions", {"decision": "approve"})
        self.assertEqual((st, b["status"]), (201, "approved"), b)
        return camp

    def book(self, camp, res, start, end, srv=None, **over):
        body = {"campaign_id": camp["id"], "resource_id": res["id"], "start": start, "end": end}
        body.update(over)
        return self.req("POST", "/v1/bookings", body, srv=srv)

    def move(self, camp, to, srv=None, reason=None):
        body = {"to": to} if reason is None else {"to": to, "reason": reason}
        return self.req("POST", f"/v1/campaigns/{camp['id']}/transitions", body, srv=srv)

    def bookings_of(self, camp):
        return self.req("GET", f"/v1/bookings?campaign_id={camp['id']}&limit=500")[2]["items"]

    def assert_held(self):
        """The invariants, read from the database for the whole organisation."""
        broken = psql("SELECT count(*) FROM campaigns c JOIN bookings b ON b.campaign_id = c.id "
                      f"WHERE c.org_id = '{self.org}' AND ((c.status = 'scheduled' AND b.status = 'tentative') "
                      " OR (c.status = 'cancelled' AND b.status <> 'cancelled')"
                      " OR (c.status = 'completed' AND b.status <> 'cancelled' AND lower(b.period) > c.updated_at))")
        self.assertEqual(broken, "0")

    # -- the rules, one writer at a time ---------------------------------------

    def test_cancelling_releases_bookings_with_their_events(self):
        slot, writer = self.resource(), self.resource()
        camp, rival = self.campaign(), self.campaign()
        st, _, tentative = self.book(camp, slot, at(2, 9), at(2, 17))
        st, _, confirmed = self.book(camp, writer, at(3, 9), at(3, 17), status="confirmed")
        self.assertEqual(st, 201, confirmed)
        st, _, b = self.book(rival, slot, at(2, 12), at(2, 13))
        self.assertEqual((st, b["code"], b["conflicts"][0]["id"]), (409, "booking_conflict", tentative["id"]))
        st, _, b = self.move(camp, "cancelled", reason="budget cut")
        self.assertEqual((st, b["status"]), (200, "cancelled"))
        for got in self.bookings_of(camp):
            self.assertEqual((got["status"], got["status_reason"]), ("cancelled", "campaign cancelled: budget cut"))
            self.assertEqual(got["version"], 2)
        # The slot is free for the other campaign at once.
        st, _, b = self.book(rival, slot, at(2, 12), at(2, 13))
        self.assertEqual(st, 201, b)
        # Each release is audited as the person who cancelled, with its booking.cancelled event, in order
        # after the campaign's own status change.
        for bk in (tentative, confirmed):
            self.assertEqual(psql(f"SELECT string_agg(action || ':' || actor, ',' ORDER BY id) FROM audit_log "
                                  f"WHERE entity = 'booking' AND entity_id = '{bk['id']}'"),
                             "create:mia,status_change:mia")
        events = psql(f"SELECT string_agg(type, ',' ORDER BY id) FROM outbox_events WHERE org_id = '{self.org}' "
                      f"AND (entity_id = '{camp['id']}' OR entity_id IN ('{tentative['id']}', '{confirmed['id']}')) "
                      "AND type NOT IN ('booking.created', 'campaign.created', 'campaign.updated')")
        self.assertEqual(events, "campaign.status_changed,booking.cancelled,booking.cancelled")
        # A cancelled campaign takes no booking, and its bookings do not come back.
        st, _, b = self.book(camp, slot, at(9, 9), at(9, 10))
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        self.assertIn("cancelled", b["detail"])
        st, _, b = self.req("PATCH", "/v1/bookings/" + confirmed["id"], {"status": "confirmed"})
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        self.assert_held()
        # A draft is deleted with its bookings (their resources locked first, like every other writer).
        draft = self.campaign()
        st, _, gone = self.book(draft, slot, at(11, 9), at(11, 10))
        self.assertEqual(self.req("DELETE", "/v1/campaigns/" + draft["id"])[0], 204)
        self.assertEqual(self.req("GET", "/v1/bookings/" + gone["id"])[0], 404)

    def test_completing_releases_what_has_not_started(self):
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        iso = lambda d: (now + d).isoformat().replace("+00:00", "Z")
        hour, day = datetime.timedelta(hours=1), datetime.timedelta(days=1)
        camp = self.approved_campaign()
        running, later = self.resource(), self.resource()
        st, _, started = self.book(camp, running, iso(-hour), iso(day), status="confirmed")
        self.assertEqual(st, 201, started)
        st, _, future = self.book(camp, later, iso(day), iso(2 * day), status="confirmed")
        for to in ("scheduled", "live"):
            self.assertEqual(self.move(camp, to)[0], 200, to)
        st, _, b = self.move(camp, "completed", reason="wrapped up early")
        self.assertEqual((st, b["status"]), (200, "completed"))
        got = {b["id"]: b for b in self.bookings_of(camp)}
        self.assertEqual((got[started["id"]]["status"], got[started["id"]]["status_reason"]), ("confirmed", None))
        self.assertEqual((got[future["id"]]["status"], got[future["id"]]["status_reason"]),
                         ("cancelled", "campaign completed: wrapped up early"))
        # A completed campaign takes no booking and no change of what it holds; notes and cancelling still go.
        st, _, b = self.book(camp, later, iso(3 * day), iso(4 * day), status="confirmed")
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        st, _, b = self.req("PATCH", "/v1/bookings/" + started["id"], {"end": iso(3 * day)})
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        self.assertEqual(self.req("PATCH", "/v1/bookings/" + started["id"], {"notes": "ran well"})[0], 200)
        self.assertEqual(self.req("POST", f"/v1/bookings/{started['id']}/cancel", {"reason": "x"})[0], 200)
        self.assert_held()

    def test_scheduled_takes_only_confirmed_bookings(self):
        camp = self.approved_campaign()
        slot = self.resource()
        st, _, bk = self.book(camp, slot, at(4, 9), at(4, 10), status="confirmed")
        self.assertEqual(self.move(camp, "scheduled")[0], 200)
        st, _, b = self.book(camp, slot, at(5, 9), at(5, 10))  # tentative by default
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        self.assertIn("scheduled", b["detail"])
        self.assertEqual(self.book(camp, slot, at(5, 9), at(5, 10), status="confirmed")[0], 201)
        st, _, b = self.req("PATCH", "/v1/bookings/" + bk["id"], {"status": "tentative"})
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        self.assertEqual(self.req("GET", "/v1/bookings/" + bk["id"])[2]["status"], "confirmed")
        # Moving a confirmed booking is fine; back in approved, tentative is fine again.
        self.assertEqual(self.req("PATCH", "/v1/bookings/" + bk["id"], {"start": at(4, 8)})[0], 200)
        self.assertEqual(self.move(camp, "approved")[0], 200)
        self.assertEqual(self.req("PATCH", "/v1/bookings/" + bk["id"], {"status": "tentative"})[0], 200)
        st, _, b = self.move(camp, "scheduled")
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        self.assertIn("tentative", b["detail"])
        self.assert_held()

    def test_every_writer_is_held(self):
        """The rules are the database's: a writer that is not campaignd meets them too."""
        camp = self.approved_campaign()
        slot = self.resource()
        self.book(camp, slot, at(6, 9), at(6, 10), status="confirmed")
        self.assertEqual(self.move(camp, "scheduled")[0], 200)
        insert = ("INSERT INTO bookings (org_id, campaign_id, resource_id, period, status, exclusive, created_by) "
                  f"VALUES ('{self.org}', '{camp['id']}', '{slot['id']}', '[2031-03-07 09:00Z, 2031-03-07 10:00Z)', "
                  "'{status}', true, 'script')")
        with self.assertRaises(subprocess.CalledProcessError) as refused:
            psql(insert.replace("{status}", "tentative"))
        self.assertIn("is scheduled: its bookings are confirmed", refused.exception.stderr)
        psql(f"UPDATE campaigns SET status = 'cancelled', status_reason = 'by script' WHERE id = '{camp['id']}'")
        self.assertEqual({(b["status"], b["status_reason"]) for b in self.bookings_of(camp)},
                         {("cancelled", "campaign cancelled: by script")})
        with self.assertRaises(subprocess.CalledProcessError) as refused:
            psql(insert.replace("{status}", "confirmed"))
        self.assertIn("is cancelled and takes no bookings", refused.exception.stderr)
        self.assert_held()

    # -- races -------------------------------------------------------------------

    def run_together(self, *calls):
        """Runs the calls at the same moment, one thread each; returns their results in order."""
        barrier = threading.Barrier(len(calls))

        def one(call):
            barrier.wait()
            return call()

        with concurrent.futures.ThreadPoolExecutor(len(calls)) as ex:
            return list(ex.map(one, calls))

    def test_race_tentative_bookings_against_scheduling(self):
        camp = self.approved_campaign()
        slot = self.resource()
        _, _, held = self.book(camp, slot, at(1, 0), at(1, 1), status="confirmed")
        servers = (self.srv, self.other)
        for r in range(24):
            res = self.resource()
            s1, s2 = servers[r % 2], servers[(r + 1) % 2]
            booked, patched, scheduled = self.run_together(
                lambda: self.book(camp, res, at(10, 9), at(10, 10), srv=s1),
                lambda: self.req("PATCH", "/v1/bookings/" + held["id"], {"status": "tentative"}, srv=s2),
                lambda: self.move(camp, "scheduled", srv=s1))
            self.assert_held()
            if scheduled[0] == 200:
                # Scheduled first: both tentative writes were refused, cleanly.
                self.assertEqual([(x[0], x[2]["code"]) for x in (booked, patched)], [(409, "invalid_state")] * 2, r)
            else:
                # A tentative booking landed first: scheduling was refused, cleanly.
                self.assertEqual((scheduled[0], scheduled[2]["code"]), (409, "invalid_state"), r)
                self.assertTrue(booked[0] == 201 or patched[0] == 200, (booked, patched))
                for x in (booked, patched):
                    self.assertIn(x[0], (200, 201, 409), x)
                    if x[0] == 409:
                        self.assertEqual(x[2]["code"], "invalid_state", x)
            # Back to the start: approved, the racing booking gone, the held one confirmed.
            if scheduled[0] == 200:
                self.assertEqual(self.move(camp, "approved")[0], 200)
            if booked[0] == 201:
                self.assertEqual(self.req("POST", f"/v1/bookings/{booked[2]['id']}/cancel")[0], 200)
            self.assertEqual(self.req("PATCH", "/v1/bookings/" + held["id"], {"status": "confirmed"})[0], 200)
        self.assertEqual(self.req("GET", "/v1/campaigns/" + camp["id"])[2]["status"], "approved")

    def test_race_bookings_against_cancelling(self):
        slots = [self.resource() for _ in range(3)]
        servers = (self.srv, self.other)
        rival = self.campaign()
        for r in range(24):
            camp = self.campaign()
            _, _, moving = self.book(camp, slots[0], at(20, 1), at(20, 2))
            day = 1 + r % 28
            calls = [lambda s=s, i=i: self.book(camp, s, at(day, 9), at(day, 10), srv=servers[i % 2])
                     for i, s in enumerate(slots)]
            calls.append(lambda: self.req("PATCH", "/v1/bookings/" + moving["id"], {"start": at(20, 0)},
                                          srv=servers[r % 2]))
            calls.append(lambda: self.move(camp, "cancelled", srv=servers[(r + 1) % 2], reason="round %d" % r))
            *writes, cancelled = self.run_together(*calls)
            self.assertEqual((cancelled[0], cancelled[2]["status"]), (200, "cancelled"), r)
            for st, _, b in writes:
                self.assertIn(st, (200, 201, 409), b)
                if st == 409:
                    self.assertEqual(b["code"], "invalid_state", b)
            self.assert_held()
            self.assertEqual({b["status"] for b in self.bookings_of(camp)}, {"cancelled"}, r)
            # Whatever landed before the cancellation was released: the rival books the same slots.
            for s in slots:
                self.assertEqual(self.book(rival, s, at(day, 9), at(day, 10), srv=servers[r % 2])[0], 201, r)


if __name__ == "__main__":
    main()
