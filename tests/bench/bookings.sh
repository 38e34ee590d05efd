#!/usr/bin/env bash
# bookings.sh — POST /v1/bookings throughput (all free periods, then a 50 %
# conflicting mix) at 32 connections, and the latency of a conflict refusal on
# a table of 100,000 bookings (one connection); pgbench -S -M prepared on the same
# cluster for scale, and this stage's goal for free bookings beside it (>= 3,000
# req/s, p99 <= 25 ms). For the free bookings it also prints what a write cost
# each side (CPU from /proc: the service, the cluster's backends, the whole
# machine), how many writes shared a database round trip and the machine's context
# switches per write; they run after BOOKINGS_WARMUP seconds (default 2) of the
# same load, unmeasured. Prints figures; never pass/fail.
# Usage: bash tests/bench/bookings.sh [seconds]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
secs=${1:-10}
source tests/bench/lib.sh
bench_init
export CAMPAIGND_DB_POOL_SIZE=8
bench_serve

# 200 exclusive slots for the throughput runs; 10 more holding 10,000 bookings each.
camp=$(sql "SELECT campaignd_begin('bench','bench','admin','seed');
  INSERT INTO campaigns (org_id, name, objective, start_date, end_date, owner, created_by)
  VALUES ('bench', 'Bench', 'awareness', '2027-01-01', '2027-12-31', 'bench', 'bench') RETURNING id" | tail -1)
sql "SELECT campaignd_begin('bench','bench','admin','seed');
  INSERT INTO resources (org_id, kind, name) SELECT 'bench', 'slot', 'slot ' || g FROM generate_series(1, 200) g;
  INSERT INTO resources (org_id, kind, name) SELECT 'bench', 'slot', 'full ' || g FROM generate_series(1, 10) g;
  INSERT INTO resources (org_id, kind, name) VALUES ('bench', 'slot', 'lone')" >/dev/null
# Statistics of the tables just loaded. (An ANALYZE of the still-empty bookings table once made the booking
# guard scan every booking already seeded for each new one: 100,000 took over 7 minutes. The guards now read
# their indexes whatever the statistics say, 0039_guards_without_statistics.sql.)
sql "SET client_min_messages = error; ANALYZE campaigns, resources"
sql "SELECT id FROM resources WHERE name LIKE 'slot %' ORDER BY name" >"$work/slots"
full=$(sql "SELECT id FROM resources WHERE name = 'full 1'")
lone=$(sql "SELECT id FROM resources WHERE name = 'lone'")
seed_start=$(date +%s.%N)
sql "SELECT campaignd_begin('bench','bench','admin','seed');
  INSERT INTO bookings (org_id, campaign_id, resource_id, period, created_by)
  SELECT 'bench', '$camp', r.id, tstzrange(timestamptz '2027-01-01' + g * interval '1 hour',
                                           timestamptz '2027-01-01' + (g + 1) * interval '1 hour'), 'bench'
  FROM resources r, generate_series(0, 9999) g WHERE r.name LIKE 'full %';
  INSERT INTO bookings (org_id, campaign_id, resource_id, period, created_by)
  VALUES ('bench', '$camp', '$lone', '[2027-06-01 10:00Z, 2027-06-01 11:00Z)', 'bench')" >/dev/null
seed_secs=$(awk -v a="$seed_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
sql "SET client_min_messages = error; ANALYZE"
# The seed's 100,000 booking.created events are handed over to webhooks by the service's worker meanwhile: the
# first run would measure that, so wait until it is done (and say how long it took: each batch of 500 once read
# the whole outbox, 0022_settings_plans.sql).
handover_start=$(date +%s.%N)
for _ in $(seq 1500); do # at most 5 minutes
    [[ $(sql "SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL") == 0 ]] && break
    sleep 0.2
done
handover_secs=$(awk -v a="$handover_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
token=$(build-rel/campaignd token --sub bench --org bench --role manager --ttl 3600)

# Every request books a period no other request uses: all 201.
cat >"$work/free.lua" <<LUA
local slots = {}
for line in io.lines("$work/slots") do slots[#slots + 1] = line end
local counter, tid, created, refused, other = 0, 0, 0, 0, 0
local offset = tonumber(os.getenv("BOOKINGS_OFFSET") or "0") -- a warm-up books periods of its own
local threads = {}
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n); table.insert(threads, thread) end
function init(args) tid = tonumber(wrk.thread:get("tid")) end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
function period(k)
  local t = 1830297600 + k * 3600 -- 2028-01-01 onwards, one hour per request
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t), os.date("!%Y-%m-%dT%H:%M:%SZ", t + 3600)
end
function body(resource, s, e)
  return string.format('{"campaign_id":"$camp","resource_id":"%s","start":"%s","end":"%s"}', resource, s, e)
end
function request()
  counter = counter + 1
  local s, e = period(offset + tid * 10000000 + counter)
  return wrk.format(nil, "/v1/bookings", nil, body(slots[math.random(#slots)], s, e))
end
function response(status)
  if status == 201 then created = created + 1 elseif status == 409 then refused = refused + 1 else other = other + 1 end
  wrk.thread:set("c", created); wrk.thread:set("r", refused); wrk.thread:set("o", other)
end
function done()
  local c, r, o = 0, 0, 0
  for _, t in ipairs(threads) do c = c + (t:get("c") or 0); r = r + (t:get("r") or 0); o = o + (t:get("o") or 0) end
  io.write(string.format("STATUS %d %d %d\n", c, r, o))
end
LUA
# Every other request asks for a period already booked: half 201, half 409.
sed -e 's|^function request()|function free_request()|' "$work/free.lua" >"$work/mix.lua"
cat >>"$work/mix.lua" <<LUA
function request()
  counter = counter + 1
  if counter % 2 == 0 then
    return wrk.format(nil, "/v1/bookings", nil, body("$full", "2027-01-01T05:30:00Z", "2027-01-01T06:30:00Z"))
  end
  local s, e = period(tid * 10000000 + counter + 5000000)
  return wrk.format(nil, "/v1/bookings", nil, body(slots[math.random(#slots)], s, e))
end
LUA
# A refusal on a resource holding 10,000 of the 100,000 bookings (and, for
# comparison, on a resource holding one booking).
cat >"$work/conflict.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"campaign_id":"$camp","resource_id":"$full","start":"2027-06-01T10:30:00Z","end":"2027-06-01T11:30:00Z"}'
LUA

sed -e "s/$full/$lone/" "$work/conflict.lua" >"$work/conflict-lone.lua"

run() { # name, connections, script
    local out rps p50 p99 st
    out=$(timeout $((secs + 30)) wrk -t"$(($2 < 2 ? 1 : 2))" -c"$2" -d"${secs}s" --latency -s "$3" \
        "http://127.0.0.1:$port/v1/bookings")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    st=$(awk '/^STATUS/ {printf "201: %d  409: %d  other: %d", $2, $3, $4}' <<<"$out")
    printf '%-40s %9s req/s  p50 %-9s p99 %-9s %s\n' "$1" "$rps" "$p50" "$p99" "$st"
    last_rps=$rps last_p99=$(awk -v v="$p99" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/) n *= 1000; print n }')
}
echo "campaignd booking benchmark: ${secs}s per run, $(nproc) cores"
echo "seeded 100,000 bookings (10 resources x 10,000) in ${seed_secs}s through the booking rules (one INSERT ... SELECT)"
echo "their outbox events were handed over ${handover_secs}s after the seed's end"
cpu_ticks() { # pids... -> user+system clock ticks
    local t=0 p
    for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
    echo "$t"
}
machine() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat; } # busy and idle ticks
trips() { curl -sf "localhost:$port/metrics" | awk '$1 == "campaignd_db_round_trips_total" {print $2}'; }
switches() { awk '$1 == "ctxt" {print $2}' /proc/stat; }
# This cluster's backends only (the postmaster's children): other clusters on the machine run as the same user.
pg_pids=$(pgrep -P "$(head -1 "$(cat "$pgdir/base")/data/postmaster.pid")" | tr '\n' ' ')
warmup=${BOOKINGS_WARMUP:-2}
if ((warmup > 0)); then
    BOOKINGS_OFFSET=30000000 timeout $((warmup + 30)) wrk -t2 -c32 -d"${warmup}s" -s "$work/free.lua" \
        "http://127.0.0.1:$port/v1/bookings" >/dev/null
    pg_pids=$(pgrep -P "$(head -1 "$(cat "$pgdir/base")/data/postmaster.pid")" | tr '\n' ' ')
fi
n0=$(sql "SELECT count(*) FROM bookings") c0=$(cpu_ticks $pid) p0=$(cpu_ticks $pg_pids) r0=$(trips) s0=$(switches)
read -r m0 i0 < <(machine)
run "POST /v1/bookings, all free (c=32)" 32 "$work/free.lua"
free_rps=$last_rps free_p99=$last_p99
c1=$(cpu_ticks $pid) p1=$(cpu_ticks $pg_pids) r1=$(trips) s1=$(switches) n1=$(sql "SELECT count(*) FROM bookings")
read -r m1 i1 < <(machine)
awk -v c=$((c1 - c0)) -v p=$((p1 - p0)) -v m=$((m1 - m0)) -v i=$((i1 - i0)) -v hz="$(getconf CLK_TCK)" \
    -v n=$((n1 - n0)) -v r=$((r1 - r0)) -v x=$((s1 - s0)) 'BEGIN {
    printf "  per free booking: campaignd %.3f ms, PostgreSQL %.3f ms, the machine %.3f ms of CPU (%.0f%% idle); %.1f writes per database round trip, %.1f context switches of the machine\n",
           c / hz / n * 1e3, p / hz / n * 1e3, m / hz / n * 1e3, 100 * i / (m + i), n / r, x / n }'
run "POST /v1/bookings, 50% conflicting (c=32)" 32 "$work/mix.lua"
run "conflict refusal, 100k bookings (c=1)" 1 "$work/conflict.lua"
run "conflict refusal, 1 booking (c=1)" 1 "$work/conflict-lone.lua"
printf 'bookings in the table after the runs: %s\n' "$(sql "SELECT count(*) FROM bookings")"
timeout 120 pgbench -q -i -s 1 "$url" >/dev/null 2>&1
tps=$(timeout $((secs + 30)) pgbench -S -M prepared -c 32 -j 2 -T "$secs" "$url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
printf '%-40s %9s tps\n' "pgbench -S -M prepared (same cluster)" "$tps"
awk -v r="$free_rps" -v p="$free_p99" 'BEGIN {
    printf "free bookings: %.0f req/s (goal >= 3000), p99 %.1f ms (goal <= 25): %s\n", r, p,
           (r >= 3000 && p <= 25) ? "met" : "not met" }'
printf 'campaignd RSS after the runs: %s kB\n' "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
