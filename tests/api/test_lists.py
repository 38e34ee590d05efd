#!/usr/bin/env python3
"""API tests of list query parameters in both array forms clients send: the
parameter repeated (`status=a&status=b`, OpenAPI form style with explode,
openapi-fetch's default) and one comma-separated value (`status=a,b`), on
every route with a list parameter; and 400 for any other repeated parameter,
so nothing is silently dropped. Usage: test_lists.py BINARY"""
import unittest
import uuid

from harness import SPEC, Server, campaign, main


class ListParamsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "lst-" + uuid.uuid4().hex[:10]
        self.admin = self.srv.token("ada", self.org, "admin")
        self.planner = self.srv.token("pat", self.org, "planner")

    def req(self, method, path, body=None, token=None):
        return self.srv.request(method, path, body, token or self.admin)

    def created(self, path, body, token=None):
        st, _, b = self.req("POST", path, body, token)
        self.assertEqual(st, 201, b)
        return b

    def ids(self, path):
        st, _, b = self.req("GET", path)
        self.assertEqual(st, 200, b)
        return sorted(i["id"] for i in b["items"])

    def same_both_ways(self, route, name, values, expected):
        """route?name=a,b and route?name=a&name=b answer the same items, the ones expected."""
        sep = "&" if "?" in route else "?"
        comma = self.ids(f"{route}{sep}{name}={','.join(values)}")
        repeated = self.ids(f"{route}{sep}" + "&".join(f"{name}={v}" for v in values))
        self.assertEqual(comma, sorted(expected))
        self.assertEqual(repeated, sorted(expected))

    def test_campaign_status(self):
        draft = self.created("/v1/campaigns", campaign(name="Draft one"), self.planner)
        gone = self.created("/v1/campaigns", campaign(name="Cancelled one"), self.planner)
        st, _, b = self.req("POST", f"/v1/campaigns/{gone['id']}/transitions", {"to": "cancelled"})
        self.assertEqual(st, 200, b)
        self.same_both_ways("/v1/campaigns", "status", ["draft", "cancelled"], [draft["id"], gone["id"]])
        self.same_both_ways("/v1/campaigns", "status", ["cancelled", "live"], [gone["id"]])

    def test_booking_status(self):
        camp = self.created("/v1/campaigns", campaign(), self.planner)
        res = self.created("/v1/resources", {"kind": "slot", "name": "Banner"})
        held = self.created("/v1/bookings", {"campaign_id": camp["id"], "resource_id": res["id"],
                                             "start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"})
        sure = self.created("/v1/bookings", {"campaign_id": camp["id"], "resource_id": res["id"],
                                             "start": "2026-03-04T00:00:00Z", "end": "2026-03-05T00:00:00Z",
                                             "status": "confirmed"})
        self.same_both_ways("/v1/bookings", "status", ["tentative", "confirmed"], [held["id"], sure["id"]])
        self.same_both_ways("/v1/bookings", "status", ["confirmed", "cancelled"], [sure["id"]])

    def test_approval_status(self):
        self.same_both_ways("/v1/approvals", "status", ["pending", "changes_requested"], [])

    def test_key_event_kind(self):
        fair = self.created("/v1/key-events", {"name": "Fair", "kind": "industry_event",
                                               "start_date": "2026-03-10", "end_date": "2026-03-11"})
        easter = self.created("/v1/key-events", {"name": "Easter", "kind": "holiday",
                                                 "start_date": "2026-04-05", "end_date": "2026-04-06"})
        self.created("/v1/key-events", {"name": "Sale", "kind": "sales_period",
                                        "start_date": "2026-11-27", "end_date": "2026-11-30"})
        self.same_both_ways("/v1/key-events", "kind", ["industry_event", "holiday"], [fair["id"], easter["id"]])

    def test_calendar_types(self):
        camp = self.created("/v1/campaigns", campaign(), self.planner)
        event = self.created("/v1/key-events", {"name": "Fair", "kind": "industry_event",
                                                "start_date": "2026-03-10", "end_date": "2026-03-11"})
        window = "/v1/calendar?from=2026-03-01&to=2026-04-01"
        self.same_both_ways(window, "types", ["campaign", "key_event"], [camp["id"], event["id"]])
        self.same_both_ways(window, "types", ["key_event", "booking"], [event["id"]])
        st, _, feed = self.req("GET", "/v1/calendar.ics?from=2026-03-01&to=2026-04-01&types=key_event&types=booking")
        self.assertEqual(st, 200)
        self.assertIn("Fair", feed)
        self.assertNotIn("Spring sale", feed)

    def test_bad_items_in_either_form(self):
        for q in ("status=draft&status=nope", "status=draft,nope", "status=", "status=draft&status=nope,live"):
            st, _, b = self.req("GET", "/v1/campaigns?" + q)
            self.assertEqual((st, b["code"], b["errors"][0]["field"]), (400, "invalid_parameter", "status"), q)

    def test_the_bracket_form_is_not_a_list(self):
        """status[]=a (another convention) is an unknown parameter, not a silently ignored one."""
        for q in ("status[]=draft", "status%5B%5D=draft&status%5B%5D=live", "status[=draft", "status]=draft"):
            st, _, b = self.req("GET", "/v1/campaigns?" + q)
            self.assertEqual((st, b["code"]), (400, "invalid_parameter"), q)
            self.assertIn("unknown query parameter", b["detail"], q)

    def test_other_parameters_may_not_repeat(self):
        for path, q in [("/v1/campaigns", "limit=1&limit=2"), ("/v1/campaigns", "owner=a&owner=b"),
                        ("/v1/campaigns", "sort=name&sort=-name"), ("/v1/bookings", "from=2026-01-01&from=2026-02-01"),
                        ("/v1/calendar", "from=2026-03-01&to=2026-04-01&channel=a&channel=b"),
                        ("/v1/resources", "kind=slot&kind=person")]:
            st, _, b = self.req("GET", f"{path}?{q}")
            self.assertEqual(st, 400, (path, q, b))
            self.assertEqual(b["code"], "invalid_parameter")
            self.assertIn("more than once", b["detail"])

    def test_contract_declares_the_exploded_form(self):
        """Every array query parameter is declared as form + explode, the form generated clients send."""
        params = SPEC["components"]["parameters"]
        seen = 0
        for path, item in SPEC["paths"].items():
            for method, op in item.items():
                if not isinstance(op, dict):
                    continue
                for p in op.get("parameters", []):
                    p = params[p["$ref"].split("/")[-1]] if "$ref" in p else p
                    if p["in"] == "query" and p["schema"].get("type") == "array":
                        seen += 1
                        self.assertEqual((p.get("style"), p.get("explode")), ("form", True), f"{path} {p['name']}")
        self.assertGreaterEqual(seen, 6)  # campaigns, bookings, approvals status; kind; calendar and feed types


if __name__ == "__main__":
    main()
