//! Which repo directories a set of Argo CD objects makes live: an Application syncs its `spec.source.path`
//! (and `spec.sources[].path`), an ApplicationSet the paths of the Applications it generates (expanded
//! offline, `src/appset`), and each of those directories may hold more Applications (app-of-apps), followed
//! a few levels deep. What a step reports here is what preflight holds against the decisions that govern it
//! (`engine::gate`).

use crate::appset::{self, AppSetFile};
use crate::engine::kind::LivePath;
use crate::fleet::render::Kustomize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// How deep app-of-apps chains are followed (root -> layer ApplicationSets -> Applications -> their objects).
const DEPTH: usize = 4;

/// The directories `objects` make live, each with the chain that syncs it; `via` names where they come from.
pub fn live_paths(repo: &Path, objects: &[Value], via: &str) -> Vec<LivePath> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let kustomize = Kustomize::find().ok();
    walk(repo, kustomize.as_ref(), objects, via, 0, &mut seen, &mut out);
    out
}

fn str_at<'a>(o: &'a Value, p: &str) -> &'a str {
    o.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// (name, path) of the Applications an object stands for: itself, or what an ApplicationSet generates.
fn synced_paths(repo: &Path, o: &Value) -> Vec<(String, String)> {
    let name = str_at(o, "/metadata/name").to_string();
    match (str_at(o, "/apiVersion").starts_with("argoproj.io/"), str_at(o, "/kind")) {
        (true, "Application") => {
            let mut paths: Vec<String> = o
                .pointer("/spec/sources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .chain(o.pointer("/spec/source"))
                .filter_map(|s| s.get("path").and_then(Value::as_str).map(str::to_string))
                .collect();
            paths.dedup();
            paths.into_iter().map(|p| (format!("Application {name}"), p)).collect()
        }
        (true, "ApplicationSet") => {
            let ns = str_at(o, "/metadata/namespace");
            let file = AppSetFile::in_cluster(ns, &name, o.clone());
            appset::generate(repo, std::slice::from_ref(&file))
                .unwrap_or_default()
                .into_iter()
                .map(|a| {
                    (
                        format!("ApplicationSet {name} -> Application {}", a.name),
                        a.source.path,
                    )
                })
                .collect()
        }
        _ => vec![],
    }
}

fn walk(
    repo: &Path,
    kustomize: Option<&Kustomize>,
    objects: &[Value],
    via: &str,
    depth: usize,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<LivePath>,
) {
    for o in objects {
        for (how, path) in synced_paths(repo, o) {
            let path = path.trim_end_matches('/').to_string();
            if path.is_empty() || !repo.join(&path).is_dir() || !seen.insert(path.clone()) {
                continue;
            }
            let chain = format!("{via} -> {how}");
            out.push(LivePath {
                path: path.clone(),
                via: chain.clone(),
            });
            if depth + 1 < DEPTH {
                if let Some(objs) = kustomize.and_then(|k| k.render(&repo.join(&path)).ok()) {
                    walk(repo, kustomize, &objs, &chain, depth + 1, seen, out);
                }
            }
        }
    }
}
