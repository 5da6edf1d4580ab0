//! Rendering each generated Application's source the way the repository's Argo CD would, for
//! the shared-resource check: kustomize with the repo's `kustomize.buildOptions`, a plain
//! directory of manifests otherwise. What cannot be rendered here is said per root, never
//! fatal: a Helm-repository chart, a Helm chart directory, a root using kustomize `helmCharts`
//! when helm is not on PATH. A failed build keeps kustomize's whole error.
//!
//! Renders are cached in the repository's Git directory (`.git/fleetctl/render-cache`) by a
//! hash of the kustomize version, the build options and every input file of the root, so a
//! second run only hashes.

use super::argocfg::{ArgoConfig, BuildOptions};
use super::{GeneratedApp, Source};
use crate::error::UserError;
use crate::fleet::render::{parse_multi_doc, Kustomize};
use crate::verify::roots::{closure, kustomization_file, Closure};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// What became of one source path.
#[derive(Debug, Clone)]
pub enum Outcome {
    Objects(Vec<Value>),
    /// Not rendered offline, and why (a note, not a failure).
    Skipped(String),
    /// The render failed (kustomize's error, or a path that is not a directory).
    Failed(UserError),
}

/// One thing to render: a source path with the build options of its Argo CD.
#[derive(Debug, Clone)]
struct Job {
    path: String,
    chart: Option<String>,
    options: Option<BuildOptions>,
}

/// Everything the renders share: kustomize (found once), helm on PATH, the cache directory.
struct Env {
    kustomize: OnceLock<Result<(Kustomize, String), UserError>>,
    helm: Option<PathBuf>,
    cache: Option<PathBuf>,
}

impl Env {
    fn kustomize(&self) -> Result<&(Kustomize, String), UserError> {
        self.kustomize
            .get_or_init(|| {
                let k = Kustomize::find()?;
                let v = cached_version(&k, self.cache.as_deref());
                Ok((k, v))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// `kustomize version` costs a process start (about 80 ms for kubectl): keep it per binary
/// (path, size, modification time) in the cache directory.
fn cached_version(k: &Kustomize, cache: Option<&Path>) -> String {
    let (Kustomize::Standalone(p) | Kustomize::Kubectl(p)) = k;
    let stamp = std::fs::metadata(p)
        .map(|m| format!("{}:{}:{:?}", p.display(), m.len(), m.modified().ok()))
        .unwrap_or_default();
    let file = cache.map(|c| {
        c.join(format!(
            "kustomize-version-{}",
            hex::encode(Sha256::digest(stamp.as_bytes()))
        ))
    });
    if let Some(v) = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
        return v;
    }
    let v = crate::verify::roots::kustomize_version(k);
    if let Some(f) = file {
        let _ = std::fs::write(f, &v);
    }
    v
}

/// Whether the root (or anything it includes) inflates Helm charts.
fn uses_helm_charts(c: &Closure) -> bool {
    c.files.iter().any(|f| {
        let is_k = f
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| matches!(n, "kustomization.yaml" | "kustomization.yml" | "Kustomization"));
        is_k && std::fs::read_to_string(f).is_ok_and(|t| {
            serde_yaml::from_str::<Value>(&t).is_ok_and(|v| {
                v.get("helmCharts")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
                    || v.get("helmChartInflationGenerator").is_some()
            })
        })
    })
}

fn cache_key(repo: &Path, rel: &str, c: &Closure, kversion: &str, options: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(b"fleetctl-appset-render-v1\0");
    h.update(kversion.as_bytes());
    h.update(b"\0");
    h.update(options.join(" ").as_bytes());
    h.update(b"\0");
    h.update(rel.as_bytes());
    for f in &c.files {
        h.update(b"\0");
        h.update(f.strip_prefix(repo).unwrap_or(f).to_string_lossy().as_bytes());
        match std::fs::read(f) {
            Ok(bytes) => {
                h.update((bytes.len() as u64).to_le_bytes());
                h.update(&bytes);
            }
            Err(_) => h.update(b"unreadable"),
        }
    }
    for o in &c.other {
        h.update(b"\0ref\0");
        h.update(o.as_bytes());
    }
    hex::encode(h.finalize())
}

fn kustomize_root(env: &Env, repo: &Path, job: &Job, dir: &Path) -> Outcome {
    let c = closure(dir);
    let helm = uses_helm_charts(&c);
    // Without an Argo CD config in Git, a root with helmCharts renders as an Argo CD that can
    // render it must be configured: with --enable-helm. With a config that lacks it, kustomize
    // fails as Argo CD's repo-server would ("must specify --enable-helm").
    let options: Vec<String> = match &job.options {
        Some(o) => o.options.clone(),
        None if helm => vec!["--enable-helm".into()],
        None => Vec::new(),
    };
    if helm && env.helm.is_none() && options.iter().any(|o| o == "--enable-helm") {
        return Outcome::Skipped(
            "uses kustomize helmCharts and helm is not on PATH: shared-resource check skipped for this root \
             (install helm to check it)"
                .into(),
        );
    }
    let (k, kversion) = match env.kustomize() {
        Ok(k) => k,
        Err(e) => return Outcome::Failed(e),
    };
    let cached = env.cache.as_ref().map(|d| {
        d.join(format!(
            "appset-{}.yaml",
            cache_key(repo, &job.path, &c, kversion, &options)
        ))
    });
    let text = match cached.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
        Some(t) => t,
        None => match k.render_text_args(dir, &options) {
            Ok(t) => {
                if let Some(f) = &cached {
                    store(f, &t);
                }
                t
            }
            Err(mut e) => {
                if helm && !options.iter().any(|o| o == "--enable-helm") {
                    let from = job.options.as_ref().map(|o| o.file.as_str()).unwrap_or("argocd-cm");
                    e = e.next(format!(
                        "this root uses helmCharts: add --enable-helm to kustomize.buildOptions ({from})"
                    ));
                }
                return Outcome::Failed(e);
            }
        },
    };
    match parse_multi_doc(&text) {
        Ok(objs) => Outcome::Objects(objs),
        Err(e) => Outcome::Failed(e.subject(dir.display().to_string())),
    }
}

/// Written atomically; a failure to cache is not a failure to render.
fn store(file: &Path, text: &str) {
    let Some(dir) = file.parent() else { return };
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
        use std::io::Write;
        if tmp.write_all(text.as_bytes()).is_ok() {
            let _ = tmp.persist(file);
        }
    }
}

/// A directory Application: the .yaml/.yml/.json files of the directory itself.
fn plain_directory(dir: &Path) -> Result<Vec<Value>, UserError> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| UserError::failed(format!("cannot read directory: {e}")).subject(dir.display().to_string()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            p.is_file()
                && !name.starts_with('.')
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| UserError::failed(format!("cannot read manifest: {e}")).subject(f.display().to_string()))?;
        out.extend(parse_multi_doc(&text).map_err(|e| e.subject(f.display().to_string()))?);
    }
    Ok(out)
}

/// How Argo CD would render one source.
fn render_job(env: &Env, repo: &Path, job: &Job) -> Outcome {
    if let Some(chart) = &job.chart {
        return Outcome::Skipped(format!("chart '{chart}' from a Helm repository: not rendered offline"));
    }
    let dir = repo.join(&job.path);
    if job.path.is_empty() || !dir.is_dir() {
        return Outcome::Failed(
            UserError::usage("the Application's source.path is not a directory of the repository")
                .subject(dir.display().to_string()),
        );
    }
    if kustomization_file(&dir).is_some() {
        return kustomize_root(env, repo, job, &dir);
    }
    if dir.join("Chart.yaml").is_file() {
        return Outcome::Skipped("a Helm chart directory: not rendered offline".into());
    }
    match plain_directory(&dir) {
        Ok(objs) => Outcome::Objects(objs),
        Err(e) => Outcome::Failed(e),
    }
}

/// Where renders are cached: inside the Git directory of the work tree holding `repo`
/// (`.git/fleetctl/render-cache`; a linked worktree's own git dir), where they never show in
/// `git status` (phase 4 refuses a dirty tree); outside Git in `repo/.fleetctl/cache/render`.
fn cache_dir(repo: &Path) -> PathBuf {
    let Some(top) = repo.ancestors().find(|d| d.join(".git").exists()) else {
        return repo.join(".fleetctl").join("cache").join("render");
    };
    let dot_git = top.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        // A linked worktree or submodule: `.git` is a file `gitdir: <path>`.
        std::fs::read_to_string(&dot_git)
            .ok()
            .and_then(|t| t.trim().strip_prefix("gitdir:").map(|p| top.join(p.trim())))
            .unwrap_or(dot_git)
    };
    git_dir.join("fleetctl").join("render-cache")
}

/// The key a source's render is found under: its path, or `repoURL chart revision` for a
/// chart from a Helm repository.
pub fn source_key(src: &Source) -> String {
    match (&src.chart, src.path.is_empty()) {
        (Some(c), true) => format!("{} {c} {}", src.repo_url, src.target_revision),
        _ => src.path.clone(),
    }
}

/// Render every distinct source of `apps` once, in parallel (at most 4 at a time), keyed by
/// [`source_key`].
pub fn render_sources(repo: &Path, apps: &[GeneratedApp]) -> HashMap<String, Outcome> {
    let config = ArgoConfig::discover(repo);
    let mut jobs: Vec<(String, Job)> = Vec::new();
    for a in apps {
        for src in a.rendered_sources() {
            let key = source_key(src);
            if jobs.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let job = Job {
                path: src.path.clone(),
                chart: src.chart.clone().filter(|_| src.path.is_empty()),
                options: config.for_cluster(a.cluster.as_deref()).cloned(),
            };
            jobs.push((key, job));
        }
    }
    let cache = cache_dir(repo);
    let env = Env {
        kustomize: OnceLock::new(),
        helm: which::which("helm").ok(),
        cache: std::fs::create_dir_all(&cache).is_ok().then_some(cache),
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<HashMap<String, Outcome>> = Mutex::new(HashMap::new());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(4)
        .min(jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((key, job)) = jobs.get(i) else { break };
                let r = render_job(&env, repo, job);
                results.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), r);
            });
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner())
}
