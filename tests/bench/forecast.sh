#!/usr/bin/env bash
# forecast.sh — the forecasts' speed, in a Release build. Prints figures; never pass/fail.
#   1. the engine alone (tests/bench/bench_forecast.c): a forecast, an allocation and a backtest over a simulated
#      history of 1,000 campaigns; no database, no HTTP;
#   2. the routes over HTTP (wrk, 2 connections: the machine's 2 cores) on the demo's history (sql/demo/demo.sql,
#      24 completed campaigns, 2 years of daily measurements on 4 channels, loaded and ANALYZEd as
#      service/demo.sh does): POST /v1/forecasts, /v1/budget/allocate and /v1/forecasts/backtest, a forecast or
#      an allocation reading the fits kept at the organisation's history version (0024; the first request reads the
#      history, fits and keeps them, those the run times read them); a backtest always reads the history and fits;
#   3. where a request's time goes at 1,000 campaigns: the statements' durations as PostgreSQL logs them, with
#      the fits kept and with the history changed before each request; and the history statement's generic plan
#      alone (EXPLAIN ANALYZE).
# Usage: bash tests/bench/forecast.sh [runs] [seconds]   (run it under the heavy-work lock)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
runs=${1:-100}
secs=${2:-10}
source tests/bench/lib.sh
bench_init
echo "== the engine, $(nproc) cores"
build-rel/bench_forecast "$runs"

build-rel/campaignd migrate >/dev/null
psql "$url" -X -q -v ON_ERROR_STOP=1 -1 -f sql/demo/demo.sql >/dev/null
psql "$url" -X -q -c "SET client_min_messages = error; ANALYZE"
bench_serve
token=$(build-rel/campaignd token --sub bench --org demo --role analyst --ttl 3600)

# The README walk-through's requests.
forecast='{"currency":"EUR","start_date":"2027-10-04","end_date":"2027-10-31","channels":[{"channel":"email","amount":"2400.00"},{"channel":"google_ads","amount":"11000.00"},{"channel":"social","amount":"4800.00"}]}'
allocate='{"kpi":"leads","currency":"EUR","budget":"20000.00","start_date":"2027-10-04","end_date":"2027-10-31","channels":[{"channel":"email","current":"2400.00","max":"4000.00"},{"channel":"google_ads","current":"8000.00"},{"channel":"influence","current":"6000.00","min":"3000.00"},{"channel":"social","current":"3600.00"}]}'
backtest='{"currency":"EUR"}'
post() { # path, body: one request, so the run starts from a known answer
    curl -sf -o /dev/null -X POST "localhost:$port$1" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -d "$2"
}
run() { # name, path, body[, token]
    local token=${4:-$token}
    post "$2" "$3"
    cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$3'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
done = function(summary, latency, requests)
  io.write(string.format("non-2xx %d\n", summary.errors.status))
end
LUA
    local out
    out=$(wrk -t2 -c2 -d"${secs}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port$2")
    printf '%-36s %8s req/s   p50 %-9s p99 %-9s %s\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "$(grep '^non-2xx' <<<"$out")"
}
# Larger histories, as the engine's goals count them: organisation bench1000 with 1,000 completed 4-week
# campaigns and bench200 with 200, each on four channels at budgets from 0.3 to 3 times the channel's usual, one
# measurement row per campaign and channel (leads ~ spend^0.8, seeded noise; a tenth convert).
seed() { # org, campaigns
    psql -X -q -1 -v ON_ERROR_STOP=1 "$url" <<SQL >/dev/null
INSERT INTO organisations (id, name) VALUES ('$1', '$1');
SELECT set_config('campaignd.actor', 'bench', false), set_config('campaignd.role', 'admin', false), setseed(0.42);
CREATE TEMP TABLE ch (channel text, budget numeric, factor numeric);
INSERT INTO ch VALUES ('email', 2400, 0.16), ('google_ads', 12000, 0.06), ('social', 4800, 0.09),
                      ('influence', 11000, 0.03);
CREATE TEMP TABLE h AS SELECT g, gen_random_uuid() AS id, DATE '2020-01-01' + 2 * g AS start_date
                      FROM generate_series(1, $2) g;
INSERT INTO campaigns (id, org_id, name, objective, status, start_date, end_date, budget_amount, budget_currency,
                       channel_budgets, owner, channels, created_by)
SELECT h.id, '$1', 'History ' || h.g, 'acquisition', 'completed', h.start_date, h.start_date + 27, 40000, 'EUR',
       (SELECT jsonb_agg(jsonb_build_object('channel', channel, 'amount', budget::text)) FROM ch),
       'bench', '{email,google_ads,social,influence}', 'bench'
FROM h;
INSERT INTO measurements (org_id, campaign_id, channel, date, source, external_id, leads, conversions, spend, revenue,
                          currency)
SELECT '$1', r.id, r.channel, r.start_date, 'bench', r.g || '-' || r.channel, round(r.leads), round(r.leads / 10),
       round(r.spend, 2), round(r.leads / 10) * 500, 'EUR'
FROM (SELECT s.*, s.factor * power(s.spend, 0.8) * s.noise AS leads
      FROM (SELECT h.*, ch.*, ch.budget * (0.3 + 2.7 * random())::numeric AS spend,
                   (0.9 + 0.2 * random())::numeric AS noise FROM h CROSS JOIN ch) s) r;
DROP TABLE h, ch;
SQL
}
seed bench1000 1000
seed bench200 200
psql "$url" -X -q -c "SET client_min_messages = error; ANALYZE"

echo "== the routes over HTTP on the demo's history ($(psql -qAt "$url" -c "SELECT count(*) FROM campaigns
  WHERE org_id = 'demo' AND status = 'completed'") completed campaigns, $(psql -qAt "$url" -c "SELECT count(*)
  FROM measurements WHERE org_id = 'demo'") measurements), wrk -t2 -c2, ${secs}s each"
run "POST /v1/forecasts (3 channels)" /v1/forecasts "$forecast"
run "POST /v1/budget/allocate (4 channels)" /v1/budget/allocate "$allocate"
run "POST /v1/forecasts/backtest" /v1/forecasts/backtest "$backtest"
# Where a request's time goes at 1,000 campaigns: 50 requests one after the other, each statement's duration as
# PostgreSQL logs it (log_min_duration_statement = 0 for these requests only) beside the whole request's (curl).
# With "miss", the organisation's history version is moved before each request (as a change to its history
# would), so each reads the history, fits and keeps its fits.
breakdown() { # name, path, body, token, org[, miss]
    local admin
    admin=$(cat "$pgdir/admin_url")
    psql "$admin" -X -q -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
    local mark log
    log=$(cat "$pgdir/base" 2>/dev/null || echo "$pgdir")/server.log # where cluster.sh put the cluster
    mark=$(stat -c %s "$log")
    for _ in $(seq 50); do
        [[ -n ${6:-} ]] && sql "SELECT forecast_history_bump(ARRAY['$5'])" >/dev/null
        curl -sf -o /dev/null -w '%{time_total}\n' -X POST "localhost:$port$2" -H "Authorization: Bearer $4" \
            -H 'Content-Type: application/json' -d "$3"
    done >"$work/curl.txt"
    psql "$admin" -X -q -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
    median() { sort -n | awk '{v[NR] = $1} END {if (NR) printf "%.1f ms", v[int((NR + 1) / 2)]; else printf "-"}'; }
    stmt() { tail -c +"$((mark + 1))" "$log" | grep "execute $1:" | sed 's/.*duration: \([0-9.]*\) ms.*/\1/' | median; }
    printf '%-36s request p50 %s   version+summary %s   kept fits %s   history statement %s   fits kept %s\n' \
        "$1" "$(awk '{print $1 * 1000}' "$work/curl.txt" | median)" "$(stmt planning_kept_history)" \
        "$(stmt planning_fits)" "$(stmt planning_history)" "$(stmt planning_keep_fit)"
}
# The history statement alone at 1,000 campaigns, after ANALYZE: EXPLAIN ANALYZE of its generic plan in a session
# set as the service sets its own (service/db.c), the statement's text as service/planning_store.c holds it.
history_plan() { # org
    local text
    text=$(python3 -c '
import re, sys
src = open("service/planning_store.c").read()
body = re.search(r"q_history = \{\s*\"planning_history\",(.*?),\s*3\};", src, re.S).group(1)
print("".join(re.findall(r"\"((?:[^\"\\]|\\.)*)\"", body)))')
    psql "$url" -X -q -At <<SQL | grep -E '^(Planning|Execution) Time' | tr '\n' ' '
SET enable_sort = off; SET jit = off; SET plan_cache_mode = force_generic_plan;
PREPARE h(text, text, uuid) AS $text;
EXPLAIN (ANALYZE) EXECUTE h('$1', 'EUR', NULL);
EXPLAIN (ANALYZE) EXECUTE h('$1', 'EUR', NULL);
SQL
    echo
}
for n in 1000 200; do
    t=$(build-rel/campaignd token --sub bench --org "bench$n" --role analyst --ttl 3600)
    echo "== the same over HTTP on $n completed campaigns (4 channels)"
    if ((n == 1000)); then
        run "POST /v1/forecasts (3 channels)" /v1/forecasts "$forecast" "$t"
        run "POST /v1/budget/allocate (4 channels)" /v1/budget/allocate "$allocate" "$t"
        echo "== where the time goes on $n completed campaigns, one request at a time (fits kept)"
        breakdown "POST /v1/forecasts" /v1/forecasts "$forecast" "$t" "bench$n"
        breakdown "POST /v1/budget/allocate" /v1/budget/allocate "$allocate" "$t" "bench$n"
        echo "== the same with the history changed before each request (read, fitted, kept)"
        breakdown "POST /v1/forecasts" /v1/forecasts "$forecast" "$t" "bench$n" miss
        breakdown "POST /v1/budget/allocate" /v1/budget/allocate "$allocate" "$t" "bench$n" miss
        echo "== the history statement alone on $n completed campaigns after ANALYZE (generic plan, run twice)"
        history_plan "bench$n"
    else
        run "POST /v1/forecasts/backtest" /v1/forecasts/backtest "$backtest" "$t"
        run "  the same, leave one out" /v1/forecasts/backtest '{"currency":"EUR","method":"leave_one_out"}' "$t"
    fi
done
