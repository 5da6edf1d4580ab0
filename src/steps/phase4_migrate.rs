//! `phase4-migrate {cluster, branch}`: Phase 4's repo side (src/migrate): moves a legacy fleet into
//! clusters/<cluster>/ on a new branch behind the no-churn gate. It never writes to the cluster; a commit
//! counts as work done.

use crate::engine::kind::{Checked, Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::migrate;
use crate::ui::{Ui, Verbosity};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub struct Phase4Migrate;

#[async_trait::async_trait]
impl StepKind for Phase4Migrate {
    fn name(&self) -> &'static str {
        "phase4-migrate"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        serde_json::from_value::<StepArgs>(args.clone())
            .map(|_| ())
            .map_err(|e| format!("bad args for {}: {e}", self.name()))
    }
    fn writes(&self) -> Writes {
        Writes::Repo
    }
    /// The default plan's gate on a scratch copy, before anything is written: a finding fleetctl cannot
    /// repoint stops the run here unless `p4-accept-refs` accepts it.
    async fn preflight(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Checked, UserError> {
        let a: StepArgs = serde_json::from_value(args.clone())
            .map_err(|e| UserError::usage(format!("bad args for {}: {e}", self.name())))?;
        let Some(mut gate) = migrate::preview(cx.repo, &a.cluster)? else {
            return Ok(Checked::default());
        };
        let branch = format!("{} (not created yet)", a.branch);
        if !gate.apps_identical {
            eprint!("{}", gate.diff);
            return Err(gate.refusal(&branch));
        }
        if gate.checks.findings.is_empty() {
            cx.ui.ok(&format!("preview on a scratch copy: {}", gate.summary()));
            return Ok(Checked::default());
        }
        for l in gate.details().lines() {
            cx.ui.warn(l.trim());
        }
        let answer = match cx.settle.map(|s| s("p4-accept-refs")) {
            Some(Ok(v)) => v,
            _ => return Err(gate.refusal(&branch)),
        };
        gate.accept(Some(&answer));
        if !gate.passed {
            return Err(gate.refusal(&branch));
        }
        Ok(Checked {
            decisions: vec![("p4-accept-refs".into(), answer)],
        })
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        let a: StepArgs = serde_json::from_value(args.clone())
            .map_err(|e| UserError::usage(format!("bad args for {}: {e}", self.name())))?;
        run_step(cx.repo, &a, cx.decisions)
    }
}

/// Arguments of the runbook step `builtin: {name: phase4-migrate, args: {cluster, branch}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepArgs {
    cluster: String,
    #[serde(default = "default_branch")]
    branch: String,
}

fn default_branch() -> String {
    migrate::DEFAULT_BRANCH.into()
}

/// The runbook step: every tree to its default destination (custom destinations: `fleetctl migrate`).
/// It never writes to the cluster; a commit counts as work done. A failed gate is a step failure.
fn run_step(repo: &Path, a: &StepArgs, decisions: &BTreeMap<String, String>) -> Result<Done, UserError> {
    let mut answers = BTreeMap::new();
    if let Some(acc) = decisions.get("p4-accept-refs") {
        answers.insert("p4-accept-refs".to_string(), acc.clone());
    }
    answers.insert("p4-branch".to_string(), a.branch.clone());
    // The runbook only reaches this step when the destructive decision p4-move said move-to-defaults.
    answers.insert("p4-move".to_string(), "move-to-defaults".to_string());
    let opts = migrate::Options {
        repo: repo.to_path_buf(),
        cluster: a.cluster.clone(),
        answers,
        yes: true,
        dry_run: false,
    };
    let ui = Ui::new(Verbosity::Quiet, true);
    match migrate::run(&opts, &ui)? {
        migrate::Outcome::AlreadyMigrated(m) => Ok((0, m).into()),
        migrate::Outcome::NothingToMove => Ok((0, "nothing to move: every tree is kept in place".to_string()).into()),
        migrate::Outcome::DryRun { gate, .. } => Ok((0, gate.summary()).into()),
        // Repo work, not a cluster write: the step acted though it wrote nothing to the cluster.
        migrate::Outcome::Committed {
            branch, commit, gate, ..
        } => Ok(Done {
            writes: 0,
            acted: true,
            note: format!(
                "migrated on branch {branch} (commit {}) and reached the gate: {}; {}",
                &commit[..12],
                gate.summary(),
                migrate::closing_step(&gate)
            ),
        }),
        migrate::Outcome::GateFailed { branch, gate } => {
            eprint!("{}{}", gate.details(), gate.diff);
            Err(gate.refusal(&branch))
        }
    }
}
