#!/usr/bin/env python3
"""API tests of the dashboards: the seeds' channel table (budget allocated,
spent, leads, CPL) and campaign table (KPI, target, result, analysis)
reproduced from their own numbers through the API; targets paced by the
elapsed days; derived KPIs from summed counters with null for a zero
denominator; money never added across currencies; the day rollup following
corrections and deletes; the portfolio's periods and changes; roles. Usage:
test_dashboards.py BINARY"""
import os
import subprocess
import unittest
import uuid

from harness import Server, campaign, main


def sql(query):
    return subprocess.run(["psql", "-qAt", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c", query],
                          capture_output=True, text=True, check=True).stdout.strip()


def eur(amount, currency="EUR"):
    return {"amount": amount, "currency": currency}


class DashboardsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "dash-" + uuid.uuid4().hex[:10]
        self.tok = {r: self.srv.token(r + "-sub", self.org, r) for r in
                    ("admin", "manager", "planner", "approver", "analyst", "integration", "viewer")}

    def get(self, path, role="viewer"):
        return self.srv.request("GET", path, token=self.tok[role])

    def campaign(self, **over):
        st, _, b = self.srv.request("POST", "/v1/campaigns", campaign(name="D " + uuid.uuid4().hex[:8], **over),
                                    self.tok["manager"])
        self.assertEqual(st, 201, b)
        return b["id"]

    def push(self, rows, role="integration"):
        for r in rows:
            r.setdefault("source", "crm")
            r.setdefault("external_id", uuid.uuid4().hex)
        st, _, b = self.srv.request("POST", "/v1/measurements/batch", {"rows": rows}, self.tok[role])
        self.assertEqual((st, b["summary"]["failed"]), (200, 0), b)
        return b

    def days(self, camp, channel, first_day, n, **totals):
        """n daily rows from 2026-03-<first_day> whose counters sum to totals (money in cents)."""
        rows = []
        for i in range(n):
            row = {"campaign_id": camp, "channel": channel, "date": f"2026-03-{first_day + i:02d}"}
            for k, total in totals.items():
                share = total // n + (1 if i < total % n else 0)
                row[k] = f"{share // 100}.{share % 100:02d}" if k in ("spend", "revenue") else share
            rows.append(row)
        return rows

    def test_seeds_channel_table(self):
        # Google Ads 50,000 € allocated, 48,000 € spent, 500 leads, CPL 96 €; Influence 60,000 € / 55,000 € /
        # 250 leads / 220 €. Each channel's numbers come as 30 daily rows, summed by the service.
        ads = self.campaign(budget=eur("50000"), channels=["google_ads"],
                            channel_budgets=[{"channel": "google_ads", "amount": "50000"}])
        infl = self.campaign(budget=eur("60000"), channels=["influence"],
                             channel_budgets=[{"channel": "influence", "amount": "60000"}])
        self.push(self.days(ads, "google_ads", 1, 30, spend=4800000, leads=500, conversions=40, revenue=9600000))
        self.push(self.days(infl, "influence", 1, 30, spend=5500000, leads=250, conversions=0))
        st, _, b = self.get("/v1/dashboards/channels?from=2026-03-01&to=2026-03-31")
        self.assertEqual(st, 200, b)
        table = {r["channel"]: (r["budget_allocated"], r["spent"], r["leads"], r["cpl"]) for r in b["items"]}
        self.assertEqual(table, {"google_ads": (eur("50000.00"), eur("48000.00"), 500, eur("96.00")),
                                 "influence": (eur("60000.00"), eur("55000.00"), 250, eur("220.00"))})
        g = next(r for r in b["items"] if r["channel"] == "google_ads")
        self.assertEqual((g["cpa"], g["roi"], g["roas"]), (eur("1200.00"), 1.0, 2.0))
        i = next(r for r in b["items"] if r["channel"] == "influence")
        # No revenue reported: ROI has no numerator (null); no conversions: CPA has a zero denominator (null).
        self.assertEqual((i["conversions"], i["cpa"], i["roi"], i["revenue"]), (0, None, None, None))
        # The window cuts the measurements by day; allocations follow the campaigns overlapping it.
        st, _, b = self.get("/v1/dashboards/channels?from=2026-03-01&to=2026-03-15")
        g = next(r for r in b["items"] if r["channel"] == "google_ads")
        # 500 leads over 30 days: 17 a day on the first 20, 16 after; the first 15 days hold 255.
        self.assertEqual((g["budget_allocated"], g["spent"], g["leads"]), (eur("50000.00"), eur("24000.00"), 255))
        st, _, b = self.get("/v1/dashboards/channels?from=2027-01-01&to=2027-01-31")
        self.assertEqual((st, b["items"]), (200, []))

    def test_seeds_campaign_table(self):
        # CTR 2 % → 2.5 % "performing"; CPA 50 € → 55 € "above target: review bids and targeting".
        camp = self.campaign(budget=eur("20000"), start_date="2026-03-01", end_date="2026-03-30",
                             channels=["google_ads"])
        st, _, b = self.srv.request("PUT", f"/v1/campaigns/{camp}/targets",
                                    {"targets": [{"kpi": "ctr", "target": 0.02}, {"kpi": "cpa", "target": "50"}]},
                                    self.tok["manager"])
        self.assertEqual(st, 200, b)
        self.push(self.days(camp, "google_ads", 1, 15, impressions=400000, clicks=10000, conversions=100,
                            spend=550000))
        st, _, b = self.get(f"/v1/dashboards/campaigns/{camp}?to=2026-03-15")
        self.assertEqual(st, 200, b)
        self.assertEqual((b["as_of"], b["elapsed"], b["currency"]), ("2026-03-15", 0.5, "EUR"))
        ctr, cpa = b["targets"]
        self.assertEqual((ctr["kpi"], ctr["target"], ctr["actual"], ctr["status"]), ("ctr", 0.02, 0.025, "on_track"))
        self.assertTrue(ctr["analysis"].startswith("performing"), ctr)
        self.assertEqual((cpa["kpi"], cpa["target"], cpa["actual"], cpa["status"]),
                         ("cpa", eur("50.00"), eur("55.00"), "at_risk"))
        self.assertTrue(cpa["analysis"].startswith("above target"), cpa)
        self.assertIn("review bids and targeting", cpa["analysis"])
        # The budget: 5,500 spent in half the days runs to 11,000 at the end date.
        self.assertEqual(b["budget"], {"budget": eur("20000.00"), "committed": eur("0.00"), "spent": eur("5500.00"),
                                       "remaining": eur("14500.00"), "projected_spend": eur("11000.00")})
        # After the end date the same figures are final: met and missed.
        st, _, b = self.get(f"/v1/dashboards/campaigns/{camp}?to=2026-04-02")
        self.assertEqual([t["status"] for t in b["targets"]], ["met", "missed"])
        self.assertEqual(b["budget"]["projected_spend"], eur("5500.00"))

    def test_counter_targets_are_paced(self):
        camp = self.campaign(start_date="2026-03-01", end_date="2026-03-10", channels=["email", "social"])
        self.srv.request("PUT", f"/v1/campaigns/{camp}/targets",
                         {"targets": [{"kpi": "leads", "target": 1000},
                                      {"kpi": "leads", "channel": "social", "target": 100},
                                      {"kpi": "unsubscribes", "target": 50, "direction": "lower"}]},
                         self.tok["manager"])
        self.push(self.days(camp, "email", 1, 5, leads=400, unsubscribes=20) +
                  self.days(camp, "social", 1, 5, leads=60))

        def status(to):
            st, _, b = self.get(f"/v1/dashboards/campaigns/{camp}?to={to}")
            self.assertEqual(st, 200, b)
            return [(t["actual"], t["expected"], t["status"]) for t in b["targets"]]

        # Day 5 of 10: half of each target is due. 460 leads against 500 is behind; the social channel's 60
        # against 50 is ahead; 20 unsubscribes against 25 allowed so far is on track.
        self.assertEqual(status("2026-03-05"), [(460, 500, "at_risk"), (60, 50, "on_track"), (20, 25, "on_track")])
        # Before the start nothing is due.
        self.assertEqual([s for _, _, s in status("2026-02-20")], ["on_track"] * 3)
        # The day after the end: short of the target is missed, within a "lower" limit is met.
        self.assertEqual([s for _, _, s in status("2026-03-11")], ["missed", "missed", "met"])
        # More rows: the social target is reached (met before the end), unsubscribes exceed the limit (missed).
        self.push(self.days(camp, "social", 6, 2, leads=50) + self.days(camp, "email", 6, 1, unsubscribes=40))
        self.assertEqual([s for _, _, s in status("2026-03-07")], ["at_risk", "met", "missed"])

    def test_zero_denominators_and_no_data(self):
        camp = self.campaign(start_date="2026-03-01", end_date="2026-03-31",
                             channel_budgets=[{"channel": "email", "amount": "1000"}])
        self.srv.request("PUT", f"/v1/campaigns/{camp}/targets",
                         {"targets": [{"kpi": "cpl", "target": "10"}, {"kpi": "open_rate", "target": 0.3}]},
                         self.tok["manager"])
        st, _, b = self.get(f"/v1/dashboards/campaigns/{camp}?to=2026-03-10")
        self.assertEqual(st, 200, b)
        self.assertEqual([(t["actual"], t["status"]) for t in b["targets"]], [(None, "at_risk"), (None, "at_risk")])
        self.assertEqual(b["channels"][0]["channel"], "email")
        self.assertEqual((b["channels"][0]["budget_allocated"], b["channels"][0]["spent"]), (eur("1000.00"), None))
        # Spend without leads, sends of 0: CPL and the open rate have zero denominators, never 0 or infinity.
        self.push([{"campaign_id": camp, "channel": "email", "date": "2026-03-02", "spend": "120", "leads": 0,
                    "sends": 0, "opens": 0}])
        st, _, b = self.get(f"/v1/dashboards/campaigns/{camp}?to=2026-03-10")
        self.assertEqual([t["actual"] for t in b["targets"]], [None, None])
        self.assertEqual((b["totals"]["cpl"], b["totals"]["spent"], b["totals"]["ctr"]), (None, eur("120.00"), None))

    def test_money_is_never_added_across_currencies(self):
        a = self.campaign(budget=eur("1000"), channels=["email"])
        b_ = self.campaign(budget=eur("1000", "USD"), channels=["email"])
        self.push([{"campaign_id": a, "channel": "email", "date": "2026-03-02", "spend": "100", "leads": 10},
                   {"campaign_id": b_, "channel": "email", "date": "2026-03-02", "spend": "300", "leads": 10}])
        st, _, b = self.get("/v1/dashboards/channels")
        self.assertEqual(st, 200, b)
        self.assertEqual([(r["channel"], r["currency"], r["spent"], r["cpl"]) for r in b["items"]],
                         [("email", "EUR", eur("100.00"), eur("10.00")),
                          ("email", "USD", eur("300.00", "USD"), eur("30.00", "USD"))])
        st, _, b = self.get("/v1/dashboards/channels?currency=USD")
        self.assertEqual([r["currency"] for r in b["items"]], ["USD"])
        st, _, b = self.get("/v1/dashboards/portfolio?from=2026-03-01&to=2026-03-31")
        self.assertEqual((st, b["code"], b["currencies"]), (409, "mixed_currencies", ["EUR", "USD"]), b)
        st, _, b = self.get("/v1/dashboards/portfolio?from=2026-03-01&to=2026-03-31&currency=USD")
        self.assertEqual((st, b["totals"]["spent"], b["totals"]["leads"]), (200, eur("300.00", "USD"), 10), b)

    def test_rollup_follows_corrections_and_deletes(self):
        camp = self.campaign(budget=eur("5000"), channels=["email"])
        rows = [{"campaign_id": camp, "channel": "email", "date": "2026-03-02", "external_id": "r1", "leads": 5,
                 "spend": "50"},
                {"campaign_id": camp, "channel": "email", "date": "2026-03-03", "external_id": "r2", "leads": 7}]
        self.push([dict(r) for r in rows])
        self.push([dict(r) for r in rows])  # a replay changes nothing
        rows[0].update(leads=9, channel="social")  # the CRM corrects yesterday's row, channel included
        self.push([dict(rows[0])])
        st, _, b = self.get("/v1/dashboards/channels")
        self.assertEqual([(r["channel"], r["leads"], r["spent"]) for r in b["items"]],
                         [("email", 7, None), ("social", 9, eur("50.00"))])
        st, _, lst = self.get(f"/v1/measurements?campaign_id={camp}&channel=social")
        st, _, _ = self.srv.request("DELETE", f"/v1/measurements/{lst['items'][0]['id']}", token=self.tok["manager"])
        self.assertEqual(st, 204)
        st, _, b = self.get("/v1/dashboards/channels")
        self.assertEqual([(r["channel"], r["leads"]) for r in b["items"]], [("email", 7)])
        # The rollup equals the measurements it sums.
        self.assertEqual(sql(f"SELECT sum(leads) FROM measurement_days WHERE org_id = '{self.org}'"),
                         sql(f"SELECT sum(leads) FROM measurements WHERE org_id = '{self.org}'"))

    def test_portfolio_periods_and_change(self):
        camp = self.campaign(budget=eur("9000"), start_date="2026-02-01", end_date="2026-03-31")
        self.push([{"campaign_id": camp, "date": "2026-01-20", "impressions": 1000, "clicks": 10, "spend": "10"},
                   {"campaign_id": camp, "date": "2026-02-10", "impressions": 2000, "clicks": 40, "leads": 4,
                    "spend": "40"},
                   {"campaign_id": camp, "date": "2026-03-05", "impressions": 3000, "clicks": 30, "leads": 6,
                    "conversions": 3, "spend": "60", "revenue": "120"}])
        st, _, b = self.get("/v1/dashboards/portfolio?from=2026-02-15&to=2026-03-20&granularity=month")
        self.assertEqual(st, 200, b)
        self.assertEqual([(p["start"], p["end"], p["impressions"], p["ctr"]) for p in b["periods"]],
                         [("2026-02-01", "2026-02-28", 2000, 0.02), ("2026-03-01", "2026-03-31", 3000, 0.01)])
        feb, mar = b["periods"]
        self.assertEqual((feb["change"]["impressions"], feb["change"]["leads"]), (1.0, None))  # January had none
        self.assertEqual((mar["change"]["impressions"], mar["change"]["clicks"], mar["change"]["spent"]),
                         (0.5, -0.25, 0.5))
        self.assertEqual((b["totals"]["impressions"], b["totals"]["spent"], b["totals"]["roi"], b["currency"]),
                         (5000, eur("100.00"), 0.2, "EUR"))
        st, _, b = self.get("/v1/dashboards/portfolio?from=2026-03-04&to=2026-03-09&granularity=week")
        self.assertEqual([(p["start"], p["end"]) for p in b["periods"]],
                         [("2026-03-02", "2026-03-08"), ("2026-03-09", "2026-03-15")])  # ISO weeks, Monday first
        self.assertEqual([p["clicks"] for p in b["periods"]], [30, None])
        st, _, b = self.get("/v1/dashboards/portfolio?from=2026-03-04&to=2026-03-05&granularity=day")
        self.assertEqual([p["start"] for p in b["periods"]], ["2026-03-04", "2026-03-05"])

    def test_capacity_per_person_and_skill(self):
        def person(name, skills):
            st, _, b = self.srv.request("POST", "/v1/resources", {"kind": "person", "name": name, "capacity": 40,
                                                                  "capacity_unit": "hours_per_week",
                                                                  "skills": skills}, self.tok["manager"])
            self.assertEqual(st, 201, b)
            return b["id"]
        ann, bo = person("Ann " + self.org, ["seo", "copy"]), person("Bo " + self.org, ["seo"])
        camp = self.campaign(start_date="2026-03-02", end_date="2026-03-20")
        for who, start, end, hours in [(ann, "2026-03-02T09:00:00Z", "2026-03-04T17:00:00Z", 30),
                                       (bo, "2026-03-03T09:00:00Z", "2026-03-03T17:00:00Z", 8),
                                       (ann, "2026-03-09T09:00:00Z", "2026-03-09T17:00:00Z", 24)]:
            st, _, b = self.srv.request("POST", "/v1/bookings", {"campaign_id": camp, "resource_id": who,
                                                                 "start": start, "end": end, "quantity": hours},
                                        self.tok["manager"])
            self.assertEqual(st, 201, b)
        # Ann takes Wednesday to Friday off in the second week: 3 weekdays, 24 of her 40 hours.
        st, _, b = self.srv.request("POST", f"/v1/resources/{ann}/availability",
                                    {"kind": "leave", "start": "2026-03-11T00:00:00Z", "end": "2026-03-14T00:00:00Z"},
                                    self.tok["manager"])
        self.assertEqual(st, 201, b)
        st, _, b = self.get("/v1/dashboards/capacity?from=2026-03-04&to=2026-03-12")
        self.assertEqual(st, 200, b)
        self.assertEqual([w["week"] for w in b["weeks"]], ["2026-W10", "2026-W11"])
        weeks = {p["name"].split()[0]: [(w["available"], w["booked"], w["utilisation"], w["over_allocated"])
                                        for w in p["weeks"]] for p in b["people"]}
        self.assertEqual(weeks, {"Ann": [(40, 30, 0.75, False), (16, 24, 1.5, True)],
                                 "Bo": [(40, 8, 0.2, False), (40, 0, 0, False)]})
        ann_w11 = b["people"][0]["weeks"][1]
        self.assertEqual((ann_w11["leave"], ann_w11["over_hours"]), (24, 8))
        skills = {s["skill"]: [(w["people"], w["available"], w["booked"], w["shortfall"]) for w in s["weeks"]]
                  for s in b["skills"]}
        self.assertEqual(skills, {"copy": [(1, 40, 30, 0), (1, 16, 24, 8)], "seo": [(2, 80, 38, 0), (2, 56, 24, 0)]})

    def test_corrections_after_an_unchanged_batch_stay_fast(self):
        """An upsert whose rows are all unchanged fires the UPDATE audit trigger with no rows; a batch of
        corrections later in the same session must not inherit a plan made for none (it took 30 s for 10,000
        rows, past the statement timeout). One session, as a pooled connection lives."""
        camp = self.campaign(budget=eur("1000"))
        script = f"""
        SET statement_timeout = '4s';
        INSERT INTO measurements (org_id, campaign_id, date, source, external_id, leads)
        SELECT '{self.org}', '{camp}', DATE '2026-03-01' + g % 20, 'plan', 'p' || g, 1
        FROM generate_series(1, 5000) g;
        UPDATE measurements SET leads = leads WHERE false;
        UPDATE measurements SET leads = 2 WHERE org_id = '{self.org}' AND source = 'plan';
        SELECT count(*) FROM audit_log WHERE org_id = '{self.org}' AND entity = 'measurement' AND action = 'update';
        """
        out = subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", os.environ["CAMPAIGND_TEST_DATABASE_URL"]],
                             input=script, capture_output=True, text=True)
        self.assertEqual((out.returncode, out.stdout.strip()), (0, "5000"), out.stderr)

    def test_bad_parameters(self):
        camp = self.campaign()
        for path, param in [("/v1/dashboards/channels?from=2026-02-30", "from"),
                            ("/v1/dashboards/channels?from=2026-03-02&to=2026-03-01", "to"),
                            ("/v1/dashboards/channels?currency=eur", "currency"),
                            ("/v1/dashboards/channels?colour=red", "colour"),
                            (f"/v1/dashboards/campaigns/{camp}?to=yesterday", "to"),
                            ("/v1/dashboards/campaigns/not-a-uuid", "id"),
                            ("/v1/dashboards/portfolio?from=2026-03-01", "to"),
                            ("/v1/dashboards/portfolio?from=2026-03-01&to=2026-03-02&granularity=year", "granularity"),
                            ("/v1/dashboards/portfolio?from=2020-01-01&to=2026-03-02&granularity=day", "to"),
                            ("/v1/dashboards/capacity?from=2026-03-01", "to"),
                            ("/v1/dashboards/capacity?from=2026-03-01&to=2028-03-02", "to"),
                            ("/v1/dashboards/capacity?from=2026-03-01&to=2026-03-02&currency=EUR", "currency")]:
            st, _, b = self.get(path)
            self.assertEqual((st, b["code"]), (400, "invalid_parameter"), (path, b))
        st, _, b = self.get(f"/v1/dashboards/campaigns/{uuid.uuid4()}")
        self.assertEqual((st, b["code"]), (404, "not_found"))
        # Another organisation's campaign is not found either.
        other = self.srv.token("x", "other-" + uuid.uuid4().hex[:8], "manager")
        st, _, b = self.srv.request("GET", f"/v1/dashboards/campaigns/{camp}", token=other)
        self.assertEqual(st, 404)

    def test_roles(self):
        camp = self.campaign()
        paths = [f"/v1/dashboards/campaigns/{camp}", "/v1/dashboards/channels",
                 "/v1/dashboards/portfolio?from=2026-03-01&to=2026-03-31",
                 "/v1/dashboards/capacity?from=2026-03-01&to=2026-03-31"]
        for role in self.tok:
            for path in paths:
                st, _, b = self.get(path, role)
                self.assertEqual(st, 403 if role == "integration" else 200, (role, path, b))
        for path in paths:
            st, _, _ = self.srv.request("GET", path)
            self.assertEqual(st, 401)
            st, _, _ = self.srv.request("POST", path.split("?")[0], {}, self.tok["admin"])
            self.assertEqual(st, 405)


if __name__ == "__main__":
    main()
