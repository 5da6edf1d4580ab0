#!/usr/bin/env bash
# Phases 1 and 2 under injected API faults: for each fault kind and seed, a fresh simulated OpenShift
# cluster (`fleetctl sim serve --faults KIND=RATE,seed=N`) and a fresh copy of this repo's fleet; phase 1 then
# phase 2 with the rehearsal answers, never `resume`. Prints one line per run (exit codes, faults the
# simulator injected, seconds) and the figure: runs that completed with no resume.
#
# Usage: scripts/faults.sh                      (500=0.1 and drop=0.1, seeds 1 2 3)
#        KINDS="500 drop 503" RATE=0.2 SEEDS="1 2 3 4 5" scripts/faults.sh
# Talks only to 127.0.0.1. Needs a built fleetctl (FLEETCTL, default target/debug/fleetctl), curl and jq.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLEETCTL="${FLEETCTL:-$ROOT/target/debug/fleetctl}"
KINDS="${KINDS:-500 drop}"
RATE="${RATE:-0.1}"
SEEDS="${SEEDS:-1 2 3}"
[[ -x "$FLEETCTL" ]] || (cd "$ROOT" && cargo build -q)

WORK="$(mktemp -d)"
SIM_PID=""
cleanup() { [[ -n "$SIM_PID" ]] && kill "$SIM_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

total=0
clean=0
for kind in $KINDS; do
  for seed in $SEEDS; do
    run="$WORK/$kind-$seed"
    mkdir -p "$run"
    for d in runbooks clusters apps-shared; do cp -r "$ROOT/$d" "$run/$d"; done
    "$FLEETCTL" sim serve --platform openshift --context sno-ai-lab --speed 20 \
      --faults "$kind=$RATE,seed=$seed" --fleet "$run" --kubeconfig-out "$run/kubeconfig" >"$run/sim.log" 2>&1 &
    SIM_PID=$!
    for _ in $(seq 200); do [[ -s "$run/kubeconfig" ]] && break; sleep 0.05; done
    url="$(grep -o 'http://127.0.0.1:[0-9]*' "$run/sim.log" | head -1)"
    start=$SECONDS
    codes=()
    for phase in 1 2; do
      # The owner's layer commit for this phase (clusters/openshift/apps/kustomization.yaml names the layer).
      sed -i "s#\.\./layers/phase-[0-9]*#../layers/phase-$phase#" "$run/clusters/openshift/apps/kustomization.yaml"
      set +e
      FLEETCTL_STATE_DIR="$run/state" NO_COLOR=1 "$FLEETCTL" --repo "$run" phase "$phase" --cluster openshift \
        --answers "$run/runbooks/answers/rehearsal.yaml" --kubeconfig "$run/kubeconfig" \
        >"$run/phase-$phase.out" 2>"$run/phase-$phase.err" </dev/null
      code=$?
      set -e
      codes+=("$code")
      [[ $code -eq 0 ]] || break
    done
    faults="$(curl -s "$url/_sim/stats" | jq -c '.faults')"
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=""
    total=$((total + 1))
    verdict="needed a resume"
    if [[ "${codes[*]}" == "0 0" ]]; then
      clean=$((clean + 1))
      verdict="completed"
    else
      grep -h '^error:' "$run"/phase-*.err | head -1 | sed 's/^/    /'
    fi
    echo "faults $kind=$RATE seed=$seed: phase exits ${codes[*]}, injected $faults, $((SECONDS - start))s: $verdict"
  done
done
echo "phases 1-2 under injected faults: $clean of $total runs completed with no resume"
[[ $clean -eq $total ]]
