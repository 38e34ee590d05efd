#!/usr/bin/env python3
"""API tests of measurements as CSV: imports as Excel and CRMs write them
(BOM, `;` and tab separators, RFC 4180 quoting with embedded separators,
quotes and newlines, CRLF), per-row errors with their line and column, files
that cannot be read (400 naming the line), and an export that re-imports
unchanged. Usage: test_csv.py BINARY"""
import csv
import io
import os
import subprocess
import uuid

from harness import OrgTestCase, campaign, main


def count_rows(org):
    sql = f"SELECT count(*) FROM measurements WHERE org_id = '{org}'"
    return int(subprocess.run(["psql", "-qAt", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c", sql],
                              capture_output=True, text=True, check=True).stdout)


class CsvTest(OrgTestCase):
    ORG_PREFIX = "csv-"
    TOKENS = {"admin": "ada"}

    def setUp(self):
        super().setUp()
        st, _, b = self.srv.request("POST", "/v1/campaigns", campaign(name="CSV " + uuid.uuid4().hex[:6]), self.admin)
        self.camp = b["id"]

    def imp(self, text, token=None, ctype="text/csv; charset=utf-8"):
        raw = text if isinstance(text, bytes) else text.encode()
        return self.srv.request("POST", "/v1/imports/measurements", token=token or self.admin, raw=raw,
                                headers={"Content-Type": ctype})

    def test_excel_export_with_bom_semicolons_and_crlf(self):
        c = self.camp
        text = ("\ufeffcampaign_id;channel;date;source;external_id;clicks;spend\r\n"
                f"{c};email;2026-03-02;crm;\"row;1\";50;120.50\r\n"
                f"{c};email;2026-03-03;crm;\"say \"\"hi\"\"\";60;\r\n"
                f"{c};email;2026-03-04;crm;r4;\"7\r\n0\";1.5\r\n"
                f"{c};email;2026-03-05;crm;r5;80;2\r\n")
        st, _, b = self.imp(text.encode("utf-8"))
        self.assertEqual(st, 200, b)
        self.assertEqual(b["summary"], {"created": 3, "updated": 0, "unchanged": 0, "failed": 1})
        # The quoted line break is one field (not a number): its record starts on line 4, the next on line 6.
        self.assertEqual([(r["line"], r["status"]) for r in b["results"]],
                         [(2, "created"), (3, "created"), (4, "failed"), (6, "created")])
        self.assertEqual(b["results"][2]["errors"][0]["field"], "clicks")
        st, _, lst = self.srv.request("GET", f"/v1/measurements?campaign_id={c}", token=self.admin)
        self.assertEqual(sorted(m["external_id"] for m in lst["items"]), ['r5', 'row;1', 'say "hi"'])
        # The same file again changes nothing.
        st, _, b = self.imp(text.encode("utf-8"))
        self.assertEqual(b["summary"]["unchanged"], 3)

    def test_tabs_commas_lf_and_any_column_order(self):
        c = self.camp
        st, _, b = self.imp(f"external_id\tsource\tdate\tcampaign_id\tLeads\nt1\tcrm\t2026-03-02\t{c}\t5\n")
        self.assertEqual((st, b["summary"]["created"]), (200, 1), b)
        st, _, b = self.imp(f"campaign_id,date,source,external_id,leads\n{c},2026-03-02,crm,c1,5")  # no final newline
        self.assertEqual((st, b["summary"]["created"]), (200, 1), b)

    def test_row_errors_by_line_and_column(self):
        c = self.camp
        text = ("campaign_id,date,source,external_id,clicks,spend\n"
                f"{c},2026-03-02,crm,e1,50,10.00\n"
                f"{c},2026-02-30,crm,e2,-4,10.00\n"
                f"{c},2026-03-02,crm,e3,50\n"
                f"{c},2026-03-02,crm,e4,5x,1,2\n"
                f"{uuid.uuid4()},2026-03-02,crm,e5,1,1.00\n")
        st, _, b = self.imp(text)
        self.assertEqual(st, 200, b)
        self.assertEqual([(r["line"], r["status"]) for r in b["results"]],
                         [(2, "created"), (3, "failed"), (4, "failed"), (5, "failed"), (6, "failed")])
        self.assertEqual(sorted(e["field"] for e in b["results"][1]["errors"]), ["clicks", "date"])
        self.assertEqual(b["results"][2]["errors"][0]["message"], "5 fields where the header has 6")
        self.assertEqual(b["results"][4]["errors"][0]["field"], "campaign_id")
        self.assertEqual(count_rows(self.org), 1)
        # Nothing good: 422 with every error by line.
        st, _, b = self.imp(f"campaign_id,date,source,external_id,clicks\n{c},2026-03-02,crm,x,many\n")
        self.assertEqual((st, b["code"], b["errors"][0]["field"]), (422, "validation_failed", "line 2: clicks"))

    def test_unreadable_files_name_the_line(self):
        c = self.camp
        head = "campaign_id,date,source,external_id\n"
        cases = [
            (head + f"{c},2026-03-02,crm,a\"b\n", 2),              # a quote inside an unquoted field
            (head + f"{c},2026-03-02,crm,\"ab\"c\n", 2),            # text after a closing quote
            (head + f"{c},2026-03-02,crm,ok\n{c},2026-03-02,crm,\"open\n", 3),  # never closed
            ("campaign_id,date,source,external_id,colour\n", 1),    # unknown column
            ("campaign_id,date,source\n", 1),                       # a required column missing
            ("campaign_id,date,date,source,external_id\n", 1),      # a column twice
            (head, 2),                                              # no data
            ("", 1),
        ]
        for text, line in cases:
            st, _, b = self.imp(text)
            self.assertEqual((st, b["code"], b["line"]), (400, "malformed_csv", line), (text, b))
            self.assertIn(f"line {line}", b["detail"])
        st, _, b = self.imp((head + f"{c},2026-03-02,crm,caf\xe9\n").encode("latin-1"))
        self.assertEqual((st, b["code"], b["line"]), (400, "malformed_csv", 2))
        st, _, b = self.imp(head, ctype="application/json")
        self.assertEqual(st, 415)
        self.assertEqual(count_rows(self.org), 0)

    def test_export_reimports_unchanged(self):
        c = self.camp
        rows = [{"campaign_id": c, "channel": "email", "date": "2026-03-02", "source": "mailer",
                 "external_id": 'odd; "quoted", id', "sends": 10, "spend": "1.50"},
                {"campaign_id": c, "date": "2026-03-03", "source": "crm", "external_id": " padded ", "leads": 3,
                 "revenue": "100"}]
        st, _, b = self.srv.request("POST", "/v1/measurements/batch", {"rows": rows}, self.admin)
        self.assertEqual(b["summary"]["created"], 2)
        st, h, text = self.srv.request("GET", f"/v1/measurements.csv?campaign_id={c}", token=self.admin)
        self.assertEqual((st, h["content-type"]), (200, "text/csv; charset=utf-8"))
        parsed = list(csv.DictReader(io.StringIO(text, newline="")))
        self.assertEqual([r["external_id"] for r in parsed], ['odd; "quoted", id', " padded "])
        self.assertEqual((parsed[0]["spend"], parsed[0]["sends"], parsed[0]["leads"]), ("1.50", "10", ""))
        st, _, b = self.imp(text)
        self.assertEqual(b["summary"], {"created": 0, "updated": 0, "unchanged": 2, "failed": 0}, b)
        for role in ("viewer", "analyst", "planner"):
            st, _, _ = self.srv.request("GET", "/v1/measurements.csv", token=self.srv.token("r", self.org, role))
            self.assertEqual(st, 200, role)
        st, _, _ = self.srv.request("GET", "/v1/measurements.csv", token=self.srv.token("i", self.org, "integration"))
        self.assertEqual(st, 403)
        st, _, _ = self.srv.request("GET", "/v1/measurements.csv?from=2026-13-01", token=self.admin)
        self.assertEqual(st, 400)

    def test_who_may_import(self):
        text = f"campaign_id,date,source,external_id\n{self.camp},2026-03-02,crm,w\n"
        for role in ("approver", "viewer"):
            st, _, _ = self.imp(text, self.srv.token("r", self.org, role))
            self.assertEqual(st, 403, role)
        st, _, b = self.imp(text, self.srv.token("i", self.org, "integration"))
        self.assertEqual(st, 200)
        stranger = self.srv.token("eve", "csv-else-" + uuid.uuid4().hex[:6], "admin")
        st, _, b = self.imp(text.replace(",w\n", ",w2\n"), stranger)
        self.assertEqual((st, b["errors"][0]["field"]), (422, "line 2: campaign_id"))


if __name__ == "__main__":
    main()
