//! Simulated load balancing (docs/sim.md). On openshift nothing hands out LoadBalancer addresses until
//! MetalLB has an `IPAddressPool` (metallb.io): then a Gateway, and every Service of type LoadBalancer,
//! gets the pool's first address, as MetalLB's controller would. Pools with `autoAssign: false`, or whose
//! `serviceAllocation.namespaces` leave out the object's namespace, are skipped. On talos Cilium's LB IPAM
//! is assumed and Gateways always get 192.0.2.80. The `no-lb` fault withholds every address.

use super::{key, Ctx};
use crate::fleet::Platform;
use crate::sim::store::meta_str;
use serde_json::{json, Value};
use std::sync::Arc;

pub const POOLS: &str = "ipaddresspools.metallb.io";
const GATEWAYS: &str = "gateways.gateway.networking.k8s.io";
/// The address Cilium's LB IPAM is assumed to give on talos.
const TALOS_ADDRESS: &str = "192.0.2.80";

/// The address a LoadBalancer in `ns` gets now, or why it gets none.
pub fn address_for(ctx: &Ctx, ns: &str) -> Result<String, String> {
    if ctx.shared.faults().no_lb {
        return Err("the LoadBalancer Service is pending (simulated no-lb)".into());
    }
    if ctx.shared.platform == Platform::Talos {
        return Ok(TALOS_ADDRESS.into());
    }
    if !ctx.served(POOLS) {
        return Err("the LoadBalancer Service is pending: no load balancer is installed (no metallb.io IPAddressPool is served)".into());
    }
    let mut pools = ctx.shared.store.list(POOLS, None).0;
    pools.sort_by(|a, b| meta_str(a, "name").cmp(meta_str(b, "name")));
    pools
        .iter()
        .filter(|p| p.pointer("/spec/autoAssign").and_then(Value::as_bool) != Some(false))
        .filter(|p| {
            match p
                .pointer("/spec/serviceAllocation/namespaces")
                .and_then(Value::as_array)
            {
                Some(list) => list.iter().any(|n| n.as_str() == Some(ns)),
                None => true,
            }
        })
        .find_map(|p| {
            p.pointer("/spec/addresses/0")
                .and_then(Value::as_str)
                .map(first_address)
        })
        .ok_or_else(|| {
            format!("the LoadBalancer Service is pending: no IPAddressPool hands out addresses to namespace {ns}")
        })
}

/// The first address of a MetalLB pool entry: `A.B.C.D/N` (the network address) or `FROM-TO`.
fn first_address(entry: &str) -> String {
    let entry = entry.trim();
    if let Some((from, _)) = entry.split_once('-') {
        return from.trim().to_string();
    }
    match entry.split_once('/') {
        Some((ip, bits)) => match (ip.parse::<std::net::Ipv4Addr>(), bits.parse::<u32>()) {
            (Ok(ip), Ok(bits)) if bits <= 32 => {
                let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                std::net::Ipv4Addr::from(u32::from(ip) & mask).to_string()
            }
            _ => ip.to_string(),
        },
        None => entry.to_string(),
    }
}

/// A pool changed: Gateways and LoadBalancer Services are reconciled again.
pub fn on_pool(ctx: &Arc<Ctx>) {
    for gw in ctx.shared.store.list(GATEWAYS, None).0 {
        super::operands::on_event(ctx, GATEWAYS, &gw);
    }
    for svc in ctx.shared.store.list("services", None).0 {
        on_service(ctx, &svc);
    }
}

/// A Service of type LoadBalancer gets `status.loadBalancer.ingress` once an address is available.
pub fn on_service(ctx: &Arc<Ctx>, svc: &Value) {
    // Talos: Cilium's LB IPAM is not simulated for plain Services (only Gateways get an address).
    if ctx.shared.platform != Platform::Openshift
        || svc.pointer("/spec/type").and_then(Value::as_str) != Some("LoadBalancer")
    {
        return;
    }
    let (ns, name) = (
        meta_str(svc, "namespace").to_string(),
        meta_str(svc, "name").to_string(),
    );
    ctx.once(key("services", svc), 500, move |ctx| {
        let Ok(ip) = address_for(ctx, &ns) else {
            return;
        };
        ctx.shared.store.mutate("services", &ns, &name, |o| {
            o["status"]["loadBalancer"] = json!({"ingress": [{"ip": ip, "ipMode": "VIP"}]});
        });
    });
}

#[cfg(test)]
mod tests {
    use super::first_address;

    #[test]
    fn the_first_address_of_a_pool_entry() {
        assert_eq!(first_address("192.168.10.11/32"), "192.168.10.11");
        assert_eq!(first_address("192.168.10.16/28"), "192.168.10.16");
        assert_eq!(first_address("10.0.0.7/24"), "10.0.0.0");
        assert_eq!(first_address("192.168.10.20-192.168.10.30"), "192.168.10.20");
        assert_eq!(first_address("192.168.10.12"), "192.168.10.12");
    }
}
