//! `fleetctl verify`: the offline safety net for the fleet repo.
//!
//! Renders every kustomization root with the real kustomize (in parallel, behind a content-hash cache:
//! [`build`]), validates every rendered object against CRD and core schemas ([`crate::schema`]) and runs
//! the fleet's lint rules ([`rules`]). The format of the report ([`report`]) is documented in docs/verify.md.

mod build;
pub mod delta;
pub mod layout;
mod memo;
mod objects;
mod report;
pub mod roots;
pub mod rules;

pub use objects::{object_label, PatchEffect, RenderedObject};
pub use report::{CacheState, Finding, RootResult, VerifyReport};

use crate::error::UserError;
use crate::fleet::render::parse_multi_doc;
use crate::schema::{Outcome, SchemaSet};
use build::{RenderOut, Rendered};
use layout::Layout;
use roots::{Root, RootKind};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

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
    let index = memo::dir(&build::cache_dir(opts)?).join("schemas");
    let mut set = match &dir {
        Some(d) => SchemaSet::load_dir_indexed(d, &index)?,
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
        let rendered = build::render_all(opts)?;
        let schemas = loader
            .join()
            .unwrap_or_else(|_| Err(UserError::failed("loading the CRD schemas crashed")))?;
        finish(rendered, &schemas)
    })
}

/// Run verify with an already loaded schema set (the engine keeps one per cluster).
pub fn run_with(opts: &VerifyOptions, schemas: &SchemaSet) -> Result<VerifyReport, UserError> {
    let rendered = build::render_all(opts)?;
    finish(rendered, schemas)
}

fn finish(rendered: Rendered, schemas: &SchemaSet) -> Result<VerifyReport, UserError> {
    let Rendered {
        repo,
        kversion,
        cache_note,
        root_list,
        results,
        layout,
        files,
        build,
    } = rendered;
    let mut report = VerifyReport {
        kustomize: kversion,
        schema_source: schemas.source.clone(),
        crds_loaded: schemas.counts().0,
        core_kinds_loaded: schemas.counts().1,
        ..Default::default()
    };
    report.notes.extend(cache_note);
    report.notes.extend(build_note(&build, &repo, &results));
    let mut findings = Vec::new();
    let mut objects = Vec::new();
    let mut closures = Vec::new();
    let mut failed = BTreeSet::new();
    for (i, (root, out)) in root_list.iter().zip(results).enumerate() {
        if let Some(f) = record_root(&mut report, root, &out) {
            failed.insert(i);
            findings.push(f);
        }
        objects.extend(objects::from_root(&repo, i, root, out.objects, &out.closure));
        closures.push(out.closure);
    }
    // Files of objects no root renders (applied by hand or by a script): validated and linted too.
    let mut root_list = root_list;
    let input = UnreadInput {
        repo: &repo,
        layout,
        files: &files,
        closures: &closures,
    };
    let unrendered = unread_files(&input, &mut root_list, &mut objects, &mut report);
    report.objects = objects.len();
    if layout == Layout::Legacy {
        report.notes.push(format!(
            "legacy layout (no clusters/): the top-level trees are checked as cluster {}; hostnames are not \
             checked against an appsDomain until clusters/{0}/cluster.yaml exists (phase 4 writes it)",
            layout::LEGACY_CLUSTER
        ));
    }

    findings.extend(validate(&objects, &root_list, schemas, &mut report));

    // Lint rules.
    let yaml: Vec<PathBuf> = files
        .iter()
        .filter(|f| layout.in_fleet_trees(&roots::rel(&repo, f)))
        .cloned()
        .collect();
    let mut ctx = rules::Ctx::new(&repo, layout, &root_list, schemas);
    ctx.failed = failed;
    ctx.files = &yaml;
    ctx.unrendered = unrendered;
    findings.extend(rules::run_all(&ctx, &objects));

    // De-duplicate (an object shared by several roots is reported once) and sort.
    let mut seen = BTreeSet::new();
    findings.retain(|f| seen.insert((f.rule.clone(), f.file.clone(), strip_ns(&f.object), f.message.clone())));
    findings.sort_by(|a, b| (&a.file, &a.rule, &a.object, &a.message).cmp(&(&b.file, &b.rule, &b.object, &b.message)));
    report.findings = findings;
    Ok(report)
}

/// What the report says about how helm roots were built.
fn build_note(build: &crate::fleet::render::BuildOptions, repo: &Path, results: &[RenderOut]) -> Option<String> {
    let helm_roots = results.iter().filter(|r| !r.closure.helm_charts.is_empty()).count();
    match &build.source {
        Some(src) => Some(format!(
            "kustomize build options {:?} from the repo's Argo CD configuration ({})",
            build.flags.join(" "),
            src.strip_prefix(&format!("{}/", repo.display())).unwrap_or(src)
        )),
        None if helm_roots > 0 => Some(format!(
            "no kustomize.buildOptions in the repo's Argo CD configuration (argocd-cm, argo-cd Helm values, ArgoCD \
             resource): {helm_roots} root(s) with helmCharts rendered with --enable-helm"
        )),
        None => None,
    }
}

/// Count one rendered root in the report; its `render` finding when kustomize failed.
fn record_root(report: &mut VerifyReport, root: &Root, out: &RenderOut) -> Option<Finding> {
    match out.state {
        CacheState::Hit => report.cache_hits += 1,
        CacheState::Miss => report.cache_misses += 1,
        CacheState::Error => {}
    }
    report.roots.push(RootResult {
        path: root.rel.clone(),
        kind: root.kind.label().into(),
        cluster: root.kind.cluster().map(str::to_string),
        cache: out.state,
        objects: out.objects.len(),
        millis: out.millis,
    });
    let (rule, err) = out.error.as_ref()?;
    let mut f = Finding::new(rule, &root.rel, "", err.clone());
    f.root = Some(root.rel.clone());
    Some(f)
}

/// The YAML files no root reads: in the fleet trees each one holding objects becomes a `Loose` pseudo-root
/// (applied by hand or by a script, so validated and linted); elsewhere they are returned, with their
/// objects, for the plaintext-Secret scan.
fn unread_files(
    rendered: &UnreadInput,
    root_list: &mut Vec<Root>,
    objects: &mut Vec<RenderedObject>,
    report: &mut VerifyReport,
) -> Vec<(String, Vec<Value>)> {
    let UnreadInput {
        repo,
        layout,
        files,
        closures,
    } = rendered;
    let read: HashSet<&PathBuf> = closures.iter().flat_map(|c| c.read.iter()).collect();
    let mut elsewhere = Vec::new();
    for f in files.iter() {
        if !layout::is_yaml(f) || layout::is_kustomization(f) || read.contains(f) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let Ok(docs) = parse_multi_doc(&text) else {
            continue;
        };
        let docs: Vec<Value> = docs.into_iter().filter(is_k8s_object).collect();
        if docs.is_empty() {
            continue;
        }
        let file = roots::rel(repo, f);
        if !layout.in_fleet_trees(&file) {
            elsewhere.push((file, docs));
            continue;
        }
        let dir = file.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
        let cluster = match layout {
            Layout::Legacy => Some(layout::LEGACY_CLUSTER.to_string()),
            Layout::Fleet => file
                .strip_prefix("clusters/")
                .and_then(|r| r.split('/').next())
                .map(str::to_string),
        };
        root_list.push(Root {
            rel: dir,
            kind: RootKind::Loose {
                cluster,
                file: file.clone(),
            },
        });
        report.loose_files.push(file.clone());
        for v in docs {
            objects.push(RenderedObject {
                root: root_list.len() - 1,
                value: v,
                file: file.clone(),
                patches: vec![],
            });
        }
    }
    report.loose_files.sort();
    elsewhere
}

/// What [`unread_files`] looks at.
struct UnreadInput<'a> {
    repo: &'a Path,
    layout: Layout,
    files: &'a [PathBuf],
    closures: &'a [roots::Closure],
}

/// Validate every object against its schema; the `schema` findings.
fn validate(
    objects: &[RenderedObject],
    root_list: &[Root],
    schemas: &SchemaSet,
    report: &mut VerifyReport,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for o in objects {
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
    findings
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

/// The cluster a root belongs to, for the `hostname-domain` rule.
pub fn root_cluster(root: &Root) -> Option<&str> {
    match &root.kind {
        RootKind::Base { .. } => None,
        k => k.cluster(),
    }
}
