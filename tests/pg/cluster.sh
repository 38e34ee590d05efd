#!/usr/bin/env bash
# tests/pg/cluster.sh — private, throwaway PostgreSQL clusters for the tests and the demo.
#
#   bash tests/pg/cluster.sh start DIR   initialise DIR (first time only), start the server if it is not
#                                        running, print the libpq URI of the `campaignd` database
#   bash tests/pg/cluster.sh stop DIR    fast shutdown; does nothing when the server is not running
#   bash tests/pg/cluster.sh url DIR     print the URI again (it is kept in DIR/url)
#   bash tests/pg/cluster.sh destroy DIR stop, then delete the cluster and DIR (use it in test clean-up traps:
#                                        the cluster may live outside DIR, see below, so `rm -rf DIR` is not enough)
#
# The server listens on 127.0.0.1 and on a Unix socket in its base directory (see below), on a free port chosen
# at first start (kept across restarts while it stays free). It is tuned for tests, not for durability: fsync,
# synchronous_commit and full_page_writes are off.
# Files in DIR:
#   url        postgresql://campaignd:PASSWORD@/campaignd?host=SOCKET_DIR&port=PORT (role `campaignd`, owner of the
#              database, may create databases): over the server's Unix socket, or when it has none (a socket
#              path past 107 bytes) postgresql://campaignd:PASSWORD@127.0.0.1:PORT/campaignd
#   admin_url  the same for the superuser `postgres` (for tests that must kill backends, drop databases, ...)
#   base       where the cluster really lives: DIR itself, see below
#   base/data  the data directory; base/server.log the server log; base/.s.PGSQL.PORT the unix socket
#
# initdb and pg_ctl refuse to run as root. When this script runs as root, the server runs as an unprivileged
# system user (CAMPAIGND_PG_OSUSER, default `campaignd`, created with useradd when missing) and DIR is chowned to
# it. If that user cannot reach DIR at all (for instance a checkout under a home directory with mode 0700), the
# cluster lives in a private directory made by mktemp instead and DIR/base points to it.
#
# Environment: PG_BINDIR (directory holding initdb and pg_ctl; default the newest /usr/lib/postgresql/N/bin,
# else the directory of `initdb` on PATH), CAMPAIGND_PG_OSUSER.
set -euo pipefail

readonly OSUSER_DEFAULT=campaignd
OSUSER=${CAMPAIGND_PG_OSUSER:-$OSUSER_DEFAULT}
readonly DBNAME=campaignd DBROLE=campaignd

die() { printf 'cluster.sh: %s\n' "$*" >&2; exit 1; }
note() { printf 'cluster.sh: %s\n' "$*" >&2; }

usage() {
    printf 'usage: %s start|stop|url|destroy DIR\n' "${0##*/}" >&2
    exit 2
}

find_bindir() {
    if [[ -n ${PG_BINDIR:-} ]]; then
        [[ -x $PG_BINDIR/initdb && -x $PG_BINDIR/pg_ctl ]] || die "PG_BINDIR=$PG_BINDIR has no initdb/pg_ctl"
        printf '%s\n' "$PG_BINDIR"
        return
    fi
    local d best='' bestv=-1 v
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb && -x $d/pg_ctl ]] || continue
        v=${d%/bin}
        v=${v##*/}
        [[ $v =~ ^[0-9]+$ ]] || continue
        if ((v > bestv)); then
            best=$d
            bestv=$v
        fi
    done
    if [[ -z $best ]] && command -v initdb >/dev/null 2>&1; then
        best=$(dirname "$(command -v initdb)")
    fi
    [[ -n $best ]] || die "PostgreSQL server binaries not found (install postgresql, or set PG_BINDIR)"
    printf '%s\n' "$best"
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# Runs a command as the user that owns the cluster, from /, so that an unreadable working directory is harmless.
as_pg() {
    if is_root; then
        (cd / && runuser -u "$OSUSER" -- "$@")
    else
        "$@"
    fi
}

ensure_osuser() {
    is_root || return 0
    if ! id -u "$OSUSER" >/dev/null 2>&1; then
        note "creating system user $OSUSER"
        local shell=/usr/sbin/nologin
        [[ -x $shell ]] || shell=/bin/false
        useradd --system --user-group --no-create-home --home-dir / --shell "$shell" "$OSUSER" >/dev/null
    fi
}

random_hex() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

port_in_use() {
    local p=$1
    if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]; then
        return 0
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
}

# A free TCP port below the usual ephemeral range (32768-60999), so outgoing connections do not take it later.
pick_port() {
    local i p
    for ((i = 0; i < 200; i++)); do
        p=$((15000 + RANDOM % 15000))
        if ! port_in_use "$p"; then
            printf '%s\n' "$p"
            return
        fi
    done
    die "no free TCP port found on 127.0.0.1"
}

abs_dir() { (cd "$1" && pwd -P); }

# Sets BASE (where data, log and socket live), creating it when needed. DIR must be absolute and exist.
resolve_base() {
    if [[ -f $DIR/base ]]; then
        BASE=$(<"$DIR/base")
        if [[ -d $BASE/data ]]; then
            return
        fi
        note "cluster recorded in $DIR/base is gone ($BASE); creating a new one"
        rm -f "$DIR/base" "$DIR/url" "$DIR/admin_url" "$DIR/password" "$DIR/admin_password"
    fi
    BASE=$DIR
    if is_root; then
        chown "$OSUSER:" "$DIR"
        chmod 0700 "$DIR"
        if ! as_pg test -w "$DIR" -a -x "$DIR"; then
            BASE=$(mktemp -d -t campaignd-pg.XXXXXXXX)
            chown "$OSUSER:" "$BASE"
            chmod 0700 "$BASE"
            as_pg test -w "$BASE" -a -x "$BASE" || die "user $OSUSER can reach neither $DIR nor $BASE"
            note "user $OSUSER cannot reach $DIR; the cluster lives in $BASE (recorded in $DIR/base)"
        fi
    else
        [[ -w $DIR ]] || die "$DIR is not writable"
        chmod 0700 "$DIR"
    fi
    printf '%s\n' "$BASE" >"$DIR/base"
}

write_conf() { # port
    local port=$1 sockdir=$BASE
    # A unix socket path is limited to 107 bytes; without room for it the server listens on TCP only.
    if ((${#BASE} + 18 > 100)); then
        sockdir=''
    fi
    as_pg tee "$BASE/data/campaignd_test.conf" >/dev/null <<EOF
# written by tests/pg/cluster.sh; rewritten at each start
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

initialise() {
    local bindir=$1 locale_opt=(--no-locale) pwfile
    if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then
        locale_opt=(--locale=C.UTF-8)
    fi
    random_hex >"$DIR/admin_password"
    random_hex >"$DIR/password"
    chmod 0600 "$DIR/admin_password" "$DIR/password"
    pwfile=$BASE/.pwfile
    as_pg tee "$pwfile" >/dev/null <"$DIR/admin_password"
    note "initialising a cluster in $BASE/data"
    if ! as_pg "$bindir/initdb" -D "$BASE/data" -U postgres --pwfile="$pwfile" -E UTF8 "${locale_opt[@]}" \
        --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1; then
        as_pg rm -f "$pwfile"
        cat "$DIR/initdb.log" >&2
        die "initdb failed"
    fi
    as_pg rm -f "$pwfile"
    printf "\ninclude_if_exists = 'campaignd_test.conf'\n" | as_pg tee -a "$BASE/data/postgresql.conf" >/dev/null
}

running() { # bindir
    as_pg "$1/pg_ctl" -D "$BASE/data" status >/dev/null 2>&1
}

current_port() {
    local line
    line=$(grep -E '^port = [0-9]+$' "$BASE/data/campaignd_test.conf" 2>/dev/null || true)
    printf '%s\n' "${line#port = }"
}

wait_ready() { # bindir port
    local i
    for ((i = 0; i < 60; i++)); do
        if "$1/pg_isready" -q -h 127.0.0.1 -p "$2" -d postgres -t 2; then
            return 0
        fi
        sleep 0.5
    done
    die "server on 127.0.0.1:$2 not ready after 30 s (log: $BASE/server.log)"
}

start_server() { # bindir
    local bindir=$1 port attempt before out
    port=$(current_port)
    for ((attempt = 0; attempt < 5; attempt++)); do
        if [[ -z $port ]] || port_in_use "$port"; then
            port=$(pick_port)
        fi
        write_conf "$port"
        before=$(as_pg stat -c %s "$BASE/server.log" 2>/dev/null || echo 0)
        if out=$(as_pg "$bindir/pg_ctl" -D "$BASE/data" -l "$BASE/server.log" -w -t 60 start 2>&1); then
            wait_ready "$bindir" "$port"
            return
        fi
        if as_pg tail -c +"$((before + 1))" "$BASE/server.log" 2>/dev/null | grep -q 'could not bind\|Address already in use'; then
            note "port $port was taken meanwhile; trying another"
            port=''
            continue
        fi
        printf '%s\n' "$out" >&2
        as_pg tail -n 30 "$BASE/server.log" >&2 || true
        die "pg_ctl start failed (log: $BASE/server.log)"
    done
    die "could not start the server after 5 attempts (log: $BASE/server.log)"
}

# The directory of the server's Unix socket, as the running configuration says ('' when it listens on TCP only).
socket_dir() {
    local line
    line=$(grep -E "^unix_socket_directories = '.*'$" "$BASE/data/campaignd_test.conf" 2>/dev/null || true)
    line=${line#unix_socket_directories = \'}
    printf '%s\n' "${line%\'}"
}

# Percent-encodes a path for a URI's query: everything but letters, digits and / . _ - (libpq decodes it).
uri_encode() {
    local s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        if [[ $c == [A-Za-z0-9/._-] ]]; then
            out+=$c
        else
            printf -v c '%%%02X' "'$c"
            out+=$c
        fi
    done
    printf '%s\n' "$out"
}

ensure_database() { # bindir port
    local bindir=$1 port=$2 pw
    pw=$(<"$DIR/password")
    # psql variables keep the password out of the command line (the SQL goes on stdin).
    PGPASSWORD=$(<"$DIR/admin_password") "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -v "pw=$pw" \
        -h 127.0.0.1 -p "$port" -U postgres -d postgres >/dev/null <<'SQL'
SELECT format('CREATE ROLE campaignd LOGIN CREATEDB PASSWORD %L', :'pw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'campaignd') \gexec
SELECT format('ALTER ROLE campaignd PASSWORD %L', :'pw') \gexec
SELECT 'CREATE DATABASE campaignd OWNER campaignd'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'campaignd') \gexec
SQL
    # Over the Unix socket when the server has one (a round trip there costs both processes far less of the
    # kernel than loopback TCP: README, "Reads"); the password is then not asked (local connections are trusted)
    # but kept, so the URI works over TCP too once host= is dropped.
    local where="127.0.0.1:$port" query='' sockdir
    sockdir=$(socket_dir)
    if [[ -n $sockdir && -S $sockdir/.s.PGSQL.$port ]]; then
        where=''
        query="?host=$(uri_encode "$sockdir")&port=$port"
    fi
    printf 'postgresql://%s:%s@%s/%s%s\n' "$DBROLE" "$pw" "$where" "$DBNAME" "$query" >"$DIR/url.tmp"
    printf 'postgresql://postgres:%s@%s/postgres%s\n' "$(<"$DIR/admin_password")" "$where" "$query" >"$DIR/admin_url.tmp"
    chmod 0600 "$DIR/url.tmp" "$DIR/admin_url.tmp"
    mv -f "$DIR/url.tmp" "$DIR/url"
    mv -f "$DIR/admin_url.tmp" "$DIR/admin_url"
}

cmd_start() {
    local bindir port
    bindir=$(find_bindir)
    ensure_osuser
    mkdir -p "$DIR"
    DIR=$(abs_dir "$DIR")
    resolve_base
    if [[ ! -f $BASE/data/PG_VERSION ]]; then
        if [[ -e $BASE/data ]]; then
            as_pg rm -rf "$BASE/data"
        fi
        initialise "$bindir"
    fi
    if running "$bindir"; then
        port=$(current_port)
        wait_ready "$bindir" "$port"
    else
        start_server "$bindir"
        port=$(current_port)
    fi
    ensure_database "$bindir" "$port"
    cat "$DIR/url"
}

cmd_stop() {
    local bindir
    [[ -d $DIR ]] || return 0
    DIR=$(abs_dir "$DIR")
    [[ -f $DIR/base ]] || return 0
    BASE=$(<"$DIR/base")
    [[ -f $BASE/data/PG_VERSION ]] || return 0
    bindir=$(find_bindir)
    if running "$bindir"; then
        as_pg "$bindir/pg_ctl" -D "$BASE/data" -m fast -w -t 60 stop >/dev/null
        note "stopped the cluster in $BASE/data"
    fi
}

cmd_destroy() {
    cmd_stop
    [[ -d $DIR ]] || return 0
    # Only a directory this script made with mktemp is removed outside DIR.
    if [[ -n $BASE && $BASE != "$DIR" && ${BASE##*/} == campaignd-pg.* && -d $BASE ]]; then
        rm -rf -- "$BASE"
    fi
    rm -rf -- "$DIR"
}

cmd_url() {
    [[ -f $DIR/url ]] || die "no cluster started in $DIR (run: bash tests/pg/cluster.sh start $DIR)"
    cat "$DIR/url"
}

[[ $# -eq 2 && -n $2 ]] || usage
DIR=$2
BASE=''
case $1 in
start) cmd_start ;;
stop) cmd_stop ;;
url) cmd_url ;;
destroy) cmd_destroy ;;
*) usage ;;
esac
