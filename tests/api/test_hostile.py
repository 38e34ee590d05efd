#!/usr/bin/env python3
"""Hostile input on every write route: broken JSON, wrong top-level types,
duplicate keys, NUL bytes, deep nesting, oversized bodies, and every field of
each body replaced by values of the wrong type. Each must be a 4xx
problem+json (the harness fails any 5xx and checks the contract), and nothing
may be written. Usage: test_hostile.py BINARY"""
import os
import subprocess
import unittest
import uuid

from harness import Server, campaign, main

RAW_BODIES = [
    (b"{", 400), (b"[]", 400), (b'"text"', 400), (b"null", 400), (b"", 400),
    (b'{"a":1,"a":2}', 400), (b'{"name":"a\\u0000b"}', 400), (b"[" * 3000 + b"]" * 3000, 400),
    (b'{"name":' * 2000 + b"1" + b"}" * 2000, (400, 422)), (b"\xff\xfe{}", 400),
]
OPTIONAL_BODY = "/cancel"  # POST /v1/bookings/{id}/cancel takes no body at all
WRONG_VALUES = [None, 42, -1, 1.5, True, "", "x" * 5000, [], [1, 2], {}, {"a": {"b": {"c": []}}},
                "2026-02-30", "9999-99-99T99:99:99Z", "infinity", "'; DROP TABLE campaigns; --", "\u202e\ufeff"]


class HostileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.org = "hostile-" + uuid.uuid4().hex[:8]
        cls.admin = cls.srv.token("ada", cls.org, "admin")

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def make(self, path, body):
        st, _, b = self.srv.request("POST", path, body, self.admin)
        self.assertEqual(st, 201, (path, b))
        return b

    def routes(self):
        """(method, path, a valid body) for every write route."""
        camp = self.make("/v1/campaigns", campaign())
        seg = self.make("/v1/segments", {"name": "S " + uuid.uuid4().hex[:6]})
        res = self.make("/v1/resources", {"kind": "slot", "name": "R " + uuid.uuid4().hex[:6]})
        booking = {"campaign_id": camp["id"], "resource_id": res["id"], "start": "2026-03-02T09:00:00Z",
                   "end": "2026-03-02T10:00:00Z", "quantity": 1, "notes": "n"}
        bk = self.make("/v1/bookings", dict(booking, start="2026-04-02T09:00:00Z", end="2026-04-02T10:00:00Z"))
        ke_body = {"name": "Fair", "kind": "industry_event", "start_date": "2026-03-18", "end_date": "2026-03-19",
                   "description": "d"}
        ke = self.make("/v1/key-events", ke_body)
        wf_body = {"name": "W " + uuid.uuid4().hex[:6], "description": "d",
                   "steps": [{"name": "Director", "role": "manager", "approver_sub": "mia"}]}
        wf = self.make("/v1/workflows", wf_body)
        review = self.make("/v1/campaigns", campaign(name="In review"))
        appr = self.make(f"/v1/campaigns/{review['id']}/approval", {"workflow_id": wf["id"]})
        return [
            ("POST", "/v1/campaigns", campaign()),
            ("PATCH", "/v1/campaigns/" + camp["id"], {"name": "x", "budget": {"amount": "1.00", "currency": "EUR"}}),
            ("POST", f"/v1/campaigns/{camp['id']}/transitions", {"to": "cancelled", "reason": "r"}),
            ("POST", f"/v1/campaigns/{camp['id']}/approval", {"workflow_id": wf["id"]}),
            ("POST", "/v1/segments", {"name": "S2", "description": "d", "estimated_size": 5, "parent_id": seg["id"]}),
            ("PATCH", "/v1/segments/" + seg["id"], {"description": "d"}),
            ("POST", "/v1/resources", {"kind": "person", "name": "P", "capacity": 40, "capacity_unit": "hours_per_week",
                                       "skills": ["seo"], "cost_per_unit": {"amount": "1.00", "currency": "EUR"}}),
            ("PATCH", "/v1/resources/" + res["id"], {"notes": "n", "active": True}),
            ("POST", f"/v1/resources/{res['id']}/availability", {"kind": "leave", "start": "2026-05-01T00:00:00Z",
                                                                 "end": "2026-05-02T00:00:00Z", "note": "n"}),
            ("POST", "/v1/bookings", booking),
            ("PATCH", "/v1/bookings/" + bk["id"], {"status": "confirmed", "quantity": 1, "notes": "n"}),
            ("POST", f"/v1/bookings/{bk['id']}/cancel", {"reason": "r"}),
            ("POST", "/v1/key-events", ke_body),
            ("PATCH", "/v1/key-events/" + ke["id"], {"name": "y"}),
            ("POST", "/v1/calendar/feed-tokens", {"name": "t", "filters": {"resource_id": res["id"], "types": ["booking"],
                                                                           "channel": "email", "owner": "pat"}}),
            ("POST", "/v1/workflows", wf_body),
            ("PATCH", "/v1/workflows/" + wf["id"], {"description": "d2"}),
            ("POST", f"/v1/approvals/{appr['id']}/decisions", {"decision": "reject", "comment": "c", "step": 0}),
        ]

    def counts(self):
        sql = ("SELECT (SELECT count(*) FROM campaigns) + (SELECT count(*) FROM segments) + "
               "(SELECT count(*) FROM resources) + (SELECT count(*) FROM bookings) + (SELECT count(*) FROM key_events) + "
               "(SELECT count(*) FROM calendar_feed_tokens) + (SELECT count(*) FROM workflows) + "
               "(SELECT count(*) FROM approval_decisions) + (SELECT count(*) FROM audit_log)")
        return subprocess.run(["psql", "-qAt", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c", sql],
                              capture_output=True, text=True, check=True).stdout.strip()

    def test_hostile_bodies_everywhere(self):
        for method, path, valid in self.routes():
            for raw, want in RAW_BODIES:
                if raw == b"" and path.endswith(OPTIONAL_BODY):
                    continue
                st, _, b = self.srv.request(method, path, token=self.admin, raw=raw,
                                            headers={"Content-Type": "application/json"})
                self.assertIn(st, want if isinstance(want, tuple) else (want,), (method, path, raw[:20], b))
            st, _, b = self.srv.request(method, path, token=self.admin, raw=b"x" * 70000,
                                        headers={"Content-Type": "application/json"})
            self.assertEqual(st, 413, (method, path))
            st, _, b = self.srv.request(method, path, token=self.admin, raw=b"name=x",
                                        headers={"Content-Type": "text/plain"})
            self.assertEqual(st, 415, (method, path))
            for field in valid:
                for value in WRONG_VALUES:
                    body = dict(valid, **{field: value})
                    st, _, b = self.srv.request(method, path, body, self.admin)
                    if st < 300:
                        continue  # some values are valid for some fields (null notes, an empty string note)
                    self.assertIn(st, (400, 403, 404, 409, 422), (method, path, field, value, b))
            # Unknown fields are refused, never ignored.
            st, _, b = self.srv.request(method, path, dict(valid, colour="red"), self.admin)
            self.assertEqual(st, 422, (method, path, b))

    def test_refused_bodies_write_nothing(self):
        routes = self.routes()
        before = self.counts()
        for method, path, valid in routes:
            for raw, _ in RAW_BODIES:
                if raw == b"" and path.endswith(OPTIONAL_BODY):
                    continue
                self.srv.request(method, path, token=self.admin, raw=raw, headers={"Content-Type": "application/json"})
            self.srv.request(method, path, dict(valid, colour="red"), self.admin)
        self.assertEqual(self.counts(), before)


if __name__ == "__main__":
    main()
