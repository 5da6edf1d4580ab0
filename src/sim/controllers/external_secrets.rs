//! Simulated External Secrets Operator: SecretStores and ClusterSecretStores report Ready (ReadWrite); an
//! ExternalSecret writes its target Secret with made-up values (`simulated:<key>/<property>`, nothing is
//! read from any store); a ClusterExternalSecret creates an ExternalSecret in every namespace matching its
//! `namespaceSelectors`, refreshed when namespaces change; ExternalSecretsConfig (the OpenShift operator's
//! CR) reports Ready.

use super::common::status::reconcile;
use super::common::{cond, key, owner, set_cond, set_once};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, names::b64, now, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

const CES: &str = "clusterexternalsecrets.external-secrets.io";

pub const CONTROLLER: Controller = Controller {
    watches: &[
        "externalsecrets.external-secrets.io",
        "secretstores.external-secrets.io",
        "clustersecretstores.external-secrets.io",
        "externalsecretsconfigs.operator.openshift.io",
        CES,
        "namespaces",
    ],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    match gr {
        "externalsecrets.external-secrets.io" => reconcile(
            ctx,
            "externalsecrets.external-secrets.io",
            "ExternalSecret",
            1000,
            obj,
            external_secret,
        ),
        "secretstores.external-secrets.io" => reconcile(
            ctx,
            "secretstores.external-secrets.io",
            "SecretStore",
            500,
            obj,
            ready_store,
        ),
        "clustersecretstores.external-secrets.io" => reconcile(
            ctx,
            "clustersecretstores.external-secrets.io",
            "ClusterSecretStore",
            500,
            obj,
            ready_store,
        ),
        "externalsecretsconfigs.operator.openshift.io" => reconcile(
            ctx,
            "externalsecretsconfigs.operator.openshift.io",
            "ExternalSecretsConfig",
            1000,
            obj,
            ready_generic,
        ),
        CES => {
            let name = meta_str(obj, "name").to_string();
            ctx.once(key(gr, obj), 300, move |ctx| fan_out(ctx, &name))
        }
        _ => on_namespace(ctx),
    }
}

/// Namespaces changed (labels): refresh every ClusterExternalSecret.
fn on_namespace(ctx: &Arc<Ctx>) {
    if !ctx.served(CES) {
        return;
    }
    for c in ctx.world.store.list(CES, None).0 {
        let name = meta_str(&c, "name").to_string();
        ctx.once(format!("{CES}//{name}"), 300, move |ctx| fan_out(ctx, &name));
    }
}

fn labels_match(ns: &Value, sel: &Value) -> bool {
    sel["matchLabels"].as_object().is_none_or(|m| {
        m.iter()
            .all(|(k, v)| ns.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v))
    })
}

fn fan_out(ctx: &Arc<Ctx>, name: &str) {
    let Some(c) = ctx.world.store.get(CES, "", name) else {
        return;
    };
    let es_name = c["spec"]["externalSecretName"].as_str().unwrap_or(name).to_string();
    let sels = c["spec"]["namespaceSelectors"].as_array().cloned().unwrap_or_default();
    let mut provisioned = Vec::new();
    for ns in ctx.world.store.list("namespaces", None).0 {
        if !sels.iter().any(|s| labels_match(&ns, s)) {
            continue;
        }
        let n = meta_str(&ns, "name").to_string();
        ctx.world.store.ensure(
            "externalsecrets.external-secrets.io",
            json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                "metadata": {"name": es_name, "namespace": n,
                    "ownerReferences": [{"apiVersion": "external-secrets.io/v1", "kind": "ClusterExternalSecret", "name": name, "uid": c["metadata"]["uid"], "controller": true}]},
                "spec": c["spec"]["externalSecretSpec"].clone()}),
        );
        provisioned.push(n);
    }
    ctx.world.store.mutate(CES, "", name, |o| {
        o["status"]["provisionedNamespaces"] = json!(provisioned);
        set_cond(o, cond("Ready", "True", "", ""));
    });
}

fn ready_store(_: &Ctx, o: &mut Value, _: &str, _: &str) {
    o["status"]["capabilities"] = json!("ReadWrite");
    set_cond(o, cond("Ready", "True", "Valid", "store validated (simulated)"));
}

fn ready_generic(_: &Ctx, o: &mut Value, _: &str, _: &str) {
    set_cond(o, cond("Ready", "True", "Ready", "ready (simulated)"));
}

fn external_secret(ctx: &Ctx, o: &mut Value, ns: &str, name: &str) {
    let target = o
        .pointer("/spec/target/name")
        .and_then(Value::as_str)
        .unwrap_or(name)
        .to_string();
    let mut data = serde_json::Map::new();
    for d in o
        .pointer("/spec/data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        if let Some(k) = d["secretKey"].as_str() {
            let v = format!(
                "simulated:{}/{}",
                d["remoteRef"]["key"].as_str().unwrap_or(""),
                d["remoteRef"]["property"].as_str().unwrap_or("")
            );
            data.insert(k.to_string(), json!(b64(v.as_bytes())));
        }
    }
    ctx.world.store.ensure("secrets", json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": target, "namespace": ns, "labels": {"reconcile.external-secrets.io/managed": "true"}, "ownerReferences": owner(o)}, "data": data}));
    o["status"]["binding"] = json!({"name": target});
    set_once(o, "refreshTime", json!(now()));
    set_cond(o, cond("Ready", "True", "SecretSynced", "secret synced (simulated)"));
}
