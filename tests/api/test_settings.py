#!/usr/bin/env python3
"""API tests of what the conflict rules read: the organisation's settings (defaults, admin-only writes, merge
patch, ETag/If-Match, bounds and cross-field rules, the time zone and the capacity counts it moves, audit),
a segment's declared overlaps (symmetric, replaced as a whole, versions, audit, isolation) and a channel's
frequency cap. Usage: test_settings.py BINARY"""
import os
import subprocess
import unittest
import uuid

from harness import Server, main

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")

DEFAULTS = {"time_zone": "UTC", "overlap_window_days": 7, "overlap_ratio": 0.3,
            "frequency_cap": {"sends": 2, "days": 7}, "budget_warn_percent": 80, "budget_block_percent": 100,
            "capacity_warn_percent": 90, "unapproved_launch_days": 5,
            "priority_weights": {"engagement_potential": 30, "estimated_cpa": 25, "customer_experience": 20,
                                 "strategic_alignment": 25},
            "forceable_rules": ["budget_overrun", "blackout"], "risk_level_max": {"low": 4, "medium": 9, "high": 15},
            "version": 1, "updated_at": None}


def psql(sql):
    cmd = ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


class SettingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "st-" + uuid.uuid4().hex[:10]
        tok = lambda sub, role: self.srv.token(sub, self.org, role)
        self.admin, self.manager, self.planner = tok("ada", "admin"), tok("mia", "manager"), tok("pat", "planner")
        self.viewer, self.integration = tok("vic", "viewer"), tok("crm", "integration")

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or self.admin, **kw)

    def test_defaults_until_changed(self):
        st, h, b = self.req("GET", "/v1/settings", token=self.viewer)
        self.assertEqual(st, 200, b)
        self.assertEqual(b, DEFAULTS)
        self.assertEqual(h["etag"], '"1"')
        st, _, _ = self.req("GET", "/v1/settings", headers={"If-None-Match": '"1"'})
        self.assertEqual(st, 304)

    def test_admin_patches_with_if_match_and_is_audited(self):
        st, h, b = self.req("PATCH", "/v1/settings", {"overlap_window_days": 14, "frequency_cap": {"sends": 3},
                                                       "priority_weights": {"estimated_cpa": 0}},
                            headers={"If-Match": '"1"'})
        self.assertEqual(st, 200, b)
        self.assertEqual(b["overlap_window_days"], 14)
        self.assertEqual(b["frequency_cap"], {"sends": 3, "days": 7})  # merged field by field
        self.assertEqual(b["priority_weights"]["estimated_cpa"], 0)
        self.assertEqual(b["priority_weights"]["engagement_potential"], 30)
        self.assertGreater(b["version"], 1)
        self.assertIsNotNone(b["updated_at"])
        self.assertEqual(h["etag"], '"%d"' % b["version"])
        # the old ETag no longer matches: nothing changes
        st, _, p = self.req("PATCH", "/v1/settings", {"overlap_window_days": 3}, headers={"If-Match": '"1"'})
        self.assertEqual((st, p["code"]), (412, "precondition_failed"))
        st, _, again = self.req("GET", "/v1/settings")
        self.assertEqual(again["overlap_window_days"], 14)
        rows = psql(f"SELECT action, after->>'overlap_window_days', actor FROM audit_log "
                    f"WHERE org_id = '{self.org}' AND entity = 'settings' ORDER BY id")
        self.assertIn("update|14|ada", rows.splitlines())

    def test_only_admins_write(self):
        for tok in (self.manager, self.planner, self.viewer, self.integration):
            for body in ({"overlap_window_days": 3}, {"risk_level_max": {"high": 12}}):
                st, _, p = self.req("PATCH", "/v1/settings", body, token=tok)
                self.assertEqual((st, p["code"]), (403, "forbidden"))
        self.assertEqual(self.req("GET", "/v1/settings")[2], DEFAULTS)
        st, _, p = self.req("GET", "/v1/settings", token=self.integration)
        self.assertEqual(st, 403)
        st, _, p = self.srv.request("GET", "/v1/settings")
        self.assertEqual(st, 401)

    def test_bounds_and_cross_field_rules(self):
        bad = [({"overlap_window_days": 0}, "overlap_window_days"), ({"overlap_ratio": 1.5}, "overlap_ratio"),
               ({"overlap_ratio": "0.3"}, "overlap_ratio"), ({"frequency_cap": {"sends": 0}}, "frequency_cap.sends"),
               ({"budget_warn_percent": None}, "budget_warn_percent"), ({"capacity_warn_percent": 101},
                                                                        "capacity_warn_percent"),
               ({"budget_warn_percent": 101}, "budget_warn_percent"),  # above the block percentage (100)
               ({"priority_weights": {"engagement_potential": 0, "estimated_cpa": 0, "customer_experience": 0,
                                      "strategic_alignment": 0}}, "priority_weights"),
               ({"forceable_rules": ["resource_double_booked"]}, "forceable_rules"),
               ({"time_zone": "+05"}, "time_zone"), ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
               ({"version": 9}, "version"), ({"colour": "red"}, "colour"),
               # risk levels: 1–25 each, rising strictly once merged over the stored 4, 9, 15
               ({"risk_level_max": {"high": 26}}, "risk_level_max.high"),
               ({"risk_level_max": {"low": 0}}, "risk_level_max.low"),
               ({"risk_level_max": {"medium": "9"}}, "risk_level_max.medium"),
               ({"risk_level_max": {"critical": 20}}, "risk_level_max.critical"),
               ({"risk_level_max": None}, "risk_level_max"),
               ({"risk_level_max": {"medium": 4}}, "risk_level_max"),
               ({"risk_level_max": {"high": 9}}, "risk_level_max"),
               ({"risk_level_max": {"low": 20, "medium": 15, "high": 10}}, "risk_level_max")]
        for body, field in bad:
            st, _, p = self.req("PATCH", "/v1/settings", body)
            self.assertEqual(st, 422, (body, p))
            self.assertIn(field, [e["field"] for e in p["errors"]], body)
        st, _, b = self.req("GET", "/v1/settings")
        self.assertEqual(b, DEFAULTS)  # nothing half-written
        # both percentages together may move past each other's old value
        st, _, b = self.req("PATCH", "/v1/settings", {"budget_warn_percent": 110, "budget_block_percent": 120})
        self.assertEqual(st, 200, b)
        # thresholds merge field by field: a higher low and medium with the stored high
        st, _, b = self.req("PATCH", "/v1/settings", {"risk_level_max": {"low": 6, "medium": 12}})
        self.assertEqual((st, b["risk_level_max"]), (200, {"low": 6, "medium": 12, "high": 15}), b)
        rows = psql(f"SELECT after->>'risk_low_max', after->>'risk_medium_max' FROM audit_log "
                    f"WHERE org_id = '{self.org}' AND entity = 'settings' ORDER BY id DESC LIMIT 1")
        self.assertEqual(rows, "6|12")  # audited like every setting
        st, _, p = self.req("PATCH", "/v1/settings", "not an object")
        self.assertEqual(st, 400)

    def test_time_zone_moves_daily_counts(self):
        # a channel of 3 sends a day, booked 2 + 2 on two UTC days that are one day in Pacific/Auckland
        st, _, ch = self.req("POST", "/v1/resources", {"kind": "channel", "name": "SMS", "capacity": 3,
                                                       "capacity_unit": "sends_per_day"})
        self.assertEqual(st, 201, ch)
        st, _, c = self.req("POST", "/v1/campaigns", {"name": "Winter", "objective": "retention",
                                                      "start_date": "2027-06-01", "end_date": "2027-06-30"})
        for start, end in (("2027-06-10T10:00:00Z", "2027-06-10T11:00:00Z"),
                           ("2027-06-09T20:00:00Z", "2027-06-09T21:00:00Z")):
            st, _, b = self.req("POST", "/v1/bookings", {"campaign_id": c["id"], "resource_id": ch["id"],
                                                         "start": start, "end": end, "quantity": 2})
            self.assertEqual(st, 201, b)
        st, _, p = self.req("PATCH", "/v1/settings", {"time_zone": "Pacific/Auckland"})
        self.assertEqual((st, p["code"]), (409, "booking_conflict"), p)
        self.assertEqual(p["rule"], "capacity_exceeded")
        st, _, b = self.req("GET", "/v1/settings")
        self.assertEqual(b["time_zone"], "UTC")
        st, _, b = self.req("PATCH", "/v1/settings", {"time_zone": "Europe/Paris"})
        self.assertEqual((st, b["time_zone"]), (200, "Europe/Paris"), b)
        self.assertEqual(psql(f"SELECT time_zone FROM organisations WHERE id = '{self.org}'"), "Europe/Paris")

    def test_isolation(self):
        st, _, _ = self.req("PATCH", "/v1/settings", {"overlap_window_days": 21})
        other = self.srv.token("ada", "o-" + uuid.uuid4().hex[:8], "admin")
        st, _, b = self.req("GET", "/v1/settings", token=other)
        self.assertEqual(b["overlap_window_days"], 7)


class OverlapsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "ov-" + uuid.uuid4().hex[:10]
        tok = lambda sub, role: self.srv.token(sub, self.org, role)
        self.admin, self.manager, self.planner = tok("ada", "admin"), tok("mia", "manager"), tok("pat", "planner")
        self.integration = tok("crm", "integration")

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or self.manager, **kw)

    def segment(self, name):
        st, _, b = self.req("POST", "/v1/segments", {"name": name})
        self.assertEqual(st, 201, b)
        return b["id"]

    def test_symmetric_replace_and_versions(self):
        a, b, c = self.segment("Newsletter"), self.segment("Loyal"), self.segment("Lapsed")
        st, h, got = self.req("GET", f"/v1/segments/{a}/overlaps", token=self.planner)
        self.assertEqual((st, got["overlaps"], got["version"]), (200, [], 1))
        st, h, got = self.req("PUT", f"/v1/segments/{a}/overlaps",
                              {"overlaps": [{"segment_id": b, "ratio": 0.3}, {"segment_id": c, "ratio": 0.12345}]},
                              headers={"If-Match": '"1"'})
        self.assertEqual(st, 200, got)
        self.assertEqual(sorted((o["segment_id"], o["ratio"]) for o in got["overlaps"]),
                         sorted([(b, 0.3), (c, 0.1235)]))
        self.assertEqual(h["etag"], '"2"')
        # the other side sees the pair, and its version moved too
        st, h, got = self.req("GET", f"/v1/segments/{b}/overlaps")
        self.assertEqual(got["overlaps"], [{"segment_id": a, "ratio": 0.3}])
        self.assertEqual(h["etag"], '"2"')
        # declared from b's side, the pair keeps one ratio; a's list follows; c's pair with a stays
        st, _, got = self.req("PUT", f"/v1/segments/{b}/overlaps", {"overlaps": [{"segment_id": a, "ratio": 0.5}]})
        self.assertEqual(st, 200, got)
        st, _, got = self.req("GET", f"/v1/segments/{a}/overlaps")
        self.assertEqual(sorted(o["ratio"] for o in got["overlaps"]), [0.1235, 0.5])
        # an empty list removes a's pairs on both sides
        st, _, got = self.req("PUT", f"/v1/segments/{a}/overlaps", {"overlaps": []})
        self.assertEqual((st, got["overlaps"]), (200, []))
        st, _, got = self.req("GET", f"/v1/segments/{c}/overlaps")
        self.assertEqual(got["overlaps"], [])
        st, _, p = self.req("PUT", f"/v1/segments/{a}/overlaps", {"overlaps": []}, headers={"If-Match": '"1"'})
        self.assertEqual(st, 412)
        audit = psql(f"SELECT count(*) FROM audit_log WHERE org_id = '{self.org}' AND entity = 'segment_overlap'")
        self.assertGreaterEqual(int(audit), 5)  # 2 created, 1 updated, 2 deleted

    def test_hostile_bodies_and_roles(self):
        a, b = self.segment("A"), self.segment("B")
        bad = [({"overlaps": [{"segment_id": a, "ratio": 0.5}]}, "overlaps[0]"),
               ({"overlaps": [{"segment_id": b, "ratio": 0.5}, {"segment_id": b, "ratio": 0.2}]}, "overlaps[1]"),
               ({"overlaps": [{"segment_id": b, "ratio": 1.01}]}, "overlaps[0].ratio"),
               ({"overlaps": [{"segment_id": b, "ratio": -0.1}]}, "overlaps[0].ratio"),
               ({"overlaps": [{"segment_id": "nope", "ratio": 0.1}]}, "overlaps[0].segment_id"),
               ({"overlaps": [{"segment_id": b}]}, "overlaps[0].ratio"),
               ({"overlaps": [b]}, "overlaps[0]"),
               ({"overlaps": {"segment_id": b}}, "overlaps"), ({}, "overlaps"),
               ({"overlaps": [], "extra": 1}, "extra"),
               ({"overlaps": [{"segment_id": str(uuid.uuid4()), "ratio": 0.1}]}, "overlaps")]
        for body, field in bad:
            st, _, p = self.req("PUT", f"/v1/segments/{a}/overlaps", body)
            self.assertEqual(st, 422, (body, p))
            self.assertIn(field, [e["field"] for e in p["errors"]], (body, p))
        st, _, got = self.req("GET", f"/v1/segments/{a}/overlaps")
        self.assertEqual((got["overlaps"], got["version"]), ([], 1))
        for tok in (self.planner, self.integration):
            st, _, _ = self.req("PUT", f"/v1/segments/{a}/overlaps", {"overlaps": []}, token=tok)
            self.assertEqual(st, 403)
        st, _, _ = self.req("GET", f"/v1/segments/{uuid.uuid4()}/overlaps")
        self.assertEqual(st, 404)
        st, _, _ = self.req("GET", "/v1/segments/not-a-uuid/overlaps")
        self.assertEqual(st, 400)

    def test_isolation(self):
        a = self.segment("Mine")
        other = self.srv.token("mia", "o-" + uuid.uuid4().hex[:8], "manager")
        theirs = self.srv.request("POST", "/v1/segments", {"name": "Theirs"}, other)[2]["id"]
        st, _, p = self.req("PUT", f"/v1/segments/{a}/overlaps", {"overlaps": [{"segment_id": theirs, "ratio": 0.4}]})
        self.assertEqual(st, 422, p)
        st, _, _ = self.srv.request("GET", f"/v1/segments/{a}/overlaps", None, other)
        self.assertEqual(st, 404)
        st, _, _ = self.srv.request("PUT", f"/v1/segments/{a}/overlaps", {"overlaps": []}, other)
        self.assertEqual(st, 404)

    def test_deleting_a_segment_drops_its_pairs(self):
        a, b = self.segment("Keep"), self.segment("Drop")
        self.req("PUT", f"/v1/segments/{a}/overlaps", {"overlaps": [{"segment_id": b, "ratio": 0.4}]})
        st, _, _ = self.req("DELETE", f"/v1/segments/{b}")
        self.assertEqual(st, 204)
        st, _, got = self.req("GET", f"/v1/segments/{a}/overlaps")
        self.assertEqual(got["overlaps"], [])


class FrequencyCapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.tok = self.srv.token("mia", "fc-" + uuid.uuid4().hex[:10], "manager")

    def req(self, method, path, body=None):
        return self.srv.request(method, path, body, self.tok)

    def test_channels_have_a_cap_per_segment(self):
        st, _, r = self.req("POST", "/v1/resources", {"kind": "channel", "name": "Email",
                                                      "frequency_cap": {"sends": 3, "days": 7}})
        self.assertEqual((st, r["frequency_cap"]), (201, {"sends": 3, "days": 7}), r)
        st, _, r = self.req("PATCH", f"/v1/resources/{r['id']}", {"frequency_cap": {"sends": 2, "days": 14}})
        self.assertEqual((st, r["frequency_cap"]), (200, {"sends": 2, "days": 14}), r)
        st, _, p = self.req("PATCH", f"/v1/resources/{r['id']}", {"frequency_cap": {"days": 14}})
        self.assertEqual(st, 422, p)  # a cap is replaced whole
        st, _, r = self.req("PATCH", f"/v1/resources/{r['id']}", {"frequency_cap": None})
        self.assertEqual((st, r["frequency_cap"]), (200, None), r)
        st, _, p = self.req("POST", "/v1/resources", {"kind": "person", "name": "Writer",
                                                      "frequency_cap": {"sends": 3, "days": 7}})
        self.assertEqual((st, p["errors"][0]["field"]), (422, "frequency_cap"), p)
        for cap in ({"sends": 0, "days": 7}, {"sends": 2, "days": 366}, {"sends": 2}, "weekly"):
            st, _, p = self.req("POST", "/v1/resources", {"kind": "channel", "name": "SMS", "frequency_cap": cap})
            self.assertEqual(st, 422, (cap, p))


if __name__ == "__main__":
    main()
