//! `load-balancer-present {decision?}`: proves, read-only, that the live cluster can give a Service of type
//! LoadBalancer an address, before phase 2 writes anything.
//!
//! OpenShift's Gateway is exposed by a LoadBalancer Service; on bare metal without a load balancer its
//! address stays pending and the Gateway is never Programmed (FACTS §5). A wait would only time out after
//! 15 minutes, so when the owner says "the cluster already has a load balancer" (decision
//! `gateway-load-balancer: existing-load-balancer`) this looks for evidence of one, any of:
//!
//! - a served `ipaddresspools.metallb.io` with at least one IPAddressPool (MetalLB installed by hand);
//! - a Service of type LoadBalancer that already has `status.loadBalancer.ingress` (something assigns them);
//! - `Infrastructure/cluster` (config.openshift.io/v1) whose `status.platformStatus.type` is a cloud with
//!   its own load balancer.
//!
//! None found: exit 2 before any write, naming what was looked for and the next step.

use crate::cluster::Cluster;
use crate::engine::kind::{Checked, Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::ui::Ui;
use serde::Deserialize;
use serde_json::Value;

/// OpenShift platform types whose cloud provider implements Services of type LoadBalancer.
pub const CLOUDS_WITH_LB: &[&str] = &["AWS", "Azure", "GCP", "IBMCloud", "PowerVS", "AlibabaCloud"];

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The decision this check backs, named in the message (default gateway-load-balancer).
    #[serde(default)]
    pub decision: Option<String>,
}

/// What the cluster showed. `pools` is None when the MetalLB API is not served at all.
#[derive(Debug, Default)]
pub struct Seen {
    pub pools: Option<Vec<Value>>,
    pub services: Vec<Value>,
    pub platform: Option<String>,
}

/// Evidence lines when a load balancer is there; else what each source showed.
pub fn judge(seen: &Seen) -> Result<Vec<String>, Vec<String>> {
    let mut found = Vec::new();
    let mut looked = Vec::new();
    match &seen.pools {
        None => looked.push("ipaddresspools.metallb.io is not served (MetalLB is not installed)".to_string()),
        Some(p) if p.is_empty() => looked.push("MetalLB is served but has no IPAddressPool".to_string()),
        Some(p) => {
            for pool in p {
                let ns = pool
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let name = pool.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
                let addrs: Vec<&str> = pool
                    .pointer("/spec/addresses")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                found.push(format!("IPAddressPool {ns}/{name}: {}", addrs.join(", ")));
            }
        }
    }
    let mut lb_services = 0;
    for svc in &seen.services {
        if svc.pointer("/spec/type").and_then(Value::as_str) != Some("LoadBalancer") {
            continue;
        }
        lb_services += 1;
        let ingress: Vec<String> = svc
            .pointer("/status/loadBalancer/ingress")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.get("ip").or_else(|| i.get("hostname")).and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if !ingress.is_empty() {
            let ns = svc.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
            let name = svc.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
            found.push(format!(
                "Service {ns}/{name} (LoadBalancer) has address {}",
                ingress.join(", ")
            ));
        }
    }
    if found.iter().all(|f| !f.starts_with("Service ")) {
        looked.push(if lb_services == 0 {
            "no Service of type LoadBalancer exists".to_string()
        } else {
            format!("{lb_services} Service(s) of type LoadBalancer, none with an address (pending)")
        });
    }
    match seen.platform.as_deref() {
        Some(p) if CLOUDS_WITH_LB.contains(&p) => found.push(format!(
            "Infrastructure/cluster platform {p} provides cloud load balancers"
        )),
        Some(p) => looked.push(format!(
            "Infrastructure/cluster platform is {p} (no cloud load balancer)"
        )),
        None => looked.push("Infrastructure/cluster (config.openshift.io) shows no platform".to_string()),
    }
    if found.is_empty() {
        Err(looked)
    } else {
        Ok(found)
    }
}

pub struct LoadBalancerPresent;

/// Read-only: it runs in preflight, before the run's first write, and again as its step.
#[async_trait::async_trait]
impl StepKind for LoadBalancerPresent {
    fn name(&self) -> &'static str {
        "load-balancer-present"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        serde_json::from_value::<Args>(args.clone())
            .map(|_| ())
            .map_err(|e| format!("bad args for load-balancer-present: {e}"))
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn preflight(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Checked, UserError> {
        check(cx.cluster, args, cx.ui).await.map(|_| Checked::default())
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        check(cx.cluster, args, cx.ui).await.map(Done::from)
    }
}

async fn check(cluster: &Cluster, args: &Value, ui: &Ui) -> Result<(u32, String), UserError> {
    let a: Args = serde_json::from_value(args.clone())
        .map_err(|e| UserError::usage(format!("bad args for load-balancer-present: {e}")))?;
    let decision = a.decision.unwrap_or_else(|| "gateway-load-balancer".into());
    let pools = match cluster.resolve("metallb.io/v1beta1", "IPAddressPool").await? {
        Some(_) => Some(cluster.list("metallb.io/v1beta1", "IPAddressPool", None, None).await?),
        None => None,
    };
    let services = cluster.list("v1", "Service", None, None).await?;
    let platform = cluster
        .get("config.openshift.io/v1", "Infrastructure", None, "cluster")
        .await?
        .and_then(|i| {
            i.pointer("/status/platformStatus/type")
                .or_else(|| i.pointer("/status/platform"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    match judge(&Seen {
        pools,
        services,
        platform,
    }) {
        Ok(found) => {
            for f in &found {
                ui.detail(&format!("  load balancer evidence: {f}"));
            }
            Ok((0, format!("the cluster has a load balancer: {}", found.join("; "))))
        }
        Err(looked) => Err(UserError::usage(format!(
            "no load balancer on the cluster, so the Gateway's LoadBalancer Service would stay pending: {}",
            looked.join("; ")
        ))
        .subject(format!("decision {decision}: existing-load-balancer"))
        .next(format!(
            "answer {decision}: metallb-from-git (Git's clusters/openshift/infrastructure/metallb gives the Gateway an address), or install a load balancer first; nothing was written"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pool_an_assigned_service_or_a_cloud_is_evidence_and_nothing_else_is() {
        let none = Seen::default();
        let why = judge(&none).unwrap_err().join("; ");
        assert!(
            why.contains("ipaddresspools.metallb.io is not served") && why.contains("no Service of type LoadBalancer"),
            "{why}"
        );

        let pool =
            json!({"metadata": {"namespace": "metallb-system", "name": "lan"}, "spec": {"addresses": ["10.0.0.5/32"]}});
        let got = judge(&Seen {
            pools: Some(vec![pool]),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(got, vec!["IPAddressPool metallb-system/lan: 10.0.0.5/32"]);

        let pending = json!({"metadata": {"namespace": "a", "name": "s"}, "spec": {"type": "LoadBalancer"}});
        let why = judge(&Seen {
            pools: Some(vec![]),
            services: vec![pending.clone()],
            ..Default::default()
        })
        .unwrap_err()
        .join("; ");
        assert!(
            why.contains("no IPAddressPool") && why.contains("none with an address"),
            "{why}"
        );

        let mut assigned = pending;
        assigned["status"] = json!({"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}});
        assert!(judge(&Seen {
            services: vec![assigned],
            ..Default::default()
        })
        .unwrap()[0]
            .contains("10.0.0.9"));

        assert!(judge(&Seen {
            platform: Some("AWS".into()),
            ..Default::default()
        })
        .is_ok());
        assert!(judge(&Seen {
            platform: Some("BareMetal".into()),
            ..Default::default()
        })
        .is_err());
    }
}
