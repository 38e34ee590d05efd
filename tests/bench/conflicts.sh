#!/usr/bin/env bash
# conflicts.sh — the conflicts engine at portfolio scale: one organisation with 500 segments (50 trees of 10),
# 5,000 campaigns over a year (one segment each, some offers and budgets) and 100,000 bookings (200 slots and
# 40 channels); then POST /v1/conflicts/check for one booking and for one campaign at 8 connections, GET
# /v1/conflicts over one year (1 connection), and POST /v1/bookings at 32 connections with the conflict rules on,
# then off (CAMPAIGND_CONFLICT_WRITES=0, the service started again). Each check runs twice: saturated (every
# connection sends its next request as soon as it has an answer), then paced at about half that throughput (each
# connection waits a random think time before its next request), for the tail under a normal load beside the tail
# at saturation. Every measured run follows a few seconds of the same load, unmeasured (CONFLICTS_WARMUP, 3 s).
# Prints figures; never pass/fail. Usage: bash tests/bench/conflicts.sh [seconds]; CONFLICTS_ONLY=campaign (with
# CONFLICTS_ROUNDS, CONFLICTS_BUSY) runs the campaign checks alone, see below.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
secs=${1:-10}
source tests/bench/lib.sh
bench_init
export CAMPAIGND_DB_POOL_SIZE=8
bench_serve

seed_start=$(date +%s.%N)
sql "SELECT campaignd_begin('bench','bench','admin','seed');
  INSERT INTO segments (org_id, name) SELECT 'bench', 'root ' || g FROM generate_series(1, 50) g;
  INSERT INTO segments (org_id, name, parent_id)
    SELECT 'bench', 'child ' || r.name || '.' || g, r.id FROM segments r, generate_series(1, 9) g
     WHERE r.org_id = 'bench' AND r.name LIKE 'root %';
  INSERT INTO campaigns (org_id, name, objective, start_date, end_date, owner, created_by, budget_amount,
                         budget_currency, has_offer, offer_code, offer_terms, score_engagement, score_cpa,
                         score_experience, score_alignment)
    SELECT 'bench', 'Campaign ' || g, 'awareness', DATE '2027-01-01' + (g * 7919) % 351,
           DATE '2027-01-01' + (g * 7919) % 351 + 3 + g % 11, 'bench', 'bench', 5000 + g % 7 * 1000, 'EUR',
           g % 10 = 0, CASE WHEN g % 10 = 0 THEN 'CODE' || g % 40 END, CASE WHEN g % 10 = 0 THEN g % 3 || '0 % off' END,
           g % 11, (g * 3) % 11, (g * 5) % 11, (g * 7) % 11
      FROM generate_series(1, 5000) g;
  INSERT INTO campaign_segments (org_id, campaign_id, segment_id, position)
    SELECT 'bench', c.id, s.id, 1 FROM
      (SELECT id, row_number() OVER (ORDER BY id) AS n FROM campaigns WHERE org_id = 'bench') c
      JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM segments WHERE org_id = 'bench') s
        ON s.n = 1 + c.n % 500;
  INSERT INTO resources (org_id, kind, name, cost_amount, cost_currency)
    SELECT 'bench', 'slot', 'slot ' || g, 10, 'EUR' FROM generate_series(1, 200) g;
  INSERT INTO resources (org_id, kind, name, capacity, capacity_unit)
    SELECT 'bench', 'channel', 'channel ' || g, 1000, 'sends_per_day' FROM generate_series(1, 40) g;" >/dev/null
sql "SET client_min_messages = error; ANALYZE"
# 100,000 bookings through the booking rules: 500 a slot (one hour every 17 hours) and 500 a channel, each for a
# campaign, the channels' to a segment
seed_bookings() { # kind: 417 bookings a resource of that kind, one hour every 17 hours
    sql "SELECT campaignd_begin('bench','bench','admin','seed');
  WITH a AS (SELECT (SELECT array_agg(id ORDER BY id) FROM campaigns WHERE org_id = 'bench') AS c,
                    (SELECT array_agg(id ORDER BY id) FROM segments WHERE org_id = 'bench') AS s),
       r AS (SELECT id, kind, row_number() OVER (ORDER BY kind, name) - 1 AS n FROM resources WHERE org_id = 'bench')
  INSERT INTO bookings (org_id, campaign_id, resource_id, segment_id, period, created_by)
  SELECT 'bench', a.c[1 + (r.n * 500 + g) % 5000], r.id,
         CASE WHEN r.kind = 'channel' THEN a.s[1 + (r.n * 7 + g) % 500] END,
         tstzrange(timestamptz '2027-01-01' + (g * 17 + r.n) * interval '1 hour',
                   timestamptz '2027-01-01' + (g * 17 + r.n + 1) * interval '1 hour'), 'bench'
    FROM a, r, generate_series(0, 416) g WHERE r.kind = '$1'" >/dev/null
    sql "SET client_min_messages = error; ANALYZE" # the guard's lookups plan with the rows there now
}
seed_bookings slot
seed_bookings channel
seed_secs=$(awk -v a="$seed_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
sql "SET client_min_messages = error; ANALYZE"
# the seed's booking.created events (one a booking) are handed over to webhooks by the service's worker meanwhile,
# about 17 s of PostgreSQL's CPU: the first run would measure that, so wait until it is done
for _ in $(seq 300); do # at most 5 minutes: a worker that never finishes must not hold the benchmark's lock
    [[ $(sql "SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL") == 0 ]] && break
    sleep 1
done
# the seed wrote 100,080 rows each to bookings, audit_log and outbox_events, and the worker updated every event:
# autovacuum would vacuum and analyze those tables during the first runs, so vacuum them now (the tables are the
# service's role's; the catalogs it may not vacuum are skipped)
psql -qAt -v ON_ERROR_STOP=1 "$url" -c "SET client_min_messages = error" -c "VACUUM ANALYZE" >/dev/null
counts=$(sql "SELECT (SELECT count(*) FROM segments) || ' segments, ' || (SELECT count(*) FROM campaigns) ||
              ' campaigns, ' || (SELECT count(*) FROM bookings) || ' bookings'")
token=$(build-rel/campaignd token --sub bench --org bench --role manager --ttl 3600)
sql "SELECT id FROM resources WHERE kind = 'slot' ORDER BY name" >"$work/slots"
sql "SELECT id FROM campaigns ORDER BY id" >"$work/campaigns"
sql "SELECT id FROM segments ORDER BY id" >"$work/segments"

cat >"$work/common.lua" <<LUA
function lines(f) local t = {} for l in io.lines(f) do t[#t + 1] = l end return t end
slots, campaigns, segments = lines("$work/slots"), lines("$work/campaigns"), lines("$work/segments")
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
counts = {}
threads = {}
function setup(thread) table.insert(threads, thread); thread:set("tid", #threads) end
-- each thread its own random draws (the Lua states would otherwise all draw the same)
function seed() math.randomseed(os.time() * 16 + tonumber(wrk.thread:get("tid"))) end
function init(args) seed() end
function response(status) counts[status] = (counts[status] or 0) + 1; wrk.thread:set("s" .. status, counts[status]) end
function done()
  local all = {}
  for _, t in ipairs(threads) do for _, st in ipairs({200, 201, 409, 422, 500}) do
    all[st] = (all[st] or 0) + (t:get("s" .. st) or 0) end end
  io.write(string.format("STATUS 200: %d  201: %d  409: %d  other: %d\n", all[200], all[201], all[409],
                         all[422] + all[500]))
end
function instant(h) return os.date("!%Y-%m-%dT%H:%M:%SZ", 1798761600 + h * 3600) end -- 2027-01-01
function day(d) return os.date("!%Y-%m-%d", 1798761600 + d * 86400) end
LUA
cat "$work/common.lua" - >"$work/check-booking.lua" <<'LUA'
function request()
  local h = math.random(0, 8700)
  return wrk.format(nil, "/v1/conflicts/check", nil, string.format(
    '{"booking":{"campaign_id":"%s","resource_id":"%s","start":"%s","end":"%s"}}',
    campaigns[math.random(#campaigns)], slots[math.random(#slots)], instant(h), instant(h + 2)))
end
LUA
cat "$work/common.lua" - >"$work/check-campaign.lua" <<'LUA'
function request()
  local d = math.random(0, 350)
  return wrk.format(nil, "/v1/conflicts/check", nil, string.format(
    '{"campaign":{"name":"Probe","objective":"conversion","start_date":"%s","end_date":"%s","segment_ids":["%s"],' ..
    '"offer":{"code":"CODE%d","terms":"5 %% off"},"budget":{"amount":"1000.00","currency":"EUR"}}}',
    day(d), day(d + 6), segments[math.random(#segments)], math.random(0, 39)))
end
LUA
# a paced run: each connection waits an exponentially distributed think time (mean args[1] ms, rounded at random
# to whole milliseconds, wrk's unit, without bias) before each request
cat >"$work/paced.lua" <<'LUA'
function init(args) seed(); pace = tonumber(args[1]) end
function delay() return math.floor(-pace * math.log(1 - math.random()) + math.random()) end
LUA
cat "$work/check-booking.lua" "$work/paced.lua" >"$work/check-booking-paced.lua"
cat "$work/check-campaign.lua" "$work/paced.lua" >"$work/check-campaign-paced.lua"
# each wrk thread (one Lua state, shared by its connections) books hours no other thread or run books: from 2028
# on, 100,000 hours for each thread of each run (args[1]: the run), so every write is a free period (201)
cat "$work/common.lua" - >"$work/book.lua" <<'LUA'
counter = 0
function init(args)
  seed()
  counter = 9000 + (tonumber(args[1]) * 16 + tonumber(wrk.thread:get("tid"))) * 100000
end
function request()
  counter = counter + 1
  local h = counter
  return wrk.format(nil, "/v1/bookings", nil, string.format(
    '{"campaign_id":"%s","resource_id":"%s","start":"%s","end":"%s"}',
    campaigns[math.random(#campaigns)], slots[math.random(#slots)], instant(h), instant(h + 1)))
end
LUA

warm=${CONFLICTS_WARMUP:-3} # seconds of the same load, unmeasured, before each measured run (0: none)
wrk_run() { # seconds, connections, script, path, the script's argument: wrk's output (bounded, whatever happens)
    timeout $(($1 + 30)) wrk -t"$(($2 < 2 ? 1 : 2))" -c"$2" -d"$1s" --latency -s "$3" "http://127.0.0.1:$port$4" -- "$5"
}
ticks() { # CPU ticks (1/100 s) used so far: by campaignd, by the cluster's processes, by the whole machine
    local pm p pg=0 t
    pm=$(head -1 "$(cat "$pgdir/base")/data/postmaster.pid")
    for p in "$pm" $(pgrep -P "$pm"); do t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null); pg=$((pg + ${t:-0})); done
    echo "$(awk '{print $14 + $15}' "/proc/$pid/stat") $pg $(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat)"
}
run() { # name, connections, script, path[, the script's argument[, the warm-up's]]
    local out rps p50 p99 st n a b
    # the same load first, unmeasured: each run starts on warm statements, caches and connections, as a service
    # that has been serving does (a run right after another kind of request measured its cold start too)
    if ((warm > 0)); then wrk_run "$warm" "$2" "$3" "$4" "${6:-${5:-0}}" >/dev/null; fi
    slow "$4" >"$work/slow0"
    a=$(ticks)
    out=$(wrk_run "$secs" "$2" "$3" "$4" "${5:-0}")
    b=$(ticks)
    slow "$4" >"$work/slow1"
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    n=$(awk '/requests in/ {print $1}' <<<"$out")
    st=$(awk '/^STATUS/ {$1 = ""; print}' <<<"$out")
    printf '%-46s %9s req/s  p50 %-9s p99 %-9s %s\n' "$1" "$rps" "$p50" "$p99" "$st"
    # where the two cores went: the service's and PostgreSQL's CPU a request, and what the rest of the machine (wrk
    # included: other work on the machine shows here) used meanwhile, in cores
    awk -v a="$a" -v b="$b" -v n="$n" -v s="$secs" 'BEGIN {split(a, x); split(b, y)
        printf "%-46s campaignd %.3f ms, PostgreSQL %.3f ms of CPU a request; the rest %.2f cores\n", "",
               (y[1] - x[1]) * 10 / n, (y[2] - x[2]) * 10 / n, (y[3] - x[3] - (y[1] - x[1]) - (y[2] - x[2])) / 100 / s}'
    # wrk's percentiles count each late answer again for every answer its connection missed meanwhile (one 0.5 s
    # stall is a hundred samples here): how many answers the service itself took long over, from its /metrics
    paste "$work/slow0" "$work/slow1" | awk -v name="" '{d[NR] = $3 - $1}
        END {printf "%-46s the service: %d answers over 10 ms, %d over 25 ms, %d over 100 ms, %d over 250 ms of its own\n",
             name, d[1], d[2], d[3], d[4]}'
    last_rps=$rps
}
slow() { # the service's answers on route path so far that took over 10, 25, 100 and 250 ms (its /metrics)
    curl -s "localhost:$port/metrics" | awk -v r="route=\"$1\"" 'index($0, "duration_seconds_bucket{" r ",") {
        split($0, x, "le=\""); split(x[2], y, "\""); le = y[1]; n[le] += $NF }
        /duration_seconds_count/ && index($0, r ",") { all += $NF }
        END {print all - n["0.01"], "0.01"; print all - n["0.025"], "0.025"; print all - n["0.1"], "0.1"; print all - n["0.25"], "0.25"}'
}
paced() { # name, script, the saturated run's req/s: 8 connections at about half of it
    # a connection's cycle at half the throughput is 2 x 8 / rps; its request takes about its machine time,
    # 2 cores / rps, so the think time is the rest: 14 / rps (in ms, rps per ms)
    local think
    think=$(awk -v r="$3" 'BEGIN {printf "%.3f", 14000 / r}')
    run "$1" 8 "$2" /v1/conflicts/check "$think"
    printf '%-46s %s %% of the saturated run, think time %s ms on average\n' "" \
        "$(awk -v a="$last_rps" -v b="$3" 'BEGIN {printf "%.0f", 100 * a / b}')" "$think"
}
echo "campaignd conflicts benchmark: ${secs}s per run after ${warm}s of the same load unmeasured, $(nproc) cores"
echo "seeded $counts in ${seed_secs}s (bookings through the booking rules)"
# CONFLICTS_ONLY=campaign: the campaign checks alone, CONFLICTS_ROUNDS times (1), each saturated run beside
# CONFLICTS_BUSY busy loops (0: none), so that a run while other work takes the machine can be made at will
if [[ ${CONFLICTS_ONLY:-} == campaign ]]; then
    for _ in $(seq "${CONFLICTS_ROUNDS:-1}"); do
        busy=()
        for _ in $(seq "${CONFLICTS_BUSY:-0}"); do # bounded: each stops by itself after the run
            # in a session of its own, as another engineer's work is (the scheduler shares the cores between
            # sessions first, then between the processes of each)
            setsid timeout $((warm + secs + 5)) sh -c 'while :; do :; done' &
            busy+=("$!")
            bench_pids+=("$!")
        done
        run "POST /v1/conflicts/check, one campaign (c=8)" 8 "$work/check-campaign.lua" /v1/conflicts/check
        for p in "${busy[@]}"; do kill "$p" 2>/dev/null || true; done
        paced "  the same, paced (c=8)" "$work/check-campaign-paced.lua" "$last_rps"
    done
    exit 0
fi
run "POST /v1/conflicts/check, one booking (c=8)" 8 "$work/check-booking.lua" /v1/conflicts/check
paced "  the same, paced (c=8)" "$work/check-booking-paced.lua" "$last_rps"
run "POST /v1/conflicts/check, one campaign (c=8)" 8 "$work/check-campaign.lua" /v1/conflicts/check
paced "  the same, paced (c=8)" "$work/check-campaign-paced.lua" "$last_rps"
scan() { # one year, first page and the findings in all
    local t total
    t=$(curl -s -o "$work/scan.json" -w '%{time_total}' "localhost:$port/v1/conflicts?from=2027-01-01&to=2028-01-01&limit=500" \
        -H "Authorization: Bearer $token")
    total=$(jq '.items | length' "$work/scan.json")
    printf '%s %s\n' "$t" "$total"
}
scan >/dev/null # warm the statements
for i in 1 2 3 4 5; do scan; done >"$work/scans"
printf '%-46s best %s s  median %s s  (first page: %s findings)\n' "GET /v1/conflicts, one year, limit=500 (c=1)" \
    "$(sort -n "$work/scans" | head -1 | cut -d' ' -f1)" "$(sort -n "$work/scans" | sed -n 3p | cut -d' ' -f1)" \
    "$(head -1 "$work/scans" | cut -d' ' -f2)"
printf 'findings in the year: %s\n' "$(curl -s "localhost:$port/v1/conflicts?from=2027-01-01&to=2028-01-01&limit=500&severity=block" \
    -H "Authorization: Bearer $token" | jq '.items | length') blocking on the first page"
run "POST /v1/bookings, check on (c=32)" 32 "$work/book.lua" /v1/bookings 0 2
printf 'campaignd RSS after the runs: %s kB\n' "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
# the same writes without the conflict rules, in the same run: the service again with CAMPAIGND_CONFLICT_WRITES=0
kill "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done # its drain is bounded; so is this
kill -9 "$pid" 2>/dev/null || true
CAMPAIGND_CONFLICT_WRITES=0 bench_serve
run "POST /v1/bookings, check off (c=32)" 32 "$work/book.lua" /v1/bookings 1 3
