//! `decide: ID`: the point in the run where a decision is recorded. The engine settles every decision a
//! runbook uses in preflight (asked on a terminal, or taken from --answers / --yes), so this step only
//! journals the answer at its place in the checklist.

use crate::engine::kind::{Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use serde_json::Value;

pub struct Decide;

#[async_trait::async_trait]
impl StepKind for Decide {
    fn name(&self) -> &'static str {
        "decide"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        args.as_str()
            .map(|_| ())
            .ok_or_else(|| "decide takes a decision id".to_string())
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        let d = args.as_str().unwrap_or_default();
        let q = cx.runbook.decision(d).map(|x| x.question.clone()).unwrap_or_default();
        let note = format!(
            "decision {d} = {} ({q})",
            cx.decisions.get(d).cloned().unwrap_or_default()
        );
        Ok((0, note).into())
    }
}
