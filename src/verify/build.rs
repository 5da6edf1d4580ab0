//! Rendering every root with the real kustomize, in parallel, behind the content-hash render cache.

use super::layout::Layout;
use super::roots::{self, Root};
use super::{CacheState, VerifyOptions};
use crate::error::UserError;
use crate::fleet::render::{parse_multi_doc, BuildOptions, Kustomize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// Every root rendered (or read from the cache), before any validation.
pub(super) struct Rendered {
    pub(super) repo: PathBuf,
    pub(super) kversion: String,
    pub(super) cache_note: Option<String>,
    pub(super) root_list: Vec<roots::Root>,
    pub(super) results: Vec<RenderOut>,
    pub(super) layout: Layout,
    /// The repo's files verify looks at ([`super::layout::repo_files`]).
    pub(super) files: Vec<PathBuf>,
    /// How Argo CD builds the roots (flags from Git, helm).
    pub(super) build: BuildOptions,
}

/// The render cache directory: `--cache-dir`, else `<repo>/.fleetctl/cache/render`.
pub(super) fn cache_dir(opts: &VerifyOptions) -> Result<PathBuf, UserError> {
    if let Some(d) = &opts.cache_dir {
        return Ok(d.clone());
    }
    let repo = opts.repo.canonicalize().map_err(|e| {
        UserError::usage(format!("cannot open the fleet repo: {e}"))
            .subject(opts.repo.display().to_string())
            .next("pass --repo DIR (the directory holding clusters/ and apps-shared/)")
    })?;
    let dir = repo.join(".fleetctl");
    ignore_itself(&dir);
    Ok(dir.join("cache").join("render"))
}

/// Make `<repo>/.fleetctl/` ignore itself (a `.gitignore` of `*`), so its cache never shows in `git status`:
/// `fleetctl migrate` and `share` refuse a dirty tree, and verify is the safety net run just before them.
fn ignore_itself(dir: &Path) {
    let f = dir.join(".gitignore");
    if !f.exists() && std::fs::create_dir_all(dir).is_ok() {
        let _ = std::fs::write(f, "# fleetctl's cache and state: never committed\n*\n");
    }
}

pub(super) fn render_all(opts: &VerifyOptions) -> Result<Rendered, UserError> {
    let repo = opts.repo.canonicalize().map_err(|e| {
        UserError::usage(format!("cannot open the fleet repo: {e}"))
            .subject(opts.repo.display().to_string())
            .next("pass --repo DIR (the directory holding clusters/ and apps-shared/)")
    })?;
    let files = super::layout::repo_files(&repo);
    let layout = Layout::of(&repo, &files).ok_or_else(|| {
        UserError::usage("not a fleet repo: no clusters/, no apps-shared/ and no kustomization in it")
            .subject(repo.display().to_string())
            .next("pass --repo DIR (the directory holding clusters/ and apps-shared/, or a repo of kustomizations)")
    })?;
    let kustomize = Kustomize::find()?;
    let cache_dir = cache_dir(opts)?;
    // Without a writable cache every root is simply rendered each time.
    let cache_note = std::fs::create_dir_all(&cache_dir)
        .err()
        .map(|e| format!("render cache disabled: cannot create {}: {e}", cache_dir.display()));
    // Asking kustomize its version is a process per run: remembered for the same binary.
    let program = match &kustomize {
        Kustomize::Standalone(p) | Kustomize::Kubectl(p) => p,
    };
    let kversion = match super::memo::stat_fingerprint(program) {
        Some(fp) => super::memo::remember(&cache_dir, "kustomize-version", &fp, || {
            roots::kustomize_version(&kustomize)
        }),
        None => roots::kustomize_version(&kustomize),
    };

    let root_list = roots::discover(&repo, layout, &files);
    let jobs = if opts.jobs == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    } else {
        opts.jobs
    }
    .min(root_list.len().max(1));

    let yaml: Vec<PathBuf> = files.iter().filter(|f| super::layout::is_yaml(f)).cloned().collect();
    let build = BuildOptions::from_repo(&yaml);
    let renderer = Renderer {
        repo: &repo,
        kustomize: &kustomize,
        kversion: &kversion,
        cache_dir: &cache_dir,
        build: &build,
        helm_version: OnceLock::new(),
    };
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
                let r = renderer.render_root(&root_list[i]);
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
        layout,
        files,
        build,
    })
}

#[derive(Debug, Clone)]
pub(super) struct RenderOut {
    pub(super) state: CacheState,
    pub(super) objects: Vec<Value>,
    /// Why the root has no objects: (rule, message).
    pub(super) error: Option<(&'static str, String)>,
    pub(super) closure: roots::Closure,
    pub(super) millis: u64,
}

/// Everything a root's build needs, shared by the render workers.
pub(super) struct Renderer<'a> {
    pub(super) repo: &'a Path,
    pub(super) kustomize: &'a Kustomize,
    pub(super) kversion: &'a str,
    pub(super) cache_dir: &'a Path,
    pub(super) build: &'a BuildOptions,
    /// `helm version`, asked once, when a root first needs helm (part of that root's cache key).
    pub(super) helm_version: OnceLock<String>,
}

impl Renderer<'_> {
    /// The build options for a root: Argo CD's; with `helmCharts` and no Argo CD configuration in Git,
    /// `--enable-helm` is assumed (the report says so).
    fn options_for(&self, closure: &roots::Closure) -> BuildOptions {
        if !closure.helm_charts.is_empty() && self.build.source.is_none() {
            self.build.with_helm()
        } else {
            self.build.clone()
        }
    }

    pub(super) fn render_root(&self, root: &Root) -> RenderOut {
        let start = Instant::now();
        let dir = self.repo.join(&root.rel);
        let closure = roots::closure(&dir);
        let opts = self.options_for(&closure);
        let helm = !closure.helm_charts.is_empty() && opts.enables_helm();
        let mut out = RenderOut {
            state: CacheState::Miss,
            objects: vec![],
            error: None,
            closure,
            millis: 0,
        };
        if helm && opts.helm.is_none() {
            out.state = CacheState::Error;
            out.error = Some((
                "helm-unavailable",
                format!(
                    "helmCharts ({}) need helm, which is not on PATH: this root was not rendered, so its objects \
                     were not validated or linted; install helm (https://helm.sh/docs/intro/install/) and re-run",
                    out.closure.helm_charts.join(", ")
                ),
            ));
            out.millis = start.elapsed().as_millis() as u64;
            return out;
        }
        let mut version = format!("{}\0{}", self.kversion, opts.flags.join(" "));
        if helm {
            version.push_str(self.helm_version.get_or_init(|| helm_version(opts.helm.as_deref())));
        }
        let key = roots::cache_key(self.repo, root, &out.closure, &version);
        let cached = self.cache_dir.join(format!("{key}.yaml"));
        let text = match std::fs::read_to_string(&cached) {
            Ok(t) => {
                out.state = CacheState::Hit;
                Ok(t)
            }
            Err(_) => self.kustomize.render_text_with(&dir, &opts).inspect(|t| {
                // Written atomically; a failure to cache is not a failure to verify.
                if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(self.cache_dir) {
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
                out.error = Some(("render", e.cause));
            }
        }
        out.millis = start.elapsed().as_millis() as u64;
        out
    }
}

/// `helm version --short` (part of the cache key of roots that inflate charts).
fn helm_version(helm: Option<&Path>) -> String {
    let Some(h) = helm else { return String::new() };
    duct::cmd(h, ["version", "--short"])
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .read()
        .map(|v| format!("\0{} {}", h.display(), v.trim()))
        .unwrap_or_default()
}
