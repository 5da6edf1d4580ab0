//! `no-user-route`: no `route.openshift.io` Route outside `clusters/*/bootstrap/`: apps use a Gateway API
//! HTTPRoute.

use super::{finding, gvk, in_bootstrap, Ctx};
use crate::verify::{Finding, RenderedObject};

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects {
        let g = gvk(&o.value);
        if g.group == "route.openshift.io" && g.kind == "Route" && !in_bootstrap(&ctx.root_of(o).rel) {
            out.push(finding(
                "no-user-route",
                ctx,
                o,
                "OpenShift Route outside clusters/<name>/bootstrap: apps use a Gateway API HTTPRoute",
            ));
        }
    }
}
