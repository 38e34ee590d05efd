#!/usr/bin/env python3
"""API tests of webhooks: subscriptions (admin only, the secret shown once, rotation with both secrets signing,
the SSRF rules at subscription), and delivery by the worker to a real HTTP receiver started here, which verifies
every request as the Standard Webhooks specification says (webhook-id, webhook-timestamp within tolerance,
webhook-signature: one v1 HMAC-SHA256 per valid secret over id.timestamp.body, keyed with the base64 after
whsec_). Retries run on a compressed schedule (CAMPAIGND_WEBHOOK_RETRY_DIVISOR).
Usage: test_webhooks.py BINARY"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from harness import Server, campaign, main

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")

# A server that answers the API and delivers nothing, to private http receivers allowed (the tests' receiver
# listens on loopback); delivering servers add workers, a quick poll and a compressed schedule.
API = {"CAMPAIGND_WEBHOOK_ALLOW_HTTP": "1", "CAMPAIGND_WEBHOOK_ALLOW_PRIVATE": "1"}
DELIVER = dict(API, CAMPAIGND_WEBHOOK_WORKERS="2", CAMPAIGND_WEBHOOK_POLL_MS="20",
               CAMPAIGND_WEBHOOK_RETRY_DIVISOR="100000", CAMPAIGND_WEBHOOK_TIMEOUT="3",
               CAMPAIGND_WEBHOOK_CONNECT_TIMEOUT="1")


def psql(sql):
    cmd = ["psql", "-qAt", "-v", "ON_ERROR_STOP=1", DB, "-c", sql]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def verify(secret, headers, body, tolerance=300):
    """The Standard Webhooks verification, as its specification writes it; raises on any mismatch."""
    msg_id, ts, sigs = headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
    if abs(time.time() - int(ts)) > tolerance:
        raise ValueError("timestamp outside the tolerance")
    key = base64.b64decode(secret[len("whsec_"):])
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    for sig in sigs.split(" "):
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return json.loads(body)
    raise ValueError("no signature matches")


class Receiver:
    """A real HTTP receiver on loopback. Each request is recorded with its headers, body, arrival time and
    whether it verified against the secrets set for its path; answers follow the path's script (a list of
    (status, headers, delay) used in turn, the last repeated), 200 by default."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.scripts = {}
        self.secrets = {}
        self.in_flight = {}
        self.overlaps = {}  # path -> requests that came while another with their webhook-id was being answered
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                msg = headers.get("webhook-id")
                with receiver.lock:
                    if receiver.in_flight.get(msg):
                        receiver.overlaps[self.path] = receiver.overlaps.get(self.path, 0) + 1
                    receiver.in_flight[msg] = receiver.in_flight.get(msg, 0) + 1
                    script = receiver.scripts.get(self.path, [])
                    n = sum(1 for r in receiver.requests if r["path"] == self.path)
                    status, extra, delay = script[min(n, len(script) - 1)] if script else (200, {}, 0)
                    secrets = receiver.secrets.get(self.path, [])
                try:
                    verified = None
                    for secret in secrets:
                        try:
                            verified = verify(secret, headers, body)
                            break
                        except (ValueError, KeyError):
                            pass
                    if delay:
                        time.sleep(delay)
                    with receiver.lock:
                        receiver.requests.append({"path": self.path, "headers": headers, "body": body,
                                                  "at": time.time(), "verified": verified, "status": status})
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up (its attempt was cut)
                finally:
                    with receiver.lock:
                        receiver.in_flight[msg] -= 1

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def got(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def wait(self, path, n, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.got(path)
            if len(got) >= n:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{path}: {len(self.got(path))} requests, wanted {n}")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Base(unittest.TestCase):
    ENV = API

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(cls.ENV)
        cls.rx = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        # Nothing of this class's is left for the workers of later tests to attempt.
        psql("UPDATE webhook_subscriptions SET active = false WHERE org_id LIKE 'wh-%'")
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = "wh-" + uuid.uuid4().hex[:10]
        self.admin = self.srv.token("ada", self.org, "admin")
        self.manager = self.srv.token("mia", self.org, "manager")

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or self.admin, **kw)

    def subscribe(self, path=None, types=("*",), **over):
        path = path or "/" + uuid.uuid4().hex[:12]
        body = {"url": self.rx.url(path), "event_types": list(types), "description": "CRM"}
        body.update(over)
        st, h, b = self.req("POST", "/v1/webhooks", body)
        self.assertEqual(st, 201, b)
        self.rx.secrets[path] = [b["secret"]]
        b["path"] = path
        return b

    def deliveries(self, hook, **params):
        q = "&".join(f"{k}={v}" for k, v in params.items())
        st, _, b = self.req("GET", f"/v1/webhooks/{hook['id']}/deliveries?limit=500&{q}")
        self.assertEqual(st, 200, b)
        return b["items"]

    def until(self, what, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = what()
            if got:
                return got
            time.sleep(0.05)
        self.fail("timed out waiting")


class SubscriptionTest(Base):
    def test_create_shows_the_secret_once(self):
        st, h, b = self.req("POST", "/v1/webhooks", {"url": self.rx.url("/a"), "event_types": ["booking.created",
                                                     "campaign.status_changed"], "description": "CRM"})
        self.assertEqual(st, 201, b)
        self.assertEqual(h["location"], "/v1/webhooks/" + b["id"])
        self.assertEqual(h["etag"], '"1"')
        self.assertRegex(b["secret"], r"^whsec_[A-Za-z0-9+/]{43}=$")
        self.assertEqual(len(base64.b64decode(b["secret"][6:])), 32)
        self.assertEqual((b["active"], b["disabled_reason"], b["created_by"]), (True, None, "ada"))
        # never again: not in GET, not in the list, not in the audit trail
        st, _, got = self.req("GET", "/v1/webhooks/" + b["id"])
        self.assertEqual(st, 200)
        self.assertNotIn("secret", got)
        st, _, page = self.req("GET", "/v1/webhooks")
        self.assertEqual([w["id"] for w in page["items"]], [b["id"]])
        self.assertNotIn("secret", page["items"][0])
        self.assertEqual(psql(f"SELECT count(*) FROM audit_log WHERE entity = 'webhook' AND entity_id = '{b['id']}'"),
                         "1")
        self.assertEqual(psql(f"SELECT count(*) FROM audit_log WHERE org_id = '{self.org}' "
                              f"AND after::text LIKE '%whsec_%'"), "0")
        # two subscriptions get two secrets
        other = self.subscribe()
        self.assertNotEqual(other["secret"], b["secret"])

    def test_body_rules(self):
        url = self.rx.url("/b")
        for body, field in [
            ({"event_types": ["*"]}, "url"),
            ({"url": url}, "event_types"),
            ({"url": url, "event_types": []}, "event_types"),
            ({"url": url, "event_types": ["booking.created", "booking.exploded"]}, "event_types[1]"),
            ({"url": "ftp://127.0.0.1/x", "event_types": ["*"]}, "url"),
            ({"url": "not a url", "event_types": ["*"]}, "url"),
            ({"url": url, "event_types": ["*"], "secret": "whsec_mine"}, "secret"),
            ({"url": url, "event_types": ["*"], "colour": "red"}, "colour"),
        ]:
            st, _, b = self.req("POST", "/v1/webhooks", body)
            self.assertEqual(st, 422, (body, b))
            self.assertIn(field, [e["field"] for e in b["errors"]], b)
        self.assertEqual(psql(f"SELECT count(*) FROM webhook_subscriptions WHERE org_id = '{self.org}'"), "0")

    def test_only_admins_and_only_their_organisation(self):
        hook = self.subscribe()
        for role in ("manager", "planner", "approver", "analyst", "integration", "viewer"):
            tok = self.srv.token("x", self.org, role)
            for method, path, body in [
                ("GET", "/v1/webhooks", None),
                ("POST", "/v1/webhooks", {"url": self.rx.url("/r"), "event_types": ["*"]}),
                ("GET", "/v1/webhooks/" + hook["id"], None),
                ("PATCH", "/v1/webhooks/" + hook["id"], {"description": "x"}),
                ("DELETE", "/v1/webhooks/" + hook["id"], None),
                ("POST", f"/v1/webhooks/{hook['id']}/rotate-secret", None),
                ("GET", f"/v1/webhooks/{hook['id']}/deliveries", None),
                ("POST", f"/v1/webhooks/{hook['id']}/deliveries/{uuid.uuid4()}/retry", None),
            ]:
                st, _, b = self.req(method, path, body, tok)
                self.assertEqual(st, 403, (role, method, path, b))
        stranger = self.srv.token("ada", "wh-other-" + uuid.uuid4().hex[:6], "admin")
        for method, path in [("GET", "/v1/webhooks/" + hook["id"]), ("DELETE", "/v1/webhooks/" + hook["id"]),
                             ("POST", f"/v1/webhooks/{hook['id']}/rotate-secret"),
                             ("GET", f"/v1/webhooks/{hook['id']}/deliveries")]:
            st, _, b = self.req(method, path, None, stranger)
            self.assertEqual(st, 404, (method, path, b))
        st, _, b = self.req("GET", "/v1/webhooks", None, stranger)
        self.assertEqual(b["items"], [])
        st, _, b = self.req("GET", "/v1/webhooks/not-a-uuid")
        self.assertEqual(st, 400)

    def test_patch_delete_and_etags(self):
        hook = self.subscribe()
        st, h, b = self.req("PATCH", "/v1/webhooks/" + hook["id"], {"event_types": ["booking.cancelled"],
                            "description": None}, headers={"If-Match": '"1"',
                                                           "Content-Type": "application/merge-patch+json"})
        self.assertEqual((st, h["etag"], b["event_types"], b["description"]), (200, '"2"', ["booking.cancelled"], None))
        st, _, b = self.req("PATCH", "/v1/webhooks/" + hook["id"], {"active": False}, headers={"If-Match": '"1"'})
        self.assertEqual((st, b["code"]), (412, "precondition_failed"))
        st, _, b = self.req("PATCH", "/v1/webhooks/" + hook["id"], {"url": "https://169.254.169.254/latest"})
        self.assertEqual(st, 422)
        self.assertEqual([e["field"] for e in b["errors"]], ["url"])
        st, _, b = self.req("GET", "/v1/webhooks?active=false")
        self.assertEqual(b["items"], [])
        st, _, b = self.req("GET", "/v1/webhooks?active=maybe")
        self.assertEqual((st, b["code"]), (400, "invalid_parameter"))
        st, _, b = self.req("DELETE", "/v1/webhooks/" + hook["id"])
        self.assertEqual(st, 204)
        st, _, b = self.req("GET", "/v1/webhooks/" + hook["id"])
        self.assertEqual(st, 404)
        self.assertEqual(psql(f"SELECT count(*) FROM webhook_secrets WHERE subscription_id = '{hook['id']}'"), "0")

    def test_rotation_keeps_the_old_secret_for_a_day(self):
        hook = self.subscribe()
        st, h, b = self.req("POST", f"/v1/webhooks/{hook['id']}/rotate-secret", headers={"If-Match": '"1"'})
        self.assertEqual((st, h["etag"]), (200, '"2"'), b)
        self.assertRegex(b["secret"], r"^whsec_")
        self.assertNotEqual(b["secret"], hook["secret"])
        self.assertIsNotNone(b["secret_rotated_at"])
        left = psql(f"SELECT round(extract(epoch FROM expires_at - now()) / 3600) FROM webhook_secrets "
                    f"WHERE subscription_id = '{hook['id']}' AND expires_at IS NOT NULL")
        self.assertEqual(left, "24")
        st, _, b2 = self.req("POST", f"/v1/webhooks/{hook['id']}/rotate-secret", headers={"If-Match": '"1"'})
        self.assertEqual((st, b2["code"]), (412, "precondition_failed"))
        # the rotation is audited, its secret is not
        self.assertEqual(psql(f"SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE entity = 'webhook' "
                              f"AND entity_id = '{hook['id']}'"), "create,update")
        self.assertEqual(psql(f"SELECT count(*) FROM audit_log WHERE org_id = '{self.org}' "
                              f"AND (after::text LIKE '%whsec_%' OR before::text LIKE '%whsec_%')"), "0")


class StrictTest(Base):
    """The defaults: https only, no private addresses; the SSRF rules at subscription."""
    ENV = {}

    def test_ssrf_refusals(self):
        for url, why in [
            ("http://93.184.216.34/hook", "https"),
            ("https://127.0.0.1/hook", "private"),
            ("https://localhost:8443/hook", "private"),       # a DNS name resolving to loopback
            ("https://[::1]/hook", "private"),
            ("https://[::ffff:127.0.0.1]/hook", "private"),   # IPv4 mapped into IPv6
            ("https://10.0.0.7/hook", "private"),
            ("https://192.168.1.20/hook", "private"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),  # the cloud metadata address
            ("https://[fe80::1]/hook", "link-local"),
            ("https://0.0.0.0/hook", "link-local"),
            ("https://224.0.0.1/hook", "link-local"),
            ("https://2130706433/hook", "private"),           # 127.0.0.1 written as one number
            ("https://user:secret@93.184.216.34/hook", "credentials"),
            ("gopher://93.184.216.34/", "https"),
            ("file:///etc/passwd", "https"),
        ]:
            st, _, b = self.req("POST", "/v1/webhooks", {"url": url, "event_types": ["*"]})
            self.assertEqual(st, 422, (url, b))
            self.assertEqual([e["field"] for e in b["errors"]], ["url"], (url, b))
            self.assertIn(why, b["errors"][0]["message"], (url, b))
        self.assertEqual(psql(f"SELECT count(*) FROM webhook_subscriptions WHERE org_id = '{self.org}'"), "0")
        # a public address is fine (nothing is sent: this server delivers nothing)
        st, _, b = self.req("POST", "/v1/webhooks", {"url": "https://93.184.216.34/hook", "event_types": ["*"],
                                                     "active": False})
        self.assertEqual(st, 201, b)


class PermissiveTest(Base):
    """The switch for tests and on-premises receivers allows private targets, never link-local ones."""
    def test_private_allowed_metadata_never(self):
        st, _, b = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/x", "event_types": ["*"],
                                                     "active": False})
        self.assertEqual(st, 201, b)
        for url in ("http://169.254.169.254/latest/meta-data", "http://[::ffff:169.254.169.254]/"):
            st, _, b = self.req("POST", "/v1/webhooks", {"url": url, "event_types": ["*"]})
            self.assertEqual(st, 422, (url, b))


class DeliveryTest(Base):
    """One replica delivering, with a compressed schedule; every request the receiver gets must verify."""
    ENV = DELIVER

    def campaign(self, **over):
        st, _, b = self.req("POST", "/v1/campaigns", campaign(**over), self.manager)
        self.assertEqual(st, 201, b)
        return b

    def test_signed_delivery_of_each_event(self):
        hook = self.subscribe(types=("campaign.created", "campaign.status_changed"))
        camp = self.campaign()
        st, _, b = self.req("POST", f"/v1/campaigns/{camp['id']}/transitions", {"to": "cancelled", "reason": "r"},
                            self.manager)
        self.assertEqual(st, 200, b)
        got = self.rx.wait(hook["path"], 2)
        time.sleep(0.3)
        self.assertEqual(len(self.rx.got(hook["path"])), 2)  # nothing else: campaign.updated is not subscribed
        bodies = sorted((r["verified"] for r in got), key=lambda x: x["type"])
        self.assertTrue(all(bodies), got)
        self.assertEqual([b["type"] for b in bodies], ["campaign.created", "campaign.status_changed"])
        self.assertEqual(bodies[0]["data"]["campaign_id"], camp["id"])
        self.assertEqual(bodies[1]["data"]["to"], "cancelled")
        self.assertRegex(bodies[0]["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        for r in got:
            self.assertRegex(r["headers"]["webhook-id"], r"^msg_[0-9a-f]{32}$")
            self.assertEqual(r["headers"]["content-type"], "application/json")
            self.assertLessEqual(abs(int(r["headers"]["webhook-timestamp"]) - r["at"]), 5)
        log = self.until(lambda: [d for d in self.deliveries(hook) if d["status"] == "succeeded"] or None)
        ids = {d["message_id"] for d in self.deliveries(hook)}
        self.assertEqual(ids, {r["headers"]["webhook-id"] for r in got})
        self.assertEqual(log[0]["attempts"][0]["response_status"], 200)
        self.assertEqual(log[0]["attempts"][0]["response_body"], "ok")
        # another organisation's events never reach this subscription
        other = self.srv.token("ada", "wh-else-" + uuid.uuid4().hex[:6], "manager")
        self.req("POST", "/v1/campaigns", campaign(), other)
        time.sleep(0.3)
        self.assertEqual(len(self.rx.got(hook["path"])), 2)

    def test_metrics(self):
        hook = self.subscribe(types=("campaign.created",))
        self.rx.scripts[hook["path"]] = [(500, {}, 0), (200, {}, 0)]
        self.campaign()
        self.rx.wait(hook["path"], 2)
        time.sleep(0.2)
        st, _, text = self.srv.request("GET", "/metrics")
        self.assertEqual(st, 200)
        series = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
        self.assertGreaterEqual(int(series['campaignd_webhook_attempts_total{outcome="succeeded"}']), 1)
        self.assertGreaterEqual(int(series['campaignd_webhook_attempts_total{outcome="failed"}']), 1)
        for name in ("campaignd_outbox_lag_seconds", "campaignd_webhook_deliveries_pending",
                     "campaignd_webhook_subscriptions_disabled", "campaignd_webhook_oldest_due_seconds",
                     "campaignd_db_pool_waits_total", "campaignd_webhook_ssrf_refusals_total"):
            self.assertGreaterEqual(float(series[name]), 0, name)

    def test_failures_are_retried_with_the_same_id(self):
        hook = self.subscribe(types=("campaign.created",))
        self.rx.scripts[hook["path"]] = [(500, {}, 0), (503, {}, 0), (200, {}, 0)]
        self.campaign()
        got = self.rx.wait(hook["path"], 3)
        self.assertEqual(len({r["headers"]["webhook-id"] for r in got}), 1)
        self.assertTrue(all(r["verified"] for r in got))
        self.assertEqual([r["body"] for r in got], [got[0]["body"]] * 3)  # the same bytes every time
        d = self.until(lambda: [d for d in self.deliveries(hook) if d["status"] == "succeeded"] or None)[0]
        self.assertEqual([a["response_status"] for a in d["attempts"]], [500, 503, 200])
        self.assertEqual(d["attempt_count"], 3)
        st, _, b = self.req("GET", "/v1/webhooks/" + hook["id"])
        self.assertIsNone(b["failing_since"])  # a success ends the run of failures

    def test_retry_after_is_honoured(self):
        hook = self.subscribe(types=("campaign.created",))
        self.rx.scripts[hook["path"]] = [(429, {"Retry-After": "2"}, 0), (200, {}, 0)]
        self.campaign()
        got = self.rx.wait(hook["path"], 2)
        self.assertGreaterEqual(got[1]["at"] - got[0]["at"], 1.9)

    def test_the_schedule_ends_in_failure(self):
        hook = self.subscribe(types=("campaign.created",))
        self.rx.scripts[hook["path"]] = [(500, {}, 0)]
        self.campaign()
        d = self.until(lambda: [d for d in self.deliveries(hook) if d["status"] == "failed"] or None, 30)[0]
        self.assertEqual(d["attempt_count"], 8)
        self.assertEqual(len(self.rx.got(hook["path"])), 8)
        self.assertIsNone(d["next_attempt_at"])
        st, _, b = self.req("GET", "/v1/webhooks/" + hook["id"])
        self.assertIsNotNone(b["failing_since"])
        self.assertTrue(b["active"])  # within the configured days of failure it stays on

    def test_gone_disables_at_once(self):
        hook = self.subscribe(types=("campaign.created",))
        self.rx.scripts[hook["path"]] = [(410, {}, 0)]
        self.campaign()
        self.rx.wait(hook["path"], 1)
        b = self.until(lambda: (lambda b: b if not b["active"] else None)(self.req("GET", "/v1/webhooks/" + hook["id"])[2]))
        self.assertEqual(b["disabled_reason"], "gone")
        self.assertIsNotNone(b["disabled_at"])
        self.until(lambda: [d for d in self.deliveries(hook) if d["status"] == "failed"] or None)
        # no more deliveries while disabled; they wait, and come when an admin turns it on again
        self.campaign()
        time.sleep(0.5)
        self.assertEqual(len(self.rx.got(hook["path"])), 1)
        self.rx.scripts[hook["path"]] = [(200, {}, 0)]
        st, _, b = self.req("PATCH", "/v1/webhooks/" + hook["id"], {"active": True})
        self.assertEqual((st, b["active"], b["disabled_reason"], b["disabled_at"]), (200, True, None, None))
        self.campaign()
        self.rx.wait(hook["path"], 2)

    def test_redirects_are_not_followed(self):
        hook = self.subscribe(types=("campaign.created",))
        self.rx.scripts[hook["path"]] = [(302, {"Location": self.rx.url("/elsewhere")}, 0), (200, {}, 0)]
        self.campaign()
        self.rx.wait(hook["path"], 2)
        self.assertEqual(self.rx.got("/elsewhere"), [])
        d = self.until(lambda: [d for d in self.deliveries(hook) if d["status"] == "succeeded"] or None)[0]
        self.assertEqual([a["response_status"] for a in d["attempts"]], [302, 200])

    def test_both_secrets_sign_after_a_rotation(self):
        hook = self.subscribe(types=("campaign.created",))
        st, _, b = self.req("POST", f"/v1/webhooks/{hook['id']}/rotate-secret")
        self.assertEqual(st, 200)
        old, new = hook["secret"], b["secret"]
        self.campaign()
        r = self.rx.wait(hook["path"], 1)[0]
        self.assertEqual(len(r["headers"]["webhook-signature"].split(" ")), 2)
        verify(old, r["headers"], r["body"])
        verify(new, r["headers"], r["body"])
        with self.assertRaises(ValueError):  # the check can fail
            verify("whsec_" + base64.b64encode(b"x" * 32).decode(), r["headers"], r["body"])
        # once the old secret has expired, only the new one signs
        psql(f"UPDATE webhook_secrets SET expires_at = now() - interval '1 second' "
             f"WHERE subscription_id = '{hook['id']}' AND expires_at IS NOT NULL")
        self.campaign()
        r = self.rx.wait(hook["path"], 2)[1]
        self.assertEqual(len(r["headers"]["webhook-signature"].split(" ")), 1)
        verify(new, r["headers"], r["body"])


class ReferenceLibraryTest(Base):
    """What receivers run: the Standard Webhooks reference library from npm (standardwebhooks, pinned in
    tests/webhooks/package.json), unchanged, verifies every delivery (tests/webhooks/verify.mjs)."""
    ENV = DELIVER

    def test_the_reference_library_verifies_every_delivery(self):
        plain = self.subscribe()
        retried = self.subscribe(types=("campaign.created",))
        self.rx.scripts[retried["path"]] = [(500, {}, 0), (200, {}, 0)]
        rotated = self.subscribe()
        st, _, b = self.req("POST", f"/v1/webhooks/{rotated['id']}/rotate-secret")
        self.assertEqual(st, 200)
        new_secret = b["secret"]
        st, _, camp = self.req("POST", "/v1/campaigns", campaign(name="Ünïcode ✓ \"quoted\""), self.manager)
        self.assertEqual(st, 201)
        self.req("PATCH", "/v1/campaigns/" + camp["id"], {"notes": "line one\nline two"}, self.manager)
        self.rx.wait(plain["path"], 2)
        self.rx.wait(retried["path"], 2)
        self.rx.wait(rotated["path"], 2)
        cases = []
        for hook, secrets in ((plain, [plain["secret"]]), (retried, [retried["secret"]]),
                              (rotated, [rotated["secret"], new_secret])):
            for r in self.rx.got(hook["path"]):
                for secret in secrets:
                    cases.append({"secret": secret, "headers": r["headers"], "body": r["body"].decode()})
        # a control: another secret must not verify
        control = dict(cases[0], secret="whsec_" + base64.b64encode(b"y" * 32).decode(), expect="refused")
        here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "webhooks")
        if not os.path.isdir(os.path.join(here, "node_modules", "standardwebhooks")):
            subprocess.run(["npm", "ci", "--prefix", here, "--no-audit", "--no-fund", "--loglevel=error"], check=True,
                           stdout=subprocess.DEVNULL)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(cases + [control], f)
            f.flush()
            out = subprocess.run(["node", os.path.join(here, "verify.mjs"), f.name], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), f"{len(cases)} verified")
        self.assertGreaterEqual(len(cases), 8)


class DisableTest(Base):
    """Consecutive failure for longer than CAMPAIGND_WEBHOOK_DISABLE_AFTER (1 s here, 5 days by default)
    disables the subscription and records an endpoint.disabled event, delivered to whoever subscribed to it."""
    ENV = dict(DELIVER, CAMPAIGND_WEBHOOK_DISABLE_AFTER="1", CAMPAIGND_WEBHOOK_RETRY_DIVISOR="20000")

    def test_failing_for_too_long_disables(self):
        watcher = self.subscribe(types=("endpoint.disabled",))
        hook = self.subscribe(types=("campaign.created",))
        self.rx.scripts[hook["path"]] = [(500, {}, 0)]
        st, _, b = self.req("POST", "/v1/campaigns", campaign(), self.manager)
        self.assertEqual(st, 201)
        b = self.until(lambda: (lambda b: b if not b["active"] else None)(self.req("GET", "/v1/webhooks/" + hook["id"])[2]))
        self.assertEqual(b["disabled_reason"], "failing")
        self.assertIsNotNone(b["failing_since"])
        attempts = self.rx.got(hook["path"])
        self.assertGreaterEqual(attempts[-1]["at"] - attempts[0]["at"], 0.9)
        event = self.rx.wait(watcher["path"], 1)[0]["verified"]
        self.assertEqual(event["type"], "endpoint.disabled")
        self.assertEqual((event["data"]["webhook_id"], event["data"]["reason"]), (hook["id"], "failing"))
        self.assertEqual(psql(f"SELECT actor FROM audit_log WHERE entity = 'webhook' AND entity_id = '{hook['id']}' "
                              "ORDER BY id DESC LIMIT 1"), "system")
        # the rest waits: nothing more is attempted while it is disabled
        n = len(self.rx.got(hook["path"]))
        time.sleep(0.5)
        self.assertEqual(len(self.rx.got(hook["path"])), n)


class DeliveryReplayTest(Base):
    """The delivery log and a manual retry (replay) of what the endpoint dropped."""
    ENV = DELIVER

    def test_log_and_replay(self):
        hook = self.subscribe(types=("campaign.created",))
        for _ in range(3):
            self.req("POST", "/v1/campaigns", campaign(), self.manager)
        self.rx.wait(hook["path"], 3)
        items = self.until(lambda: (lambda d: d if len(d) == 3 and all(x["status"] == "succeeded" for x in d)
                                    else None)(self.deliveries(hook)))
        # cursor pages
        st, _, p1 = self.req("GET", f"/v1/webhooks/{hook['id']}/deliveries?limit=2")
        self.assertEqual((st, len(p1["items"])), (200, 2))
        st, _, p2 = self.req("GET", f"/v1/webhooks/{hook['id']}/deliveries?limit=2&cursor={p1['next_cursor']}")
        self.assertEqual(([d["id"] for d in p1["items"] + p2["items"]], p2["next_cursor"]),
                         ([d["id"] for d in items], None))
        st, _, b = self.req("GET", f"/v1/webhooks/{hook['id']}/deliveries?status=failed")
        self.assertEqual(b["items"], [])
        st, _, b = self.req("GET", f"/v1/webhooks/{hook['id']}/deliveries?status=lost")
        self.assertEqual((st, b["code"]), (400, "invalid_parameter"))
        d = items[0]
        self.assertEqual((d["event_type"], d["attempt_count"], len(d["attempts"])), ("campaign.created", 1, 1))
        a = d["attempts"][0]
        self.assertEqual((a["response_status"], a["manual"], a["error"]), (200, False, None))
        self.assertGreaterEqual(a["duration_ms"], 0)
        # the receiver lost it: replay, with the same webhook-id, recorded as manual
        st, _, b = self.req("POST", f"/v1/webhooks/{hook['id']}/deliveries/{d['id']}/retry")
        self.assertEqual((st, b["status"], b["id"]), (202, "pending", d["id"]), b)
        got = self.rx.wait(hook["path"], 4)
        self.assertEqual(got[-1]["headers"]["webhook-id"], d["message_id"])
        self.assertTrue(got[-1]["verified"])
        d2 = self.until(lambda: (lambda x: x if x["attempt_count"] == 2 and x["status"] == "succeeded" else None)(
            [x for x in self.deliveries(hook) if x["id"] == d["id"]][0]))
        self.assertEqual([x["manual"] for x in d2["attempts"]], [False, True])
        # a delivery of another subscription, or none at all: 404; a disabled subscription: 409
        other = self.subscribe(types=("booking.created",))
        st, _, b = self.req("POST", f"/v1/webhooks/{other['id']}/deliveries/{d['id']}/retry")
        self.assertEqual((st, b["code"]), (404, "not_found"))
        st, _, b = self.req("POST", f"/v1/webhooks/{hook['id']}/deliveries/{uuid.uuid4()}/retry")
        self.assertEqual((st, b["code"]), (404, "not_found"))
        st, _, b = self.req("PATCH", "/v1/webhooks/" + hook["id"], {"active": False})
        self.assertEqual(st, 200)
        st, _, b = self.req("POST", f"/v1/webhooks/{hook['id']}/deliveries/{d['id']}/retry")
        self.assertEqual((st, b["code"]), (409, "invalid_state"))
        stranger = self.srv.token("ada", "wh-x-" + uuid.uuid4().hex[:6], "admin")
        st, _, b = self.req("POST", f"/v1/webhooks/{hook['id']}/deliveries/{d['id']}/retry", None, stranger)
        self.assertEqual(st, 404)


class ReplicaTest(unittest.TestCase):
    """Several replicas, restarts and SIGTERM: the database holds every delivery's state."""

    @classmethod
    def setUpClass(cls):
        cls.api = Server(API)
        cls.rx = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.rx.close()
        psql("UPDATE webhook_subscriptions SET active = false WHERE org_id LIKE 'wh-%'")
        assert cls.api.stop() == 0

    def setUp(self):
        self.org = "wh-" + uuid.uuid4().hex[:10]
        self.admin = self.api.token("ada", self.org, "admin")

    def subscribe(self, path):
        st, _, b = self.api.request("POST", "/v1/webhooks", {"url": self.rx.url(path), "event_types": ["*"]},
                                    self.admin)
        self.assertEqual(st, 201, b)
        self.rx.secrets[path] = [b["secret"]]
        return b

    def events(self, n):
        """n outbox events of this organisation, as the writes that cause them would leave them."""
        psql(f"INSERT INTO organisations (id) VALUES ('{self.org}') ON CONFLICT DO NOTHING;"
             f"INSERT INTO outbox_events (org_id, type, entity, entity_id, payload, actor) "
             f"SELECT '{self.org}', 'booking.created', 'booking', gen_random_uuid(), jsonb_build_object('n', g), 't' "
             f"FROM generate_series(1, {n}) g")

    def statuses(self, hook):
        return psql(f"SELECT string_agg(status || ':' || n, ',' ORDER BY status) FROM (SELECT status, count(*) n "
                    f"FROM webhook_deliveries WHERE subscription_id = '{hook['id']}' GROUP BY status) s")

    def test_two_replicas_never_attempt_one_delivery_at_once(self):
        hook = self.subscribe("/two")
        self.rx.scripts["/two"] = [(200, {}, 0.01)]
        a, b = Server(DELIVER), Server(DELIVER)
        try:
            self.events(200)
            got = self.rx.wait("/two", 200, 60)
        finally:
            a.stop(), b.stop()
        ids = [r["headers"]["webhook-id"] for r in got]
        self.assertEqual(len(set(ids)), 200)
        self.assertEqual(len(ids), 200)  # each once: no attempt was made twice
        self.assertEqual(self.rx.overlaps.get("/two", 0), 0)
        self.assertTrue(all(r["verified"] for r in got))
        self.assertEqual(self.statuses(hook), "succeeded:200")
        self.assertEqual(psql(f"SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
                              f"WHERE d.subscription_id = '{hook['id']}'"), "200")

    def test_restart_in_the_middle_of_a_retry_run(self):
        hook = self.subscribe("/restart")
        self.rx.scripts["/restart"] = [(500, {}, 0), (500, {}, 0), (200, {}, 0)]
        env = dict(DELIVER, CAMPAIGND_WEBHOOK_RETRY_DIVISOR="300")  # 5 s -> 17 ms, 5 min -> 1 s
        first = Server(env)
        self.events(1)
        self.rx.wait("/restart", 2)
        self.assertEqual(first.stop(), 0)
        second = Server(env)
        try:
            got = self.rx.wait("/restart", 3)
            time.sleep(0.3)
        finally:
            second.stop()
        self.assertEqual(len(self.rx.got("/restart")), 3)
        self.assertEqual(len({r["headers"]["webhook-id"] for r in got}), 1)
        self.assertEqual(self.statuses(hook), "succeeded:1")
        self.assertEqual(psql(f"SELECT string_agg(response_status::text, ',' ORDER BY a.id) FROM webhook_attempts a "
                              f"JOIN webhook_deliveries d ON d.id = a.delivery_id "
                              f"WHERE d.subscription_id = '{hook['id']}'"), "500,500,200")

    def test_sigterm_lets_an_attempt_finish_or_leaves_it_due(self):
        hook = self.subscribe("/slow")
        # within the grace: the attempt finishes and is recorded
        self.rx.scripts["/slow"] = [(200, {}, 1.0)]
        srv = Server(dict(DELIVER, CAMPAIGND_SHUTDOWN_GRACE="5"))
        self.events(1)
        self.rx.wait("/slow", 0)
        deadline = time.time() + 10
        while not self.rx.in_flight.get(next(iter(self.rx.in_flight), None)) and time.time() < deadline:
            time.sleep(0.01)
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(self.statuses(hook), "succeeded:1")
        # past the grace: the attempt is cut, nothing is recorded, and the next replica delivers it
        hook2 = self.subscribe("/slower")
        self.rx.scripts["/slower"] = [(200, {}, 2.5), (200, {}, 0)]
        srv = Server(dict(DELIVER, CAMPAIGND_SHUTDOWN_GRACE="1"))
        self.events(1)
        deadline = time.time() + 10
        while self.statuses(hook2) != "pending:1" or not psql(
                f"SELECT count(*) FROM webhook_deliveries WHERE subscription_id = '{hook2['id']}' AND claim IS NOT NULL") == "1":
            self.assertLess(time.time(), deadline)
            time.sleep(0.02)
        t0 = time.time()
        self.assertEqual(srv.stop(), 0)
        self.assertLess(time.time() - t0, 2.4)
        self.assertEqual(psql(f"SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
                              f"WHERE d.subscription_id = '{hook2['id']}'"), "0")
        self.assertEqual(psql(f"SELECT claim IS NULL AND next_attempt_at <= now() FROM webhook_deliveries "
                              f"WHERE subscription_id = '{hook2['id']}'"), "t")
        srv = Server(DELIVER)
        try:
            self.rx.wait("/slower", 2)
            deadline = time.time() + 10
            while self.statuses(hook2) != "succeeded:1":
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
        finally:
            srv.stop()

    def test_ssrf_is_checked_again_at_delivery(self):
        """The subscription was accepted where private targets were allowed; a replica that refuses them does
        not connect (the address is checked where libcurl connects, so a DNS change cannot slip through)."""
        hook = self.subscribe("/ssrf")
        strict = Server(dict(DELIVER, CAMPAIGND_WEBHOOK_ALLOW_PRIVATE="0", CAMPAIGND_WEBHOOK_RETRY_DIVISOR="1"))
        try:
            self.events(1)
            deadline = time.time() + 10
            while psql(f"SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
                       f"WHERE d.subscription_id = '{hook['id']}'") != "1":
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
        finally:
            strict.stop()
        self.assertEqual(self.rx.got("/ssrf"), [])
        err = psql(f"SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
                   f"WHERE d.subscription_id = '{hook['id']}'")
        self.assertIn("loopback or private", err)

    def test_requests_are_not_slower_with_events_queued(self):
        """Events wait in the outbox and deliveries in their table; the request that causes one only inserts it."""
        tok = self.api.token("mia", self.org, "manager")

        def median_create():
            times = []
            for _ in range(15):
                t0 = time.perf_counter()
                st, _, b = self.api.request("POST", "/v1/campaigns", campaign(), tok)
                times.append(time.perf_counter() - t0)
                self.assertEqual(st, 201)
            return sorted(times)[len(times) // 2]

        base = median_create()
        hook = self.subscribe("/queued")
        self.rx.scripts["/queued"] = [(503, {"Retry-After": "3600"}, 0)]
        self.events(1000)
        srv = Server(DELIVER)
        try:
            queued = median_create()
        finally:
            srv.stop()
        pending = int(psql(f"SELECT count(*) FROM webhook_deliveries WHERE subscription_id = '{hook['id']}' "
                           f"AND status = 'pending'"))
        self.api.request("DELETE", "/v1/webhooks/" + hook["id"], token=self.admin)
        self.assertLess(queued, base * 3 + 0.02, (base, queued))
        self.assertGreater(pending, 0)


if __name__ == "__main__":
    main()
