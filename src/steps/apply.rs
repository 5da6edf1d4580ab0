//! `apply {path, provides}`: render a kustomization (planning, so a render error stops the run before any
//! write) and server-side apply every object, writing only those that differ from the live ones.

use crate::cluster::apply::{apply_one, Change};
use crate::cluster::{describe, identify};
use crate::engine::kind::{Cx, Done, PlanCx, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::fleet::render::Kustomize;
use crate::runbook::ApplyStep;
use serde_json::Value;
use std::time::Duration;

pub struct Apply;

#[async_trait::async_trait]
impl StepKind for Apply {
    fn name(&self) -> &'static str {
        "apply"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        parse(args).map(|_| ()).map_err(|e| e.cause)
    }
    fn writes(&self) -> Writes {
        Writes::Cluster
    }
    fn plan(&self, cx: &PlanCx<'_>, args: &Value) -> Result<StepPlan, UserError> {
        let a = parse(args)?;
        let objects = Kustomize::find()?
            .render(&cx.paths.resolve(&a.path))
            .map_err(|e| e.next(format!("fix the kustomization (step '{}')", cx.step_id)))?;
        let live_paths = super::live_paths::live_paths(cx.repo, &objects, &a.path);
        Ok(StepPlan {
            objects,
            provides: a.provides,
            live_paths,
        })
    }
    async fn run(&self, cx: &Cx<'_>, _: &Value, plan: &StepPlan) -> Result<Done, UserError> {
        let (mut created, mut updated, mut unchanged) = (0u32, 0u32, 0u32);
        for o in &plan.objects {
            match apply_one(cx.cluster, o, false, Duration::from_secs(300)).await? {
                Change::Unchanged => unchanged += 1,
                Change::Created => created += 1,
                Change::Updated(paths) => {
                    cx.ui
                        .detail(&format!("updated {}: {}", describe_obj(o), paths.join(", ")));
                    updated += 1
                }
            }
        }
        let note = format!(
            "{} objects: {created} created, {updated} updated, {unchanged} unchanged",
            plan.objects.len()
        );
        Ok((created + updated, note).into())
    }
    /// Server-side dry-run applies. Objects in a namespace an earlier object would create cannot be planned
    /// (the API server refuses even a dry-run create in a namespace that does not exist): said as such.
    async fn dry_run(&self, cx: &Cx<'_>, _: &Value, plan: &StepPlan) -> Result<Vec<String>, UserError> {
        let mut lines = Vec::new();
        for o in &plan.objects {
            let what = describe_obj(o);
            let ns = o.pointer("/metadata/namespace").and_then(Value::as_str);
            if ns.is_some_and(|ns| cx.is_new_namespace(ns)) {
                lines.push(format!("{what} would be created (its namespace is new)"));
                continue;
            }
            lines.push(match apply_one(cx.cluster, o, true, Duration::from_secs(5)).await {
                Ok(Change::Unchanged) => format!("{what} unchanged"),
                Ok(Change::Created) => {
                    if o.get("kind").and_then(Value::as_str) == Some("Namespace") {
                        if let Some(n) = o.pointer("/metadata/name").and_then(Value::as_str) {
                            cx.note_new_namespace(n);
                        }
                    }
                    format!("{what} would be created")
                }
                Ok(Change::Updated(paths)) => format!("{what} would change: {}", paths.join(", ")),
                Err(e) => format!("{what} cannot be planned yet: {}", e.cause),
            });
        }
        Ok(lines)
    }
}

fn parse(args: &Value) -> Result<ApplyStep, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad apply: {e}")))
}

fn describe_obj(o: &Value) -> String {
    identify(o)
        .map(|(_, k, ns, n)| describe(&k, ns.as_deref(), &n))
        .unwrap_or_default()
}
