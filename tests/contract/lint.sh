#!/bin/sh
# Lints the API contract (openapi.yaml) with the Redocly CLI version pinned in
# package.json / package-lock.json, using the rules in redocly.yaml.
# Exits non-zero when the contract has errors (warnings are printed, not fatal).
# Needs Node.js >= 20.19 and npm; the first run installs the CLI with `npm ci`.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

# No usage telemetry, no update banner.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

if [ ! -x "$here/node_modules/.bin/redocly" ]; then
    echo "lint.sh: installing the pinned Redocly CLI (npm ci)" >&2
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >&2
fi

exec npx --no-install --prefix "$here" redocly lint "$repo/openapi.yaml" \
    --config "$repo/redocly.yaml" --format=stylish
