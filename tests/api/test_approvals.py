#!/usr/bin/env python3
"""API tests of the approval workflow: templates, submission, role-gated
multi-step decisions, the lifecycle gates they control, the material-change
rule, the queues, and the concurrent-decision race.
Usage: test_approvals.py BINARY"""
import concurrent.futures
import datetime
import os
import subprocess
import time
import unittest
import uuid

from harness import Server, campaign, main

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")


def psql(sql):
    cmd = ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


THREE_STEPS = [{"name": "Project lead", "role": "manager"},
               {"name": "Communication lead", "role": "approver"},
               {"name": "Marketing director", "role": "admin"}]


class ApprovalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server({"CAMPAIGND_DB_POOL_SIZE": "8", "CAMPAIGND_THREADS": "8"})

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "ap-" + uuid.uuid4().hex[:10]
        tok = lambda sub, role: self.srv.token(sub, self.org, role)
        self.admin, self.manager, self.manager2 = tok("ada", "admin"), tok("mia", "manager"), tok("max", "manager")
        self.planner, self.planner2 = tok("pat", "planner"), tok("pia", "planner")
        self.approver, self.viewer, self.integration = tok("abe", "approver"), tok("vic", "viewer"), tok("crm", "integration")

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or self.admin, **kw)

    def workflow(self, steps=None, name=None):
        st, h, b = self.req("POST", "/v1/workflows", {"name": name or "Brief " + uuid.uuid4().hex[:6],
                                                      "steps": steps or THREE_STEPS})
        self.assertEqual(st, 201, b)
        return b

    def campaign(self, token=None, **over):
        st, _, b = self.req("POST", "/v1/campaigns", campaign(**over), token or self.planner)
        self.assertEqual(st, 201, b)
        return b

    def submit(self, camp, wf, token=None):
        return self.req("POST", f"/v1/campaigns/{camp['id']}/approval", {"workflow_id": wf["id"]},
                        token or self.planner)

    def decide(self, appr, decision, token, comment=None, **extra):
        body = {"decision": decision}
        if comment is not None:
            body["comment"] = comment
        body.update(extra)
        return self.req("POST", f"/v1/approvals/{appr['id']}/decisions", body, token)

    def status_of(self, camp):
        return self.req("GET", "/v1/campaigns/" + camp["id"])[2]["status"]

    def approved_campaign(self, **over):
        wf = self.workflow([{"name": "Director", "role": "manager"}])
        camp = self.campaign(**over)
        st, _, appr = self.submit(camp, wf)
        self.assertEqual(st, 201, appr)
        st, _, b = self.decide(appr, "approve", self.manager)
        self.assertEqual((st, b["status"]), (201, "approved"), b)
        return camp, appr

    # -- the whole path ----------------------------------------------------

    def test_three_steps_three_roles(self):
        wf = self.workflow()
        camp = self.campaign()
        st, h, appr = self.submit(camp, wf)
        self.assertEqual(st, 201, appr)
        self.assertEqual(h["location"], "/v1/approvals/" + appr["id"])
        self.assertEqual((appr["status"], appr["current_step"]["index"], appr["current_step"]["name"]),
                         ("pending", 0, "Project lead"))
        self.assertEqual([s["role"] for s in appr["steps"]], ["manager", "approver", "admin"])
        self.assertEqual((appr["submitted_by"], appr["campaign_owner"], appr["decisions"]), ("pat", "pat", []))
        self.assertEqual(self.status_of(camp), "in_review")
        # Step 1: the manager; step 2: the approver; step 3: the admin.
        st, _, b = self.decide(appr, "approve", self.manager, "brief is clear", step=0)
        self.assertEqual((st, b["status"], b["current_step"]["index"]), (201, "pending", 1), b)
        st, _, b = self.decide(appr, "approve", self.approver)
        self.assertEqual((st, b["current_step"]["name"]), (201, "Marketing director"), b)
        self.assertEqual(self.status_of(camp), "in_review")
        st, h, b = self.decide(appr, "approve", self.admin, "go")
        self.assertEqual((st, b["status"], b["current_step"]), (201, "approved", None), b)
        self.assertIsNotNone(b["closed_at"])
        self.assertEqual(self.status_of(camp), "approved")
        st, h, full = self.req("GET", "/v1/approvals/" + appr["id"], token=self.viewer)
        self.assertEqual(st, 200)
        self.assertEqual(h["etag"], '"%d"' % full["version"])
        self.assertEqual([(d["step"], d["step_name"], d["decided_by"], d["role"], d["decision"], d["as_admin"])
                          for d in full["decisions"]],
                         [(0, "Project lead", "mia", "manager", "approve", False),
                          (1, "Communication lead", "abe", "approver", "approve", False),
                          (2, "Marketing director", "ada", "admin", "approve", False)])
        self.assertEqual(full["decisions"][0]["comment"], "brief is clear")
        self.assertTrue(all(d["decided_at"] for d in full["decisions"]))
        # Deciding a closed request is a conflict.
        st, _, b = self.decide(appr, "approve", self.admin)
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        # Audit and events, written in the same transactions.
        actions = psql(f"SELECT string_agg(action || ':' || actor, ',' ORDER BY id) FROM audit_log "
                       f"WHERE entity = 'approval_decision' AND after->>'request_id' = '{appr['id']}'")
        self.assertEqual(actions, "create:mia,create:abe,create:ada")
        events = psql(f"SELECT string_agg(type || ':' || coalesce(payload->>'request_status', ''), ',' ORDER BY id) "
                      f"FROM outbox_events WHERE entity_id = '{appr['id']}'")
        self.assertEqual(events, "approval.requested:,approval.decided:pending,approval.decided:pending,"
                                 "approval.decided:approved")
        moves = psql(f"SELECT string_agg(payload->>'to', ',' ORDER BY id) FROM outbox_events "
                     f"WHERE type = 'campaign.status_changed' AND entity_id = '{camp['id']}'")
        self.assertEqual(moves, "in_review,approved")
        # Then the lifecycle goes on by request.
        for to in ("scheduled", "live", "completed"):
            st, _, b = self.req("POST", f"/v1/campaigns/{camp['id']}/transitions", {"to": to}, self.planner)
            self.assertEqual((st, b.get("status")), (200, to), b)

    def test_reject_and_request_changes_return_to_draft(self):
        wf = self.workflow()
        for decision in ("reject", "request_changes"):
            camp = self.campaign()
            st, _, appr = self.submit(camp, wf)
            self.assertEqual(self.decide(appr, "approve", self.manager)[0], 201)
            st, _, b = self.decide(appr, decision, self.approver, "tone is off")
            self.assertEqual((st, b["status"], b["comment"]),
                             (201, "rejected" if decision == "reject" else "changes_requested", "tone is off"))
            st, _, c = self.req("GET", "/v1/campaigns/" + camp["id"])
            self.assertEqual(c["status"], "draft")
            self.assertIn("tone is off", c["status_reason"])
            self.assertEqual(self.decide(appr, "approve", self.admin)[0], 409)
            # A new submission opens a new request.
            st, _, again = self.submit(camp, wf)
            self.assertEqual((st, again["status"]), (201, "pending"))
            self.assertNotEqual(again["id"], appr["id"])

    # -- refusals ----------------------------------------------------------

    def test_who_may_decide(self):
        wf = self.workflow()
        camp = self.campaign()
        st, _, appr = self.submit(camp, wf)
        for token, why in ((self.approver, "step is the manager's"), (self.planner, "owner and planner"),
                           (self.planner2, "planner"), (self.viewer, "viewer"), (self.integration, "integration")):
            st, _, b = self.decide(appr, "approve", token)
            self.assertEqual((st, b["code"]), (403, "forbidden"), why)
        # A manager who owns the campaign never approves it.
        own = self.campaign(self.manager)
        st, _, own_appr = self.submit(own, wf, self.manager)
        self.assertEqual(st, 201, own_appr)
        st, _, b = self.decide(own_appr, "approve", self.manager)
        self.assertEqual((st, b["code"]), (403, "forbidden"))
        self.assertIn("owner", b["detail"])
        st, _, b = self.decide(own_appr, "approve", self.manager2)
        self.assertEqual(st, 201, b)
        # One person decides one step of a request; an admin may decide any step, recorded as such.
        st, _, b = self.decide(appr, "approve", self.manager)
        self.assertEqual(st, 201)
        st, _, b = self.decide(appr, "approve", self.admin)
        self.assertEqual((st, b["decisions"][-1]["as_admin"], b["decisions"][-1]["role"]), (201, True, "admin"))
        # Bad bodies.
        for body in ({"decision": "maybe"}, {"decision": "reject"}, {"decision": "reject", "comment": ""},
                     {}, {"decision": "approve", "step": "one"}, {"decision": "approve", "colour": "red"},
                     {"decision": "approve", "comment": "x" * 901}):
            st, _, b = self.req("POST", f"/v1/approvals/{appr['id']}/decisions", body, self.admin)
            self.assertEqual((st, b["code"]), (422, "validation_failed"), body)
        # Another organisation sees nothing.
        other = self.srv.token("eve", "other-" + self.org, "admin")
        self.assertEqual(self.req("GET", "/v1/approvals/" + appr["id"], token=other)[0], 404)
        self.assertEqual(self.decide(appr, "approve", other)[0], 404)
        self.assertEqual(self.req("POST", f"/v1/campaigns/{camp['id']}/approval", {"workflow_id": wf["id"]},
                                  other)[0], 404)
        self.assertEqual(self.req("GET", "/v1/approvals/not-a-uuid")[0], 400)
        self.assertEqual(self.req("GET", "/v1/approvals", token=self.integration)[0], 403)

    def test_submission_refusals(self):
        wf = self.workflow()
        camp = self.campaign()
        self.assertEqual(self.submit(camp, wf, self.planner2)[0], 403)  # not the owner
        self.assertEqual(self.submit(camp, wf, self.viewer)[0], 403)
        self.assertEqual(self.submit(camp, wf, self.approver)[0], 403)
        st, _, b = self.req("POST", f"/v1/campaigns/{camp['id']}/approval", {"workflow_id": str(uuid.uuid4())},
                            self.planner)
        self.assertEqual((st, b["errors"][0]["field"]), (422, "workflow_id"))
        for body in ({}, {"workflow_id": "x"}, {"workflow_id": wf["id"], "steps": []}):
            self.assertEqual(self.req("POST", f"/v1/campaigns/{camp['id']}/approval", body, self.planner)[0], 422)
        self.assertEqual(self.submit(camp, wf)[0], 201)
        st, _, b = self.submit(camp, wf)  # one open request per campaign
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        st, _, b = self.submit(camp, wf, self.manager)
        self.assertEqual(st, 409)
        self.assertEqual(self.req("DELETE", "/v1/campaigns/" + camp["id"], token=self.planner)[0], 409)
        self.assertEqual(self.req("POST", f"/v1/campaigns/{uuid.uuid4()}/approval", {"workflow_id": wf["id"]},
                                  self.manager)[0], 404)
        # Concurrent submissions of one campaign: exactly one request.
        race = self.campaign()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: self.submit(race, wf)[0], range(8)))
        self.assertEqual(sorted(codes), [201] + [409] * 7)
        self.assertEqual(psql(f"SELECT count(*) FROM approval_requests WHERE campaign_id = '{race['id']}'"), "1")

    def test_lifecycle_gates(self):
        camp = self.campaign()
        path = f"/v1/campaigns/{camp['id']}/transitions"
        for to in ("approved", "scheduled", "in_review", "live"):
            st, _, b = self.req("POST", path, {"to": to}, self.admin)
            self.assertEqual((st, b["code"]), (409, "invalid_transition"), to)
        # The database refuses it too, whoever writes.
        with self.assertRaises(subprocess.CalledProcessError):
            psql(f"UPDATE campaigns SET status = 'in_review' WHERE id = '{camp['id']}'")
        camp, appr = self.approved_campaign()
        path = f"/v1/campaigns/{camp['id']}/transitions"
        with self.assertRaises(subprocess.CalledProcessError):
            psql(f"UPDATE approval_requests SET status = 'pending' WHERE id = '{appr['id']}'")
        # scheduled needs every booking confirmed.
        st, _, res = self.req("POST", "/v1/resources", {"kind": "slot", "name": "Banner " + uuid.uuid4().hex[:6]})
        st, _, bk = self.req("POST", "/v1/bookings", {"campaign_id": camp["id"], "resource_id": res["id"],
                                                      "start": "2026-03-02T09:00:00Z", "end": "2026-03-03T09:00:00Z"})
        self.assertEqual(st, 201, bk)
        st, _, b = self.req("POST", path, {"to": "scheduled"}, self.planner)
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        self.assertIn("tentative", b["detail"])
        self.assertEqual(self.req("PATCH", "/v1/bookings/" + bk["id"], {"status": "confirmed"})[0], 200)
        st, _, b = self.req("POST", path, {"to": "scheduled"}, self.planner)
        self.assertEqual((st, b["status"]), (200, "scheduled"))
        # Withdrawing a submission closes its request.
        wf = self.workflow()
        other = self.campaign()
        st, _, appr2 = self.submit(other, wf)
        st, _, b = self.req("POST", f"/v1/campaigns/{other['id']}/transitions", {"to": "draft", "reason": "later"},
                            self.planner)
        self.assertEqual((st, b["status"]), (200, "draft"))
        self.assertEqual(self.req("GET", "/v1/approvals/" + appr2["id"])[2]["status"], "cancelled")

    def test_material_change_rule(self):
        camp, appr = self.approved_campaign()
        path = "/v1/campaigns/" + camp["id"]
        # Non-material: name, tags, notes, team; or a material field sent unchanged.
        for patch in ({"name": "Spring sale 2"}, {"tags": ["q1", "brand"]}, {"notes": "copy ready"},
                      {"team": "CRM"}, {"budget": {"amount": "1250", "currency": "EUR"}, "channels": ["email"]}):
            st, h, b = self.req("PATCH", path, patch, self.planner)
            self.assertEqual((st, h.get("approval-effect"), b["status"]), (200, "kept", "approved"), patch)
        self.assertEqual(self.req("GET", "/v1/approvals/" + appr["id"])[2]["status"], "approved")
        # Material: the campaign goes back to draft and its approval is superseded.
        st, h, b = self.req("PATCH", path, {"budget": {"amount": "2000.00", "currency": "EUR"}}, self.planner)
        self.assertEqual((st, h.get("approval-effect"), b["status"], b["budget"]["amount"]),
                         (200, "superseded", "draft", "2000.00"))
        self.assertIn("material change", b["status_reason"])
        self.assertEqual(self.req("GET", "/v1/approvals/" + appr["id"])[2]["status"], "superseded")
        # A draft has no approval to lose: no header.
        st, h, b = self.req("PATCH", path, {"end_date": "2026-04-15"}, self.planner)
        self.assertEqual((st, "approval-effect" in h), (200, False))
        for patch in ({"start_date": "2026-02-20"}, {"segment_ids": []}, {"channels": ["sms"]},
                      {"offer": {"code": "SPRING10"}}):
            camp2, _ = self.approved_campaign()
            st, h, b = self.req("PATCH", "/v1/campaigns/" + camp2["id"], patch, self.planner)
            if patch == {"segment_ids": []}:  # the campaign has none: unchanged
                self.assertEqual((st, h.get("approval-effect"), b["status"]), (200, "kept", "approved"))
            else:
                self.assertEqual((st, h.get("approval-effect"), b["status"]), (200, "superseded", "draft"), patch)
        # The database holds the rule too.
        camp3, _ = self.approved_campaign()
        with self.assertRaises(subprocess.CalledProcessError):
            psql(f"UPDATE campaigns SET end_date = end_date + 1 WHERE id = '{camp3['id']}'")

    # -- queues ------------------------------------------------------------

    def test_queues(self):
        wf = self.workflow()
        a = self.campaign()
        b = self.campaign(self.manager)
        st, _, ra = self.submit(a, wf)
        st, _, rb = self.submit(b, wf, self.manager)
        ids = lambda token, q="mine=true": [r["id"] for r in self.req("GET", "/v1/approvals?" + q, token=token)[2]["items"]]
        self.assertEqual(ids(self.manager2), [ra["id"], rb["id"]])
        self.assertEqual(ids(self.manager), [ra["id"]])  # not their own campaign
        self.assertEqual(ids(self.approver), [])
        self.assertEqual(ids(self.planner), [])
        self.assertEqual(ids(self.admin), [ra["id"], rb["id"]])
        self.assertEqual(self.decide(ra, "approve", self.manager2)[0], 201)
        self.assertEqual(ids(self.approver), [ra["id"]])
        self.assertEqual(ids(self.manager2), [rb["id"]])
        self.assertEqual(ids(self.viewer, "campaign_id=" + a["id"]), [ra["id"]])
        self.assertEqual(ids(self.viewer, "status=pending&sort=-created_at"), [rb["id"], ra["id"]])
        self.assertEqual(ids(self.viewer, "status=approved,rejected"), [])
        for bad in ("status=open", "mine=yes", "campaign_id=1", "sort=step", "colour=red"):
            self.assertEqual(self.req("GET", "/v1/approvals?" + bad)[0], 400, bad)
        # A step naming its approver is theirs alone.
        named = self.workflow([{"name": "Legal", "role": "approver", "approver_sub": "lea"}])
        c = self.campaign()
        st, _, rc = self.submit(c, named)
        lea = self.srv.token("lea", self.org, "viewer")
        self.assertEqual(ids(lea), [rc["id"]])
        self.assertNotIn(rc["id"], ids(self.approver))
        self.assertEqual(self.decide(rc, "approve", self.approver)[0], 403)
        self.assertEqual(self.decide(rc, "approve", lea)[0], 201)

    def test_distinct_deciders_option(self):
        two_manager_steps = [{"name": "Lead", "role": "manager"}, {"name": "Director", "role": "manager"}]
        strict = self.workflow(two_manager_steps)
        self.assertIs(strict["distinct_deciders"], True)  # the default: separation of duties
        camp = self.campaign()
        st, _, appr = self.submit(camp, strict)
        self.assertIs(appr["distinct_deciders"], True)
        self.assertEqual(self.decide(appr, "approve", self.manager)[0], 201)
        mine = lambda tok: [a["id"] for a in self.req("GET", "/v1/approvals?mine=true", token=tok)[2]["items"]]
        self.assertNotIn(appr["id"], mine(self.manager))
        self.assertIn(appr["id"], mine(self.manager2))
        st, _, b = self.decide(appr, "approve", self.manager)
        self.assertEqual((st, b["code"]), (403, "forbidden"))
        self.assertIn("another person", b["detail"])
        # The database holds it too, whoever writes the decision.
        with self.assertRaises(subprocess.CalledProcessError) as refused:
            psql("INSERT INTO approval_decisions (org_id, request_id, step, step_name, decision, decided_by, "
                 f"decided_role) VALUES ('{self.org}', '{appr['id']}', 1, '', 'approve', 'mia', 'manager')")
        self.assertIn("already decided a step", refused.exception.stderr)
        self.assertEqual(self.decide(appr, "approve", self.manager2)[0], 201)
        self.assertEqual(self.status_of(camp), "approved")

        # A small team's workflow: the same director may decide both steps.
        st, h, lax = self.req("POST", "/v1/workflows", {"name": "Small team", "steps": two_manager_steps,
                                                        "distinct_deciders": False})
        self.assertEqual((st, lax["distinct_deciders"]), (201, False), lax)
        camp = self.campaign()
        st, _, appr = self.submit(camp, lax)
        self.assertIs(appr["distinct_deciders"], False)
        self.assertEqual(self.decide(appr, "approve", self.manager)[0], 201)
        self.assertIn(appr["id"], mine(self.manager))
        st, _, b = self.decide(appr, "approve", self.manager)
        self.assertEqual((st, b["status"], [d["decided_by"] for d in b["decisions"]]),
                         (201, "approved", ["mia", "mia"]), b)
        # The owner still never decides.
        own = self.campaign(self.manager)
        st, _, own_appr = self.submit(own, lax, self.manager)
        self.assertEqual(self.decide(own_appr, "approve", self.manager)[0], 403)

        # Patchable; a request keeps the setting it was submitted with.
        camp = self.campaign()
        st, _, pending = self.submit(camp, strict)
        st, h, b = self.req("PATCH", "/v1/workflows/" + strict["id"], {"distinct_deciders": False},
                            headers={"If-Match": '"1"'})
        self.assertEqual((st, b["distinct_deciders"], h["etag"]), (200, False, '"2"'))
        self.assertIs(self.req("GET", "/v1/workflows/" + strict["id"])[2]["distinct_deciders"], False)
        self.assertEqual(self.decide(pending, "approve", self.manager)[0], 201)
        st, _, b = self.decide(pending, "approve", self.manager)
        self.assertEqual((st, b["code"]), (403, "forbidden"))
        with self.assertRaises(subprocess.CalledProcessError):
            psql(f"UPDATE approval_requests SET distinct_deciders = false WHERE id = '{pending['id']}'")
        for body in ({"distinct_deciders": "no"}, {"distinct_deciders": None}, {"distinct_deciders": 0}):
            st, _, b = self.req("PATCH", "/v1/workflows/" + strict["id"], body)
            self.assertEqual((st, b["errors"][0]["field"]), (422, "distinct_deciders"), body)

    # -- templates ---------------------------------------------------------

    def test_workflow_templates(self):
        wf = self.workflow(name="Creative brief")
        self.assertEqual((wf["active"], wf["version"], wf["steps"][0]),
                         (True, 1, {"name": "Project lead", "role": "manager", "approver_sub": None}))
        st, h, b = self.req("GET", "/v1/workflows/" + wf["id"], token=self.planner)
        self.assertEqual((st, h["etag"]), (200, '"1"'))
        self.assertEqual(self.req("GET", "/v1/workflows/" + wf["id"], token=self.integration)[0], 403)
        self.assertEqual(self.req("POST", "/v1/workflows", {"name": "x", "steps": THREE_STEPS}, self.manager)[0], 403)
        st, _, b = self.req("POST", "/v1/workflows", {"name": "Creative brief", "steps": THREE_STEPS})
        self.assertEqual((st, b["code"]), (409, "already_exists"))
        for body in ({"name": "x"}, {"name": "x", "steps": []}, {"name": "x", "steps": [{"name": "a", "role": "planner"}]},
                     {"name": "x", "steps": [{"name": "a"}]}, {"name": "x", "steps": "manager"},
                     {"name": "x", "steps": [{"name": "a", "role": "admin"}] * 21}):
            st, _, b = self.req("POST", "/v1/workflows", body)
            self.assertEqual((st, b["code"]), (422, "validation_failed"), body)
        # A request in flight keeps the steps it was submitted with.
        camp = self.campaign()
        st, _, appr = self.submit(camp, wf)
        st, h, b = self.req("PATCH", "/v1/workflows/" + wf["id"], {"steps": [{"name": "Only", "role": "admin"}]},
                            headers={"If-Match": '"1"'})
        self.assertEqual((st, h["etag"], len(b["steps"])), (200, '"2"', 1))
        self.assertEqual(self.req("PATCH", "/v1/workflows/" + wf["id"], {"name": "y"}, headers={"If-Match": '"1"'})[0],
                         412)
        self.assertEqual(len(self.req("GET", "/v1/approvals/" + appr["id"])[2]["steps"]), 3)
        # A used template is archived, not deleted, and takes no new submissions; an unused one is deleted.
        st, h, b = self.req("DELETE", "/v1/workflows/" + wf["id"])
        self.assertEqual((st, b["active"], h["etag"]), (200, False, f'"{b["version"]}"'))
        self.assertEqual(self.submit(self.campaign(), wf)[0], 422)
        self.assertEqual([w["id"] for w in self.req("GET", "/v1/workflows?active=false")[2]["items"]], [wf["id"]])
        unused = self.workflow()
        self.assertEqual(self.req("DELETE", "/v1/workflows/" + unused["id"], token=self.manager)[0], 403)
        self.assertEqual(self.req("DELETE", "/v1/workflows/" + unused["id"])[0], 204)
        self.assertEqual(self.req("GET", "/v1/workflows/" + unused["id"])[0], 404)
        # The in-flight request still completes with its own three steps.
        for token in (self.manager, self.approver, self.admin):
            self.assertEqual(self.decide(appr, "approve", token)[0], 201)
        self.assertEqual(self.status_of(camp), "approved")

    # -- the race ----------------------------------------------------------

    def test_concurrent_decisions_count_once(self):
        wf = self.workflow([{"name": "Lead", "role": "manager"}, {"name": "Director", "role": "manager"}])
        managers = [self.srv.token("m%02d" % i, self.org, "manager") for i in range(16)]
        for round_ in range(3):
            camp = self.campaign()
            st, _, appr = self.submit(camp, wf)
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                results = list(pool.map(lambda t: self.decide(appr, "approve", t, step=0)[0], managers))
            self.assertEqual(sorted(results), [201] + [409] * 15, round_)
            st, _, b = self.req("GET", "/v1/approvals/" + appr["id"])
            self.assertEqual((len(b["decisions"]), b["current_step"]["index"]), (1, 1))
            self.assertEqual(psql(f"SELECT count(*) FROM approval_decisions WHERE request_id = '{appr['id']}'"), "1")
        # Without naming the step, racers still cannot slip onto the next manager step: at most one lands
        # per step, and a decision that waited while another landed is refused rather than moved on.
        for round_ in range(3):
            camp = self.campaign()
            st, _, appr = self.submit(camp, wf)
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                results = list(pool.map(lambda t: self.decide(appr, "approve", t)[0], managers))
            self.assertNotIn(403, results)
            self.assertEqual(set(results) - {201, 409}, set(), results)
            st, _, b = self.req("GET", "/v1/approvals/" + appr["id"])
            steps = [d["step"] for d in b["decisions"]]
            self.assertEqual(steps, sorted(set(steps)))
            self.assertEqual(results.count(201), len(steps))

    def test_decision_racing_a_withdrawal(self):
        # Both lock the campaign, then the request: never a deadlock, never a 5xx, and the two end consistent.
        wf = self.workflow([{"name": "Director", "role": "manager"}])
        for _ in range(5):
            camp = self.campaign()
            st, _, appr = self.submit(camp, wf)
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                decided = pool.submit(self.decide, appr, "approve", self.manager)
                withdrawn = pool.submit(self.req, "POST", f"/v1/campaigns/{camp['id']}/transitions",
                                        {"to": "draft", "reason": "not yet"}, self.planner)
                d, w = decided.result()[0], withdrawn.result()[0]
            campaign_status = self.status_of(camp)
            request_status = self.req("GET", "/v1/approvals/" + appr["id"])[2]["status"]
            if d == 201:  # approved first, then taken back to draft by the owner: the approval is superseded
                self.assertEqual((w, campaign_status, request_status), (200, "draft", "superseded"))
            else:         # withdrawn first: the request was cancelled before the decision
                self.assertEqual((d, w, campaign_status, request_status), (409, 200, "draft", "cancelled"))


class DatesTest(unittest.TestCase):
    """live and completed follow the dates: a worker in every replica moves scheduled campaigns on their start
    date and live ones after their end date (here every second)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server({"CAMPAIGND_LIFECYCLE_INTERVAL": "1"})
        cls.other = Server({"CAMPAIGND_LIFECYCLE_INTERVAL": "1"})  # a second replica running the same worker

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0
        assert cls.other.stop() == 0

    def test_scheduled_goes_live_then_completes(self):
        org = "dates-" + uuid.uuid4().hex[:8]
        admin, manager = self.srv.token("ada", org, "admin"), self.srv.token("mia", org, "manager")
        today = datetime.date.today()
        day = lambda n: (today + datetime.timedelta(days=n)).isoformat()
        st, _, wf = self.srv.request("POST", "/v1/workflows", {"name": "One", "steps": [{"name": "Lead", "role": "manager"}]},
                                     admin)
        camps = {}
        for name, start, end in (("running", day(-1), day(10)), ("over", day(-10), day(-2)), ("future", day(5), day(9))):
            st, _, c = self.srv.request("POST", "/v1/campaigns", campaign(name=name, start_date=start, end_date=end), admin)
            st, _, a = self.srv.request("POST", f"/v1/campaigns/{c['id']}/approval", {"workflow_id": wf["id"]}, admin)
            self.assertEqual(self.srv.request("POST", f"/v1/approvals/{a['id']}/decisions", {"decision": "approve"},
                                              manager)[0], 201)
            st, _, b = self.srv.request("POST", f"/v1/campaigns/{c['id']}/transitions", {"to": "scheduled"}, admin)
            self.assertEqual((st, b["status"]), (200, "scheduled"))
            camps[name] = c["id"]
        want = {"running": "live", "over": "completed", "future": "scheduled"}
        deadline = time.time() + 10
        while time.time() < deadline:
            got = {n: self.srv.request("GET", "/v1/campaigns/" + i, token=admin)[2]["status"] for n, i in camps.items()}
            if got == want:
                break
            time.sleep(0.2)
        self.assertEqual(got, want)
        # Each move happened once, audited as the service, with its event.
        moves = psql(f"SELECT string_agg(payload->>'to', ',' ORDER BY id) FROM outbox_events "
                     f"WHERE type = 'campaign.status_changed' AND entity_id = '{camps['over']}'")
        self.assertEqual(moves, "in_review,approved,scheduled,live,completed")
        actors = psql(f"SELECT string_agg(actor || '/' || actor_role, ',' ORDER BY id) FROM audit_log "
                      f"WHERE entity_id = '{camps['over']}' AND after->>'status' IN ('live', 'completed')")
        self.assertEqual(actors, "campaignd/system,campaignd/system")


if __name__ == "__main__":
    main()
