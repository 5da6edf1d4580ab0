//! `appset-thin`: no `kustomize:`, `helm:`, `plugin:` or `directory:` blocks in an ApplicationSet's template
//! source(s) or `templatePatch`: the overlay holds the config, so `kustomize build` renders it standalone.

use super::{argo_sources, finding, Ctx};
use crate::verify::{Finding, RenderedObject};
use serde_json::Value;

const BLOCKS: [&str; 4] = ["kustomize", "helm", "plugin", "directory"];

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects {
        let Some((true, srcs)) = argo_sources(&o.value) else {
            continue;
        };
        for (p, src) in &srcs {
            for block in BLOCKS {
                if src.get(block).is_some() {
                    out.push(finding(
                        "appset-thin",
                        ctx,
                        o,
                        format!("{p}.{block}: override blocks do not belong in the AppSet; put the config in the overlay so `kustomize build` renders it standalone"),
                    ));
                }
            }
        }
        if let Some(tp) = o.value.pointer("/spec/templatePatch").and_then(Value::as_str) {
            for block in BLOCKS {
                if tp.lines().any(|l| l.trim_start().starts_with(&format!("{block}:"))) {
                    out.push(finding(
                        "appset-thin",
                        ctx,
                        o,
                        format!("spec.templatePatch sets a {block}: block; keep generated Applications thin"),
                    ));
                }
            }
        }
    }
}
