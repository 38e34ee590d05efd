#!/usr/bin/env bash
# tests/run.sh — the whole test suite (README: `bash tests/run.sh`; .ci/run calls it).
# Deps, two builds, ctest in both, contract lint, and a closing totals line.
#   build/       Debug with -Werror: every test
#   build-asan/  AddressSanitizer + UBSan (+ LeakSanitizer): every test again
# A private PostgreSQL cluster is started for the run (tests/pg/cluster.sh) and destroyed at the end; tests get
#   CAMPAIGND_TEST_DATABASE_URL  role `campaignd`, owner of database `campaignd`, may create databases
#   CAMPAIGND_TEST_ADMIN_URL     superuser `postgres` (kill backends, drop databases, ...)
# Set CAMPAIGND_TEST_DATABASE_URL yourself to use an existing database instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

passed=0
failed=0
totals() { printf '%d passed, %d failed\n' "$passed" "$failed"; }

bash tests/deps.sh

if [[ -z ${CAMPAIGND_TEST_DATABASE_URL:-} ]]; then
    pgdir=$(mktemp -d)/pg
    trap 'bash tests/pg/cluster.sh destroy "$pgdir" || true; rmdir "${pgdir%/pg}" 2>/dev/null || true' EXIT
    CAMPAIGND_TEST_DATABASE_URL=$(bash tests/pg/cluster.sh start "$pgdir")
    CAMPAIGND_TEST_ADMIN_URL=$(<"$pgdir/admin_url")
    export CAMPAIGND_TEST_DATABASE_URL CAMPAIGND_TEST_ADMIN_URL
fi

build() { # dir, cmake options...
    local dir=$1
    shift
    if cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j2; then
        passed=$((passed + 1))
    else
        printf 'run.sh: build %s failed\n' "$dir" >&2
        failed=$((failed + 1))
        totals
        exit 1
    fi
}

# Runs ctest and adds its counts ("N% tests passed, F tests failed out of T") to the totals.
run_ctest() {
    local out rc=0 line total f
    out=$(mktemp)
    ctest "$@" --output-on-failure 2>&1 | tee "$out" || rc=$?
    line=$(grep -E 'tests failed out of [0-9]+' "$out" | tail -n 1 || true)
    rm -f "$out"
    if [[ $line =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
        f=${BASH_REMATCH[1]}
        total=${BASH_REMATCH[2]}
        passed=$((passed + total - f))
        failed=$((failed + f))
    elif ((rc != 0)); then
        failed=$((failed + 1))
    fi
}

build build -DCMAKE_BUILD_TYPE=Debug -DCAMPAIGND_WERROR=ON
build build-asan -DCMAKE_BUILD_TYPE=Debug -DCAMPAIGND_SANITIZE=ON

run_ctest --test-dir build
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest --test-dir build-asan

if [[ -f tests/contract/lint.sh ]] && bash tests/contract/lint.sh; then
    passed=$((passed + 1))
else
    printf 'run.sh: contract lint failed (or tests/contract/lint.sh is missing)\n' >&2
    failed=$((failed + 1))
fi

totals
((failed == 0))
