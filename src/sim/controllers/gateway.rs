//! Simulated Gateway API implementation: a GatewayClass is Accepted; a Gateway is Accepted with listener
//! status and, once a load-balancer address is available (`common::lb`), Programmed with
//! `status.addresses` (else Programmed False, AddressNotAssigned); an HTTPRoute's parents are Accepted.

use super::common::status::reconcile;
use super::common::{cond, lb, set_cond};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &[
        "gatewayclasses.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
    ],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    match gr {
        "gatewayclasses.gateway.networking.k8s.io" => reconcile(
            ctx,
            "gatewayclasses.gateway.networking.k8s.io",
            "GatewayClass",
            300,
            obj,
            gatewayclass,
        ),
        "gateways.gateway.networking.k8s.io" => {
            reconcile(ctx, "gateways.gateway.networking.k8s.io", "Gateway", 1500, obj, gateway)
        }
        _ => reconcile(
            ctx,
            "httproutes.gateway.networking.k8s.io",
            "HTTPRoute",
            500,
            obj,
            httproute,
        ),
    }
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
    match lb::address_for(ctx, meta_str(o, "namespace")) {
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
