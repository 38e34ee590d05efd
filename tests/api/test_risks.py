#!/usr/bin/env python3
"""API tests of the risk register: the resource (derived score and level,
ETags, audit and events, who may write), lists across campaigns, isolation,
and the scheduling gate with its race against a concurrent risk or schedule.
Usage: test_risks.py BINARY"""
import os
import subprocess
import threading
import time
import unittest
import uuid

from harness import Server, campaign, main

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")


def psql(sql):
    cmd = ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def risk(**over):
    body = {"title": "Checkout fails at launch", "category": "technical", "probability": 3, "impact": 4}
    body.update(over)
    return body


class RiskTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server({"CAMPAIGND_DB_POOL_SIZE": "8", "CAMPAIGND_THREADS": "8"})

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "rk-" + uuid.uuid4().hex[:10]
        tok = lambda sub, role: self.srv.token(sub, self.org, role)
        self.admin, self.manager = tok("ada", "admin"), tok("mia", "manager")
        self.planner, self.planner2 = tok("pat", "planner"), tok("pia", "planner")
        self.approver, self.viewer, self.integration = tok("abe", "approver"), tok("vic", "viewer"), tok("crm", "integration")

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or self.admin, **kw)

    def campaign(self, token=None, **over):
        st, _, b = self.req("POST", "/v1/campaigns", campaign(**over), token or self.planner)
        self.assertEqual(st, 201, b)
        return b

    def risk(self, camp, token=None, **over):
        st, h, b = self.req("POST", f"/v1/campaigns/{camp['id']}/risks", risk(**over), token or self.planner)
        self.assertEqual(st, 201, b)
        return b

    def approved_campaign(self):
        st, _, wf = self.req("POST", "/v1/workflows", {"name": "W " + uuid.uuid4().hex[:6],
                                                       "steps": [{"name": "Director", "role": "manager"}]})
        self.assertEqual(st, 201, wf)
        camp = self.campaign()
        st, _, appr = self.req("POST", f"/v1/campaigns/{camp['id']}/approval", {"workflow_id": wf["id"]},
                               self.planner)
        self.assertEqual(st, 201, appr)
        st, _, b = self.req("POST", f"/v1/approvals/{appr['id']}/decisions", {"decision": "approve"}, self.manager)
        self.assertEqual((st, b["status"]), (201, "approved"), b)
        return camp

    def schedule(self, camp, token=None):
        return self.req("POST", f"/v1/campaigns/{camp['id']}/transitions", {"to": "scheduled"}, token or self.planner)

    # -- the resource --------------------------------------------------------

    def test_create_derives_score_and_level(self):
        camp = self.campaign()
        st, h, b = self.req("POST", f"/v1/campaigns/{camp['id']}/risks",
                            risk(probability=4, impact=4, due_date="2026-02-20"), self.planner)
        self.assertEqual(st, 201, b)
        self.assertEqual(h["location"], "/v1/risks/" + b["id"])
        self.assertEqual(h["etag"], '"1"')
        self.assertEqual((b["campaign_id"], b["score"], b["level"], b["status"], b["owner"], b["created_by"]),
                         (camp["id"], 16, "critical", "open", "pat", "pat"))
        # The level follows every change of probability or impact.
        for p, i, level in ((1, 4, "low"), (3, 3, "medium"), (5, 3, "high"), (2, 5, "high"), (3, 3, "medium"), (4, 5, "critical")):
            st, h, b = self.req("PATCH", "/v1/risks/" + b["id"], {"probability": p, "impact": i}, self.planner)
            self.assertEqual((st, b["score"], b["level"]), (200, p * i, level), b)
        st, h, got = self.req("GET", "/v1/risks/" + b["id"], token=self.viewer)
        self.assertEqual((st, got, h["etag"]), (200, b, f'"{b["version"]}"'))

    def test_if_match_audit_and_events(self):
        camp = self.campaign()
        r = self.risk(camp)
        st, _, b = self.req("PATCH", "/v1/risks/" + r["id"], {"status": "accepted"}, self.planner,
                            headers={"If-Match": '"7"'})
        self.assertEqual((st, b["code"]), (412, "precondition_failed"))
        st, h, b = self.req("PATCH", "/v1/risks/" + r["id"], {"status": "accepted"}, self.planner,
                            headers={"If-Match": '"1"'})
        self.assertEqual((st, b["status"], h["etag"]), (200, "accepted", '"2"'))
        st, _, _ = self.req("DELETE", "/v1/risks/" + r["id"], token=self.planner, headers={"If-Match": '"1"'})
        self.assertEqual(st, 412)
        st, _, _ = self.req("DELETE", "/v1/risks/" + r["id"], token=self.planner, headers={"If-Match": '"2"'})
        self.assertEqual(st, 204)
        self.assertEqual(self.req("GET", "/v1/risks/" + r["id"])[0], 404)
        self.assertEqual(psql(f"SELECT string_agg(action || ':' || actor, ',' ORDER BY id) FROM audit_log "
                              f"WHERE entity = 'risk' AND entity_id = '{r['id']}'"),
                         "create:pat,status_change:pat,delete:pat")
        self.assertEqual(psql(f"SELECT string_agg(type || ':' || (payload->>'status'), ',' ORDER BY id) "
                              f"FROM outbox_events WHERE entity = 'risk' AND entity_id = '{r['id']}'"),
                         "risk.created:open,risk.updated:accepted")

    def test_who_may_write(self):
        mine, theirs = self.campaign(self.planner), self.campaign(self.planner2)
        r = self.risk(theirs, self.planner2)
        # A planner writes the risks of their own campaigns only.
        st, _, b = self.req("POST", f"/v1/campaigns/{theirs['id']}/risks", risk(), self.planner)
        self.assertEqual((st, b["code"]), (403, "forbidden"))
        self.assertEqual(self.req("PATCH", "/v1/risks/" + r["id"], {"title": "x"}, self.planner)[0], 403)
        self.assertEqual(self.req("DELETE", "/v1/risks/" + r["id"], token=self.planner)[0], 403)
        self.risk(mine, self.planner)
        # Managers and admins write any; an approver writes notes, and only notes, of any risk.
        self.assertEqual(self.req("PATCH", "/v1/risks/" + r["id"], {"impact": 5}, self.manager)[0], 200)
        st, _, b = self.req("PATCH", "/v1/risks/" + r["id"], {"notes": "Legal agrees"}, self.approver)
        self.assertEqual((st, b["notes"]), (200, "Legal agrees"), b)
        st, _, b = self.req("PATCH", "/v1/risks/" + r["id"], {"notes": "x", "status": "closed"}, self.approver)
        self.assertEqual((st, b["code"]), (403, "forbidden"))
        self.assertEqual(self.req("POST", f"/v1/campaigns/{mine['id']}/risks", risk(), self.approver)[0], 403)
        self.assertEqual(self.req("DELETE", "/v1/risks/" + r["id"], token=self.approver)[0], 403)
        self.assertEqual(self.req("PATCH", "/v1/risks/" + r["id"], {"notes": "x"}, self.viewer)[0], 403)
        self.assertEqual(self.req("GET", "/v1/risks/" + r["id"], token=self.integration)[0], 403)
        got = self.req("GET", "/v1/risks/" + r["id"])[2]
        self.assertEqual((got["impact"], got["notes"], got["status"]), (5, "Legal agrees", "open"))

    def test_lists_filters_and_sort_by_score(self):
        a, b = self.campaign(), self.campaign()
        r1 = self.risk(a, probability=1, impact=2, category="budget")
        r2 = self.risk(a, probability=5, impact=5, category="regulatory", owner="lea")
        r3 = self.risk(b, probability=3, impact=3, category="budget", status="mitigated")
        ids = lambda path: [x["id"] for x in self.req("GET", path)[2]["items"]]
        self.assertEqual(ids("/v1/risks?sort=-score"), [r2["id"], r3["id"], r1["id"]])
        self.assertEqual(ids(f"/v1/campaigns/{a['id']}/risks?sort=score"), [r1["id"], r2["id"]])
        self.assertEqual(ids(f"/v1/risks?campaign_id={b['id']}"), [r3["id"]])
        self.assertEqual(ids("/v1/risks?category=budget&sort=score"), [r1["id"], r3["id"]])
        self.assertEqual(ids("/v1/risks?status=open&status=accepted&sort=score"), [r1["id"], r2["id"]])
        self.assertEqual(ids("/v1/risks?level=critical,medium&sort=-score"), [r2["id"], r3["id"]])
        self.assertEqual(ids("/v1/risks?owner=lea"), [r2["id"]])
        # Pages follow the sort, with a cursor.
        st, _, p1 = self.req("GET", "/v1/risks?sort=-score&limit=2")
        self.assertEqual([x["id"] for x in p1["items"]], [r2["id"], r3["id"]])
        st, _, p2 = self.req("GET", "/v1/risks?sort=-score&limit=2&cursor=" + p1["next_cursor"])
        self.assertEqual(([x["id"] for x in p2["items"]], p2["next_cursor"]), ([r1["id"]], None))
        for bad in ("category=weather", "status=pending", "level=extreme", "campaign_id=nope", "sort=level"):
            st, _, body = self.req("GET", "/v1/risks?" + bad)
            self.assertEqual((st, body["code"]), (400, "invalid_parameter"), bad)
        self.assertEqual(self.req("GET", f"/v1/campaigns/{uuid.uuid4()}/risks")[0], 404)

    def test_other_organisations_see_nothing(self):
        camp = self.campaign()
        r = self.risk(camp)
        other = self.srv.token("ada", "rk-other-" + uuid.uuid4().hex[:8], "admin")
        self.assertEqual(self.req("GET", "/v1/risks/" + r["id"], token=other)[0], 404)
        self.assertEqual(self.req("PATCH", "/v1/risks/" + r["id"], {"notes": "x"}, other)[0], 404)
        self.assertEqual(self.req("DELETE", "/v1/risks/" + r["id"], token=other)[0], 404)
        self.assertEqual(self.req("GET", f"/v1/campaigns/{camp['id']}/risks", token=other)[0], 404)
        self.assertEqual(self.req("POST", f"/v1/campaigns/{camp['id']}/risks", risk(), other)[0], 404)
        self.assertEqual(self.req("GET", "/v1/risks", token=other)[2]["items"], [])
        self.assertEqual(self.req("GET", "/v1/risks/" + r["id"])[2]["version"], 1)

    def test_validation(self):
        camp = self.campaign()
        for body, field in ((risk(probability=6), "probability"), (risk(impact=0), "impact"),
                            (risk(category="weather"), "category"), (risk(title="  "), "title"),
                            (risk(mitigation=" \n "), "mitigation"), (risk(due_date="2026-02-30"), "due_date"),
                            (risk(campaign_id=camp["id"]), "campaign_id"), (risk(score=12), "score"),
                            (risk(status="pending"), "status")):
            st, _, b = self.req("POST", f"/v1/campaigns/{camp['id']}/risks", body, self.planner)
            self.assertEqual((st, b["code"]), (422, "validation_failed"), body)
            self.assertIn(field, [e["field"] for e in b["errors"]], b)
        self.assertEqual(psql(f"SELECT count(*) FROM risks WHERE campaign_id = '{camp['id']}'"), "0")

    # -- the scheduling gate -------------------------------------------------

    def test_gate_refuses_scheduling_with_an_unmitigated_critical_risk(self):
        camp = self.approved_campaign()
        fine = self.risk(camp, probability=5, impact=5, mitigation="Load-test first")
        self.risk(camp, probability=3, impact=5)  # high, not critical
        bad = self.risk(camp, probability=4, impact=4, title="Regulator bans the offer", category="regulatory")
        st, _, b = self.schedule(camp)
        self.assertEqual((st, b["code"]), (409, "unmitigated_critical_risk"), b)
        self.assertEqual([(x["risk_id"], x["level"]) for x in b["risks"]], [(bad["id"], "critical")])
        self.assertEqual(self.req("GET", "/v1/campaigns/" + camp["id"])[2]["status"], "approved")
        # Accepting it (or mitigating, or closing) opens the gate.
        self.assertEqual(self.req("PATCH", "/v1/risks/" + bad["id"], {"status": "accepted"}, self.planner)[0], 200)
        st, _, b = self.schedule(camp)
        self.assertEqual((st, b["status"]), (200, "scheduled"), b)
        # A scheduled campaign takes no new unmitigated critical risk, nor loses a mitigation.
        st, _, b = self.req("POST", f"/v1/campaigns/{camp['id']}/risks", risk(probability=5, impact=4), self.planner)
        self.assertEqual((st, b["code"], b["risks"][0]["score"]), (409, "unmitigated_critical_risk", 20), b)
        st, _, b = self.req("PATCH", "/v1/risks/" + fine["id"], {"mitigation": None}, self.planner)
        self.assertEqual((st, b["code"], b["risks"][0]["risk_id"]), (409, "unmitigated_critical_risk", fine["id"]))
        self.risk(camp, probability=5, impact=4, mitigation="Answer complaints within the hour")
        self.risk(camp, probability=2, impact=2)

    def race(self, sql, call):
        """Runs sql in a psql transaction that holds its locks for a moment, starts call() meanwhile, and
        returns call()'s answer and how long it waited."""
        proc = subprocess.Popen(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c",
                                 f"BEGIN; {sql}; SELECT pg_sleep(1.5); COMMIT;"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.5)
        t0 = time.monotonic()
        answer = call()
        waited = time.monotonic() - t0
        self.assertEqual(proc.wait(timeout=20), 0, proc.stderr.read())
        return answer, waited

    def test_race_risk_added_while_scheduling(self):
        # The risk's transaction holds the campaign (SHARE) until it commits: scheduling waits, then sees it.
        camp = self.approved_campaign()
        rid = str(uuid.uuid4())
        (st, _, b), waited = self.race(
            f"INSERT INTO risks (id, org_id, campaign_id, title, category, probability, impact, owner, created_by)"
            f" VALUES ('{rid}', '{self.org}', '{camp['id']}', 'Late', 'technical', 5, 5, 'pat', 'pat')",
            lambda: self.schedule(camp))
        self.assertEqual((st, b["code"], [x["risk_id"] for x in b["risks"]]), (409, "unmitigated_critical_risk", [rid]))
        self.assertGreater(waited, 0.5)

    def test_race_scheduling_while_risk_added(self):
        # Scheduling holds the campaign's row until it commits: the risk's write waits, then sees it scheduled.
        camp = self.approved_campaign()
        (st, _, b), waited = self.race(
            f"UPDATE campaigns SET status = 'scheduled' WHERE id = '{camp['id']}'",
            lambda: self.req("POST", f"/v1/campaigns/{camp['id']}/risks", risk(probability=5, impact=5), self.planner))
        self.assertEqual((st, b["code"]), (409, "unmitigated_critical_risk"), b)
        self.assertGreater(waited, 0.5)
        self.assertEqual(psql(f"SELECT count(*) FROM risks WHERE campaign_id = '{camp['id']}'"), "0")


    def test_editing_a_risk_while_its_campaign_is_deleted_queues_instead_of_deadlocking(self):
        """Deleting a campaign locks its row, then its risks (the cascade). A risk's edit takes the same order:
        the campaign's row first. Here a transaction holds the campaign's row as a deletion does, the PATCH
        queues behind it, and the deletion then reaches the risk: it must find it free (before, the PATCH held
        the risk and waited for the campaign: a deadlock PostgreSQL broke by failing one of the two)."""
        camp = self.campaign()
        r = self.risk(camp)
        deleter = subprocess.Popen(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deleter.stdin.write(f"BEGIN; SELECT 1 FROM campaigns WHERE id = '{camp['id']}' FOR UPDATE;\n")
        deleter.stdin.flush()
        self.assertEqual(deleter.stdout.readline().strip(), "1")
        result = {}
        patcher = threading.Thread(target=lambda: result.update(patch=self.req(
            "PATCH", "/v1/risks/" + r["id"], {"probability": 1}, self.planner)))
        patcher.start()
        for _ in range(100):  # until the PATCH waits for a lock
            if psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE '%risk%'") != "0":
                break
            time.sleep(0.05)
        else:
            self.fail("the PATCH never waited for the campaign")
        out, err = deleter.communicate(f"DELETE FROM campaigns WHERE id = '{camp['id']}'; COMMIT;\n", timeout=30)
        patcher.join(timeout=30)
        self.assertEqual(deleter.returncode, 0, err)
        self.assertNotIn("deadlock", err)
        st, _, b = result["patch"]
        self.assertEqual((st, b["code"]), (404, "not_found"), b)
        self.assertEqual(psql(f"SELECT count(*) FROM risks WHERE id = '{r['id']}'"), "0")

    # -- the organisation's level thresholds ---------------------------------

    def thresholds(self, token=None, **levels):
        return self.req("PATCH", "/v1/settings", {"risk_level_max": levels}, token)

    def test_levels_matrix_gate_and_scan_follow_the_thresholds(self):
        camp = self.approved_campaign()
        twelve = self.risk(camp, probability=3, impact=4)  # 12: high under 4, 9, 15
        six = self.risk(camp, probability=2, impact=3, mitigation="Watch the forums")  # 6: medium
        self.assertEqual((twelve["level"], six["level"]), ("high", "medium"))
        self.assertEqual(self.thresholds(self.manager, high=11)[0], 403)  # only admins write

        st, _, b = self.thresholds(low=2, high=11)  # low ≤ 2, medium ≤ 9, high ≤ 11, critical above
        self.assertEqual((st, b["risk_level_max"]), (200, {"low": 2, "medium": 9, "high": 11}), b)
        st, h, got = self.req("GET", "/v1/risks/" + twelve["id"], token=self.viewer)
        self.assertEqual((got["level"], got["version"], h["etag"]), ("critical", 2, '"2"'))  # a new version
        self.assertEqual(self.req("GET", "/v1/risks/" + six["id"])[2]["level"], "medium")  # unchanged
        self.assertEqual(self.req("GET", "/v1/risks/" + six["id"])[2]["version"], 1)
        st, _, page = self.req("GET", f"/v1/campaigns/{camp['id']}/risks?level=critical")
        self.assertEqual([x["id"] for x in page["items"]], [twelve["id"]])
        # the recomputation is audited and tells webhook receivers, like any change of the risk
        rows = psql(f"SELECT before->>'level', after->>'level', actor FROM audit_log WHERE entity = 'risk'"
                    f" AND entity_id = '{twelve['id']}' AND action = 'update'")
        self.assertEqual(rows, "high|critical|ada")
        self.assertEqual(psql(f"SELECT count(*) FROM outbox_events WHERE entity_id = '{twelve['id']}'"
                              f" AND type = 'risk.updated' AND payload->>'level' = 'critical'"), "1")

        # the matrix: cells and totals by the organisation's levels
        st, _, m = self.req("GET", "/v1/risks/matrix?from=2026-03-01&to=2026-03-31", token=self.viewer)
        levels = {x["score"]: x["level"] for x in m["cells"]}
        self.assertEqual((levels[2], levels[3], levels[9], levels[10], levels[12], levels[25]),
                         ("low", "medium", "medium", "high", "critical", "critical"))
        self.assertEqual(m["totals"]["by_level"], {"low": 0, "medium": 1, "high": 0, "critical": 1})
        # the conflict scan lists it, and the gate refuses scheduling
        st, _, scan = self.req("GET", f"/v1/conflicts?from=2026-03-01&to=2026-04-01&campaign_id={camp['id']}"
                                      f"&type=unmitigated_critical_risk")
        self.assertEqual((st, len(scan["items"])), (200, 1), scan)
        st, _, b = self.schedule(camp)
        self.assertEqual((st, b["code"], [x["risk_id"] for x in b["risks"]]),
                         (409, "unmitigated_critical_risk", [twelve["id"]]), b)
        # new risks are judged by the new thresholds too
        self.assertEqual(self.risk(camp, probability=2, impact=1)["level"], "low")
        # back to SPEC's thresholds: high again, and the campaign may be scheduled
        self.assertEqual(self.thresholds(low=4, high=15)[0], 200)
        self.assertEqual(self.req("GET", "/v1/risks/" + twelve["id"])[2]["level"], "high")
        st, _, m = self.req("GET", "/v1/risks/matrix?from=2026-03-01&to=2026-03-31")
        self.assertEqual(m["totals"]["by_level"], {"low": 1, "medium": 1, "high": 1, "critical": 0})
        self.assertEqual(self.schedule(camp)[0], 200)
        # a scheduled campaign keeps the gate: thresholds that would give it an unmitigated critical risk are
        # refused naming the risk, and nothing changes
        st, _, b = self.thresholds(high=11)
        self.assertEqual((st, b["code"], b["risks"][0]["risk_id"]), (409, "unmitigated_critical_risk", twelve["id"]))
        self.assertEqual(self.req("GET", "/v1/settings")[2]["risk_level_max"], {"low": 4, "medium": 9, "high": 15})
        self.assertEqual(self.req("GET", "/v1/risks/" + twelve["id"])[2]["level"], "high")
        # other organisations keep their own levels
        other = self.srv.token("ada", "rk-other-" + uuid.uuid4().hex[:8], "admin")
        st, _, oc = self.req("POST", "/v1/campaigns", campaign(), other)
        st, _, orisk = self.req("POST", f"/v1/campaigns/{oc['id']}/risks", risk(probability=3, impact=4), other)
        self.assertEqual(self.thresholds(high=20)[0], 200)
        self.assertEqual(self.req("GET", "/v1/risks/" + orisk["id"], token=other)[2]["level"], "high")
        self.assertEqual(self.risk(camp, probability=4, impact=4)["level"], "high")  # 16 ≤ 20 here

    def test_race_thresholds_while_scheduling(self):
        # Scheduling holds the campaign's row: new thresholds wait for it, then see it scheduled and are refused.
        camp = self.approved_campaign()
        twelve = self.risk(camp, probability=3, impact=4)
        (st, _, b), waited = self.race(f"UPDATE campaigns SET status = 'scheduled' WHERE id = '{camp['id']}'",
                                       lambda: self.thresholds(high=11))
        self.assertEqual((st, b["code"], b["risks"][0]["risk_id"]), (409, "unmitigated_critical_risk", twelve["id"]))
        self.assertGreater(waited, 0.5)
        self.assertEqual(self.req("GET", "/v1/risks/" + twelve["id"])[2]["level"], "high")

    def test_race_scheduling_while_thresholds_change(self):
        # New thresholds hold the campaign whose risk they make critical: scheduling waits, then judges by them.
        camp = self.approved_campaign()
        twelve = self.risk(camp, probability=3, impact=4)
        self.assertEqual(self.thresholds(high=14)[0], 200)  # the settings row exists now
        (st, _, b), waited = self.race(f"UPDATE org_settings SET risk_high_max = 11 WHERE org_id = '{self.org}'",
                                       lambda: self.schedule(camp))
        self.assertEqual((st, b["code"], [x["risk_id"] for x in b["risks"]]),
                         (409, "unmitigated_critical_risk", [twelve["id"]]), b)
        self.assertGreater(waited, 0.5)

    def test_race_risk_written_while_thresholds_change(self):
        # A risk's write waits for new thresholds in flight (the organisation's risk-level lock), then judges by
        # them: on a scheduled campaign, 12 is critical under high ≤ 11 and refused without a mitigation.
        camp = self.approved_campaign()
        self.assertEqual(self.schedule(camp)[0], 200)
        self.assertEqual(self.thresholds(high=14)[0], 200)
        (st, _, b), waited = self.race(
            f"UPDATE org_settings SET risk_high_max = 11 WHERE org_id = '{self.org}'",
            lambda: self.req("POST", f"/v1/campaigns/{camp['id']}/risks", risk(probability=3, impact=4),
                             self.planner))
        self.assertEqual((st, b["code"], b["risks"][0]["level"]), (409, "unmitigated_critical_risk", "critical"), b)
        self.assertGreater(waited, 0.5)
        r = self.risk(camp, probability=3, impact=4, mitigation="Second supplier on standby")
        self.assertEqual(r["level"], "critical")

    # -- the matrix ----------------------------------------------------------

    def test_matrix_counts_against_hand_computed_ones(self):
        march = self.campaign(start_date="2027-03-01", end_date="2027-03-31")
        april = self.campaign(start_date="2027-04-10", end_date="2027-04-30")
        june = self.campaign(start_date="2027-06-01", end_date="2027-06-30")
        a = self.risk(march, probability=5, impact=4, category="technical")                    # 20 critical
        b = self.risk(march, probability=5, impact=4, category="regulatory", owner="lea")      # 20 critical
        c = self.risk(april, probability=1, impact=2, category="budget", status="closed")      # 2 low
        d = self.risk(april, probability=3, impact=3, category="technical", mitigation="m")    # 9 medium
        self.risk(june, probability=5, impact=5, category="other")                             # outside the window
        other = self.srv.token("ada", "rk-other-" + uuid.uuid4().hex[:8], "admin")
        st, _, oc = self.req("POST", "/v1/campaigns", campaign(start_date="2027-03-01", end_date="2027-03-31"), other)
        self.req("POST", f"/v1/campaigns/{oc['id']}/risks", risk(probability=5, impact=4), other)

        def matrix(query, token=None):
            st, _, m = self.req("GET", "/v1/risks/matrix?" + query, token=token or self.viewer)
            self.assertEqual(st, 200, m)
            self.assertEqual([(x["probability"], x["impact"]) for x in m["cells"]],
                             [(p, i) for p in range(1, 6) for i in range(1, 6)])
            for x in m["cells"]:
                self.assertEqual((x["score"], x["count"]), (x["probability"] * x["impact"], len(x["risk_ids"])))
            return {(x["probability"], x["impact"]): x["risk_ids"] for x in m["cells"] if x["count"]}, m["totals"]

        # the window 2027-03-31 .. 2027-04-10 touches march (last day) and april (first day), not june
        cells, totals = matrix("from=2027-03-31&to=2027-04-10")
        self.assertEqual(cells, {(5, 4): [a["id"], b["id"]], (1, 2): [c["id"]], (3, 3): [d["id"]]})
        self.assertEqual(totals, {"risks": 4, "by_level": {"low": 1, "medium": 1, "high": 0, "critical": 2},
                                  "by_category": {"technical": 2, "regulatory": 1, "reputation": 0, "budget": 1,
                                                  "resource": 0, "schedule": 0, "other": 0}})
        self.assertEqual(matrix("from=2027-04-01&to=2027-04-09"), ({}, {
            "risks": 0, "by_level": {"low": 0, "medium": 0, "high": 0, "critical": 0},
            "by_category": {k: 0 for k in ("technical", "regulatory", "reputation", "budget", "resource", "schedule",
                                           "other")}}))
        # filters
        cells, totals = matrix("from=2027-01-01&to=2027-12-31&status=open&category=technical,regulatory")
        self.assertEqual((cells, totals["risks"]), ({(5, 4): [a["id"], b["id"]], (3, 3): [d["id"]]}, 3))
        cells, totals = matrix(f"from=2027-01-01&to=2027-12-31&campaign_id={april['id']}")
        self.assertEqual((cells, totals["by_level"]["low"]), ({(1, 2): [c["id"]], (3, 3): [d["id"]]}, 1))
        cells, _ = matrix("from=2027-01-01&to=2027-12-31&owner=lea")
        self.assertEqual(cells, {(5, 4): [b["id"]]})
        for bad in ("to=2027-04-10", "from=2027-03-31", "from=2027-04-10&to=2027-03-31", "from=2027-02-30&to=2027-03-01",
                    "from=2027-03-01&to=2027-04-01&level=low", "from=2027-03-01&to=2027-04-01&status=pending"):
            st, _, body = self.req("GET", "/v1/risks/matrix?" + bad)
            self.assertEqual((st, body["code"]), (400, "invalid_parameter"), bad)
        self.assertEqual(self.req("GET", "/v1/risks/matrix?from=2027-03-01&to=2027-04-01",
                                  token=self.integration)[0], 403)

    def test_matrix_lists_at_most_100_ids_per_cell_and_counts_them_all(self):
        camp = self.campaign(start_date="2027-05-01", end_date="2027-05-31")
        first = self.risk(camp, probability=2, impact=3)
        # 149 more in the same cell, loaded in one statement (each a second younger than the one before)
        psql(f"INSERT INTO risks (org_id, campaign_id, title, category, probability, impact, owner, created_by,"
             f" created_at) SELECT '{self.org}', '{camp['id']}', 'Risk ' || g, 'budget', 2, 3, 'pat', 'pat',"
             f" now() + g * interval '1 second' FROM generate_series(1, 149) g")
        oldest = psql(f"SELECT string_agg(id::text, ',' ORDER BY created_at, id) FROM (SELECT id, created_at"
                      f" FROM risks WHERE campaign_id = '{camp['id']}' ORDER BY created_at, id LIMIT 100) r").split(",")
        st, _, m = self.req("GET", "/v1/risks/matrix?from=2027-05-01&to=2027-05-31", token=self.viewer)
        self.assertEqual(st, 200, m)
        cell = next(x for x in m["cells"] if (x["probability"], x["impact"]) == (2, 3))
        self.assertEqual((cell["count"], len(cell["risk_ids"]), m["totals"]["risks"]), (150, 100, 150))
        self.assertEqual(cell["risk_ids"], oldest)
        self.assertEqual(cell["risk_ids"][0], first["id"])

if __name__ == "__main__":
    main()
