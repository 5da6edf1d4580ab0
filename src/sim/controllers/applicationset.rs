//! The simulated ApplicationSet controller (with a fleet repo, `--fleet`): an ApplicationSet is expanded with
//! fleetctl's offline generator (`src/appset`, docs/appset.md) against the working tree; its Applications are
//! created or updated in the ApplicationSet's namespace with an ownerReference, and the ApplicationSet reports
//! `ResourcesUpToDate` (or `ErrorOccurred` with the generator's message). Without a fleet repo nothing reacts.
//!
//! As argo-cd's `applicationset/controllers` does (`createOrUpdateInCluster`, `deleteInCluster`):
//! - every generated Application carries `resources-finalizer.argocd.argoproj.io` (plus the template's own
//!   finalizers) unless the ApplicationSet sets `spec.syncPolicy.preserveResourcesOnDeletion: true`; an existing
//!   Application's finalizers are set to the generated ones on every expansion;
//! - an Application it owns that is no longer generated is deleted (with that finalizer, Argo CD then deletes its
//!   resources: `argocd.rs`), unless `spec.syncPolicy.applicationsSync` is `create-only` or `create-update`;
//! - the git generators are read again every 180 s (their default `requeueAfterSeconds`), so a commit that adds
//!   or removes a directory is picked up without a change to the ApplicationSet.

use super::common::key;
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

const APPS: &str = "applications.argoproj.io";
const APPSETS: &str = "applicationsets.argoproj.io";

pub const CONTROLLER: Controller = Controller {
    watches: &[APPSETS],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    let Some(repo) = ctx.world.repo.clone() else {
        return;
    };
    let generation = obj.pointer("/metadata/generation").cloned();
    let done = obj.pointer("/status/observedGeneration").cloned() == generation && generation.is_some();
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    if !done {
        let (ns, name, repo) = (ns.clone(), name.clone(), repo.clone());
        ctx.once(key(gr, obj), 500, move |ctx| expand_appset(ctx, &ns, &name, repo));
    }
    ctx.timer(format!("appset-poll/{ns}/{name}"), REQUEUE_MS, move |ctx| {
        expand_appset(ctx, &ns, &name, repo.clone());
        if let Some(set) = ctx.world.store.get(APPSETS, &ns, &name) {
            ctx.requeue(APPSETS, &set);
        }
    });
}

/// The git generators' default `requeueAfterSeconds` (3 minutes).
const REQUEUE_MS: u64 = 180_000;
const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

/// The finalizers a generated Application carries: the template's, plus Argo CD's resources finalizer unless
/// the ApplicationSet preserves resources on deletion.
fn finalizers(set: &Value) -> Vec<Value> {
    let mut f: Vec<Value> = set
        .pointer("/spec/template/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let preserve = set
        .pointer("/spec/syncPolicy/preserveResourcesOnDeletion")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !preserve
        && !f
            .iter()
            .any(|x| x.as_str().is_some_and(|s| s.starts_with(RESOURCES_FINALIZER)))
    {
        f.push(json!(RESOURCES_FINALIZER));
    }
    f
}

/// Delete the Applications `name` owns that it no longer generates (unless its policy never deletes).
fn delete_stale(ctx: &Ctx, set: &Value, ns: &str, name: &str, generated: &[String]) {
    let policy = set
        .pointer("/spec/syncPolicy/applicationsSync")
        .and_then(Value::as_str)
        .unwrap_or("sync");
    if matches!(policy, "create-only" | "create-update") {
        return;
    }
    let uid = meta_str(set, "uid");
    for app in ctx.world.store.list(APPS, Some(ns)).0 {
        let owned = app
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(|r| {
                r.iter()
                    .any(|o| o["kind"] == "ApplicationSet" && o["name"] == name && o["uid"] == uid)
            });
        let app_name = meta_str(&app, "name");
        if owned && !generated.iter().any(|g| g == app_name) {
            let _ = ctx.world.store.delete(APPS, ns, app_name);
        }
    }
}

/// Generate the ApplicationSet's Applications from the working tree and store them.
fn expand_appset(ctx: &Arc<Ctx>, ns: &str, name: &str, repo: PathBuf) {
    let Some(set) = ctx.world.store.get(APPSETS, ns, name) else {
        return;
    };
    let file = crate::appset::AppSetFile::in_cluster(ns, name, set.clone());
    let generation = set.pointer("/metadata/generation").cloned().unwrap_or(json!(1));
    let uid = meta_str(&set, "uid").to_string();
    match crate::appset::generate(&repo, std::slice::from_ref(&file)) {
        Err(e) => {
            let msg = e.cause.clone();
            ctx.world.store.mutate(APPSETS, ns, name, |o| {
                o["status"] = json!({"observedGeneration": generation.clone(), "conditions": [
                    {"type": "ErrorOccurred", "status": "True", "reason": "ApplicationGenerationFromParamsError", "message": msg.clone()},
                    {"type": "ResourcesUpToDate", "status": "False", "reason": "ApplicationGenerationFromParamsError", "message": msg.clone()}]});
            });
        }
        Ok(apps) => {
            let fin = finalizers(&set);
            for a in &apps {
                let mut spec = json!({"project": a.project, "source": a.source, "destination": a.destination});
                if !a.sync_policy.is_null() {
                    spec["syncPolicy"] = a.sync_policy.clone();
                }
                let obj = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                    "metadata": {"name": a.name, "namespace": ns, "labels": a.labels, "annotations": a.annotations, "finalizers": fin,
                        "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]},
                    "spec": spec});
                match ctx.world.store.get(APPS, ns, &a.name) {
                    None => {
                        let _ = ctx.world.store.create(APPS, obj);
                    }
                    Some(live)
                        if live.get("spec") != obj.get("spec")
                            || live.pointer("/metadata/finalizers").cloned().unwrap_or(json!([])) != json!(fin) =>
                    {
                        let mut m = live.clone();
                        m["spec"] = obj["spec"].clone();
                        m["metadata"]["finalizers"] = json!(fin);
                        let rv = meta_str(&live, "resourceVersion").to_string();
                        let _ = ctx.world.store.replace(APPS, m, Some(&rv));
                    }
                    Some(_) => {}
                }
            }
            let names: Vec<String> = apps.iter().map(|a| a.name.clone()).collect();
            delete_stale(ctx, &set, ns, name, &names);
            let n = apps.len();
            ctx.world.store.mutate(APPSETS, ns, name, |o| {
                o["status"] = json!({"observedGeneration": generation.clone(), "conditions": [
                    {"type": "ErrorOccurred", "status": "False", "reason": "ApplicationSetUpToDate", "message": "Successfully generated parameters for all Applications"},
                    {"type": "ParametersGenerated", "status": "True", "reason": "ParametersGenerated", "message": format!("{n} Applications generated")},
                    {"type": "ResourcesUpToDate", "status": "True", "reason": "ApplicationSetUpToDate", "message": "ApplicationSet up to date"}]});
            });
        }
    }
}
