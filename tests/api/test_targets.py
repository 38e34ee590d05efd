#!/usr/bin/env python3
"""API tests of a campaign's KPI targets: the set replaced as a whole, each
target in its KPI's unit, ETag and If-Match on the set's own version, who may
write (as who may edit the campaign), audit and outbox, isolation. Usage:
test_targets.py BINARY"""
import os
import subprocess
import unittest
import uuid

from harness import Server, campaign, main


def sql(query):
    return subprocess.run(["psql", "-qAt", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c", query],
                          capture_output=True, text=True, check=True).stdout.strip()


class TargetsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "tgt-" + uuid.uuid4().hex[:10]
        self.tok = {r: self.srv.token(r + "-sub", self.org, r) for r in
                    ("admin", "manager", "planner", "approver", "analyst", "integration", "viewer")}
        st, _, b = self.srv.request("POST", "/v1/campaigns", campaign(name="T " + uuid.uuid4().hex[:6]),
                                    self.tok["planner"])
        self.camp = b["id"]
        self.path = f"/v1/campaigns/{self.camp}/targets"

    def put(self, targets, role="planner", headers=None):
        return self.srv.request("PUT", self.path, {"targets": targets}, self.tok[role], headers=headers)

    def test_set_read_replace(self):
        st, h, b = self.srv.request("GET", self.path, token=self.tok["viewer"])
        self.assertEqual((st, h["etag"], b["targets"], b["version"]), (200, '"0"', [], 0))
        # The seeds' campaign table: CTR 2 % (higher is better), CPA 50 € (lower), and 500 leads on google_ads.
        st, h, b = self.put([{"kpi": "ctr", "target": 0.02}, {"kpi": "cpa", "target": "50"},
                             {"kpi": "leads", "channel": "google_ads", "target": 500, "direction": "higher"}],
                            headers={"If-Match": '"0"'})
        self.assertEqual((st, h["etag"]), (200, '"1"'), b)
        self.assertEqual(b["targets"], [
            {"kpi": "ctr", "channel": None, "unit": "ratio", "target": 0.02, "direction": "higher"},
            {"kpi": "cpa", "channel": None, "unit": "money", "target": "50.00", "direction": "lower"},
            {"kpi": "leads", "channel": "google_ads", "unit": "count", "target": 500, "direction": "higher"}])
        self.assertEqual(b["currency"], "EUR")
        st, _, got = self.srv.request("GET", self.path, token=self.tok["integration"])
        self.assertEqual(got, b)
        st, _, _ = self.srv.request("GET", self.path, token=self.tok["viewer"], headers={"If-None-Match": '"1"'})
        self.assertEqual(st, 304)
        # A stale If-Match is 412 and changes nothing; the whole set is replaced, never merged.
        st, _, b = self.put([], headers={"If-Match": '"0"'})
        self.assertEqual((st, b["code"]), (412, "precondition_failed"))
        st, h, b = self.put([{"kpi": "roi", "target": 1.5}], role="manager")
        self.assertEqual((st, h["etag"], [t["kpi"] for t in b["targets"]]), (200, '"2"', ["roi"]))
        st, h, b = self.put([])
        self.assertEqual((st, b["targets"], b["version"]), (200, [], 3))
        # Each replacement is audited row by row and announced once.
        self.assertEqual(sql(f"SELECT count(*) FROM outbox_events WHERE org_id = '{self.org}'"
                             " AND type = 'campaign.targets_changed'"), "3")
        self.assertEqual(sql(f"SELECT count(*) FROM audit_log WHERE org_id = '{self.org}' AND entity = 'kpi_target'"),
                         "8")  # 3 created, 3 deleted + 1 created, 1 deleted

    def test_values_follow_the_kpi_unit(self):
        cases = [
            ({"kpi": "leads", "target": 1.5}, "targets[0].target"),
            ({"kpi": "leads", "target": "500"}, "targets[0].target"),
            ({"kpi": "ctr", "target": "0.02"}, "targets[0].target"),
            ({"kpi": "ctr", "target": -0.1}, "targets[0].target"),
            ({"kpi": "cpl", "target": 96}, "targets[0].target"),
            ({"kpi": "cpl", "target": "96.005"}, "targets[0].target"),
            ({"kpi": "nope", "target": 1}, "targets[0].kpi"),
            ({"kpi": "ctr"}, "targets[0].target"),
            ({"kpi": "ctr", "target": 0.1, "channel": "Email"}, "targets[0].channel"),
            ({"kpi": "ctr", "target": 0.1, "direction": "up"}, "targets[0].direction"),
            ({"kpi": "ctr", "target": 0.1, "colour": "red"}, "targets[0].colour"),
            ("ctr", "targets[0]"),
        ]
        for target, field in cases:
            st, _, b = self.put([target])
            self.assertEqual(st, 422, target)
            self.assertIn(field, [e["field"] for e in b["errors"]], (target, b))
        st, _, b = self.put([{"kpi": "ctr", "target": 0.1}, {"kpi": "ctr", "target": 0.2}])
        self.assertEqual([e["field"] for e in b["errors"]], ["targets[1].kpi"])
        # The same kpi for two channels, and once for the whole campaign, is three targets.
        st, _, b = self.put([{"kpi": "ctr", "target": 0.1}, {"kpi": "ctr", "channel": "email", "target": 0.2},
                             {"kpi": "ctr", "channel": "social", "target": 0.3}])
        self.assertEqual(st, 200, b)
        for body in ({}, {"targets": {}}, {"targets": [{"kpi": "ctr", "target": 0.1}] * 51},
                     {"targets": [], "extra": 1}):
            st, _, b = self.srv.request("PUT", self.path, body, self.tok["admin"])
            self.assertEqual(st, 422, body)
        st, _, b = self.srv.request("GET", self.path, token=self.tok["viewer"])
        self.assertEqual(len(b["targets"]), 3)

    def test_who_may_write(self):
        for role in ("approver", "analyst", "integration", "viewer"):
            st, _, b = self.put([{"kpi": "ctr", "target": 0.1}], role)
            self.assertEqual((st, b["code"]), (403, "forbidden"), role)
        other = self.srv.token("someone-else", self.org, "planner")
        st, _, b = self.srv.request("PUT", self.path, {"targets": []}, other)
        self.assertEqual(st, 403)
        for role in ("planner", "manager", "admin"):
            st, _, _ = self.put([{"kpi": "ctr", "target": 0.1}], role)
            self.assertEqual(st, 200, role)

    def test_channel_budgets_split_the_budget(self):
        made = campaign(name="Split " + uuid.uuid4().hex[:6], budget={"amount": "1000.00", "currency": "EUR"},
                        channel_budgets=[{"channel": "email", "amount": "400"}, {"channel": "social", "amount": "600"}])
        st, _, c = self.srv.request("POST", "/v1/campaigns", made, self.tok["planner"])
        self.assertEqual(st, 201, c)
        self.assertEqual(c["channel_budgets"], [{"channel": "email", "amount": "400.00"},
                                                {"channel": "social", "amount": "600.00"}])
        refused = [
            ([{"channel": "email", "amount": "400"}, {"channel": "social", "amount": "600.01"}], "channel_budgets"),
            ([{"channel": "email", "amount": "1"}, {"channel": "email", "amount": "2"}], "channel_budgets[1].channel"),
            ([{"channel": "Email", "amount": "1"}], "channel_budgets[0].channel"),
            ([{"channel": "email", "amount": 1}], "channel_budgets[0].amount"),
            ([{"channel": "email"}], "channel_budgets[0].amount"),
            ("email", "channel_budgets"),
        ]
        for split, field in refused:
            st, _, b = self.srv.request("POST", "/v1/campaigns", dict(made, channel_budgets=split), self.tok["planner"])
            self.assertEqual(st, 422, split)
            self.assertIn(field, [e["field"] for e in b["errors"]], (split, b))
        st, _, b = self.srv.request("POST", "/v1/campaigns", dict(made, budget=None), self.tok["planner"])
        self.assertEqual((st, b["errors"][0]["field"]), (422, "channel_budgets"))
        # A patch is checked against the budget the campaign would have.
        path = "/v1/campaigns/" + c["id"]
        st, _, b = self.srv.request("PATCH", path, {"budget": {"amount": "900.00", "currency": "EUR"}},
                                    self.tok["planner"])
        self.assertEqual((st, b["errors"][0]["field"]), (422, "channel_budgets"))
        st, _, b = self.srv.request("PATCH", path, {"budget": {"amount": "900.00", "currency": "EUR"},
                                                    "channel_budgets": [{"channel": "email", "amount": "900"}]},
                                    self.tok["planner"])
        self.assertEqual((st, b["channel_budgets"]), (200, [{"channel": "email", "amount": "900.00"}]), b)
        st, _, b = self.srv.request("PATCH", path, {"channel_budgets": None}, self.tok["planner"])
        self.assertEqual((st, b["channel_budgets"]), (200, []))
        # The database holds the rule for every writer.
        with self.assertRaises(subprocess.CalledProcessError):
            sql(f"UPDATE campaigns SET channel_budgets = '[{{\"channel\":\"email\",\"amount\":\"5000\"}}]'"
                f" WHERE id = '{c['id']}'")

    def test_isolation_and_missing(self):
        stranger = self.srv.token("eve", "tgt-else-" + uuid.uuid4().hex[:6], "admin")
        st, _, _ = self.srv.request("GET", self.path, token=stranger)
        self.assertEqual(st, 404)
        st, _, _ = self.srv.request("PUT", self.path, {"targets": []}, stranger)
        self.assertEqual(st, 404)
        st, _, _ = self.srv.request("GET", f"/v1/campaigns/{uuid.uuid4()}/targets", token=self.tok["admin"])
        self.assertEqual(st, 404)
        st, _, _ = self.srv.request("GET", "/v1/campaigns/nope/targets", token=self.tok["admin"])
        self.assertEqual(st, 400)
        self.assertEqual(sql(f"SELECT count(*) FROM kpi_target_sets WHERE org_id <> '{self.org}'"
                             f" AND campaign_id = '{self.camp}'"), "0")


if __name__ == "__main__":
    main()
