//! OpenShift's namespace security allocation: every namespace gets an `openshift.io/sa.scc.uid-range`
//! (1000N00000/10000), the supplemental groups and an MCS label, which SCC admission reads.

use super::common::admission::{RANGE_SIZE, UID_RANGE};
use super::{Controller, Ctx};
use crate::fleet::Platform;
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &["namespaces"],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, _: &str, _: EventType, obj: &Value) {
    if ctx.world.platform != Platform::Openshift
        || obj
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(UID_RANGE))
            .is_some()
    {
        return;
    }
    let name = meta_str(obj, "name").to_string();
    let taken = ctx
        .world
        .store
        .list("namespaces", None)
        .0
        .iter()
        .filter(|n| {
            n.pointer("/metadata/annotations")
                .and_then(|a| a.get(UID_RANGE))
                .is_some()
        })
        .count() as i64;
    let base = 1_000_600_000 + (taken + 1) * RANGE_SIZE;
    ctx.world.store.mutate("namespaces", "", &name, |o| {
        if !o["metadata"]["annotations"].is_object() {
            o["metadata"]["annotations"] = json!({});
        }
        let a = &mut o["metadata"]["annotations"];
        if a.get(UID_RANGE).is_none() {
            a[UID_RANGE] = json!(format!("{base}/{RANGE_SIZE}"));
            a["openshift.io/sa.scc.supplemental-groups"] = json!(format!("{base}/{RANGE_SIZE}"));
            a["openshift.io/sa.scc.mcs"] = json!("s0:c27,c4");
        }
    });
}
