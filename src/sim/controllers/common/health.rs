//! Resource health as the simulated Argo CD assesses it, following Argo CD's built-in checks (and the
//! custom ones this fleet's ArgoCD CR adds): Deployment, Pod, PVC, LoadBalancer Service, OLM Subscription and
//! CSV, Application ("wait for child"), ApplicationSet, External Secrets stores and ExternalSecrets,
//! cert-manager Certificates and issuers. A kind without a check is Healthy once it exists.

use super::has_true;
use serde_json::Value;

/// Argo CD's health statuses, best first (an Application takes the worst of its resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    Healthy,
    Progressing,
    Missing,
    Degraded,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Progressing => "Progressing",
            Health::Missing => "Missing",
            Health::Degraded => "Degraded",
        }
    }
}

fn cond<'a>(o: &'a Value, t: &str) -> Option<&'a Value> {
    o.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c["type"] == t)
}

fn msg(c: Option<&Value>) -> String {
    c.and_then(|c| c["message"].as_str()).unwrap_or("").to_string()
}

/// The health of one live object (`group` is its API group, "" for the core group) and a message.
pub fn assess(group: &str, kind: &str, o: &Value) -> (Health, String) {
    let status = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or("");
    match (group, kind) {
        ("apps", "Deployment") => {
            let prog = cond(o, "Progressing");
            if prog.is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
                return (
                    Health::Degraded,
                    format!("Deployment {:?} exceeded its progress deadline", o["metadata"]["name"]),
                );
            }
            let want = o.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            let ready = o
                .pointer("/status/availableReplicas")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if has_true(o, "Available") && ready >= want {
                (Health::Healthy, String::new())
            } else {
                (
                    Health::Progressing,
                    format!("Waiting for rollout to finish: {ready} of {want} updated replicas are available..."),
                )
            }
        }
        ("", "Pod") => match status("/status/phase") {
            "Running" | "Succeeded" => (Health::Healthy, String::new()),
            "Failed" => (Health::Degraded, status("/status/message").to_string()),
            _ => (Health::Progressing, "pod is not running yet".into()),
        },
        ("", "PersistentVolumeClaim") => match status("/status/phase") {
            "Bound" => (Health::Healthy, String::new()),
            "Lost" => (Health::Degraded, "the claim lost its volume".into()),
            _ => (Health::Progressing, "waiting for the claim to be bound".into()),
        },
        ("", "Service") if o.pointer("/spec/type").and_then(Value::as_str) == Some("LoadBalancer") => {
            match o.pointer("/status/loadBalancer/ingress/0") {
                Some(_) => (Health::Healthy, String::new()),
                None => (Health::Progressing, "waiting for the load balancer address".into()),
            }
        }
        ("operators.coreos.com", "Subscription") => subscription(o),
        ("operators.coreos.com", "ClusterServiceVersion") => match status("/status/phase") {
            "Succeeded" => (Health::Healthy, String::new()),
            "Failed" => (Health::Degraded, status("/status/message").to_string()),
            _ => (Health::Progressing, status("/status/message").to_string()),
        },
        ("argoproj.io", "Application") => match status("/status/health/status") {
            "Healthy" => (Health::Healthy, String::new()),
            "Degraded" => (Health::Degraded, status("/status/health/message").to_string()),
            "Missing" => (Health::Missing, String::new()),
            _ => (
                Health::Progressing,
                "Waiting for the Application to report its health".into(),
            ),
        },
        ("argoproj.io", "ApplicationSet") => match cond(o, "ErrorOccurred") {
            Some(c) if c["status"] == "True" => (Health::Degraded, msg(Some(c))),
            _ => (Health::Healthy, String::new()),
        },
        ("external-secrets.io", _) | ("cert-manager.io", _) => ready_condition(kind, o),
        _ => (Health::Healthy, String::new()),
    }
}

/// Ready True is Healthy; Ready False is Degraded (a Certificate still issuing is Progressing); no condition
/// yet is Progressing.
fn ready_condition(kind: &str, o: &Value) -> (Health, String) {
    match cond(o, "Ready") {
        Some(c) if c["status"] == "True" => (Health::Healthy, msg(Some(c))),
        Some(c) if kind == "Certificate" && has_true(o, "Issuing") => (Health::Progressing, msg(Some(c))),
        Some(c) if c["status"] == "False" => (Health::Degraded, msg(Some(c))),
        _ => (Health::Progressing, format!("Waiting for the {kind} to report Ready")),
    }
}

/// The OLM Subscription check of clusters/openshift/bootstrap/argocd/argocd.yaml (and Argo CD's built-in one).
fn subscription(o: &Value) -> (Health, String) {
    let failing = [
        "CatalogSourcesUnhealthy",
        "InstallPlanFailed",
        "ResolutionFailed",
        "InstallPlanMissing",
    ];
    for c in o
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let t = c["type"].as_str().unwrap_or("");
        let benign = t == "InstallPlanMissing" && c["reason"] == "ReferencedInstallPlanNotFound";
        if c["status"] == "True" && failing.contains(&t) && !benign {
            return (Health::Degraded, format!("{t}: {}", msg(Some(c))));
        }
    }
    match o.pointer("/status/state").and_then(Value::as_str) {
        Some("AtLatestKnown") => (Health::Healthy, String::new()),
        Some("UpgradeFailed") => (Health::Degraded, "Upgrade failed (see the InstallPlan)".into()),
        s => (
            Health::Progressing,
            format!("Subscription state: {}", s.unwrap_or("unknown")),
        ),
    }
}
