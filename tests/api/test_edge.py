#!/usr/bin/env python3
"""Hostile traffic at the HTTP edge, against the real binary: request targets
and heads too large for the server, multipart and form bodies, bodies over the
limit (declared, chunked, behind `Expect: 100-continue`), duplicate
Content-Length, non-UTF-8 JSON, HEAD on every GET route, idle and slowloris
connections, and SIGTERM with accepted work queued behind a row lock.
Every answer is checked against openapi.yaml. Usage: test_edge.py BINARY"""
import datetime
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest
import uuid

import icalendar

from harness import BIN, SPEC, Server, campaign, check_contract, main

SANITIZED = "libasan" in subprocess.run(["ldd", BIN], capture_output=True, text=True).stdout


def read_response(sock, head_only=False):
    """Reads one HTTP/1.1 response (Content-Length framed) → (status, headers, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response head: {buf[:200]!r}")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def checked(method, path, status, headers, body):
    """The contract check the harness applies, for a response read off a raw socket."""
    ctype = headers.get("content-type", "")
    parsed = json.loads(body) if body and "json" in ctype else None
    check_contract(method, path, status, ctype, parsed, headers)
    return parsed


class Raw:
    """One client connection written byte for byte, optionally from another loopback address."""

    def __init__(self, port, source="127.0.0.1", timeout=10):
        self.sock = socket.socket()
        self.sock.settimeout(timeout)
        self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))

    def exchange(self, data):
        self.sock.sendall(data)
        return read_response(self.sock)

    def close(self):
        self.sock.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


class EdgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.org = "edge-" + uuid.uuid4().hex[:8]
        cls.admin = cls.srv.token("ada", cls.org, "admin")

    @classmethod
    def tearDownClass(cls):
        # Under LeakSanitizer a leak makes the exit status non-zero.
        assert cls.srv.stop() == 0

    def raw(self, data):
        c = Raw(self.srv.port)
        try:
            return c.exchange(data)
        finally:
            c.close()

    def get_raw(self, target, extra=b""):
        st, h, body = self.raw(b"GET " + target.encode() + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n")
        return st, h, checked("GET", target, st, h, body)

    def write_routes(self):
        """(method, path) of every operation with a request body, ids filled with fresh UUIDs."""
        for template, item in SPEC["paths"].items():
            for method, op in item.items():
                if isinstance(op, dict) and "requestBody" in op:
                    yield method.upper(), re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), template)

    # 1. Targets and heads the server cannot take: one problem+json each, and nothing kept.

    def test_oversized_targets_and_heads_are_answered_and_leak_nothing(self):
        many = "/healthz?" + "&".join(f"p{i}=v" for i in range(500))
        long = "/healthz?q=" + "a" * 9000
        big_head = b"X-Filler: " + b"a" * 20000 + b"\r\n"
        st, _, b = self.get_raw(many)
        self.assertEqual((st, b["code"]), (400, "invalid_parameter"), b)
        st, _, b = self.get_raw(long)
        self.assertEqual((st, b["code"]), (414, "uri_too_long"), b)
        st, _, b = self.get_raw("/healthz", big_head)
        self.assertEqual((st, b["code"]), (431, "headers_too_large"), b)
        # Up to 30 KiB the per-connection memory pool still holds the head: the answer is ours, not the library's.
        st, _, b = self.get_raw("/healthz?q=" + "a" * 30000)
        self.assertEqual((st, b["code"]), (414, "uri_too_long"), b)
        st, _, b = self.get_raw("/healthz", b"X-Filler: " + b"a" * 30000 + b"\r\n")
        self.assertEqual((st, b["code"]), (431, "headers_too_large"), b)
        st, _, _ = self.get_raw("/healthz", b"X-Filler: " + b"a" * 16000 + b"\r\n")
        self.assertEqual(st, 200)
        # Far past the server's per-connection buffer the HTTP library answers by itself.
        st, _, _ = self.raw(b"GET /healthz?" + b"a" * 70000 + b" HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertEqual(st, 414)
        st, _, _ = self.raw(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Filler: " + b"a" * 70000 + b"\r\n\r\n")
        self.assertIn(st, (413, 431))

        def burst(n):
            for i in range(n):
                target = (many, long, "/healthz")[i % 3]
                st, _, _ = self.raw(b"GET " + target.encode() + b" HTTP/1.1\r\nHost: t\r\n" +
                                    (big_head if i % 3 == 2 else b"") + b"\r\n")
                self.assertIn(st, (400, 414, 431))

        burst(600)
        before = rss_kib(self.srv.proc.pid)
        burst(3000)
        grown = rss_kib(self.srv.proc.pid) - before
        if not SANITIZED:  # ASan's quarantine grows by design; LeakSanitizer checks this build at exit
            self.assertLess(grown, 2048, f"RSS grew {grown} KiB over 3,000 refused requests")

    # Request ids.

    def test_every_answer_has_a_distinct_uuid_request_id_unless_the_client_sent_one(self):
        v4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        seen = []

        def client():
            c = Raw(self.srv.port)
            try:
                for _ in range(250):
                    _, h, _ = c.exchange(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                    seen.append(h["x-request-id"])
            finally:
                c.close()

        threads = [threading.Thread(target=client) for _ in range(8)]  # spread over the HTTP threads
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(seen), 2000)
        self.assertEqual([r for r in seen if not v4.match(r)], [])
        self.assertEqual(len(set(seen)), 2000)
        _, h, _ = self.get_raw("/healthz", b"X-Request-Id: crm-42.a_b:c\r\n")
        self.assertEqual(h["x-request-id"], "crm-42.a_b:c")
        _, h, _ = self.get_raw("/healthz", b"X-Request-Id: bad id\r\n")
        self.assertRegex(h["x-request-id"], v4)

    # 3. multipart/form-data and forms on every write route.

    def test_form_and_multipart_bodies_are_415_on_every_write_route(self):
        types = [b"multipart/form-data", b"multipart/form-data; boundary=XyZ",
                 b"application/x-www-form-urlencoded"]
        body = b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--XyZ--\r\n'
        routes = list(self.write_routes())
        self.assertGreaterEqual(len(routes), 18)
        for method, path in routes:
            for ctype in types:
                st, h, raw = self.raw(method.encode() + b" " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" +
                                      b"Authorization: Bearer " + self.admin.encode() + b"\r\nContent-Type: " + ctype +
                                      b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                b = checked(method, path, st, h, raw)
                self.assertEqual((st, b["code"]), (415, "unsupported_media_type"), (method, path, ctype))

    # 6. Bodies over the limit (65536 bytes in the harness) are refused before they are read.

    def send_oversized(self, head, chunks):
        """Sends head then body chunks while reading; returns (status, problem, bytes of body sent)."""
        c = Raw(self.srv.port)
        sent = [0]

        def pump():
            try:
                for chunk in chunks:
                    c.sock.sendall(chunk)
                    sent[0] += len(chunk)
            except OSError:
                pass  # the server closed after answering

        c.sock.sendall(head)
        t = threading.Thread(target=pump)
        t.start()
        try:
            st, h, raw = read_response(c.sock)
        finally:
            c.close()
            t.join()
        return st, checked("POST", "/v1/campaigns", st, h, raw), sent[0]

    def test_oversized_bodies_are_refused_before_they_are_read(self):
        auth = b"Authorization: Bearer " + self.admin.encode() + b"\r\n"
        total = 50 * 1024 * 1024
        # Expect: 100-continue with a 50 MB length: 413 instead of 100 Continue.
        c = Raw(self.srv.port)
        try:
            st, h, raw = c.exchange(b"POST /v1/campaigns HTTP/1.1\r\nHost: t\r\n" + auth +
                                    b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                                    b"Content-Length: " + str(total).encode() + b"\r\n\r\n")
        finally:
            c.close()
        b = checked("POST", "/v1/campaigns", st, h, raw)
        self.assertEqual((st, b["code"]), (413, "payload_too_large"))
        self.assertEqual(h.get("connection"), "close")
        # A declared 50 MB body and a chunked one: answered long before 50 MB are sent.
        declared = (b"x" * 65536 for _ in range(total // 65536))
        st, b, sent = self.send_oversized(b"POST /v1/campaigns HTTP/1.1\r\nHost: t\r\n" + auth +
                                          b"Content-Type: application/json\r\nContent-Length: " +
                                          str(total).encode() + b"\r\n\r\n", declared)
        self.assertEqual((st, b["code"]), (413, "payload_too_large"))
        self.assertLess(sent, total // 4)
        chunked = (b"10000\r\n" + b"x" * 65536 + b"\r\n" for _ in range(total // 65536))
        st, b, sent = self.send_oversized(b"POST /v1/campaigns HTTP/1.1\r\nHost: t\r\n" + auth +
                                          b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                                          chunked)
        self.assertEqual((st, b["code"]), (413, "payload_too_large"))
        self.assertLess(sent, total // 4)
        # A chunked body within the limit is still taken.
        body = json.dumps(campaign(name="Chunked")).encode()
        c = Raw(self.srv.port)
        try:
            st, h, raw = c.exchange(b"POST /v1/campaigns HTTP/1.1\r\nHost: t\r\n" + auth +
                                    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                    b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        finally:
            c.close()
        self.assertEqual(st, 201, raw)

    # 7. Lenient parsing.

    def test_two_different_content_lengths_are_400(self):
        body = json.dumps(campaign(name="Twice")).encode()
        st, h, raw = self.raw(b"POST /v1/campaigns HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                              self.admin.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: " +
                              str(len(body)).encode() + b"\r\nContent-Length: " + str(len(body) - 1).encode() +
                              b"\r\n\r\n" + body)
        b = checked("POST", "/v1/campaigns", st, h, raw)
        self.assertEqual((st, b["code"]), (400, "invalid_parameter"), b)
        st, _, b = self.srv.request("GET", "/v1/campaigns?q=Twice", token=self.admin)
        self.assertEqual(b["items"], [])

    def test_json_in_another_charset_is_415(self):
        body = campaign(name="Charset")
        for ctype, data in [("application/json; charset=utf-16", json.dumps(body).encode("utf-16")),
                            ("application/json; charset=iso-8859-1", json.dumps(body).encode("latin-1")),
                            ("application/json;charset=\"UTF-16LE\"", json.dumps(body).encode("utf-16-le"))]:
            st, _, b = self.srv.request("POST", "/v1/campaigns", token=self.admin, raw=data,
                                        headers={"Content-Type": ctype})
            self.assertEqual((st, b["code"]), (415, "unsupported_media_type"), ctype)
        for ctype in ["application/json; charset=UTF-8", "application/json;charset=\"utf-8\"", "application/json"]:
            st, _, b = self.srv.request("POST", "/v1/campaigns", token=self.admin, raw=json.dumps(body).encode(),
                                        headers={"Content-Type": ctype})
            self.assertEqual(st, 201, (ctype, b))

    def test_head_is_served_for_every_get_route(self):
        st, _, camp = self.srv.request("POST", "/v1/campaigns", campaign(name="Headed"), self.admin)
        self.assertEqual(st, 201)
        queries = {"/v1/calendar": "?from=2026-03-01&to=2026-04-01", "/v1/calendar.ics": "?from=2026-03-01&to=2026-04-01"}
        paths = [t for t, item in SPEC["paths"].items() if "get" in item]
        self.assertGreaterEqual(len(paths), 20)
        for template in paths:
            fill = camp["id"] if template == "/v1/campaigns/{id}" else None
            path = re.sub(r"\{[^}]+\}", lambda _: fill or str(uuid.uuid4()), template) + queries.get(template, "")
            got = self.srv.request("GET", path, token=self.admin)
            c = Raw(self.srv.port)
            try:
                c.sock.sendall(b"HEAD " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                               self.admin.encode() + b"\r\n\r\n")
                head = read_response(c.sock, head_only=True)
                c.sock.settimeout(0.3)  # nothing may follow the head
                try:
                    extra = c.sock.recv(100)
                except socket.timeout:
                    extra = b""
            finally:
                c.close()
            self.assertEqual(head[0], got[0], path)
            self.assertEqual(head[2] + extra, b"", path)
            ignore = {"date", "x-request-id", "connection"} | ({"content-length"} if path == "/metrics" else set())
            self.assertEqual({k: v for k, v in head[1].items() if k not in ignore},
                             {k: v for k, v in got[1].items() if k not in ignore}, path)
        # A method a path does not take: 405, and Allow names HEAD beside GET.
        st, h, _ = self.srv.request("DELETE", "/healthz")
        self.assertEqual(st, 405)
        self.assertEqual(h["allow"], "GET, HEAD")


class DatesTest(unittest.TestCase):
    """4. Year 10000: no date or instant that some output cannot write is stored, by the API or by anyone."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.admin = cls.srv.token("ada", "dates-" + uuid.uuid4().hex[:8], "admin")

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def post(self, path, body, want):
        st, _, b = self.srv.request("POST", path, body, self.admin)
        self.assertEqual(st, want, (path, body, b))
        return b

    def refused(self, path, body, *fields):
        b = self.post(path, body, 422)
        self.assertEqual(sorted(e["field"] for e in b["errors"]), sorted(fields), b)
        return b

    def test_year_10000_is_refused_everywhere_and_the_feed_keeps_4_digit_years(self):
        b = self.refused("/v1/campaigns", campaign(start_date="9999-12-01", end_date="9999-12-31"), "end_date")
        self.assertIn("9999-12-30", b["errors"][0]["message"])
        camp = self.post("/v1/campaigns", campaign(name="Far", start_date="9999-12-01", end_date="9999-12-30"), 201)
        self.refused("/v1/key-events", {"name": "Y10K", "kind": "holiday", "start_date": "9999-12-31",
                                        "end_date": "9999-12-31"}, "start_date", "end_date")
        self.post("/v1/key-events", {"name": "Last", "kind": "holiday", "start_date": "9999-12-30",
                                     "end_date": "9999-12-30"}, 201)
        res = self.post("/v1/resources", {"kind": "slot", "name": "Far slot"}, 201)
        booking = {"campaign_id": camp["id"], "resource_id": res["id"]}
        b = self.refused("/v1/bookings", dict(booking, start="9999-12-31T20:00:00-14:00", end="9999-12-31T21:00:00-14:00"),
                         "start", "end")
        self.assertIn("UTC", b["errors"][0]["message"])
        self.refused("/v1/bookings", dict(booking, start="1900-01-01T00:30:00+01:00", end="1900-01-01T02:00:00+01:00"),
                     "start")
        self.refused(f"/v1/resources/{res['id']}/availability",
                     {"kind": "leave", "start": "9999-12-31T23:00:00Z", "end": "9999-12-31T23:30:00-01:00"}, "end")
        bk = self.post("/v1/bookings", dict(booking, start="9999-12-31T22:00:00Z", end="9999-12-31T23:59:59Z"), 201)
        self.assertTrue(bk["end"].startswith("9999-12-31T23:59:59"), bk)
        st, _, ics = self.srv.request("GET", "/v1/calendar.ics?from=9999-11-01&to=9999-12-31T23:59:59Z", token=self.admin)
        self.assertEqual(st, 200)
        self.assertIn("DTEND;VALUE=DATE:99991231", ics)
        self.assertIsNone(re.search(r"^(DTSTART|DTEND)[^:]*:[0-9]{9}", ics, re.M), ics)
        cal = icalendar.Calendar.from_ical(ics)
        self.assertGreaterEqual(len([e for e in cal.walk("VEVENT") if e.decoded("DTEND").year == 9999]), 3)
        # The schema holds the same bounds for any writer, not only for the API.
        for sql, constraint in [
                (f"UPDATE campaigns SET end_date = '9999-12-31' WHERE id = '{camp['id']}'", "campaigns_dates_representable"),
                (f"UPDATE bookings SET period = tstzrange('9999-12-31 20:00-14', '9999-12-31 21:00-14') "
                 f"WHERE id = '{bk['id']}'", "bookings_period_representable"),
                ("UPDATE key_events SET start_date = '1899-12-31' WHERE name = 'Last'", "key_events_dates_representable")]:
            p = subprocess.run(["psql", "-qAtX", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c", sql],
                               capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0, sql)
            self.assertIn(constraint, p.stderr)


def psql(sql):
    return subprocess.run(["psql", "-qAtX", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


class ConnectionTest(unittest.TestCase):
    """2. Idle and slowloris connections (loopback only; other 127.0.0.x addresses stand for other clients)."""

    @staticmethod
    def closed(c, wait):
        """Whether the server has closed c (EOF or reset) within wait seconds."""
        c.sock.settimeout(wait)
        try:
            return c.sock.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    def test_one_client_cannot_take_every_connection(self):
        srv = Server({"CAMPAIGND_MAX_CONNECTIONS": "100", "CAMPAIGND_MAX_CLIENT_CONNECTIONS": "10",
                      "CAMPAIGND_HEADER_TIMEOUT": "2"})
        idle = []
        try:
            t0 = time.monotonic()
            for _ in range(150):
                try:
                    idle.append(Raw(srv.port, source="127.0.0.2", timeout=2))
                except OSError:
                    pass  # refused: the client has its share
            time.sleep(0.2)
            t = time.monotonic()
            st, _, _ = srv.request("GET", "/healthz")
            self.assertEqual(st, 200)
            self.assertLess(time.monotonic() - t, 1.0)
            # The flood kept at most its share; the others were closed at once.
            alive = [c for c in idle if not self.closed(c, 0.05)]
            self.assertLessEqual(len(alive), 10)
            # Its share is closed at the 2 s deadline for a request head (the server is not crowded).
            self.assertFalse(any(self.closed(c, 0.01) for c in alive))
            self.assertTrue(all(self.closed(c, max(0.01, t0 + 4.0 - time.monotonic())) for c in alive))
            self.assertGreater(time.monotonic() - t0, 1.5)
        finally:
            for c in idle:
                c.close()
            self.assertEqual(srv.stop(), 0)

    def test_slowloris_from_many_clients_is_cut_at_the_header_deadline(self):
        srv = Server({"CAMPAIGND_MAX_CONNECTIONS": "60", "CAMPAIGND_MAX_CLIENT_CONNECTIONS": "10",
                      "CAMPAIGND_HEADER_TIMEOUT": "5"})
        slow = []
        try:
            for i in range(6 * 10):  # six clients of ten connections each: every connection slot
                c = Raw(srv.port, source=f"127.0.0.{10 + i // 10}", timeout=2)
                c.sock.sendall(b"GET /healthz HTTP/1.1\r\n")
                slow.append(c)
            t0 = time.monotonic()
            stop = threading.Event()
            closed_at = {}

            def trickle():  # one header byte per connection every 0.3 s, never finishing the head
                while not stop.is_set() and len(closed_at) < len(slow):
                    for i, c in enumerate(slow):
                        if i in closed_at:
                            continue
                        try:
                            c.sock.sendall(b"X")
                        except OSError:
                            closed_at[i] = time.monotonic() - t0
                    stop.wait(0.3)

            th = threading.Thread(target=trickle)
            th.start()
            answered = None
            while answered is None and time.monotonic() - t0 < 8:
                try:
                    if srv.request("GET", "/healthz")[0] == 200:
                        answered = time.monotonic() - t0
                except (OSError, http.client.HTTPException):
                    time.sleep(0.1)
            th.join(timeout=9)
            stop.set()
            th.join()
            self.assertIsNotNone(answered, "a normal GET never got through")
            # With every slot taken the deadline is 1 s, not the configured 5 s.
            self.assertLess(answered, 3.0)
            self.assertEqual(len(closed_at), len(slow), "every trickling connection is closed")
            self.assertLess(max(closed_at.values()), 7.0)  # the last ones, once room was made, at the 5 s deadline
        finally:
            for c in slow:
                c.close()
            self.assertEqual(srv.stop(), 0)


class ConfigTest(unittest.TestCase):
    """The connection settings are listed by --help and refused when out of range."""

    def test_connection_settings_are_documented_and_validated(self):
        out = subprocess.run([BIN, "--help"], capture_output=True, text=True, check=True).stdout
        for name in ("CAMPAIGND_MAX_CLIENT_CONNECTIONS", "CAMPAIGND_HEADER_TIMEOUT", "CAMPAIGND_CONNECTION_TIMEOUT"):
            self.assertIn(name, out)
        base = dict(os.environ, CAMPAIGND_DATABASE_URL=os.environ["CAMPAIGND_TEST_DATABASE_URL"],
                    CAMPAIGND_JWT_SECRET="x" * 32, CAMPAIGND_PORT="1")
        for env, name in [({"CAMPAIGND_MAX_CLIENT_CONNECTIONS": "0"}, "CAMPAIGND_MAX_CLIENT_CONNECTIONS"),
                          ({"CAMPAIGND_MAX_CONNECTIONS": "10", "CAMPAIGND_MAX_CLIENT_CONNECTIONS": "11"},
                           "CAMPAIGND_MAX_CLIENT_CONNECTIONS"),
                          ({"CAMPAIGND_HEADER_TIMEOUT": "0"}, "CAMPAIGND_HEADER_TIMEOUT"),
                          ({"CAMPAIGND_CONNECTION_TIMEOUT": "5", "CAMPAIGND_HEADER_TIMEOUT": "6"},
                           "CAMPAIGND_HEADER_TIMEOUT")]:
            p = subprocess.run([BIN], env=dict(base, **env), capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 2, (env, p.stderr))
            self.assertIn(name, p.stderr)


class ShutdownTest(unittest.TestCase):
    """5. SIGTERM while accepted requests wait on a row lock: every one is answered."""

    def test_sigterm_finishes_accepted_requests(self):
        srv = Server({"CAMPAIGND_THREADS": "2", "CAMPAIGND_SHUTDOWN_GRACE": "8"})
        org = "drain-" + uuid.uuid4().hex[:8]
        admin = srv.token("ada", org, "admin")
        st, _, camp = srv.request("POST", "/v1/campaigns", campaign(name="Drain"), admin)
        self.assertEqual(st, 201)
        st, _, res = srv.request("POST", "/v1/resources", {"kind": "slot", "name": "Drained banner"}, admin)
        self.assertEqual(st, 201)
        holder = subprocess.Popen(["psql", "-qAtX", os.environ["CAMPAIGND_TEST_DATABASE_URL"], "-c",
                                   f"BEGIN; SELECT 1 FROM resources WHERE id = '{res['id']}' FOR UPDATE; "
                                   "SELECT pg_sleep(2.0); COMMIT;"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(2.0)%' "
                   "AND state = 'active' AND pid <> pg_backend_pid()") == "0":
            self.assertLess(time.monotonic(), deadline, "the lock holder did not start")
            self.assertIsNone(holder.poll(), "the lock holder failed")
            time.sleep(0.02)
        results = [None] * 32

        def book(i):
            day = datetime.date(2026, 5, 1) + datetime.timedelta(days=i)
            body = {"campaign_id": camp["id"], "resource_id": res["id"],
                    "start": f"{day}T09:00:00Z", "end": f"{day}T10:00:00Z"}
            try:
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)
                conn.request("POST", "/v1/bookings", body=json.dumps(body),
                             headers={"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                results[i] = resp.status
            except OSError as e:
                results[i] = repr(e)

        threads = [threading.Thread(target=book, args=(i,)) for i in range(32)]
        for th in threads:
            th.start()
        time.sleep(0.5)
        t = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        for th in threads:
            th.join()
        self.assertEqual(srv.proc.wait(timeout=15), 0)
        took = time.monotonic() - t
        holder.wait()
        self.assertEqual(results, [201] * 32)
        self.assertLess(took, 8)
        self.assertEqual(psql(f"SELECT count(*) FROM bookings WHERE resource_id = '{res['id']}'"), "32")


if __name__ == "__main__":
    main()
