//! `appset-head`: a git source's `targetRevision` (ApplicationSet template or Application) or a git
//! generator's `revision` other than `HEAD`. Helm chart sources pin a chart version there and are exempt.

use super::{argo_sources, finding, generators, Ctx};
use crate::verify::{Finding, RenderedObject};
use serde_json::Value;

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects {
        let Some((is_appset, srcs)) = argo_sources(&o.value) else {
            continue;
        };
        for (p, src) in &srcs {
            if src.get("chart").is_some() {
                continue; // a Helm chart source pins a chart version there
            }
            match src.get("targetRevision").and_then(Value::as_str) {
                None | Some("HEAD") => {}
                Some(r) => out.push(finding(
                    "appset-head",
                    ctx,
                    o,
                    format!(
                        "{p}.targetRevision is {r:?}: use HEAD (promote at the overlay level, not by pinning Applications)"
                    ),
                )),
            }
        }
        if !is_appset {
            continue;
        }
        for (p, kind, body) in generators(&o.value) {
            let rev = body.get("revision").and_then(Value::as_str);
            if let Some(rev) = rev.filter(|r| kind == "git" && *r != "HEAD") {
                out.push(finding(
                    "appset-head",
                    ctx,
                    o,
                    format!("{p}.git.revision is {rev:?}: use HEAD"),
                ));
            }
        }
    }
}
