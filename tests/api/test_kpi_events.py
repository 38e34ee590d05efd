#!/usr/bin/env python3
"""API tests of the KPI alerts: after a batch of measurements, kpi.target_missed when a target becomes at_risk or
missed by the campaign dashboard's own rule, and budget.threshold_crossed when committed + spent crosses the
settings' warn or block percentage; each once per crossing (a replay, a correction that keeps the state, a
second batch racing the first: no second event), again after a recovery; delivered to a real receiver and
verified as Standard Webhooks, the payloads valid against the contract's `webhooks`; a big batch costs the same
round trips as a small one. Usage: test_kpi_events.py BINARY"""
import datetime
import json
import os
import re
import subprocess
import threading
import time
import unittest
import urllib.request
import uuid

import jsonschema

from harness import SPEC, Server, campaign, main
from test_webhooks import DELIVER, Receiver, verify

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")
TODAY = datetime.datetime.now(datetime.timezone.utc).date()


def day(offset):
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def psql(sql):
    cmd = ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def data_schema(event_type):
    """The contract's schema of a delivery of event_type (under `webhooks:`)."""
    body = SPEC["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return body


def validate(event_type, body):
    resolver = jsonschema.RefResolver.from_schema(SPEC)
    jsonschema.Draft202012Validator(data_schema(event_type), resolver=resolver).validate(body)


class KpiEventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(dict(DELIVER, CAMPAIGND_DB_POOL_SIZE="6", CAMPAIGND_THREADS="6"))
        cls.rx = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        psql("UPDATE webhook_subscriptions SET active = false WHERE org_id LIKE 'ke-%'")
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "ke-" + uuid.uuid4().hex[:10]
        self.admin = self.srv.token("ada", self.org, "admin")
        self.crm = self.srv.token("crm", self.org, "integration")

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or self.admin, **kw)

    def campaign(self, **over):
        st, _, b = self.req("POST", "/v1/campaigns", campaign(**over))
        self.assertEqual(st, 201, b)
        return b

    def targets(self, camp, targets):
        st, _, b = self.req("PUT", f"/v1/campaigns/{camp['id']}/targets", {"targets": targets},
                            headers={"If-Match": '"0"'})
        self.assertEqual(st, 200, b)

    def push(self, rows, token=None):
        st, _, b = self.req("POST", "/v1/measurements/batch", {"rows": rows}, token or self.crm)
        self.assertEqual(st, 200, b)
        return b["summary"]

    def events(self, event_type):
        out = psql(f"SELECT coalesce(json_agg(payload ORDER BY id), '[]') FROM outbox_events"
                   f" WHERE org_id = '{self.org}' AND type = '{event_type}'")
        return json.loads(out)

    def row(self, camp, ext, **counters):
        r = {"campaign_id": camp["id"], "channel": "email", "date": day(-1), "source": "crm", "external_id": ext}
        r.update(counters)
        return r

    def test_target_at_risk_once_per_crossing(self):
        # 20 days, today the 10th: half the leads are due by now (500 of 1,000)
        camp = self.campaign(start_date=day(-9), end_date=day(10))
        self.targets(camp, [{"kpi": "leads", "target": 1000}, {"kpi": "cpa", "target": "50"}])
        self.assertEqual(self.push([self.row(camp, "a", leads=100, conversions=10, spend="400.00")])["created"], 1)
        got = self.events("kpi.target_missed")
        self.assertEqual([(e["kpi"], e["status"], e["previous_status"]) for e in got], [("leads", "at_risk", None)])
        e = got[0]
        self.assertEqual((e["campaign_id"], e["target"], e["actual"], e["expected"], e["as_of"]),
                         (camp["id"], 1000, 100, 500, day(0)))
        self.assertEqual(e["analysis"], "behind pace: 100 so far, 500 expected by now: widen the reach or the budget")
        # the dashboard says the same
        st, _, dash = self.req("GET", f"/v1/dashboards/campaigns/{camp['id']}")
        self.assertEqual([(t["kpi"], t["status"]) for t in dash["targets"]], [("leads", "at_risk"), ("cpa", "on_track")])
        # the same batch again, and a correction that leaves it at risk: no second event
        self.assertEqual(self.push([self.row(camp, "a", leads=100, conversions=10, spend="400.00")])["unchanged"], 1)
        self.assertEqual(self.push([self.row(camp, "a", leads=120, conversions=10, spend="400.00")])["updated"], 1)
        # a CPA above target (600.00 / 10 = 60.00 against 50.00) is at risk from the first day: one event
        self.push([self.row(camp, "b", spend="200.00")])
        got = self.events("kpi.target_missed")
        self.assertEqual([(e["kpi"], e["status"]) for e in got], [("leads", "at_risk"), ("cpa", "at_risk")])
        self.assertEqual((got[1]["target"], got[1]["actual"]), ({"amount": "50.00", "currency": "EUR"},
                                                                {"amount": "60.00", "currency": "EUR"}))
        # back on track (620 leads ≥ 500), no event; then short again: announced again
        self.push([self.row(camp, "a", leads=620, conversions=20, spend="400.00")])
        self.assertEqual(len(self.events("kpi.target_missed")), 2)
        self.push([self.row(camp, "a", leads=110, conversions=20, spend="400.00")])
        got = self.events("kpi.target_missed")
        self.assertEqual([(e["kpi"], e["status"]) for e in got[2:]], [("leads", "at_risk")])
        for e in got:
            validate("kpi.target_missed", {"type": "kpi.target_missed", "timestamp": "2026-01-01T00:00:00Z",
                                           "data": e})

    def test_a_missed_target_after_the_end_and_channel_targets(self):
        camp = self.campaign(start_date=day(-30), end_date=day(-2))
        self.targets(camp, [{"kpi": "leads", "channel": "email", "target": 50},
                            {"kpi": "leads", "channel": "social", "target": 5}])
        self.push([self.row(camp, "e", leads=40), self.row(camp, "s", channel="social", leads=9)])
        got = self.events("kpi.target_missed")
        self.assertEqual([(e["channel"], e["status"], e["actual"]) for e in got], [("email", "missed", 40)])
        self.assertTrue(got[0]["analysis"].startswith("missed: 40 against a target of 50"), got[0])
        # a correction that still misses: nothing more
        self.push([self.row(camp, "e", leads=45)])
        self.assertEqual(len(self.events("kpi.target_missed")), 1)

    def test_budget_thresholds_once_each(self):
        # budget 1,000.00; a booking of 300.00 is committed; warn from 80 %, block above 100 % (the settings)
        camp = self.campaign(start_date=day(-5), end_date=day(20), budget={"amount": "1000.00", "currency": "EUR"})
        st, _, slot = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Banner " + uuid.uuid4().hex[:6],
                                                         "cost_per_unit": {"amount": "300.00", "currency": "EUR"}})
        self.assertEqual(st, 201, slot)
        st, _, bk = self.req("POST", "/v1/bookings", {"campaign_id": camp["id"], "resource_id": slot["id"],
                                                      "start": day(1) + "T09:00:00Z", "end": day(2) + "T09:00:00Z"})
        self.assertEqual(st, 201, bk)
        self.push([self.row(camp, "d1", spend="400.00")])  # 700.00: 70 %
        self.assertEqual(self.events("budget.threshold_crossed"), [])
        self.push([self.row(camp, "d2", spend="100.00")])  # 800.00: 80 % exactly
        got = self.events("budget.threshold_crossed")
        self.assertEqual(len(got), 1)
        self.assertEqual({k: got[0][k] for k in ("level", "previous_level", "threshold_percent", "percent")},
                         {"level": "warn", "previous_level": None, "threshold_percent": 80, "percent": 80.0})
        self.assertEqual((got[0]["budget"], got[0]["committed"], got[0]["spent"]),
                         ({"amount": "1000.00", "currency": "EUR"}, {"amount": "300.00", "currency": "EUR"},
                          {"amount": "500.00", "currency": "EUR"}))
        self.push([self.row(camp, "d3", spend="150.00")])  # 95 %: still warn, nothing new
        self.assertEqual(len(self.events("budget.threshold_crossed")), 1)
        self.push([self.row(camp, "d4", spend="50.01")])  # 1,000.01: above 100 %
        got = self.events("budget.threshold_crossed")
        self.assertEqual([(e["level"], e["previous_level"], e["threshold_percent"]) for e in got],
                         [("warn", None, 80), ("block", "warn", 100)])
        # the organisation's own percentages: a correction back under 80 % (of a higher warn) clears it silently,
        # and a later rise is announced again
        self.assertEqual(self.req("PATCH", "/v1/settings", {"budget_warn_percent": 90})[0], 200)
        self.push([self.row(camp, "d4", spend="0.01"), self.row(camp, "d3", spend="0.00")])  # 800.01: 80 %
        self.assertEqual(len(self.events("budget.threshold_crossed")), 2)
        self.push([self.row(camp, "d3", spend="100.00")])  # 900.01: 90 %
        got = self.events("budget.threshold_crossed")
        self.assertEqual([(e["level"], e["threshold_percent"]) for e in got[2:]], [("warn", 90)])
        for e in got:
            validate("budget.threshold_crossed", {"type": "budget.threshold_crossed",
                                                  "timestamp": "2026-01-01T00:00:00Z", "data": e})

    def test_a_batch_racing_another_announces_once(self):
        """Another batch judged the campaign and recorded the crossing, and has not committed yet (a psql
        transaction stands in for it, holding its records for a moment): this batch judges from what it sees (no
        record), reaches the same states, waits for the other's records, and then writes no second event."""
        camp = self.campaign(start_date=day(-9), end_date=day(10), budget={"amount": "100.00", "currency": "EUR"})
        self.targets(camp, [{"kpi": "leads", "target": 1000}])
        target = psql(f"SELECT id FROM kpi_targets WHERE campaign_id = '{camp['id']}'")
        other = subprocess.Popen(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c",
                                  f"BEGIN; INSERT INTO kpi_target_alerts (target_id, org_id, campaign_id, status)"
                                  f" VALUES ('{target}', '{self.org}', '{camp['id']}', 'at_risk');"
                                  f" INSERT INTO campaign_budget_alerts (campaign_id, org_id, level)"
                                  f" VALUES ('{camp['id']}', '{self.org}', 'warn'); SELECT pg_sleep(1.5); COMMIT;"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.5)
        t0 = time.monotonic()
        self.assertEqual(self.push([self.row(camp, "r", leads=1, spend="85.00")])["created"], 1)
        self.assertGreater(time.monotonic() - t0, 0.5)  # it waited for the other's records
        self.assertEqual(other.wait(timeout=20), 0, other.stderr.read())
        self.assertEqual((self.events("kpi.target_missed"), self.events("budget.threshold_crossed")), ([], []))
        # and a worse state still gets through: the budget blocks
        self.push([self.row(camp, "r2", spend="20.00")])
        self.assertEqual([e["level"] for e in self.events("budget.threshold_crossed")], ["block"])

    def test_delivered_and_verified(self):
        path = "/" + uuid.uuid4().hex[:12]
        st, _, hook = self.req("POST", "/v1/webhooks", {"url": self.rx.url(path),
                                                        "event_types": ["kpi.target_missed",
                                                                        "budget.threshold_crossed"]})
        self.assertEqual(st, 201, hook)
        self.rx.secrets[path] = [hook["secret"]]
        camp = self.campaign(start_date=day(-9), end_date=day(10), budget={"amount": "100.00", "currency": "EUR"})
        self.targets(camp, [{"kpi": "clicks", "target": 10000}])
        self.push([self.row(camp, "w", clicks=10, spend="85.00")])
        got = self.rx.wait(path, 2)
        bodies = sorted((verify(hook["secret"], r["headers"], r["body"]) for r in got), key=lambda b: b["type"])
        self.assertEqual([b["type"] for b in bodies], ["budget.threshold_crossed", "kpi.target_missed"])
        for b in bodies:
            validate(b["type"], b)
        self.assertEqual((bodies[0]["data"]["level"], bodies[1]["data"]["kpi"]), ("warn", "clicks"))



class KpiEventsCostTest(unittest.TestCase):
    """Without delivery threads, whose polling would count in the round trips."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def round_trips(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.srv.port}/metrics") as r:
            text = r.read().decode()
        return int(re.search(r"^campaignd_db_round_trips_total (\d+)$", text, re.M).group(1))

    def test_a_big_batch_costs_the_round_trips_of_a_small_one(self):
        org = "ke-" + uuid.uuid4().hex[:10]
        admin, crm = self.srv.token("ada", org, "admin"), self.srv.token("crm", org, "integration")
        camps = []
        for i in range(40):
            st, _, c = self.srv.request("POST", "/v1/campaigns", campaign(
                name=f"C{i}", start_date=day(-9), end_date=day(10), budget={"amount": "100.00", "currency": "EUR"}),
                admin)
            self.assertEqual(st, 201, c)
            st, _, b = self.srv.request("PUT", f"/v1/campaigns/{c['id']}/targets",
                                        {"targets": [{"kpi": "leads", "target": 1000}]}, admin,
                                        headers={"If-Match": '"0"'})
            self.assertEqual(st, 200, b)
            camps.append(c)

        def push(rows):
            before = self.round_trips()
            st, _, b = self.srv.request("POST", "/v1/measurements/batch", {"rows": rows}, crm)
            self.assertEqual(st, 200, b)
            return self.round_trips() - before

        row = lambda c, ext, d: {"campaign_id": c["id"], "channel": "email", "date": day(-d), "source": "crm",
                                 "external_id": ext, "leads": 1, "spend": "1.00"}
        small = push([row(camps[0], "one", 1)])
        big = push([row(c, f"{c['id']}-{d}", d) for c in camps for d in range(1, 26)])  # 1,000 rows, 40 campaigns
        events = psql(f"SELECT count(*) FROM outbox_events WHERE org_id = '{org}' AND type = 'kpi.target_missed'")
        self.assertEqual(events, "40")  # each campaign's target at risk, announced by the batch that made it so
        self.assertEqual(big, small)


if __name__ == "__main__":
    main()
