//! The simulated Argo CD application controller. Without a fleet repo an Application just reports
//! Synced/Healthy after 1 s (nothing is deployed). With one (`--fleet`), Applications are synced from the
//! local working tree and ApplicationSets are expanded against it. SIMULATED: every `repoURL` is taken
//! to be that working tree at its current state (no Git fetch, no revisions); manifests are rendered with
//! the real kustomize and written straight into the store (as Argo CD's server-side apply would, minus
//! pruning and hooks); health is Healthy once every object is stored. Objects whose kind is not served
//! yet (an operand before its operator's CRD) are retried, as Argo CD's sync retry would. A Helm chart
//! source is simulated for the `kopiur` chart only (its namespace, Deployments and CRDs are stored).

use super::common::status::{reconcile, stalled};
use super::common::{key, set_once};
use super::{Controller, Ctx};
use crate::sim::catalog::{crd, KOPIUR_CRDS};
use crate::sim::store::admit::Admit;
use crate::sim::store::kinds::{builtins, ResourceInfo};
use crate::sim::store::StoreError;
use crate::sim::store::{meta_str, now, EventType};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

const APPS: &str = "applications.argoproj.io";
const APPSETS: &str = "applicationsets.argoproj.io";

pub const CONTROLLER: Controller = Controller {
    watches: &[APPS, APPSETS],
    deletes: false,
    on_event,
};

fn resolve(ctx: &Ctx, api_version: &str, kind: &str) -> Option<ResourceInfo> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    builtins()
        .into_iter()
        .chain(ctx.world.store.crd_resources())
        .find(|r| r.group == group && r.kind == kind && r.versions.iter().any(|v| v == version))
}

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    let Some(repo) = ctx.world.repo.clone() else {
        if gr == APPS {
            reconcile(ctx, APPS, "Application", 1000, obj, application);
        }
        return;
    };
    match gr {
        APPS => {
            let synced = obj.pointer("/status/sync/status").and_then(Value::as_str) == Some("Synced")
                && obj.pointer("/status/sync/comparedTo/source") == obj.pointer("/spec/source");
            if ctx.stall("Application", obj).is_some() {
                return hold(ctx, obj);
            }
            if !synced {
                let (ns, name) = (
                    meta_str(obj, "namespace").to_string(),
                    meta_str(obj, "name").to_string(),
                );
                ctx.once(key(gr, obj), 800, move |ctx| sync_app(ctx, &ns, &name, repo));
            }
        }
        APPSETS => {
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
        _ => {}
    }
}

fn application(_: &Ctx, o: &mut Value, _: &str, _: &str) {
    o["status"]["sync"] = json!({"status": "Synced", "revision": "0000000000000000000000000000000000000000",
        "comparedTo": {"source": o.pointer("/spec/source").cloned().unwrap_or(json!({})), "destination": o.pointer("/spec/destination").cloned().unwrap_or(json!({}))}});
    o["status"]["health"] = json!({"status": "Healthy"});
    set_once(o, "reconciledAt", json!(now()));
}

/// A `stall=Application/...` fault: the Application reports the held health with a message (Degraded,
/// say), and nothing is synced until the stall is cleared.
fn hold(ctx: &Arc<Ctx>, obj: &Value) {
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    ctx.once(format!("stall/{}", key(APPS, obj)), 800, move |ctx| {
        let Some(state) = ctx
            .world
            .store
            .get(APPS, &ns, &name)
            .and_then(|o| ctx.stall("Application", &o))
        else {
            return;
        };
        ctx.world
            .store
            .mutate(APPS, &ns, &name, |o| stalled(o, "Application", &state));
    });
}

fn set_app_status(ctx: &Ctx, ns: &str, name: &str, f: impl Fn(&mut Value)) {
    ctx.world.store.mutate(APPS, ns, name, f);
}

/// Render the Application's path and store every object; retry while kinds are missing.
fn sync_app(ctx: &Arc<Ctx>, ns: &str, name: &str, repo: PathBuf) {
    let Some(app) = ctx.world.store.get(APPS, ns, name) else {
        return;
    };
    if app.pointer("/spec/source/chart").is_some() {
        return sync_chart_app(ctx, ns, name, &app);
    }
    let path = app
        .pointer("/spec/source/path")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let dest_ns = app
        .pointer("/spec/destination/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let create_ns = app
        .pointer("/spec/syncPolicy/syncOptions")
        .and_then(Value::as_array)
        .is_some_and(|o| o.iter().any(|x| x == "CreateNamespace=true"));
    let source = app.pointer("/spec/source").cloned().unwrap_or(Value::Null);
    let rendered = crate::fleet::render::Kustomize::find().and_then(|k| k.render(&repo.join(&path)));
    let objects = match rendered {
        Ok(o) => o,
        Err(e) => {
            let msg = format!("rendering {path} failed: {}", e.cause);
            set_app_status(ctx, ns, name, |o| {
                o["status"]["sync"] = json!({"status": "Unknown", "comparedTo": {"source": source.clone()}});
                o["status"]["health"] = json!({"status": "Unknown"});
                o["status"]["conditions"] = json!([{"type": "ComparisonError", "message": msg.clone()}]);
            });
            return;
        }
    };
    if create_ns && !dest_ns.is_empty() {
        ctx.world.store.ensure(
            "namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": dest_ns}}),
        );
    }
    let mut missing = Vec::new();
    let mut failed = Vec::new();
    for mut o in objects {
        let av = o
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        let Some(ri) = resolve(ctx, &av, &kind) else {
            missing.push(format!("{kind} ({av})"));
            continue;
        };
        if ri.namespaced && meta_str(&o, "namespace").is_empty() {
            o["metadata"]["namespace"] = json!(dest_ns);
        }
        if !ri.namespaced {
            if let Some(m) = o["metadata"].as_object_mut() {
                m.remove("namespace");
            }
        }
        if let Err(e) = apply_object(ctx, &ri, &av, o) {
            failed.push(e);
        }
    }
    let revision = "0000000000000000000000000000000000000000";
    if !failed.is_empty() {
        let msg = format!("one or more objects failed to apply, reason: {}", failed.join("; "));
        set_app_status(ctx, ns, name, |o| {
            o["status"]["sync"] =
                json!({"status": "OutOfSync", "revision": revision, "comparedTo": {"source": source.clone()}});
            o["status"]["health"] = json!({"status": "Degraded", "message": msg.clone()});
            o["status"]["operationState"] = json!({"phase": "Failed", "message": msg.clone()});
        });
    } else if missing.is_empty() {
        set_app_status(ctx, ns, name, |o| {
            o["status"]["sync"] =
                json!({"status": "Synced", "revision": revision, "comparedTo": {"source": source.clone()}});
            o["status"]["health"] = json!({"status": "Healthy"});
            o["status"]["operationState"] =
                json!({"phase": "Succeeded", "message": "successfully synced (simulated from the local working tree)"});
            if let Some(m) = o["status"].as_object_mut() {
                m.remove("conditions");
            }
        });
    } else {
        let msg = format!(
            "the server could not find the requested resource: {} (retrying)",
            missing.join(", ")
        );
        set_app_status(ctx, ns, name, |o| {
            o["status"]["sync"] =
                json!({"status": "OutOfSync", "revision": revision, "comparedTo": {"source": Value::Null}});
            o["status"]["health"] = json!({"status": "Progressing"});
            o["status"]["operationState"] = json!({"phase": "Running", "message": msg.clone()});
        });
        let (ns, name) = (ns.to_string(), name.to_string());
        ctx.once(format!("retry/{ns}/{name}"), 2000, move |ctx| {
            sync_app(ctx, &ns, &name, repo)
        });
    }
}

/// Writes one rendered object as `kubectl apply` through the API server would: admitted like a client
/// write (strict field validation, defaulting, validation), created or merged into the live object.
fn apply_object(ctx: &Ctx, ri: &ResourceInfo, api_version: &str, mut o: Value) -> Result<(), String> {
    let version = api_version.rsplit('/').next().unwrap_or(api_version);
    let adm = Admit::new(&ctx.world.store, ri, version, &ctx.world.faults().old_schema);
    let gr = ri.gr();
    let what = format!("{} {}", ri.kind, meta_str(&o, "name"));
    let fail = |e: StoreError| format!("{what}: {}", e.message);
    adm.decode(&mut o, Some("Strict")).map_err(fail)?;
    if let Some(d) = o.as_object_mut() {
        d.remove("status");
    }
    match ctx
        .world
        .store
        .get(&gr, meta_str(&o, "namespace"), meta_str(&o, "name"))
    {
        None => {
            adm.default(&mut o, true);
            adm.validate(None, &o).map_err(fail)?;
            ctx.world.store.create(&gr, o).map(|_| ()).map_err(fail)
        }
        Some(live) => {
            let mut merged = live.clone();
            json_patch::merge(&mut merged, &o);
            adm.default(&mut merged, false);
            adm.validate(Some(&live), &merged).map_err(fail)?;
            if merged != live {
                let rv = meta_str(&live, "resourceVersion").to_string();
                ctx.world.store.replace(&gr, merged, Some(&rv)).map_err(fail)?;
            }
            Ok(())
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

/// Argo CD syncing a Helm chart source: only the kopiur chart is simulated.
fn sync_chart_app(ctx: &Arc<Ctx>, ns: &str, name: &str, app: &Value) {
    let chart = app
        .pointer("/spec/source/chart")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let dest = app
        .pointer("/spec/destination/namespace")
        .and_then(Value::as_str)
        .unwrap_or("kopiur-system")
        .to_string();
    let source = app.pointer("/spec/source").cloned().unwrap_or(Value::Null);
    let apps = "applications.argoproj.io";
    if chart != "kopiur" {
        let msg = format!("Helm chart {chart}: only the kopiur chart is simulated");
        ctx.world.store.mutate(apps, ns, name, |o| {
            o["status"]["sync"] = json!({"status": "Unknown", "comparedTo": {"source": source.clone()}});
            o["status"]["health"] = json!({"status": "Unknown"});
            o["status"]["conditions"] = json!([{"type": "ComparisonError", "message": msg.clone()}]);
        });
        return;
    }
    install_operator(ctx, &dest);
    ctx.world.store.mutate(apps, ns, name, |o| {
        o["status"]["sync"] = json!({"status": "Synced", "revision": source["targetRevision"].clone(), "comparedTo": {"source": source.clone()}});
        o["status"]["health"] = json!({"status": "Healthy"});
        o["status"]["operationState"] = json!({"phase": "Succeeded", "message": "simulated: the kopiur chart's CRDs and Deployments were stored"});
    });
}

/// What the kopiur chart would create: namespace, Deployments, CRDs.
fn install_operator(ctx: &Ctx, ns: &str) {
    ctx.world.store.ensure(
        "namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    );
    for d in ["kopiur-controller", "kopiur-webhook"] {
        ctx.world.store.ensure(
            "deployments.apps",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": d, "namespace": ns,
                "labels": {"app.kubernetes.io/name": d, "app.kubernetes.io/part-of": "kopiur"}},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": d}},
                    "template": {"metadata": {"labels": {"app.kubernetes.io/name": d}},
                        "spec": {"containers": [{"name": "manager", "image": format!("ghcr.io/home-operations/{d}")}]}}}}),
        );
    }
    for c in KOPIUR_CRDS {
        if let Some(crd) = crd(&ctx.world, c) {
            ctx.world
                .store
                .ensure("customresourcedefinitions.apiextensions.k8s.io", crd);
        }
    }
}
