#!/usr/bin/env python3
"""Benchmark `fleetctl verify` against the plain alternative, in one run, on a generated 200-app fleet.

Reports, as ratios measured now on this machine:
  - cold verify (empty render cache) vs a plain serial loop of `kubectl kustomize` over the same roots;
  - a warm re-run after changing one overlay vs the same loop.
verify does more than the loop (schema validation and lint rules), so the ratios understate the render gain.

Usage: python3 scripts/bench-verify.py [--apps 200] [--runs 3] [--crds DIR] [--bin PATH]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def gen_fleet(dst: Path, apps: int) -> None:
    shutil.copytree(ROOT / "clusters", dst / "clusters")
    shutil.copytree(ROOT / "apps-shared", dst / "apps-shared")
    for i in range(apps):
        d = dst / "clusters" / "talos" / "my-apps" / f"cat{i % 10}" / f"bench-app-{i}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "kustomization.yaml").write_text(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"namespace: bench-app-{i}\nresources:\n  - deployment.yaml\n  - service.yaml\n"
            f"labels:\n  - pairs:\n      app.kubernetes.io/name: bench-app-{i}\n    includeSelectors: true\n")
        (d / "deployment.yaml").write_text(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bench-app-{i}\nspec:\n  replicas: 1\n"
            f"  selector:\n    matchLabels: {{app: bench-app-{i}}}\n  template:\n    metadata:\n"
            f"      labels: {{app: bench-app-{i}}}\n    spec:\n      containers:\n        - name: app\n"
            f"          image: registry.example.test/bench:{i}\n          ports: [{{containerPort: 8080, name: http}}]\n"
            "          resources: {requests: {cpu: 10m, memory: 32Mi}}\n")
        (d / "service.yaml").write_text(
            f"apiVersion: v1\nkind: Service\nmetadata:\n  name: bench-app-{i}\nspec:\n"
            f"  selector: {{app: bench-app-{i}}}\n  ports: [{{name: http, port: 80, targetPort: http}}]\n")
    subprocess.run(["git", "init", "-q", str(dst)], check=True)
    subprocess.run(["git", "-C", str(dst), "add", "-A"], check=True)


def timed(cmd, outputs=None) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE if outputs is not None else subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    if r.returncode not in (0, 1):
        sys.exit(f"benchmark command failed ({r.returncode}): {' '.join(map(str, cmd))}")
    if outputs is not None:
        outputs.append(r.stdout)
    return dt


def tools(binary):
    """The fleetctl binary (built in release mode unless given) and kubectl, or exit."""
    if binary is None:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "fleetctl"], cwd=ROOT, check=True)
        binary = str(ROOT / "target" / "release" / "fleetctl")
    kubectl = shutil.which("kubectl")
    if not kubectl:
        sys.exit("kubectl not found on PATH")
    return binary, kubectl


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--crds", default=os.environ.get("FLEETCTL_CRDS", str(ROOT.parent / "shared" / "crds")))
    ap.add_argument("--bin", default=None)
    a = ap.parse_args()
    binary, kubectl = tools(a.bin)
    with tempfile.TemporaryDirectory() as tmp:
        fleet = Path(tmp) / "fleet"
        gen_fleet(fleet, a.apps)
        crds = ["--crds", a.crds] if Path(a.crds).is_dir() else []
        verify = [binary, "--repo", str(fleet), "verify", *crds]
        out = subprocess.run([*verify, "--output", "json"], capture_output=True, text=True)
        roots = [r["path"] for r in json.loads(out.stdout)["roots"]]
        cache = fleet / ".fleetctl" / "cache"
        load_before = os.getloadavg()[0]
        cold, warm, loop = [], [], []
        for run in range(a.runs):
            outputs = []
            loop.append(sum(timed([kubectl, "kustomize", str(fleet / r)], outputs) for r in roots))
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(timed(verify))
            # verify tunes the Go runtime of its kustomize processes; its renders must match the loop's bytes.
            cached = sorted(p.read_bytes() for p in (cache / "render").glob("*.yaml"))
            if cached != sorted(outputs):
                sys.exit("verify's rendered output differs from the plain kubectl kustomize loop")
            target = fleet / "clusters/talos/my-apps/cat3/bench-app-3/deployment.yaml"
            target.write_text(target.read_text().replace("replicas: 1", f"replicas: {2 + run}"))
            warm.append(timed(verify))
        med = lambda xs: sorted(xs)[len(xs) // 2]
        l, c, w = med(loop), med(cold), med(warm)
        print(f"fleet: {a.apps} generated apps, {len(roots)} kustomization roots, {os.cpu_count()} cores, median of {a.runs} runs, load average {load_before:.1f} before the runs")
        print(f"plain serial kubectl kustomize loop: {l * 1000:.0f} ms")
        print(f"fleetctl verify cold (empty cache, renders + validates + lints): {c * 1000:.0f} ms  -> {l / c:.2f}x faster than the loop")
        print("verify's cold renders are byte-identical to the loop's output")
        print(f"fleetctl verify warm (one overlay changed): {w * 1000:.0f} ms  -> {l / w:.1f}x faster than the loop")


if __name__ == "__main__":
    main()
