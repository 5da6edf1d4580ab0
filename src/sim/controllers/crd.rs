//! The apiextensions controller: a new CustomResourceDefinition gets NamesAccepted and Established
//! after 0.5 s; its resources then appear in discovery.

use super::common::{has_true, key};
use super::{Controller, Ctx};
use crate::sim::catalog::established;
use crate::sim::store::{meta_str, EventType};
use serde_json::Value;
use std::sync::Arc;

const CRDS: &str = "customresourcedefinitions.apiextensions.k8s.io";

pub const CONTROLLER: Controller = Controller {
    watches: &[CRDS],
    deletes: false,
    on_event,
};

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    if has_true(obj, "Established") {
        return;
    }
    let name = meta_str(obj, "name").to_string();
    ctx.once(key(gr, obj), 500, move |ctx| {
        ctx.world.store.mutate(CRDS, "", &name, |o| {
            if !has_true(o, "Established") {
                *o = established(o.clone());
            }
        });
    });
}
