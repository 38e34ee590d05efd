#!/usr/bin/env python3
"""The contract client check: TypeScript types generated from openapi.yaml
(pinned openapi-typescript), a small openapi-fetch client compiled against
them with `tsc --strict`, run with node against the real binary on the test
database (see client.sh and client/client.mts). It fails when the contract
does not type-check a request the service takes, or when the service does
not answer what the typed client expects.
Usage: test_client.py BINARY OUTDIR"""
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv.pop(2) if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="campaignd-client-")
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))

from harness import Server, main  # noqa: E402  (harness takes BINARY from argv)


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def test_typed_client(self):
        org = "ts-" + uuid.uuid4().hex[:10]
        env = dict(os.environ,
                   CAMPAIGND_URL=f"http://127.0.0.1:{self.srv.port}",
                   PLANNER_TOKEN=self.srv.token("pat", org, "planner"),
                   OTHER_TOKEN=self.srv.token("bob", org, "planner"),
                   MANAGER_TOKEN=self.srv.token("mia", org, "manager"))
        run = subprocess.run(["sh", os.path.join(HERE, "client.sh"), OUT, "run"], env=env, capture_output=True,
                             text=True, timeout=300)
        print(run.stdout)
        self.assertEqual(run.returncode, 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        self.assertIn("checks passed", run.stdout)


if __name__ == "__main__":
    main()
