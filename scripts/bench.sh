#!/usr/bin/env bash
# fleetctl benchmarks. One function per benchmark; each prints `name: value ms` lines on stdout.
#
# Usage: scripts/bench.sh [NAME...]        (default: all; NAME is a function below without bench_)
#   APPS=200 RUNS=7 scripts/bench.sh phase4
#
# Adding one: write bench_<name>() printing `name: value ms` lines and list it in ALL.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APPS="${APPS:-200}"
RUNS="${RUNS:-7}"
ALL=(phase4 appset)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Phase 4 (docs/phase-4.md): `appset generate` + the no-churn gate on a generated legacy fleet of
# $APPS Applications, migrated on a branch first. Goal: generate + gate under 100 ms at 200 apps.
bench_phase4() {
  python3 "$ROOT/scripts/gen-legacy-fleet.py" "$WORK/phase4-fleet" --apps "$APPS" --seed 7 >&2
  (cd "$ROOT" && cargo run -q --release --example bench_phase4 -- "$WORK/phase4-fleet" --runs "$RUNS")
}

# `appset generate` (expansion + shared-resource check) on $APPS apps, cold and with a warm render cache,
# against a serial `kubectl kustomize` loop over the same source paths. Goal: warm under 200 ms at 200 apps.
bench_appset() {
  python3 "$ROOT/scripts/bench-appset.py" --apps "$APPS" --runs "$RUNS"
}

wanted=("$@")
[[ ${#wanted[@]} -eq 0 ]] && wanted=("${ALL[@]}")
for b in "${wanted[@]}"; do
  if ! declare -F "bench_$b" >/dev/null; then
    echo "error: unknown benchmark '$b' (known: ${ALL[*]})" >&2
    exit 2
  fi
  "bench_$b"
done
