#!/usr/bin/env python3
"""Write a realistic single-cluster Talos fleet repo (the layout before Phase 4) into DIR and `git init` it.

The shape of a real homelab repo of this kind (docs/phase-4.md), not a minimal one:

  infrastructure/controllers/argocd/            Argo CD itself: kustomize helmCharts (argo-cd chart) + values.yaml
  infrastructure/controllers/argocd/root.yaml   the hand-applied root Application (not in any kustomization)
  infrastructure/controllers/argocd/apps/       what root syncs: a kustomization listing projects.yaml,
                                                a standalone Application and appsets/*.yaml
  infrastructure/{controllers,networking,security,storage}/<x>
  infrastructure/database/<engine>/<app>        selfHeal: false on purpose
  monitoring/<x>, my-apps/<category>/<app>      my-apps/common/* are Kustomize Components, excluded
  my-apps/media/jellyfin                        kustomize helmCharts with a local chart (helmGlobals.chartHome)
  my-apps/privacy/redlib                        env from a ConfigMap, limits, labels, HTTPRoute on gateway-external
  scripts/bootstrap-argocd.sh                   finds the repo root from its own location ($SCRIPT_DIR/..) and
                                                names root-level paths; scripts/argocd-bootstrap-values.yaml is
                                                used only by it
  .github/workflows/validate.yaml               `paths:` filters on the trees
  renovate.json                                 fileMatch regexes and matchPaths / matchFileNames globs

About --apps Applications come from four ApplicationSets in both templating styles (fasttemplate and
goTemplate), several with `argocd.argoproj.io/manifest-generate-paths`.

--variant concat adds a script line that builds a tree path by string concatenation ($ROOT_DIR/$APPS_TREE):
no tool can repoint it safely, so Phase 4 must refuse and name the file and line.

Standard library only; deterministic for a given --seed.
"""

import argparse
import os
import random
import subprocess
import sys

REPO_URL = "https://github.com/vanillax/talos-argocd-proxmox.git"
DOMAIN = "vanillax.me"
WORDS = (
    "alpha bravo cedar delta ember fjord grove harbor indigo juniper kestrel lumen maple nectar onyx "
    "pine quartz raven sage tundra umber violet willow xenon yarrow zephyr aspen birch coral dune "
    "elm fern glade heron iris jade kelp lotus moss nova opal pearl quill reed slate thistle comet "
    "dusk flint gale hazel ivory lark mica oak plume rune spruce tide vale wren zinc"
).split()
CATEGORIES = ["media", "home", "utilities", "productivity", "development", "ai"]
ENGINES = ["postgres", "redis", "mariadb"]
SYNC = """      syncPolicy:
        automated:
          prune: true
          selfHeal: {heal}
        syncOptions:
          - CreateNamespace=true
          - ServerSideApply=true
          - RespectIgnoreDifferences=true
          - FailOnSharedResource=true"""
IGNORE = """      ignoreDifferences:
        - group: gateway.networking.k8s.io
          kind: HTTPRoute
          jqPathExpressions:
            - .spec.parentRefs[] | .group, .kind
            - .spec.rules[].backendRefs[] | .group, .kind, .weight"""


def write(root, rel, text, mode=None):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    if mode:
        os.chmod(path, mode)


def kustomization(resources, extra=""):
    res = "".join(f"  - {r}\n" for r in resources)
    return f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{res}{extra}"


def web_app(root, rel, name, gateway="gateway-internal", pvc=False, component=None):
    """Deployment + Service + HTTPRoute (+ PVC on longhorn), the usual app of this fleet."""
    files = ["deployment.yaml", "service.yaml", "httproute.yaml"]
    volumes = ""
    mounts = ""
    if pvc:
        files.append("pvc.yaml")
        write(root, f"{rel}/pvc.yaml", f"""apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}-data
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: longhorn
  resources:
    requests:
      storage: 2Gi
""")
        volumes = f"      volumes:\n        - name: data\n          persistentVolumeClaim:\n            claimName: {name}-data\n"
        mounts = "          volumeMounts:\n            - name: data\n              mountPath: /data\n"
    write(root, f"{rel}/deployment.yaml", f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      containers:
        - name: {name}
          image: ghcr.io/example/{name}:1.0.0
          ports:
            - name: http
              containerPort: 8080
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              memory: 256Mi
{mounts}{volumes}""")
    write(root, f"{rel}/service.yaml", f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
    - name: http
      port: 80
      targetPort: http
""")
    write(root, f"{rel}/httproute.yaml", f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
spec:
  parentRefs:
    - name: {gateway}
      namespace: gateway
      sectionName: https
  hostnames:
    - {name}.{DOMAIN}
  rules:
    - backendRefs:
        - name: {name}
          port: 80
""")
    extra = f"components:\n  - {component}\n" if component else ""
    write(root, f"{rel}/kustomization.yaml", kustomization(files, extra))


def redlib(root):
    rel = "my-apps/privacy/redlib"
    write(root, f"{rel}/configmap.yaml", """apiVersion: v1
kind: ConfigMap
metadata:
  name: redlib-config
  labels:
    app.kubernetes.io/name: redlib
data:
  REDLIB_DEFAULT_THEME: dark
  REDLIB_DEFAULT_SHOW_NSFW: "off"
  REDLIB_DEFAULT_USE_HLS: "on"
  REDLIB_ROBOTS_DISABLE_INDEXING: "on"
""")
    write(root, f"{rel}/deployment.yaml", """apiVersion: apps/v1
kind: Deployment
metadata:
  name: redlib
  labels:
    app.kubernetes.io/name: redlib
    app.kubernetes.io/part-of: privacy
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: redlib
  template:
    metadata:
      labels:
        app.kubernetes.io/name: redlib
        app.kubernetes.io/part-of: privacy
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: redlib
          image: ghcr.io/vanillax/redlib:latest
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: redlib-config
          readinessProbe:
            httpGet:
              path: /settings
              port: http
          livenessProbe:
            httpGet:
              path: /settings
              port: http
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 1Gi
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
""")
    write(root, f"{rel}/service.yaml", """apiVersion: v1
kind: Service
metadata:
  name: redlib
  labels:
    app.kubernetes.io/name: redlib
spec:
  selector:
    app.kubernetes.io/name: redlib
  ports:
    - name: http
      port: 8080
      targetPort: http
""")
    write(root, f"{rel}/httproute.yaml", f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: redlib
spec:
  parentRefs:
    - name: gateway-external
      namespace: gateway
      sectionName: https
  hostnames:
    - redlib.{DOMAIN}
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /
      backendRefs:
        - name: redlib
          port: 8080
""")
    write(root, f"{rel}/kustomization.yaml", kustomization(
        ["configmap.yaml", "deployment.yaml", "service.yaml", "httproute.yaml"]))


def local_chart_app(root):
    """my-apps/media/jellyfin: kustomize helmCharts with a chart kept in the repo (no chart repository)."""
    rel = "my-apps/media/jellyfin"
    write(root, f"{rel}/kustomization.yaml", """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - httproute.yaml
helmGlobals:
  chartHome: charts
helmCharts:
  - name: jellyfin
    releaseName: jellyfin
    namespace: jellyfin
    valuesFile: values.yaml
""")
    write(root, f"{rel}/values.yaml", "image:\n  tag: 10.10.0\npersistence:\n  storageClass: longhorn\n  size: 20Gi\n")
    write(root, f"{rel}/charts/jellyfin/Chart.yaml",
          "apiVersion: v2\nname: jellyfin\nversion: 0.1.0\nappVersion: 10.10.0\n")
    write(root, f"{rel}/charts/jellyfin/values.yaml", "image:\n  tag: latest\npersistence:\n  storageClass: \"\"\n  size: 10Gi\n")
    write(root, f"{rel}/charts/jellyfin/templates/deployment.yaml", """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
        - name: jellyfin
          image: "jellyfin/jellyfin:{{ .Values.image.tag }}"
""")
    write(root, f"{rel}/charts/jellyfin/templates/pvc.yaml", """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .Release.Name }}-config
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: {{ .Values.persistence.storageClass }}
  resources:
    requests:
      storage: {{ .Values.persistence.size }}
""")
    write(root, f"{rel}/httproute.yaml", f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: jellyfin
spec:
  parentRefs:
    - name: gateway-internal
      namespace: gateway
      sectionName: https
  hostnames:
    - jellyfin.{DOMAIN}
  rules:
    - backendRefs:
        - name: jellyfin
          port: 8096
""")


def appset_legacy(name, wave, project, include, self_heal=True, mgp=None, excludes=()):
    dirs = "".join(f"          - path: {p}\n" for p in include)
    dirs += "".join(f"          - path: {p}\n            exclude: true\n" for p in excludes)
    ann = f"      annotations:\n        argocd.argoproj.io/manifest-generate-paths: \"{mgp}\"\n" if mgp else ""
    return f"""# {name}: fasttemplate ({{{{path.basename}}}}), the older style.
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: {name}
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: "{wave}"
spec:
  generators:
    - git:
        repoURL: {REPO_URL}
        revision: HEAD
        directories:
{dirs}  template:
    metadata:
      name: "{{{{path.basename}}}}"
{ann}    spec:
      project: {project}
      source:
        repoURL: {REPO_URL}
        targetRevision: HEAD
        path: "{{{{path}}}}"
      destination:
        server: https://kubernetes.default.svc
        namespace: "{{{{path.basename}}}}"
{SYNC.format(heal="true" if self_heal else "false")}
"""


def appset_go(name, wave, project, include, excludes=(), prefix="", mgp=None):
    dirs = "".join(f"          - path: {p}\n" for p in include)
    dirs += "".join(f"          - path: {p}\n            exclude: true\n" for p in excludes)
    ann = f"      annotations:\n        argocd.argoproj.io/manifest-generate-paths: \"{mgp}\"\n" if mgp else ""
    return f"""# {name}: goTemplate; an unknown key fails generation instead of printing <no value>.
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: {name}
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: "{wave}"
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: {REPO_URL}
        revision: HEAD
        directories:
{dirs}  template:
    metadata:
      name: "{prefix}{{{{ .path.basename }}}}"
{ann}    spec:
      project: {project}
      source:
        repoURL: {REPO_URL}
        targetRevision: HEAD
        path: "{{{{ .path.path }}}}"
      destination:
        server: https://kubernetes.default.svc
        namespace: "{{{{ .path.basename }}}}"
{SYNC.format(heal="true")}
{IGNORE}
"""


def argocd(root):
    base = "infrastructure/controllers/argocd"
    write(root, f"{base}/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: argocd\n")
    write(root, f"{base}/values.yaml", """# argo-cd chart values: used by scripts/bootstrap-argocd.sh (first install) and by this
# kustomization (Argo CD manages itself afterwards).
configs:
  cm:
    application.resourceTrackingMethod: annotation+label
    timeout.reconciliation: 180s
    timeout.reconciliation.jitter: 60s
  params:
    controller.status.processors: 50
    controller.operation.processors: 25
    controller.diff.server.side: "true"
    reposerver.parallelism.limit: 5
    server.insecure: true
""")
    write(root, f"{base}/kustomization.yaml", """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: argocd
resources:
  - ns.yaml
  # root.yaml is NOT listed: scripts/bootstrap-argocd.sh applies it once.
helmCharts:
  # The real repo names https://argoproj.github.io/argo-helm; the test fleet names a loopback address that
  # refuses connections, so a run with helm on PATH never leaves the machine.
  - name: argo-cd
    repo: https://127.0.0.1:9/argo-helm
    version: "10.9.2"
    releaseName: argocd
    namespace: argocd
    valuesFile: values.yaml
    includeCRDs: true
""")
    write(root, f"{base}/root.yaml", f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
  annotations:
    # Only re-render root when its own folder changes.
    argocd.argoproj.io/manifest-generate-paths: .
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  # project stays `default`: the named AppProjects are created by this app (projects.yaml).
  project: default
  source:
    repoURL: {REPO_URL}
    path: {base}/apps
    targetRevision: HEAD
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
      - ServerSideApply=true
""")


def generate(root, n, seed, variant):
    rng = random.Random(seed)
    used = {"argocd", "apps", "common", "privacy", "redlib", "jellyfin", "cilium", "gateway"}

    def unique():
        while True:
            w = rng.choice(WORDS)
            name = w if w not in used else f"{w}{rng.randint(2, 99)}"
            if name not in used:
                used.add(name)
                return name

    counts = {"infra": max(4, n // 7), "db": max(2, n // 12), "mon": max(2, n // 9)}
    counts["my"] = max(4, n - sum(counts.values()) - 3)  # -3: argocd, gateway, redlib/jellyfin come extra

    argocd(root)
    infra_cats = ["controllers", "networking", "security", "storage"]
    infra_dirs = []
    for i in range(counts["infra"]):
        name = unique()
        rel = f"infrastructure/{infra_cats[i % 4]}/{name}"
        web_app(root, rel, name)
        infra_dirs.append(rel)
    # The Gateways every HTTPRoute attaches to, and the default StorageClass.
    write(root, "infrastructure/networking/gateway/gateways.yaml", "".join(f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: {g}
  namespace: gateway
spec:
  gatewayClassName: cilium
  listeners:
    - name: http
      protocol: HTTP
      port: 80
      hostname: "*.{DOMAIN}"
    - name: https
      protocol: HTTPS
      port: 443
      hostname: "*.{DOMAIN}"
      tls:
        certificateRefs:
          - name: cert-vanillax
""" for g in ("gateway-external", "gateway-internal")))
    write(root, "infrastructure/networking/gateway/kustomization.yaml", kustomization(["gateways.yaml"]))
    write(root, "infrastructure/storage/longhorn/storageclass.yaml", """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: longhorn
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: driver.longhorn.io
allowVolumeExpansion: true
reclaimPolicy: Retain
""")
    write(root, "infrastructure/storage/longhorn/kustomization.yaml", kustomization(["storageclass.yaml"]))
    # Cilium: a standalone Application (wave 0), Helm chart through kustomize, values shared with bootstrap.
    write(root, "infrastructure/networking/cilium/values.yaml",
          "cluster:\n  name: talos-prod\nkubeProxyReplacement: true\ngatewayAPI:\n  enabled: true\n")
    write(root, "infrastructure/networking/cilium/kustomization.yaml", """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
helmCharts:
  - name: cilium
    repo: https://127.0.0.1:9/cilium   # the real repo: https://helm.cilium.io (loopback in tests)
    version: 1.19.0
    releaseName: cilium
    namespace: kube-system
    valuesFile: values.yaml
""")
    for i in range(counts["db"]):
        name = unique()
        web_app(root, f"infrastructure/database/{ENGINES[i % 3]}/{name}", name, pvc=True)
    for _ in range(counts["mon"]):
        name = unique()
        web_app(root, f"monitoring/{name}", name, pvc=rng.random() < 0.3)
    write(root, "my-apps/common/security-defaults/kustomization.yaml", """apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target:
      kind: Deployment
    patch: |-
      - op: add
        path: /spec/template/spec/automountServiceAccountToken
        value: false
""")
    for i in range(counts["my"]):
        name = unique()
        cat = CATEGORIES[i % len(CATEGORIES)]
        gw = "gateway-external" if i % 11 == 0 else "gateway-internal"
        web_app(root, f"my-apps/{cat}/{name}", name, gateway=gw, pvc=rng.random() < 0.25,
                component="../../common/security-defaults")
    redlib(root)
    local_chart_app(root)

    apps = "infrastructure/controllers/argocd/apps"
    write(root, f"{apps}/projects.yaml", "".join(f"""---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: {p}
  namespace: argocd
spec:
  sourceRepos: ["*"]
  destinations:
    - server: https://kubernetes.default.svc
      namespace: "*"
  clusterResourceWhitelist:
    - group: "*"
      kind: "*"
""" for p in ("infrastructure", "monitoring", "my-apps")))
    write(root, f"{apps}/cilium-app.yaml", f"""# Standalone Application, wave 0: networking before everything else.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: cilium
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: "0"
    argocd.argoproj.io/manifest-generate-paths: .;/infrastructure/networking/gateway
spec:
  project: infrastructure
  source:
    repoURL: {REPO_URL}
    targetRevision: HEAD
    path: infrastructure/networking/cilium
  destination:
    server: https://kubernetes.default.svc
    namespace: kube-system
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
""")
    write(root, f"{apps}/appsets/infrastructure-appset.yaml", appset_legacy(
        "infrastructure", 4, "infrastructure",
        ["infrastructure/controllers/*", "infrastructure/networking/*", "infrastructure/security/*",
         "infrastructure/storage/*"], mgp=".",
        # cilium is the standalone Application (wave 0), not generated.
        excludes=["infrastructure/networking/cilium"]))
    write(root, f"{apps}/appsets/database-appset.yaml",
          "# selfHeal: false ON PURPOSE: a restore must not be healed back to Git mid-operation.\n"
          + appset_legacy("database", 4, "infrastructure", ["infrastructure/database/*/*"], self_heal=False))
    write(root, f"{apps}/appsets/monitoring-appset.yaml", appset_go(
        "monitoring", 5, "monitoring", ["monitoring/*"], mgp="."))
    write(root, f"{apps}/appsets/my-apps-appset.yaml", appset_go(
        "my-apps", 6, "my-apps", ["my-apps/*/*"], ["my-apps/common/*"], prefix="my-apps-",
        mgp=".;/my-apps/common"))
    write(root, f"{apps}/kustomization.yaml", """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - projects.yaml
  - cilium-app.yaml          # wave 0
  # ApplicationSets, waves 4-6
  - appsets/infrastructure-appset.yaml
  - appsets/database-appset.yaml
  - appsets/monitoring-appset.yaml
  - appsets/my-apps-appset.yaml
""")

    concat = ""
    if variant == "concat":
        concat = """
# Namespaces of every my-apps category, applied ahead of Argo CD (built from a variable: APPS_TREE).
APPS_TREE=my-apps
for category in "$ROOT_DIR/$APPS_TREE"/*/; do
  echo "category: $(basename "$category")"
done
"""
    write(root, "scripts/bootstrap-argocd.sh", f"""#!/usr/bin/env bash
# Bootstrap: Cilium, then Argo CD with Helm, then hand over to Git with the root Application.
set -euo pipefail

SCRIPT_DIR="$( cd "$( dirname "${{BASH_SOURCE[0]}}" )" && pwd )"
ROOT_DIR="$( cd "$SCRIPT_DIR/.." && pwd )"

helm upgrade --install cilium cilium --repo https://helm.cilium.io --version 1.19.0 \\
  --namespace kube-system --values "$ROOT_DIR/infrastructure/networking/cilium/values.yaml"
kubectl apply -f "$ROOT_DIR/infrastructure/controllers/argocd/ns.yaml"
helm upgrade --install argocd argo-cd --repo https://argoproj.github.io/argo-helm --version 10.9.2 \\
  --namespace argocd \\
  --values "$ROOT_DIR/infrastructure/controllers/argocd/values.yaml" \\
  --values "$SCRIPT_DIR/argocd-bootstrap-values.yaml" \\
  --wait --timeout 10m
kubectl wait --for condition=established --timeout=60s crd/applications.argoproj.io
{concat}
# Hand over to Git: root syncs infrastructure/controllers/argocd/apps (projects, ApplicationSets).
kubectl apply -f "$ROOT_DIR/infrastructure/controllers/argocd/root.yaml"
""", mode=0o755)
    write(root, "scripts/argocd-bootstrap-values.yaml",
          "# First install only (the kustomization's values.yaml takes over): one replica of everything.\n"
          "controller:\n  replicas: 1\nserver:\n  replicas: 1\n")
    write(root, "scripts/validate-manifests.sh", """#!/usr/bin/env bash
# Render every kustomization of the fleet (CI and pre-commit).
set -euo pipefail
REPO_ROOT="$(git rev-parse --show-toplevel)"
for dir in "$REPO_ROOT/infrastructure" "$REPO_ROOT/monitoring" "$REPO_ROOT/my-apps"; do
  find "$dir" -name kustomization.yaml -exec dirname {} \\; | while read -r k; do
    kubectl kustomize "$k" > /dev/null
  done
done
kubectl kustomize infrastructure/controllers/argocd/apps > /dev/null
""", mode=0o755)
    write(root, ".github/workflows/validate.yaml", """name: validate
on:
  pull_request:
    paths:
      - "infrastructure/**"
      - "monitoring/**"
      - "my-apps/**"
      - "scripts/validate-manifests.sh"
      - ".github/workflows/validate.yaml"
  push:
    branches: [main]
    paths-ignore:
      - "my-apps/**/README.md"
jobs:
  kustomize:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Render every kustomization
        run: ./scripts/validate-manifests.sh
      - name: Render the ApplicationSets root syncs
        run: kubectl kustomize infrastructure/controllers/argocd/apps
""")
    write(root, "renovate.json", """{
  "$schema": "https://docs.renovatebot.com/renovate-schema.json",
  "extends": ["config:recommended"],
  "kubernetes": {
    "fileMatch": ["^infrastructure/.+\\\\.yaml$", "^monitoring/.+\\\\.yaml$", "^my-apps/.+\\\\.yaml$"]
  },
  "packageRules": [
    {
      "matchFileNames": ["infrastructure/controllers/argocd/**"],
      "groupName": "argo-cd"
    },
    {
      "matchPaths": ["my-apps/media/**"],
      "groupName": "media apps"
    }
  ]
}
""")
    write(root, "README.md", "# homelab (Talos)\n\nBootstrap with `scripts/bootstrap-argocd.sh`.\n")
    return counts


def git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--apps", type=int, default=80, help="about this many generated Applications")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variant", choices=["plain", "concat"], default="plain",
                    help="concat: a script builds a tree path from a variable (Phase 4 must refuse it)")
    ap.add_argument("--no-git", action="store_true", help="do not git init/commit")
    a = ap.parse_args()
    if os.path.exists(a.dir) and os.listdir(a.dir):
        sys.exit(f"error: {a.dir} exists and is not empty; pick a new directory")
    os.makedirs(a.dir, exist_ok=True)
    counts = generate(a.dir, a.apps, a.seed, a.variant)
    if not a.no_git:
        git(a.dir, "init", "-q", "-b", "main")
        git(a.dir, "config", "user.name", "fleet generator")
        git(a.dir, "config", "user.email", "fleet@example.invalid")
        git(a.dir, "add", "-A")
        git(a.dir, "commit", "-q", "-m", "talos fleet")
    total = sum(counts.values()) + 5  # + argocd, gateway, longhorn, redlib, jellyfin (cilium is standalone)
    print(f"{a.dir}: realistic Talos fleet, about {total} generated Applications (seed {a.seed}, {a.variant})")


if __name__ == "__main__":
    main()
