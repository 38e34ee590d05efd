#!/usr/bin/env python3
"""The contract's request schemas say what the service's validation does.
The service validates every request body with a field table (service/*.c:
`static const field_spec NAME[] = {...}`: name, kind, FS_* flags, min, max,
enum values); each table is compared here with the openapi.yaml schema that
declares the same body: the same fields, required exactly where the table
requires them on create and nowhere in a patch, nullable exactly where the
table allows null, the same enum values, length and range bounds; and no
`default` keyword on a request field, which generators (openapi-typescript)
turn into a required property. Needs no server. Usage: test_fields.py"""
import os
import re
import sys
import unittest

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = yaml.safe_load(open(os.path.join(ROOT, "openapi.yaml")))
SCHEMAS = SPEC["components"]["schemas"]

# field table (file:table) -> (schema of a create body, schema of a patch body); None where there is none.
BODIES = {
    "campaign:campaign_fields": ("CampaignCreate", "CampaignPatch"),
    "campaign:money_fields": ("Money", None),
    "campaign:channel_budget_fields": ("ChannelBudget", None),
    "campaign:offer_fields": ("Offer", None),
    "campaign:scoring_fields": ("Scoring", None),
    "campaign:transition_fields": ("TransitionRequest", None),
    "segment:segment_fields": ("SegmentCreate", "SegmentPatch"),
    "resource:resource_fields": ("ResourceCreate", "ResourcePatch"),
    "resource:money_fields": ("Money", None),
    "resource:availability_fields": ("AvailabilityCreate", None),
    "booking:booking_fields": ("BookingCreate", None),
    "booking:booking_patch_fields": (None, "BookingPatch"),
    "calendar:key_event_fields": ("KeyEventCreate", "KeyEventPatch"),
    "calendar:feed_token_fields": ("FeedTokenCreate", None),
    "calendar:feed_filter_fields": ("FeedTokenFilters", None),
    "approval:workflow_fields": ("WorkflowCreate", "WorkflowPatch"),
    "approval:step_fields": ("WorkflowStep", None),
    "approval:submit_fields": ("ApprovalSubmit", None),
    "approval:decision_fields": ("DecisionCreate", None),
    "risk:risk_fields": ("RiskCreate", "RiskPatch"),
    "measurement:measurement_row_fields": ("MeasurementRow", None),
    "target:target_fields": ("KpiTarget", None),
    "resource:frequency_cap_fields": ("FrequencyCap", None),
    "settings:settings_fields": (None, "SettingsPatch"),
    "settings:cap_fields": (None, "FrequencyCapPatch"),
    "settings:weight_fields": (None, "PriorityWeightsPatch"),
    "settings:risk_level_fields": (None, "RiskLevelMaxPatch"),
    "segment:overlap_fields": ("SegmentOverlap", None),
    "webhook:webhook_fields": ("WebhookCreate", "WebhookPatch"),
    "planning:forecast_fields": ("ForecastRequest", None),
    "planning:plan_channel_fields": ("ChannelBudget", None),
    "planning:allocate_fields": ("AllocationRequest", None),
    "planning:allocate_channel_fields": ("AllocationChannel", None),
    "planning:backtest_fields": ("BacktestRequest", None),
}
# Fields a handler validates outside the table (the workflow's steps go through step_fields one by one).
OUTSIDE_TABLE = {"WorkflowCreate": {"steps"}, "WorkflowPatch": {"steps"},
                 "KpiTarget": {"target"}}  # checked by the KPI's unit (service/target.c)

ROW = re.compile(r'\{"(\w+)",\s*(FK_\w+),\s*([\w| ]+?),\s*([^,]+?),\s*([^,]+?),\s*(\w+),\s*(\w+)\}')


def c_sources():
    d = os.path.join(ROOT, "service")
    return {f: open(os.path.join(d, f)).read() for f in os.listdir(d) if f.endswith((".c", ".h"))}


SOURCES = c_sources()
ALL = "\n".join(SOURCES.values())


def c_value(expr):
    """A bound written in C: a number, a macro from service/*.h, or `MACRO - 1`."""
    expr = expr.strip()
    m = re.fullmatch(r"(\w+)\s*([-+])\s*(\d+)", expr)
    if m:
        base = c_value(m.group(1))
        return base - int(m.group(3)) if m.group(2) == "-" else base + int(m.group(3))
    if re.fullmatch(r"\d+[uUlL]*", expr):
        return int(expr.rstrip("uUlL"))
    m = re.search(r"#define\s+" + re.escape(expr) + r"\s+\(?([^)\s/]+)", ALL)
    assert m, f"cannot evaluate {expr}"
    return c_value(m.group(1))


def c_strings(name):
    """The values of `const char *const name[] = {"a", "b", NULL}`."""
    m = re.search(r"const char \*const " + re.escape(name) + r"\[\] = \{(.*?)\};", ALL, re.S)
    assert m, f"no string array {name}"
    return re.findall(r'"([^"]*)"', m.group(1))


def table(ref):
    module, name = ref.split(":")
    m = re.search(r"static const field_spec " + re.escape(name) + r"\[\] = \{(.*?)\n\};", SOURCES[module + ".c"], re.S)
    assert m, f"service/{module}.c has no field table {name}"
    rows = []
    for n, kind, flags, lo, hi, values, _sub in ROW.findall(m.group(1)):
        rows.append({"name": n, "kind": kind, "flags": flags, "lo": lo, "hi": hi, "values": values})
    assert rows, f"{ref}: no rows"
    return rows


def resolve(s):
    while "$ref" in s:
        s = SCHEMAS[s["$ref"].split("/")[-1]]
    return s


def nullable(s):
    if "$ref" in s:
        return nullable(resolve(s))
    t = s.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return True
    return any(nullable(sub) for k in ("anyOf", "oneOf") for sub in s.get(k, []))


def non_null(s):
    """The schema without its null alternative."""
    s = resolve(s)
    for k in ("anyOf", "oneOf"):
        if k in s:
            rest = [sub for sub in s[k] if resolve(sub).get("type") != "null"]
            assert len(rest) == 1
            return non_null(rest[0])
    return s


class FieldTablesTest(unittest.TestCase):
    def check(self, ref, schema_name, mode):
        schema = resolve(SCHEMAS[schema_name])
        self.assertNotIn("allOf", schema, f"{schema_name}: a body schema is one object (allOf keeps what it refines)")
        props, required = schema.get("properties", {}), set(schema.get("required", []))
        rows = table(ref)
        where = f"{schema_name} ({ref})"
        self.assertIs(schema.get("additionalProperties"), False, f"{where}: unknown fields are refused")
        writable = {r["name"] for r in rows if "FS_READONLY" not in r["flags"]}
        self.assertEqual(set(props) - OUTSIDE_TABLE.get(schema_name, set()), writable, f"{where}: fields")
        for r in rows:
            if "FS_READONLY" in r["flags"]:
                continue
            name, prop = r["name"], props[r["name"]]
            at = f"{where}.{name}"
            if mode == "create":
                self.assertEqual(name in required, "FS_REQUIRED" in r["flags"], f"{at}: required")
            else:
                self.assertNotIn(name, required, f"{at}: nothing is required in a patch")
            self.assertEqual(nullable(prop), "FS_NULLABLE" in r["flags"], f"{at}: nullable")
            s = non_null(prop)
            self.assertNotIn("default", s, f"{at}: `default` makes generated request types require it")
            self.assertNotIn("default", prop, f"{at}: `default` makes generated request types require it")
            kind = r["kind"]
            if kind == "FK_ENUM":
                self.assertEqual(sorted(s.get("enum", [])), sorted(c_strings(r["values"])), f"{at}: enum")
            elif kind in ("FK_TEXT", "FK_LONG_TEXT"):
                self.assertEqual(s.get("minLength", 0), c_value(r["lo"]), f"{at}: minLength")
                self.assertEqual(s.get("maxLength"), c_value(r["hi"]), f"{at}: maxLength")
            elif kind in ("FK_INTEGER", "FK_NUMBER"):
                self.assertEqual(s.get("minimum"), c_value(r["lo"]), f"{at}: minimum")
                self.assertEqual(s.get("maximum"), c_value(r["hi"]), f"{at}: maximum")
            elif kind in ("FK_UUID_ARRAY", "FK_SLUG_ARRAY", "FK_TEXT_ARRAY"):
                self.assertEqual(s.get("type"), "array", f"{at}: array")
                self.assertEqual(s.get("maxItems"), c_value(r["hi"]), f"{at}: maxItems")
            elif kind == "FK_BOOLEAN":
                self.assertEqual(s.get("type"), "boolean", f"{at}: boolean")
            elif kind == "FK_OBJECT":
                self.assertEqual(s.get("type"), "object", f"{at}: object")

    def test_every_body_schema_matches_its_field_table(self):
        for ref, (create, patch) in BODIES.items():
            with self.subTest(ref=ref):
                if create:
                    self.check(ref, create, "create")
                if patch:
                    self.check(ref, patch, "patch")

    def test_every_field_table_is_compared(self):
        """A new field table needs its schema named above, or this test does not see it."""
        tables = {f"{file[:-2]}:{name}" for file, src in SOURCES.items()
                  for name in re.findall(r"static const field_spec (\w+)\[\]", src)}
        self.assertEqual(tables - set(BODIES), set())

    def test_this_test_can_fail(self):
        """The comparison notices a required field the table does not require, and a default."""
        saved = SCHEMAS["ResourcePatch"]
        try:
            SCHEMAS["ResourcePatch"] = dict(saved, required=["kind"])
            with self.assertRaises(AssertionError):
                self.check("resource:resource_fields", "ResourcePatch", "patch")
            props = dict(saved["properties"], active={"type": "boolean", "default": True})
            SCHEMAS["ResourcePatch"] = dict(saved, properties=props)
            with self.assertRaises(AssertionError):
                self.check("resource:resource_fields", "ResourcePatch", "patch")
        finally:
            SCHEMAS["ResourcePatch"] = saved


if __name__ == "__main__":
    sys.argv[1:] = [a for a in sys.argv[1:] if a.startswith("-")]
    unittest.main(verbosity=2)
