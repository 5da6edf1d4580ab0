#!/usr/bin/env python3
"""Benchmark `fleetctl appset generate` (expansion + shared-resource check) on a generated 200-app fleet,
against the plain alternative in the same run: a serial `kubectl kustomize` loop over the Applications'
source paths (what checking for shared resources by hand takes).

Reports, measured now on this machine:
  - cold (empty render cache) and warm (unchanged repo) `appset generate --cluster talos`, wall time;
  - each as a ratio to the plain loop; the goal is warm < 200 ms at 200 apps.
The cold and warm runs must print identical JSON (same Applications, conflicts and notes).

Usage: python3 scripts/bench-appset.py [--apps 200] [--runs 5] [--bin PATH]
"""
import argparse, importlib.util, json, os, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_verify", ROOT / "scripts" / "bench-verify.py")
bench_verify = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_verify)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=None)
    a = ap.parse_args()
    binary, kubectl = bench_verify.tools(a.bin)
    with tempfile.TemporaryDirectory() as tmp:
        fleet = Path(tmp) / "fleet"
        bench_verify.gen_fleet(fleet, a.apps)
        gen = [binary, "--repo", str(fleet), "appset", "generate", "--cluster", "talos", "--output", "json"]
        cache = fleet / ".git" / "fleetctl" / "render-cache"
        first = subprocess.run(gen, capture_output=True, text=True)
        if first.returncode not in (0, 1):
            sys.exit(f"appset generate failed ({first.returncode}): {first.stderr}")
        report = json.loads(first.stdout)
        paths = sorted({app["source"]["path"] for app in report["applications"] if app["source"].get("path")})
        load_before = os.getloadavg()[0]
        loop, cold, warm = [], [], []
        for _ in range(a.runs):
            loop.append(sum(bench_verify.timed([kubectl, "kustomize", str(fleet / p)]) for p in paths))
            shutil.rmtree(cache, ignore_errors=True)
            cold_out, warm_out = [], []
            cold.append(bench_verify.timed(gen, cold_out))
            warm.append(bench_verify.timed(gen, warm_out))
            if cold_out != warm_out:
                sys.exit("the warm run's output differs from the cold run's")
        med = lambda xs: sorted(xs)[len(xs) // 2]
        l, c, w = med(loop), med(cold), med(warm)
        print(f"fleet: {len(report['applications'])} Applications ({a.apps} generated apps), {len(paths)} source paths, "
              f"{os.cpu_count()} cores, median of {a.runs} runs, load average {load_before:.1f} before the runs")
        print(f"plain serial kubectl kustomize loop over the source paths: {l * 1000:.0f} ms")
        print(f"fleetctl appset generate cold (empty render cache): {c * 1000:.0f} ms  -> {l / c:.1f}x faster than the loop")
        print(f"fleetctl appset generate warm (render cache filled): {w * 1000:.0f} ms  -> {l / w:.1f}x faster than the loop")
        print(f"goal warm < 200 ms: {'met' if w < 0.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
