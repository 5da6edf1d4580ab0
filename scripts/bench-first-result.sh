#!/usr/bin/env bash
# Time to a first result (docs/architecture.md): how long README's quick start takes on a fresh checkout,
# per build profile, each in an empty target directory (crates already downloaded, as after the first
# `cargo fetch`). Prints, per profile: the build's wall and CPU time, then the rehearsal's wall time.
#
# Usage: scripts/bench-first-result.sh [PROFILE...]     (default: dev release)
#   PROFILE is a cargo profile name. Run it on an otherwise idle machine: the figures are wall-clock.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profiles=("$@")
[[ ${#profiles[@]} -eq 0 ]] && profiles=(dev release)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
cargo fetch --locked >/dev/null

secs() { python3 -c 'import time; print(f"{time.monotonic():.3f}")'; }

echo "cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for p in "${profiles[@]}"; do
  target="$WORK/target-$p"
  start=$(secs)
  # CPU seconds of the build and everything it started, from the shell's own accounting.
  /usr/bin/time -f "%U %S" -o "$WORK/cpu-$p" \
    cargo build --locked --quiet --profile "$p" --bin fleetctl --target-dir "$target"
  built=$(secs)
  dir=$([[ "$p" == dev ]] && echo debug || echo "$p")
  "$target/$dir/fleetctl" --state-dir "$WORK/state-$p" rehearse all >/dev/null 2>&1
  done_at=$(secs)
  read -r user sys <"$WORK/cpu-$p"
  python3 - "$p" "$start" "$built" "$done_at" "$user" "$sys" <<'EOF'
import sys
p, start, built, done, user, sys_ = sys.argv[1], *map(float, sys.argv[2:])
print(f"{p}: build {built-start:.0f} s wall ({user+sys_:.0f} s CPU), rehearse all {done-built:.1f} s, first result {done-start:.0f} s")
EOF
done
