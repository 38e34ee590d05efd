#!/usr/bin/env python3
"""API tests of the ops routes, campaigns, segments and configuration.
Usage: test_campaigns.py BINARY"""
import concurrent.futures
import os
import subprocess
import tempfile
import time
import unittest
import uuid

import yaml

from harness import BIN, SECRET, SPEC, Server, campaign, main


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.org = "org-" + uuid.uuid4().hex[:8]
        cls.admin = cls.srv.token("ada", cls.org, "admin")
        cls.planner = cls.srv.token("pat", cls.org, "planner")
        cls.planner2 = cls.srv.token("pia", cls.org, "planner")
        cls.viewer = cls.srv.token("vic", cls.org, "viewer")
        cls.other_org = cls.srv.token("oscar", "other-" + cls.org, "admin")

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def create(self, token=None, **over):
        st, h, b = self.srv.request("POST", "/v1/campaigns", campaign(**over), token or self.planner)
        self.assertEqual(st, 201, b)
        return b

    def test_ops(self):
        self.assertEqual(self.srv.request("GET", "/healthz")[0], 200)
        st, _, b = self.srv.request("GET", "/readyz")
        self.assertEqual((st, b["status"]), (200, "ready"))
        st, h, text = self.srv.request("GET", "/metrics")
        self.assertIn("campaignd_http_requests_total", text)
        st, h, text = self.srv.request("GET", "/openapi.yaml")
        self.assertEqual(yaml.safe_load(text)["openapi"], SPEC["openapi"])

    def test_auth_failures(self):
        for hdr in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
            st, h, b = self.srv.request("GET", "/v1/campaigns", headers=hdr)
            self.assertEqual(st, 401)
            self.assertIn("www-authenticate", h)
            self.assertEqual(b["code"], "unauthorized")
        expired = subprocess.run([BIN, "token", "--sub", "x", "--org", self.org, "--role", "admin", "--ttl", "1"],
                                 env=self.srv.env, capture_output=True, text=True).stdout.strip()
        # exp is 1 s ahead: still valid now
        self.assertEqual(self.srv.request("GET", "/v1/campaigns", token=expired)[0], 200)
        st, _, _ = self.srv.request("GET", f"/v1/campaigns?access_token={self.admin}")
        self.assertEqual(st, 401)

    def test_create_get_etag(self):
        c = self.create()
        self.assertEqual(c["status"], "draft")
        self.assertEqual(c["owner"], "pat")
        st, h, b = self.srv.request("GET", f"/v1/campaigns/{c['id']}", token=self.viewer)
        self.assertEqual((st, b["id"]), (200, c["id"]))
        st, _, _ = self.srv.request("GET", f"/v1/campaigns/{c['id']}", token=self.viewer,
                                    headers={"If-None-Match": h["etag"]})
        self.assertEqual(st, 304)

    def test_location_header(self):
        st, h, b = self.srv.request("POST", "/v1/campaigns", campaign(), self.admin)
        self.assertEqual(h["location"], f"/v1/campaigns/{b['id']}")

    def test_read_only_and_unknown_fields_refused(self):
        st, _, b = self.srv.request("POST", "/v1/campaigns", campaign(status="live", owner="x", nmae="typo"),
                                    self.planner)
        self.assertEqual(st, 422)
        self.assertEqual({e["field"] for e in b["errors"]}, {"status", "owner", "nmae"})

    def test_hostile_bodies(self):
        cases = [
            (b"{", "application/json", 400), (b"[]", "application/json", 400),
            (b'{"a":1,"a":2}', "application/json", 400), (b'{"name":"a\\u0000"}', "application/json", 400),
            (b"[" * 5000 + b"]" * 5000, "application/json", 400), (b"name=x", "text/plain", 415),
            (b"", "application/json", 400), (b"x" * 70000, "application/json", 413),
        ]
        for raw, ctype, want in cases:
            st, _, b = self.srv.request("POST", "/v1/campaigns", token=self.planner, raw=raw,
                                        headers={"Content-Type": ctype})
            self.assertEqual(st, want, (raw[:30], b))
        bad = [campaign(start_date="2026-02-30"), campaign(end_date="2026-02-01"), campaign(name=42),
               campaign(budget={"amount": "1.234", "currency": "EUR"}), campaign(budget={"amount": "1", "currency": "ZZZ"}),
               campaign(name="x'; DROP TABLE campaigns; --", segment_ids=["not-a-uuid"])]
        for body in bad:
            st, _, b = self.srv.request("POST", "/v1/campaigns", body, self.planner)
            self.assertEqual(st, 422, body)
        st, _, b = self.srv.request("POST", "/v1/campaigns", campaign(name="x'; DROP TABLE campaigns; --"),
                                    self.planner)
        self.assertEqual(st, 201)
        self.assertEqual(b["name"], "x'; DROP TABLE campaigns; --")

    def test_bad_parameters(self):
        for q in ("limit=0", "limit=abc", "sort=owner", "status=nope", "from=2026-13-01", "cursor=abc",
                  "from=2026-03-02&to=2026-03-01", "unknown=1", "limit=1&limit=2", "q=%zz"):
            st, _, b = self.srv.request("GET", "/v1/campaigns?" + q, token=self.viewer)
            self.assertEqual(st, 400, q)
        self.assertEqual(self.srv.request("GET", "/v1/campaigns/123", token=self.viewer)[0], 400)
        self.assertEqual(self.srv.request("GET", f"/v1/campaigns/{uuid.uuid4()}", token=self.viewer)[0], 404)
        self.assertEqual(self.srv.request("PUT", "/v1/campaigns", token=self.viewer)[0], 405)
        self.assertEqual(self.srv.request("GET", "/v2/nothing", token=self.viewer)[0], 404)

    def test_roles_and_ownership(self):
        c = self.create()
        path = f"/v1/campaigns/{c['id']}"
        self.assertEqual(self.srv.request("POST", "/v1/campaigns", campaign(), self.viewer)[0], 403)
        self.assertEqual(self.srv.request("PATCH", path, {"name": "x"}, self.planner2)[0], 403)
        self.assertEqual(self.srv.request("PATCH", path, {"name": "x"}, self.viewer)[0], 403)
        self.assertEqual(self.srv.request("PATCH", path, {"name": "mine"}, self.planner)[0], 200)
        self.assertEqual(self.srv.request("PATCH", path, {"name": "managed"}, self.admin)[0], 200)
        # another organisation sees nothing
        self.assertEqual(self.srv.request("GET", path, token=self.other_org)[0], 404)
        self.assertEqual(self.srv.request("PATCH", path, {"name": "x"}, self.other_org)[0], 404)
        self.assertEqual(self.srv.request("DELETE", path, token=self.other_org)[0], 404)
        st, _, b = self.srv.request("GET", "/v1/campaigns?limit=500", token=self.other_org)
        self.assertNotIn(c["id"], [i["id"] for i in b["items"]])

    def test_patch_if_match_and_merge(self):
        c = self.create()
        path = f"/v1/campaigns/{c['id']}"
        st, _, b = self.srv.request("PATCH", path, {"name": "x"}, self.planner, headers={"If-Match": '"99"'})
        self.assertEqual((st, b["code"]), (412, "precondition_failed"))
        st, h, b = self.srv.request("PATCH", path, {"budget": None, "notes": "hi"}, self.planner,
                                    headers={"If-Match": '"1"'})
        self.assertEqual((st, b["budget"], b["notes"], b["name"], b["version"]), (200, None, "hi", c["name"], 2))
        self.assertEqual(h["etag"], '"2"')
        st, _, b = self.srv.request("PATCH", path, {"start_date": "2026-04-15"}, self.planner)
        self.assertEqual(st, 422)  # after end_date
        st, _, b = self.srv.request("GET", path, token=self.planner)
        self.assertEqual(b["start_date"], "2026-03-01")

    def test_transitions_and_delete(self):
        c = self.create()
        path = f"/v1/campaigns/{c['id']}"
        st, _, b = self.srv.request("POST", path + "/transitions", {"to": "approved"}, self.admin)
        self.assertEqual((st, b["code"]), (409, "invalid_transition"))
        self.assertEqual(sorted(b["allowed"]), ["cancelled"])
        # Review is entered by submitting for approval (test_approvals.py), not by a transition.
        st, _, b = self.srv.request("POST", path + "/transitions", {"to": "in_review", "reason": "ready"}, self.planner)
        self.assertEqual((st, b["code"]), (409, "invalid_transition"))
        self.assertIn("/approval", b["detail"])
        self.assertEqual(self.srv.request("POST", path + "/transitions", {"to": "bogus"}, self.planner)[0], 422)
        st, h, b = self.srv.request("POST", path + "/transitions", {"to": "cancelled"}, self.planner)
        self.assertEqual((st, h["etag"]), (200, f'"{b["version"]}"'))
        self.assertEqual(b["version"], 2)
        self.assertEqual(self.srv.request("DELETE", path, token=self.planner)[0], 204)
        self.assertEqual(self.srv.request("GET", path, token=self.planner)[0], 404)

    def test_idempotency(self):
        key = {"Idempotency-Key": "idem-" + uuid.uuid4().hex}
        body = campaign(name="Once")
        st1, h1, b1 = self.srv.request("POST", "/v1/campaigns", body, self.planner, headers=key)
        st2, h2, b2 = self.srv.request("POST", "/v1/campaigns", body, self.planner, headers=key)
        self.assertEqual((st1, st2, b1["id"]), (201, 201, b2["id"]))
        self.assertEqual(h2.get("idempotent-replayed"), "true")
        # the replay answers the first response's ETag, even after the campaign moved on
        self.assertEqual((h1["etag"], h2["etag"]), ('"1"', '"1"'))
        st, _, b = self.srv.request("POST", "/v1/campaigns", campaign(name="Other"), self.planner, headers=key)
        self.assertEqual((st, b["code"]), (422, "idempotency_key_reused"))
        path = f"/v1/campaigns/{b1['id']}/transitions"
        tkey = {"Idempotency-Key": "idem-" + uuid.uuid4().hex}
        st1, h1, b1 = self.srv.request("POST", path, {"to": "cancelled"}, self.planner, headers=tkey)
        st2, h2, b2 = self.srv.request("POST", path, {"to": "cancelled"}, self.planner, headers=tkey)
        self.assertEqual((st1, st2, h1["etag"], h2["etag"], h2.get("idempotent-replayed")),
                         (200, 200, f'"{b1["version"]}"', f'"{b1["version"]}"', "true"))

    def test_pagination_stable_and_complete(self):
        org = "page-" + uuid.uuid4().hex[:8]
        tok = self.srv.token("p", org, "manager")
        for i in range(7):
            self.srv.request("POST", "/v1/campaigns", campaign(name=f"c{i}"), tok)
        seen, cursor = [], None
        while True:
            q = "/v1/campaigns?limit=3&sort=-name" + (f"&cursor={cursor}" if cursor else "")
            st, _, b = self.srv.request("GET", q, token=tok)
            seen += [i["name"] for i in b["items"]]
            # an insert between pages does not disturb the walk
            self.srv.request("POST", "/v1/campaigns", campaign(name="a-late"), tok) if len(seen) == 3 else None
            cursor = b["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen[:7], [f"c{i}" for i in range(6, -1, -1)])
        st, _, b = self.srv.request("GET", "/v1/campaigns?status=draft&q=C3&objective=acquisition"
                                           "&from=2026-03-31&to=2026-04-30", token=tok)
        self.assertEqual([i["name"] for i in b["items"]], ["c3"])

    def test_parallel_creates(self):
        org = "par-" + uuid.uuid4().hex[:8]
        tok = self.srv.token("p", org, "planner")
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            results = list(ex.map(lambda i: self.srv.request("POST", "/v1/campaigns", campaign(name=f"p{i}"), tok)[0],
                                  range(64)))
        self.assertEqual(results, [201] * 64)
        st, _, b = self.srv.request("GET", "/v1/campaigns?limit=500", token=tok)
        self.assertEqual(len(b["items"]), 64)


class SegmentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.org = "seg-" + uuid.uuid4().hex[:8]
        cls.admin = cls.srv.token("ada", cls.org, "admin")
        cls.planner = cls.srv.token("pat", cls.org, "planner")
        cls.integration = cls.srv.token("crm", cls.org, "integration")

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def seg(self, name, **over):
        body = {"name": name, "estimated_size": 1000}
        body.update(over)
        st, h, b = self.srv.request("POST", "/v1/segments", body, self.admin)
        self.assertEqual(st, 201, b)
        return b

    def test_crud_tree_and_references(self):
        parent = self.seg("Customers")
        child = self.seg("Lapsed", parent_id=parent["id"])
        st, _, b = self.srv.request("POST", "/v1/segments", {"name": "customers"}, self.admin)
        self.assertEqual((st, b["code"]), (409, "already_exists"))
        st, _, b = self.srv.request("PATCH", f"/v1/segments/{parent['id']}", {"parent_id": child["id"]}, self.admin)
        self.assertEqual((st, b["errors"][0]["field"]), (422, "parent_id"))
        # an insert naming a missing parent (a foreign key, 23503) is a field error, not still_referenced
        st, _, b = self.srv.request("POST", "/v1/segments", {"name": "x", "parent_id": str(uuid.uuid4())}, self.admin)
        self.assertEqual((st, b["code"], b["errors"]), (422, "validation_failed",
                                                        [{"field": "parent_id",
                                                          "message": "no such segment in your organisation"}]))
        # a delete the schema refuses says which reference holds the row (the error table's sentence per side)
        st, _, b = self.srv.request("DELETE", f"/v1/segments/{parent['id']}", token=self.admin)
        self.assertEqual((st, b["code"], b["detail"]),
                         (409, "still_referenced", "the segment is the parent of other segments"))
        st, _, c = self.srv.request("POST", "/v1/campaigns", campaign(segment_ids=[child["id"]]), self.planner)
        self.assertEqual((st, c["segment_ids"]), (201, [child["id"]]))
        st, _, b = self.srv.request("DELETE", f"/v1/segments/{child['id']}", token=self.admin)
        self.assertEqual((st, b["code"], b["detail"]),
                         (409, "still_referenced", "the segment is targeted by a campaign"))
        st, _, b = self.srv.request("POST", "/v1/campaigns", campaign(segment_ids=[str(uuid.uuid4())]), self.planner)
        self.assertEqual((st, b["errors"][0]["field"]), (422, "segment_ids[0]"))
        st, _, b = self.srv.request("GET", f"/v1/segments?parent_id={parent['id']}", token=self.planner)
        self.assertEqual([i["id"] for i in b["items"]], [child["id"]])
        st, h, b = self.srv.request("PATCH", f"/v1/segments/{child['id']}", {"description": "12 months"},
                                    self.admin, headers={"If-Match": '"1"'})
        self.assertEqual((st, b["version"], h["etag"]), (200, 2, '"2"'))

    def test_roles(self):
        self.assertEqual(self.srv.request("POST", "/v1/segments", {"name": "p"}, self.planner)[0], 403)
        self.assertEqual(self.srv.request("GET", "/v1/segments", token=self.integration)[0], 403)
        s = self.seg("Removable")
        self.assertEqual(self.srv.request("DELETE", f"/v1/segments/{s['id']}", token=self.admin)[0], 204)


class OpsTest(unittest.TestCase):
    """CORS, database loss and recovery, and concurrent use of one Idempotency-Key."""

    @classmethod
    def setUpClass(cls):
        cls.org = "ops-" + uuid.uuid4().hex[:8]
        # Its own application_name, so the database-loss test cuts this server's connections and no one else's
        # (the other test files may be running at the same time).
        url = os.environ["CAMPAIGND_TEST_DATABASE_URL"]
        cls.srv = Server({"CAMPAIGND_CORS_ORIGINS": "https://app.example",
                          "CAMPAIGND_DATABASE_URL": url + ("&" if "?" in url else "?") + "application_name=" + cls.org})
        cls.tok = cls.srv.token("ada", cls.org, "admin")

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def test_cors_preflight_and_simple_requests(self):
        pre = {"Origin": "https://app.example", "Access-Control-Request-Method": "PATCH",
               "Access-Control-Request-Headers": "authorization, if-match"}
        st, h, _ = self.srv.request("OPTIONS", "/v1/campaigns/" + str(uuid.uuid4()), headers=pre)
        self.assertEqual((st, h["access-control-allow-origin"]), (204, "https://app.example"))
        self.assertIn("PATCH", h["access-control-allow-methods"])
        self.assertIn("If-Match", h["access-control-allow-headers"])
        st, h, _ = self.srv.request("GET", "/v1/campaigns", token=self.tok, headers={"Origin": "https://app.example"})
        self.assertEqual((st, h["access-control-allow-origin"]), (200, "https://app.example"))
        self.assertIn("ETag", h["access-control-expose-headers"])
        self.assertIn("Approval-Effect", h["access-control-expose-headers"])  # front ends read it after a PATCH
        # Another origin gets no CORS headers (the browser then blocks it).
        st, h, _ = self.srv.request("OPTIONS", "/v1/campaigns", headers=dict(pre, Origin="https://evil.example"))
        self.assertEqual(st, 204)
        self.assertNotIn("access-control-allow-origin", h)

    def admin_url(self):
        admin = os.environ.get("CAMPAIGND_TEST_ADMIN_URL")
        if not admin:
            self.skipTest("needs CAMPAIGND_TEST_ADMIN_URL (tests/run.sh sets it)")
        return admin

    def test_stale_pooled_connections_after_a_database_restart(self):
        """The database ends every backend of this server (a restart, a failover, an operator): the very next
        requests get their normal answers, the pooled connections being replaced as they are found gone."""
        admin = self.admin_url()

        def end_every_backend():
            out = subprocess.run(["psql", "-qAt", admin, "-c", "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid,"
                                  " 5000)) FROM pg_stat_activity"
                                  f" WHERE application_name = '{self.org}'"],
                                 check=True, capture_output=True, text=True)
            return int(out.stdout)

        def list_campaigns(_):
            return self.srv.request("GET", "/v1/campaigns", token=self.tok)[0]

        st, _, c = self.srv.request("POST", "/v1/campaigns", campaign(), self.tok)
        self.assertEqual(st, 201)
        with concurrent.futures.ThreadPoolExecutor(4) as ex:  # every connection of the pool in use, then pooled
            self.assertEqual(list(ex.map(list_campaigns, range(16))), [200] * 16)
        self.assertGreaterEqual(end_every_backend(), 2)
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            self.assertEqual(list(ex.map(list_campaigns, range(16))), [200] * 16)
        # a write: its BEGIN finds the connection gone and is sent again on a new one
        self.assertGreaterEqual(end_every_backend(), 1)
        self.assertEqual(self.srv.request("POST", "/v1/campaigns", campaign(), self.tok)[0], 201)
        self.assertGreaterEqual(end_every_backend(), 1)
        st, _, b = self.srv.request("PATCH", "/v1/campaigns/" + c["id"], {"notes": "after the restart"},
                                    self.tok, headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual((st, b["notes"]), (200, "after the restart"))
        self.assertGreaterEqual(end_every_backend(), 1)
        self.assertEqual(self.srv.request("GET", "/v1/campaigns/" + c["id"], token=self.tok)[0], 200)

    def test_database_unreachable_answers_503_then_recovers(self):
        """While the database refuses connections: 503 service_unavailable with Retry-After; then it recovers by
        itself. On a database of its own, so the other tests keep theirs."""
        admin = self.admin_url()
        db = "campaignd_gone_" + uuid.uuid4().hex[:8]
        base = os.environ["CAMPAIGND_TEST_DATABASE_URL"]
        head, _, query = base.partition("?")
        url = head.rsplit("/", 1)[0] + "/" + db + ("?" + query if query else "")

        def psql(sql):
            subprocess.run(["psql", "-qAt", "-v", "ON_ERROR_STOP=1", admin, "-c", sql], check=True,
                           capture_output=True)

        psql(f"CREATE DATABASE {db} OWNER campaignd")
        log = tempfile.TemporaryFile(mode="w+")
        srv = Server({"CAMPAIGND_DATABASE_URL": url}, log=log)
        try:
            tok = srv.token("ada", self.org, "admin")
            self.assertEqual(srv.request("GET", "/v1/campaigns", token=tok)[0], 200)
            psql(f"ALTER DATABASE {db} ALLOW_CONNECTIONS false")
            psql(f"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = '{db}'")
            for _ in range(3):
                st, h, b = srv.request("GET", "/v1/campaigns", token=tok)
                self.assertEqual((st, b["code"], h["retry-after"]), (503, "service_unavailable", "1"))
            rid = "gone-" + uuid.uuid4().hex
            time.sleep(1.1)  # past the connect back-off: this request tries to connect and fails
            self.assertEqual(srv.request("POST", "/v1/campaigns", campaign(), tok, headers={"X-Request-Id": rid})[0],
                             503)
            # a 5xx is logged once, by the layer that answered, with the request id and the cause
            log.seek(0)
            lines = [line for line in log if rid in line]
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("-> 503 service_unavailable", lines[0])
            self.assertIn("cause: ", lines[0])
            psql(f"ALTER DATABASE {db} ALLOW_CONNECTIONS true")
            statuses = []
            for _ in range(30):  # within the one-second connect back-off and a little more
                statuses.append(srv.request("GET", "/v1/campaigns", token=tok)[0])
                if statuses[-1] == 200:
                    break
                time.sleep(0.1)
            self.assertEqual(statuses[-1], 200, statuses)
            self.assertTrue(set(statuses) <= {200, 503}, statuses)
            self.assertEqual(srv.request("POST", "/v1/campaigns", campaign(), tok)[0], 201)
        finally:
            self.assertEqual(srv.stop(), 0)
            log.close()
            psql(f"ALTER DATABASE {db} ALLOW_CONNECTIONS true")
            psql(f"DROP DATABASE {db} WITH (FORCE)")

    def test_one_idempotency_key_used_concurrently(self):
        key = {"Idempotency-Key": "race-" + uuid.uuid4().hex}
        name = "Race " + uuid.uuid4().hex[:6]
        with concurrent.futures.ThreadPoolExecutor(12) as ex:
            results = list(ex.map(lambda _: self.srv.request("POST", "/v1/campaigns", campaign(name=name),
                                                             self.tok, headers=key), range(12)))
        codes = {(st, b.get("code") if st != 201 else None) for st, _, b in results}
        self.assertTrue(codes <= {(201, None), (409, "idempotency_in_progress")}, codes)
        ids = {b["id"] for st, _, b in results if st == 201}
        self.assertEqual(len(ids), 1)  # one campaign, whatever the interleaving
        st, _, page = self.srv.request("GET", "/v1/campaigns?limit=500&q=" + name.replace(" ", "%20"), token=self.tok)
        self.assertEqual(len(page["items"]), 1)


class ConfigTest(unittest.TestCase):
    def test_refuses_bad_configuration(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGND_")}
        env.update({"CAMPAIGND_DATABASE_URL": os.environ["CAMPAIGND_TEST_DATABASE_URL"],
                    "CAMPAIGND_JWT_SECRET": "short"})
        out = subprocess.run([BIN], env=env, capture_output=True, text=True, timeout=10)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("CAMPAIGND_JWT_SECRET", out.stderr)
        env["CAMPAIGND_JWT_SECRET"] = SECRET
        env["CAMPAIGND_PORT"] = "eighty"
        out = subprocess.run([BIN], env=env, capture_output=True, text=True, timeout=10)
        self.assertIn("CAMPAIGND_PORT", out.stderr)
        out = subprocess.run([BIN, "--help"], env=env, capture_output=True, text=True, timeout=10)
        self.assertIn("CAMPAIGND_DB_POOL_SIZE", out.stdout)


if __name__ == "__main__":
    main()
