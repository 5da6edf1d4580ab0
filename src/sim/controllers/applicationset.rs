//! The simulated ApplicationSet controller (with a fleet repo, `--fleet`): an ApplicationSet is expanded with
//! fleetctl's offline generator (`src/appset`, docs/appset.md) against the working tree; its Applications are
//! created or updated in the ApplicationSet's namespace with an ownerReference, and the ApplicationSet reports
//! `ResourcesUpToDate` (or `ErrorOccurred` with the generator's message). Without a fleet repo nothing reacts.

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
    if !done {
        let (ns, name) = (
            meta_str(obj, "namespace").to_string(),
            meta_str(obj, "name").to_string(),
        );
        ctx.once(key(gr, obj), 500, move |ctx| expand_appset(ctx, &ns, &name, repo));
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
            for a in &apps {
                let mut spec = json!({"project": a.project, "source": a.source, "destination": a.destination});
                if !a.sync_policy.is_null() {
                    spec["syncPolicy"] = a.sync_policy.clone();
                }
                let obj = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                    "metadata": {"name": a.name, "namespace": ns, "labels": a.labels, "annotations": a.annotations,
                        "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet", "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]},
                    "spec": spec});
                match ctx.world.store.get(APPS, ns, &a.name) {
                    None => {
                        let _ = ctx.world.store.create(APPS, obj);
                    }
                    Some(live) if live.get("spec") != obj.get("spec") => {
                        let mut m = live.clone();
                        m["spec"] = obj["spec"].clone();
                        let rv = meta_str(&live, "resourceVersion").to_string();
                        let _ = ctx.world.store.replace(APPS, m, Some(&rv));
                    }
                    Some(_) => {}
                }
            }
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
