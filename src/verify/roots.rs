//! Kustomization roots of a fleet repo, the files each one depends on, and the content-hash render cache.
//!
//! A root is:
//! - every `apps-shared/<app>/overlays/<cluster>` directory with a kustomization (what the AppSets deploy);
//! - every `apps-shared/<app>/base` directory with a kustomization (rendered for the shared-base rules);
//! - every directory under `clusters/` with a kustomization that is not `kind: Component` and is not
//!   referenced (as a resource, component or base) by another kustomization under `clusters/`.
//!   For example `clusters/openshift/bootstrap` is a root, its `operator/`, `argocd/`, `root/` are not.

use super::layout::Layout;
use crate::fleet::render::Kustomize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};

/// The file names kustomize accepts, in its order of preference.
pub const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What a root is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootKind {
    /// A directory under `clusters/<cluster>/`.
    Cluster { cluster: String },
    /// `apps-shared/<app>/overlays/<cluster>`.
    Overlay { app: String, cluster: String },
    /// `apps-shared/<app>/base`.
    Base { app: String },
    /// A YAML file of objects that no root renders (e.g. a `bootstrap/root.yaml` applied with `kubectl apply -f` by
    /// a script); `rel` is its directory. Validated and linted like rendered objects.
    Loose { cluster: Option<String>, file: String },
}

impl RootKind {
    pub fn label(&self) -> &'static str {
        match self {
            RootKind::Cluster { .. } => "cluster",
            RootKind::Overlay { .. } => "overlay",
            RootKind::Base { .. } => "base",
            RootKind::Loose { .. } => "loose",
        }
    }
    /// The cluster directory name this root belongs to, if any.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            RootKind::Cluster { cluster } | RootKind::Overlay { cluster, .. } => Some(cluster),
            RootKind::Base { .. } => None,
            RootKind::Loose { cluster, .. } => cluster.as_deref(),
        }
    }
}

/// One kustomization root.
#[derive(Debug, Clone)]
pub struct Root {
    /// Relative to the repo, `/`-separated.
    pub rel: String,
    pub kind: RootKind,
}

/// The kustomization file of a directory, if it has one.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES.iter().map(|f| dir.join(f)).find(|p| p.is_file())
}

/// Parse a kustomization file (an empty mapping when unreadable; kustomize reports the error itself).
pub fn read_kustomization(file: &Path) -> serde_json::Value {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| serde_yaml::from_str::<serde_json::Value>(&t).ok())
        .filter(|v| v.is_object())
        .unwrap_or_else(|| serde_json::json!({}))
}

/// `/`-separated path of `p` relative to `repo` (or `p` itself when outside).
pub fn rel(repo: &Path, p: &Path) -> String {
    let p = p.strip_prefix(repo).unwrap_or(p);
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::RootDir => Some(String::new()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn walk_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subs: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    subs.sort();
    for s in subs {
        out.push(s.clone());
        walk_dirs(&s, out);
    }
}

/// Every regular file below `dir` (hidden entries skipped), sorted.
pub fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![dir.to_path_buf()];
    walk_dirs(dir, &mut dirs);
    let mut out = Vec::new();
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                if e.file_type().map(|t| t.is_file()).unwrap_or(false)
                    && !e.file_name().to_string_lossy().starts_with('.')
                {
                    out.push(e.path());
                }
            }
        }
    }
    out.sort();
    out
}

fn strs(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The local directories a kustomization pulls in as resources, components or bases.
fn referenced_dirs(dir: &Path, k: &serde_json::Value) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for field in ["resources", "components", "bases"] {
        for r in strs(k.get(field)) {
            let p = dir.join(&r);
            if p.is_dir() {
                if let Ok(c) = p.canonicalize() {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Find the roots of a repo (sorted by path). `files` are the repo's files ([`super::layout::repo_files`]).
pub fn discover(repo: &Path, layout: Layout, files: &[PathBuf]) -> Vec<Root> {
    let mut roots = match layout {
        // clusters/: kustomizations not referenced by another one.
        Layout::Fleet => {
            let mut dirs = Vec::new();
            walk_dirs(&repo.join("clusters"), &mut dirs);
            top_kustomizations(repo, &dirs, |r| r.split('/').nth(1).unwrap_or("").to_string())
        }
        // Every top-level tree is the one (Talos) cluster's.
        Layout::Legacy => {
            let dirs: Vec<PathBuf> = files
                .iter()
                .filter(|f| super::layout::is_kustomization(f))
                .filter_map(|f| f.parent().map(Path::to_path_buf))
                .collect();
            top_kustomizations(repo, &dirs, |_| super::layout::LEGACY_CLUSTER.to_string())
        }
    };
    shared_app_roots(repo, &mut roots);
    roots.sort_by(|a, b| a.rel.cmp(&b.rel));
    roots
}

/// Of `dirs`, those with a kustomization that is not a Component and that no other kustomization among
/// them references: each is a root of cluster `cluster_of(rel)`.
fn top_kustomizations(repo: &Path, dirs: &[PathBuf], cluster_of: impl Fn(&str) -> String) -> Vec<Root> {
    let mut with_k = Vec::new();
    let mut referenced = HashSet::new();
    for d in dirs {
        if let Some(f) = kustomization_file(d) {
            let k = read_kustomization(&f);
            for r in referenced_dirs(d, &k) {
                referenced.insert(r);
            }
            if k.get("kind").and_then(|v| v.as_str()) != Some("Component") {
                with_k.push(d.clone());
            }
        }
    }
    let mut roots = Vec::new();
    for d in with_k {
        let canon = d.canonicalize().unwrap_or(d.clone());
        if referenced.contains(&canon) {
            continue;
        }
        let r = rel(repo, &d);
        let cluster = cluster_of(&r);
        roots.push(Root {
            rel: r,
            kind: RootKind::Cluster { cluster },
        });
    }
    roots
}

/// `apps-shared/<app>/{base,overlays/<cluster>}` with a kustomization.
fn shared_app_roots(repo: &Path, roots: &mut Vec<Root>) {
    // apps-shared/<app>/{base,overlays/<cluster>}
    if let Ok(rd) = std::fs::read_dir(repo.join("apps-shared")) {
        let mut apps: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        apps.sort();
        for app_dir in apps {
            let app = app_dir.file_name().unwrap().to_string_lossy().into_owned();
            if app.starts_with('.') {
                continue;
            }
            let base = app_dir.join("base");
            if kustomization_file(&base).is_some() {
                roots.push(Root {
                    rel: rel(repo, &base),
                    kind: RootKind::Base { app: app.clone() },
                });
            }
            if let Ok(rd) = std::fs::read_dir(app_dir.join("overlays")) {
                let mut ovs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
                ovs.sort();
                for ov in ovs {
                    if kustomization_file(&ov).is_some() {
                        let cluster = ov.file_name().unwrap().to_string_lossy().into_owned();
                        roots.push(Root {
                            rel: rel(repo, &ov),
                            kind: RootKind::Overlay {
                                app: app.clone(),
                                cluster,
                            },
                        });
                    }
                }
            }
        }
    }
}

/// The inputs of one root: every local file it can read, plus references that are not local files.
#[derive(Debug, Default, Clone)]
pub struct Closure {
    /// Every file under the root and the directories it references: the cache key covers them all.
    pub files: BTreeSet<PathBuf>,
    /// The files kustomize reads: kustomization files and every file they name (resources, patches,
    /// generator inputs, Helm values and chart directories, ...). A file in a root's directory that
    /// no kustomization names is not read.
    pub read: BTreeSet<PathBuf>,
    /// The names of the `helmCharts` the root inflates (kustomize needs helm for them).
    pub helm_charts: Vec<String>,
    /// Remote or missing references, kept verbatim (they are part of the cache key).
    pub other: BTreeSet<String>,
    /// Files used as patches (not where an object is defined).
    pub patches: BTreeSet<PathBuf>,
    /// Patches whose source is not a strategic-merge patch file: inline `patch:` text and JSON 6902
    /// operation lists, with the file to blame for what they set.
    pub patch_sources: Vec<PatchSource>,
}

/// What one patch sets, and where it is written.
#[derive(Debug, Clone)]
pub struct PatchSource {
    /// The kustomization (inline patch) or the patch file.
    pub file: PathBuf,
    /// The patch's target, when it names one (`None` = any).
    pub kind: Option<String>,
    pub name: Option<String>,
    /// A strategic-merge patch document, if that is what it is.
    pub doc: Option<serde_json::Value>,
    /// The paths (JSON pointers) a JSON 6902 patch writes.
    pub op_paths: Vec<String>,
}

/// The patch sources of one `patches` entry (`entry` holds its optional `target`) whose text parsed to
/// `docs`: a JSON 6902 operation list, or strategic-merge documents.
fn patch_sources(file: &Path, entry: &serde_json::Value, docs: Vec<serde_json::Value>) -> Vec<PatchSource> {
    let target = |f: &str| {
        entry
            .pointer(&format!("/target/{f}"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let mut out = Vec::new();
    for d in docs {
        let mut src = PatchSource {
            file: file.to_path_buf(),
            kind: target("kind"),
            name: target("name"),
            doc: None,
            op_paths: vec![],
        };
        match d {
            serde_json::Value::Array(ops) => {
                src.op_paths = ops
                    .iter()
                    .filter_map(|o| o.get("path").and_then(|v| v.as_str()).map(str::to_string))
                    .collect();
            }
            doc @ serde_json::Value::Object(_) => {
                let id = |f: &str| doc.pointer(f).and_then(|v| v.as_str()).map(str::to_string);
                src.kind = src.kind.or_else(|| id("/kind"));
                src.name = src.name.or_else(|| id("/metadata/name"));
                src.doc = Some(doc);
            }
            _ => continue,
        }
        out.push(src);
    }
    out
}

/// Collect every file a root depends on: all files under the root and under every local directory it
/// references (resources, components, bases, generators, transformers, ...), transitively, plus
/// referenced single files outside those directories.
pub fn closure(root_dir: &Path) -> Closure {
    let mut c = Closure::default();
    let mut seen = HashSet::new();
    visit_dir(root_dir, &mut c, &mut seen);
    c
}

fn visit_dir(dir: &Path, c: &mut Closure, seen: &mut HashSet<PathBuf>) {
    let canon = dir.canonicalize().unwrap_or(dir.to_path_buf());
    if !seen.insert(canon.clone()) {
        return;
    }
    for f in walk_files(&canon) {
        c.files.insert(f);
    }
    let Some(kf) = kustomization_file(&canon) else {
        return;
    };
    c.read.insert(kf.clone());
    let k = read_kustomization(&kf);
    helm_inputs(&canon, &k, c);
    let mut patch_refs: Vec<String> = strs(k.get("patchesStrategicMerge"));
    for field in ["patches", "patchesJson6902"] {
        if let Some(a) = k.get(field).and_then(|v| v.as_array()) {
            patch_refs.extend(
                a.iter()
                    .filter_map(|p| p.get("path").and_then(|v| v.as_str()).map(str::to_string)),
            );
        }
    }
    for r in patch_refs {
        if let Ok(p) = canon.join(&r).canonicalize() {
            c.patches.insert(p);
        }
    }
    // What each patch sets, in the order kustomize applies them (recorded after the resources'
    // own patches, which apply first).
    let own = own_patch_sources(&canon, &kf, &k);
    for r in referenced_paths(&k) {
        // Inline patches and generator options are not paths.
        if r.contains('\n') {
            continue;
        }
        let p = canon.join(&r);
        if p.is_dir() {
            visit_dir(&p, c, seen);
        } else if p.is_file() {
            let p = p.canonicalize().unwrap_or(p);
            c.files.insert(p.clone());
            c.read.insert(p);
        } else {
            c.other.insert(format!("{}: {r}", canon.display()));
        }
    }
    c.patch_sources.extend(own);
}

/// What a kustomization's `helmCharts` read: each chart's directory under the chart home (default
/// `charts`), and its values files.
fn helm_inputs(dir: &Path, k: &serde_json::Value, c: &mut Closure) {
    let Some(charts) = k.get("helmCharts").and_then(|v| v.as_array()) else {
        return;
    };
    let home = k
        .pointer("/helmGlobals/chartHome")
        .and_then(|v| v.as_str())
        .unwrap_or("charts");
    for chart in charts {
        let name = chart.get("name").and_then(|v| v.as_str()).unwrap_or_default();
        c.helm_charts.push(name.to_string());
        let mut inputs: Vec<String> = strs(chart.get("additionalValuesFiles"));
        inputs.extend(chart.get("valuesFile").and_then(|v| v.as_str()).map(str::to_string));
        for f in inputs {
            if let Ok(p) = dir.join(&f).canonicalize() {
                c.files.insert(p.clone());
                c.read.insert(p);
            }
        }
        // A pulled chart lives in `<home>/<name>` or `<home>/<name>-<version>/<name>`: read all of the home.
        let home = dir.join(home);
        for f in walk_files(&home) {
            let f = f.canonicalize().unwrap_or(f);
            c.files.insert(f.clone());
            c.read.insert(f);
        }
        if !home.is_dir() {
            c.other.insert(format!(
                "{}: helm chart {name} (not in {})",
                dir.display(),
                home.display()
            ));
        }
    }
}

/// The patches a kustomization applies itself (files and inline), in kustomize's order.
fn own_patch_sources(dir: &Path, kf: &Path, k: &serde_json::Value) -> Vec<PatchSource> {
    let mut own: Vec<PatchSource> = Vec::new();
    let mut entries: Vec<serde_json::Value> = strs(k.get("patchesStrategicMerge"))
        .into_iter()
        .map(|p| serde_json::json!({ "path": p }))
        .collect();
    for field in ["patchesJson6902", "patches"] {
        entries.extend(k.get(field).and_then(|v| v.as_array()).into_iter().flatten().cloned());
    }
    for p in &entries {
        if let Some(path) = p.get("path").and_then(|v| v.as_str()) {
            let f = dir.join(path);
            let Ok(t) = std::fs::read_to_string(&f) else {
                continue;
            };
            if let Ok(docs) = crate::fleet::render::parse_multi_doc(&t) {
                own.extend(patch_sources(&f.canonicalize().unwrap_or(f), p, docs));
            }
        } else if let Some(inline) = p.get("patch").and_then(|v| v.as_str()) {
            if let Ok(docs) = crate::fleet::render::parse_multi_doc(inline) {
                own.extend(patch_sources(kf, p, docs));
            }
        }
    }
    own
}

/// Every path a kustomization names: resources, components, bases, patches, generators' files, ...
fn referenced_paths(k: &serde_json::Value) -> Vec<String> {
    let mut refs: Vec<String> = Vec::new();
    for field in [
        "resources",
        "components",
        "bases",
        "crds",
        "patchesStrategicMerge",
        "transformers",
        "generators",
        "validators",
    ] {
        refs.extend(strs(k.get(field)));
    }
    for field in ["patches", "patchesJson6902", "replacements"] {
        if let Some(a) = k.get(field).and_then(|v| v.as_array()) {
            for p in a {
                if let Some(s) = p.get("path").and_then(|v| v.as_str()) {
                    refs.push(s.to_string());
                }
            }
        }
    }
    for field in ["configMapGenerator", "secretGenerator"] {
        if let Some(a) = k.get(field).and_then(|v| v.as_array()) {
            for g in a {
                for f in strs(g.get("files")).into_iter().chain(strs(g.get("envs"))) {
                    refs.push(f.rsplit_once('=').map(|(_, p)| p.to_string()).unwrap_or(f));
                }
                if let Some(e) = g.get("env").and_then(|v| v.as_str()) {
                    refs.push(e.to_string());
                }
            }
        }
    }
    if let Some(p) = k.pointer("/openapi/path").and_then(|v| v.as_str()) {
        refs.push(p.to_string());
    }
    refs
}

/// The cache key of a root: sha256 over the kustomize version, the root path and every input file
/// (path and content).
pub fn cache_key(repo: &Path, root: &Root, closure: &Closure, kustomize_version: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"fleetctl-render-v1\0");
    h.update(kustomize_version.as_bytes());
    h.update(b"\0");
    h.update(root.rel.as_bytes());
    h.update(b"\0");
    let repo_c = repo.canonicalize().unwrap_or(repo.to_path_buf());
    for f in &closure.files {
        h.update(rel(&repo_c, f).as_bytes());
        h.update(b"\0");
        match std::fs::read(f) {
            Ok(bytes) => {
                h.update((bytes.len() as u64).to_le_bytes());
                h.update(&bytes);
            }
            Err(_) => h.update(b"unreadable"),
        }
    }
    for o in &closure.other {
        h.update(b"ref\0");
        h.update(o.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The version string of the kustomize in use (part of every cache key).
pub fn kustomize_version(k: &Kustomize) -> String {
    let out = match k {
        Kustomize::Standalone(p) => duct::cmd(p, ["version"])
            .stdout_capture()
            .stderr_null()
            .unchecked()
            .run(),
        Kustomize::Kubectl(p) => duct::cmd(p, ["version", "--client"])
            .stdout_capture()
            .stderr_null()
            .unchecked()
            .run(),
    };
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let line = text
        .lines()
        .find(|l| l.to_lowercase().contains("kustomize"))
        .or_else(|| text.lines().next())
        .unwrap_or("")
        .trim()
        .to_string();
    match k {
        Kustomize::Standalone(p) | Kustomize::Kubectl(p) => format!("{} {line}", p.display()),
    }
}
