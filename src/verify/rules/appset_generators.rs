//! `appset-generators`: only git *directory* and *cluster* generators (matrix/merge of those allowed); no
//! `list`, git `files`, `scmProvider`, `pullRequest`, `plugin`, ... (no ad-hoc per-cluster lists).

use super::{finding, generators, is_argo, Ctx};
use crate::verify::{Finding, RenderedObject};

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects.iter().filter(|o| is_argo(&o.value, "ApplicationSet")) {
        for (p, kind, body) in generators(&o.value) {
            let message = match kind {
                "selector" | "values" | "template" | "clusters" | "matrix" | "merge" => None,
                "git" => {
                    let files = body.get("files").is_some();
                    let dirs = body.get("directories").is_some_and(|d| d.is_array());
                    if files {
                        Some(format!("{p}.git.files: use a git directory generator (or a cluster generator), not per-cluster file lists"))
                    } else if !dirs {
                        Some(format!("{p}.git has no directories"))
                    } else {
                        None
                    }
                }
                other => Some(format!(
                    "{p}.{other}: only git directory and cluster generators are allowed (no ad-hoc per-cluster lists)"
                )),
            };
            if let Some(m) = message {
                out.push(finding("appset-generators", ctx, o, m));
            }
        }
    }
}
