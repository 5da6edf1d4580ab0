//! `shared-base-uid`: no `runAsUser` or `fsGroup` in any `securityContext` in `apps-shared/*/base`:
//! OpenShift's SCC assigns them (an overlay may set them if a platform needs it).

use super::{finding, Ctx};
use crate::schema::convert::join_field;
use crate::verify::roots::RootKind;
use crate::verify::{Finding, RenderedObject};
use serde_json::Value;

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects {
        if !matches!(ctx.root_of(o).kind, RootKind::Base { .. }) {
            continue;
        }
        let mut hits = Vec::new();
        find_uid(&o.value, String::new(), &mut hits);
        for h in hits {
            out.push(finding(
                "shared-base-uid",
                ctx,
                o,
                format!("{h}: no fixed UID/fsGroup in a shared base; OpenShift's SCC assigns them (set it in an overlay if a platform needs it)"),
            ));
        }
    }
}

fn find_uid(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let p = join_field(&path, k);
                if k == "securityContext" {
                    for f in ["runAsUser", "fsGroup"] {
                        if c.get(f).is_some_and(|x| !x.is_null()) {
                            out.push(join_field(&p, f));
                        }
                    }
                }
                find_uid(c, p, out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                find_uid(c, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}
