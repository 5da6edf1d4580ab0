//! Simulated External Secrets Operator. A SecretStore or ClusterSecretStore is validated as upstream's store
//! controller does (pkg/controllers/secretstore/common.go): a 1Password Connect store first builds its client,
//! which reads the Connect token Secret (`auth.secretRef.connectTokenSecretRef`); a missing Secret or key is
//! Ready False, reason `InvalidProviderConfig`, message "unable to create client" (and a Warning event with the
//! cause). It then validates the store against Connect: when the Deployment behind the `connectHost` Service is
//! not Available, Ready False, `InvalidProviderConfig`, "unable to validate store: ...". Otherwise Ready True,
//! `Valid`, "store validated". A failing store is retried (every 5 s, and whenever a Secret or Deployment
//! changes), like the controller's requeue. An ExternalSecret whose store is not Ready is Ready False
//! (`SecretSyncedError`); else it writes its target Secret with made-up values (`simulated:<key>/<property>`,
//! nothing is read from any store). A ClusterExternalSecret creates an ExternalSecret in every namespace
//! matching its `namespaceSelectors`, refreshed when namespaces change; ExternalSecretsConfig (the OpenShift
//! operator's CR) reports Ready.

use super::common::status::reconcile;
use super::common::{cond, event, has_true, key, owner, service_available, set_cond, set_once};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, names::b64, now, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

const CES: &str = "clusterexternalsecrets.external-secrets.io";
const STORES: &str = "secretstores.external-secrets.io";
const CSS: &str = "clustersecretstores.external-secrets.io";
const ES: &str = "externalsecrets.external-secrets.io";

pub const CONTROLLER: Controller = Controller {
    watches: &[
        "externalsecrets.external-secrets.io",
        "secretstores.external-secrets.io",
        "clustersecretstores.external-secrets.io",
        "externalsecretsconfigs.operator.openshift.io",
        CES,
        "namespaces",
        "secrets",
        "deployments.apps",
    ],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    match gr {
        ES => {
            reconcile(ctx, ES, "ExternalSecret", 1000, obj, external_secret);
            retry_unless_ready(ctx, ES, obj);
        }
        STORES | CSS => {
            let kind = if gr == CSS { "ClusterSecretStore" } else { "SecretStore" };
            reconcile(
                ctx,
                if gr == CSS { CSS } else { STORES },
                kind,
                500,
                obj,
                validate_store,
            );
            retry_unless_ready(ctx, gr, obj);
            if has_true(obj, "Ready") && ctx.served(ES) {
                for e in ctx
                    .world
                    .store
                    .list(ES, None)
                    .0
                    .iter()
                    .filter(|e| !has_true(e, "Ready"))
                {
                    ctx.requeue(ES, e);
                }
            }
        }
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
        "namespaces" => on_namespace(ctx),
        _ => requeue_failing_stores(ctx),
    }
}

/// A store or ExternalSecret that is not Ready is validated again in 5 s (the controller's requeue).
fn retry_unless_ready(ctx: &Arc<Ctx>, gr: &str, obj: &Value) {
    if obj.pointer("/status/conditions").is_none() || has_true(obj, "Ready") {
        return;
    }
    let (gr, ns, name) = (
        gr.to_string(),
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    ctx.once(format!("retry/{}", key(&gr, obj)), 5000, move |ctx| {
        if let Some(o) = ctx.world.store.get(&gr, &ns, &name) {
            ctx.requeue(&gr, &o);
        }
    });
}

/// A Secret or Deployment changed: stores that are not Ready validate again (and ExternalSecrets waiting for
/// them follow through their own requeue).
fn requeue_failing_stores(ctx: &Arc<Ctx>) {
    for gr in [CSS, STORES] {
        if !ctx.served(gr) {
            continue;
        }
        for s in ctx.world.store.list(gr, None).0 {
            if !has_true(&s, "Ready") {
                ctx.requeue(gr, &s);
            }
        }
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

/// Why a 1Password Connect store cannot be used yet: (reason, condition message, event message), or None.
fn store_problem(ctx: &Ctx, o: &Value, ns: &str) -> Option<(String, String, String)> {
    let op = o.pointer("/spec/provider/onepassword")?;
    let r = op
        .pointer("/auth/secretRef/connectTokenSecretRef")
        .cloned()
        .unwrap_or_default();
    let (name, key) = (r["name"].as_str().unwrap_or(""), r["key"].as_str().unwrap_or(""));
    // A ClusterSecretStore names the Secret's namespace; a SecretStore reads its own.
    let sns = r["namespace"].as_str().filter(|_| ns.is_empty()).unwrap_or(ns);
    let unable = "unable to create client".to_string();
    let secret = ctx.world.store.get("secrets", sns, name);
    let Some(secret) = secret else {
        let why =
            format!("cannot get Kubernetes secret \"{name}\" from namespace \"{sns}\": secrets \"{name}\" not found");
        return Some(("InvalidProviderConfig".into(), unable, why));
    };
    let has_key = secret.pointer("/data").and_then(|d| d.get(key)).is_some()
        || secret.pointer("/stringData").and_then(|d| d.get(key)).is_some();
    if !has_key {
        let why = format!("cannot find secret data for key: \"{key}\"");
        return Some(("InvalidProviderConfig".into(), unable, why));
    }
    let host = op["connectHost"].as_str().unwrap_or("");
    let (svc, svc_ns) = connect_service(host);
    if !svc.is_empty() && !service_available(ctx, &svc_ns, &svc) {
        let why =
            format!("error finding 1Password Vault: Get \"{host}/v1/vaults\": dial tcp: connect: connection refused");
        return Some((
            "InvalidProviderConfig".into(),
            format!("unable to validate store: {why}"),
            why,
        ));
    }
    None
}

/// The Service a `connectHost` URL names inside the cluster: `http://NAME.NAMESPACE[.svc...]:PORT`.
fn connect_service(host: &str) -> (String, String) {
    let h = host.split("://").nth(1).unwrap_or(host);
    let h = h.split([':', '/']).next().unwrap_or("");
    let mut parts = h.split('.');
    match (parts.next(), parts.next()) {
        (Some(n), Some(ns)) if !n.is_empty() => (n.to_string(), ns.to_string()),
        _ => (String::new(), String::new()),
    }
}

fn validate_store(ctx: &Ctx, o: &mut Value, ns: &str, name: &str) {
    let kind = o["kind"].as_str().unwrap_or("ClusterSecretStore").to_string();
    match store_problem(ctx, o, ns) {
        Some((reason, msg, why)) => {
            set_cond(o, cond("Ready", "False", &reason, &msg));
            // Events of cluster-scoped objects go to namespace default, as a real API server keeps them.
            let ens = if ns.is_empty() { "default" } else { ns };
            event(ctx, ens, &kind, name, &reason, &why, true);
        }
        None => {
            o["status"]["capabilities"] = json!("ReadWrite");
            set_cond(o, cond("Ready", "True", "Valid", "store validated"));
        }
    }
}

fn ready_generic(_: &Ctx, o: &mut Value, _: &str, _: &str) {
    set_cond(o, cond("Ready", "True", "Ready", "ready (simulated)"));
}

/// The store an ExternalSecret names and whether it is Ready (None: the store does not exist).
fn store_ready(ctx: &Ctx, o: &Value, ns: &str) -> Option<bool> {
    let r = o.pointer("/spec/secretStoreRef")?;
    let name = r["name"].as_str().unwrap_or("");
    let store = match r["kind"].as_str().unwrap_or("SecretStore") {
        "ClusterSecretStore" => ctx.world.store.get(CSS, "", name),
        _ => ctx.world.store.get(STORES, ns, name),
    }?;
    Some(has_true(&store, "Ready"))
}

fn external_secret(ctx: &Ctx, o: &mut Value, ns: &str, name: &str) {
    if o.pointer("/spec/secretStoreRef").is_some() && store_ready(ctx, o, ns) != Some(true) {
        set_cond(
            o,
            cond(
                "Ready",
                "False",
                "SecretSyncedError",
                "could not get secret data from provider",
            ),
        );
        return;
    }
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
