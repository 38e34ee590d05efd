#!/usr/bin/env bash
# service/demo.sh — build campaignd and run it against a private PostgreSQL with demo data.
#   bash service/demo.sh            (CAMPAIGND_PORT=9090 bash service/demo.sh for another port)
# Steps: install missing Debian packages (tests/deps.sh), Release build into build/, start or reuse the cluster in
# .demo/pg (tests/pg/cluster.sh), make .demo/jwt_secret once, migrate, load sql/demo/demo.sql and ANALYZE, print
# the `export` lines README's walk-through needs (the secret `build/campaignd token` mints with, the base URL) and a 24 h admin
# token for organisation `demo`, then run campaignd in the foreground (Ctrl-C stops it; the cluster keeps running:
# `bash tests/pg/cluster.sh stop .demo/pg` stops it, `bash tests/pg/cluster.sh destroy .demo/pg` deletes it).
# The database and the secret are the demo's own: CAMPAIGND_DATABASE_URL and CAMPAIGND_JWT_* are not taken from
# the environment; the other CAMPAIGND_* variables are.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'demo: %s\n' "$*" >&2; }

bash tests/deps.sh

say "building (Release) into build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2

# .demo itself stays traversable: the cluster's user must reach .demo/pg (which cluster.sh makes 0700).
mkdir -p .demo
say "starting the PostgreSQL cluster in .demo/pg"
url=$(bash tests/pg/cluster.sh start .demo/pg)

if [[ ! -s .demo/jwt_secret ]]; then
    (
        umask 077
        openssl rand -hex 32 >.demo/jwt_secret
    )
fi

unset CAMPAIGND_JWT_ALG CAMPAIGND_JWT_PUBLIC_KEY_FILE CAMPAIGND_JWT_ISSUER CAMPAIGND_JWT_AUDIENCE
CAMPAIGND_DATABASE_URL=$url
CAMPAIGND_JWT_SECRET=$(<.demo/jwt_secret)
CAMPAIGND_PORT=${CAMPAIGND_PORT:-8080}
export CAMPAIGND_DATABASE_URL CAMPAIGND_JWT_SECRET CAMPAIGND_PORT

say "migrating"
build/campaignd migrate

[[ -f sql/demo/demo.sql ]] || {
    say "sql/demo/demo.sql is missing"
    exit 1
}
say "loading sql/demo/demo.sql"
psql "$url" -X -q -v ON_ERROR_STOP=1 -1 -f sql/demo/demo.sql >/dev/null
# Statistics right after the bulk load, rather than whenever autovacuum gets to it (quietly: the shared
# catalogs are the superuser's to analyze).
psql "$url" -X -q -c "SET client_min_messages = error; ANALYZE"

token=$(build/campaignd token --sub demo-admin --org demo --role admin --ttl 86400)

if (exec 3<>"/dev/tcp/127.0.0.1/$CAMPAIGND_PORT") 2>/dev/null; then
    say "port $CAMPAIGND_PORT is already in use; choose another one: CAMPAIGND_PORT=9090 bash service/demo.sh"
    exit 1
fi

cat <<EOF

In a second shell at the repository root, paste these lines; README's walk-through runs from there:

  export CAMPAIGND_JWT_SECRET=$CAMPAIGND_JWT_SECRET
  export API=http://localhost:$CAMPAIGND_PORT

A ready token (role admin, organisation demo, valid 24 h), to try it at once:

  TOKEN=$token
  curl -s -H "Authorization: Bearer \$TOKEN" \$API/v1/campaigns

campaignd now runs in the foreground on port $CAMPAIGND_PORT; Ctrl-C stops it.
The database keeps running; stop it with:  bash tests/pg/cluster.sh stop .demo/pg

EOF

exec build/campaignd
