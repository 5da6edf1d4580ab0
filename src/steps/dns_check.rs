//! `dns-check {gateway: {namespace, name}, records, appsDomain}`: every hostname of every HTTPRoute attached
//! to the Gateway resolves to the Gateway's address.
//!
//! On sno-ai-lab the LAN's wildcard for `*.<appsDomain>` points at the node, where OpenShift's default router
//! answers any name it has no Route for with its default certificate and a 503 (FACTS §12); the Gateway is on
//! its own (MetalLB) address. So each app hostname needs a DNS record that the cluster cannot create (the LAN
//! DNS is outside Git): this step resolves them (the system resolver, or the one fleetctl is given with
//! `FLEETCTL_DNS_SERVER`, loopback only) and, when one does not lead to the Gateway, stops and prints the
//! records to create, as decided (`records`): `per-host-records` (one A record per app hostname) or
//! `gateway-wildcard` (the wildcard to the Gateway, plus per-host records keeping the platform's Routes on the
//! node). Read-only; a rehearsal or a simulated cluster without a given resolver is skipped, never resolved.

use crate::checks::resolve;
use crate::engine::kind::{Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use serde::Deserialize;
use serde_json::Value;

pub struct DnsCheck;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Args {
    gateway: GatewayRef,
    records: String,
    apps_domain: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewayRef {
    namespace: String,
    name: String,
}

const RECORD_KINDS: &[&str] = &["per-host-records", "gateway-wildcard"];

fn parse(args: &Value) -> Result<Args, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad args for dns-check: {e}")))
}

fn str_at<'a>(o: &'a Value, p: &str) -> &'a str {
    o.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// The hostnames of the HTTPRoutes whose parentRefs name the Gateway.
fn hostnames(routes: &[Value], gw: &GatewayRef) -> Vec<String> {
    let mut out: Vec<String> = routes
        .iter()
        .filter(|r| {
            let ns = str_at(r, "/metadata/namespace");
            r["spec"]["parentRefs"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == gw.name.as_str() && p["namespace"].as_str().unwrap_or(ns) == gw.namespace)
            })
        })
        .flat_map(|r| r["spec"]["hostnames"].as_array().cloned().unwrap_or_default())
        .filter_map(|h| h.as_str().map(str::to_string))
        .filter(|h| !h.starts_with("*."))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The records the owner must create so that every app hostname reaches the Gateway.
fn records_to_create(a: &Args, gw_ip: &str, wrong: &[String], routes_on_node: &[(String, String)]) -> Vec<String> {
    if a.records == "gateway-wildcard" {
        let mut r = vec![format!(
            "*.{}  A  {gw_ip}   (replaces the wildcard that points at the node)",
            a.apps_domain
        )];
        r.extend(
            routes_on_node
                .iter()
                .map(|(h, node)| format!("{h}  A  {node}   (keeps this platform Route on the node's router)")),
        );
        return r;
    }
    wrong.iter().map(|h| format!("{h}  A  {gw_ip}")).collect()
}

async fn check(cx: &Cx<'_>, a: &Args) -> Result<String, UserError> {
    let gw = cx
        .cluster
        .get(
            "gateway.networking.k8s.io/v1",
            "Gateway",
            Some(&a.gateway.namespace),
            &a.gateway.name,
        )
        .await?;
    let gw_ip = gw
        .as_ref()
        .map(|g| str_at(g, "/status/addresses/0/value").to_string())
        .unwrap_or_default();
    let subject = format!("Gateway {}/{}", a.gateway.namespace, a.gateway.name);
    if gw_ip.is_empty() {
        return Err(
            UserError::failed("the Gateway has no address yet, so no DNS record can point at it")
                .subject(subject)
                .next("phase 2 gives it one (its load balancer); oc -n openshift-ingress get gateway,svc"),
        );
    }
    let routes = cx
        .cluster
        .list("gateway.networking.k8s.io/v1", "HTTPRoute", None, None)
        .await?;
    let hosts = hostnames(&routes, &a.gateway);
    if hosts.is_empty() {
        return Ok(format!("no HTTPRoute is attached to {subject} yet"));
    }
    let simulated = cx.cluster.simulated;
    if resolve::given_server().map_err(UserError::usage)?.is_none() && !resolve::may_use_system(simulated) {
        return Ok(format!(
            "skipped: {} is a simulated cluster and fleetctl was given no resolver (FLEETCTL_DNS_SERVER); real names are never resolved from a rehearsal",
            cx.spec.name
        ));
    }
    let mut wrong = Vec::new();
    let mut lines = Vec::new();
    for h in &hosts {
        let ips = resolve::resolve(h, simulated).await.map_err(UserError::failed)?;
        let got: Vec<String> = ips.iter().map(|i| i.to_string()).collect();
        if got.contains(&gw_ip) {
            lines.push(format!("{h} -> {gw_ip} (the Gateway)"));
            continue;
        }
        lines.push(match got.first() {
            None => format!("{h} does not resolve"),
            Some(ip) => format!("{h} -> {ip}, not the Gateway ({gw_ip}): a browser reaches whatever answers there (on the node, OpenShift's default router: its default certificate and a 503)"),
        });
        wrong.push(h.clone());
    }
    if wrong.is_empty() {
        return Ok(format!(
            "every app hostname resolves to the Gateway: {}",
            lines.join("; ")
        ));
    }
    let node_routes = platform_routes(cx).await?;
    let records = records_to_create(a, &gw_ip, &wrong, &node_routes);
    for l in &lines {
        cx.ui.line(&format!("  {l}"));
    }
    cx.ui
        .line(&format!("  manual step: create these DNS records ({}):", a.records));
    for r in &records {
        cx.ui.line(&format!("    {r}"));
    }
    Err(UserError::failed(format!(
        "{} of {} app hostname(s) do not resolve to the Gateway ({gw_ip}): {}",
        wrong.len(),
        hosts.len(),
        wrong.join(", ")
    ))
    .subject(subject)
    .next(format!(
        "create in the LAN DNS (the Firewalla rule; Cloudflare too if it holds per-host records): {}; then run the phase again",
        records.join("; ")
    )))
}

/// Hosts of the platform's own Routes (console, OAuth, the Argo CD UI) and the node address the router is on.
async fn platform_routes(cx: &Cx<'_>) -> Result<Vec<(String, String)>, UserError> {
    let nodes = cx.cluster.list("v1", "Node", None, None).await?;
    let node_ip = nodes
        .first()
        .and_then(|n| n["status"]["addresses"].as_array())
        .and_then(|a| a.iter().find(|x| x["type"] == "InternalIP"))
        .and_then(|x| x["address"].as_str())
        .unwrap_or("<node address>")
        .to_string();
    let routes = cx.cluster.list("route.openshift.io/v1", "Route", None, None).await?;
    let mut hosts: Vec<String> = routes
        .iter()
        .map(|r| str_at(r, "/spec/host").to_string())
        .filter(|h| !h.is_empty())
        .collect();
    hosts.sort();
    hosts.dedup();
    Ok(hosts.into_iter().map(|h| (h, node_ip.clone())).collect())
}

#[async_trait::async_trait]
impl StepKind for DnsCheck {
    fn name(&self) -> &'static str {
        "dns-check"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        let a = parse(args).map_err(|e| e.cause)?;
        if !a.records.contains("{{") && !RECORD_KINDS.contains(&a.records.as_str()) {
            return Err(format!("dns-check: records must be one of {}", RECORD_KINDS.join(", ")));
        }
        Ok(())
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        check(cx, &parse(args)?).await.map(Done::already)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hostnames_of_routes_on_the_gateway_and_the_records_to_create() {
        let gw = GatewayRef {
            namespace: "openshift-ingress".into(),
            name: "apps-gateway".into(),
        };
        let routes = vec![
            json!({"metadata": {"namespace": "redlib"}, "spec": {"hostnames": ["redlib.apps.x"],
                "parentRefs": [{"name": "apps-gateway", "namespace": "openshift-ingress"}]}}),
            json!({"metadata": {"namespace": "other"}, "spec": {"hostnames": ["other.apps.x"],
                "parentRefs": [{"name": "elsewhere", "namespace": "openshift-ingress"}]}}),
        ];
        assert_eq!(hostnames(&routes, &gw), vec!["redlib.apps.x".to_string()]);
        let a = Args {
            gateway: gw,
            records: "per-host-records".into(),
            apps_domain: "apps.x".into(),
        };
        assert_eq!(
            records_to_create(&a, "192.0.2.11", &["redlib.apps.x".into()], &[]),
            vec!["redlib.apps.x  A  192.0.2.11"]
        );
        let w = Args {
            records: "gateway-wildcard".into(),
            ..a
        };
        let r = records_to_create(
            &w,
            "192.0.2.11",
            &["redlib.apps.x".into()],
            &[("argocd.apps.x".into(), "192.0.2.10".into())],
        );
        assert!(
            r[0].starts_with("*.apps.x  A  192.0.2.11") && r[1].starts_with("argocd.apps.x  A  192.0.2.10"),
            "{r:?}"
        );
    }
}
