#!/usr/bin/env python3
"""API tests of campaigns and bookings as CSV. Exports (GET /v1/campaigns.csv, /v1/bookings.csv): RFC 4180
(read back here with Python's csv module), every field of every row the JSON list gives for the same filters,
nested fields flattened or as JSON, the list's filters and roles, 400 for what the list refuses. Imports
(POST /v1/imports/campaigns, /v1/imports/bookings): an export re-imports unchanged, new rows are created with
the JSON API's rules, a refused row (a booking conflict in row 3) is that row's error while the others are
stored, `;` and tab files with a BOM, errors by line and column, Idempotency-Key, roles.
Usage: test_csv_campaigns_bookings.py BINARY"""
import csv
import io
import json
import unittest
import uuid

from harness import Server, campaign, main


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "ex-" + uuid.uuid4().hex[:10]
        self.manager = self.srv.token("mia", self.org, "manager")

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or self.manager, **kw)

    def csv(self, path, token=None):
        st, h, text = self.req("GET", path, token=token)
        self.assertEqual(st, 200, text)
        self.assertEqual(h["content-type"], "text/csv; charset=utf-8")
        self.assertIn("attachment", h["content-disposition"])
        self.assertTrue(text.endswith("\r\n"))
        return list(csv.DictReader(io.StringIO(text, newline="")))

    def test_campaigns(self):
        tricky = campaign(name='Comma, "quote" and ünïcode ✓', notes="line one\nline two", tags=["a;b", "c|d"],
                          budget={"amount": "1250.50", "currency": "EUR"}, channels=["email", "display"],
                          offer={"code": "AUT10", "description": "10 % off", "terms": None})
        st, _, a = self.req("POST", "/v1/campaigns", tricky)
        self.assertEqual(st, 201, a)
        st, _, b = self.req("POST", "/v1/campaigns", campaign(name="Plain", budget=None))
        self.assertEqual(st, 201, b)
        st, _, _ = self.req("POST", f"/v1/campaigns/{b['id']}/transitions", {"to": "cancelled", "reason": "r"})
        rows = self.csv("/v1/campaigns.csv")
        self.assertEqual([r["id"] for r in rows], [a["id"], b["id"]])  # the list's order: oldest first
        st, _, a = self.req("GET", "/v1/campaigns/" + a["id"])
        row = next(r for r in rows if r["id"] == a["id"])
        self.assertEqual(row["name"], a["name"])
        self.assertEqual(row["notes"], "line one\nline two")
        self.assertEqual((row["budget_amount"], row["budget_currency"]), ("1250.50", "EUR"))
        self.assertEqual(json.loads(row["tags"]), ["a;b", "c|d"])
        self.assertEqual(json.loads(row["channels"]), ["email", "display"])
        self.assertEqual(json.loads(row["offer"]), a["offer"])
        self.assertEqual((row["status"], row["owner"], row["version"]), ("draft", "mia", "1"))
        plain = next(r for r in rows if r["id"] == b["id"])
        self.assertEqual((plain["budget_amount"], plain["offer"], plain["status"]), ("", "", "cancelled"))
        # the list's filters apply
        self.assertEqual([r["id"] for r in self.csv("/v1/campaigns.csv?status=cancelled")], [b["id"]])
        self.assertEqual([r["id"] for r in self.csv("/v1/campaigns.csv?q=comma")], [a["id"]])
        # another organisation sees only the header
        other = self.srv.token("x", "ex-other-" + uuid.uuid4().hex[:6], "viewer")
        st, _, text = self.req("GET", "/v1/campaigns.csv", token=other)
        self.assertEqual(text.count("\r\n"), 1)
        self.assertTrue(text.startswith("id,name,objective,status,"))
        # what the list refuses, the export refuses; it has no pages
        for q in ("status=lost", "limit=10", "cursor=x", "colour=red", "from=tomorrow"):
            st, _, b2 = self.req("GET", "/v1/campaigns.csv?" + q)
            self.assertEqual((st, b2["code"]), (400, "invalid_parameter"), q)

    def test_bookings(self):
        st, _, camp = self.req("POST", "/v1/campaigns", campaign())
        st, _, res = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Hero", "cost_per_unit":
                                                        {"amount": "250.00", "currency": "EUR"}})
        self.assertEqual(st, 201, res)
        made = []
        for day in (2, 3):
            st, _, bk = self.req("POST", "/v1/bookings", {"campaign_id": camp["id"], "resource_id": res["id"],
                                                          "start": f"2026-03-0{day}T09:00:00Z",
                                                          "end": f"2026-03-0{day}T10:00:00Z", "notes": "n, \"q\""})
            self.assertEqual(st, 201, bk)
            made.append(bk)
        rows = self.csv(f"/v1/bookings.csv?campaign_id={camp['id']}")
        self.assertEqual({r["id"] for r in rows}, {b["id"] for b in made})
        r = next(r for r in rows if r["id"] == made[0]["id"])
        self.assertEqual((r["start"], r["end"], r["quantity"], r["status"], r["notes"]),
                         (made[0]["start"], made[0]["end"], "1", "tentative", 'n, "q"'))
        self.assertEqual((r["cost_amount"], r["cost_currency"]), (made[0]["cost_estimate"]["amount"], "EUR"))
        self.assertEqual(self.csv(f"/v1/bookings.csv?campaign_id={uuid.uuid4()}"), [])
        # integration tools read bookings, so they export them; they do not read resources
        crm = self.srv.token("crm", self.org, "integration")
        self.assertEqual(len(self.csv(f"/v1/bookings.csv?campaign_id={camp['id']}", crm)), 2)
        st, _, b = self.req("GET", "/v1/bookings.csv?campaign_id=nope")
        self.assertEqual(st, 400)
        st, _, b = self.srv.request("GET", "/v1/bookings.csv")
        self.assertEqual(st, 401)


class ImportTest(ExportTest):
    test_campaigns = test_bookings = None

    def post(self, path, text, token=None, headers=None, status=200):
        h = {"Content-Type": "text/csv"}
        h.update(headers or {})
        st, hd, b = self.req("POST", path, token=token, raw=text.encode(), headers=h)
        self.assertEqual(st, status, b)
        return b

    def test_an_export_reimports_unchanged(self):
        st, _, a = self.req("POST", "/v1/campaigns", campaign(name='Q, "x"', notes="a\nb", tags=["t;1"],
                                                               offer={"code": "C", "description": None, "terms": None}))
        self.assertEqual(st, 201, a)
        st, _, res = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Slot"})
        st, _, bk = self.req("POST", "/v1/bookings", {"campaign_id": a["id"], "resource_id": res["id"],
                                                      "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:00:00Z"})
        self.assertEqual(st, 201, bk)
        for kind in ("campaigns", "bookings"):
            st, _, text = self.req("GET", f"/v1/{kind}.csv")
            b = self.post(f"/v1/imports/{kind}", text)
            self.assertEqual(b["summary"], {"created": 0, "unchanged": 1, "failed": 0}, b)
            st, _, again = self.req("GET", f"/v1/{kind}.csv")
            self.assertEqual(again, text)
        # a changed row says where changes go
        st, _, text = self.req("GET", "/v1/campaigns.csv")
        b = self.post("/v1/imports/campaigns", text.replace('Q, ""x""', "Renamed"), status=422)
        self.assertEqual((b["code"], b["results"][0]["code"]), ("validation_failed", "conflict"))
        self.assertIn("PATCH /v1/campaigns/" + a["id"], b["results"][0]["detail"])

    def test_campaign_rows_created_with_the_api_rules(self):
        st, _, seg = self.req("POST", "/v1/segments", {"name": "Lapsed"})
        text = ("\ufeffname;objective;start_date;end_date;budget_amount;budget_currency;channels;segment_ids\r\n"
                f'Good one;launch;2027-02-01;2027-02-10;5.00;EUR;"[""email""]";"[""{seg["id"]}""]"\r\n'
                "Backwards;launch;2027-02-10;2027-02-01;;;;\r\n"
                f'Unknown segment;launch;2027-02-01;2027-02-10;;;;"[""{uuid.uuid4()}""]"\r\n'
                "Half a budget;launch;2027-02-01;2027-02-10;5.00;;;\r\n")
        b = self.post("/v1/imports/campaigns", text, headers={"Idempotency-Key": "imp-1"})
        self.assertEqual(b["summary"], {"created": 1, "unchanged": 0, "failed": 3}, b)
        r = b["results"]
        self.assertEqual([x["line"] for x in r], [2, 3, 4, 5])
        self.assertEqual([x["status"] for x in r], ["created", "failed", "failed", "failed"])
        self.assertEqual([(e["field"], e.get("column")) for e in r[1]["errors"]], [("end_date", "end_date")])
        self.assertEqual([(e["field"], e.get("column")) for e in r[2]["errors"]], [("segment_ids[0]", "segment_ids")])
        self.assertEqual(r[3]["errors"][0]["column"], "budget_currency")
        st, _, c = self.req("GET", "/v1/campaigns/" + r[0]["id"])
        self.assertEqual((c["name"], c["owner"], c["budget"], c["segment_ids"], c["channels"]),
                         ("Good one", "mia", {"amount": "5.00", "currency": "EUR"}, [seg["id"]], ["email"]))
        # the same key and file: the same answer, nothing created twice
        b2 = self.post("/v1/imports/campaigns", text, headers={"Idempotency-Key": "imp-1"})
        self.assertEqual(b2, b)
        st, _, page = self.req("GET", "/v1/campaigns?limit=500")
        self.assertEqual(len(page["items"]), 1)

    def test_a_booking_conflict_is_its_rows_error(self):
        st, _, camp = self.req("POST", "/v1/campaigns", campaign())
        st, _, slot = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Exclusive"})
        rows = ["campaign_id\tresource_id\tstart\tend\tstatus\tquantity"]
        for start, end in (("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"),
                           ("2026-03-02T11:00:00Z", "2026-03-02T12:00:00Z"),
                           ("2026-03-02T09:30:00Z", "2026-03-02T10:30:00Z"),  # overlaps the first
                           ("2026-03-02T13:00:00Z", "2026-03-02T12:00:00Z")):  # ends before it starts
            rows.append(f"{camp['id']}\t{slot['id']}\t{start}\t{end}\tconfirmed\t1")
        b = self.post("/v1/imports/bookings", "\n".join(rows) + "\n")
        r = b["results"]
        self.assertEqual([x["status"] for x in r], ["created", "created", "failed", "failed"], b)
        self.assertEqual((r[2]["line"], r[2]["code"], r[2]["rule"]), (4, "booking_conflict", "resource_double_booked"))
        self.assertEqual(r[3]["errors"][0]["column"], "end")
        st, _, page = self.req("GET", f"/v1/bookings?campaign_id={camp['id']}")
        self.assertEqual(sorted(x["id"] for x in page["items"]), sorted([r[0]["id"], r[1]["id"]]))
        # the conflict rules judge each row as they judge POST /v1/bookings: a booking whose cost takes the
        # campaign over its budget is blocked, that row alone
        st, _, small = self.req("POST", "/v1/campaigns", campaign(budget={"amount": "100.00", "currency": "EUR"}))
        st, _, dear = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Dear", "cost_per_unit":
                                                         {"amount": "250.00", "currency": "EUR"}})
        b = self.post("/v1/imports/bookings", rows[0] + "\n" + "\t".join(
            [small["id"], dear["id"], "2026-03-05T09:00:00Z", "2026-03-05T10:00:00Z", "confirmed", "1"]) + "\n"
            + "\t".join([camp["id"], slot["id"], "2026-03-05T09:00:00Z", "2026-03-05T10:00:00Z", "confirmed", "1"])
            + "\n")
        self.assertEqual([(x["status"], x.get("code")) for x in b["results"]],
                         [("failed", "conflict_blocked"), ("created", None)], b)
        # a planner books only for their own campaigns
        planner = self.srv.token("pat", self.org, "planner")
        b = self.post("/v1/imports/bookings", rows[0] + "\n" + rows[1].replace("09:00", "15:00").replace("10:00", "16:00")
                      + "\n", planner, status=422)
        self.assertEqual(b["results"][0]["code"], "forbidden")

    def test_bad_files_and_roles(self):
        ok = "name,objective,start_date,end_date\nX,launch,2027-01-01,2027-01-02\n"
        st, _, b = self.req("POST", "/v1/imports/campaigns", raw=ok.encode(),
                            headers={"Content-Type": "application/json"})
        self.assertEqual((st, b["code"]), (415, "unsupported_media_type"))
        b = self.post("/v1/imports/campaigns", 'name,objective,start_date,end_date\n"X,launch\n', status=400)
        self.assertEqual(b["code"], "malformed_csv")
        b = self.post("/v1/imports/campaigns", "name,colour\nX,red\n", status=400)
        self.assertEqual(b["code"], "malformed_csv")
        b = self.post("/v1/imports/campaigns", "name,objective,start_date,end_date\nX,launch\n", status=422)
        self.assertEqual(b["results"][0]["status"], "failed")
        for role in ("approver", "analyst", "integration", "viewer"):
            st, _, b = self.req("POST", "/v1/imports/campaigns", token=self.srv.token("x", self.org, role),
                                raw=ok.encode(), headers={"Content-Type": "text/csv"})
            self.assertEqual(st, 403, role)
            st, _, b = self.req("POST", "/v1/imports/bookings", token=self.srv.token("x", self.org, role),
                                raw=ok.encode(), headers={"Content-Type": "text/csv"})
            self.assertEqual(st, 403, role)


if __name__ == "__main__":
    main()
