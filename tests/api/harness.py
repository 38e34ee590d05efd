#!/usr/bin/env python3
"""What every API test file shares: the real campaignd binary over real HTTP on
loopback, a real PostgreSQL (CAMPAIGND_TEST_DATABASE_URL) and real HS256
tokens, with every JSON response validated against openapi.yaml.
A test file is run as `test_X.py BINARY`; it imports this module first."""
import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest
import uuid

import jsonschema
import yaml

BIN = sys.argv.pop(1) if len(sys.argv) > 1 else os.environ["CAMPAIGND_BIN"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = "test-secret-0123456789abcdef0123456789"
SPEC = yaml.safe_load(open(os.path.join(ROOT, "openapi.yaml")))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def path_item(path):
    for template, item in SPEC["paths"].items():
        if re.match("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$", path):
            return item
    return None


def operation(method, path):
    item = path_item(path)
    return item.get(method.lower()) if item else None


def check_headers(method, path, status, spec, headers):
    """Every header the contract lists for the response: present when required, and matching its schema."""
    for name, h in spec.get("headers", {}).items():
        if "$ref" in h:
            h = SPEC["components"]["headers"][h["$ref"].split("/")[-1]]
        value = headers.get(name.lower())
        if value is None:
            assert not h.get("required"), f"{method} {path} {status}: required header {name} missing"
            continue
        if "schema" in h:
            if h["schema"].get("type") in ("integer", "number"):  # a header is text on the wire
                assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value), f"{method} {path}: {name}: {value!r} is no number"
                value = float(value) if "." in value else int(value)
            jsonschema.Draft202012Validator(h["schema"]).validate(value)


def check_contract(method, path, status, ctype, body, headers=None):
    """The response must be one the contract declares, with its headers and a matching schema."""
    op = operation(method, path.split("?")[0])
    item = path_item(path.split("?")[0])
    if op is None and item is not None and status == 405:
        # A method the path does not list: each of the path's operations declares this answer,
        # and Allow names the path's methods (HEAD and OPTIONS go without saying).
        methods = [m for m in item if m in ("get", "put", "post", "patch", "delete")]
        op = item[methods[0]]
        if headers is not None:
            allow = {m.strip() for m in headers.get("allow", "").split(",")} - {"HEAD", "OPTIONS"}
            assert allow == {m.upper() for m in methods}, f"{method} {path}: Allow {allow}, contract {methods}"
    if op is None:
        return  # unknown routes: only the generic problem shape applies
    responses = op["responses"]
    spec = responses.get(str(status)) or responses.get("default")
    assert spec is not None, f"{method} {path}: status {status} not in the contract"
    if "$ref" in spec:
        spec = SPEC["components"]["responses"][spec["$ref"].split("/")[-1]]
    if headers is not None:
        check_headers(method, path, status, spec, headers)
    content = spec.get("content", {})
    if not content or body is None:
        return
    media = ctype.split(";")[0].strip()
    assert media in content, f"{method} {path} {status}: content type {media} not in {list(content)}"
    schema = content[media].get("schema")
    if schema is None or media not in ("application/json", "application/problem+json"):
        return
    resolver = jsonschema.RefResolver.from_schema(SPEC)
    jsonschema.Draft202012Validator(schema, resolver=resolver).validate(body)


class Server:
    def __init__(self, extra_env=None, log=None):
        """log: a file the server's log (its stderr) is written to, for tests that read it."""
        self.port = free_port()
        env = dict(os.environ)
        env.update({
            "CAMPAIGND_DATABASE_URL": os.environ["CAMPAIGND_TEST_DATABASE_URL"],
            "CAMPAIGND_JWT_SECRET": SECRET,
            "CAMPAIGND_PORT": str(self.port),
            "CAMPAIGND_MAX_BODY_BYTES": "65536",
            "CAMPAIGND_LOG_LEVEL": "warning",
            # The date-driven moves would race tests that walk the lifecycle by hand with past dates;
            # the tests of the worker turn it on.
            "CAMPAIGND_LIFECYCLE_INTERVAL": "0",
            # Webhook delivery polls the database, which would show in the round trips other tests count;
            # the webhook tests turn it on.
            "CAMPAIGND_WEBHOOK_WORKERS": "0",
            # One token sends far more than a client would; the rate limit tests turn the limits on.
            "CAMPAIGND_RATE_LIMIT_SUBJECT": "0",
            "CAMPAIGND_RATE_LIMIT_ORG": "0",
        })
        env.update(extra_env or {})
        self.env = env
        self.proc = subprocess.Popen([BIN], env=env, stderr=log)
        for _ in range(100):
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("campaignd did not start")

    def token(self, sub, org, role, ttl=600):
        out = subprocess.run([BIN, "token", "--sub", sub, "--org", org, "--role", role, "--ttl", str(ttl)],
                             env=self.env, capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def request(self, method, path, body=None, token=None, headers=None, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        payload = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        conn.close()
        ctype = hdrs.get("content-type", "")
        parsed = json.loads(payload) if payload and "json" in ctype else (payload.decode() if payload else None)
        check_contract(method, path, resp.status, ctype, parsed if "json" in ctype else None, hdrs)
        assert resp.status < 500 or resp.status == 503, f"{method} {path} answered {resp.status}: {payload[:300]}"
        assert "x-request-id" in hdrs
        return resp.status, hdrs, parsed

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)


class OrgTestCase(unittest.TestCase):
    """One service for the test class and a fresh organisation for each test: self.org (ORG_PREFIX and a random
    suffix) and a token for each role of TOKENS as self.<role>, its subject the name TOKENS gives. req() sends a
    request with the token of DEFAULT_ROLE when it is given none."""
    ORG_PREFIX = "org-"
    TOKENS = {"admin": "ada", "manager": "mia", "planner": "pat"}
    DEFAULT_ROLE = "admin"

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def setUp(self):
        self.org = self.ORG_PREFIX + uuid.uuid4().hex[:10]
        for role, sub in self.TOKENS.items():
            setattr(self, role, self.srv.token(sub, self.org, role))

    def req(self, method, path, body=None, token=None, **kw):
        return self.srv.request(method, path, body, token or getattr(self, self.DEFAULT_ROLE), **kw)


def campaign(**over):
    body = {"name": "Spring sale", "objective": "acquisition", "start_date": "2026-03-01",
            "end_date": "2026-03-31", "budget": {"amount": "1250.00", "currency": "EUR"},
            "channels": ["email"], "tags": ["q1"]}
    body.update(over)
    return body


def main():
    unittest.main(verbosity=2)
