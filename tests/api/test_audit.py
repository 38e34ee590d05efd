#!/usr/bin/env python3
"""API tests of the audit trail (GET /v1/audit): every change is there with who, what, when, the request id and
the row before and after; filters by entity, entity id, actor, action, time window and request id; cursor pages
newest first; admins and managers only; another organisation's entries never.
Usage: test_audit.py BINARY"""
import time
import uuid

from harness import OrgTestCase, campaign, main


class AuditTest(OrgTestCase):
    ORG_PREFIX = "au-"

    def audit(self, query="", token=None):
        st, _, b = self.req("GET", "/v1/audit?limit=500&" + query, token=token)
        self.assertEqual(st, 200, b)
        return b["items"]

    def test_every_change_with_before_after_and_request_id(self):
        st, h, camp = self.req("POST", "/v1/campaigns", campaign(name="Audited"), self.planner,
                               headers={"X-Request-Id": "req-create-1"})
        self.assertEqual(st, 201, camp)
        st, _, b = self.req("PATCH", "/v1/campaigns/" + camp["id"], {"name": "Audited twice"}, self.planner,
                            headers={"X-Request-Id": "req-patch-1"})
        self.assertEqual(st, 200, b)
        st, _, b = self.req("POST", f"/v1/campaigns/{camp['id']}/transitions", {"to": "cancelled", "reason": "r"},
                            self.manager)
        self.assertEqual(st, 200, b)
        items = self.audit(f"entity=campaign&entity_id={camp['id']}")
        self.assertEqual([(i["action"], i["actor"], i["actor_role"]) for i in items],
                         [("create", "pat", "planner"), ("update", "pat", "planner"), ("status_change", "mia", "manager")])
        create, patch = items[0], items[1]
        self.assertEqual((create["before"], create["after"]["name"], create["request_id"]), (None, "Audited", "req-create-1"))
        self.assertEqual((patch["before"]["name"], patch["after"]["name"]), ("Audited", "Audited twice"))
        self.assertEqual(items[2]["after"]["status"], "cancelled")
        # filters
        self.assertEqual([i["id"] for i in self.audit("request_id=req-patch-1")], [patch["id"]])
        self.assertEqual([i["action"] for i in self.audit("actor=mia")], ["status_change"])
        self.assertEqual(len(self.audit("action=create,status_change&entity=campaign")), 2)
        self.assertEqual(len(self.audit("action=create&action=update&entity=campaign")), 2)
        self.assertEqual(self.audit("entity=booking"), [])
        # the window is [from, to)
        at = patch["at"]
        self.assertEqual([i["id"] for i in self.audit(f"from={at.replace('+00:00', 'Z')}&to=9999-01-01&entity=campaign")][:1],
                         [patch["id"]])
        self.assertEqual(self.audit("to=2000-01-01"), [])
        # newest first, in cursor pages
        st, _, p1 = self.req("GET", "/v1/audit?sort=-at&limit=2")
        st, _, p2 = self.req("GET", f"/v1/audit?sort=-at&limit=2&cursor={p1['next_cursor']}")
        ids = [i["id"] for i in p1["items"] + p2["items"]]
        self.assertEqual(ids, [i["id"] for i in reversed(items)])
        self.assertIsNone(p2["next_cursor"])

    def test_bad_filters_are_400(self):
        for q, name in [("entity_id=nope", "entity_id"), ("action=erase", "action"), ("from=yesterday", "from"),
                        ("from=2026-03-02&to=2026-03-01", "to"), ("actor=", "actor"), ("entity=" + "x" * 65, "entity"),
                        ("sort=actor", "sort"), ("colour=red", "colour"), ("cursor=abc", "cursor")]:
            st, _, b = self.req("GET", "/v1/audit?" + q)
            self.assertEqual(st, 400, (q, b))

    def test_roles_and_organisations(self):
        self.req("POST", "/v1/campaigns", campaign(), self.planner)
        self.assertEqual(len(self.audit(token=self.manager)), 1)
        for role in ("planner", "approver", "analyst", "integration", "viewer"):
            st, _, b = self.req("GET", "/v1/audit", token=self.srv.token("x", self.org, role))
            self.assertEqual((st, b["code"]), (403, "forbidden"), role)
        other = self.srv.token("ada", "au-other-" + uuid.uuid4().hex[:6], "admin")
        self.assertEqual(self.audit(token=other), [])

    def test_webhook_secrets_never_appear(self):
        st, _, hook = self.req("POST", "/v1/webhooks", {"url": "https://93.184.216.34/h", "event_types": ["*"],
                                                       "active": False})
        self.assertEqual(st, 201, hook)
        st, _, b = self.req("POST", f"/v1/webhooks/{hook['id']}/rotate-secret")
        self.assertEqual(st, 200)
        items = self.audit(f"entity=webhook&entity_id={hook['id']}")
        self.assertEqual([i["action"] for i in items], ["create", "update"])
        self.assertNotIn("whsec_", str(items))


if __name__ == "__main__":
    main()
