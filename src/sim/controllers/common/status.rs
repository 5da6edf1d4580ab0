//! The shape most simulated operands share: after a delay, write the status a healthy operator would
//! report, or the state a `stall=` fault holds the object at. Reconciles are idempotent: a second run
//! changes nothing.

use super::{cond, key, set_cond};
use crate::sim::controllers::Ctx;
use crate::sim::store::meta_str;
use serde_json::{json, Value};
use std::sync::Arc;

/// Writes an object's status: `(ctx, object, namespace, name)`.
pub type Reconcile = fn(&Ctx, &mut Value, &str, &str);

/// Runs `f` on the object (`gr`, of `kind`) after `delay_ms / speed`, unless a `stall=` fault holds it.
pub fn reconcile(ctx: &Arc<Ctx>, gr: &'static str, kind: &'static str, delay_ms: u64, obj: &Value, f: Reconcile) {
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    ctx.once(key(gr, obj), delay_ms, move |ctx| {
        let stall = ctx.world.store.get(gr, &ns, &name).and_then(|o| ctx.stall(kind, &o));
        ctx.world.store.mutate(gr, &ns, &name, |o| match &stall {
            Some(state) => stalled(o, kind, state),
            None => f(ctx, o, &ns, &name),
        });
    });
}

/// Holds an object at a `stall=` state: `Cond=Status` sets a condition, else the kind's phase/state field.
pub fn stalled(o: &mut Value, kind: &str, state: &str) {
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
        "Application" => {
            // Argo CD reports a degraded application with a message; one never synced is OutOfSync.
            let msg = format!("held at {state} by a simulated stall");
            o["status"]["health"] = json!({"status": state, "message": msg});
            if o.pointer("/status/sync/status").is_none() {
                o["status"]["sync"] = json!({"status": "OutOfSync"});
            }
        }
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
