//! Kustomizations across the move: the local paths they name (`resources`, `components`, patches,
//! generators' files, `helmCharts` values, `helmGlobals.chartHome`, ...) are repointed where a move changed
//! the relative way from the kustomization to its target; and each kustomization root is compared before
//! and after (gate (c)).
//!
//! A root whose inputs are byte-identical at the same relative places on both sides (the files under it,
//! and whatever its kustomizations reach with `../`) gives identical output, so it is not rendered twice.
//! Any other root is rendered on both sides with the real kustomize (`--enable-helm` when it uses
//! `helmCharts` and helm is on PATH) and the outputs compared once the "before" side's repointed paths are
//! mapped. Without helm, a `helmCharts` root is compared by its inputs, and the gate says so.

use super::plan::Plan;
use super::rewrite;
use super::tree::{self, Tree};
use crate::fleet::render::Kustomize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

pub const NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The kustomization file of a directory, if it has one.
pub fn file_in(t: &Tree, dir: &str) -> Option<String> {
    NAMES
        .iter()
        .map(|n| rel_join(dir, n))
        .find(|f| t.exists(f) && !t.is_dir(f))
}

fn rel_join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Every kustomization file of a tree.
pub fn all_files(t: &Tree) -> Vec<String> {
    t.files
        .iter()
        .filter(|f| NAMES.contains(&f.rsplit('/').next().unwrap_or("")))
        .cloned()
        .collect()
}

fn parse(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or(Value::Null)
}

/// The local paths a kustomization names, as written (URLs and inline patches left out).
pub fn local_refs(k: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str) {
            let remote =
                s.contains("://") || s.starts_with("github.com/") || s.starts_with("git@") || s.contains("?ref=");
            if !remote && !s.contains('\n') && !s.trim().is_empty() {
                out.push(s.trim().to_string());
            }
        }
    };
    for key in [
        "resources",
        "bases",
        "components",
        "crds",
        "patchesStrategicMerge",
        "configurations",
        "generators",
        "transformers",
        "validators",
    ] {
        for v in k.get(key).and_then(Value::as_array).into_iter().flatten() {
            push(Some(v));
        }
    }
    for key in ["patches", "patchesJson6902", "replacements"] {
        for v in k.get(key).and_then(Value::as_array).into_iter().flatten() {
            push(v.get("path"));
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for g in k.get(key).and_then(Value::as_array).into_iter().flatten() {
            for f in g.get("files").and_then(Value::as_array).into_iter().flatten() {
                let s = f.as_str().unwrap_or("");
                let path = s.split_once('=').map(|(_, p)| p).unwrap_or(s);
                push(Some(&Value::String(path.to_string())));
            }
            for e in g.get("envs").and_then(Value::as_array).into_iter().flatten() {
                push(Some(e));
            }
            push(g.get("env"));
        }
    }
    for h in k.get("helmCharts").and_then(Value::as_array).into_iter().flatten() {
        push(h.get("valuesFile"));
        for v in h
            .get("additionalValuesFiles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            push(Some(v));
        }
    }
    push(k.pointer("/helmGlobals/chartHome"));
    push(k.pointer("/openapi/path"));
    out
}

/// Whether a kustomization renders Helm charts.
pub fn uses_helm(k: &Value) -> bool {
    k.get("helmCharts")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

/// Repoint the relative paths of one kustomization whose file (or whose targets) moved. Returns the new
/// text and the changes (`old -> new`).
pub fn rewrite_refs(
    text: &str,
    plan: &Plan,
    before: &Tree,
    before_file: &str,
    after_file: &str,
) -> (String, Vec<String>) {
    let k = parse(text);
    let (old_dir, new_dir) = (tree::parent(before_file), tree::parent(after_file));
    let mut out = text.to_string();
    let mut changes = Vec::new();
    let mut seen = BTreeSet::new();
    for r in local_refs(&k) {
        if !seen.insert(r.clone()) {
            continue;
        }
        let Some(target) = tree::join(old_dir, &r) else {
            continue;
        };
        if !before.exists(&target) {
            continue;
        }
        let new_rel = tree::relative(new_dir, &plan.map(&target));
        let same = tree::join(new_dir, &r).as_deref() == Some(plan.map(&target).as_str());
        if same {
            continue;
        }
        out = replace_scalar(&out, &r, &new_rel);
        changes.push(format!("{r} -> {new_rel}"));
    }
    (out, changes)
}

/// Replace a YAML scalar value wherever it stands alone (`- x`, `key: x`, `k=x`, quoted or not).
fn replace_scalar(text: &str, old: &str, new: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut l = line.to_string();
        let mut from = 0;
        while let Some(i) = l[from..].find(old).map(|i| i + from) {
            let before_ok = l[..i].ends_with([' ', '"', '\'', '=', '\t']);
            let after = &l[i + old.len()..];
            let after_ok = after.is_empty() || after.starts_with(['"', '\'', ' ', '\n', '\r', '#', ',', ']']);
            if before_ok && after_ok {
                l.replace_range(i..i + old.len(), new);
                from = i + new.len();
            } else {
                from = i + old.len();
            }
        }
        out.push_str(&l);
    }
    out
}

/// One kustomization root's inputs: the kustomization files it reaches and every file they name (a Helm
/// chart home whole), by their path relative to the root, with a hash of their bytes.
fn inputs(t: &Tree, root: &str) -> (BTreeMap<String, String>, bool) {
    let mut files: BTreeSet<String> = BTreeSet::new();
    let mut seen_dirs: BTreeSet<String> = BTreeSet::new();
    let mut queue = vec![root.to_string()];
    let mut helm = false;
    while let Some(d) = queue.pop() {
        if !seen_dirs.insert(d.clone()) {
            continue;
        }
        let Some(kf) = file_in(t, &d) else { continue };
        files.insert(kf.clone());
        let k = parse(&t.read(&kf).unwrap_or_default());
        if uses_helm(&k) {
            helm = true;
            let home = k
                .pointer("/helmGlobals/chartHome")
                .and_then(Value::as_str)
                .unwrap_or("charts");
            if let Some(h) = tree::join(&d, home) {
                files.extend(t.files_under(&h).cloned());
            }
        }
        for r in local_refs(&k) {
            let Some(target) = tree::join(&d, &r) else { continue };
            if t.is_dir(&target) {
                queue.push(target);
            } else if t.exists(&target) {
                files.insert(target);
            }
        }
    }
    let map = files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(t.root.join(&f)).unwrap_or_default();
            (tree::relative(root, &f), hex::encode(Sha256::digest(&bytes)))
        })
        .collect();
    (map, helm)
}

/// How one root compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compared {
    /// Same input bytes at the same relative places: the output cannot differ.
    SameInputs,
    /// Rendered on both sides; identical once the repointed paths are mapped.
    Rendered,
    /// Uses helmCharts, helm is not on PATH: inputs identical once repointed paths are mapped.
    HelmByInputs,
    /// Did not render before the move (so it is not required to after).
    BrokenBefore,
    /// A finding: it no longer renders, or renders differently.
    Differs(String),
}

/// Compare one kustomization root (a directory, in "before" coordinates).
pub fn compare_root(before: &Tree, after: &Tree, plan: &Plan, root: &str, helm_on_path: bool) -> Compared {
    let new_root = plan.map(root);
    let (bi, helm) = inputs(before, root);
    let (ai, _) = inputs(after, &new_root);
    if bi == ai {
        return Compared::SameInputs;
    }
    if helm && !helm_on_path {
        return compare_inputs_mapped(before, after, plan, root, &new_root);
    }
    let b = render(before, root, helm);
    let a = render(after, &new_root, helm);
    match (b, a) {
        (Err(_), _) => Compared::BrokenBefore,
        (Ok(_), Err(e)) => Compared::Differs(format!("no longer renders: {e}")),
        (Ok(b), Ok(a)) => {
            let mapped = normalize_render(&b, plan);
            if mapped == a {
                Compared::Rendered
            } else {
                Compared::Differs(diff_excerpt(&mapped, &a))
            }
        }
    }
}

/// Without helm: the root's files, with the before side's repointed paths mapped, must equal the after side's.
fn compare_inputs_mapped(before: &Tree, after: &Tree, plan: &Plan, root: &str, new_root: &str) -> Compared {
    let (bi, _) = inputs(before, root);
    let (ai, _) = inputs(after, new_root);
    if bi.keys().collect::<Vec<_>>() != ai.keys().collect::<Vec<_>>() {
        let missing: Vec<&String> = bi.keys().filter(|k| !ai.contains_key(*k)).collect();
        return Compared::Differs(format!(
            "helm is not on PATH, and its inputs moved apart: {} no longer at the same relative place",
            missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    for (rel, h) in &bi {
        if ai.get(rel) == Some(h) {
            continue;
        }
        let bf = tree::join(root, rel).unwrap_or_default();
        let af = tree::join(new_root, rel).unwrap_or_default();
        let (bt, at) = (
            before.read(&bf).unwrap_or_default(),
            after.read(&af).unwrap_or_default(),
        );
        let expected = super::apply::rewrite_file(before, plan, &bf, &af, &bt, &[])
            .map(|r| r.0)
            .unwrap_or(bt);
        if expected != at {
            return Compared::Differs(format!("helm is not on PATH, and {af} changed beyond repointed paths"));
        }
    }
    Compared::HelmByInputs
}

/// The "before" side of a comparison, with what the move repoints mapped: Application and ApplicationSet
/// paths (and their path-segment indices), manifest-generate-paths.
pub fn normalize_render(text: &str, plan: &Plan) -> String {
    rewrite::rewrite_manifest(text, plan, "-")
        .map(|r| r.text)
        .unwrap_or_else(|_| text.to_string())
}

fn render(t: &Tree, dir: &str, helm: bool) -> Result<String, String> {
    let k = Kustomize::find().map_err(|e| e.cause)?;
    let path = t.root.join(dir);
    let mut args: Vec<std::ffi::OsString> = match &k {
        Kustomize::Standalone(_) => vec!["build".into()],
        Kustomize::Kubectl(_) => vec!["kustomize".into()],
    };
    if helm {
        args.push("--enable-helm".into());
    }
    args.push(path.into_os_string());
    let prog = match &k {
        Kustomize::Standalone(p) | Kustomize::Kubectl(p) => p.clone(),
    };
    let out = duct::cmd(prog, args)
        .env("GOGC", "off")
        .env("GOMEMLIMIT", "512MiB")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("cannot run kustomize: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first lines that differ, for a finding.
fn diff_excerpt(before: &str, after: &str) -> String {
    let d = similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(0)
        .to_string();
    let lines: Vec<&str> = d
        .lines()
        .filter(|l| l.starts_with(['+', '-']) && !l.starts_with("+++") && !l.starts_with("---"))
        .take(6)
        .collect();
    format!("renders differently: {}", lines.join(" | "))
}

/// Every kustomization root of a tree: directories with a kustomization that is not a Component.
pub fn roots(t: &Tree) -> Vec<String> {
    all_files(t)
        .into_iter()
        .filter(|f| {
            let k = parse(&t.read(f).unwrap_or_default());
            k.get("kind").and_then(Value::as_str) != Some("Component")
        })
        .map(|f| tree::parent(&f).to_string())
        .collect()
}

/// Whether helm is on PATH (kustomize's `--enable-helm` runs it).
pub fn helm_on_path() -> bool {
    which::which("helm").is_ok()
}
