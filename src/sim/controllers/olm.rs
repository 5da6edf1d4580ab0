//! Simulated OLM (OpenShift only): Subscription -> InstallPlan -> CSV -> owned CRDs -> AtLatestKnown,
//! then the operator's own start-up objects (default ArgoCD, CertManager `cluster`).

use super::common::{cond, has_true, key, set_cond};
use super::{Controller, Ctx};
use crate::sim::catalog::{self, Package};
use crate::sim::store::{meta_str, names::suffix, now, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

const SUBS: &str = "subscriptions.operators.coreos.com";
const CSVS: &str = "clusterserviceversions.operators.coreos.com";
const IPS: &str = "installplans.operators.coreos.com";
const CRDS: &str = "customresourcedefinitions.apiextensions.k8s.io";
const SUB_STATES: &[&str] = &[
    "",
    "UpgradeAvailable",
    "UpgradePending",
    "UpgradeFailed",
    "AtLatestKnown",
];

pub const CONTROLLER: Controller = Controller {
    watches: &[SUBS, CSVS],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    if gr == CSVS {
        return on_csv(ctx, obj);
    }
    let state = obj.pointer("/status/state").and_then(Value::as_str).unwrap_or("");
    if state == "AtLatestKnown" || has_true(obj, "ResolutionFailed") || obj.pointer("/status/installedCSV").is_some() {
        return;
    }
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    ctx.once_async(key(SUBS, obj), move |ctx| async move { install(ctx, ns, name).await });
}

fn update_sub(ctx: &Ctx, ns: &str, name: &str, f: impl Fn(&mut Value)) -> Option<Value> {
    ctx.world.store.mutate(SUBS, ns, name, |o| {
        if !o["status"].is_object() {
            o["status"] = json!({});
        }
        f(o);
        o["status"]["lastUpdated"] = json!(now());
    })
}

async fn install(ctx: Arc<Ctx>, ns: String, name: String) {
    ctx.sleep(500).await;
    let Some(sub) = ctx.world.store.get(SUBS, &ns, &name) else {
        return;
    };
    let pkg_name = sub
        .pointer("/spec/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let source = sub
        .pointer("/spec/source")
        .and_then(Value::as_str)
        .unwrap_or("redhat-operators")
        .to_string();
    let Some(pkg) = catalog::package(&pkg_name) else {
        let msg = format!("constraints not satisfiable: no operators found in package {pkg_name} in the catalog referenced by subscription {name} (simulated catalog)");
        update_sub(&ctx, &ns, &name, |o| {
            set_cond(o, cond("ResolutionFailed", "True", "ConstraintsNotSatisfiable", &msg))
        });
        return;
    };
    let channel = sub.pointer("/spec/channel").and_then(Value::as_str).unwrap_or("");
    let chans = catalog::channels(&ctx.world, pkg);
    if !channel.is_empty() && !chans.contains(&channel) {
        let msg = format!("constraints not satisfiable: no operators found in channel {channel} of package {pkg_name} in the catalog referenced by subscription {name} (simulated catalog; it has {})", chans.join(", "));
        update_sub(&ctx, &ns, &name, |o| {
            set_cond(o, cond("ResolutionFailed", "True", "ConstraintsNotSatisfiable", &msg))
        });
        return;
    }
    if let Some(st) = ctx.stall("Subscription", &sub) {
        hold(&ctx, &ns, &name, &st);
        return;
    }
    let csv_name = format!("{}.v{}", pkg.name, pkg.version);
    let ip_name = format!("install-{}", suffix());
    ctx.world.store.ensure(
        IPS,
        json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan",
        "metadata": {"name": ip_name, "namespace": ns},
        "spec": {"approval": "Automatic", "approved": true, "clusterServiceVersionNames": [csv_name], "generation": 1},
        "status": {"phase": "Installing", "catalogSources": [source]}}),
    );
    update_sub(&ctx, &ns, &name, |o| {
        o["status"]["state"] = json!("UpgradePending");
        o["status"]["currentCSV"] = json!(csv_name);
        o["status"]["installPlanRef"] = json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan", "name": ip_name, "namespace": ns});
        o["status"]["installplan"] =
            json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan", "name": ip_name, "uuid": ""});
        o["status"]["catalogHealth"] = json!([{"catalogSourceRef": {"name": source, "namespace": "openshift-marketplace"}, "healthy": true, "lastUpdated": now()}]);
        set_cond(
            o,
            cond(
                "CatalogSourcesUnhealthy",
                "False",
                "AllCatalogSourcesHealthy",
                "all available catalogsources are healthy",
            ),
        );
        set_cond(
            o,
            cond(
                "InstallPlanPending",
                "True",
                "Installing",
                "install plan is installing (simulated)",
            ),
        );
    });
    ctx.sleep(1000).await;
    let csv = ctx.world.store.ensure(CSVS, csv_object(pkg, &csv_name, &ns));
    if let Some(st) = ctx.stall("ClusterServiceVersion", &csv) {
        ctx.world
            .store
            .mutate(CSVS, &ns, &csv_name, |o| o["status"]["phase"] = json!(st));
        return;
    }
    complete(&ctx, &ns, &name, pkg, &csv_name, &ip_name).await;
}

/// A CSV that is neither Succeeded nor held by a stall (one was cleared): its Subscription's install
/// goes on from the CSV.
/// (While the install itself runs it holds the Subscription's key, so this waits for it.)
fn on_csv(ctx: &Arc<Ctx>, event: &Value) {
    let (ns, csv_name) = (
        meta_str(event, "namespace").to_string(),
        meta_str(event, "name").to_string(),
    );
    let Some(csv) = ctx.world.store.get(CSVS, &ns, &csv_name) else {
        return;
    };
    let phase = csv.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
    if phase == "Succeeded" || ctx.stall("ClusterServiceVersion", &csv).is_some() {
        return;
    }
    let subs = ctx.world.store.list(SUBS, Some(&ns)).0;
    let Some(sub) = subs
        .into_iter()
        .find(|s| s.pointer("/status/currentCSV") == Some(&json!(csv_name)))
    else {
        return;
    };
    let name = meta_str(&sub, "name").to_string();
    let ip_name = sub
        .pointer("/status/installPlanRef/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(pkg) = sub
        .pointer("/spec/name")
        .and_then(Value::as_str)
        .and_then(catalog::package)
    else {
        return;
    };
    ctx.once_async(key(SUBS, &sub), move |ctx| async move {
        complete(&ctx, &ns, &name, pkg, &csv_name, &ip_name).await
    });
}

/// The install from the CSV on: owned CRDs, CSV Succeeded, InstallPlan Complete, Subscription
/// AtLatestKnown (conditions a cleared stall left are dropped), then the operator's start-up objects.
async fn complete(ctx: &Ctx, ns: &str, name: &str, pkg: &'static Package, csv_name: &str, ip_name: &str) {
    ctx.sleep(500).await;
    for crd_name in pkg.owned {
        if let Some(c) = catalog::crd(&ctx.world, crd_name) {
            ctx.world.store.ensure(CRDS, c);
        }
    }
    ctx.sleep(1500).await;
    ctx.world.store.mutate(CSVS, ns, csv_name, |o| {
        o["status"]["phase"] = json!("Succeeded");
        o["status"]["reason"] = json!("InstallSucceeded");
        o["status"]["message"] = json!("install strategy completed with no errors (simulated)");
        o["status"]["lastUpdateTime"] = json!(now());
    });
    ctx.world
        .store
        .mutate(IPS, ns, ip_name, |o| o["status"]["phase"] = json!("Complete"));
    let Some(sub) = update_sub(ctx, ns, name, |o| {
        o["status"]["state"] = json!("AtLatestKnown");
        o["status"]["installedCSV"] = json!(csv_name);
        o["status"]["currentCSV"] = json!(csv_name);
        if let Some(c) = o["status"]["conditions"].as_array_mut() {
            c.retain(|c| c["type"] != "InstallPlanPending" && c["reason"] != "SimulatedStall");
        }
    }) else {
        return;
    };
    operator_startup(ctx, pkg, &sub).await;
}

/// A `stall=Subscription/...` fault: a known state (e.g. `UpgradePending`) is held; any other name is a
/// condition set True (e.g. `InstallPlanFailed`) with state "".
fn hold(ctx: &Ctx, ns: &str, name: &str, st: &str) {
    update_sub(ctx, ns, name, |o| {
        if SUB_STATES.contains(&st) {
            o["status"]["state"] = json!(st);
            if st == "UpgradePending" {
                set_cond(
                    o,
                    cond(
                        "InstallPlanPending",
                        "True",
                        "Installing",
                        "install plan is pending (simulated stall)",
                    ),
                );
            }
        } else {
            o["status"]["state"] = json!("");
            set_cond(
                o,
                cond(
                    st,
                    "True",
                    "SimulatedStall",
                    &format!("{st} (simulated stall: the subscription does not progress)"),
                ),
            );
        }
    });
}

fn csv_object(pkg: &Package, csv_name: &str, ns: &str) -> Value {
    let owned: Vec<Value> = pkg
        .owned
        .iter()
        .filter_map(|n| catalog::CRDS.iter().find(|c| c.0 == *n))
        .map(|(n, kind, v, _)| json!({"name": n, "kind": kind, "version": v, "displayName": kind}))
        .collect();
    let mut labels = serde_json::Map::new();
    labels.insert(format!("operators.coreos.com/{}.{ns}", pkg.name), json!(""));
    json!({"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
        "metadata": {"name": csv_name, "namespace": ns, "labels": labels},
        "spec": {"displayName": pkg.display, "version": pkg.version, "provider": {"name": "simulated catalog"},
            "installModes": [{"type": "AllNamespaces", "supported": true}, {"type": "OwnNamespace", "supported": true}],
            "install": {"strategy": "deployment", "spec": {"deployments": []}},
            "customresourcedefinitions": {"owned": owned}},
        "status": {"phase": "Installing", "reason": "InstallWaiting", "message": "installing: waiting for deployment to become ready (simulated)", "lastUpdateTime": now()}})
}

async fn wait_served(ctx: &Ctx, gr: &str) -> bool {
    for _ in 0..600 {
        if ctx.served(gr) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

fn ensure_ns(ctx: &Ctx, name: &str) {
    ctx.world.store.ensure("namespaces", json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}));
}

/// What the operator does once running.
async fn operator_startup(ctx: &Ctx, pkg: &Package, sub: &Value) {
    match pkg.name {
        "openshift-gitops-operator" => {
            let disabled = sub
                .pointer("/spec/config/env")
                .and_then(Value::as_array)
                .is_some_and(|env| {
                    env.iter()
                        .any(|e| e["name"] == "DISABLE_DEFAULT_ARGOCD_INSTANCE" && e["value"] == "true")
                });
            if disabled || !wait_served(ctx, "argocds.argoproj.io").await {
                return;
            }
            ensure_ns(ctx, "openshift-gitops");
            let version = ctx
                .world
                .store
                .crd_resources()
                .into_iter()
                .find(|r| r.gr() == "argocds.argoproj.io")
                .map(|r| r.versions[0].clone())
                .unwrap_or("v1beta1".into());
            ctx.world.store.ensure("argocds.argoproj.io", json!({"apiVersion": format!("argoproj.io/{version}"), "kind": "ArgoCD",
                "metadata": {"name": "openshift-gitops", "namespace": "openshift-gitops"},
                "spec": {"server": {"route": {"enabled": true}}, "applicationSet": {}, "rbac": {"defaultPolicy": "", "scopes": "[groups]"}}}));
        }
        "openshift-cert-manager-operator" => {
            if !wait_served(ctx, "certmanagers.operator.openshift.io").await {
                return;
            }
            ensure_ns(ctx, "cert-manager");
            ctx.world.store.ensure("certmanagers.operator.openshift.io", json!({"apiVersion": "operator.openshift.io/v1alpha1", "kind": "CertManager",
                "metadata": {"name": "cluster"}, "spec": {"logLevel": "Normal", "managementState": "Managed", "operatorLogLevel": "Normal"}}));
        }
        _ => {}
    }
}
