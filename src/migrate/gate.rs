//! The no-churn gate: the Applications generated before the move (base commit) and after (working
//! tree) must be the same set, with the same name, project, namespace, destination and sync policy,
//! and every source path must be the old one mapped through the move plan. Argo CD then adopts the
//! running workloads instead of deleting and recreating them.

use super::check::{self, Finding};
use super::plan::Plan;
use super::tree::Tree;
use crate::appset::{self, GeneratedApp};
use crate::error::UserError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Applications of the Argo CD instance being migrated: legacy AppSets (outside clusters/) and those
/// already under clusters/<cluster>/ (e.g. additive ones from Phase 3).
pub fn generate_for(root: &Path, cluster: &str) -> Result<Vec<GeneratedApp>, UserError> {
    appset::generate(root, &of_cluster(appset::load_appsets(root, None)?, cluster))
}

/// The ApplicationSets of one Argo CD instance: the legacy ones (outside clusters/) and clusters/<cluster>/'s.
pub fn of_cluster(sets: Vec<appset::AppSetFile>, cluster: &str) -> Vec<appset::AppSetFile> {
    sets.into_iter()
        .filter(|s| s.cluster().is_none_or(|c| c == cluster))
        .collect()
}

/// What the gate compares of one generated Application (kept in the journal for the "before" side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub name: String,
    pub project: String,
    pub namespace: String,
    pub destination: String,
    pub dest_namespace: String,
    pub path: String,
    pub repo: String,
    pub revision: String,
    pub sync: String,
}

impl Row {
    pub fn of(a: &GeneratedApp) -> Row {
        let d = &a.destination;
        let destination = match (&d.server, &d.name) {
            (Some(s), _) => s.clone(),
            (None, Some(n)) => format!("name:{n}"),
            (None, None) => "-".into(),
        };
        let sync = match a.sync_policy.get("automated") {
            Some(_) => format!(
                "auto(prune={},selfHeal={})",
                a.sync_policy
                    .pointer("/automated/prune")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false),
                a.self_heal()
            ),
            None => "manual".into(),
        };
        Row {
            name: a.name.clone(),
            project: a.project.clone(),
            namespace: a.namespace.clone(),
            destination,
            dest_namespace: d.namespace.clone().unwrap_or_else(|| "-".into()),
            path: a.source.path.clone(),
            repo: a.source.repo_url.clone(),
            revision: a.source.target_revision.clone(),
            sync,
        }
    }

    /// One line; `path` is given (mapped for the "before" side).
    fn line(&self, path: &str) -> String {
        format!(
            "{}  project={} namespace={} destination={} dest-namespace={} path={} repo={} revision={} sync={}",
            self.name,
            self.project,
            self.namespace,
            self.destination,
            self.dest_namespace,
            path,
            self.repo,
            self.revision,
            self.sync
        )
    }
}

pub fn rows(apps: &[GeneratedApp]) -> Vec<Row> {
    apps.iter().map(Row::of).collect()
}

#[derive(Debug, Clone)]
pub struct GateResult {
    pub before: usize,
    pub after: usize,
    /// (a): the generated Applications are identical.
    pub apps_identical: bool,
    /// Everything holds (findings the user accepted aside).
    pub passed: bool,
    /// A unified diff of the compared Application lines (empty when identical).
    pub diff: String,
    /// Checks (b) to (e): one summary line each, the findings, the roots.
    pub checks: check::Report,
    /// Findings the user answered are acceptable (`p4-accept-refs`).
    pub accepted: Vec<Finding>,
}

impl GateResult {
    pub fn summary(&self) -> String {
        if self.passed {
            let mut s = format!(
                "gate passed: {} Applications identical in name, project, namespace, destination and sync policy; every source path maps old -> new",
                self.after
            );
            if !self.accepted.is_empty() {
                s.push_str(&format!(
                    " ({} findings accepted by p4-accept-refs)",
                    self.accepted.len()
                ));
            }
            s
        } else if !self.apps_identical {
            format!(
                "gate FAILED: the generated Applications differ ({} before, {} after)",
                self.before, self.after
            )
        } else {
            format!(
                "gate FAILED: {} references the move would break and fleetctl could not repoint",
                self.blocking().len()
            )
        }
    }

    /// Why the commit was refused, and the way on: fix by hand, or accept what may be accepted.
    pub fn refusal(&self, branch: &str) -> UserError {
        let gate = self;
        let subject = format!("branch {branch} (uncommitted; HEAD unchanged)");
        if !gate.apps_identical {
            return UserError::failed("refusing to commit: the migration would change generated Applications (Argo CD would delete and recreate them)")
                .subject(subject)
                .next("fix the destinations/renames or the ApplicationSet templates and run `fleetctl migrate` again, or `fleetctl migrate --abort`");
        }
        let blocking = gate.blocking();
        let first = blocking
            .first()
            .map(|f| format!("{}: {}", f.location(), f.what))
            .unwrap_or_default();
        let acceptable = blocking.iter().all(|f| f.acceptable);
        let next = if acceptable {
            "fix it on the branch and run again, or answer p4-accept-refs: all (or the files, comma-separated) if it is acceptable"
        } else {
            "fix it on the branch and run again, or `fleetctl migrate --abort`; a broken root Application cannot be accepted"
        };
        UserError::failed(format!(
            "refusing to commit: {} reference(s) the move would break, first {first}",
            blocking.len()
        ))
        .subject(subject)
        .next(next)
    }

    /// The findings that block the commit.
    pub fn blocking(&self) -> Vec<&Finding> {
        self.checks
            .findings
            .iter()
            .filter(|f| !self.accepted.contains(f))
            .collect()
    }

    /// The whole report: checks (b)-(e), then each finding with its file:line.
    pub fn details(&self) -> String {
        let mut s = String::new();
        for l in &self.checks.lines {
            s.push_str(&format!("  {l}\n"));
        }
        for f in &self.checks.findings {
            let tag = if self.accepted.contains(f) {
                "accepted"
            } else {
                "FINDING"
            };
            s.push_str(&format!("  {tag} ({}) {}: {}\n", f.check, f.location(), f.what));
        }
        s
    }

    /// Apply the answer to `p4-accept-refs`: `all`, or a comma-separated list of files whose findings are
    /// acceptable. A finding about the root Application is never acceptable.
    pub fn accept(&mut self, answer: Option<&str>) {
        let Some(a) = answer.map(str::trim).filter(|a| !a.is_empty() && *a != "none") else {
            self.passed = self.apps_identical && self.checks.findings.is_empty();
            return;
        };
        let files: Vec<&str> = a.split(',').map(str::trim).collect();
        self.accepted = self
            .checks
            .findings
            .iter()
            .filter(|f| f.acceptable && (a == "all" || files.contains(&f.file.as_str())))
            .cloned()
            .collect();
        self.passed = self.apps_identical && self.blocking().is_empty();
    }
}

/// Compare two generated sets: `before` from the base commit, `after` from the working tree.
/// Returns (identical, diff).
pub fn compare(before: &[Row], after: &[Row], plan: &Plan) -> (bool, String) {
    let mut b: Vec<String> = before.iter().map(|r| r.line(&plan.map(&r.path))).collect();
    let mut a: Vec<String> = after.iter().map(|r| r.line(&r.path)).collect();
    b.sort();
    a.sort();
    if a == b {
        return (true, String::new());
    }
    let bt = b.join("\n") + "\n";
    let at = a.join("\n") + "\n";
    let diff = similar::TextDiff::from_lines(&bt, &at)
        .unified_diff()
        .context_radius(1)
        .header(
            "before (base commit, source paths mapped to the new layout)",
            "after (working tree)",
        )
        .to_string();
    (false, diff)
}

/// Run the gate: (a) the generated Applications (`recorded`: the "before" side generated before the first
/// move), then (b)-(e) against the base checkout. `accept` is applied by the caller.
pub fn run(
    before: &Tree,
    after_root: &Path,
    cluster: &str,
    plan: &Plan,
    recorded: Option<&[Row]>,
) -> Result<GateResult, UserError> {
    let before_rows = match recorded {
        Some(r) => r.to_vec(),
        None => rows(&generate_for(&before.root, cluster).map_err(|e| UserError {
            cause: format!("before the move: {}", e.cause),
            ..e
        })?),
    };
    let after = generate_for(after_root, cluster).map_err(|e| UserError {
        cause: format!("after the move: {}", e.cause),
        ..e
    })?;
    let (identical, diff) = compare(&before_rows, &rows(&after), plan);
    let checks = check::run(before, &Tree::load(after_root), plan, &after);
    let mut g = GateResult {
        before: before_rows.len(),
        after: after.len(),
        apps_identical: identical,
        passed: false,
        diff,
        checks,
        accepted: vec![],
    };
    g.accept(None);
    Ok(g)
}
