//! Simulated cert-manager: an Issuer or ClusterIssuer is Ready (ACME account registered); a Certificate is
//! Ready and its Secret holds a made-up key pair. No certificate is issued.

use super::common::status::reconcile;
use super::common::{cond, set_cond, set_once};
use super::{Controller, Ctx};
use crate::sim::store::{meta_str, names::b64, now, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &[
        "certificates.cert-manager.io",
        "issuers.cert-manager.io",
        "clusterissuers.cert-manager.io",
    ],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    match gr {
        "certificates.cert-manager.io" => reconcile(
            ctx,
            "certificates.cert-manager.io",
            "Certificate",
            1500,
            obj,
            ready_cert,
        ),
        "issuers.cert-manager.io" => reconcile(ctx, "issuers.cert-manager.io", "Issuer", 500, obj, ready_issuer),
        _ => reconcile(
            ctx,
            "clusterissuers.cert-manager.io",
            "ClusterIssuer",
            500,
            obj,
            ready_issuer,
        ),
    }
}

fn ready_cert(ctx: &Ctx, o: &mut Value, ns: &str, _: &str) {
    if let Some(secret) = o.pointer("/spec/secretName").and_then(Value::as_str) {
        ctx.world.store.ensure("secrets", json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
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
