#!/usr/bin/env bash
# forecast.sh — the forecasting engine's speed (tests/bench/bench_forecast.c): a forecast, an allocation and a
# backtest over a simulated history of 1,000 campaigns, in a Release build. No database, no HTTP.
# Usage: bash tests/bench/forecast.sh [runs]   (prints figures; never pass/fail)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash tests/deps.sh >/dev/null
cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build-rel -j2 --target bench_forecast >/dev/null
build-rel/bench_forecast "${1:-100}"
