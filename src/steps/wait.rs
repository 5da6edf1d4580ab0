//! `wait {object, until, failFast, timeout, hint, provides}`: watch one object until every `until`
//! expectation holds; any `failFast` one ends the wait at once as a failure with its cause. Read-only.

use crate::cluster::wait::{wait_for_created, FailFast, Waited};
use crate::engine::kind::{Cx, Done, PlanCx, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::runbook::WaitStep;
use serde_json::Value;
use std::time::Duration;

pub struct Wait;

#[async_trait::async_trait]
impl StepKind for Wait {
    fn name(&self) -> &'static str {
        "wait"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        let w = parse(args).map_err(|e| e.cause)?;
        humantime::parse_duration(&w.timeout).map_err(|e| format!("bad timeout '{}': {e}", w.timeout))?;
        if w.until.is_empty() {
            return Err("a wait needs at least one `until` expectation".into());
        }
        if let Some(d) = &w.fail_fast_after {
            humantime::parse_duration(d).map_err(|e| format!("failFastAfter '{d}': {e}"))?;
        }
        w.until.iter().chain(&w.fail_fast).try_for_each(|e| e.validate())
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    fn plan(&self, _: &PlanCx<'_>, args: &Value) -> Result<StepPlan, UserError> {
        Ok(StepPlan {
            provides: parse(args)?.provides,
            ..Default::default()
        })
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        let w = parse(args)?;
        let timeout = humantime::parse_duration(&w.timeout).map_err(|e| UserError::usage(e.to_string()))?;
        let after = match &w.fail_fast_after {
            Some(d) => humantime::parse_duration(d).map_err(|e| UserError::usage(format!("failFastAfter: {e}")))?,
            None => Duration::ZERO,
        };
        let r = wait_for_created(
            cx.cluster,
            &w.object,
            &w.until,
            FailFast {
                on: &w.fail_fast,
                after,
            },
            &w.created_by,
            timeout,
            cx.ui,
        )
        .await
        .map_err(|e| match (&w.hint, e.next.is_none()) {
            (Some(h), true) => e.next(h.clone()),
            _ => e,
        })?;
        let what = w.object.display();
        Ok(match r {
            Waited::AlreadyTrue => Done::already(format!("{what} already there")),
            Waited::Reached => Done {
                writes: 0,
                acted: true,
                note: format!(
                    "{what} reached {}",
                    w.until
                        .iter()
                        .map(|e| e.condition.clone().or(e.field.clone()).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        })
    }
}

fn parse(args: &Value) -> Result<WaitStep, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad wait: {e}")))
}
