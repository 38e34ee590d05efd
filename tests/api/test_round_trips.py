#!/usr/bin/env python3
"""API tests of the database round trips a write costs, read from the
service's own counter (campaignd_db_round_trips_total on /metrics, every wait
for the database's answers): a booking is two (BEGIN, the request context and
the references in one; the insert and COMMIT in the other), a decision on an
approval step at most three, the one that closes the request included; a conflict check one (the slice's
statement, with a blocked booking's free periods; a change reads the stored one first). The
server runs alone here (no date-driven worker), so the counter moves only with
the request between two reads. GET one of every request that one HTTP thread
finds waiting in one turn costs one round trip together, and the booking writes it finds two together; a new
connection goes to the HTTP thread holding the fewest, so one client waiting on a lock holds up only its own
thread's clients. Usage: test_round_trips.py BINARY"""
import contextlib
import http.client
import json
import os
import re
import subprocess
import threading
import time
import uuid

from harness import OrgTestCase, Server, campaign, main


class RoundTripTest(OrgTestCase):
    ORG_PREFIX = "rt-"

    def trips(self):
        st, _, text = self.req("GET", "/metrics", token=None)
        self.assertEqual(st, 200)
        return int(re.search(r"^campaignd_db_round_trips_total (\d+)$", text, re.M).group(1))

    def counted(self, method, path, body, token, **kw):
        """The response and the round trips it cost (measured twice: the first
        use of a statement on a pooled connection costs nothing more either)."""
        before = self.trips()
        st, h, b = self.req(method, path, body, token, **kw)
        return st, b, self.trips() - before

    def new(self, path, body, token=None):
        st, _, b = self.req("POST", path, body, token)
        self.assertEqual(st, 201, b)
        return b

    def test_a_booking_costs_two_round_trips(self):
        camp = self.new("/v1/campaigns", campaign(), self.planner)
        res = self.new("/v1/resources", {"kind": "slot", "name": "Banner"})
        for day in (1, 2, 3):
            body = {"campaign_id": camp["id"], "resource_id": res["id"],
                    "start": f"2027-03-0{day}T08:00:00Z", "end": f"2027-03-0{day}T09:00:00Z"}
            st, b, n = self.counted("POST", "/v1/bookings", body, self.planner)
            self.assertEqual(st, 201, b)
            self.assertLessEqual(n, 2, f"booking {day}: {n} round trips")
        # The refusal still answers, in whatever round trips it needs, and nothing was written.
        st, b, _ = self.counted("POST", "/v1/bookings", body, self.planner)
        self.assertEqual((st, b["code"]), (409, "booking_conflict"), b)
        # With an Idempotency-Key the claim joins the first round trip and the record the COMMIT.
        body = dict(body, start="2027-03-05T08:00:00Z", end="2027-03-05T09:00:00Z")
        st, b, n = self.counted("POST", "/v1/bookings", body, self.planner,
                                headers={"Idempotency-Key": "rt-" + uuid.uuid4().hex})
        self.assertEqual(st, 201, b)
        self.assertLessEqual(n, 4, f"booking with a key: {n} round trips")

    def test_a_booking_written_in_one_round_trip_keeps_its_context(self):
        """The insert's round trip is its whole transaction (no BEGIN, no COMMIT): the request context sent with it
        is the audit entry's and the event's, and a refused write leaves nothing, not even its context."""
        camp = self.new("/v1/campaigns", campaign(), self.planner)
        res = self.new("/v1/resources", {"kind": "slot", "name": "Banner"})
        body = {"campaign_id": camp["id"], "resource_id": res["id"], "start": "2027-03-01T08:00:00Z",
                "end": "2027-03-01T09:00:00Z"}
        st, _, booking = self.req("POST", "/v1/bookings", body, self.planner, headers={"X-Request-Id": "rt-ctx-1"})
        self.assertEqual(st, 201, booking)
        st, _, b = self.req("POST", "/v1/bookings", body, self.planner, headers={"X-Request-Id": "rt-ctx-2"})
        self.assertEqual((st, b["code"]), (409, "booking_conflict"), b)
        st, _, b = self.req("GET", "/v1/audit?entity=booking", token=self.admin)
        self.assertEqual(st, 200, b)
        self.assertEqual([(i["entity_id"], i["actor"], i["actor_role"], i["request_id"]) for i in b["items"]],
                         [(booking["id"], "pat", "planner", "rt-ctx-1")])
        st, _, b = self.req("GET", "/v1/bookings?campaign_id=" + camp["id"], token=self.admin)
        self.assertEqual([i["id"] for i in b["items"]], [booking["id"]])

    def test_a_check_costs_one_round_trip(self):
        camp = self.new("/v1/campaigns", campaign(), self.planner)
        res = self.new("/v1/resources", {"kind": "slot", "name": "Banner"})
        booking = {"campaign_id": camp["id"], "resource_id": res["id"], "start": "2027-03-01T08:00:00Z",
                   "end": "2027-03-01T09:00:00Z"}
        proposal = dict(campaign(), name="Probe")
        # a change reads the stored campaign first
        for body, most in (({"booking": booking}, 1), ({"campaign": proposal}, 1),
                           ({"campaign_id": camp["id"], "campaign": proposal}, 2)):
            for _ in range(2):
                st, b, n = self.counted("POST", "/v1/conflicts/check", body, self.planner)
                self.assertEqual(st, 200, b)
                self.assertLessEqual(n, most, f"{list(body)}: {n} round trips")
        # a blocked booking's free periods come in the same round trip: a double booking, a blackout of the
        # resource, a blackout key event
        self.new("/v1/bookings", booking)
        self.new(f"/v1/resources/{res['id']}/availability",
                 {"kind": "blackout", "start": "2027-03-10T00:00:00Z", "end": "2027-03-11T00:00:00Z"})
        self.new("/v1/key-events", {"name": "Quiet period", "kind": "blackout", "start_date": "2027-04-05",
                                    "end_date": "2027-04-06"})
        for proposal, rule in ((booking, "resource_double_booked"),
                               (dict(booking, start="2027-03-10T09:00:00Z", end="2027-03-10T10:00:00Z"), "blackout"),
                               (dict(booking, start="2027-04-05T09:00:00Z", end="2027-04-05T10:00:00Z"), "blackout")):
            for _ in range(2):
                st, b, n = self.counted("POST", "/v1/conflicts/check", {"booking": proposal}, self.planner)
                self.assertEqual(st, 200, b)
                self.assertTrue(b["blocked"], b)
                f = [f for f in b["findings"] if f["type"] == rule]
                self.assertTrue(f and f[0]["free_periods"], b)
                self.assertLessEqual(n, 1, f"{rule}: {n} round trips")

    def test_a_decision_costs_at_most_three_round_trips(self):
        wf = self.new("/v1/workflows", {"name": "Two steps", "steps": [{"name": "Brief", "role": "manager"},
                                                                       {"name": "Final", "role": "admin"}]})
        for last in ("approve", "reject"):
            camp = self.new("/v1/campaigns", campaign(), self.planner)
            appr = self.new(f"/v1/campaigns/{camp['id']}/approval", {"workflow_id": wf["id"]}, self.planner)
            path = f"/v1/approvals/{appr['id']}/decisions"
            st, b, n = self.counted("POST", path, {"decision": "approve"}, self.manager)
            self.assertEqual((st, b["status"]), (201, "pending"), b)
            self.assertLessEqual(n, 3, f"first step: {n} round trips")
            body = {"decision": last} if last == "approve" else {"decision": last, "comment": "off brief"}
            st, b, n = self.counted("POST", path, body, self.admin)
            self.assertEqual((st, b["status"]), (201, "approved" if last == "approve" else "rejected"), b)
            self.assertLessEqual(n, 3, f"closing {last}: {n} round trips")
            st, _, c = self.req("GET", "/v1/campaigns/" + camp["id"])
            self.assertEqual(c["status"], "approved" if last == "approve" else "draft")
            self.assertEqual(c["status_reason"], "approved" if last == "approve" else "rejected: off brief")


class BatchedReadTest(OrgTestCase):
    """GET one waits for its thread's turn to end and reads with the other requests of that turn."""
    ORG_PREFIX = "rtb-"

    @classmethod
    def setUpClass(cls):
        cls.srv = Server({"CAMPAIGND_THREADS": "1"})  # one HTTP thread: every request is in its turns

    def trips(self):
        st, _, text = self.req("GET", "/metrics", token=None)
        self.assertEqual(st, 200)
        return int(re.search(r"^campaignd_db_round_trips_total (\d+)$", text, re.M).group(1))

    @contextlib.contextmanager
    def thread_held(self, resource_id, booking):
        """Holds the only HTTP thread for the with-block: psql locks the resource's row for 1.5 s and the booking
        of it waits on that lock, and with it the thread. Yields a dict that gets the booking's answer."""
        holder = subprocess.Popen(["psql", "-qAtX", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c",
                                   f"BEGIN; SELECT 1 FROM resources WHERE id = '{resource_id}' FOR UPDATE; "
                                   "SELECT pg_sleep(1.5); COMMIT;"], stdout=subprocess.DEVNULL)
        time.sleep(0.3)
        booked = {}
        th = threading.Thread(target=lambda: booked.update(answer=self.req("POST", "/v1/bookings", booking)))
        th.start()
        time.sleep(0.3)
        try:
            yield booked
        finally:
            th.join()
            holder.wait()

    def test_the_gets_a_thread_finds_waiting_are_read_in_one_round_trip_and_each_gets_its_own_answer(self):
        camps = []
        for i in range(8):
            st, h, b = self.req("POST", "/v1/campaigns", campaign(name=f"Batched {i}"))
            self.assertEqual(st, 201, b)
            camps.append((b["id"], h["etag"]))
        st, _, res = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Held banner"})
        self.assertEqual(st, 201, res)
        before = self.trips()
        held = {"campaign_id": camps[0][0], "resource_id": res["id"],
                "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"}
        # A booking waits on the resource's row lock, and with it the only HTTP thread, while the GETs arrive.
        with self.thread_held(res["id"], held) as booked:
            # Eight campaigns, one of them asked with its ETag (304), and an id nobody has (404), each on its own
            # connection, all sent while the thread is held.
            asks = [(cid, None, 200) for cid, _ in camps] + [(camps[3][0], camps[3][1], 304),
                                                            (str(uuid.uuid4()), None, 404)]
            conns = []
            for cid, etag, _ in asks:
                c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
                headers = {"Authorization": "Bearer " + self.admin}
                if etag:
                    headers["If-None-Match"] = etag
                c.request("GET", "/v1/campaigns/" + cid, headers=headers)
                conns.append(c)
            answers = []
            for c in conns:
                r = c.getresponse()
                answers.append((r.status, r.getheader("ETag"), r.read()))
                c.close()
        self.assertEqual(booked["answer"][0], 201, booked["answer"])
        for (cid, _, want), (status, etag, body) in zip(asks, answers):
            self.assertEqual(status, want, (cid, body[:200]))
            if want == 200:
                self.assertIn(f'"id":"{cid}"'.encode(), body.replace(b" ", b""))
                self.assertEqual(etag, dict(camps)[cid])
        # The booking's two round trips, and one for the ten GETs (each alone would have been ten).
        self.assertLessEqual(self.trips() - before, 3)

    def test_the_writes_a_thread_finds_waiting_share_their_round_trips_and_each_gets_its_own_answer(self):
        """Booking writes without an Idempotency-Key wait for their thread's turn to end: the references and slices
        of every waiting write go in one round trip, then every write's context and insert in one more, each with
        its own sync (its own transaction). A refusal is its own write's alone: a double booking within the batch,
        one against a stored booking, an inactive resource and a blackout are refused, the others written."""
        st, _, camp = self.req("POST", "/v1/campaigns", campaign(name="Batched writes"), self.planner)
        self.assertEqual(st, 201, camp)
        slots = []
        for i in range(5):
            st, _, res = self.req("POST", "/v1/resources", {"kind": "slot", "name": f"Batched slot {i}"})
            self.assertEqual(st, 201, res)
            slots.append(res["id"])
        st, _, held = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Held slot"})
        self.assertEqual(st, 201, held)
        st, _, idle = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Idle slot"})
        self.assertEqual(st, 201, idle)
        st, _, b = self.req("PATCH", "/v1/resources/" + idle["id"], {"active": False},
                            headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual(st, 200, b)
        st, _, b = self.req("POST", "/v1/key-events", {"name": "Freeze", "kind": "blackout",
                                                       "start_date": "2026-04-06", "end_date": "2026-04-06"})
        self.assertEqual(st, 201, b)

        def booking(resource, day="02", hour="09"):
            return {"campaign_id": camp["id"], "resource_id": resource, "start": f"2026-03-{day}T{hour}:00:00Z",
                    "end": f"2026-03-{day}T{hour}:30:00Z"}
        st, _, stored = self.req("POST", "/v1/bookings", booking(slots[1], "03"))
        self.assertEqual(st, 201, stored)
        before = self.trips()
        # A booking waits on the held slot's row lock, and with it the only HTTP thread, while the writes arrive.
        with self.thread_held(held["id"], booking(held["id"])) as booked:
            asks = [("free, a manager", booking(slots[0]), self.manager, 201, None),
                    ("free, the campaign's planner", booking(slots[2]), self.planner, 201, None),
                    ("the same period twice in the batch (a)", booking(slots[3]), self.admin, None, None),
                    ("the same period twice in the batch (b)", booking(slots[3]), self.planner, None, None),
                    ("over a stored booking", booking(slots[1], "03"), self.admin, 409, "booking_conflict"),
                    ("an inactive resource", booking(idle["id"]), self.admin, 409, "resource_inactive"),
                    ("in a blackout", dict(booking(slots[4]), start="2026-04-06T09:00:00Z", end="2026-04-06T10:00:00Z"),
                     self.admin, 409, "conflict_blocked"),
                    ("free, the last", booking(slots[4]), self.admin, 201, None)]
            conns = []
            for _, body, token, _, _ in asks:
                c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
                c.request("POST", "/v1/bookings", body=json.dumps(body),
                          headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
                conns.append(c)
            answers = []
            for c in conns:
                r = c.getresponse()
                answers.append((r.status, json.loads(r.read())))
                c.close()
        self.assertEqual(booked["answer"][0], 201, booked["answer"])
        twice = []
        for (what, body, _, want, code), (status, b) in zip(asks, answers):
            if want is None:
                twice.append((status, b.get("code")))
                continue
            self.assertEqual((status, b.get("code")), (want, code), (what, b))
            if want == 201:
                self.assertEqual((b["resource_id"], b["start"]), (body["resource_id"], "2026-03-02T09:00:00+00:00"))
        self.assertEqual(sorted(twice, key=str), [(201, None), (409, "booking_conflict")], twice)
        # The held booking's two round trips, two for the eight writes (each alone would have been sixteen), and
        # the blackout's refusal's own, which reads the free periods it names around the booking.
        self.assertLessEqual(self.trips() - before, 5)
        # What was written is what was answered 201, and nothing else.
        written = {a[1]["id"] for a in answers if a[0] == 201} | {booked["answer"][2]["id"], stored["id"]}
        st, _, b = self.req("GET", "/v1/bookings?campaign_id=" + camp["id"])
        self.assertEqual({i["id"] for i in b["items"]}, written)

class SpreadConnectionsTest(OrgTestCase):
    """Each new connection goes to the HTTP thread holding the fewest: of two clients on two threads, one whose
    request holds its thread (a booking waiting on a row lock) holds up nobody else."""
    ORG_PREFIX = "rts-"

    @classmethod
    def setUpClass(cls):
        cls.srv = Server({"CAMPAIGND_THREADS": "2"})

    def test_a_client_waiting_on_a_lock_holds_up_only_its_own_thread(self):
        st, _, camp = self.req("POST", "/v1/campaigns", campaign(name="Spread"))
        self.assertEqual(st, 201, camp)
        st, _, res = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Spread banner"})
        self.assertEqual(st, 201, res)
        # Five rounds of two fresh connections: when the threads raced for each connection, both landed on one
        # thread about one round in two.
        for i in range(5):
            time.sleep(0.2)  # the round before's connections are closed on both threads
            a = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
            b = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=10)
            a.connect()
            b.connect()
            holder = subprocess.Popen(["psql", "-qAtX", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c",
                                       f"BEGIN; SELECT 1 FROM resources WHERE id = '{res['id']}' FOR UPDATE; "
                                       "SELECT pg_sleep(1.5); COMMIT;"], stdout=subprocess.DEVNULL)
            time.sleep(0.3)
            booking = {"campaign_id": camp["id"], "resource_id": res["id"],
                       "start": f"2026-03-{10 + i}T09:00:00Z", "end": f"2026-03-{10 + i}T10:00:00Z"}
            a.request("POST", "/v1/bookings", body=json.dumps(booking),
                      headers={"Authorization": "Bearer " + self.admin, "Content-Type": "application/json"})
            time.sleep(0.2)  # the booking waits on the row lock, and with it a's thread
            t = time.monotonic()
            b.request("GET", "/healthz")
            rb = b.getresponse()
            rb.read()
            waited = time.monotonic() - t
            ra = a.getresponse()
            ra.read()
            holder.wait()
            a.close()
            b.close()
            self.assertEqual(rb.status, 200)
            self.assertEqual(ra.status, 201)
            self.assertLess(waited, 0.5, f"round {i}: the other client waited {waited:.2f} s for a's thread")


if __name__ == "__main__":
    main()
