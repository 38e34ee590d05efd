#!/usr/bin/env python3
"""API tests of key events, GET /v1/calendar and the iCalendar feed with its
feed tokens. The feed is read back with a real iCalendar parser (Debian's
python3-icalendar) and its raw bytes are checked for RFC 5545's line rules.
Usage: test_calendar.py BINARY"""
import datetime
import os
import subprocess
import urllib.parse
import uuid

import icalendar

from harness import OrgTestCase, campaign, main

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")


def psql(sql):
    cmd = ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def utc(*args):
    return datetime.datetime(*args, tzinfo=datetime.timezone.utc)


class CalendarTest(OrgTestCase):
    ORG_PREFIX = "cal-"
    TOKENS = dict(OrgTestCase.TOKENS, viewer="vic")
    DEFAULT_ROLE = "manager"

    def created(self, path, body, token=None):
        st, _, b = self.req("POST", path, body, token)
        self.assertEqual(st, 201, b)
        return b

    def key_event(self, **over):
        body = {"name": "Black Friday", "kind": "sales_period", "start_date": "2026-11-27",
                "end_date": "2026-11-30"}
        body.update(over)
        return self.created("/v1/key-events", body)

    def world(self):
        """A campaign with a booking on an email channel, a person on leave and a key event, in March 2026."""
        w = {}
        w["seg"] = self.created("/v1/segments", {"name": "Lapsed " + uuid.uuid4().hex[:4]})
        w["camp"] = self.created("/v1/campaigns", campaign(segment_ids=[w["seg"]["id"]], channels=["email"]),
                                 self.planner)
        w["other"] = self.created("/v1/campaigns", campaign(name="Brand push", objective="awareness",
                                                            channels=["display"]))
        w["email"] = self.created("/v1/resources", {"kind": "channel", "name": "Email"})
        w["writer"] = self.created("/v1/resources", {"kind": "person", "name": "Wendy"})
        w["booking"] = self.created("/v1/bookings", {
            "campaign_id": w["camp"]["id"], "resource_id": w["email"]["id"],
            "start": "2026-03-10T09:00:00+01:00", "end": "2026-03-10T10:00:00+01:00", "status": "confirmed"})
        w["writer_booking"] = self.created("/v1/bookings", {
            "campaign_id": w["other"]["id"], "resource_id": w["writer"]["id"],
            "start": "2026-03-11T09:00:00Z", "end": "2026-03-11T17:00:00Z"})
        w["leave"] = self.created(f"/v1/resources/{w['writer']['id']}/availability", {
            "kind": "leave", "start": "2026-03-16T00:00:00Z", "end": "2026-03-21T00:00:00Z"})
        w["event"] = self.key_event(name="Trade fair", kind="industry_event", start_date="2026-03-18",
                                    end_date="2026-03-19")
        return w

    def calendar(self, query, token=None):
        st, _, b = self.req("GET", "/v1/calendar?" + query, token=token)
        self.assertEqual(st, 200, b)
        return b

    def ics(self, query="", token=None, bearer=True):
        path = "/v1/calendar.ics" + ("?" + query if query else "")
        st, h, body = self.srv.request("GET", path, token=(token or self.manager) if bearer else None)
        return st, h, body

    # -- key events --------------------------------------------------------

    def test_key_event_crud_roles_and_validation(self):
        ev = self.key_event(description="Deals, deals; deals")
        self.assertEqual((ev["kind"], ev["start_date"], ev["end_date"], ev["version"]),
                         ("sales_period", "2026-11-27", "2026-11-30", 1))
        st, h, b = self.req("GET", "/v1/key-events/" + ev["id"], token=self.viewer)
        self.assertEqual((st, h["etag"]), (200, '"1"'))
        self.assertEqual(self.req("GET", "/v1/key-events/" + ev["id"], headers={"If-None-Match": '"1"'})[0], 304)
        integ = self.srv.token("crm", self.org, "integration")
        self.assertEqual(self.req("GET", "/v1/key-events/" + ev["id"], token=integ)[0], 200)
        st, h, b = self.req("PATCH", "/v1/key-events/" + ev["id"], {"end_date": "2026-12-01"},
                            headers={"If-Match": '"1"'})
        self.assertEqual((st, b["end_date"], h["etag"]), (200, "2026-12-01", '"2"'))
        self.assertEqual(self.req("PATCH", "/v1/key-events/" + ev["id"], {"name": "x"},
                                  headers={"If-Match": '"1"'})[0], 412)
        # The patch's result is checked whole: an end before the stored start is refused.
        st, _, b = self.req("PATCH", "/v1/key-events/" + ev["id"], {"end_date": "2026-11-01"})
        self.assertEqual((st, b["errors"][0]["field"]), (422, "end_date"))
        for bad in ({"kind": "party"}, {"start_date": "2026-02-30"}, {"name": ""}, {"id": str(uuid.uuid4())},
                    {"colour": "red"}, {"end_date": "2026-11-01"}):
            body = {"name": "x", "kind": "holiday", "start_date": "2026-11-02", "end_date": "2026-11-03"}
            body.update(bad)
            st, _, b = self.req("POST", "/v1/key-events", body)
            self.assertEqual((st, b["code"]), (422, "validation_failed"), bad)
        # Writes are for managers and admins; planners and viewers read.
        body = {"name": "x", "kind": "holiday", "start_date": "2026-12-25", "end_date": "2026-12-25"}
        self.assertEqual(self.req("POST", "/v1/key-events", body, self.planner)[0], 403)
        self.assertEqual(self.req("DELETE", "/v1/key-events/" + ev["id"], token=self.viewer)[0], 403)
        other = self.srv.token("eve", "other-" + self.org, "admin")
        self.assertEqual(self.req("GET", "/v1/key-events/" + ev["id"], token=other)[0], 404)
        self.assertEqual(self.req("DELETE", "/v1/key-events/" + ev["id"], token=other)[0], 404)
        self.assertEqual(self.req("DELETE", "/v1/key-events/" + ev["id"], headers={"If-Match": '"1"'})[0], 412)
        self.assertEqual(self.req("DELETE", "/v1/key-events/" + ev["id"], token=self.admin)[0], 204)
        self.assertEqual(self.req("GET", "/v1/key-events/" + ev["id"])[0], 404)
        actions = psql(f"SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE entity_id = '{ev['id']}'")
        self.assertEqual(actions, "create,update,delete")

    def test_key_event_list_filters_and_pages(self):
        a = self.key_event(name="New year", kind="holiday", start_date="2026-01-01", end_date="2026-01-01")
        b = self.key_event(name="Summer sales", kind="sales_period", start_date="2026-06-24", end_date="2026-07-21")
        c = self.key_event(name="Dmexco", kind="industry_event", start_date="2026-09-16", end_date="2026-09-17")
        ids = lambda q: [e["id"] for e in self.req("GET", "/v1/key-events?" + q)[2]["items"]]
        self.assertEqual(ids(""), [a["id"], b["id"], c["id"]])
        self.assertEqual(ids("kind=holiday,industry_event"), [a["id"], c["id"]])
        self.assertEqual(ids("from=2026-07-21&to=2026-09-16"), [b["id"]])  # [from, to) overlaps whole days
        self.assertEqual(ids("from=2026-07-22T00:00:00Z&to=2026-09-17T00:00:00Z"), [c["id"]])
        self.assertEqual(ids("q=SALES"), [b["id"]])
        self.assertEqual(ids("sort=-name"), [b["id"], a["id"], c["id"]])
        st, _, page = self.req("GET", "/v1/key-events?limit=2")
        self.assertEqual(len(page["items"]), 2)
        st, _, rest = self.req("GET", "/v1/key-events?limit=2&cursor=" + page["next_cursor"])
        self.assertEqual(([e["id"] for e in rest["items"]], rest["next_cursor"]), ([c["id"]], None))
        for bad in ("kind=party", "from=yesterday", "sort=colour", "limit=0", "q=%00", "colour=red"):
            self.assertEqual(self.req("GET", "/v1/key-events?" + bad)[0], 400, bad)

    # -- GET /v1/calendar ---------------------------------------------------

    def test_calendar_shows_every_item_type(self):
        w = self.world()
        cal = self.calendar("from=2026-03-01&to=2026-04-01", self.viewer)
        self.assertEqual((cal["from"], cal["to"], cal["time_zone"], cal["truncated"]),
                         ("2026-03-01", "2026-04-01", "UTC", False))
        by_id = {i["id"]: i for i in cal["items"]}
        self.assertEqual(set(by_id), {w[k]["id"] for k in ("camp", "other", "booking", "writer_booking", "leave",
                                                           "event")})
        camp = by_id[w["camp"]["id"]]
        self.assertEqual((camp["type"], camp["start"], camp["end"], camp["all_day"], camp["status"], camp["kind"]),
                         ("campaign", "2026-03-01", "2026-03-31", True, "draft", "acquisition"))
        self.assertEqual(camp["links"]["self"], "/v1/campaigns/" + w["camp"]["id"])
        bk = by_id[w["booking"]["id"]]
        self.assertEqual((bk["type"], bk["start"], bk["end"], bk["all_day"], bk["status"]),
                         ("booking", "2026-03-10T08:00:00+00:00", "2026-03-10T09:00:00+00:00", False, "confirmed"))
        self.assertEqual(bk["title"], "Email — Spring sale")
        self.assertEqual((bk["campaign_id"], bk["resource_id"]), (w["camp"]["id"], w["email"]["id"]))
        self.assertEqual(bk["links"], {"self": "/v1/bookings/" + bk["id"],
                                       "campaign": "/v1/campaigns/" + w["camp"]["id"],
                                       "resource": "/v1/resources/" + w["email"]["id"]})
        leave = by_id[w["leave"]["id"]]
        self.assertEqual((leave["type"], leave["kind"], leave["title"]), ("availability", "leave", "Wendy: leave"))
        self.assertEqual(by_id[w["event"]["id"]]["type"], "key_event")
        # Sorted by start; colours are hints: by objective, one per resource, by kind.
        starts = [i["start"][:10] for i in cal["items"]]
        self.assertEqual(starts, sorted(starts))
        self.assertNotEqual(camp["colour"], by_id[w["other"]["id"]]["colour"])
        for item in cal["items"]:
            self.assertRegex(item["colour"], r"^#[0-9a-f]{6}$")
        again = self.calendar("from=2026-03-10&to=2026-03-11")
        self.assertEqual({i["id"]: i["colour"] for i in again["items"] if i["type"] == "booking"},
                         {bk["id"]: bk["colour"]})

    def test_risks_with_a_due_date_are_dated_items(self):
        w = self.world()
        camp, other = w["camp"]["id"], w["other"]["id"]

        def risk(camp_id, **over):
            body = {"title": "Checkout fails at launch", "category": "technical", "probability": 4, "impact": 5,
                    "due_date": "2026-03-12"}
            body.update(over)
            return self.created(f"/v1/campaigns/{camp_id}/risks", body)

        critical = risk(camp, owner="pat")
        low = risk(other, title="Printer late", category="schedule", probability=1, impact=2, due_date="2026-03-20",
                   owner="mia", mitigation="Order a week early")
        risk(camp, title="No date", due_date=None)  # no due date: not on the calendar
        risk(camp, title="April", due_date="2026-04-02")  # outside the window
        closed = risk(other, title="Closed", status="closed", due_date="2026-03-13")
        cal = self.calendar("from=2026-03-01&to=2026-04-01", self.viewer)
        risks = {i["id"]: i for i in cal["items"] if i["type"] == "risk"}
        self.assertEqual(set(risks), {critical["id"], low["id"]})  # closed ones only when asked
        item = risks[critical["id"]]
        self.assertEqual((item["start"], item["end"], item["all_day"], item["status"], item["kind"]),
                         ("2026-03-12", "2026-03-12", True, "open", "technical"))
        self.assertEqual(item["title"], "Checkout fails at launch — Spring sale")
        self.assertEqual((item["campaign_id"], item["resource_id"], item["segment_id"]), (camp, None, None))
        self.assertEqual(item["links"], {"self": "/v1/risks/" + critical["id"], "campaign": "/v1/campaigns/" + camp})
        # The colour says the level: critical red, low green.
        self.assertEqual((item["colour"], risks[low["id"]]["colour"]), ("#e15759", "#59a14f"))
        starts = [i["start"][:10] for i in cal["items"]]
        self.assertEqual(starts, sorted(starts))
        # A day's window holds the risk due that day; the day after does not.
        self.assertEqual([i["id"] for i in self.calendar("from=2026-03-12&to=2026-03-13&types=risk")["items"]],
                         [critical["id"]])
        self.assertEqual(self.calendar("from=2026-03-13&to=2026-03-14&types=risk")["items"], [])
        # types leaves risks out or keeps only them; filters narrow them like their campaign's items.
        self.assertNotIn("risk", {i["type"] for i in self.calendar(
            "from=2026-03-01&to=2026-04-01&types=campaign,booking,availability")["items"]})
        only = self.calendar("from=2026-03-01&to=2026-04-01&types=risk&include_cancelled=true")["items"]
        self.assertEqual({i["id"] for i in only}, {critical["id"], low["id"], closed["id"]})
        self.assertEqual({i["id"] for i in self.calendar("from=2026-03-01&to=2026-04-01&types=risk&owner=mia")
                          ["items"]}, {low["id"]})
        self.assertEqual({i["id"] for i in self.calendar("from=2026-03-01&to=2026-04-01&types=risk&channel=display")
                          ["items"]}, {low["id"]})
        self.assertEqual({i["id"] for i in self.calendar(
            f"from=2026-03-01&to=2026-04-01&types=risk&segment_id={w['seg']['id']}")["items"]}, {critical["id"]})
        self.assertEqual({i["id"] for i in self.calendar(
            f"from=2026-03-01&to=2026-04-01&types=risk&resource_id={w['writer']['id']}")["items"]}, {low["id"]})
        # Another organisation sees none of them.
        theirs = self.srv.token("eve", "other-" + self.org, "admin")
        self.assertEqual(self.calendar("from=2026-03-01&to=2026-04-01&types=risk", theirs)["items"], [])
        # A role that may not read risks gets every other type, and asking for risks is 403.
        crm = self.srv.token("crm", self.org, "integration")
        self.assertNotIn("risk", {i["type"] for i in self.calendar("from=2026-03-01&to=2026-04-01", crm)["items"]})
        st, _, b = self.req("GET", "/v1/calendar?from=2026-03-01&to=2026-04-01&types=booking,risk", token=crm)
        self.assertEqual((st, b["code"]), (403, "forbidden"))
        self.assertEqual(self.ics("from=2026-03-01&to=2026-04-01&types=risk", token=crm)[0], 403)

        # The feed: an all-day event on the due date; a closed risk stays as CANCELLED.
        st, _, body = self.ics("from=2026-03-01&to=2026-04-01")
        self.assertEqual(st, 200, body)
        evs = self.events(self.parse(body))
        ev = evs["risk-%s@campaignd" % critical["id"]]
        self.assertEqual((ev.decoded("DTSTART"), ev.decoded("DTEND")),
                         (datetime.date(2026, 3, 12), datetime.date(2026, 3, 13)))
        self.assertEqual((str(ev["STATUS"]), str(ev["SUMMARY"]), str(ev["CATEGORIES"].cats[0])),
                         ("CONFIRMED", "Checkout fails at launch — Spring sale", "risk"))
        self.assertIn("Level: critical (probability 4 × impact 5 = 20)", str(ev["DESCRIPTION"]))
        self.assertIn("Owner: pat", str(ev["DESCRIPTION"]))
        self.assertIn("Mitigation: Order a week early", str(evs["risk-%s@campaignd" % low["id"]]["DESCRIPTION"]))
        self.assertEqual(str(evs["risk-%s@campaignd" % closed["id"]]["STATUS"]), "CANCELLED")
        # A new due date moves it and raises SEQUENCE.
        st, _, b = self.req("PATCH", "/v1/risks/" + critical["id"], {"due_date": "2026-03-14"}, self.planner)
        self.assertEqual(st, 200, b)
        ev = self.events(self.parse(self.ics("from=2026-03-01&to=2026-04-01")[2]))["risk-%s@campaignd" % critical["id"]]
        self.assertEqual((ev.decoded("DTSTART"), int(ev["SEQUENCE"])), (datetime.date(2026, 3, 14), 1))
        # A feed token made by a role that may not read risks names its types without them.
        st, _, tok = self.req("POST", "/v1/calendar/feed-tokens", {"name": "CRM"}, crm)
        self.assertEqual(st, 201, tok)
        self.assertEqual(tok["filters"]["types"], ["campaign", "booking", "availability", "key_event"])
        st, _, body = self.ics("from=2026-03-01&to=2026-04-01&token=" + tok["token"], bearer=False)
        self.assertEqual(st, 200, body)
        self.assertFalse([u for u in self.events(self.parse(body)) if u.startswith("risk-")])
        st, _, b = self.req("POST", "/v1/calendar/feed-tokens", {"name": "CRM", "filters": {"types": ["risk"]}}, crm)
        self.assertEqual((st, b["code"]), (403, "forbidden"))
        # Anyone else's token without types shows them.
        st, _, tok = self.req("POST", "/v1/calendar/feed-tokens", {"name": "Mine"}, self.planner)
        self.assertEqual((st, tok["filters"]), (201, {}), tok)
        body = self.ics("from=2026-03-01&to=2026-04-01&token=" + tok["token"], bearer=False)[2]
        self.assertIn("risk-%s@campaignd" % critical["id"], self.events(self.parse(body)))

    def test_calendar_window_is_half_open_and_bounded(self):
        w = self.world()
        # The booking is [08:00, 09:00) UTC: a window ending at 08:00 or starting at 09:00 misses it.
        ids = lambda q: {i["id"] for i in self.calendar(q + "&types=booking")["items"]}
        self.assertEqual(ids("from=2026-03-10T06:00:00Z&to=2026-03-10T08:00:00Z"), set())
        self.assertEqual(ids("from=2026-03-10T09:00:00Z&to=2026-03-10T12:00:00Z"), set())
        self.assertEqual(ids("from=2026-03-10T09:59:59%2B01:00&to=2026-03-10T12:00:00Z"), {w["booking"]["id"]})
        # A campaign's days are whole: its last day (March 31) ends at midnight.
        camps = lambda q: {i["id"] for i in self.calendar(q + "&types=campaign")["items"]}
        self.assertEqual(camps("from=2026-03-31T23:00:00Z&to=2026-04-02"), {w["camp"]["id"], w["other"]["id"]})
        self.assertEqual(camps("from=2026-04-01&to=2026-04-02"), set())
        for bad in ("from=2026-03-01", "to=2026-03-01", "from=2026-04-01&to=2026-03-01",
                    "from=2026-03-01&to=2026-03-01", "from=2026-01-01&to=2027-01-03",
                    "from=2026-03-01T00:00:00&to=2026-04-01", "from=2026-13-01&to=2027-01-01",
                    "from=2026-03-01&to=2026-04-01&types=meeting", "from=2026-03-01&to=2026-04-01&limit=5001",
                    "from=2026-03-01&to=2026-04-01&resource_id=42", "from=2026-03-01&to=2026-04-01&colour=red",
                    "from=2026-03-01&to=2026-04-01&include_cancelled=maybe", "from=infinity&to=2026-04-01"):
            st, _, b = self.req("GET", "/v1/calendar?" + bad)
            self.assertEqual((st, b["code"]), (400, "invalid_parameter"), bad)
        # 366 days is the most a window may span.
        self.calendar("from=2026-01-01&to=2027-01-02")

    def test_calendar_filters(self):
        w = self.world()
        base = "from=2026-03-01&to=2026-04-01"
        ids = lambda q: {i["id"] for i in self.calendar(base + "&" + q)["items"]}
        event, leave = w["event"]["id"], w["leave"]["id"]
        # A resource: its bookings and availability, and the campaigns booking it; key events stay as context.
        self.assertEqual(ids("resource_id=" + w["writer"]["id"]),
                         {w["other"]["id"], w["writer_booking"]["id"], leave, event})
        # A channel: the campaigns listing it and their bookings (and bookings of a channel resource so named).
        self.assertEqual(ids("channel=email"), {w["camp"]["id"], w["booking"]["id"], event})
        self.assertEqual(ids("channel=Email&types=booking"), {w["booking"]["id"]})
        self.assertEqual(ids("segment_id=" + w["seg"]["id"]), {w["camp"]["id"], w["booking"]["id"], leave, event})
        self.assertEqual(ids("owner=pat"), {w["camp"]["id"], w["booking"]["id"], leave, event})
        self.assertEqual(ids("owner=pat&types=campaign,key_event"), {w["camp"]["id"], event})
        self.assertEqual(ids("resource_id=" + str(uuid.uuid4()) + "&types=booking,availability"), set())
        # Cancelled items are left out unless asked for.
        self.assertEqual(self.req("POST", f"/v1/bookings/{w['booking']['id']}/cancel", {})[0], 200)
        self.assertNotIn(w["booking"]["id"], ids("types=booking"))
        cancelled = [i for i in self.calendar(base + "&types=booking&include_cancelled=true")["items"]
                     if i["id"] == w["booking"]["id"]]
        self.assertEqual(cancelled[0]["status"], "cancelled")
        # A limit cuts the list and says so.
        cut = self.calendar(base + "&limit=2")
        self.assertEqual((len(cut["items"]), cut["truncated"]), (2, True))

    def test_calendar_is_per_organisation_and_time_zone(self):
        w = self.world()
        other = self.srv.token("eve", "other-" + self.org, "admin")
        self.assertEqual(self.calendar("from=2026-03-01&to=2026-04-01", other)["items"], [])
        self.assertEqual(self.req("GET", "/v1/calendar?from=2026-03-01&to=2026-04-01")[0], 200)
        st, h, b = self.srv.request("GET", "/v1/calendar?from=2026-03-01&to=2026-04-01")
        self.assertEqual((st, b["code"]), (401, "unauthorized"))
        self.assertIn("www-authenticate", h)
        # In Paris (UTC+2 on March 31), the campaign's last day ends at 22:00 UTC.
        psql(f"UPDATE organisations SET time_zone = 'Europe/Paris' WHERE id = '{self.org}'")
        camps = lambda q: {i["id"] for i in self.calendar(q + "&types=campaign")["items"]}
        self.assertEqual(camps("from=2026-03-31T22:00:00Z&to=2026-04-02"), set())
        self.assertEqual(camps("from=2026-03-31T21:59:00Z&to=2026-04-02"), {w["camp"]["id"], w["other"]["id"]})
        self.assertEqual(self.calendar("from=2026-03-01&to=2026-04-01")["time_zone"], "Europe/Paris")

    # -- GET /v1/calendar.ics -----------------------------------------------

    def parse(self, body):
        raw = body.encode("utf-8")
        # RFC 5545 §3.1: CRLF line ends, lines of at most 75 octets, continuation lines start with a space.
        self.assertTrue(raw.endswith(b"\r\n"))
        lines = raw.split(b"\r\n")[:-1]
        self.assertNotIn(b"\n", b"".join(lines))
        for line in lines:
            self.assertLessEqual(len(line), 75, line)
            line.decode("utf-8")  # a fold never splits a character
        return icalendar.Calendar.from_ical(body)

    def events(self, cal):
        return {str(e["UID"]): e for e in cal.walk("VEVENT")}

    def test_feed_is_rfc5545(self):
        w = self.world()
        long_note = "Première relance; prix, remises \\ et «offres» — " * 4 + "\nsecond line"
        st, _, b = self.req("PATCH", "/v1/bookings/" + w["booking"]["id"], {"notes": long_note})
        self.assertEqual(st, 200, b)
        st, h, body = self.ics("from=2026-03-01&to=2026-04-01")
        self.assertEqual(st, 200, body)
        self.assertTrue(h["content-type"].startswith("text/calendar"))
        cal = self.parse(body)
        self.assertEqual((str(cal["VERSION"]), str(cal["METHOD"])), ("2.0", "PUBLISH"))
        evs = self.events(cal)
        self.assertEqual(set(evs), {"campaign-%s@campaignd" % w["camp"]["id"],
                                    "campaign-%s@campaignd" % w["other"]["id"],
                                    "booking-%s@campaignd" % w["booking"]["id"],
                                    "booking-%s@campaignd" % w["writer_booking"]["id"],
                                    "availability-%s@campaignd" % w["leave"]["id"],
                                    "key_event-%s@campaignd" % w["event"]["id"]})
        bk = evs["booking-%s@campaignd" % w["booking"]["id"]]
        self.assertEqual(bk.decoded("DTSTART"), utc(2026, 3, 10, 8, 0))
        self.assertEqual(bk.decoded("DTEND"), utc(2026, 3, 10, 9, 0))
        self.assertEqual(bk.decoded("DTSTAMP").utcoffset(), datetime.timedelta(0))
        self.assertEqual((str(bk["STATUS"]), int(bk["SEQUENCE"])), ("CONFIRMED", 1))
        self.assertEqual(str(bk["SUMMARY"]), "Email — Spring sale")
        self.assertTrue(str(bk["DESCRIPTION"]).endswith(long_note), bk["DESCRIPTION"])
        self.assertIn("\\;", body)  # escaped on the wire, plain once parsed
        camp = evs["campaign-%s@campaignd" % w["camp"]["id"]]
        self.assertEqual((camp.decoded("DTSTART"), camp.decoded("DTEND")),
                         (datetime.date(2026, 3, 1), datetime.date(2026, 4, 1)))  # all day; DTEND exclusive
        self.assertEqual(str(camp["STATUS"]), "TENTATIVE")
        tentative = evs["booking-%s@campaignd" % w["writer_booking"]["id"]]
        self.assertEqual(str(tentative["STATUS"]), "TENTATIVE")
        # Subscribers poll: an unchanged feed answers 304 to its ETag, a changed one a new body.
        tag = h["etag"]
        st, h2, body2 = self.srv.request("GET", "/v1/calendar.ics?from=2026-03-01&to=2026-04-01", token=self.manager,
                                         headers={"If-None-Match": tag})
        self.assertEqual((st, h2["etag"], body2), (304, tag, None))
        # A change raises SEQUENCE and keeps the UID; a cancellation stays in the feed as CANCELLED.
        self.assertEqual(self.req("POST", f"/v1/bookings/{w['writer_booking']['id']}/cancel", {})[0], 200)
        st, h3, body3 = self.srv.request("GET", "/v1/calendar.ics?from=2026-03-01&to=2026-04-01", token=self.manager,
                                         headers={"If-None-Match": tag})
        self.assertEqual(st, 200)
        self.assertNotEqual(h3["etag"], tag)
        evs = self.events(self.parse(body3))
        gone = evs["booking-%s@campaignd" % w["writer_booking"]["id"]]
        self.assertEqual((str(gone["STATUS"]), int(gone["SEQUENCE"])), ("CANCELLED", 1))
        # Without a window the feed covers the month past and the year ahead.
        now = datetime.datetime.now(datetime.timezone.utc)
        recent = self.key_event(name="Soon", kind="holiday", start_date=(now + datetime.timedelta(days=3)).date()
                                .isoformat(), end_date=(now + datetime.timedelta(days=3)).date().isoformat())
        st, _, body = self.ics()
        self.assertEqual(st, 200)
        self.assertIn("key_event-%s@campaignd" % recent["id"], self.events(self.parse(body)))
        for bad in ("from=2026-04-01&to=2026-03-01", "from=2020-01-01&to=2026-01-01", "types=meeting",
                    "resource_id=1", "format=json"):
            self.assertEqual(self.ics(bad)[0], 400, bad)

    def test_feed_tokens(self):
        w = self.world()
        st, h, tok = self.req("POST", "/v1/calendar/feed-tokens", {
            "name": "Email desk", "filters": {"resource_id": w["email"]["id"], "types": ["booking", "campaign"]}},
            self.planner)
        self.assertEqual(st, 201, tok)
        self.assertRegex(tok["token"], r"^cfeed_[0-9a-f]{64}$")
        self.assertEqual(tok["feed_url"], "/v1/calendar.ics?token=" + tok["token"])
        self.assertEqual(h["location"], "/v1/calendar/feed-tokens/" + tok["id"])
        # Only the hash is stored.
        self.assertEqual(psql(f"SELECT count(*) FROM calendar_feed_tokens WHERE token_hash = "
                              f"encode(sha256('{tok['token']}'::bytea), 'hex') AND id = '{tok['id']}'"), "1")
        self.assertEqual(psql(f"SELECT count(*) FROM calendar_feed_tokens WHERE filters::text LIKE "
                              f"'%{tok['token']}%' OR name LIKE '%{tok['token']}%'"), "0")
        # The token opens the feed with no header, with its own filters.
        feed = "from=2026-03-01&to=2026-04-01&token=" + tok["token"]
        st, _, body = self.ics(feed, bearer=False)
        self.assertEqual(st, 200, body)
        self.assertEqual(set(self.events(self.parse(body))),
                         {"booking-%s@campaignd" % w["booking"]["id"], "campaign-%s@campaignd" % w["camp"]["id"]})
        self.assertEqual(self.ics(feed + "&owner=mia", bearer=False)[0], 400)
        # ... and nothing else: not as a bearer token, not on the JSON calendar.
        for method, path in (("GET", "/v1/campaigns"), ("GET", "/v1/calendar?from=2026-03-01&to=2026-04-01"),
                             ("GET", "/v1/calendar/feed-tokens")):
            st, h, b = self.srv.request(method, path, token=tok["token"])
            self.assertEqual(st, 401, path)
        self.assertEqual(self.srv.request("GET", "/v1/calendar?from=2026-03-01&to=2026-04-01&token=" +
                                          tok["token"])[0], 401)
        # The list shows tokens without their secret: one's own, or everyone's for an admin.
        st, _, mine = self.req("GET", "/v1/calendar/feed-tokens", token=self.planner)
        self.assertEqual([(t["id"], "token" in t) for t in mine["items"]], [(tok["id"], False)])
        self.assertEqual(self.req("GET", "/v1/calendar/feed-tokens", token=self.viewer)[2]["items"], [])
        self.assertEqual(len(self.req("GET", "/v1/calendar/feed-tokens", token=self.admin)[2]["items"]), 1)
        # Revocable by its creator or an admin, and then it opens nothing.
        self.assertEqual(self.req("DELETE", "/v1/calendar/feed-tokens/" + tok["id"], token=self.viewer)[0], 404)
        other = self.srv.token("eve", "other-" + self.org, "admin")
        self.assertEqual(self.req("DELETE", "/v1/calendar/feed-tokens/" + tok["id"], token=other)[0], 404)
        self.assertEqual(self.req("DELETE", "/v1/calendar/feed-tokens/" + tok["id"], token=self.planner)[0], 204)
        self.assertEqual(self.req("DELETE", "/v1/calendar/feed-tokens/" + tok["id"], token=self.admin)[0], 204)
        st, h, b = self.ics(feed, bearer=False)
        self.assertEqual((st, b["code"]), (401, "unauthorized"))
        self.assertIn("www-authenticate", h)
        self.assertEqual(self.req("GET", "/v1/calendar/feed-tokens", token=self.planner)[2]["items"], [])
        revoked = self.req("GET", "/v1/calendar/feed-tokens?include_revoked=true", token=self.planner)[2]["items"]
        self.assertIsNotNone(revoked[0]["revoked_at"])
        actions = psql(f"SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE entity_id = '{tok['id']}'")
        self.assertEqual(actions, "create,update")

    def test_feed_token_refusals(self):
        w = self.world()
        for bad, field in (({"filters": {}}, "name"), ({"name": "x", "filters": {"types": ["meeting"]}},
                                                        "filters.types"),
                           ({"name": "x", "filters": {"types": []}}, "filters.types"),
                           ({"name": "x", "filters": {"resource_id": "42"}}, "filters.resource_id"),
                           ({"name": "x", "filters": {"resource_id": str(uuid.uuid4())}}, "filters.resource_id"),
                           ({"name": "x", "filters": {"segment_id": str(uuid.uuid4())}}, "filters.segment_id"),
                           ({"name": "x", "filters": {"colour": "red"}}, "filters.colour"),
                           ({"name": "x", "token": "cfeed_" + "0" * 64}, "token")):
            st, _, b = self.req("POST", "/v1/calendar/feed-tokens", bad)
            self.assertEqual((st, b["code"]), (422, "validation_failed"), bad)
            self.assertIn(field, [e["field"] for e in b["errors"]], bad)
        # Another organisation's resource is unknown here.
        other = self.srv.token("eve", "other-" + self.org, "admin")
        st, _, b = self.req("POST", "/v1/calendar/feed-tokens",
                            {"name": "x", "filters": {"resource_id": w["email"]["id"]}}, other)
        self.assertEqual(st, 422)
        for token in ("", "cfeed_", "cfeed_" + "0" * 64, "cfeed_" + "g" * 64, "x' OR '1'='1", "cfeed_" + "0" * 640):
            st, h, b = self.ics("token=" + urllib.parse.quote(token, safe="%"), bearer=False)
            self.assertEqual((st, b["code"]), (401, "unauthorized"), token)
        self.assertEqual(self.ics("token=%00", bearer=False)[0], 400)  # a NUL is no parameter value
        self.assertEqual(self.ics(bearer=False)[0], 401)
        self.assertEqual(self.ics(token=self.srv.token("mia", self.org, "manager") + "x")[0], 401)
        self.assertEqual(self.req("DELETE", "/v1/calendar/feed-tokens/" + str(uuid.uuid4()))[0], 404)
        self.assertEqual(self.req("DELETE", "/v1/calendar/feed-tokens/42")[0], 400)


if __name__ == "__main__":
    main()
