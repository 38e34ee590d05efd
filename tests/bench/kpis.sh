#!/usr/bin/env bash
# kpis.sh — measurements and dashboards: one 10,000-row batch stored, the same
# batch re-sent (every row unchanged), then, over 1,000,000 measurement rows
# (1,000 campaigns × 365 days × 3 channels, ANALYZEd after loading) and a team
# of 50 people booked through 2026, each dashboard at 8 connections with wrk
# (answers other than 2xx counted). Prints figures; never pass/fail.
# Usage: bash tests/bench/kpis.sh [seconds]   (run it under the heavy-work lock)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
secs=${1:-10}
source tests/bench/lib.sh
bench_init
export CAMPAIGND_DB_POOL_SIZE=8
bench_serve

echo "campaignd KPI benchmark: $(nproc) cores, ${secs}s per dashboard run"
# 1,000 campaigns of 2026 in EUR, each with three channel budgets.
sql "SELECT campaignd_begin('bench','bench','admin','seed');
  INSERT INTO campaigns (org_id, name, objective, start_date, end_date, budget_amount, budget_currency,
                         channel_budgets, channels, owner, created_by)
  SELECT 'bench', 'Campaign ' || g, 'acquisition', DATE '2026-01-01', DATE '2026-12-31', 30000, 'EUR',
         '[{\"channel\": \"email\", \"amount\": \"5000\"}, {\"channel\": \"google_ads\", \"amount\": \"15000\"},
           {\"channel\": \"social\", \"amount\": \"10000\"}]', '{email,google_ads,social}', 'bench', 'bench'
  FROM generate_series(1, 1000) g" >/dev/null
sql "SELECT id FROM campaigns WHERE org_id = 'bench' ORDER BY name" >"$work/ids"
token=$(build-rel/campaignd token --sub bench --org bench --role analyst --ttl 3600)

# The batch: 10,000 rows, 10 days × 1,000 campaigns on google_ads, every counter a source would send.
python3 - "$work/ids" "$work/batch.json" <<'PY'
import json, sys
ids = [l.strip() for l in open(sys.argv[1])]
rows = [{"campaign_id": c, "channel": "google_ads", "date": f"2026-02-{d + 1:02d}", "source": "bench-crm",
         "external_id": f"{c}-{d}", "impressions": 10000 + d, "clicks": 300 + d, "visits": 250, "leads": 12,
         "mqls": 6, "sqls": 3, "conversions": 2, "spend": f"{300 + d}.50", "revenue": "900.00"}
        for c in ids for d in range(10)]
json.dump({"rows": rows}, open(sys.argv[2], "w"))
PY
post() { # -> seconds, summary
    curl -s -o "$work/out.json" -w '%{time_total}' -X POST "localhost:$port/v1/measurements/batch" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data-binary @"$work/batch.json"
}
t=$(post)
printf '%-44s %6.3f s   %s\n' "POST a 10,000-row batch (all created)" "$t" "$(jq -c .summary "$work/out.json")"
t=$(post)
printf '%-44s %6.3f s   %s\n' "the same batch again (all unchanged)" "$t" "$(jq -c .summary "$work/out.json")"
sed -i 's/"leads": 12/"leads": 13/g' "$work/batch.json"
t=$(post)
printf '%-44s %6.3f s   %s\n' "the batch corrected (all updated)" "$t" "$(jq -c .summary "$work/out.json")"

# 1,000,000 more rows: every campaign, every day of 2026, three channels. Loaded in SQL (the audit trigger off
# for the load: a million audit entries would only slow the loading), the day rollup kept by its trigger.
start=$(date +%s%N)
sql "ALTER TABLE measurements DISABLE TRIGGER measurements_audit_insert;
  INSERT INTO measurements (org_id, campaign_id, channel, date, source, external_id, impressions, clicks, leads,
                            conversions, spend, revenue, currency)
  SELECT 'bench', c.id, ch, DATE '2026-01-01' + d, 'bench-load', c.id || '-' || ch || '-' || d,
         1000 + d, 30 + d % 7, 1 + d % 3, d % 2, 20 + d % 10, 45, 'EUR'
  FROM campaigns c CROSS JOIN generate_series(0, 364) d CROSS JOIN unnest('{email,google_ads,social}'::text[]) ch
  WHERE c.org_id = 'bench';
  ALTER TABLE measurements ENABLE TRIGGER measurements_audit_insert"
# The team for the capacity dashboard: 50 people (40 hours a week, one of four skills), each booked through the
# booking rules for 3 days of 8 hours in each of 51 weeks of 2026 but every tenth (about 6,900 bookings), on leave then.
sql "SELECT campaignd_begin('bench','bench','admin','seed');
  INSERT INTO resources (org_id, kind, name, capacity, capacity_unit, skills)
  SELECT 'bench', 'person', 'Person ' || g, 40, 'hours_per_week', ARRAY[(ARRAY['seo', 'copy', 'social', 'design'])[1 + g % 4]]
  FROM generate_series(1, 50) g" >/dev/null
sql "SET client_min_messages = error; ANALYZE" # the booking guard's lookups plan with the people there
sql "SELECT campaignd_begin('bench','bench','admin','seed');
  WITH a AS (SELECT array_agg(id ORDER BY id) AS c FROM campaigns WHERE org_id = 'bench'),
       p AS (SELECT id, row_number() OVER (ORDER BY name) AS n FROM resources WHERE org_id = 'bench' AND kind = 'person')
  INSERT INTO bookings (org_id, campaign_id, resource_id, period, quantity, status, created_by)
  SELECT 'bench', a.c[1 + (p.n * 52 + w) % 1000], p.id,
         tstzrange(timestamptz '2026-01-05 09:00Z' + w * interval '1 week' + d * interval '1 day',
                   timestamptz '2026-01-05 17:00Z' + w * interval '1 week' + d * interval '1 day'), 8, 'confirmed', 'bench'
  FROM a, p, generate_series(0, 50) w, generate_series(0, 2) d WHERE (w + p.n) % 10 <> 0;
  INSERT INTO availability (org_id, resource_id, kind, period, created_by)
  SELECT 'bench', p.id, 'leave', tstzrange(timestamptz '2026-01-05' + w * interval '1 week',
                                           timestamptz '2026-01-05' + w * interval '1 week' + interval '5 days'), 'bench'
  FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM resources WHERE org_id = 'bench' AND kind = 'person') p,
       generate_series(0, 50) w WHERE (w + p.n) % 10 = 0" >/dev/null
sql "SET client_min_messages = error; ANALYZE" # statistics after the bulk load
printf '%-44s %6.1f s   (%s measurement rows, %s day rows)\n' "loading 1,095,000 rows in SQL" \
    "$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN {print (b - a) / 1e9}')" "$(sql "SELECT count(*) FROM measurements")" \
    "$(sql "SELECT count(*) FROM measurement_days")"

cat > "$work/campaign.lua" <<LUA
local ids = {}
for line in io.lines("$work/ids") do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "Bearer $token"
request = function() return wrk.format("GET", "/v1/dashboards/campaigns/" .. ids[math.random(#ids)] .. "?to=2026-06-30") end
LUA
cat > "$work/plain.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA
run() { # name, url, script
    local out
    out=$(wrk -t2 -c8 -d"${secs}s" --latency -s "$3" "$2")
    printf '%-44s %8s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "$(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep . || echo 0)"
}
base=http://127.0.0.1:$port/v1/dashboards
run "GET /v1/dashboards/campaigns/{id}" "$base/campaigns/x" "$work/campaign.lua"
run "GET /v1/dashboards/channels (a year)" "$base/channels?from=2026-01-01&to=2026-12-31" "$work/plain.lua"
run "GET /v1/dashboards/portfolio (12 months)" \
    "$base/portfolio?from=2026-01-01&to=2026-12-31&granularity=month" "$work/plain.lua"
run "GET /v1/dashboards/portfolio (365 days)" "$base/portfolio?from=2026-01-01&to=2026-12-31&granularity=day" \
    "$work/plain.lua"
run "GET /v1/dashboards/capacity (13 weeks)" "$base/capacity?from=2026-01-05&to=2026-04-05" "$work/plain.lua"
