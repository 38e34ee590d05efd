#!/usr/bin/env bash
# bench.sh — GET one campaign (random among 1,000) and GET a 50-item page, 32
# connections, with wrk; pgbench -S -M prepared on the same cluster for scale, and
# this stage's goal for GET one beside it (>= 0.4 x pgbench -S, p99 <= 5 ms). GET one
# runs once right after the bulk load (no statistics yet) and once after ANALYZE.
# Usage: bash tests/bench/bench.sh [seconds]   (prints figures; never pass/fail)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
secs=${1:-10}
source tests/bench/lib.sh
bench_init
bench_serve
psql -q "$url" -c "SELECT campaignd_begin('bench','bench','admin','seed');
  INSERT INTO campaigns (org_id, name, objective, start_date, end_date, owner, created_by)
  SELECT 'bench', 'Campaign ' || g, 'awareness', DATE '2027-01-01' + g % 300, DATE '2027-01-01' + g % 300 + 30,
         'bench', 'bench' FROM generate_series(1, 1000) g" >/dev/null
psql -qAt "$url" -c "SELECT id FROM campaigns WHERE org_id = 'bench'" > "$work/ids"
token=$(build-rel/campaignd token --sub bench --org bench --role viewer --ttl 3600)
# wrk prints percentiles up to p99; the tail past it (p99.9, the slowest request) comes from each script's done().
cat > "$work/tail.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("tail %.2fms %.2fms\n", latency:percentile(99.9) / 1000, latency.max / 1000))
end
LUA
cat > "$work/one.lua" <<LUA
local ids = {}
for line in io.lines("$work/ids") do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "Bearer $token"
request = function() return wrk.format("GET", "/v1/campaigns/" .. ids[math.random(#ids)]) end
dofile("$work/tail.lua")
LUA
cat > "$work/list.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
dofile("$work/tail.lua")
LUA
run() { # name, url, script
    local out rps p50 p99 p999 max
    out=$(wrk -t2 -c32 -d"${secs}s" --latency -s "$3" "$2")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    read -r p999 max < <(awk '$1 == "tail" {print $2, $3}' <<<"$out")
    printf '%-36s %10s req/s   p50 %-9s p99 %-9s p99.9 %-9s max %s\n' "$1" "$rps" "$p50" "$p99" "$p999" "$max" >&2
    echo "$rps $(ms "$p99")"
}
ms() { # wrk's latency (850.00us, 6.80ms, 1.20s) in milliseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/) n *= 1000; print n }'
}
cpu_ticks() { # pids... -> user+system clock ticks
    local t=0 p
    for p in "$@"; do
        [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}
echo "campaignd benchmark: ${secs}s per run, 32 connections, $(nproc) cores"
# The HTTP layer alone (no token, no database): the ceiling the rest is measured against.
run "GET /healthz" "http://127.0.0.1:$port/healthz" "$work/list.lua" >/dev/null
# This cluster's backends only (the postmaster's children): other clusters on the machine run as the same user.
pg_pids=$(pgrep -P "$(head -1 "$(cat "$pgdir/base")/data/postmaster.pid")" | tr '\n' ' ')
# Right after the bulk load, before any statistics: the plans must not depend on them (README "Plans").
run "GET /v1/campaigns/{id}, no statistics" "http://127.0.0.1:$port/v1/campaigns/x" "$work/one.lua" >/dev/null
psql -qAt "$url" -c "ANALYZE campaigns, campaign_segments, campaign_documents" # the tables just loaded
pgbench -q -i -s 1 "$url" >/dev/null 2>&1 # before the runs: its load is not measured
trips() { curl -sf "localhost:$port/metrics" | awk '$1 == "campaignd_db_round_trips_total" {print $2}'; }
switches() { awk '$1 == "ctxt" {print $2}' /proc/stat; } # the whole machine's context switches
c0=$(cpu_ticks $pid) p0=$(cpu_ticks $pg_pids) r0=$(trips) s0=$(switches)
read -r one one_p99 < <(run "GET /v1/campaigns/{id}" "http://127.0.0.1:$port/v1/campaigns/x" "$work/one.lua")
c1=$(cpu_ticks $pid) p1=$(cpu_ticks $pg_pids) r1=$(trips) s1=$(switches)
hz=$(getconf CLK_TCK)
awk -v c=$((c1 - c0)) -v p=$((p1 - p0)) -v hz="$hz" -v n="$one" -v s="$secs" -v r=$((r1 - r0)) -v x=$((s1 - s0)) 'BEGIN {
    printf "  CPU per GET one: campaignd %.0f us, PostgreSQL %.0f us; %.1f GETs per database round trip, %.1f context switches of the machine per GET\n",
           c / hz / (n * s) * 1e6, p / hz / (n * s) * 1e6, n * s / r, x / (n * s) }' >&2
# Right after GET one, so that both see the machine in the same state: over the connection the service uses (the
# Unix socket, when the cluster has one), and over loopback TCP as the figures before the service used the socket
# were measured.
tps=$(pgbench -S -M prepared -c 32 -j 2 -T "$secs" "$url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
printf '%-28s %10s tps\n' "pgbench -S -M prepared" "$tps"
run "GET /v1/campaigns?limit=50" "http://127.0.0.1:$port/v1/campaigns?limit=50" "$work/list.lua" >/dev/null
tcp_tps=$(pgbench -S -M prepared -c 32 -j 2 -T "$secs" "$tcp_url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
printf '%-28s %10s tps\n' "pgbench -S -M prepared, TCP" "$tcp_tps"
awk -v a="$one" -v b="$tps" -v t="$tcp_tps" -v p="$one_p99" 'BEGIN {
    printf "GET one / pgbench -S ratio:  %.2f (goal >= 0.40; %.2f of pgbench over TCP), p99 %.1f ms (goal <= 5): %s\n",
           a / b, a / t, p, (a / b >= 0.4 && p <= 5) ? "met" : "not met" }'
printf 'campaignd RSS after the runs: %s kB\n' "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
