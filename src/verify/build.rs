//! Rendering every root with the real kustomize, in parallel, behind the content-hash render cache.

use super::layout::Layout;
use super::roots::{self, Root};
use super::{CacheState, VerifyOptions};
use crate::error::UserError;
use crate::fleet::render::{parse_multi_doc, Kustomize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
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
    let kversion = roots::kustomize_version(&kustomize);
    let cache_dir = opts
        .cache_dir
        .clone()
        .unwrap_or_else(|| repo.join(".fleetctl").join("cache").join("render"));
    // Without a writable cache every root is simply rendered each time.
    let cache_note = std::fs::create_dir_all(&cache_dir)
        .err()
        .map(|e| format!("render cache disabled: cannot create {}: {e}", cache_dir.display()));

    let root_list = roots::discover(&repo, layout, &files);
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
        layout,
        files,
    })
}

#[derive(Debug, Clone)]
pub(super) struct RenderOut {
    pub(super) state: CacheState,
    pub(super) objects: Vec<Value>,
    pub(super) error: Option<String>,
    pub(super) closure: roots::Closure,
    pub(super) millis: u64,
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
