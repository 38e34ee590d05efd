#!/usr/bin/env bash
# webhooks.sh — webhook deliveries per second to a local receiver (Python's threading http.server answering
# 200 at once) from one replica and from two (each with CAMPAIGND_WEBHOOK_WORKERS delivery threads), and the
# latency of a booking write with and without 10,000 events pending delivery (the worker busy with a receiver
# that takes 50 ms per request). Prints figures; never pass/fail.
# Usage: bash tests/bench/webhooks.sh [events] [seconds]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
events=${1:-5000}
secs=${2:-8}
workers=${CAMPAIGND_WEBHOOK_WORKERS:-2}
source tests/bench/lib.sh
bench_init
export CAMPAIGND_DB_POOL_SIZE=8
export CAMPAIGND_WEBHOOK_ALLOW_HTTP=1 CAMPAIGND_WEBHOOK_ALLOW_PRIVATE=1 CAMPAIGND_WEBHOOK_POLL_MS=50

# The receiver: /fast answers 200 at once, /slow after 50 ms.
rport=$((30000 + RANDOM % 10000))
cat >"$work/receiver.py" <<'PY'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/slow":
            time.sleep(0.05)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$work/receiver.py" "$rport" &
bench_pids+=($!)

start_replica() { # port, workers -> pid in $replica
    CAMPAIGND_PORT=$1 CAMPAIGND_WEBHOOK_WORKERS=$2 build-rel/campaignd &
    replica=$!
    bench_pids+=("$replica")
    for _ in $(seq 50); do curl -sf "localhost:$1/readyz" >/dev/null && break; sleep 0.1; done
}
stop_replica() { kill "$1"; wait "$1" 2>/dev/null || true; }

start_replica "$port" 0
api=$replica
admin=$(build-rel/campaignd token --sub bench --org bench --role admin --ttl 3600)
manager=$(build-rel/campaignd token --sub bench --org bench --role manager --ttl 3600)
hook=$(curl -sf -X POST "localhost:$port/v1/webhooks" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' \
    -d "{\"url\":\"http://127.0.0.1:$rport/fast\",\"event_types\":[\"booking.created\"]}" | jq -r .id)

queue() { # n events of organisation bench
    sql "INSERT INTO outbox_events (org_id, type, entity, entity_id, payload, actor)
         SELECT 'bench', 'booking.created', 'booking', gen_random_uuid(), jsonb_build_object('n', g), 'bench'
         FROM generate_series(1, $1) g" >/dev/null
}
delivered() { sql "SELECT count(*) FROM webhook_deliveries WHERE subscription_id = '$hook' AND status = 'succeeded'"; }

rate() { # replicas
    local before t0 t1 n p ports=()
    before=$(delivered)
    queue "$events"
    t0=$(date +%s.%N)
    for i in $(seq "$1"); do
        p=$((port + i))
        start_replica "$p" "$workers"
        ports+=("$replica")
    done
    local deadline=$((SECONDS + 120))
    while (($(delivered) < before + events)); do
        ((SECONDS < deadline)) || { echo "webhooks.sh: deliveries stalled at $(delivered)" >&2; exit 1; }
        sleep 0.05
    done
    t1=$(date +%s.%N)
    for r in "${ports[@]}"; do stop_replica "$r"; done
    n=$(sql "SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
             WHERE d.subscription_id = '$hook'")
    awk -v n="$events" -v a="$t0" -v b="$t1" -v r="$1" -v w="$workers" -v att="$n" \
        'BEGIN {printf "%d replica(s) x %d threads: %d deliveries in %.2f s = %.0f/s (attempts so far: %d)\n", r, w, n, b - a, n / (b - a), att}'
}

echo "campaignd webhook benchmark: $events events per run, $(nproc) cores"
rate 1
rate 2

# Booking writes: a baseline, then with 10,000 events pending and the worker busy delivering them slowly.
camp=$(curl -sf -X POST "localhost:$port/v1/campaigns" -H "Authorization: Bearer $manager" \
    -H 'Content-Type: application/json' \
    -d '{"name":"Bench","objective":"awareness","start_date":"2027-01-01","end_date":"2027-12-31"}' | jq -r .id)
sql "SELECT campaignd_begin('bench','bench','admin','seed');
     INSERT INTO resources (org_id, kind, name) SELECT 'bench', 'slot', 'slot ' || g FROM generate_series(1, 200) g" >/dev/null
sql "SET client_min_messages = error; ANALYZE"
sql "SELECT id FROM resources WHERE org_id = 'bench' ORDER BY name" >"$work/slots"
cat >"$work/book.lua" <<LUA
local slots = {}
for line in io.lines("$work/slots") do slots[#slots + 1] = line end
local counter, tid, n, created, other = 0, 0, 0, 0, 0
local threads = {}
function setup(thread) n = n + 1; thread:set("tid", n); table.insert(threads, thread) end
function init(args) tid = tonumber(wrk.thread:get("tid")) + (tonumber(os.getenv("OFFSET")) or 0) end
function response(status)
  if status == 201 then created = created + 1 else other = other + 1 end
  wrk.thread:set("c", created); wrk.thread:set("o", other)
end
function done()
  local c, o = 0, 0
  for _, t in ipairs(threads) do c = c + (t:get("c") or 0); o = o + (t:get("o") or 0) end
  io.write(string.format("STATUS %d %d\n", c, o))
end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $manager"
wrk.headers["Content-Type"] = "application/json"
function request()
  counter = counter + 1
  local t = 1830297600 + (tid * 100000 + counter) * 3600 -- an hour per request, years below 5000
  local s, e = os.date("!%Y-%m-%dT%H:%M:%SZ", t), os.date("!%Y-%m-%dT%H:%M:%SZ", t + 3600)
  return wrk.format(nil, "/v1/bookings", nil, string.format(
    '{"campaign_id":"$camp","resource_id":"%s","start":"%s","end":"%s"}', slots[math.random(#slots)], s, e))
end
LUA
book() { # label, offset
    local out
    out=$(OFFSET=$2 wrk -t2 -c8 -d"${secs}s" --latency -s "$work/book.lua" "http://127.0.0.1:$port/v1/bookings")
    printf '%-52s %9s req/s  p50 %-9s p99 %-9s %s\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "$(awk '/^STATUS/ {printf "201: %d  other: %d", $2, $3}' <<<"$out")"
}
stop_replica "$api"
start_replica "$port" "$workers"
book "POST /v1/bookings (c=8), nothing pending" 100
curl -sf -X PATCH "localhost:$port/v1/webhooks/$hook" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/merge-patch+json' -d "{\"url\":\"http://127.0.0.1:$rport/slow\"}" >/dev/null
queue 10000
sleep 1
book "POST /v1/bookings (c=8), 10,000 events pending" 200
printf 'still pending after the run: %s deliveries, %s events not handed over\n' \
    "$(sql "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")" \
    "$(sql "SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL")"
