# lib.sh — sourced by the benchmarks (from the repository's root) for what they all start with.
#
#   bench_init    the Release build (build-rel/), a scratch directory ($work), a throwaway cluster ($pgdir,
#                 $url over its Unix socket, $tcp_url over loopback TCP) and the service's environment: a free-looking port ($port), warnings only, a fresh JWT
#                 secret, and the rate limits off (one client at full speed would otherwise measure the 429s);
#                 on exit every process in bench_pids is stopped and the cluster and $work are removed
#   bench_serve   starts one campaignd ($pid, also in bench_pids) and waits until it is ready
#   sql TEXT      runs SQL on the cluster, prints its rows unaligned, stops the script on an error
#
# A script sets what differs (CAMPAIGND_DB_POOL_SIZE, other CAMPAIGND_* variables) between the two calls.

bench_pids=()

bench_cleanup() {
    local p
    for p in "${bench_pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    [[ -n ${pgdir:-} ]] && { bash tests/pg/cluster.sh destroy "$pgdir" >/dev/null || true; }
    [[ -n ${work:-} ]] && rm -rf "$work"
}

bench_init() {
    bash tests/deps.sh >/dev/null
    cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build-rel -j2 >/dev/null
    work=$(mktemp -d)
    trap bench_cleanup EXIT
    pgdir=$work/pg
    url=$(bash tests/pg/cluster.sh start "$pgdir")
    # the same database over loopback TCP (cluster.sh's URL names the Unix socket when the server has one)
    tcp_url=$(sed -E 's|@/([^?]*)\?host=[^&]*&port=([0-9]+)$|@127.0.0.1:\2/\1|' <<<"$url")
    port=$((20000 + RANDOM % 10000))
    export CAMPAIGND_DATABASE_URL=$url CAMPAIGND_PORT=$port CAMPAIGND_LOG_LEVEL=warning
    export CAMPAIGND_RATE_LIMIT_SUBJECT=0 CAMPAIGND_RATE_LIMIT_ORG=0
    CAMPAIGND_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    export CAMPAIGND_JWT_SECRET
}

bench_serve() {
    build-rel/campaignd &
    pid=$!
    bench_pids+=("$pid")
    for _ in $(seq 50); do curl -sf "localhost:$port/readyz" >/dev/null && return 0; sleep 0.1; done
    echo "bench: campaignd did not become ready on port $port" >&2
    return 1
}

sql() { psql -qAt -v ON_ERROR_STOP=1 "$url" -c "$1"; }
