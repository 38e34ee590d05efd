#!/usr/bin/env python3
"""API tests of the rate limits per token subject and per organisation: the IETF RateLimit-Policy and RateLimit
headers on every authenticated answer, 429 rate_limited with Retry-After beyond a limit (and nothing done),
another subject or organisation unaffected, the next window open again, /metrics counting the refusals, and the
operational routes never limited. Usage: test_rate_limits.py BINARY"""
import re
import time
import unittest
import uuid

from harness import Server, campaign, main

LIMITS = {"CAMPAIGND_RATE_LIMIT_SUBJECT": "4", "CAMPAIGND_RATE_LIMIT_ORG": "6", "CAMPAIGND_RATE_LIMIT_WINDOW": "2"}


class RateLimitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(LIMITS)

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def fresh_window(self):
        """Waits for the start of a window, so a test's requests all fall in one."""
        while time.time() % 2 > 0.3:
            time.sleep(0.05)

    def in_one_window(self, steps):
        """Runs steps(org) for a new organisation from the start of a window, and again (another organisation)
        when the window turned before they ended: a busy machine (sanitizers, other work) can stretch a few
        requests past a 2-second window. Returns the organisation and what steps returned."""
        for _ in range(5):
            org = "rl-" + uuid.uuid4().hex[:10]
            self.fresh_window()
            window = int(time.time() // 2)
            got = steps(org)
            if int(time.time() // 2) == window:
                return org, got
        self.fail("five windows in a row turned before a few requests ended")

    def test_subject_then_organisation(self):
        def steps(org):
            ada, bob = self.srv.token("ada", org, "manager"), self.srv.token("bob", org, "manager")
            return ([self.srv.request("GET", "/v1/campaigns", token=ada) for _ in range(4)],
                    self.srv.request("POST", "/v1/campaigns", campaign(), ada),
                    [self.srv.request("GET", "/v1/campaigns", token=bob) for _ in range(3)], ada)
        org, (firsts, refused, bobs, ada) = self.in_one_window(steps)
        seen = []
        for st, h, b in firsts:
            self.assertEqual(st, 200, b)
            self.assertEqual(h["ratelimit-policy"], '"subject";q=4;w=2, "organisation";q=6;w=2')
            seen.append(h["ratelimit"])
        self.assertEqual([re.match(r'"(\w+)";r=(\d+);t=\d+$', x).groups() for x in seen],
                         [("subject", "3"), ("subject", "2"), ("subject", "1"), ("subject", "0")])
        # ada is done for this window; nothing she asks for is done
        st, h, b = refused
        self.assertEqual((st, b["code"]), (429, "rate_limited"), b)
        self.assertIn(int(h["retry-after"]), (1, 2))
        self.assertRegex(h["ratelimit"], r'^"subject";r=0;t=[12]$')
        # bob has his own 4, but the organisation only 2 more
        for (st, h, b), expect in zip(bobs, (200, 200, 429)):
            self.assertEqual(st, expect, b)
        self.assertRegex(h["ratelimit"], r'^"organisation";r=0;t=\d+$')
        # another organisation is not affected
        other = self.srv.token("ada", "rl-other-" + uuid.uuid4().hex[:6], "manager")
        self.assertEqual(self.srv.request("GET", "/v1/campaigns", token=other)[0], 200)
        # the operational routes are never limited, and /metrics counts the refusals
        st, _, text = self.srv.request("GET", "/metrics")
        self.assertEqual(st, 200)
        refused = int(re.search(r"^campaignd_rate_limit_refusals_total (\d+)$", text, re.M).group(1))
        self.assertGreaterEqual(refused, 2)
        # the next window is open again; nothing of the refused POST was written
        time.sleep(2.1)
        st, _, b = self.srv.request("GET", "/v1/campaigns", token=ada)
        self.assertEqual((st, b["items"]), (200, []))

    def test_a_bad_token_is_401_before_any_counting(self):
        st, h, b = self.srv.request("GET", "/v1/campaigns", token="nope")
        self.assertEqual(st, 401)
        self.assertNotIn("ratelimit", h)


if __name__ == "__main__":
    main()
