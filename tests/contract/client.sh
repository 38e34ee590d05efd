#!/bin/sh
# The contract client check: generates TypeScript types from openapi.yaml with the pinned openapi-typescript,
# compiles client/client.mts (a small openapi-fetch client) against them with the pinned TypeScript and
# `tsc --strict`, and runs it with node against a running campaignd.
#   client.sh OUTDIR               generate and compile into OUTDIR
#   client.sh OUTDIR run           then run it; needs CAMPAIGND_URL, PLANNER_TOKEN, OTHER_TOKEN, MANAGER_TOKEN
# tests/contract/test_client.py drives it against the real binary. Needs Node.js >= 20 and npm; the first run
# installs the pinned packages with `npm ci` (package.json, package-lock.json).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:?usage: client.sh OUTDIR [run]}

for bin in openapi-typescript tsc; do
    if [ ! -x "$here/node_modules/.bin/$bin" ] || [ ! -d "$here/node_modules/openapi-fetch" ] ||
        [ ! -d "$here/node_modules/@types/node" ]; then
        echo "client.sh: installing the pinned packages (npm ci)" >&2
        npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >&2
        break
    fi
done

mkdir -p "$out"
cp "$here/client/client.mts" "$here/client/tsconfig.json" "$out/"
ln -sfn "$here/node_modules" "$out/node_modules"
"$here/node_modules/.bin/openapi-typescript" "$repo/openapi.yaml" --output "$out/schema.d.ts" >&2
"$here/node_modules/.bin/tsc" -p "$out/tsconfig.json"

if [ "${2:-}" = run ]; then
    exec node "$out/client.mjs"
fi
