//! The simulated Argo CD operator (OpenShift GitOps): an ArgoCD CR reports `status.phase: Available` and
//! its components Running after 2 s, and gets its Deployments, the `<name>-server` Service and, when
//! `spec.server.route.enabled`, a Route `<name>-server` on the cluster's ingress domain.

use super::common::owner;
use super::common::status::reconcile;
use super::{Controller, Ctx};
use crate::sim::catalog::INGRESS_DOMAIN;
use crate::sim::store::{now, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &["argocds.argoproj.io"],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, _: &str, _: EventType, obj: &Value) {
    reconcile(ctx, "argocds.argoproj.io", "ArgoCD", 2000, obj, argocd);
}

fn ingress_domain(ctx: &Ctx) -> String {
    ctx.world
        .store
        .get("ingresses.config.openshift.io", "", "cluster")
        .and_then(|i| i.pointer("/spec/domain").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| INGRESS_DOMAIN.to_string())
}

fn argocd(ctx: &Ctx, o: &mut Value, ns: &str, name: &str) {
    let route = o
        .pointer("/spec/server/route/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let host = format!("{name}-server-{ns}.{}", ingress_domain(ctx));
    let st = &ctx.world.store;
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
