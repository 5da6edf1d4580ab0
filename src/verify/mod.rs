//! `fleetctl verify`: the offline safety net for the fleet repo.
//!
//! Renders every kustomization root with the real kustomize (in parallel, behind a content-hash cache),
//! validates every rendered object against CRD and core schemas ([`crate::schema`]) and runs the fleet's
//! lint rules ([`rules`]). The format of the report is documented in docs/verify.md.

pub mod delta;
pub mod rbac;
pub mod roots;
pub mod rules;

use crate::error::UserError;
use crate::fleet::render::{parse_multi_doc, Kustomize};
use crate::schema::{self, Outcome, SchemaSet};
use roots::{Root, RootKind};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Environment variable naming the CRD directory when `--crds` is not given.
pub const CRDS_ENV: &str = "FLEETCTL_CRDS";

/// What to verify and how.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The fleet repo (the directory holding `clusters/` and `apps-shared/`).
    pub repo: PathBuf,
    /// The CRD directory (`--crds`); else `$FLEETCTL_CRDS`; else `~/.cache/fleetctl/crds`; else none.
    pub crds: Option<PathBuf>,
    /// Where rendered roots are cached; default `<repo>/.fleetctl/cache/render`.
    pub cache_dir: Option<PathBuf>,
    /// Render workers; 0 means the available parallelism.
    pub jobs: usize,
    /// CRDs given as values (e.g. read from a live cluster by `--from-cluster`); they are added to, and
    /// win over, the CRD directory's.
    pub cluster_crds: Vec<Value>,
}

impl VerifyOptions {
    pub fn new(repo: impl Into<PathBuf>) -> VerifyOptions {
        VerifyOptions {
            repo: repo.into(),
            ..Default::default()
        }
    }
}

/// One problem found in the repo.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// Stable rule id (`schema`, `secret-plaintext`, ...).
    pub rule: String,
    /// The source file (relative to the repo) when it could be found, else the root directory.
    pub file: String,
    /// `Kind/namespace/name`, `Kind/name` for cluster-scoped objects, or empty for file-level findings.
    pub object: String,
    pub message: String,
    /// The kustomization root the object was rendered from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Extra lines (e.g. a unified diff) shown below the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Finding {
    pub fn new(rule: &str, file: impl Into<String>, object: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.into(),
            file: file.into(),
            object: object.into(),
            message: message.into(),
            root: None,
            detail: None,
        }
    }
    /// `RULE file object: message`.
    pub fn line(&self) -> String {
        let obj = if self.object.is_empty() {
            String::new()
        } else {
            format!(" {}", self.object)
        };
        format!("{} {}{}: {}", self.rule, self.file, obj, self.message)
    }
}

/// How a root was rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheState {
    /// Served from the render cache.
    Hit,
    /// Rendered by kustomize (and stored).
    Miss,
    /// kustomize failed (a `render` finding).
    Error,
}

/// One kustomization root.
#[derive(Debug, Clone, Serialize)]
pub struct RootResult {
    pub path: String,
    /// `cluster`, `overlay` or `base`.
    pub kind: String,
    /// The cluster it belongs to (`clusters/<c>/...` or `overlays/<c>`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub cache: CacheState,
    pub objects: usize,
    pub millis: u64,
}

/// Everything `verify` found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub findings: Vec<Finding>,
    pub roots: Vec<RootResult>,
    /// Kinds (`<apiVersion> <Kind>`) with no schema: listed, not errors.
    pub not_validated: BTreeSet<String>,
    pub cache_hits: usize,
    pub cache_misses: usize,
    /// Rendered objects (over all roots; an object rendered by two roots counts twice).
    pub objects: usize,
    /// Objects checked against a schema.
    pub validated: usize,
    /// Where schemas came from (`none` when no CRDs were found).
    pub schema_source: String,
    pub crds_loaded: usize,
    pub core_kinds_loaded: usize,
    pub kustomize: String,
    /// Notes for the operator (e.g. how to get CRDs).
    pub notes: Vec<String>,
    /// Files of objects that no root renders; their objects are validated and linted too.
    pub loose_files: Vec<String>,
}

impl VerifyReport {
    /// No findings.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Roots actually rendered by kustomize in this run.
    pub fn rendered(&self) -> usize {
        self.cache_misses
    }

    /// One line per finding (`RULE file object: message`, details indented), then notes and a summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&f.line());
            out.push('\n');
            if let Some(d) = &f.detail {
                for l in d.lines() {
                    out.push_str("    ");
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        if !self.not_validated.is_empty() {
            out.push_str(&format!(
                "not validated (no schema): {}\n",
                self.not_validated.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        out.push_str(&format!(
            "{}: {} finding(s); {} root(s){}, {} rendered, {} cache hit(s); {} object(s), {} validated; {} kind(s) not validated\n",
            if self.is_clean() { "clean" } else { "FAILED" },
            self.findings.len(),
            self.roots.len(),
            if self.loose_files.is_empty() {
                String::new()
            } else {
                format!(" + {} loose file(s)", self.loose_files.len())
            },
            self.cache_misses,
            self.cache_hits,
            self.objects,
            self.validated,
            self.not_validated.len()
        ));
        out
    }

    /// The JSON report (format in docs/verify.md).
    pub fn to_json(&self) -> Value {
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.findings {
            *by_rule.entry(f.rule.as_str()).or_default() += 1;
        }
        json!({
            "version": 1,
            "clean": self.is_clean(),
            "findings": self.findings,
            "roots": self.roots,
            "looseFiles": self.loose_files,
            "notValidated": self.not_validated,
            "summary": {
                "findings": self.findings.len(),
                "byRule": by_rule,
                "roots": self.roots.len(),
                "rendered": self.cache_misses,
                "cacheHits": self.cache_hits,
                "cacheMisses": self.cache_misses,
                "objects": self.objects,
                "validated": self.validated,
                "kindsNotValidated": self.not_validated.len(),
            },
            "schemas": {
                "source": self.schema_source,
                "crds": self.crds_loaded,
                "coreKinds": self.core_kinds_loaded,
            },
            "kustomize": self.kustomize,
            "notes": self.notes,
        })
    }
}

/// A rendered object and where it came from.
#[derive(Debug, Clone)]
pub struct RenderedObject {
    /// Index into the roots list.
    pub root: usize,
    pub value: Value,
    /// The source file (repo-relative) when found by kind+name among the root's inputs, else the root dir.
    pub file: String,
    /// The patches that touch this object (repo-relative file, effect), in the order kustomize applies them.
    pub patches: Vec<(String, PatchEffect)>,
}

/// What a patch does to an object.
#[derive(Debug, Clone)]
pub enum PatchEffect {
    /// A strategic-merge patch document.
    Merge(Value),
    /// The paths (JSON pointers) of JSON 6902 operations.
    Ops(Vec<String>),
}

impl RenderedObject {
    /// The file to blame for a problem at `path` (`spec.hostnames[0]`): the last patch that sets that
    /// path, else the defining file.
    pub fn file_for(&self, path: &str) -> &str {
        let segs = delta::parse_path(path);
        if segs.is_empty() {
            return &self.file;
        }
        for (f, effect) in self.patches.iter().rev() {
            let hit = match effect {
                PatchEffect::Merge(doc) => lookup(doc, &segs).is_some(),
                PatchEffect::Ops(ops) => ops.iter().any(|op| {
                    let op = delta::parse_path(&schema::pointer_to_path(op));
                    !op.is_empty() && op.len() <= segs.len() && op.iter().zip(&segs).all(|(a, b)| a == b)
                }),
            };
            if hit {
                return f;
            }
        }
        &self.file
    }

    /// `Kind/namespace/name` or `Kind/name`.
    pub fn label(&self) -> String {
        object_label(&self.value)
    }
}

/// `Kind/namespace/name` or `Kind/name`.
pub fn object_label(v: &Value) -> String {
    let (kind, name, ns) = crate::schema::identity(v);
    match ns {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// Where CRDs come from when `--crds` is not given: `$FLEETCTL_CRDS`, then `~/.cache/fleetctl/crds`.
pub fn default_crds_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(CRDS_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let p = cache.join("fleetctl").join("crds");
    p.is_dir().then_some(p)
}

/// Load the schema set the options ask for.
pub fn load_schemas(opts: &VerifyOptions) -> Result<SchemaSet, UserError> {
    let dir = opts.crds.clone().or_else(default_crds_dir);
    let mut set = match &dir {
        Some(d) => SchemaSet::load_dir(d)?,
        None => SchemaSet::empty(),
    };
    for c in &opts.cluster_crds {
        if let Err(e) = set.add_crd(c) {
            set.load_warnings.push(e);
        }
    }
    if !opts.cluster_crds.is_empty() {
        set.source = format!("{} + {} CRD(s) from the cluster", set.source, opts.cluster_crds.len());
    }
    Ok(set)
}

/// Run verify: render, validate, lint. The schemas load on their own thread while the roots render.
pub fn run(opts: &VerifyOptions) -> Result<VerifyReport, UserError> {
    std::thread::scope(|s| {
        let loader = s.spawn(|| load_schemas(opts));
        let rendered = render_all(opts)?;
        let schemas = loader
            .join()
            .unwrap_or_else(|_| Err(UserError::failed("loading the CRD schemas crashed")))?;
        finish(rendered, &schemas)
    })
}

/// Run verify with an already loaded schema set (the engine keeps one per cluster).
pub fn run_with(opts: &VerifyOptions, schemas: &SchemaSet) -> Result<VerifyReport, UserError> {
    let rendered = render_all(opts)?;
    finish(rendered, schemas)
}

/// Every root rendered (or read from the cache), before any validation.
struct Rendered {
    repo: PathBuf,
    kversion: String,
    cache_note: Option<String>,
    root_list: Vec<roots::Root>,
    results: Vec<RenderOut>,
}

fn render_all(opts: &VerifyOptions) -> Result<Rendered, UserError> {
    let repo = opts.repo.canonicalize().map_err(|e| {
        UserError::usage(format!("cannot open the fleet repo: {e}"))
            .subject(opts.repo.display().to_string())
            .next("pass --repo DIR (the directory holding clusters/ and apps-shared/)")
    })?;
    crate::fleet::require_fleet_repo(&repo)?;
    let kustomize = Kustomize::find()?;
    let kversion = roots::kustomize_version(&kustomize);
    let cache_dir = opts
        .cache_dir
        .clone()
        .unwrap_or_else(|| repo.join(".fleetctl").join("cache").join("render"));
    // Without a writable cache every root is simply rendered each time.
    let cache_note = std::fs::create_dir_all(&cache_dir)
        .err()
        .map(|e| format!("render cache disabled: cannot create {}: {e}", cache_dir.display()));

    let root_list = roots::discover(&repo);
    let jobs = if opts.jobs == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    } else {
        opts.jobs
    }
    .min(root_list.len().max(1));

    // Render in parallel.
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<RenderOut>>> = Mutex::new(vec![None; root_list.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= root_list.len() {
                    break;
                }
                let r = render_root(&repo, &root_list[i], &kustomize, &kversion, &cache_dir);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    let results: Vec<RenderOut> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("rendered"))
        .collect();

    Ok(Rendered {
        repo,
        kversion,
        cache_note,
        root_list,
        results,
    })
}

fn finish(rendered: Rendered, schemas: &SchemaSet) -> Result<VerifyReport, UserError> {
    let Rendered {
        repo,
        kversion,
        cache_note,
        root_list,
        results,
    } = rendered;
    let mut report = VerifyReport {
        kustomize: kversion,
        schema_source: schemas.source.clone(),
        crds_loaded: schemas.counts().0,
        core_kinds_loaded: schemas.counts().1,
        ..Default::default()
    };
    report.notes.extend(cache_note);
    let mut findings = Vec::new();
    let mut objects = Vec::new();
    let mut closures = Vec::new();
    let mut failed = BTreeSet::new();
    for (i, (root, out)) in root_list.iter().zip(results).enumerate() {
        match out.state {
            CacheState::Hit => report.cache_hits += 1,
            CacheState::Miss => report.cache_misses += 1,
            CacheState::Error => {}
        }
        if let Some(err) = &out.error {
            failed.insert(i);
            let mut f = Finding::new("render", &root.rel, "", err.clone());
            f.root = Some(root.rel.clone());
            findings.push(f);
        }
        report.roots.push(RootResult {
            path: root.rel.clone(),
            kind: root.kind.label().into(),
            cluster: root.kind.cluster().map(str::to_string),
            cache: out.state,
            objects: out.objects.len(),
            millis: out.millis,
        });
        let sources = source_index(&repo, &out.closure);
        for v in out.objects {
            let key = identity_key(&v);
            let file = key
                .as_ref()
                .and_then(|k| sources.get(k).cloned())
                .unwrap_or_else(|| root.rel.clone());
            let mut patches = Vec::new();
            if let Some((kind, name)) = &key {
                for ps in &out.closure.patch_sources {
                    if ps.kind.as_ref().is_some_and(|k| k != kind) || ps.name.as_ref().is_some_and(|n| n != name) {
                        continue;
                    }
                    let f = roots::rel(&repo, &ps.file);
                    patches.push(match &ps.doc {
                        Some(d) => (f, PatchEffect::Merge(d.clone())),
                        None => (f, PatchEffect::Ops(ps.op_paths.clone())),
                    });
                }
            }
            objects.push(RenderedObject {
                root: i,
                value: v,
                file,
                patches,
            });
        }
        closures.push(out.closure);
    }
    // Files of objects no root renders (applied by hand or by a script): validated and linted too.
    let mut all_roots = root_list.clone();
    let closure_refs: Vec<&roots::Closure> = closures.iter().collect();
    for f in roots::loose_files(&repo, &closure_refs) {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(docs) = parse_multi_doc(&text) else {
            continue;
        };
        let docs: Vec<Value> = docs.into_iter().filter(is_k8s_object).collect();
        if docs.is_empty() {
            continue;
        }
        let file = roots::rel(&repo, &f);
        let dir = file.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
        let cluster = file
            .strip_prefix("clusters/")
            .and_then(|r| r.split('/').next())
            .map(str::to_string);
        all_roots.push(Root {
            rel: dir,
            kind: RootKind::Loose {
                cluster,
                file: file.clone(),
            },
        });
        report.loose_files.push(file.clone());
        for v in docs {
            objects.push(RenderedObject {
                root: all_roots.len() - 1,
                value: v,
                file: file.clone(),
                patches: vec![],
            });
        }
    }
    let root_list = all_roots;
    report.loose_files.sort();
    report.objects = objects.len();

    // Schema validation.
    for o in &objects {
        match schemas.validate(&o.value) {
            Outcome::Valid => report.validated += 1,
            Outcome::Invalid(fs) => {
                report.validated += 1;
                for sf in fs {
                    let mut f = Finding::new("schema", o.file_for(&sf.path), o.label(), sf.to_string());
                    f.root = root_path(&root_list[o.root]);
                    findings.push(f);
                }
            }
            Outcome::NotValidated(k) => {
                report.not_validated.insert(k);
            }
        }
    }
    if schemas.is_empty() {
        report.notes.push(format!(
            "no CRDs or core schemas were found, so no object was validated: pass --crds DIR, set ${CRDS_ENV}, \
             or run scripts/fetch-crds.sh (downloads the pinned CRDs into ~/.cache/fleetctl/crds)"
        ));
    }
    for w in &schemas.load_warnings {
        report.notes.push(format!("schema loading: {w}"));
    }

    // Lint rules.
    let mut ctx = rules::Ctx::new(&repo, &root_list, schemas);
    ctx.failed = failed;
    findings.extend(rules::run_all(&ctx, &objects));

    // De-duplicate (an object shared by several roots is reported once) and sort.
    let mut seen = BTreeSet::new();
    findings.retain(|f| seen.insert((f.rule.clone(), f.file.clone(), strip_ns(&f.object), f.message.clone())));
    findings.sort_by(|a, b| (&a.file, &a.rule, &a.object, &a.message).cmp(&(&b.file, &b.rule, &b.object, &b.message)));
    report.findings = findings;
    Ok(report)
}

/// `Kind/ns/name` -> `Kind/name` (the de-duplication key ignores the namespace an overlay sets).
fn strip_ns(object: &str) -> String {
    let parts: Vec<&str> = object.split('/').collect();
    if parts.len() == 3 {
        format!("{}/{}", parts[0], parts[2])
    } else {
        object.to_string()
    }
}

#[derive(Debug, Clone)]
struct RenderOut {
    state: CacheState,
    objects: Vec<Value>,
    error: Option<String>,
    closure: roots::Closure,
    millis: u64,
}

fn render_root(repo: &Path, root: &Root, k: &Kustomize, kversion: &str, cache_dir: &Path) -> RenderOut {
    let start = Instant::now();
    let dir = repo.join(&root.rel);
    let closure = roots::closure(&dir);
    let key = roots::cache_key(repo, root, &closure, kversion);
    let cached = cache_dir.join(format!("{key}.yaml"));
    let mut out = RenderOut {
        state: CacheState::Miss,
        objects: vec![],
        error: None,
        closure,
        millis: 0,
    };
    let text = match std::fs::read_to_string(&cached) {
        Ok(t) => {
            out.state = CacheState::Hit;
            Ok(t)
        }
        Err(_) => k.render_text(&dir).inspect(|t| {
            // Written atomically; a failure to cache is not a failure to verify.
            if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(cache_dir) {
                use std::io::Write;
                if tmp.write_all(t.as_bytes()).is_ok() {
                    let _ = tmp.persist(&cached);
                }
            }
        }),
    };
    match text.and_then(|t| parse_multi_doc(&t)) {
        Ok(objs) => out.objects = objs,
        Err(e) => {
            out.state = CacheState::Error;
            out.error = Some(e.cause);
        }
    }
    out.millis = start.elapsed().as_millis() as u64;
    out
}

/// A Kubernetes object (not a kustomize config or Helm values).
fn is_k8s_object(v: &Value) -> bool {
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    !api.is_empty() && v.get("kind").and_then(Value::as_str).is_some() && !api.starts_with("kustomize.config.k8s.io")
}

/// The `root` of a finding: the kustomization root, or none for a loose file.
pub fn root_path(root: &Root) -> Option<String> {
    match root.kind {
        RootKind::Loose { .. } => None,
        _ => Some(root.rel.clone()),
    }
}

/// (kind, name) of an object.
fn identity_key(v: &Value) -> Option<(String, String)> {
    let kind = v.get("kind")?.as_str()?;
    let name = v.pointer("/metadata/name")?.as_str()?;
    Some((kind.to_string(), name.to_string()))
}

fn lookup<'v>(v: &'v Value, segs: &[delta::Seg]) -> Option<&'v Value> {
    let mut cur = v;
    for s in segs {
        cur = match s {
            delta::Seg::Field(f) => cur.get(f.as_str())?,
            delta::Seg::Index(Some(i)) => cur.get(*i)?,
            delta::Seg::Index(None) => return None,
        };
    }
    Some(cur)
}

fn source_index(repo: &Path, closure: &roots::Closure) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    // Defining files first, patch files only as a fallback.
    let ordered = closure
        .files
        .iter()
        .filter(|f| !closure.patches.contains(*f))
        .chain(closure.patches.iter());
    for f in ordered {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) || roots::KUSTOMIZATION_FILES.contains(&name.as_str()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let Ok(docs) = parse_multi_doc(&text) else {
            continue;
        };
        for d in docs {
            if let Some(k) = identity_key(&d) {
                out.entry(k).or_insert_with(|| roots::rel(repo, f));
            }
        }
    }
    out
}

/// The cluster a root belongs to, for the `hostname-domain` rule.
pub fn root_cluster(root: &Root) -> Option<&str> {
    match &root.kind {
        RootKind::Base { .. } => None,
        k => k.cluster(),
    }
}
