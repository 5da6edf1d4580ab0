#!/usr/bin/env python3
"""Write a legacy-layout Talos fleet (the layout before Phase 4) into DIR and `git init` it.

Used by tests/phase4.rs and scripts/bench.sh to exercise `fleetctl migrate` on fleets of any size.
The layout mirrors the real fleet before the move (docs/phase-4.md, FACTS §10):

  infrastructure/{controllers,networking,security}/<x>   explicit directory list, legacy templating
  infrastructure/storage/<x>                              NOT in the list: never generated
  <database-dir>/<engine>/<app>                           selfHeal: false, legacy templating
  monitoring/<x>                                          goTemplate
  my-apps/<category>/<app>                                goTemplate + missingkey=error, excludes
  my-apps/common/<component>                              excluded (shared Kustomize components)
  my-apps/privacy/<app>                                   its own AppSet, named <path[1]>-<basename>
  bootstrap/                                              values.yaml, bootstrap-argocd.sh, README.md
  infrastructure/controllers/argocd/apps/                 root.yaml + AppProjects + the ApplicationSets

Every app is a small kustomization that renders standalone. Standard library only; deterministic for
a given --seed.

With --real the repo takes the shape of the real single-cluster Talos repo (issue 11), everything that
points at the top-level trees included, for phase 4 and `fleetctl verify` on the legacy layout:

  infrastructure/controllers/argocd/root.yaml             the root Application (manifest-generate-paths),
                                                          applied by scripts/bootstrap-argocd.sh; syncs:
  infrastructure/controllers/argocd/apps/                 a kustomization listing projects.yaml,
                                                          appsets/*.yaml and standalone/*.yaml
  infrastructure/controllers/argocd/apps/standalone/      a standalone Application (manifest-generate-paths)
  infrastructure/controllers/<chart-app>/                 kustomize helmCharts of a local chart (charts/)
  bootstrap/values.yaml                                   argo-cd values: configs.cm kustomize.buildOptions
  scripts/bootstrap-argocd.sh                             names top-level paths
  .github/workflows/validate.yaml                         `paths:` filters on the top-level trees
  renovate.json                                           fileMatch / matchPaths patterns on them
"""

import argparse
import os
import random
import subprocess
import sys

REPO_URL = "https://github.com/vanillax/homelab-fleet.git"

WORDS = (
    "alpha bravo cedar delta ember fjord grove harbor indigo juniper kestrel lumen maple nectar onyx "
    "pine quartz raven sage tundra umber violet willow xenon yarrow zephyr aspen birch coral dune "
    "elm fern glade heron iris jade kelp lotus moss nova opal pearl quill reed slate thistle"
).split()

MY_APP_CATEGORIES = ["media", "home", "utilities", "productivity", "development"]
DB_ENGINES = ["postgres", "mariadb", "redis"]

SYNC_OPTIONS = """        syncOptions:
          - CreateNamespace=true
          - ServerSideApply=true
          - RespectIgnoreDifferences=true
          - FailOnSharedResource=true"""


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def app(root, rel, name):
    """A minimal app: a kustomization with one ConfigMap (renders standalone, no namespace set:
    Argo CD puts it in the Application's destination namespace)."""
    write(root, f"{rel}/kustomization.yaml",
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - configmap.yaml\n")
    write(root, f"{rel}/configmap.yaml",
          f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-settings\ndata:\n  APP: {name}\n")


def legacy_appset(name, wave, project, include, excludes=(), name_tmpl="{{path.basename}}", self_heal=True):
    dirs = "".join(f"          - path: {p}\n" for p in include)
    dirs += "".join(f"          - path: {p}\n            exclude: true\n" for p in excludes)
    return f"""# {name}: legacy templating ({{{{path.basename}}}}, no goTemplate).
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
      name: "{name_tmpl}"
    spec:
      project: {project}
      source:
        repoURL: {REPO_URL}
        targetRevision: HEAD
        path: "{{{{path}}}}"
      destination:
        server: https://kubernetes.default.svc
        namespace: "{{{{path.basename}}}}"
      syncPolicy:
        automated:
          prune: true
          selfHeal: {"true" if self_heal else "false"}
{SYNC_OPTIONS}
"""


def go_appset(name, wave, project, include, excludes=(), prefix=""):
    dirs = "".join(f"          - path: {p}\n" for p in include)
    dirs += "".join(f"          - path: {p}\n            exclude: true\n" for p in excludes)
    return f"""# {name}: goTemplate style; an unknown key fails generation instead of printing <no value>.
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
    spec:
      project: {project}
      source:
        repoURL: {REPO_URL}
        targetRevision: HEAD
        path: "{{{{ .path.path }}}}"
      destination:
        server: https://kubernetes.default.svc
        namespace: "{{{{ .path.basename }}}}"
      syncPolicy:
        automated:
          prune: true
          selfHeal: true
{SYNC_OPTIONS}
"""


def generate(root, n, seed, db_dir, real=False):
    rng = random.Random(seed)
    used = set()

    def unique():
        while True:
            w = rng.choice(WORDS)
            name = w if w not in used else f"{w}{rng.randint(2, 999)}"
            if name not in used:
                used.add(name)
                return name

    # Reserved names: the argocd controller app and the privacy category's apps are fixed below.
    used.update({"argocd", "apps", "common", "privacy"})
    counts = {
        "infra": max(3, n // 10),
        "db": max(2, n // 10),
        "mon": max(2, n // 10),
        "privacy": max(1, n // 20),
    }
    counts["my"] = max(2, n - 1 - sum(counts.values()))  # -1: the argocd app itself

    apps_dir = "infrastructure/controllers/argocd/apps"
    appsets_dir = f"{apps_dir}/appsets" if real else apps_dir
    app(root, "infrastructure/controllers/argocd", "argocd")
    infra_cats = ["controllers", "networking", "security"]
    for i in range(counts["infra"]):
        name = unique()
        app(root, f"infrastructure/{infra_cats[i % 3]}/{name}", name)
    # Not in the explicit directory list: must never become an Application (with --real, a standalone
    # Application deploys it).
    unlisted = "infrastructure/storage/unlisted-" + unique()
    app(root, unlisted, "unlisted")
    for i in range(counts["db"]):
        name = unique()
        app(root, f"{db_dir}/{DB_ENGINES[i % len(DB_ENGINES)]}/{name}", name)
    for _ in range(counts["mon"]):
        name = unique()
        app(root, f"monitoring/{name}", name)
    for i in range(counts["my"]):
        name = unique()
        app(root, f"my-apps/{MY_APP_CATEGORIES[i % len(MY_APP_CATEGORIES)]}/{name}", name)
    app(root, "my-apps/privacy/redlib", "redlib")
    for _ in range(counts["privacy"] - 1):
        name = unique()
        app(root, f"my-apps/privacy/{name}", name)
    # Shared Kustomize components, not apps (excluded from the my-apps AppSet).
    write(root, "my-apps/common/security-defaults/kustomization.yaml",
          "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: []\n")

    root_file = "infrastructure/controllers/argocd/root.yaml" if real else f"{apps_dir}/root.yaml"
    annotations = f"""  annotations:
    argocd.argoproj.io/manifest-generate-paths: /{apps_dir}
""" if real else ""
    script = "scripts/bootstrap-argocd.sh" if real else "bootstrap/bootstrap-argocd.sh"
    folder = "the apps folder" if real else "this folder"
    write(root, root_file, f"""# The one Application applied by hand ({script}): an app-of-apps over {folder}.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
{annotations}spec:
  project: default
  source:
    repoURL: {REPO_URL}
    targetRevision: HEAD
    path: {apps_dir}
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
""")
    write(root, f"{apps_dir}/projects.yaml", "".join(f"""---
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
    write(root, f"{appsets_dir}/infrastructure-appset.yaml", legacy_appset(
        "infrastructure", 4, "infrastructure",
        ["infrastructure/controllers/*", "infrastructure/networking/*", "infrastructure/security/*"]))
    write(root, f"{appsets_dir}/database-appset.yaml",
          "# selfHeal: false ON PURPOSE: a restore must not be healed back to Git mid-operation.\n"
          + legacy_appset("database", 4, "infrastructure", [f"{db_dir}/*/*"], self_heal=False))
    write(root, f"{appsets_dir}/monitoring-appset.yaml", go_appset("monitoring", 5, "monitoring", ["monitoring/*"]))
    write(root, f"{appsets_dir}/my-apps-appset.yaml", go_appset(
        "my-apps", 6, "my-apps", ["my-apps/*/*"], ["my-apps/common/*", "my-apps/privacy/*"], prefix="my-apps-"))
    # Privacy apps are named after their category segment: <path[1]>-<basename>, e.g. privacy-redlib.
    write(root, f"{appsets_dir}/privacy-appset.yaml", legacy_appset(
        "privacy", 6, "my-apps", ["my-apps/privacy/*"], name_tmpl="{{path[1]}}-{{path.basename}}"))
    appsets = ["infrastructure-appset", "database-appset", "monitoring-appset", "my-apps-appset", "privacy-appset"]
    prefix = "appsets/" if real else ""
    listed = ["projects.yaml"] + [f"{prefix}{a}.yaml" for a in appsets]
    if real:
        listed.append("standalone/unlisted-storage.yaml")
    write(root, f"{apps_dir}/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
          "resources:\n" + "".join(f"  - {r}\n" for r in listed))

    write(root, "bootstrap/values.yaml", "# argo-cd chart values\nconfigs:\n  params:\n    server.insecure: true\n")
    write(root, "bootstrap/bootstrap-argocd.sh", f"""#!/usr/bin/env bash
# Install Argo CD with Helm, then hand over to Git with the root Application.
set -euo pipefail
helm upgrade --install argocd argo/argo-cd -n argocd --create-namespace -f bootstrap/values.yaml
kubectl apply -f {apps_dir}/root.yaml
""")
    os.chmod(os.path.join(root, "bootstrap/bootstrap-argocd.sh"), 0o755)
    write(root, "bootstrap/README.md", f"Run bootstrap/bootstrap-argocd.sh; it applies {apps_dir}/root.yaml.\n")
    write(root, "README.md", "# homelab fleet (legacy layout)\n")
    extra = real_shape(root, apps_dir, root_file, unlisted, unique) if real else 0
    return sum(counts.values()) + 1 + extra


def real_shape(root, apps_dir, root_file, unlisted, unique):
    """What the real repo has besides the trees: a standalone Application, a kustomize helmCharts app with a
    local chart, Argo CD's build options in its Helm values, the bootstrap script, CI and Renovate configs,
    all naming top-level paths. Returns how many more Applications there are (the standalone one)."""
    write(root, f"{apps_dir}/standalone/unlisted-storage.yaml", f"""# Not generated by an AppSet: a standalone Application.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: unlisted-storage
  namespace: argocd
  annotations:
    argocd.argoproj.io/manifest-generate-paths: /{unlisted}
spec:
  project: infrastructure
  source:
    repoURL: {REPO_URL}
    targetRevision: HEAD
    path: {unlisted}
  destination:
    server: https://kubernetes.default.svc
    namespace: storage
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
""")
    chart_app = "infrastructure/controllers/" + unique()
    name = chart_app.rsplit("/", 1)[1]
    write(root, f"{chart_app}/kustomization.yaml", f"""# A local Helm chart inflated by kustomize: Argo CD needs kustomize.buildOptions --enable-helm.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
helmCharts:
  - name: {name}
    releaseName: {name}
    namespace: {name}
    valuesFile: values.yaml
""")
    write(root, f"{chart_app}/values.yaml", "replicas: 1\n")
    write(root, f"{chart_app}/charts/{name}/Chart.yaml", f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    write(root, f"{chart_app}/charts/{name}/values.yaml", "replicas: 2\n")
    write(root, f"{chart_app}/charts/{name}/templates/configmap.yaml", """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  REPLICAS: {{ .Values.replicas | quote }}
""")
    write(root, "bootstrap/values.yaml", """# argo-cd chart values (scripts/bootstrap-argocd.sh installs the chart with them).
configs:
  params:
    server.insecure: true
  cm:
    kustomize.buildOptions: --enable-helm
server:
  replicas: 1
""")
    write(root, "scripts/bootstrap-argocd.sh", f"""#!/usr/bin/env bash
# Install Argo CD with Helm, then hand over to Git with the root Application.
set -euo pipefail
cd "$(dirname "$0")/.."
helm upgrade --install argocd argo/argo-cd -n argocd --create-namespace -f bootstrap/values.yaml
kubectl wait --for condition=established crd/applications.argoproj.io --timeout=120s
kubectl apply -f {root_file}
echo "root Application applied: Argo CD now syncs {apps_dir}"
""")
    os.chmod(os.path.join(root, "scripts/bootstrap-argocd.sh"), 0o755)
    os.remove(os.path.join(root, "bootstrap/bootstrap-argocd.sh"))
    write(root, "bootstrap/README.md", f"Run scripts/bootstrap-argocd.sh; it applies {root_file}.\n")
    write(root, ".github/workflows/validate.yaml", """name: validate
on:
  pull_request:
    paths:
      - "infrastructure/**"
      - "my-apps/**"
      - "monitoring/**"
      - "bootstrap/**"
jobs:
  kustomize:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: for d in infrastructure/*/* my-apps/*/* monitoring/*; do kubectl kustomize "$d" > /dev/null; done
""")
    write(root, "renovate.json", """{
  "$schema": "https://docs.renovatebot.com/renovate-schema.json",
  "extends": ["config:recommended"],
  "kubernetes": {
    "fileMatch": ["^infrastructure/.+\\.ya?ml$", "^my-apps/.+\\.ya?ml$", "^monitoring/.+\\.ya?ml$"]
  },
  "packageRules": [
    {"matchPaths": ["my-apps/**"], "groupName": "apps"},
    {"matchPaths": ["infrastructure/**", "monitoring/**"], "groupName": "platform"}
  ]
}
""")
    return 1


def git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--apps", type=int, default=40, help="number of generated Applications (about)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--database-dir", default="database",
                    help="where database/<engine>/<app> lives: database (root level) or infrastructure/database")
    ap.add_argument("--no-git", action="store_true", help="do not git init/commit")
    ap.add_argument("--real", action="store_true",
                    help="the real repo's shape: appsets/ folder, standalone Application, helmCharts, bootstrap "
                         "script in scripts/, CI and Renovate configs, manifest-generate-paths")
    a = ap.parse_args()
    if os.path.exists(a.dir) and os.listdir(a.dir):
        sys.exit(f"error: {a.dir} exists and is not empty; pick a new directory")
    os.makedirs(a.dir, exist_ok=True)
    total = generate(a.dir, a.apps, a.seed, a.database_dir.strip("/"), a.real)
    if not a.no_git:
        git(a.dir, "init", "-q", "-b", "main")
        git(a.dir, "config", "user.name", "fleet generator")
        git(a.dir, "config", "user.email", "fleet@example.invalid")
        git(a.dir, "add", "-A")
        git(a.dir, "commit", "-q", "-m", "legacy fleet")
    print(f"{a.dir}: legacy fleet with {total} Applications (seed {a.seed})")


if __name__ == "__main__":
    main()
