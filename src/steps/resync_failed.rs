//! `resync-failed {namespace}`: after a seeding or a decision that can unblock a failed sync, refresh and
//! sync the Argo CD Applications whose last sync operation failed.
//!
//! Argo CD retries a failed auto-sync `retry.limit` times with backoff, then skips that revision ("Skipping
//! auto-sync: failed previous sync attempt"), even with selfHeal, until the revision changes or someone
//! syncs by hand (FACTS §12). A Secret seeded late or a decision taken after the first attempt therefore
//! leaves the Application stuck although nothing is wrong any more. This step observes first: an Application
//! whose `status.operationState.phase` is Failed or Error gets a hard refresh and an `operation` (what
//! `argocd app sync` sets) carrying its own sync options and retry; every other Application is left alone,
//! so a re-run writes nothing. It says which Applications it resynced and why they had failed.

use crate::engine::kind::{Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use serde::Deserialize;
use serde_json::{json, Value};

pub struct ResyncFailed;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    /// The Argo CD namespace holding the Applications.
    namespace: String,
}

fn parse(args: &Value) -> Result<Args, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad args for resync-failed: {e}")))
}

fn str_at<'a>(o: &'a Value, p: &str) -> &'a str {
    o.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// Applications whose last sync failed and that nobody has asked to sync again yet: (name, why it failed).
fn failed(apps: &[Value]) -> Vec<(String, String)> {
    apps.iter()
        .filter(|a| matches!(str_at(a, "/status/operationState/phase"), "Failed" | "Error"))
        .filter(|a| a.get("operation").is_none_or(Value::is_null))
        .map(|a| {
            let why: String = str_at(a, "/status/operationState/message").chars().take(160).collect();
            (str_at(a, "/metadata/name").to_string(), why)
        })
        .collect()
}

/// The `operation` a manual sync sets, with the Application's own sync options and retry.
fn resync(ns: &str, app: &Value) -> Value {
    let mut sync = json!({"revision": str_at(app, "/status/sync/revision")});
    if let Some(o) = app.pointer("/spec/syncPolicy/syncOptions") {
        sync["syncOptions"] = o.clone();
    }
    let mut op = json!({"initiatedBy": {"username": "fleetctl"}, "sync": sync});
    if let Some(r) = app.pointer("/spec/syncPolicy/retry") {
        op["retry"] = r.clone();
    }
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": str_at(app, "/metadata/name"), "namespace": ns,
            "annotations": {"argocd.argoproj.io/refresh": "hard"}},
        "operation": op})
}

async fn apps(cx: &Cx<'_>, ns: &str) -> Result<Vec<Value>, UserError> {
    cx.cluster
        .list("argoproj.io/v1alpha1", "Application", Some(ns), None)
        .await
}

#[async_trait::async_trait]
impl StepKind for ResyncFailed {
    fn name(&self) -> &'static str {
        "resync-failed"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        parse(args).map(|_| ()).map_err(|e| e.cause)
    }
    fn writes(&self) -> Writes {
        Writes::Cluster
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        let a = parse(args)?;
        let all = apps(cx, &a.namespace).await?;
        let stuck = failed(&all);
        if stuck.is_empty() {
            return Ok(Done::already("no Application's last sync failed"));
        }
        for (name, why) in &stuck {
            let app = all
                .iter()
                .find(|x| str_at(x, "/metadata/name") == name)
                .expect("listed");
            cx.cluster.apply(&resync(&a.namespace, app), false).await?;
            cx.ui.line(&format!(
                "  refreshed and re-synced Application {}/{name}; its last sync had failed: {why}",
                a.namespace
            ));
        }
        let names: Vec<&str> = stuck.iter().map(|s| s.0.as_str()).collect();
        Ok(Done {
            writes: stuck.len() as u32,
            acted: true,
            note: format!(
                "refreshed and re-synced {} Application(s) whose last sync had failed (Argo CD does not retry a failed revision by itself): {}",
                stuck.len(),
                names.join(", ")
            ),
        })
    }
    async fn dry_run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Vec<String>, UserError> {
        let a = parse(args)?;
        let stuck = failed(&apps(cx, &a.namespace).await?);
        if stuck.is_empty() {
            return Ok(vec!["no Application's last sync failed: nothing to resync".into()]);
        }
        Ok(stuck
            .iter()
            .map(|(n, why)| {
                format!(
                    "would refresh and sync Application {}/{n} (last sync failed: {why})",
                    a.namespace
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failed_applications_nobody_resynced_are_picked() {
        let apps = vec![
            json!({"metadata": {"name": "ok"}, "status": {"operationState": {"phase": "Succeeded"}}}),
            json!({"metadata": {"name": "stuck"}, "status": {"operationState": {"phase": "Failed", "message": "Degraded"}}}),
            json!({"metadata": {"name": "asked"}, "operation": {"sync": {}}, "status": {"operationState": {"phase": "Failed"}}}),
            json!({"metadata": {"name": "never"}}),
        ];
        assert_eq!(failed(&apps), vec![("stuck".to_string(), "Degraded".to_string())]);
        let op = resync(
            "argocd",
            &json!({"metadata": {"name": "stuck"}, "spec": {"syncPolicy": {"retry": {"limit": 3}}},
            "status": {"sync": {"revision": "abc"}}}),
        );
        assert_eq!(op["operation"]["sync"]["revision"], "abc");
        assert_eq!(op["operation"]["retry"]["limit"], 3);
        assert_eq!(op["metadata"]["annotations"]["argocd.argoproj.io/refresh"], "hard");
    }
}
