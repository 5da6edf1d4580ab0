//! The service-account controller's part a namespace meets: every namespace gets ServiceAccount `default`.

use super::{Controller, Ctx};
use crate::sim::store::{meta_str, EventType};
use serde_json::{json, Value};
use std::sync::Arc;

pub const CONTROLLER: Controller = Controller {
    watches: &["namespaces"],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, _: &str, etype: EventType, obj: &Value) {
    if etype == EventType::Added {
        let ns = meta_str(obj, "name");
        ctx.world.store.ensure(
            "serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}}),
        );
    }
}
