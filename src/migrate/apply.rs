//! Repointing after the move, from the base commit's content (so a rerun gives the same result), and the
//! scratch-copy dry run.
//!
//! Each file that existed at the base commit is rewritten at its new place: Application and ApplicationSet
//! documents (`path:`, generator patterns, path-segment indices, manifest-generate-paths), kustomizations
//! (relative paths whose way to their target changed), and live config (scripts, CI workflows, Renovate
//! config, Helm values and other YAML) whose literal paths name something that moved.

use super::plan::Plan;
use super::tree::Tree;
use super::{check, kustom, refs, rewrite, GateResult};
use crate::error::UserError;
use crate::fleet::detect;
use crate::ui::Ui;
use std::path::Path;

/// Rewrite every moved or referring file under `after_root`, reading the old content from `before`.
/// Returns the number of paths changed.
pub fn rewrite_into(before: &Tree, after_root: &Path, plan: &Plan, ui: &Ui) -> Result<usize, UserError> {
    let repo_is_fleetctl = after_root.join("Cargo.toml").is_file();
    let bootstrap: Vec<&str> = plan
        .moves
        .iter()
        .filter(|m| m.id == "p4-dest-bootstrap")
        .map(|m| m.from.as_str())
        .collect();
    let mut total = 0;
    for f in &before.files {
        if repo_is_fleetctl && f.starts_with("tests/") {
            continue;
        }
        let new_path = plan.map(f);
        let target = after_root.join(&new_path);
        if !target.is_file() {
            continue;
        }
        let Some(old) = before.read(f) else { continue };
        let (text, changes) = rewrite_file(before, plan, f, &new_path, &old, &bootstrap)?;
        let current = std::fs::read_to_string(&target).unwrap_or_default();
        if !changes.is_empty() && text != current {
            for c in &changes {
                ui.detail(&format!("{new_path}: {c}"));
            }
            std::fs::write(&target, &text)
                .map_err(|e| UserError::failed(format!("cannot write {}: {e}", target.display())))?;
            total += changes.len();
        }
    }
    Ok(total)
}

/// The new content of one file that was at `f` and is now at `new_path`, and what changed.
pub fn rewrite_file(
    before: &Tree,
    plan: &Plan,
    f: &str,
    new_path: &str,
    old: &str,
    bootstrap: &[&str],
) -> Result<(String, Vec<String>), UserError> {
    let name = f.rsplit('/').next().unwrap_or(f);
    let yaml = f.ends_with(".yaml") || f.ends_with(".yml");
    if kustom::NAMES.contains(&name) {
        return Ok(kustom::rewrite_refs(old, plan, before, f, new_path));
    }
    if yaml && (old.contains("kind: Application") || old.contains("kind: \"Application")) {
        let r = rewrite::rewrite_manifest(old, plan, new_path).map_err(|m| {
            UserError::usage(format!("cannot repoint an ApplicationSet: {m}"))
                .next("edit that ApplicationSet by hand on the branch, then run `fleetctl migrate` again")
        })?;
        return Ok((r.text, r.changes));
    }
    if check::is_live_config(f, old) || bootstrap.iter().any(|b| f == *b || f.starts_with(&format!("{b}/"))) {
        let (t, c) = refs::rewrite_text(old, plan, before, f, new_path);
        let changes = c
            .into_iter()
            .map(|c| match c.from.is_empty() {
                true => format!("line {}: added {}", c.line, c.to),
                false => format!("line {}: {} -> {}", c.line, c.from, c.to),
            })
            .collect();
        return Ok((t, changes));
    }
    Ok((old.to_string(), vec![]))
}

/// Write `clusters/<cluster>/cluster.yaml` under `root` from what the base checkout `base` shows, unless it
/// exists. Returns the notes (where each value came from).
pub fn write_cluster_yaml(base: &Path, root: &Path, cluster: &str) -> Result<Option<Vec<String>>, UserError> {
    let path = root.join("clusters").join(cluster).join("cluster.yaml");
    if path.exists() {
        return Ok(None);
    }
    let d = detect::detect(base, cluster);
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(|e| UserError::failed(format!("cannot create {}: {e}", p.display())))?;
    }
    std::fs::write(&path, detect::to_yaml(&d))
        .map_err(|e| UserError::failed(format!("cannot write {}: {e}", path.display())))?;
    Ok(Some(d.notes))
}

/// Extract `commit` into a fresh temp dir (`git archive`), the "before" side of the gate.
pub fn checkout_to_temp(repo: &Path, commit: &str) -> Result<tempfile::TempDir, UserError> {
    let tmp = tempfile::tempdir().map_err(|e| UserError::failed(format!("cannot make a temp dir: {e}")))?;
    duct::cmd!("git", "archive", "--format=tar", commit)
        .dir(repo)
        .pipe(duct::cmd!("tar", "-xf", "-", "-C", tmp.path()))
        .stderr_capture()
        .run()
        .map_err(|e| UserError::failed(format!("cannot extract {commit} with git archive | tar: {e}")))?;
    Ok(tmp)
}

/// Move and rewrite in a scratch copy of HEAD and run the gate there; the repo is not touched.
pub fn dry_run(repo: &Path, cluster: &str, plan: &Plan) -> Result<GateResult, UserError> {
    let before_dir = checkout_to_temp(repo, "HEAD")?;
    let after = checkout_to_temp(repo, "HEAD")?;
    for (i, m) in plan.moves.iter().enumerate() {
        let cur = plan.map_partial(&m.from, i);
        if cur == m.to {
            continue;
        }
        let dst = after.path().join(&m.to);
        if let Some(p) = dst.parent() {
            std::fs::create_dir_all(p).map_err(|e| UserError::failed(format!("scratch copy: {e}")))?;
        }
        std::fs::rename(after.path().join(&cur), &dst)
            .map_err(|e| UserError::failed(format!("scratch copy: cannot move {cur}: {e}")))?;
    }
    let before = Tree::load(before_dir.path());
    let quiet = Ui::new(crate::ui::Verbosity::Quiet, true);
    rewrite_into(&before, after.path(), plan, &quiet)?;
    write_cluster_yaml(before_dir.path(), after.path(), cluster)?;
    super::gate::run(&before, after.path(), cluster, plan, None)
}
