//! `check`: named acceptance criteria of the runbook must pass at this point of the run (a gate between
//! steps). Read-only.

use crate::checks;
use crate::cluster::source::Source;
use crate::cluster::Cluster;
use crate::engine::kind::{Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::report::Status;
use crate::runbook::Loaded;
use serde_json::Value;

pub struct Check;

#[async_trait::async_trait]
impl StepKind for Check {
    fn name(&self) -> &'static str {
        "check"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        serde_json::from_value::<Vec<String>>(args.clone())
            .map(|_| ())
            .map_err(|e| format!("check takes a list of criterion ids: {e}"))
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        let ids: Vec<String> = serde_json::from_value(args.clone())
            .map_err(|e| UserError::usage(format!("check takes a list of criterion ids: {e}")))?;
        Ok((0, check(cx.cluster, cx.runbook, &ids, cx.spec).await?).into())
    }
}

/// A check step: the named criteria must pass now.
async fn check(
    cluster: &Cluster,
    rb: &Loaded,
    ids: &[String],
    spec: &crate::fleet::ClusterSpec,
) -> Result<String, UserError> {
    let src = Source::Live(cluster);
    let mut failed = Vec::new();
    for id in ids {
        let c = rb.criterion(id).expect("validated at load");
        let r = checks::evaluate_for(&[c], &src, spec).await?.remove(0);
        if r.status != Status::Pass && r.status != Status::Skipped {
            let why: Vec<String> = r.details.iter().filter(|d| !d.starts_with("ok:")).cloned().collect();
            failed.push(format!(
                "{id} {}: {}{}",
                r.status.as_str(),
                why.join("; "),
                r.hint.map(|h| format!(" (hint: {h})")).unwrap_or_default()
            ));
        }
    }
    if failed.is_empty() {
        Ok(format!("{} passed", ids.join(", ")))
    } else {
        Err(UserError::failed(format!("check failed: {}", failed.join(" | "))))
    }
}
