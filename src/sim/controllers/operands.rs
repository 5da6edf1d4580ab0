//! Simulated operands: a small table of (resource, base delay, reconcile fn). Each reconcile writes
//! the status a healthy operator would report (or the stalled state a `stall=` fault asks for) and
//! creates the objects named in docs/sim.md. Reconciles are idempotent: a second run changes nothing.

use super::{cond, key, nodes, set_cond, set_once, Ctx};
use crate::sim::catalog::INGRESS_DOMAIN;
use crate::sim::defaults::b64;
use crate::sim::store::{meta_str, now};
use serde_json::{json, Value};
use std::sync::Arc;

type Reconcile = fn(&Ctx, &mut Value, &str, &str);

/// (group resource, kind, base delay ms, reconcile)
const TABLE: &[(&str, &str, u64, Reconcile)] = &[
    ("argocds.argoproj.io", "ArgoCD", 2000, argocd),
    ("applications.argoproj.io", "Application", 1000, application),
    (
        "gatewayclasses.gateway.networking.k8s.io",
        "GatewayClass",
        300,
        gatewayclass,
    ),
    ("gateways.gateway.networking.k8s.io", "Gateway", 1500, gateway),
    ("httproutes.gateway.networking.k8s.io", "HTTPRoute", 500, httproute),
    ("certificates.cert-manager.io", "Certificate", 1500, ready_cert),
    ("issuers.cert-manager.io", "Issuer", 500, ready_issuer),
    ("clusterissuers.cert-manager.io", "ClusterIssuer", 500, ready_issuer),
    (
        "clustersecretstores.external-secrets.io",
        "ClusterSecretStore",
        500,
        ready_store,
    ),
    ("secretstores.external-secrets.io", "SecretStore", 500, ready_store),
    (
        "externalsecrets.external-secrets.io",
        "ExternalSecret",
        1000,
        external_secret,
    ),
    (
        "externalsecretsconfigs.operator.openshift.io",
        "ExternalSecretsConfig",
        1000,
        ready_generic,
    ),
    ("lvmclusters.lvm.topolvm.io", "LVMCluster", 3000, nodes::lvmcluster),
    (
        "clusterpolicies.nvidia.com",
        "ClusterPolicy",
        3000,
        nodes::clusterpolicy,
    ),
    (
        "nodefeaturediscoveries.nfd.openshift.io",
        "NodeFeatureDiscovery",
        1500,
        nodes::nfd,
    ),
    (
        "nodefeaturerules.nfd.k8s-sigs.io",
        "NodeFeatureRule",
        500,
        nodes::nfd_rule,
    ),
];

pub fn on_event(ctx: &Arc<Ctx>, gr: &str, obj: &Value) {
    let Some(&(gr, kind, delay, f)) = TABLE.iter().find(|t| t.0 == gr) else {
        return;
    };
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    ctx.once(key(gr, obj), delay, move |ctx| {
        let stall = ctx.shared.store.get(gr, &ns, &name).and_then(|o| ctx.stall(kind, &o));
        ctx.shared.store.mutate(gr, &ns, &name, |o| match &stall {
            Some(state) => stalled(o, kind, state),
            None => f(ctx, o, &ns, &name),
        });
    });
}

/// Holds an object at a `stall=` state: `Cond=Status` sets a condition, else the kind's phase/state field.
fn stalled(o: &mut Value, kind: &str, state: &str) {
    if let Some((t, s)) = state.split_once('=') {
        let reason = if t == "Programmed" && s == "False" {
            "AddressNotAssigned"
        } else {
            "SimulatedStall"
        };
        set_cond(o, cond(t, s, reason, &format!("held at {t}={s} by a simulated stall")));
        return;
    }
    match kind {
        "ArgoCD" => o["status"]["phase"] = json!(state),
        "Application" => o["status"]["health"] = json!({"status": state}),
        "LVMCluster" | "ClusterPolicy" => {
            o["status"]["state"] = json!(state);
            if kind == "LVMCluster" {
                o["status"]["ready"] = json!(false);
            }
        }
        _ => set_cond(
            o,
            cond(
                "Ready",
                "False",
                state,
                &format!("held at {state} by a simulated stall"),
            ),
        ),
    }
}

fn ingress_domain(ctx: &Ctx) -> String {
    ctx.shared
        .store
        .get("ingresses.config.openshift.io", "", "cluster")
        .and_then(|i| i.pointer("/spec/domain").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| INGRESS_DOMAIN.to_string())
}

/// An ownerReference to `o` (so deleting `o` deletes the child).
fn owner(o: &Value) -> Value {
    json!([{"apiVersion": o["apiVersion"], "kind": o["kind"], "name": o["metadata"]["name"], "uid": o["metadata"]["uid"],
        "controller": true, "blockOwnerDeletion": true}])
}

fn argocd(ctx: &Ctx, o: &mut Value, ns: &str, name: &str) {
    let route = o
        .pointer("/spec/server/route/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let host = format!("{name}-server-{ns}.{}", ingress_domain(ctx));
    let st = &ctx.shared.store;
    if route && ctx.served("routes.route.openshift.io") {
        st.ensure("routes.route.openshift.io", json!({"apiVersion": "route.openshift.io/v1", "kind": "Route",
            "metadata": {"name": format!("{name}-server"), "namespace": ns, "labels": {"app.kubernetes.io/name": format!("{name}-server")}, "ownerReferences": owner(o)},
            "spec": {"host": host, "to": {"kind": "Service", "name": format!("{name}-server"), "weight": 100},
                "port": {"targetPort": "https"}, "tls": {"termination": "reencrypt", "insecureEdgeTerminationPolicy": "Redirect"}, "wildcardPolicy": "None"},
            "status": {"ingress": [{"host": host, "routerName": "default", "wildcardPolicy": "None",
                "conditions": [{"type": "Admitted", "status": "True", "lastTransitionTime": now()}]}]}}));
    }
    for comp in ["server", "repo-server", "redis", "applicationset-controller"] {
        st.ensure("deployments.apps", json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("{name}-{comp}"), "namespace": ns, "labels": {"app.kubernetes.io/name": format!("{name}-{comp}"), "app.kubernetes.io/part-of": "argocd"}, "ownerReferences": owner(o)},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": format!("{name}-{comp}")}},
                "template": {"metadata": {"labels": {"app.kubernetes.io/name": format!("{name}-{comp}")}},
                    "spec": {"containers": [{"name": comp, "image": "registry.redhat.io/openshift-gitops-1/argocd-rhel9:simulated"}]}}}}));
    }
    st.ensure("services", json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": format!("{name}-server"), "namespace": ns, "ownerReferences": owner(o)},
        "spec": {"type": "ClusterIP", "clusterIP": "172.30.0.80", "selector": {"app.kubernetes.io/name": format!("{name}-server")},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "https", "port": 443, "targetPort": 8080}]}}));
    let s = &mut o["status"];
    for (k, v) in [
        ("phase", "Available"),
        ("server", "Running"),
        ("repo", "Running"),
        ("redis", "Running"),
        ("applicationController", "Running"),
        ("applicationSetController", "Running"),
        ("sso", "Unknown"),
    ] {
        s[k] = json!(v);
    }
    s["host"] = json!(if route {
        host
    } else {
        format!("{name}-server.{ns}.svc.cluster.local")
    });
}

fn application(_: &Ctx, o: &mut Value, _: &str, _: &str) {
    o["status"]["sync"] = json!({"status": "Synced", "revision": "0000000000000000000000000000000000000000",
        "comparedTo": {"source": o.pointer("/spec/source").cloned().unwrap_or(json!({})), "destination": o.pointer("/spec/destination").cloned().unwrap_or(json!({}))}});
    o["status"]["health"] = json!({"status": "Healthy"});
    set_once(o, "reconciledAt", json!(now()));
}

fn gatewayclass(_: &Ctx, o: &mut Value, _: &str, _: &str) {
    set_cond(
        o,
        cond("Accepted", "True", "Accepted", "GatewayClass is accepted (simulated)"),
    );
}

fn gateway(ctx: &Ctx, o: &mut Value, _: &str, _: &str) {
    let listeners: Vec<Value> = o.pointer("/spec/listeners").and_then(Value::as_array).cloned().unwrap_or_default().iter()
        .map(|l| json!({"name": l["name"], "attachedRoutes": 0,
            "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}, {"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"}],
            "conditions": [cond("Accepted", "True", "Accepted", ""), cond("Programmed", "True", "Programmed", ""), cond("ResolvedRefs", "True", "ResolvedRefs", "")]}))
        .collect();
    o["status"]["listeners"] = json!(listeners);
    set_cond(o, cond("Accepted", "True", "Accepted", "Resource accepted (simulated)"));
    match super::lb::address_for(ctx, meta_str(o, "namespace")) {
        Err(why) => {
            if let Some(s) = o["status"].as_object_mut() {
                s.remove("addresses");
            }
            set_cond(
                o,
                cond(
                    "Programmed",
                    "False",
                    "AddressNotAssigned",
                    &format!("No addresses have been assigned to the Gateway: {why}"),
                ),
            );
        }
        Ok(ip) => {
            o["status"]["addresses"] = json!([{"type": "IPAddress", "value": ip}]);
            set_cond(
                o,
                cond(
                    "Programmed",
                    "True",
                    "Programmed",
                    "Resource programmed, assigned to service(s) (simulated)",
                ),
            );
        }
    }
}

fn httproute(_: &Ctx, o: &mut Value, ns: &str, _: &str) {
    let parents: Vec<Value> = o.pointer("/spec/parentRefs").and_then(Value::as_array).cloned().unwrap_or_default().into_iter()
        .map(|mut p| {
            if p.get("namespace").is_none() {
                p["namespace"] = json!(ns);
            }
            json!({"parentRef": p, "controllerName": "sim.local/gateway-controller",
                "conditions": [cond("Accepted", "True", "Accepted", ""), cond("ResolvedRefs", "True", "ResolvedRefs", "")]})
        })
        .collect();
    o["status"]["parents"] = json!(parents);
}

fn ready_cert(ctx: &Ctx, o: &mut Value, ns: &str, _: &str) {
    if let Some(secret) = o.pointer("/spec/secretName").and_then(Value::as_str) {
        ctx.shared.store.ensure("secrets", json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": secret, "namespace": ns, "annotations": {"cert-manager.io/certificate-name": meta_str(o, "name")}},
            "data": {"tls.crt": b64(b"simulated certificate"), "tls.key": b64(b"simulated key")}}));
    }
    set_once(o, "notBefore", json!(now()));
    set_once(
        o,
        "notAfter",
        json!((chrono::Utc::now() + chrono::Duration::days(90))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()),
    );
    set_cond(
        o,
        cond(
            "Ready",
            "True",
            "Ready",
            "Certificate is up to date and has not expired (simulated)",
        ),
    );
}

fn ready_issuer(_: &Ctx, o: &mut Value, _: &str, _: &str) {
    set_cond(
        o,
        cond(
            "Ready",
            "True",
            "ACMEAccountRegistered",
            "The ACME account was registered with the ACME server (simulated)",
        ),
    );
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
    ctx.shared.store.ensure("secrets", json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": target, "namespace": ns, "labels": {"reconcile.external-secrets.io/managed": "true"}, "ownerReferences": owner(o)}, "data": data}));
    o["status"]["binding"] = json!({"name": target});
    set_once(o, "refreshTime", json!(now()));
    set_cond(o, cond("Ready", "True", "SecretSynced", "secret synced (simulated)"));
}
