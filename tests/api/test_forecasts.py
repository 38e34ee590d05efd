#!/usr/bin/env python3
"""API tests of forecasts, backtests and budget allocation: a seeded organisation of completed campaigns with
known response curves (leads measured per channel, revenue only in total), forecasts with ordered intervals,
warnings instead of silent extrapolation, a campaign forecast by its id, refusals (fields, too little history,
infeasible bounds by name), determinism, fits kept in the database answering as fresh ones, roles on every
route, and that nothing is written but the fits. Usage:
test_forecasts.py BINARY"""
import os
import random
import re
import subprocess
import unittest
import uuid

from harness import Server, campaign, main

ROLES = ("admin", "manager", "planner", "approver", "analyst", "integration", "viewer")
ALLOWED = {"admin", "manager", "planner", "analyst"}
# channel -> (beta, gamma, alpha): leads = beta·x^alpha / (x^alpha + gamma^alpha)
TRUTH = {"email": (300, 800, 1.2), "search": (500, 3000, 2.0)}


def sql(query):
    return subprocess.run(["psql", "-qAt", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c", query],
                          capture_output=True, text=True, check=True).stdout.strip()


def outside_the_workflow(statement):
    """statement on campaigns with the triggers that guard the lifecycle off, inside its transaction only (the
    others, the forecast history's version among them, still fire)."""
    guards = ("campaigns_transition", "campaigns_approval_gate", "campaigns_risk_gate")
    sql("BEGIN; ALTER TABLE campaigns %s; %s; ALTER TABLE campaigns %s; COMMIT"
        % (", ".join(f"DISABLE TRIGGER {g}" for g in guards), statement,
           ", ".join(f"ENABLE TRIGGER {g}" for g in guards)))


def hill(ch, x):
    b, g, a = TRUTH[ch]
    return b * x ** a / (x ** a + g ** a) if x > 0 else 0.0


class ForecastsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.org = "fc-" + uuid.uuid4().hex[:10]
        cls.tok = {r: cls.srv.token(r + "-sub", cls.org, r) for r in ROLES}
        cls.history = cls.seed(cls.org, 16, random.Random(13))

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    @classmethod
    def seed(cls, org, n, rng, currency="EUR", audiences=False):
        """n completed 4-week campaigns: per channel spend log-uniform in [0.2γ, 4γ], leads per channel
        (the curve with 10 % noise), revenue as a campaign-wide row (80 a lead plus 20 a day). With audiences,
        each campaign reaches a segment of its own of 20,000 to 200,000 people (log-uniform) and each channel
        answers the spend per 60,000 of them: leads = s·curve(spend/s), s = size/60,000."""
        admin = cls.srv.token("seed", org, "admin")
        ids = []
        for i in range(n):
            size, extra = 60000, {}
            if audiences:
                size = round(20000 * 10 ** rng.random())
                st, _, seg = cls.srv.request("POST", "/v1/segments", {"name": f"Readers {i} {uuid.uuid4().hex[:6]}",
                                                                       "estimated_size": size}, admin)
                assert st == 201, seg
                extra = {"segment_ids": [seg["id"]]}
            start = f"2025-{1 + i % 12:02d}-01" if i < 12 else f"2024-{1 + i % 12:02d}-01"
            end = start[:8] + "28"
            spends = {ch: round(TRUTH[ch][1] * 0.2 * 20 ** rng.random(), 2) for ch in TRUTH}
            budget = f"{sum(spends.values()) + 100:.2f}"
            st, _, c = cls.srv.request("POST", "/v1/campaigns", campaign(
                name=f"History {i} {uuid.uuid4().hex[:6]}", start_date=start, end_date=end,
                budget={"amount": budget, "currency": currency}, channels=list(TRUTH),
                channel_budgets=[{"channel": ch, "amount": f"{x:.2f}"} for ch, x in spends.items()], **extra), admin)
            assert st == 201, c
            rows, leads_total = [], 0
            for ch, x in spends.items():
                s = size / 60000
                leads = max(0, round(s * hill(ch, x / s) * (1 + 0.1 * rng.gauss(0, 1))))
                leads_total += leads
                rows.append({"campaign_id": c["id"], "channel": ch, "date": start, "source": "seed",
                             "external_id": f"{c['id']}-{ch}", "leads": leads, "spend": f"{x:.2f}"})
            rows.append({"campaign_id": c["id"], "channel": None, "date": start, "source": "seed",
                         "external_id": f"{c['id']}-all", "revenue": f"{80 * leads_total + 20 * 28:.2f}"})
            st, _, b = cls.srv.request("POST", "/v1/measurements/batch", {"rows": rows}, admin)
            assert st == 200 and b["summary"]["failed"] == 0, b
            ids.append(c["id"])
        # History from before the service: completed without walking the approval workflow
        outside_the_workflow("UPDATE campaigns SET status = 'completed' WHERE id IN (%s)"
                             % ",".join(f"'{i}'" for i in ids))
        return ids

    def post(self, path, body, role="planner"):
        return self.srv.request("POST", path, body, self.tok[role])

    def plan(self, **over):
        body = {"currency": "EUR", "start_date": "2027-03-01", "end_date": "2027-03-28",
                "channels": [{"channel": "email", "amount": "900.00"}, {"channel": "search", "amount": "2500.00"}]}
        body.update(over)
        return body

    def assert_interval(self, iv):
        self.assertLessEqual(0, iv["p10"])
        self.assertLessEqual(iv["p10"], iv["p50"])
        self.assertLessEqual(iv["p50"], iv["p90"])

    def test_forecast_of_a_plan(self):
        st, _, f = self.post("/v1/forecasts", self.plan())
        self.assertEqual(st, 200, f)
        self.assertEqual(f["history"]["campaigns"], 16)
        self.assertEqual(sorted(f["history"]["channels"]), ["email", "search"])
        self.assertEqual((f["history"]["from"], f["history"]["to"]), ("2024-01-01", "2025-12-28"))
        self.assertEqual(f["days"], 28)
        self.assertEqual(f["total"]["spend"], "3400.00")
        for iv in (f["total"]["leads"], f["total"]["revenue"], f["total"]["cpl"], f["total"]["roi"]):
            self.assert_interval(iv) if iv is not f["total"]["roi"] else None
        # the median is near the truth: within the interval's own spread and 25 %
        truth = hill("email", 900) + hill("search", 2500)
        self.assertLess(abs(f["total"]["leads"]["p50"] / truth - 1), 0.25, f["total"]["leads"])
        by = {c["channel"]: c for c in f["channels"]}
        self.assertEqual(set(by), {"email", "search"})
        self.assertEqual(by["email"]["spend"], "900.00")
        self.assertLess(abs(by["search"]["leads"]["p50"] / hill("search", 2500) - 1), 0.25)
        # CPL falls as leads grow: its p10 is spend over the leads' p90
        self.assertAlmostEqual(f["total"]["cpl"]["p10"], round(3400 / f["total"]["leads"]["p90"], 2), delta=0.02)
        # conversions were never measured: null, and said so
        self.assertIsNone(f["total"]["conversions"])
        self.assertIsNone(f["total"]["cpa"])
        self.assertIn(("no_history", "conversions", None), {(w["code"], w["kpi"], w["channel"]) for w in f["warnings"]})

    def test_never_a_silent_extrapolation(self):
        plan = self.plan(channels=[{"channel": "email", "amount": "40000.00"},
                                   {"channel": "social", "amount": "500.00"}])
        st, _, f = self.post("/v1/forecasts", plan)
        self.assertEqual(st, 200, f)
        codes = {(w["code"], w["kpi"], w["channel"]) for w in f["warnings"]}
        self.assertIn(("extrapolation", "leads", "email"), codes)
        self.assertIn(("no_history", "leads", "social"), codes)
        self.assertEqual(f["confidence"], "low")
        # a longer campaign than any seen extrapolates: the base of the outcome known only in total, and the curves
        # (answering spend per day: the same spend over 122 days is a rate below any seen on search)
        st, _, f = self.post("/v1/forecasts", self.plan(end_date="2027-06-30"))
        self.assertEqual(st, 200, f)
        codes = {(w["code"], w["kpi"], w["channel"]) for w in f["warnings"]}
        self.assertIn(("extrapolation", "leads", "search"), codes)
        self.assertIn(("extrapolation", "revenue", "search"), codes)
        self.assertNotEqual(f["confidence"], "high")

    def test_forecast_of_an_existing_campaign(self):
        st, _, c = self.post("/v1/campaigns", campaign(
            name="Next " + uuid.uuid4().hex[:6], start_date="2027-04-01", end_date="2027-04-28",
            budget={"amount": "4000.00", "currency": "EUR"}, channels=["email", "search"],
            channel_budgets=[{"channel": "email", "amount": "1000.00"}, {"channel": "search", "amount": "2000.00"}]))
        self.assertEqual(st, 201, c)
        st, _, f = self.post("/v1/forecasts", {"campaign_id": c["id"]})
        self.assertEqual(st, 200, f)
        self.assertEqual((f["start_date"], f["end_date"], f["currency"]), ("2027-04-01", "2027-04-28", "EUR"))
        self.assertEqual(f["total"]["spend"], "3000.00")
        # a completed campaign is left out of its own history
        st, _, f = self.post("/v1/forecasts", {"campaign_id": self.history[0]})
        self.assertEqual((st, f["history"]["campaigns"]), (200, 15))
        # one without channel budgets, and one that is not there
        st, _, bare = self.post("/v1/campaigns", campaign(name="Bare " + uuid.uuid4().hex[:6]))
        st, _, p = self.post("/v1/forecasts", {"campaign_id": bare["id"]})
        self.assertEqual((st, p["code"], p["errors"][0]["field"]), (422, "validation_failed", "campaign_id"))
        st, _, p = self.post("/v1/forecasts", {"campaign_id": str(uuid.uuid4())})
        self.assertEqual((st, p["code"]), (404, "not_found"))

    def test_audience_counts_where_the_history_says_so(self):
        # this history has no segments: its curves answer spend per day alone
        st, _, f = self.post("/v1/forecasts", self.plan())
        self.assertEqual((st, f["audience"]), (200, {"size": None, "kpis": []}))
        # one where each campaign reached a segment of its own, and leads answered the spend per person
        org = "fca-" + uuid.uuid4().hex[:8]
        tok = self.srv.token("p", org, "planner")
        self.seed(org, 40, random.Random(17), audiences=True)
        admin = self.srv.token("seed", org, "admin")
        st, _, big = self.srv.request("POST", "/v1/segments", {"name": "Everyone", "estimated_size": 100000}, admin)
        st, _, part = self.srv.request("POST", "/v1/segments", {"name": "Some", "estimated_size": 50000,
                                                                "parent_id": big["id"]}, admin)
        self.assertEqual(st, 201, part)
        st, _, f = self.srv.request("POST", "/v1/forecasts", self.plan(segment_ids=[big["id"], part["id"]]), tok)
        self.assertEqual(st, 200, f)
        # a segment inside another of the plan's is counted once, within it; revenue (80 a lead) follows leads
        self.assertEqual(f["audience"], {"size": 100000, "kpis": ["leads", "revenue"]})
        s = 100000 / 60000
        truth = s * (hill("email", 900 / s) + hill("search", 2500 / s))
        self.assertLess(abs(f["total"]["leads"]["p50"] / truth - 1), 0.25, f["total"]["leads"])
        self.assertNotIn("audience_unknown", {w["code"] for w in f["warnings"]})
        # no segments named: the median campaign's audience stands in, said so
        st, _, f = self.srv.request("POST", "/v1/forecasts", self.plan(), tok)
        self.assertIn(("audience_unknown", "leads", None), {(w["code"], w["kpi"], w["channel"]) for w in f["warnings"]})
        self.assertNotEqual(f["confidence"], "high")
        # the allocator counts it too
        st, _, a = self.srv.request("POST", "/v1/budget/allocate", {
            "kpi": "leads", "budget": "3400.00", "currency": "EUR", "start_date": "2027-03-01",
            "end_date": "2027-03-28", "segment_ids": [big["id"]],
            "channels": [{"channel": "email"}, {"channel": "search"}]}, tok)
        self.assertEqual((st, a["audience"]), (200, {"size": 100000, "kpis": ["leads"]}), a)
        # a segment that is not there, or another organisation's, is a 422 naming the field
        for ids in ([str(uuid.uuid4())], [self.srv.request("POST", "/v1/segments", {"name": "Theirs"},
                                                            self.tok["admin"])[2]["id"]]):
            st, _, p = self.srv.request("POST", "/v1/forecasts", self.plan(segment_ids=ids), tok)
            self.assertEqual((st, p["code"], p["errors"][0]["field"]), (422, "validation_failed", "segment_ids"))

    def test_refusals_name_their_fields(self):
        cases = [
            ({}, {"currency", "start_date", "end_date", "channels"}),
            ({"campaign_id": str(uuid.uuid4()), "currency": "EUR"}, {"currency"}),
            (self.plan(end_date="2027-02-01"), {"end_date"}),
            (self.plan(channels=[]), {"channels"}),
            (self.plan(channels=[{"channel": "email", "amount": "1.00"}, {"channel": "email", "amount": "2.00"}]),
             {"channels[1].channel"}),
            (self.plan(channels=[{"channel": "email", "amount": "-1"}]), {"channels[0].amount"}),
            (self.plan(currency="euros"), {"currency"}),
            (self.plan(segments=["x"]), {"segments"}),
            (self.plan(segment_ids=["x"]), {"segment_ids[0]"}),
            ({"campaign_id": str(uuid.uuid4()), "segment_ids": []}, {"segment_ids"}),
        ]
        for body, fields in cases:
            st, _, p = self.post("/v1/forecasts", body)
            self.assertEqual((st, p["code"]), (422, "validation_failed"), body)
            self.assertEqual({e["field"] for e in p["errors"]}, fields, body)
        st, _, p = self.srv.request("POST", "/v1/forecasts", token=self.tok["planner"], raw=b"[1,2",
                                    headers={"Content-Type": "application/json"})
        self.assertEqual((st, p["code"]), (400, "malformed_json"))

    def test_too_little_history_is_a_clear_422(self):
        org = "fc1-" + uuid.uuid4().hex[:8]
        tok = self.srv.token("p", org, "planner")
        st, _, p = self.srv.request("POST", "/v1/forecasts", self.plan(), tok)
        self.assertEqual((st, p["code"]), (422, "insufficient_history"))
        self.seed(org, 1, random.Random(5))
        for path, body in (("/v1/forecasts", self.plan()), ("/v1/forecasts/backtest", {"currency": "EUR"}),
                           ("/v1/budget/allocate", {"kpi": "leads", "budget": "1000.00", "currency": "EUR",
                                                    "start_date": "2027-03-01", "end_date": "2027-03-28",
                                                    "channels": [{"channel": "email"}]})):
            st, _, p = self.srv.request("POST", path, body, tok)
            self.assertEqual((st, p["code"]), (422, "insufficient_history"), path)
        # money in another currency is another history
        st, _, p = self.post("/v1/forecasts", self.plan(currency="USD"))
        self.assertEqual((st, p["code"]), (422, "insufficient_history"))

    def test_the_same_request_gives_the_same_answer(self):
        answers = [self.post("/v1/forecasts", self.plan())[2] for _ in range(2)]
        self.assertEqual(answers[0], answers[1])
        body = {"kpi": "leads", "budget": "3400.00", "currency": "EUR", "start_date": "2027-03-01",
                "end_date": "2027-03-28", "channels": [{"channel": "email"}, {"channel": "search"}]}
        answers = [self.post("/v1/budget/allocate", body)[2] for _ in range(2)]
        self.assertEqual(answers[0], answers[1])

    def test_kept_fits_answer_as_a_fresh_fit(self):
        """A forecast or an allocation keeps its fits in the database and reads them while the history is the same:
        the answer is the fresh fit's; a measurement changes the inputs, so a new fit is made and kept."""
        org, other = ("fk-" + uuid.uuid4().hex[:8] for _ in range(2))
        ids = self.seed(org, 6, random.Random(21))
        self.seed(other, 6, random.Random(22))
        tok = {o: self.srv.token("p", o, "planner") for o in (org, other)}
        alloc = {"kpi": "leads", "budget": "3400.00", "currency": "EUR", "start_date": "2027-03-01",
                 "end_date": "2027-03-28", "channels": [{"channel": "email"}, {"channel": "search"}]}

        def ask(o=org):
            answers = [self.srv.request("POST", path, body, tok[o])
                       for path, body in (("/v1/forecasts", self.plan()), ("/v1/budget/allocate", alloc))]
            self.assertEqual([a[0] for a in answers], [200, 200], answers)
            return [a[2] for a in answers]

        def kept(o=org):
            return sql(f"SELECT string_agg(kpi || ' ' || inputs, ',' ORDER BY kpi) FROM forecast_fits"
                       f" WHERE org_id = '{o}'")

        fresh = ask()
        inputs = kept()
        # conversions were never measured: that refusal is kept too
        self.assertEqual([k.split()[0] for k in inputs.split(",")], ["conversions", "leads", "revenue"])
        self.assertEqual(sql(f"SELECT refusal FROM forecast_fits WHERE org_id = '{org}' AND kpi = 'conversions'"),
                         "no_history")
        self.assertEqual(ask(), fresh)  # read, not fitted: the same answer
        self.assertEqual(kept(), inputs)
        # the fit is read: the other organisation's curves under this one's inputs change the answer
        ask(other)
        sql(f"UPDATE forecast_fits f SET model = o.model FROM forecast_fits o WHERE f.org_id = '{org}'"
            f" AND o.org_id = '{other}' AND o.kpi = f.kpi AND o.scope = f.scope")
        self.assertNotEqual(ask()[0]["total"], fresh[0]["total"])
        # a model that is not one is fitted again and replaced
        sql(f"UPDATE forecast_fits SET model = '\\x00' WHERE org_id = '{org}' AND model IS NOT NULL")
        self.assertEqual(ask(), fresh)
        self.assertEqual(sql(f"SELECT min(octet_length(model)) > 1 FROM forecast_fits WHERE org_id = '{org}'"), "t")
        # a measurement changes the history: a new fit, the same as a fit without any kept
        sql(f"UPDATE measurements SET leads = leads * 3 WHERE campaign_id = '{ids[0]}' AND channel = 'email'")
        changed = ask()
        self.assertNotEqual(changed[0]["total"], fresh[0]["total"])
        self.assertNotEqual(kept(), inputs)
        self.assertEqual(sql(f"SELECT count(*) FROM forecast_fits WHERE org_id = '{org}'"), "3")
        sql(f"DELETE FROM forecast_fits WHERE org_id = '{org}'")
        self.assertEqual(ask(), changed)

    def test_a_fresh_forecast_keeps_its_fits_in_one_round_trip(self):
        """A forecast that fits every KPI reads the kept summary (1 round trip), the history (1), keeps its summary
        (1), reads the fits kept under it (1) and keeps the three fits, two models and a refusal, in one statement
        (1); the next one reads the kept summary and fits only. Read from the service's own counter of round trips
        (the server runs no date-driven worker or webhook delivery here)."""
        org = "fr-" + uuid.uuid4().hex[:8]
        self.seed(org, 6, random.Random(23))
        tok = self.srv.token("p", org, "planner")

        def trips():
            st, _, text = self.srv.request("GET", "/metrics", None, None)
            self.assertEqual(st, 200)
            return int(re.search(r"^campaignd_db_round_trips_total (\d+)$", text, re.M).group(1))

        counted = []
        for _ in range(2):
            before = trips()
            st, _, b = self.srv.request("POST", "/v1/forecasts", self.plan(), tok)
            self.assertEqual(st, 200, b)
            counted.append(trips() - before)
        self.assertEqual(sql(f"SELECT count(*) FROM forecast_fits WHERE org_id = '{org}'"), "3")
        self.assertEqual(counted, [5, 2])

    def test_every_input_of_the_history_moves_its_version(self):
        """A kept fit is found by the organisation's history version without reading the history, so each table
        the history reads moves the version when it changes what the history holds: after each change the answer
        is a fresh fit's (the same as with nothing kept), not the kept one's; the change is one the answer sees."""
        org = "fv-" + uuid.uuid4().hex[:8]
        ids = self.seed(org, 8, random.Random(31), audiences=True)
        admin, tok = self.srv.token("a", org, "admin"), self.srv.token("p", org, "planner")
        alloc = {"kpi": "leads", "budget": "3400.00", "currency": "EUR", "start_date": "2027-03-01",
                 "end_date": "2027-03-28", "channels": [{"channel": "email"}, {"channel": "search"}]}

        def ask():
            answers = [self.srv.request("POST", path, body, tok)
                       for path, body in (("/v1/forecasts", self.plan()), ("/v1/budget/allocate", alloc))]
            self.assertEqual([a[0] for a in answers], [200, 200], answers)
            return [a[2] for a in answers]

        def version():
            return sql(f"SELECT version FROM forecast_history_versions WHERE org_id = '{org}'")

        def moves(what, *statements):
            before, answer = version(), ask()
            self.assertEqual(ask(), answer, what)  # kept: read at this version
            self.assertEqual(sql(f"SELECT count(*) FROM forecast_histories WHERE org_id = '{org}'"), "1")
            for s in statements:
                sql(s) if not s.startswith("UPDATE campaigns") else outside_the_workflow(s)
            self.assertNotEqual(version(), before, what)
            kept = ask()
            sql(f"DELETE FROM forecast_fits WHERE org_id = '{org}'; DELETE FROM forecast_histories"
                f" WHERE org_id = '{org}'")
            fresh = ask()
            self.assertEqual(kept, fresh, what)
            self.assertNotEqual(fresh, answer, what)  # the change is one the history shows

        seg = lambda i: sql(f"SELECT segment_id FROM campaign_segments WHERE campaign_id = '{ids[i]}'")
        moves("a measurement corrected", f"UPDATE measurements SET leads = leads * 3 WHERE campaign_id = '{ids[0]}'"
              " AND channel = 'email'")
        moves("a measurement added", f"INSERT INTO measurements (org_id, campaign_id, channel, date, source,"
              f" external_id, leads, spend, currency) VALUES ('{org}', '{ids[1]}', 'email', '2025-02-02', 'late',"
              " 'late-1', 400, 1000, 'EUR')")
        moves("a measurement deleted", f"DELETE FROM measurements WHERE org_id = '{org}' AND source = 'late'")
        moves("a campaign's dates", f"UPDATE campaigns SET end_date = end_date + 28 WHERE id = '{ids[2]}'")
        moves("a campaign's channel budgets", f"UPDATE campaigns SET channel_budgets = channel_budgets ||"
              f" '[{{\"channel\":\"social\",\"amount\":\"50.00\"}}]' WHERE id = '{ids[3]}'")
        moves("a campaign's currency", f"UPDATE campaigns SET budget_currency = 'USD' WHERE id = '{ids[4]}'")
        moves("a campaign no longer completed", f"UPDATE campaigns SET status = 'cancelled' WHERE id = '{ids[5]}'")
        moves("a segment added to a campaign", f"INSERT INTO campaign_segments (org_id, campaign_id, segment_id,"
              f" position) VALUES ('{org}', '{ids[7]}', '{seg(6)}', 2)")
        moves("a segment placed inside another of its campaign's", f"UPDATE segments SET parent_id = '{seg(6)}'"
              f" WHERE id = (SELECT segment_id FROM campaign_segments WHERE campaign_id = '{ids[7]}'"
              f" AND segment_id <> '{seg(6)}')")
        moves("a segment's size", f"UPDATE segments SET estimated_size = estimated_size * 2 WHERE id = '{seg(6)}'")
        moves("a segment taken from a campaign", f"DELETE FROM campaign_segments WHERE campaign_id = '{ids[7]}'"
              " AND position = 2")
        moves("a campaign's measurements deleted", f"DELETE FROM measurements WHERE campaign_id = '{ids[0]}'")
        moves("a completed campaign deleted", f"DELETE FROM campaigns WHERE id = '{ids[0]}'")
        # a campaign that is not completed, and its segments, leave the version (and the kept fits) alone
        before = version()
        st, _, d = self.srv.request("POST", "/v1/campaigns", campaign(name="Next " + uuid.uuid4().hex[:6],
                                                                     segment_ids=[seg(6)]), admin)
        self.assertEqual(st, 201, d)
        self.assertEqual(version(), before)

    def test_allocation_moves_budget_to_the_better_return(self):
        body = {"kpi": "leads", "budget": "3400.00", "currency": "EUR", "start_date": "2027-03-01",
                "end_date": "2027-03-28",
                "channels": [{"channel": "email", "current": "300.00"},
                             {"channel": "search", "current": "3100.00", "max": "3000.00"}]}
        st, _, a = self.post("/v1/budget/allocate", body, "analyst")
        self.assertEqual(st, 200, a)
        split = {s["channel"]: s for s in a["split"]}
        cents = sum(round(float(s["amount"]) * 100) for s in a["split"])
        self.assertEqual((cents, a["spent"], a["budget"]), (340000, "3400.00", "3400.00"))
        self.assertLessEqual(float(split["search"]["amount"]), 3000)
        self.assertGreaterEqual(a["uplift"], 0)
        self.assert_interval(a["expected"])
        self.assert_interval(a["current"])
        # at the optimum the marginal returns of channels strictly inside their bounds are about equal
        m = [s["marginal_return"] for s in a["split"] if 0 < float(s["amount"]) < 3000]
        if len(m) == 2:
            self.assertAlmostEqual(m[0] / m[1], 1, delta=0.05)
        # the true curves agree it is better than the current split
        got = sum(hill(c, float(s["amount"])) for c, s in split.items())
        self.assertGreater(got, hill("email", 300) + hill("search", 3100))
        # with a target CPA: cost per lead within it, spending at most the budget
        body.update(target_cpa="6.00")
        st, _, a = self.post("/v1/budget/allocate", body)
        self.assertEqual(st, 200, a)
        self.assertLess(0, float(a["spent"]))
        self.assertLessEqual(float(a["spent"]), 3400)
        self.assertLessEqual(float(a["spent"]) / a["expected"]["p50"], 6.0 + 0.01)

    def test_infeasible_bounds_say_which(self):
        base = {"kpi": "leads", "budget": "1000.00", "currency": "EUR", "start_date": "2027-03-01",
                "end_date": "2027-03-28"}
        cases = [
            ([{"channel": "email", "min": "800.00"}, {"channel": "search", "min": "800.00"}], "min_sum", None),
            ([{"channel": "email", "max": "100.00"}, {"channel": "search", "max": "100.00"}], "max_sum", None),
            ([{"channel": "email", "min": "500.00", "max": "400.00"}, {"channel": "search"}], "channel", "email"),
        ]
        for channels, bound, channel in cases:
            st, _, p = self.post("/v1/budget/allocate", dict(base, channels=channels))
            self.assertEqual((st, p["code"], p["bound"], p["channel"]), (422, "allocation_infeasible", bound, channel))
        st, _, p = self.post("/v1/budget/allocate", dict(base, channels=[{"channel": "email"}], target_cpa="0.01"))
        self.assertEqual((st, p["code"], p["bound"]), (422, "allocation_infeasible", "cpa"))
        st, _, p = self.post("/v1/budget/allocate", dict(base, channels=[{"channel": "email"}], target_cpa="0"))
        self.assertEqual((st, p["errors"][0]["field"]), (422, "target_cpa"))
        st, _, p = self.post("/v1/budget/allocate", dict(base, kpi="clicks", channels=[{"channel": "email"}]))
        self.assertEqual((st, p["errors"][0]["field"]), (422, "kpi"))

    def test_backtest_beside_the_baseline(self):
        for method in ("rolling_origin", "leave_one_out"):
            st, _, b = self.post("/v1/forecasts/backtest", {"currency": "EUR", "method": method})
            self.assertEqual(st, 200, b)
            self.assertEqual((b["method"], b["campaigns"]), (method, 16))
            self.assertEqual(b["folds"], 16 if method == "leave_one_out" else 12)
            kpis = {k["kpi"]: k for k in b["kpis"]}
            self.assertEqual(set(kpis), {"leads", "revenue"})
            self.assertEqual({c["channel"] for c in kpis["leads"]["channels"]}, {"email", "search"})
            self.assertEqual(kpis["revenue"]["channels"], [])
            for c in kpis["leads"]["channels"]:
                self.assertLess(c["model"]["wmape"], c["baseline"]["wmape"], (method, c))
                self.assertTrue(0 <= c["model"]["coverage"] <= 1)
        st, _, p = self.post("/v1/forecasts/backtest", {"currency": "EUR", "min_train": 1})
        self.assertEqual((st, p["errors"][0]["field"]), (422, "min_train"))

    def test_roles_on_every_route(self):
        routes = [("/v1/forecasts", self.plan()), ("/v1/forecasts/backtest", {"currency": "EUR"}),
                  ("/v1/budget/allocate", {"kpi": "revenue", "budget": "2000.00", "currency": "EUR",
                                           "start_date": "2027-03-01", "end_date": "2027-03-28",
                                           "channels": [{"channel": "email"}, {"channel": "search"}]})]
        for path, body in routes:
            for role in ROLES:
                st, _, b = self.post(path, body, role)
                self.assertEqual(st, 200 if role in ALLOWED else 403, (path, role, b))
            st, _, _ = self.srv.request("POST", path, body)
            self.assertEqual(st, 401)
            st, _, _ = self.srv.request("GET", path, token=self.tok["admin"])
            self.assertEqual(st, 405)

    def test_forecasts_change_nothing(self):
        before = sql(f"SELECT (SELECT count(*) FROM audit_log WHERE org_id = '{self.org}'),"
                     f" (SELECT count(*) FROM outbox_events WHERE org_id = '{self.org}')")
        self.post("/v1/forecasts", self.plan())
        self.post("/v1/forecasts/backtest", {"currency": "EUR"})
        self.post("/v1/budget/allocate", {"kpi": "leads", "budget": "100.00", "currency": "EUR",
                                          "start_date": "2027-03-01", "end_date": "2027-03-28",
                                          "channels": [{"channel": "email"}]})
        after = sql(f"SELECT (SELECT count(*) FROM audit_log WHERE org_id = '{self.org}'),"
                    f" (SELECT count(*) FROM outbox_events WHERE org_id = '{self.org}')")
        self.assertEqual(before, after)


if __name__ == "__main__":
    main()
