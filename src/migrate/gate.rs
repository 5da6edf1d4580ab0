//! The no-churn gate: the Applications generated before the move (base commit) and after (working
//! tree) must be the same set, with the same name, project, namespace, destination and sync policy,
//! and every source path must be the old one mapped through the move plan. Argo CD then adopts the
//! running workloads instead of deleting and recreating them.

use super::plan::Plan;
use crate::appset::{self, GeneratedApp};
use crate::error::UserError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Applications of the Argo CD instance being migrated: legacy AppSets (outside clusters/) and those
/// already under clusters/<cluster>/ (e.g. additive ones from Phase 3).
pub fn generate_for(root: &Path, cluster: &str) -> Result<Vec<GeneratedApp>, UserError> {
    let sets: Vec<_> = appset::load_appsets(root, None)?
        .into_iter()
        .filter(|s| s.cluster().is_none_or(|c| c == cluster))
        .collect();
    appset::generate(root, &sets)
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
    pub passed: bool,
    /// A unified diff of the compared lines (empty when passed).
    pub diff: String,
}

impl GateResult {
    pub fn summary(&self) -> String {
        if self.passed {
            format!(
                "gate passed: {} Applications identical in name, project, namespace, destination and sync policy; every source path maps old -> new",
                self.after
            )
        } else {
            format!(
                "gate FAILED: the generated Applications differ ({} before, {} after)",
                self.before, self.after
            )
        }
    }
}

/// Compare two generated sets: `before` from the base commit, `after` from the working tree.
pub fn compare(before: &[Row], after: &[Row], plan: &Plan) -> GateResult {
    let mut b: Vec<String> = before.iter().map(|r| r.line(&plan.map(&r.path))).collect();
    let mut a: Vec<String> = after.iter().map(|r| r.line(&r.path)).collect();
    b.sort();
    a.sort();
    let passed = a == b;
    let diff = if passed {
        String::new()
    } else {
        let bt = b.join("\n") + "\n";
        let at = a.join("\n") + "\n";
        similar::TextDiff::from_lines(&bt, &at)
            .unified_diff()
            .context_radius(1)
            .header(
                "before (base commit, source paths mapped to the new layout)",
                "after (working tree)",
            )
            .to_string()
    };
    GateResult {
        before: before.len(),
        after: after.len(),
        passed,
        diff,
    }
}

/// Run the gate: generate both sides and compare.
pub fn run(before_root: &Path, after_root: &Path, cluster: &str, plan: &Plan) -> Result<GateResult, UserError> {
    let before = generate_for(before_root, cluster).map_err(|e| UserError {
        cause: format!("before the move: {}", e.cause),
        ..e
    })?;
    let after = generate_for(after_root, cluster).map_err(|e| UserError {
        cause: format!("after the move: {}", e.cause),
        ..e
    })?;
    Ok(compare(&rows(&before), &rows(&after), plan))
}

/// Run the gate with the "before" side already generated (recorded before the first move).
pub fn run_recorded(before: &[Row], after_root: &Path, cluster: &str, plan: &Plan) -> Result<GateResult, UserError> {
    let after = generate_for(after_root, cluster).map_err(|e| UserError {
        cause: format!("after the move: {}", e.cause),
        ..e
    })?;
    Ok(compare(before, &rows(&after), plan))
}
