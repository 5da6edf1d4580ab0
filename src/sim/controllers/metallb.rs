//! Simulated MetalLB (openshift): a Service of type LoadBalancer gets `status.loadBalancer.ingress` once an
//! `IPAddressPool` hands out an address to its namespace (`common::lb`); creating or changing a pool
//! reconciles Gateways and LoadBalancer Services again. Talos: Cilium's LB IPAM gives plain Services
//! nothing here (only Gateways get an address).

use super::common::key;
use super::common::lb::{address_for, POOLS};
use super::{Controller, Ctx};
use crate::fleet::Platform;
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

const GATEWAYS: &str = "gateways.gateway.networking.k8s.io";

pub const CONTROLLER: Controller = Controller {
    watches: &[POOLS, "services"],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    if gr == POOLS {
        on_pool(ctx);
    } else {
        on_service(ctx, obj);
    }
}

/// A pool changed: Gateways and LoadBalancer Services are reconciled again.
fn on_pool(ctx: &Arc<Ctx>) {
    for gw in ctx.world.store.list(GATEWAYS, None).0 {
        ctx.requeue(GATEWAYS, &gw);
    }
    for svc in ctx.world.store.list("services", None).0 {
        on_service(ctx, &svc);
    }
}

/// A Service of type LoadBalancer gets `status.loadBalancer.ingress` once an address is available.
fn on_service(ctx: &Arc<Ctx>, svc: &Value) {
    // Talos: Cilium's LB IPAM is not simulated for plain Services (only Gateways get an address).
    if ctx.world.platform != Platform::Openshift
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
        ctx.world.store.mutate("services", &ns, &name, |o| {
            o["status"]["loadBalancer"] = json!({"ingress": [{"ip": ip, "ipMode": "VIP"}]});
        });
    });
}
