//! The garbage collector: deleting an owner deletes the objects whose ownerReferences name its uid.

use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::Value;
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &["*"],
    deletes: true,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, _: &str, etype: EventType, owner: &Value) {
    if etype != EventType::Deleted {
        return;
    }
    let uid = meta_str(owner, "uid");
    if uid.is_empty() {
        return;
    }
    for gr in ctx.all_resources() {
        for o in ctx.world.store.list(&gr, None).0 {
            let owned = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid));
            if owned {
                let _ = ctx
                    .world
                    .store
                    .delete(&gr, meta_str(&o, "namespace"), meta_str(&o, "name"));
            }
        }
    }
}
