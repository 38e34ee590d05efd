#!/usr/bin/env bash
# tests/deps.sh — installs the Debian 12 packages needed to build, test and demo campaignd.
# Only packages that dpkg reports missing are installed, so on a machine that has them all this does nothing
# (and uses no network). nodejs and npm are skipped when `node` / `npm` are already on PATH (for instance a
# Node.js installed outside dpkg). Needs root, or sudo, when something is missing.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libulfius-dev libjansson-dev libpq-dev libjwt-dev liborcania-dev libyder-dev libmicrohttpd-dev libgnutls28-dev
    libnlopt-dev
    libcsv-dev libcurl4-gnutls-dev
    check postgresql postgresql-contrib wrk
    python3 python3-yaml python3-jsonschema python3-icalendar
    curl openssl ca-certificates jq
)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $status == *" ok installed" ]]
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

command -v apt-get >/dev/null 2>&1 || {
    printf 'deps.sh: missing packages and no apt-get: %s\n' "${missing[*]}" >&2
    exit 1
}
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || {
        printf 'deps.sh: missing packages (run as root to install): %s\n' "${missing[*]}" >&2
        exit 1
    }
    sudo=(sudo)
fi

printf 'deps.sh: installing %s\n' "${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -q >"$log" 2>&1 ||
    ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    cat "$log" >&2
    printf 'deps.sh: apt-get failed\n' >&2
    exit 1
fi
printf 'deps.sh: done\n' >&2
