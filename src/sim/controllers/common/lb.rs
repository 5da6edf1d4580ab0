//! The load-balancer address a Gateway or a Service of type LoadBalancer gets (docs/sim.md): on openshift
//! the first address of the first MetalLB `IPAddressPool` that hands out addresses to the namespace; on
//! talos Cilium's LB IPAM is assumed (192.0.2.80 for Gateways). The `no-lb` fault withholds every address.

use crate::fleet::Platform;
use crate::sim::controllers::Ctx;
use crate::sim::store::meta_str;
use serde_json::Value;

pub const POOLS: &str = "ipaddresspools.metallb.io";

/// The address Cilium's LB IPAM is assumed to give on talos.
const TALOS_ADDRESS: &str = "192.0.2.80";

/// The address a LoadBalancer in `ns` gets now, or why it gets none.
pub fn address_for(ctx: &Ctx, ns: &str) -> Result<String, String> {
    if ctx.world.faults().no_lb {
        return Err("the LoadBalancer Service is pending (simulated no-lb)".into());
    }
    if ctx.world.platform == Platform::Talos {
        return Ok(TALOS_ADDRESS.into());
    }
    if !ctx.served(POOLS) {
        return Err("the LoadBalancer Service is pending: no load balancer is installed (no metallb.io IPAddressPool is served)".into());
    }
    let mut pools = ctx.world.store.list(POOLS, None).0;
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
