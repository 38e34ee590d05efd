#!/usr/bin/env python3
"""API tests of the KPI catalogue and measured results: batches idempotent on
(source, external_id) (the same batch twice, a corrected row, one batch racing
itself from two processes), per-row errors in mixed batches, who may ingest,
list filters and pages, deletes, and tenant isolation. Usage:
test_measurements.py BINARY"""
import multiprocessing
import os
import subprocess
import unittest
import uuid

from harness import Server, campaign, main


def row(camp, ext, **over):
    r = {"campaign_id": camp, "channel": "email", "date": "2026-03-02", "source": "mailer", "external_id": ext,
         "sends": 1000, "opens": 400, "clicks": 50, "spend": "120.50"}
    r.update(over)
    return r


def count_rows(org, ext_prefix):
    sql = f"SELECT count(*) FROM measurements WHERE org_id = '{org}' AND external_id LIKE '{ext_prefix}%'"
    return int(subprocess.run(["psql", "-qAt", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c", sql],
                              capture_output=True, text=True, check=True).stdout)


def push(args):
    """One process's copy of a batch (the race test)."""
    port, token, body = args
    import http.client
    import json
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/v1/measurements/batch", body=json.dumps(body),
                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    resp = conn.getresponse()
    out = json.loads(resp.read())
    return resp.status, out["summary"]


class MeasurementsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "kpi-" + uuid.uuid4().hex[:10]
        self.tok = {r: self.srv.token(r + "-sub", self.org, r) for r in
                    ("admin", "manager", "planner", "approver", "analyst", "integration", "viewer")}
        self.camp = self.make_campaign()

    def make_campaign(self, token=None, **over):
        st, _, b = self.srv.request("POST", "/v1/campaigns", campaign(name="M " + uuid.uuid4().hex[:8], **over),
                                    token or self.tok["admin"])
        self.assertEqual(st, 201, b)
        return b["id"]

    def batch(self, rows, role="admin", headers=None):
        return self.srv.request("POST", "/v1/measurements/batch", {"rows": rows}, self.tok[role], headers=headers)

    def test_catalogue_lists_every_counter_and_kpi(self):
        for role, token in self.tok.items():
            st, _, b = self.srv.request("GET", "/v1/kpis", token=token)
            self.assertEqual(st, 200, role)
        by_key = {k["key"]: k for k in b["items"]}
        for c in ("impressions", "reach", "sends", "opens", "clicks", "bounces", "unsubscribes", "visits", "leads",
                  "mqls", "sqls", "conversions", "spend", "revenue"):
            self.assertEqual(by_key[c]["kind"], "counter")
        self.assertEqual(by_key["cpl"], {**by_key["cpl"], "unit": "money", "formula": "spend / leads",
                                         "better": "lower", "counters": ["spend", "leads"]})
        self.assertEqual(by_key["ctr"]["formula"], "clicks / impressions")
        self.assertEqual(by_key["roi"]["formula"], "(revenue - spend) / spend")
        self.assertEqual(len([k for k in b["items"] if k["kind"] == "derived"]), 13)
        st, _, b = self.srv.request("GET", "/v1/kpis?x=1", token=self.tok["viewer"])
        self.assertEqual(st, 400)
        st, _, _ = self.srv.request("GET", "/v1/kpis")
        self.assertEqual(st, 401)

    def test_same_batch_twice_then_a_corrected_row(self):
        rows = [row(self.camp, "d1"), row(self.camp, "d2", channel=None, sends=None, spend=None)]
        st, _, b = self.batch(rows)
        self.assertEqual(st, 200, b)
        self.assertEqual(b["summary"], {"created": 2, "updated": 0, "unchanged": 0, "failed": 0})
        ids = [r["id"] for r in b["results"]]
        st, _, b = self.batch(rows)
        self.assertEqual(b["summary"], {"created": 0, "updated": 0, "unchanged": 2, "failed": 0})
        self.assertEqual([r["id"] for r in b["results"]], ids)
        # The CRM corrects yesterday's numbers: one row replaced, none added; "120.5" is the same money as "120.50".
        st, _, b = self.batch([row(self.camp, "d1", clicks=55, spend="120.5"), rows[1]])
        self.assertEqual(b["summary"], {"created": 0, "updated": 1, "unchanged": 1, "failed": 0})
        self.assertEqual(b["results"][0], {"index": 0, "status": "updated", "id": ids[0]})
        st, _, lst = self.srv.request("GET", f"/v1/measurements?campaign_id={self.camp}", token=self.tok["viewer"])
        self.assertEqual(len(lst["items"]), 2)
        m = next(i for i in lst["items"] if i["external_id"] == "d1")
        self.assertEqual((m["clicks"], m["spend"], m["currency"], m["version"]), (55, "120.50", "EUR", 2))
        self.assertEqual(count_rows(self.org, "d"), 2)

    def test_mixed_batch_reports_each_row(self):
        other_org_camp = None
        st, _, b = self.srv.request("POST", "/v1/campaigns", campaign(name="Other"),
                                    self.srv.token("x", "kpi-other-" + uuid.uuid4().hex[:6], "admin"))
        other_org_camp = b["id"]
        no_budget = self.make_campaign(budget=None)
        rows = [row(self.camp, "m1"),
                row(self.camp, "m2", clicks=-3, date="2026-02-30"),
                row(other_org_camp, "m3"),
                row(self.camp, "m1", clicks=7),
                row(no_budget, "m5"),
                row(no_budget, "m6", spend=None),
                "not a row",
                row(self.camp, "m8", colour="red")]
        st, _, b = self.batch(rows)
        self.assertEqual(st, 200, b)
        self.assertEqual(b["summary"], {"created": 2, "updated": 0, "unchanged": 0, "failed": 6})
        fields = [sorted(e["field"] for e in r.get("errors", [])) for r in b["results"]]
        self.assertEqual(fields, [[], ["clicks", "date"], ["campaign_id"], ["external_id"], ["spend"], [], [""],
                                  ["colour"]])
        self.assertEqual(b["results"][2]["errors"][0]["message"], "no such campaign in your organisation")
        self.assertEqual(count_rows(self.org, "m"), 2)

    def test_nothing_good_is_422_and_stores_nothing(self):
        st, _, b = self.batch([row(self.camp, "z1", clicks="many"), row(str(uuid.uuid4()), "z2")])
        self.assertEqual((st, b["code"]), (422, "validation_failed"), b)
        self.assertEqual([e["field"] for e in b["errors"]], ["rows[0].clicks", "rows[1].campaign_id"])
        self.assertEqual(b["summary"]["failed"], 2)
        self.assertEqual(count_rows(self.org, "z"), 0)
        for body in ({}, {"rows": []}, {"rows": {}}, {"rows": [row(self.camp, "z3")], "extra": 1}):
            st, _, b = self.srv.request("POST", "/v1/measurements/batch", body, self.tok["admin"])
            self.assertEqual(st, 422, body)
        st, _, b = self.batch([row(self.camp, f"big{i}") for i in range(10001)])
        self.assertEqual(st, 422)
        self.assertEqual(b["errors"][0]["field"], "rows")

    def test_one_batch_racing_itself_counts_each_row_once(self):
        rows = [row(self.camp, f"r{i:05d}", clicks=i) for i in range(2000)]
        args = [(self.srv.port, self.tok["integration"], {"rows": rows})] * 2
        with multiprocessing.Pool(2) as pool:
            out = pool.map(push, args)
        self.assertEqual([s for s, _ in out], [200, 200])
        created = sum(s["created"] for _, s in out)
        unchanged = sum(s["unchanged"] for _, s in out)
        self.assertEqual((created, unchanged), (2000, 2000), out)
        self.assertEqual(count_rows(self.org, "r"), 2000)

    def test_hostile_values_in_every_row_field(self):
        """Each field of a row replaced by values of the wrong type or out of range: that row fails naming the
        field, the good row beside it is stored, and nothing else is written."""
        wrong = [None, -1, 1.5, True, "", "x" * 5000, [], {}, "2026-02-30", "'; DROP TABLE measurements; --",
                 "\u202e\ufeff", 2 ** 62, "12.345", "-3.00"]
        # Values that are right for a field: an optional counter or channel may be null; text is text.
        text = ["'; DROP TABLE measurements; --", "2026-02-30", "\u202e\ufeff", "12.345", "-3.00"]
        accepted = {"channel": [None, "2026-02-30"], "sends": [None], "opens": [None], "clicks": [None],
                    "spend": [None], "source": text, "external_id": text}
        n = 0
        for field in row(self.camp, "x"):
            for value in wrong:
                bad = row(self.camp, f"h{n}", **{field: value})
                good = row(self.camp, f"g{n}")
                n += 1
                st, _, b = self.batch([bad, good])
                with self.subTest(field=field, value=value):
                    self.assertEqual(st, 200, b)
                    if any(value == a and type(value) is type(a) for a in accepted.get(field, [])):
                        self.assertEqual(b["results"][0]["status"], "created", b)
                        continue
                    self.assertEqual((b["results"][0]["status"], b["results"][1]["status"]), ("failed", "created"), b)
                    self.assertIn(field, [e["field"] for e in b["results"][0]["errors"]], b)
        self.assertEqual(count_rows(self.org, "g"), n)
        # A row that is not an object, and unknown fields, fail alone too.
        st, _, b = self.batch([42, row(self.camp, "u1", colour="red"), row(self.camp, "u2")])
        self.assertEqual([r["status"] for r in b["results"]], ["failed", "failed", "created"], b)

    def test_who_may_ingest(self):
        for role in ("admin", "manager", "analyst", "integration"):
            st, _, b = self.batch([row(self.camp, "w-" + role)], role)
            self.assertEqual((st, b["summary"]["created"]), (200, 1), role)
        for role in ("approver", "viewer"):
            st, _, b = self.batch([row(self.camp, "w-" + role)], role)
            self.assertEqual((st, b["code"]), (403, "forbidden"), role)
        # A planner records for the campaigns they own, not for others'.
        own = self.make_campaign(self.tok["planner"])
        st, _, b = self.batch([row(own, "w-own"), row(self.camp, "w-not-own")], "planner")
        self.assertEqual([r["status"] for r in b["results"]], ["created", "failed"])
        self.assertEqual(b["results"][1]["errors"][0]["field"], "campaign_id")
        # ... nor move another campaign's row onto theirs.
        st, _, b = self.batch([row(own, "w-admin")], "planner")
        self.assertEqual((st, b["results"][0]["errors"][0]["field"]), (422, "external_id"))
        # Reading: every role but integration.
        for role, token in self.tok.items():
            st, _, _ = self.srv.request("GET", "/v1/measurements", token=token)
            self.assertEqual(st, 403 if role == "integration" else 200, role)

    def test_list_filters_and_pages(self):
        rows = [row(self.camp, f"p{i}", date=f"2026-03-{i + 1:02d}", channel="email" if i % 2 else "social")
                for i in range(7)]
        rows.append(row(self.camp, "p-crm", source="crm", date="2026-04-01"))
        self.assertEqual(self.batch(rows)[0], 200)
        seen, cursor = [], None
        while True:
            q = f"/v1/measurements?campaign_id={self.camp}&limit=3&sort=-date" + (f"&cursor={cursor}" if cursor else "")
            st, _, b = self.srv.request("GET", q, token=self.tok["viewer"])
            self.assertEqual(st, 200, b)
            seen += [i["external_id"] for i in b["items"]]
            cursor = b["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, ["p-crm"] + [f"p{i}" for i in range(6, -1, -1)])
        q = "/v1/measurements?channel=email&source=mailer&from=2026-03-02&to=2026-03-04"
        st, _, b = self.srv.request("GET", q, token=self.tok["viewer"])
        self.assertEqual([i["external_id"] for i in b["items"]], ["p1", "p3"])
        for bad in ("campaign_id=x", "from=2026-13-01", "from=2026-03-05&to=2026-03-01", "sort=clicks", "nope=1"):
            st, _, b = self.srv.request("GET", "/v1/measurements?" + bad, token=self.tok["viewer"])
            self.assertEqual(st, 400, bad)

    def test_delete_and_isolation(self):
        st, _, b = self.batch([row(self.camp, "x1"), row(self.camp, "x2")])
        mid, mid2 = b["results"][0]["id"], b["results"][1]["id"]
        stranger = self.srv.token("eve", "kpi-else-" + uuid.uuid4().hex[:6], "admin")
        st, _, _ = self.srv.request("DELETE", f"/v1/measurements/{mid}", token=stranger)
        self.assertEqual(st, 404)
        st, _, b = self.srv.request("GET", f"/v1/measurements?campaign_id={self.camp}", token=stranger)
        self.assertEqual(b["items"], [])
        # Another organisation's rows are not found, so its keys are its own: the same key is a new row there.
        st, _, other = self.srv.request("POST", "/v1/campaigns", campaign(name="Else"), stranger)
        st, _, b = self.srv.request("POST", "/v1/measurements/batch", {"rows": [row(other["id"], "x1")]}, stranger)
        self.assertEqual(b["summary"]["created"], 1)
        for role in ("planner", "analyst", "integration", "viewer", "approver"):
            st, _, _ = self.srv.request("DELETE", f"/v1/measurements/{mid}", token=self.tok[role])
            self.assertEqual(st, 403, role)
        st, _, _ = self.srv.request("DELETE", f"/v1/measurements/{mid}", token=self.tok["manager"],
                                    headers={"If-Match": '"7"'})
        self.assertEqual(st, 412)
        st, _, _ = self.srv.request("DELETE", f"/v1/measurements/{mid}", token=self.tok["manager"],
                                    headers={"If-Match": '"1"'})
        self.assertEqual(st, 204)
        st, _, _ = self.srv.request("DELETE", f"/v1/measurements/{mid2}", token=self.tok["admin"])
        self.assertEqual(st, 204)
        st, _, _ = self.srv.request("DELETE", f"/v1/measurements/{mid}", token=self.tok["admin"])
        self.assertEqual(st, 404)
        self.assertEqual(count_rows(self.org, "x"), 0)

    def test_idempotency_key_replays_the_batch(self):
        h = {"Idempotency-Key": "kpi-" + uuid.uuid4().hex}
        st, _, first = self.batch([row(self.camp, "i1")], headers=h)
        st2, hdrs, again = self.batch([row(self.camp, "i1")], headers=h)
        self.assertEqual((st2, hdrs.get("idempotent-replayed"), again), (200, "true", first))
        st, _, b = self.batch([row(self.camp, "i1", clicks=1)], headers=h)
        self.assertEqual((st, b["code"]), (422, "idempotency_key_reused"))

    def test_a_campaign_with_measurements_is_not_deleted(self):
        camp = self.make_campaign()
        self.batch([row(camp, "keep")])
        st, _, b = self.srv.request("DELETE", f"/v1/campaigns/{camp}", token=self.tok["admin"])
        self.assertEqual((st, b["code"]), (409, "still_referenced"), b)


if __name__ == "__main__":
    main()
