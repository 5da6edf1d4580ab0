//! The plan: every step of the runbook for this platform, its placeholders filled, its kind looked up in the
//! registry and its own plan made (e.g. rendered), before anything touches the cluster.

use super::kind::{PathResolver, PlanCx, StepKind, StepPlan};
use super::PhaseRequest;
use crate::checks;
use crate::cluster::Target;
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::runbook::{Library, Loaded, Step};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// A step ready to run: substituted, its kind found, its plan made.
pub(super) struct Planned {
    pub step: Step,
    pub kind: &'static dyn StepKind,
    pub args: Value,
    pub plan: StepPlan,
}

/// Paths named in runbooks: the library's own files (`runbooks/...`) or the fleet repo's.
pub(super) struct Paths {
    pub repo: PathBuf,
    pub library: Arc<Library>,
}

impl PathResolver for Paths {
    fn resolve(&self, path: &str) -> PathBuf {
        self.library.resolve(&self.repo, path)
    }
}

/// Placeholders for steps: the cluster's (shared with criteria), the context in use, and the answers.
pub(super) fn vars_for(
    spec: &ClusterSpec,
    decisions: &BTreeMap<String, String>,
    target: &Target,
) -> BTreeMap<String, String> {
    let mut vars = checks::cluster_vars(spec);
    vars.insert(
        "kube.context".into(),
        target.context.clone().unwrap_or_else(|| spec.kube_context.clone()),
    );
    for (k, v) in decisions {
        vars.insert(format!("answers.{k}"), v.clone());
    }
    vars
}

/// Fill `{{ answers.ID }}` and `{{ cluster.KEY }}` placeholders in every string of a step.
fn substitute(step: &Step, vars: &BTreeMap<String, String>, rb: &Loaded) -> Result<Step, UserError> {
    let mut v = serde_json::to_value(step).expect("step serialises");
    checks::fill(&mut v, vars)
        .map_err(|m| UserError::usage(format!("step '{}': {m}", step.id)).subject(rb.locate(&step.id)))?;
    Ok(serde_json::from_value(v).expect("substituted step deserialises"))
}

/// Whether a step's `when` holds for these decisions.
pub(super) fn applies(step: &Step, decisions: &BTreeMap<String, String>) -> bool {
    match &step.when {
        None => true,
        Some(w) => {
            let v = decisions.get(&w.decision).map(String::as_str).unwrap_or_default();
            w.equals.as_deref().is_none_or(|e| e == v) && w.not_equals.as_deref().is_none_or(|n| n != v)
        }
    }
}

/// Substitute every step of this platform, find its kind and plan it; a render error stops here.
pub(super) fn make(
    req: &PhaseRequest,
    spec: &ClusterSpec,
    rb: &Loaded,
    decisions: &BTreeMap<String, String>,
    vars: &BTreeMap<String, String>,
    paths: &Paths,
) -> Result<Vec<Planned>, UserError> {
    let mut plan = Vec::new();
    for s in rb.runbook.steps.iter().filter(|s| s.on_platform(spec.platform)) {
        let step = substitute(s, vars, rb)?;
        let (name, args) = step.kind();
        let kind = req.kinds.get(name).ok_or_else(|| {
            UserError::usage(format!("step '{}': unknown step kind '{name}'", step.id)).subject(rb.locate(&step.id))
        })?;
        kind.validate(&args)
            .map_err(|m| UserError::usage(format!("step '{}': {m}", step.id)).subject(rb.locate(&step.id)))?;
        let plan_cx = PlanCx {
            repo: &req.repo,
            paths,
            step_id: &step.id,
        };
        let step_plan = if applies(&step, decisions) {
            kind.plan(&plan_cx, &args)?
        } else {
            Default::default()
        };
        plan.push(Planned {
            step,
            kind,
            args,
            plan: step_plan,
        });
    }
    Ok(plan)
}

/// Environment for external commands: the same kubeconfig and context fleetctl uses.
pub(super) fn command_env(target: &Target) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Some(k) = &target.kubeconfig {
        env.push(("KUBECONFIG".into(), k.display().to_string()));
    }
    if let Some(c) = &target.context {
        env.push(("FLEETCTL_CONTEXT".into(), c.clone()));
    }
    env
}

/// The cluster's reports folder in the state dir (evidence files).
pub(super) fn reports_dir(req: &PhaseRequest) -> PathBuf {
    crate::journal::StateDir::new(&req.state_root, &req.cluster)
        .dir()
        .join("reports")
}
