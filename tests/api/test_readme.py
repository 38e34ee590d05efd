#!/usr/bin/env python3
"""README.md's walk-through, run as a new user runs it: every ```sh block from
"## Walk-through" to the next "## " heading, in order, in one bash, against
the real binary serving a fresh database loaded the way service/demo.sh loads
it (migrate, then sql/demo/demo.sql). The shell gets only the variables the
demo tells the user to export; `build/campaignd` is the binary under test.

A command whose last line ends in `# -> NNN` must get HTTP status NNN, and
every curl in the blocks must say what it gets. A wrapper around curl records
each response's status (curl -D), and a check after each annotated command
compares the statuses recorded since the previous check with the one
documented. The shell runs with `set -euo pipefail`, so an undefined
variable or a failing step (a missing header for grep, an id jq cannot find)
fails the test too.

What a command prints (stdout, and the bodies `tee /dev/stderr` shows) must be
what the comment lines right after it show: lines that start with `# {`,
`# [` or `# "`, and their indented continuations (`#   …`), are an output.
JSON is compared compactly (jq's pretty output as -c writes it); `…` stands
for anything; items written one after another, or separated by `, `, are
found in that order with anything between them allowed only where `…` says;
prose after the last value (`}: at this rate …`) is not part of it.
Usage: test_readme.py BINARY"""
import json
import os
import re
import subprocess
import tempfile
import unittest
import urllib.parse
import uuid

from harness import BIN, ROOT, Server, main

DB = os.environ.get("CAMPAIGND_TEST_DATABASE_URL")
ADMIN = os.environ.get("CAMPAIGND_TEST_ADMIN_URL")
STATUS = re.compile(r"#\s*->\s*([0-9]{3})\s*$")

# What the walk-through's shell gets besides the demo's exports: a curl that records statuses, and the check.
PRELUDE = r'''set -euo pipefail
exec 2>&1 # the bodies tee /dev/stderr shows are outputs too
curl() {
    local rc=0
    command curl -D "$WALK/headers" "$@" || rc=$?
    sed -n 's/^HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' "$WALK/headers" | tail -n 1 >>"$WALK/statuses"
    rm -f "$WALK/headers"
    return $rc
}
: >"$WALK/statuses"
checked=0
expect() { # status, README line
    local got
    got=$(tail -n +$((checked + 1)) "$WALK/statuses" | paste -sd' ')
    checked=$(wc -l <"$WALK/statuses")
    if [[ $got != "$1" ]]; then
        printf '\nREADME.md line %s: documented %s, got %s\n' "$2" "$1" "${got:-no response}" >&2
        exit 3
    fi
}
'''


def walkthrough_blocks():
    """[(first README line number, [lines])] of the ```sh blocks in the walk-through section."""
    lines = open(os.path.join(ROOT, "README.md")).read().split("\n")
    start = lines.index("## Walk-through")
    blocks, block = [], None
    for n, line in enumerate(lines[start + 1:], start + 2):
        if block is None and line.startswith("## "):
            break
        if block is None and line.strip() == "```sh":
            block = (n + 1, [])
        elif block is not None and line.strip() == "```":
            blocks.append(block)
            block = None
        elif block is not None:
            block[1].append(line)
    return blocks


def script(blocks):
    """The blocks with a check after every annotated command (and a marker of where its output ends), and one
    at the end for unannotated calls."""
    out = [PRELUDE]
    for first, lines in blocks:
        for n, line in enumerate(lines, first):
            out.append(line)
            m = STATUS.search(line)
            if m and not line.lstrip().startswith("#"):
                out.append(f"expect {m.group(1)} {n}")
                out.append(f"printf '\\n{MARK}{n}\\n'")  # on a line of its own: a body may lack its newline
    out.append('expect "" end')
    return "\n".join(out) + "\n"


MARK = "@@readme-output-end "
OUTPUT_LINE = re.compile(r'^#( [\[{"]|\s{2,}\S)')
JOIN = "\x00"  # where two documented lines meet


def documented_outputs(blocks):
    """{README line of an annotated command: (line of its output's first line, the output's text)}: the output
    lines right after the command, joined (JOIN where they meet), the prose after the last value cut off."""
    docs = {}
    for first, lines in blocks:
        for i, line in enumerate(lines):
            if not STATUS.search(line) or line.lstrip().startswith("#"):
                continue
            shown = []
            for later in lines[i + 1:]:
                if not OUTPUT_LINE.match(later):
                    break
                shown.append(later[1:].strip())
            if shown:
                docs[first + i] = (first + i + 1, values_only(JOIN.join(shown)))
    return docs


def values_only(text):
    """The documented values of text, up to the end of the last one: a value ({…}, […], "…") may be followed by
    `,` and `…` and another value; anything else ends them."""
    depth, in_string, escaped, end, i = 0, False, False, 0, 0
    while i < len(text):
        c = text[i]
        if in_string:
            escaped, in_string = (False, in_string) if escaped else (c == "\\", c != '"')
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        if depth == 0 and not in_string and c in '"]}':
            end = i + 1
            j = end
            while j < len(text) and text[j] in " ,…" + JOIN:
                j += 1
            if j == len(text) or text[j] not in '[{"':
                break
            i = j
            continue
        i += 1
    return text[:end]


def output_pattern(doc):
    """A regular expression of a documented output: `…` anything, a comma before spaces or a line's end
    optional (jq writes items on lines of their own), the documented lines' ends any white space."""
    out, i = [], 0
    while i < len(doc):
        c = doc[i]
        if c == "…":
            out.append(".*?")
        elif c == "," and i + 1 < len(doc) and doc[i + 1] in " " + JOIN:
            out.append(r",?\s*")
            while i + 1 < len(doc) and doc[i + 1] in " " + JOIN:
                i += 1
        elif c == JOIN:
            out.append(r"\s*")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.S)


def compact(text):
    """Every JSON value in text written as jq -c writes it, one a line; other lines as they are."""
    out, dec, i = [], json.JSONDecoder(), 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        try:
            value, i = dec.raw_decode(text, i)
            out.append(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        except ValueError:
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            out.append(text[i:end])
            i = end
    return "\n".join(out)


def outputs(stdout):
    """{README line of an annotated command: what it printed, compacted}."""
    got, start = {}, 0
    for m in re.finditer("^" + re.escape(MARK) + r"(\d+)$", stdout, re.M):
        got[int(m.group(1))] = compact(stdout[start:m.start()])
        start = m.end()
    return got


def demo_exports():
    """The variables service/demo.sh tells the user to export."""
    text = open(os.path.join(ROOT, "service", "demo.sh")).read()
    return set(re.findall(r"^\s*export ([A-Z_]+)=", text, re.M))


class ReadmeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A database of its own with the demo data, as service/demo.sh makes it.
        cls.dbname = "readme_" + uuid.uuid4().hex[:10]
        subprocess.run(["psql", "-qX", DB, "-c", f"CREATE DATABASE {cls.dbname}"], check=True)
        url = urllib.parse.urlsplit(DB)
        cls.url = urllib.parse.urlunsplit(url._replace(path="/" + cls.dbname))
        env = dict(os.environ, CAMPAIGND_DATABASE_URL=cls.url, CAMPAIGND_LOG_LEVEL="warning")
        subprocess.run([BIN, "migrate"], env=env, check=True)
        subprocess.run(["psql", cls.url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f",
                        os.path.join(ROOT, "sql", "demo", "demo.sql")], check=True, stdout=subprocess.DEVNULL)
        # The demo serves with the default date-driven worker; so does this instance.
        cls.srv = Server({"CAMPAIGND_DATABASE_URL": cls.url, "CAMPAIGND_LIFECYCLE_INTERVAL": "60"})

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0
        subprocess.run(["psql", "-qX", ADMIN, "-c", f"DROP DATABASE IF EXISTS {cls.dbname} WITH (FORCE)"],
                       check=True)

    def test_the_demo_prints_what_the_walkthrough_needs(self):
        self.assertEqual(demo_exports(), {"CAMPAIGND_JWT_SECRET", "API"})

    def test_every_curl_documents_its_status(self):
        for first, lines in walkthrough_blocks():
            text = "\n".join(lines)
            commands = re.split(r"\n(?=\S)", text)  # a command and its indented continuation lines
            for cmd in commands:
                if "curl " in cmd and not cmd.lstrip().startswith("#"):
                    self.assertRegex(cmd.split("\n")[-1], STATUS, f"README.md near line {first}: {cmd[:80]}")

    def test_walkthrough_runs_verbatim(self):
        blocks = walkthrough_blocks()
        self.assertGreaterEqual(len(blocks), 4)
        with tempfile.TemporaryDirectory() as walk:
            # `build/campaignd token` from the directory the user works in: the binary under test.
            os.mkdir(os.path.join(walk, "build"))
            os.symlink(os.path.abspath(BIN), os.path.join(walk, "build", "campaignd"))
            env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGND_")}
            env.update({"WALK": walk,
                        "CAMPAIGND_JWT_SECRET": self.srv.env["CAMPAIGND_JWT_SECRET"],
                        "API": f"http://localhost:{self.srv.port}"})
            run = subprocess.run(["bash", "-c", script(blocks)], cwd=walk, env=env, capture_output=True,
                                 text=True, timeout=300)
            self.assertEqual(run.returncode, 0, f"the walk-through failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}")
            statuses = open(os.path.join(walk, "statuses")).read().split()
        # Every status documented was checked: as many responses as annotations.
        annotated = sum(1 for _, lines in blocks for line in lines
                        if STATUS.search(line) and not line.lstrip().startswith("#"))
        self.assertEqual(len(statuses), annotated)
        # And every output shown is what the command printed.
        got = outputs(run.stdout)
        docs = documented_outputs(blocks)
        self.assertGreaterEqual(len(docs), 20)
        for line, (shown_at, doc) in sorted(docs.items()):
            with self.subTest(readme_line=shown_at):
                self.assertRegex(got[line], output_pattern(doc),
                                 f"README.md line {shown_at} shows what the command at line {line} does not print")

    def test_documented_outputs_are_read_as_meant(self):
        """The reading of the comments: values and their ellipses, prose after them, items on lines of their own;
        and a wrong figure fails."""
        self.assertEqual(values_only('{"a":1}: at this rate'), '{"a":1}')
        self.assertEqual(values_only('{"a":1}, …' + JOIN + '{"b":[2]}; .skills[] has'), '{"a":1}, …' + JOIN + '{"b":[2]}')
        self.assertEqual(values_only('["x, y","z"]'), '["x, y","z"]')
        self.assertEqual(values_only('{"s":"a \\"q\\" }"}  (shown once)'), '{"s":"a \\"q\\" }"}')
        printed = compact('{\n  "a": 1,\n  "b": "x, y"\n}\n{"c":[1, 2]}\n{"d":3}\nApproval-Effect: superseded\n')
        self.assertEqual(printed, '{"a":1,"b":"x, y"}\n{"c":[1,2]}\n{"d":3}\nApproval-Effect: superseded')
        self.assertRegex(printed, output_pattern('{"a":1,…}, …' + JOIN + '{"d":3}'))
        self.assertRegex(printed, output_pattern('{"a":1,"b":"x, y"},' + JOIN + '{"c":[1,2]}'))
        self.assertNotRegex(printed, output_pattern('{"a":2,…}'))
        self.assertNotRegex(printed, output_pattern('{"d":3}' + JOIN + '{"c":[1,2]}'))  # order matters


if __name__ == "__main__":
    main()
