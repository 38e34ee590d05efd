#!/usr/bin/env python3
"""API tests of the planning engine's endpoints: POST /v1/conflicts/check (a proposed booking or campaign, new
or a change, nothing stored) and GET /v1/conflicts (the portfolio scan): the seeds' examples, suggestions that
are really free, settings changing outcomes, time zones around midnight, a check-then-book race the database
still decides, cursor pages in a stable order, isolation between organisations, hostile inputs and roles.
Usage: test_conflicts.py BINARY"""
import datetime
import os
import subprocess
import threading
import unittest
import uuid

from harness import OrgTestCase, Server, main

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")


def psql(sql):
    cmd = ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


class ConflictsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server({"CAMPAIGND_DB_POOL_SIZE": "8", "CAMPAIGND_THREADS": "8"})

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "cf-" + uuid.uuid4().hex[:10]
        tok = lambda sub, role: self.srv.token(sub, self.org, role)
        self.admin, self.manager, self.planner = tok("ada", "admin"), tok("mia", "manager"), tok("pat", "planner")
        self.viewer, self.integration = tok("vic", "viewer"), tok("crm", "integration")

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or self.manager, **kw)

    def make(self, path, body, token=None):
        st, _, b = self.req("POST", path, body, token)
        self.assertEqual(st, 201, b)
        return b

    def campaign(self, name, start, end, **over):
        body = {"name": name, "objective": "retention", "start_date": start, "end_date": end}
        body.update(over)
        return self.make("/v1/campaigns", body)

    def check(self, body, token=None):
        st, _, b = self.req("POST", "/v1/conflicts/check", body, token)
        self.assertEqual(st, 200, b)
        return b

    def scan(self, query, token=None):
        st, _, b = self.req("GET", "/v1/conflicts?" + query, token=token)
        self.assertEqual(st, 200, b)
        return b["items"]

    @staticmethod
    def types(findings):
        return sorted(f["type"] for f in findings)

    def test_same_segment_same_week(self):
        seg = self.make("/v1/segments", {"name": "Newsletter"})["id"]
        a = self.campaign("Autumn newsletter", "2027-09-06", "2027-09-10", segment_ids=[seg],
                          scoring={"engagement_potential": 8, "estimated_cpa": 7, "customer_experience": 8,
                                   "strategic_alignment": 9})
        # a second emailing to the same segment the same week: warned, and the lower priority is the one to move
        got = self.check({"campaign": {"name": "Flash sale", "objective": "conversion", "start_date": "2027-09-09",
                                       "end_date": "2027-09-09", "segment_ids": [seg]}})
        self.assertEqual(self.types(got["findings"]), ["audience_overlap"])
        f = got["findings"][0]
        self.assertEqual((f["severity"], got["blocked"]), ("warn", False))
        self.assertEqual(f["move"]["name"], "Flash sale")
        self.assertIsNone(f["move"]["campaign_id"])  # not stored
        self.assertEqual({i["type"] for i in f["items"]}, {"campaign", "segment"})
        self.assertIn("2027-09-23", f["suggestion"])  # two weeks on, 13 days after Autumn's end
        # exactly 7 days after the last day: clear; 6: not
        self.assertEqual(self.check({"campaign": {"name": "Later", "objective": "conversion", "start_date": "2027-09-17",
                                                  "end_date": "2027-09-17", "segment_ids": [seg]}})["findings"], [])
        self.assertEqual(len(self.check({"campaign": {"name": "Sooner", "objective": "conversion",
                                                      "start_date": "2027-09-16", "end_date": "2027-09-16",
                                                      "segment_ids": [seg]}})["findings"]), 1)
        # the scan lists it once stored, and nothing was stored by the checks
        b = self.campaign("Flash sale", "2027-09-09", "2027-09-09", segment_ids=[seg])
        items = self.scan("from=2027-09-01&to=2027-10-01")
        self.assertEqual(self.types(items), ["audience_overlap"])
        self.assertEqual({i["id"] for i in items[0]["items"] if i["type"] == "campaign"}, {a["id"], b["id"]})
        self.assertEqual(items[0]["move"]["campaign_id"], b["id"])
        # a wider window in the settings catches the campaign 7 days later too
        self.campaign("Later", "2027-09-17", "2027-09-17", segment_ids=[seg])
        self.assertEqual(len(self.scan("from=2027-09-01&to=2027-10-01&type=audience_overlap")), 1)
        st, _, _ = self.req("PATCH", "/v1/settings", {"overlap_window_days": 8}, token=self.admin)
        self.assertEqual(st, 200)
        self.assertEqual(len(self.scan("from=2027-09-01&to=2027-10-01&type=audience_overlap")), 2)  # + Autumn–Later

    def test_a_campaign_is_found_by_its_current_dates_and_segments(self):
        # a check finds the campaigns it pairs with by segment and dates (campaign_audience, kept by triggers): each
        # change of a stored campaign's dates or segments, and its deletion, shows in the next check
        x, y = self.make("/v1/segments", {"name": "X"})["id"], self.make("/v1/segments", {"name": "Y"})["id"]
        a = self.campaign("Stored", "2027-03-01", "2027-03-05", segment_ids=[x])
        probe = lambda seg: self.types(self.check({"campaign": {
            "name": "Probe", "objective": "conversion", "start_date": "2027-09-06", "end_date": "2027-09-10",
            "segment_ids": [seg]}})["findings"])
        self.assertEqual(probe(x), [])  # six months apart
        st, h, _ = self.req("GET", "/v1/campaigns/" + a["id"])
        st, _, b = self.req("PATCH", "/v1/campaigns/" + a["id"], {"start_date": "2027-09-08", "end_date": "2027-09-12"},
                            headers={"If-Match": h["etag"]})
        self.assertEqual(st, 200, b)
        self.assertEqual(probe(x), ["audience_overlap"])  # its new dates
        self.assertEqual(probe(y), [])
        st, h, _ = self.req("GET", "/v1/campaigns/" + a["id"])
        st, _, b = self.req("PATCH", "/v1/campaigns/" + a["id"], {"segment_ids": [y]}, headers={"If-Match": h["etag"]})
        self.assertEqual(st, 200, b)
        self.assertEqual((probe(x), probe(y)), ([], ["audience_overlap"]))  # its new segment, not the old one
        st, h, _ = self.req("GET", "/v1/campaigns/" + a["id"])
        st, _, _ = self.req("DELETE", "/v1/campaigns/" + a["id"], headers={"If-Match": h["etag"]})
        self.assertEqual(st, 204)
        self.assertEqual(probe(y), [])
        self.assertEqual(psql("SELECT count(*) FROM campaign_audience WHERE campaign_id = '%s'" % a["id"]), "0")

    def test_contradictory_offers(self):
        email = self.campaign("Email -20 %", "2027-10-04", "2027-10-17",
                              offer={"code": "AUTUMN", "terms": "20 % off everything"})
        got = self.check({"campaign": {"name": "Social -15 %", "objective": "awareness", "start_date": "2027-10-11",
                                       "end_date": "2027-10-24", "offer": {"code": "autumn",
                                                                           "terms": "15 % off a selection"}}})
        self.assertEqual(self.types(got["findings"]), ["contradictory_offer"])
        self.assertIn("15 % off a selection", got["findings"][0]["message"])
        # the same terms agree
        got = self.check({"campaign": {"name": "Social -20 %", "objective": "awareness", "start_date": "2027-10-11",
                                       "end_date": "2027-10-24", "offer": {"code": "AUTUMN",
                                                                           "terms": "20 % off everything"}}})
        self.assertEqual(got["findings"], [])
        # a change of the stored campaign: moved out of the other's dates, nothing left
        social = self.campaign("Social -15 %", "2027-10-11", "2027-10-24",
                               offer={"code": "AUTUMN", "terms": "15 % off a selection"})
        self.assertEqual(len(self.scan("from=2027-10-01&to=2027-11-01")), 1)
        got = self.check({"campaign_id": social["id"], "campaign": {"start_date": "2027-10-18"}})
        self.assertEqual(got["findings"], [])
        got = self.check({"campaign_id": email["id"], "campaign": {"end_date": "2027-10-31"}})
        self.assertEqual(self.types(got["findings"]), ["contradictory_offer"])

    def test_double_booking_predicted_and_its_free_periods_are_free(self):
        banner = self.make("/v1/resources", {"kind": "slot", "name": "Hero banner"})["id"]
        c = self.campaign("Launch", "2027-11-01", "2027-11-30")
        self.make("/v1/bookings", {"campaign_id": c["id"], "resource_id": banner, "start": "2027-11-02T09:00:00Z",
                                   "end": "2027-11-02T12:00:00Z"})
        self.make("/v1/bookings", {"campaign_id": c["id"], "resource_id": banner, "start": "2027-11-02T13:00:00Z",
                                   "end": "2027-11-02T15:00:00Z"})
        proposal = {"campaign_id": c["id"], "resource_id": banner, "start": "2027-11-02T10:00:00Z",
                    "end": "2027-11-02T12:00:00Z"}
        got = self.check({"booking": proposal})
        self.assertTrue(got["blocked"])
        self.assertFalse(got["forceable"])  # the database refuses a double booking whatever the role
        f = got["findings"][0]
        self.assertEqual((f["type"], f["severity"]), ("resource_double_booked", "block"))
        free = f["free_periods"]
        self.assertEqual([(p["start"], p["end"]) for p in free],
                         [("2027-11-02T15:00:00Z", "2027-11-02T17:00:00Z"),
                          ("2027-11-02T07:00:00Z", "2027-11-02T09:00:00Z")])
        for p in free:  # they are really free: book them
            st, _, b = self.req("POST", "/v1/bookings", dict(proposal, start=p["start"], end=p["end"]))
            self.assertEqual(st, 201, b)
        # another free slot of the same kind is suggested for the very same period; an inactive one is not
        side = self.make("/v1/resources", {"kind": "slot", "name": "Side banner"})["id"]
        self.make("/v1/resources", {"kind": "slot", "name": "Old banner", "active": False})
        busy = self.make("/v1/resources", {"kind": "slot", "name": "Busy banner"})["id"]
        self.make("/v1/bookings", {"campaign_id": c["id"], "resource_id": busy, "start": "2027-11-02T11:00:00Z",
                                   "end": "2027-11-02T11:30:00Z"})
        got = self.check({"booking": dict(proposal, start="2027-11-02T10:00:00Z", end="2027-11-02T12:00:00Z")})
        alt = [p for p in got["findings"][0]["free_periods"] if p["resource_id"] != banner]
        self.assertEqual(alt, [{"resource_id": side, "start": "2027-11-02T10:00:00Z", "end": "2027-11-02T12:00:00Z"}])
        st, _, b = self.req("POST", "/v1/bookings", dict(proposal, resource_id=side))
        self.assertEqual(st, 201, b)
        # the touching period [12:00, 13:00) is clear
        self.assertEqual(self.check({"booking": dict(proposal, start="2027-11-02T12:00:00Z",
                                                     end="2027-11-02T13:00:00Z")})["findings"], [])

    def test_a_booking_check_reads_what_its_resources_rules_look_at(self):
        c = self.campaign("Spring", "2027-03-01", "2027-03-31")
        # a channel's frequency cap (exclusive or not) counts the sends to a segment and to its ancestors around it
        readers = self.make("/v1/segments", {"name": "Readers"})["id"]
        loyal = self.make("/v1/segments", {"name": "Loyal readers", "parent_id": readers})["id"]
        for body in ({"kind": "channel", "name": "Email", "frequency_cap": {"sends": 1, "days": 7}},
                     {"kind": "channel", "name": "SMS", "capacity": 100, "capacity_unit": "sends_per_day",
                      "frequency_cap": {"sends": 1, "days": 7}}):
            channel = self.make("/v1/resources", body)["id"]
            self.make("/v1/bookings", {"campaign_id": c["id"], "resource_id": channel, "segment_id": readers,
                                       "start": "2027-03-01T08:00:00Z", "end": "2027-03-01T09:00:00Z"})
            send = {"campaign_id": c["id"], "resource_id": channel, "segment_id": loyal,
                    "start": "2027-03-05T08:00:00Z", "end": "2027-03-05T09:00:00Z"}
            got = self.check({"booking": send})
            self.assertEqual(self.types(got["findings"]), ["channel_saturation"], body["name"])
            self.assertIn("Loyal readers", got["findings"][0]["message"])
            self.assertFalse(got["blocked"])
            later = dict(send, start="2027-03-09T08:00:00Z", end="2027-03-09T09:00:00Z")
            self.assertEqual(self.check({"booking": later})["findings"], [], body["name"])
        # a capacity by week counts the bookings of the proposal's ISO week, in the organisation's time zone
        writer = self.make("/v1/resources", {"kind": "person", "name": "Writer", "capacity": 10,
                                             "capacity_unit": "hours_per_week"})["id"]
        self.make("/v1/bookings", {"campaign_id": c["id"], "resource_id": writer, "quantity": 8,
                                   "start": "2027-03-01T09:00:00Z", "end": "2027-03-01T17:00:00Z"})
        hour = {"campaign_id": c["id"], "resource_id": writer, "quantity": 1, "start": "2027-03-07T09:00:00Z",
                "end": "2027-03-07T10:00:00Z"}
        got = self.check({"booking": hour})
        self.assertEqual([(f["type"], f["severity"]) for f in got["findings"]], [("capacity_exceeded", "warn")])
        self.assertEqual(self.check({"booking": dict(hour, start="2027-03-08T09:00:00Z",
                                                     end="2027-03-08T10:00:00Z")})["findings"], [])
        self.assertTrue(self.check({"booking": dict(hour, quantity=3)})["blocked"])
        # a person on leave: blocked, naming the leave
        st, _, leave = self.req("POST", f"/v1/resources/{writer}/availability",
                                {"kind": "leave", "start": "2027-03-10T00:00:00Z", "end": "2027-03-11T00:00:00Z"})
        self.assertEqual(st, 201)
        got = self.check({"booking": dict(hour, start="2027-03-10T09:00:00Z", end="2027-03-10T10:00:00Z")})
        self.assertEqual([f["type"] for f in got["findings"]], ["person_unavailable"])
        self.assertTrue(got["blocked"])
        self.assertIn(leave["id"], [i["id"] for i in got["findings"][0]["items"]])

    def test_check_then_book_race_the_database_decides(self):
        banner = self.make("/v1/resources", {"kind": "slot", "name": "Homepage takeover"})["id"]
        a = self.campaign("A", "2027-12-01", "2027-12-31")
        b = self.campaign("B", "2027-12-01", "2027-12-31")
        period = {"start": "2027-12-05T00:00:00Z", "end": "2027-12-06T00:00:00Z"}
        self.assertFalse(self.check({"booking": dict(period, campaign_id=a["id"], resource_id=banner)})["blocked"])
        self.assertFalse(self.check({"booking": dict(period, campaign_id=b["id"], resource_id=banner)})["blocked"])
        results = []

        def book(camp):
            results.append(self.req("POST", "/v1/bookings", dict(period, campaign_id=camp, resource_id=banner))[0])

        threads = [threading.Thread(target=book, args=(x["id"],)) for x in (a, b)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        self.assertEqual(sorted(results), [201, 409])

    def test_blackout_around_midnight_in_the_organisations_time_zone(self):
        st, _, _ = self.req("PATCH", "/v1/settings", {"time_zone": "Pacific/Auckland"}, token=self.admin)
        self.assertEqual(st, 200)
        self.make("/v1/key-events", {"name": "Results quiet period", "kind": "blackout", "start_date": "2027-07-15",
                                     "end_date": "2027-07-15"})
        slot = self.make("/v1/resources", {"kind": "slot", "name": "Banner"})["id"]
        c = self.campaign("Winter", "2027-07-01", "2027-07-14")
        # 2027-07-15 in Auckland (UTC+12) runs from 2027-07-14T12:00Z to 2027-07-15T12:00Z
        before = {"campaign_id": c["id"], "resource_id": slot, "start": "2027-07-14T11:00:00Z",
                  "end": "2027-07-14T12:00:00Z"}
        self.assertEqual(self.check({"booking": before})["findings"], [])
        got = self.check({"booking": dict(before, start="2027-07-14T11:30:00Z", end="2027-07-14T12:30:00Z")})
        self.assertEqual(self.types(got["findings"]), ["blackout"])
        self.assertTrue(got["blocked"] and got["forceable"])  # a blackout key event may be forced by default
        # a campaign ending on the 14th is clear; one running into the 15th is not
        self.assertEqual(self.check({"campaign_id": c["id"], "campaign": {"name": "Winter"}})["findings"], [])
        got = self.check({"campaign_id": c["id"], "campaign": {"end_date": "2027-07-15"}})
        self.assertEqual(self.types(got["findings"]), ["blackout"])

    def test_budget_unapproved_launch_and_risk_in_the_scan(self):
        writer = self.make("/v1/resources", {"kind": "slot", "name": "Studio", "capacity": 5,
                                             "cost_per_unit": {"amount": "400.00", "currency": "EUR"}})["id"]
        c = self.campaign("Soon", day(3), day(20), budget={"amount": "1000.00", "currency": "EUR"})
        self.make("/v1/bookings", {"campaign_id": c["id"], "resource_id": writer, "start": day(4) + "T09:00:00Z",
                                   "end": day(4) + "T10:00:00Z", "quantity": 2})  # 800.00: 80 % exactly
        self.make(f"/v1/campaigns/{c['id']}/risks", {"title": "Site down", "category": "technical", "probability": 5,
                                                     "impact": 5})
        items = self.scan(f"from={day(0)}&to={day(30)}&campaign_id={c['id']}")
        self.assertEqual(self.types(items), ["budget_overrun", "unapproved_launch", "unmitigated_critical_risk"])
        self.assertTrue(all(f["severity"] == "warn" for f in items))
        # one more hour at 400.00 would be 120 %: blocked, and forceable by default
        got = self.check({"booking": {"campaign_id": c["id"], "resource_id": writer, "start": day(5) + "T09:00:00Z",
                                      "end": day(5) + "T10:00:00Z"}})
        blocks = [f for f in got["findings"] if f["severity"] == "block"]
        self.assertEqual([f["type"] for f in blocks], ["budget_overrun"])
        self.assertTrue(got["forceable"])
        self.assertEqual(self.scan(f"from={day(0)}&to={day(30)}&severity=block"), [])
        self.assertEqual(len(self.scan(f"from={day(0)}&to={day(30)}&type=unapproved_launch,budget_overrun")), 2)

    def test_actual_spend_against_the_budget_and_its_channel_budgets(self):
        c = self.campaign("Measured", "2028-04-03", "2028-04-30", budget={"amount": "1000.00", "currency": "EUR"},
                          channel_budgets=[{"channel": "email", "amount": "400.00"},
                                           {"channel": "social", "amount": "600.00"}])
        rows = [{"campaign_id": c["id"], "channel": "email", "date": "2028-04-04", "source": "mailer",
                 "external_id": "e1", "spend": "410.00"},
                {"campaign_id": c["id"], "channel": "social", "date": "2028-04-04", "source": "ads",
                 "external_id": "s1", "spend": "390.00"}]
        st, _, b = self.req("POST", "/v1/measurements/batch", {"rows": rows}, token=self.admin)
        self.assertEqual(st, 200, b)
        got = {(f["type"], f["severity"], f["message"].split(" on ")[-1].split(",")[0] if " on " in f["message"] else "")
               for f in self.scan("from=2028-04-01&to=2028-05-01")}
        # 800.00 of 1,000.00 spent: 80 %, a warning; email's 410.00 of 400.00: above its channel budget
        self.assertEqual(got, {("budget_overrun", "warn", ""), ("budget_overrun", "block", "email")})
        # committed bookings count on top: a 250.00 booking makes the whole 105 %, refused
        slot = self.make("/v1/resources", {"kind": "slot", "name": "Stand", "cost_per_unit":
                                           {"amount": "250.00", "currency": "EUR"}})["id"]
        got = self.check({"booking": {"campaign_id": c["id"], "resource_id": slot, "start": "2028-04-05T09:00:00Z",
                                      "end": "2028-04-05T10:00:00Z"}})
        self.assertIn(("budget_overrun", "block"), {(f["type"], f["severity"]) for f in got["findings"]
                                                    if "committed" in f["message"]})

    def test_pages_are_stable_and_complete(self):
        seg = self.make("/v1/segments", {"name": "All"})["id"]
        for i in range(5):
            self.campaign(f"C{i}", "2028-01-10", "2028-01-12", segment_ids=[seg])
        every = self.scan("from=2028-01-01&to=2028-02-01&limit=500")
        self.assertEqual(len(every), 10)  # each pair once
        seen, cursor = [], None
        while True:
            st, _, page = self.req("GET", "/v1/conflicts?from=2028-01-01&to=2028-02-01&limit=3" +
                                   (f"&cursor={cursor}" if cursor else ""))
            self.assertEqual(st, 200, page)
            seen += [f["id"] for f in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, [f["id"] for f in every])
        self.assertEqual(self.scan("from=2028-01-01&to=2028-02-01&limit=500"), every)  # same order, same ids

    def test_isolation(self):
        seg = self.make("/v1/segments", {"name": "Mine"})["id"]
        c = self.campaign("Mine A", "2028-03-01", "2028-03-05", segment_ids=[seg])
        self.campaign("Mine B", "2028-03-01", "2028-03-05", segment_ids=[seg])
        other = self.srv.token("mia", "o-" + uuid.uuid4().hex[:8], "manager")
        self.assertEqual(self.scan("from=2028-03-01&to=2028-04-01", token=other), [])
        self.assertEqual(len(self.scan("from=2028-03-01&to=2028-04-01")), 1)
        st, _, p = self.req("POST", "/v1/conflicts/check", {"campaign_id": c["id"], "campaign": {"name": "x"}},
                            token=other)
        self.assertEqual(st, 404, p)
        st, _, p = self.req("POST", "/v1/conflicts/check", {"campaign": {
            "name": "Theirs", "objective": "other", "start_date": "2028-03-01", "end_date": "2028-03-02",
            "segment_ids": [seg]}}, token=other)
        self.assertEqual((st, p["errors"][0]["field"]), (422, "campaign.segment_ids"), p)

    def test_hostile_inputs_and_roles(self):
        c = self.campaign("H", "2028-05-01", "2028-05-02")
        for q in ("", "from=2028-05-01", "from=2028-05-01&to=2028-04-01", "from=2028-01-01&to=2029-12-01",
                  "from=yesterday&to=2028-05-02", "from=2028-05-01&to=2028-05-02&type=typo",
                  "from=2028-05-01&to=2028-05-02&campaign_id=1", "from=2028-05-01&to=2028-05-02&sort=-window",
                  "from=2028-05-01&to=2028-05-02&cursor=nope", "from=2028-05-01&to=2028-05-02&limit=0",
                  "from=2028-05-01&to=2028-05-02&colour=red"):
            st, _, p = self.req("GET", "/v1/conflicts?" + q)
            self.assertEqual(st, 400, (q, p))
        bodies = [({}, "booking"), ({"booking": {}, "campaign": {}}, "booking"), ({"booking": "x"}, "booking"),
                  ({"campaign": {"name": "x"}}, "campaign.objective"),
                  ({"booking": {"campaign_id": c["id"]}}, "booking.resource_id"),
                  ({"booking": {"campaign_id": c["id"], "resource_id": str(uuid.uuid4()),
                                "start": "2028-05-01T00:00:00Z", "end": "2028-05-01T01:00:00Z"}}, "booking.resource_id"),
                  ({"booking": {"campaign_id": str(uuid.uuid4()), "resource_id": str(uuid.uuid4()),
                                "start": "2028-05-01T01:00:00Z", "end": "2028-05-01T00:00:00Z"}}, "booking.end"),
                  ({"campaign_id": "nope", "campaign": {}}, "campaign_id"),
                  ({"booking_id": c["id"], "campaign": {}}, "booking_id"), ({"extra": 1, "campaign": {}}, "extra")]
        for body, field in bodies:
            st, _, p = self.req("POST", "/v1/conflicts/check", body)
            self.assertEqual(st, 422, (body, p))
            self.assertIn(field, [e["field"] for e in p["errors"]], (body, p))
        st, _, p = self.req("POST", "/v1/conflicts/check", {"booking_id": str(uuid.uuid4()), "booking": {}})
        self.assertEqual(st, 404, p)
        st, _, p = self.req("POST", "/v1/conflicts/check", raw=b"[1]", headers={"Content-Type": "application/json"})
        self.assertEqual(st, 400, p)
        for tok in (self.integration,):
            self.assertEqual(self.req("GET", "/v1/conflicts?from=2028-05-01&to=2028-05-02", token=tok)[0], 403)
            self.assertEqual(self.req("POST", "/v1/conflicts/check", {"campaign": {}}, token=tok)[0], 403)
        for tok in (self.viewer, self.planner, self.admin):
            self.scan("from=2028-05-01&to=2028-05-02", token=tok)
        self.assertEqual(self.srv.request("GET", "/v1/conflicts?from=2028-05-01&to=2028-05-02")[0], 401)

    def test_idempotent_check(self):
        body = {"campaign": {"name": "Idem", "objective": "other", "start_date": "2028-06-01", "end_date": "2028-06-02"}}
        h = {"Idempotency-Key": "chk-" + uuid.uuid4().hex}
        st1, _, b1 = self.req("POST", "/v1/conflicts/check", body, headers=h)
        st2, h2, b2 = self.req("POST", "/v1/conflicts/check", body, headers=h)
        self.assertEqual((st1, st2, b1), (200, 200, b2))
        self.assertEqual(h2.get("idempotent-replayed"), "true")


class EnforcementTest(OrgTestCase):
    """Booking writes run the same check in their transaction: blocks refuse, warnings come back, force by role."""
    ORG_PREFIX = "ce-"

    def setUp(self):
        super().setUp()
        self.studio = self.make("/v1/resources", {"kind": "slot", "name": "Studio", "capacity": 10,
                                                  "cost_per_unit": {"amount": "400.00", "currency": "EUR"}},
                                self.manager)["id"]
        self.camp = self.make("/v1/campaigns", {"name": "Shoot", "objective": "awareness", "start_date": "2028-02-01",
                                                "end_date": "2028-02-29",
                                                "budget": {"amount": "1000.00", "currency": "EUR"}}, self.planner)

    def make(self, path, body, token):
        st, _, b = self.srv.request("POST", path, body, token)
        self.assertEqual(st, 201, b)
        return b

    def book(self, token, quantity=1, day="2028-02-02", **over):
        body = {"campaign_id": self.camp["id"], "resource_id": self.studio, "start": day + "T09:00:00Z",
                "end": day + "T10:00:00Z", "quantity": quantity}
        body.update(over)
        return self.srv.request("POST", "/v1/bookings", body, token)

    def test_warnings_come_back_and_are_announced(self):
        st, _, b = self.book(self.planner, quantity=2)  # 800.00 of 1000.00: 80 %
        self.assertEqual(st, 201, b)
        self.assertEqual([(w["type"], w["severity"]) for w in b["warnings"]], [("budget_overrun", "warn")])
        st, _, got = self.srv.request("GET", f"/v1/bookings/{b['id']}", None, self.planner)
        self.assertNotIn("warnings", got)  # a read shows the booking as stored
        events = psql(f"SELECT entity, payload->>'id', jsonb_array_length(payload->'findings') FROM outbox_events "
                      f"WHERE org_id = '{self.org}' AND type = 'conflict.detected'")
        self.assertEqual(events, f"booking|{b['id']}|1")
        # a booking without a cost leaves the campaign at 80 %: the warning comes back, but it is not news
        booth = self.make("/v1/resources", {"kind": "slot", "name": "Booth"}, self.manager)["id"]
        st, _, same = self.book(self.planner, resource_id=booth, day="2028-02-03")
        self.assertEqual(st, 201, same)
        self.assertEqual([w["type"] for w in same["warnings"]], ["budget_overrun"])
        self.assertEqual(psql(f"SELECT count(*) FROM outbox_events WHERE org_id = '{self.org}' "
                              f"AND type = 'conflict.detected'"), "1")
        # neither is moving it within its warning
        st, _, moved = self.srv.request("PATCH", f"/v1/bookings/{same['id']}", {"start": "2028-02-04T09:00:00Z",
                                                                               "end": "2028-02-04T10:00:00Z"},
                                        self.planner)
        self.assertEqual(st, 200, moved)
        self.assertEqual([w["type"] for w in moved["warnings"]], ["budget_overrun"])
        self.assertEqual(psql(f"SELECT count(*) FROM outbox_events WHERE org_id = '{self.org}' "
                              f"AND type = 'conflict.detected'"), "1")
        st, _, b2 = self.book(self.planner, quantity=1, day="2028-02-03", **{"campaign_id": self.camp["id"]})
        self.assertEqual(st, 409, b2)  # 1,200.00: above the budget

    def test_blocks_refuse_and_force_is_for_managers_and_audited(self):
        st, _, p = self.book(self.planner, quantity=3)  # 1,200.00 of 1,000.00
        self.assertEqual((st, p["code"], p["forceable"]), (409, "conflict_blocked", True), p)
        self.assertEqual([f["type"] for f in p["findings"] if f["severity"] == "block"], ["budget_overrun"])
        st, _, p = self.book(self.planner, quantity=3, force=True)
        self.assertEqual((st, p["code"]), (403, "forbidden"), p)
        self.assertEqual(psql(f"SELECT count(*) FROM bookings WHERE org_id = '{self.org}'"), "0")
        st, _, b = self.book(self.manager, quantity=3, force=True)
        self.assertEqual(st, 201, b)
        audit = psql(f"SELECT actor, entity_id, after->'findings'->0->>'type' FROM audit_log "
                     f"WHERE org_id = '{self.org}' AND entity = 'conflict_override'")
        self.assertEqual(audit, f"mia|{b['id']}|budget_overrun")
        # forcing is what the settings allow: with no forceable rule, not even an admin may
        st, _, _ = self.srv.request("PATCH", "/v1/settings", {"forceable_rules": []}, self.admin)
        self.assertEqual(st, 200)
        st, _, p = self.book(self.admin, quantity=1, day="2028-02-04", force=True)
        self.assertEqual((st, p["code"], p["forceable"]), (409, "conflict_blocked", False), p)

    def test_a_change_is_judged_and_the_database_still_refuses_double_bookings(self):
        st, _, b = self.book(self.planner, quantity=1)
        self.assertEqual(st, 201, b)
        st, _, p = self.srv.request("PATCH", f"/v1/bookings/{b['id']}", {"quantity": 3}, self.planner)
        self.assertEqual((st, p["code"]), (409, "conflict_blocked"), p)
        st, _, p = self.srv.request("PATCH", f"/v1/bookings/{b['id']}", {"quantity": 2}, self.planner)
        self.assertEqual(st, 200, p)
        self.assertEqual([w["type"] for w in p["warnings"]], ["budget_overrun"])
        # a blackout key event blocks too, and may be forced by default
        self.make("/v1/key-events", {"name": "Inventory", "kind": "blackout", "start_date": "2028-02-10",
                                     "end_date": "2028-02-10"}, self.manager)
        st, _, p = self.book(self.planner, quantity=1, day="2028-02-10")
        self.assertEqual((st, p["code"]), (409, "conflict_blocked"), p)
        # double bookings stay booking_conflict, decided by the database with what is in the way
        banner = self.make("/v1/resources", {"kind": "slot", "name": "Banner"}, self.manager)["id"]
        st, _, first = self.book(self.planner, resource_id=banner, day="2028-02-05")
        self.assertEqual(st, 201, first)
        st, _, p = self.book(self.planner, resource_id=banner, day="2028-02-05")
        self.assertEqual((st, p["code"], p["rule"], p["conflicts"][0]["id"]),
                         (409, "booking_conflict", "resource_double_booked", first["id"]), p)

    def test_a_booking_moved_away_takes_its_cost_with_it(self):
        # A change's slice reads the bookings around the new period only. A booking moved to a period its old one
        # does not come near is not among them, but its cost is in its campaign's committed sum all the same: it
        # leaves that sum, or the move counts the booking twice (600.00 + 600.00 of a 1,000.00 budget: blocked).
        stage = self.make("/v1/resources", {"kind": "slot", "name": "Stage",
                                            "cost_per_unit": {"amount": "600.00", "currency": "EUR"}},
                          self.manager)["id"]
        st, _, b = self.book(self.planner, resource_id=stage, day="2028-02-02")  # 600.00: 60 %, nothing to say
        self.assertEqual(st, 201, b)
        self.assertNotIn("warnings", b)
        far = {"start": "2028-02-23T09:00:00Z", "end": "2028-02-23T10:00:00Z"}
        # (its id in capitals is the same booking)
        st, _, got = self.srv.request("POST", "/v1/conflicts/check",
                                      {"booking_id": b["id"].upper(), "booking": far}, self.planner)
        self.assertEqual((st, got.get("findings"), got.get("blocked")), (200, [], False), got)
        st, _, moved = self.srv.request("PATCH", f"/v1/bookings/{b['id']}", far, self.planner)
        self.assertEqual(st, 200, moved)
        self.assertNotIn("warnings", moved)
        # and back, on a slot of 10 units (the change reads a week around its new period, so three weeks away):
        # 600.00 and 400.00 are exactly the budget, a warning that was there before the move, so no news either
        st, _, s = self.book(self.planner, day="2028-02-01")  # Studio, 400.00
        self.assertEqual(st, 201, s)
        self.assertEqual([(w["type"], w["severity"]) for w in s["warnings"]], [("budget_overrun", "warn")])
        events = f"SELECT count(*) FROM outbox_events WHERE org_id = '{self.org}' AND type = 'conflict.detected'"
        self.assertEqual(psql(events), "1")
        st, _, got = self.srv.request("POST", "/v1/conflicts/check",
                                      {"booking_id": s["id"], "booking": {"start": "2028-02-25T09:00:00Z",
                                                                          "end": "2028-02-25T10:00:00Z"}},
                                      self.planner)
        self.assertEqual((st, [(f["type"], f["severity"]) for f in got["findings"]], got["blocked"]),
                         (200, [("budget_overrun", "warn")], False), got)
        self.assertIn("100 % of its budget of 1000.00 EUR", got["findings"][0]["message"])
        st, _, moved = self.srv.request("PATCH", f"/v1/bookings/{s['id']}", {"start": "2028-02-25T09:00:00Z",
                                                                             "end": "2028-02-25T10:00:00Z"},
                                        self.planner)
        self.assertEqual(st, 200, moved)
        self.assertEqual([(w["type"], w["severity"]) for w in moved["warnings"]], [("budget_overrun", "warn")])
        self.assertEqual(psql(events), "1")
        # a cancelled booking's cost is in no sum: a check of a change to it takes nothing away (600.00 and its
        # 400.00 again are the budget exactly, a warning; taken away, 600.00 would say nothing)
        st, _, c = self.srv.request("POST", f"/v1/bookings/{s['id']}/cancel", {}, self.planner)
        self.assertEqual(st, 200, c)
        st, _, got = self.srv.request("POST", "/v1/conflicts/check",
                                      {"booking_id": s["id"], "booking": {"status": "confirmed",
                                                                          "start": "2028-02-10T09:00:00Z",
                                                                          "end": "2028-02-10T10:00:00Z"}},
                                      self.planner)
        self.assertEqual(st, 200, got)
        self.assertEqual([(f["type"], f["severity"]) for f in got["findings"]], [("budget_overrun", "warn")])

    def test_a_resource_changed_since_its_last_write_is_judged_in_full(self):
        # a new booking of a slot booked before reads only its own rows (the service remembers the slot as
        # exclusive); made a capacity of 2, the next booking's rules need the bookings around it again. A planner's
        # write reads its slice with its references, a manager's alone: both read it again in full
        for who, name in ((self.planner, "Banner"), (self.manager, "Hero")):
            banner = self.make("/v1/resources", {"kind": "slot", "name": name}, self.manager)["id"]
            for day in ("2028-02-05", "2028-02-06"):
                st, _, b = self.book(who, resource_id=banner, day=day)
                self.assertEqual(st, 201, b)
                self.assertNotIn("warnings", b)
            st, _, r = self.srv.request("PATCH", f"/v1/resources/{banner}", {"capacity": 2}, self.manager)
            self.assertEqual(st, 200, r)
            st, _, b = self.book(who, resource_id=banner, day="2028-02-06")
            self.assertEqual(st, 201, b)
            self.assertEqual([(w["type"], w["severity"]) for w in b.get("warnings", [])],
                             [("capacity_exceeded", "warn")])
            # exclusive again (once the overlap is cancelled): a double booking is the database's refusal as ever
            st, _, c = self.srv.request("POST", f"/v1/bookings/{b['id']}/cancel", {}, who)
            self.assertEqual(st, 200, c)
            st, _, r = self.srv.request("PATCH", f"/v1/resources/{banner}", {"capacity": 1}, self.manager)
            self.assertEqual(st, 200, r)
            for _ in range(2):
                st, _, p = self.book(who, resource_id=banner, day="2028-02-05")
                self.assertEqual((st, p["code"], p["rule"]), (409, "booking_conflict", "resource_double_booked"), p)

    def test_a_check_on_a_resource_changed_since_is_judged_in_full(self):
        # a check on a person seen exclusive reads what overlaps it only; given 2 hours a week since, its week's
        # bookings count, so the check reads them again in full and says the week is over
        writer = self.make("/v1/resources", {"kind": "person", "name": "Writer"}, self.manager)["id"]
        for day in ("2028-01-31", "2028-02-02"):  # a Monday and a Wednesday
            st, _, b = self.book(self.planner, resource_id=writer, day=day)
            self.assertEqual(st, 201, b)
        # (its kind named again: the unit is validated against the kind the patch names)
        st, _, r = self.srv.request("PATCH", f"/v1/resources/{writer}",
                                    {"kind": "person", "capacity": 2, "capacity_unit": "hours_per_week"}, self.manager)
        self.assertEqual(st, 200, r)
        st, _, got = self.srv.request("POST", "/v1/conflicts/check", {"booking": {
            "campaign_id": self.camp["id"], "resource_id": writer, "start": "2028-02-04T09:00:00Z",
            "end": "2028-02-04T10:00:00Z"}}, self.planner)  # the Friday: a third hour that week
        self.assertEqual((st, [(f["type"], f["severity"]) for f in got["findings"]], got["blocked"]),
                         (200, [("capacity_exceeded", "block")], True), got)

    def test_campaign_writes_and_scheduling_are_judged(self):
        self.make("/v1/key-events", {"name": "Quiet period", "kind": "blackout", "start_date": "2028-03-10",
                                     "end_date": "2028-03-12"}, self.manager)
        body = {"name": "March push", "objective": "conversion", "start_date": "2028-03-01", "end_date": "2028-03-10"}
        st, _, p = self.srv.request("POST", "/v1/campaigns", body, self.planner)
        self.assertEqual((st, p["code"], p["forceable"]), (409, "conflict_blocked", True), p)
        self.assertEqual([f["type"] for f in p["findings"]], ["blackout"])
        st, _, p = self.srv.request("POST", "/v1/campaigns", dict(body, force=True), self.planner)
        self.assertEqual(st, 403, p)
        st, _, forced = self.srv.request("POST", "/v1/campaigns", dict(body, force=True), self.manager)
        self.assertEqual(st, 201, forced)
        self.assertEqual(psql(f"SELECT entity_id FROM audit_log WHERE org_id = '{self.org}' "
                              f"AND entity = 'conflict_override'"), forced["id"])
        # a change into a shared audience is warned, never refused, and announced
        seg = self.make("/v1/segments", {"name": "Loyal"}, self.manager)["id"]
        other = self.make("/v1/campaigns", {"name": "Loyalty", "objective": "retention", "start_date": "2028-04-03",
                                            "end_date": "2028-04-07", "segment_ids": [seg]}, self.planner)
        mine = self.make("/v1/campaigns", {"name": "April", "objective": "retention", "start_date": "2028-04-05",
                                           "end_date": "2028-04-06"}, self.planner)
        self.assertNotIn("warnings", mine)
        st, _, got = self.srv.request("PATCH", f"/v1/campaigns/{mine['id']}", {"segment_ids": [seg]}, self.planner)
        self.assertEqual(st, 200, got)
        self.assertEqual([w["type"] for w in got["warnings"]], ["audience_overlap"])
        self.assertEqual(psql(f"SELECT count(*) FROM outbox_events WHERE org_id = '{self.org}' AND "
                              f"type = 'conflict.detected' AND entity_id = '{mine['id']}'"), "1")
        # renamed, it still shares the audience: warned again, but the overlap is not announced twice
        st, _, got = self.srv.request("PATCH", f"/v1/campaigns/{mine['id']}", {"name": "April push"}, self.planner)
        self.assertEqual(st, 200, got)
        self.assertEqual([w["type"] for w in got["warnings"]], ["audience_overlap"])
        self.assertEqual(psql(f"SELECT count(*) FROM outbox_events WHERE org_id = '{self.org}' AND "
                              f"type = 'conflict.detected' AND entity_id = '{mine['id']}'"), "1")
        # a third campaign into it is news: its own event names the overlaps it made
        third = self.make("/v1/campaigns", {"name": "Third", "objective": "retention", "start_date": "2028-04-04",
                                            "end_date": "2028-04-04", "segment_ids": [seg]}, self.planner)
        self.assertEqual([w["type"] for w in third["warnings"]], ["audience_overlap", "audience_overlap"])
        self.assertEqual(psql(f"SELECT jsonb_array_length(payload->'findings') FROM outbox_events WHERE "
                              f"org_id = '{self.org}' AND type = 'conflict.detected' AND entity_id = '{third['id']}'"),
                         "2")
        # scheduling a campaign in a blackout is refused unless forced
        st, _, wf = self.srv.request("POST", "/v1/workflows", {"name": "One step",
                                                               "steps": [{"name": "Director", "role": "manager"}]},
                                     self.admin)
        st, _, req = self.srv.request("POST", f"/v1/campaigns/{forced['id']}/approval", {"workflow_id": wf["id"]},
                                      self.manager)
        self.assertEqual(st, 201, req)
        st, _, dec = self.srv.request("POST", f"/v1/approvals/{req['id']}/decisions",
                                      {"decision": "approve", "step": 0}, self.admin)
        self.assertEqual(st, 201, dec)
        st, _, p = self.srv.request("POST", f"/v1/campaigns/{forced['id']}/transitions", {"to": "scheduled"},
                                    self.manager)
        self.assertEqual((st, p["code"]), (409, "conflict_blocked"), p)
        st, _, got = self.srv.request("POST", f"/v1/campaigns/{forced['id']}/transitions",
                                      {"to": "scheduled", "force": True}, self.manager)
        self.assertEqual((st, got["status"]), (200, "scheduled"), got)
        del other


class WritesWithoutTheRulesTest(unittest.TestCase):
    """CAMPAIGND_CONFLICT_WRITES=0: writes skip the conflict rules; the database's own rules still refuse."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server({"CAMPAIGND_CONFLICT_WRITES": "0"})

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def test_budget_not_judged_double_booking_still_refused(self):
        org = "cw-" + uuid.uuid4().hex[:10]
        manager = self.srv.token("mia", org, "manager")
        st, _, studio = self.srv.request("POST", "/v1/resources", {"kind": "slot", "name": "Studio",
                                                                   "cost_per_unit": {"amount": "400.00",
                                                                                     "currency": "EUR"}}, manager)
        self.assertEqual(st, 201, studio)
        st, _, camp = self.srv.request("POST", "/v1/campaigns", {"name": "Shoot", "objective": "awareness",
                                                                 "start_date": "2028-02-01", "end_date": "2028-02-29",
                                                                 "budget": {"amount": "100.00", "currency": "EUR"}},
                                       manager)
        self.assertEqual(st, 201, camp)
        body = {"campaign_id": camp["id"], "resource_id": studio["id"], "start": "2028-02-02T09:00:00Z",
                "end": "2028-02-02T10:00:00Z"}
        st, _, b = self.srv.request("POST", "/v1/bookings", body, manager)  # 400.00 of 100.00, not judged
        self.assertEqual(st, 201, b)
        self.assertNotIn("warnings", b)
        st, _, p = self.srv.request("POST", "/v1/bookings", body, manager)
        self.assertEqual((st, p["code"]), (409, "booking_conflict"), p)
        # the check still judges
        st, _, p = self.srv.request("POST", "/v1/conflicts/check", {"booking": dict(body, start="2028-02-03T09:00:00Z",
                                                                                   end="2028-02-03T10:00:00Z")},
                                    manager)
        self.assertEqual((st, p["blocked"]), (200, True), p)


class PriorityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "pr-" + uuid.uuid4().hex[:10]
        self.admin = self.srv.token("ada", self.org, "admin")

    def req(self, method, path, body=None):
        return self.srv.request(method, path, body, self.admin)

    def campaign(self, name, scores):
        body = {"name": name, "objective": "acquisition", "start_date": "2028-09-01", "end_date": "2028-09-05"}
        if scores:
            body["scoring"] = dict(zip(["engagement_potential", "estimated_cpa", "customer_experience",
                                        "strategic_alignment"], scores))
        st, _, b = self.req("POST", "/v1/campaigns", body)
        self.assertEqual(st, 201, b)
        return b

    def test_weighted_score_sort_filter_and_new_weights(self):
        # default weights 30/25/20/25: 7×30 + 6.5×25 + 8×20 + 9×25 = 757.5 → 75.75 → 75.8 (half away from zero)
        a = self.campaign("A", [7, 6.5, 8, 9])
        self.assertEqual(a["priority_score"], 75.8)
        b = self.campaign("B", [10, 10, 10, 10])
        c = self.campaign("C", [0, 0, 0, 0])
        n = self.campaign("N", None)
        self.assertEqual((b["priority_score"], c["priority_score"], n["priority_score"]), (100, 0, None))
        st, _, page = self.req("GET", "/v1/campaigns?sort=-priority_score")
        self.assertEqual([x["name"] for x in page["items"]], ["B", "A", "C", "N"])
        st, _, page = self.req("GET", "/v1/campaigns?sort=priority_score&limit=2")
        st, _, more = self.req("GET", "/v1/campaigns?sort=priority_score&limit=2&cursor=" + page["next_cursor"])
        self.assertEqual([x["name"] for x in page["items"] + more["items"]], ["N", "C", "A", "B"])
        st, _, page = self.req("GET", "/v1/campaigns?priority_min=75.8")
        self.assertEqual(sorted(x["name"] for x in page["items"]), ["A", "B"])
        for bad in ("101", "-1", "x", ""):
            self.assertEqual(self.req("GET", "/v1/campaigns?priority_min=" + bad)[0], 400, bad)
        # engagement alone: A scores 70.0, and its version moves
        st, _, _ = self.req("PATCH", "/v1/settings", {"priority_weights": {"estimated_cpa": 0, "customer_experience": 0,
                                                                          "strategic_alignment": 0}})
        self.assertEqual(st, 200)
        st, _, got = self.req("GET", f"/v1/campaigns/{a['id']}")
        self.assertEqual((got["priority_score"], got["version"]), (70, a["version"] + 1))
        # a patch of the scores scores again
        st, _, got = self.req("PATCH", f"/v1/campaigns/{a['id']}", {"scoring": {"engagement_potential": 2,
                                                                             "estimated_cpa": 1,
                                                                             "customer_experience": 1,
                                                                             "strategic_alignment": 1}})
        self.assertEqual((st, got["priority_score"]), (200, 20), got)


if __name__ == "__main__":
    main()
