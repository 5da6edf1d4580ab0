//! `appset-separation`: one purpose per ApplicationSet and per AppProject. An AppSet whose directories mix
//! workloads (`apps-shared/...`, `.../my-apps/...`) with platform paths (`.../infrastructure/...`,
//! `monitoring`, `database`, `bootstrap`) is reported, and so is one AppProject (per cluster) used by both
//! workload and platform AppSets.

use super::{finding, generator_dirs, is_argo, s, Ctx};
use crate::verify::{Finding, RenderedObject};
use std::collections::{BTreeMap, BTreeSet, HashSet};

const RULE: &str = "appset-separation";

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects.iter().filter(|o| is_argo(&o.value, "ApplicationSet")) {
        mixed_appset(ctx, o, out);
    }
    shared_project(ctx, objects, out);
}

/// `workload` (apps-shared, my-apps) or `platform` (infrastructure, monitoring, database, bootstrap).
fn path_class(path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.split('/').collect();
    if segs.first() == Some(&"apps-shared") || segs.contains(&"my-apps") {
        Some("workload")
    } else if segs.iter().any(|s| {
        matches!(
            *s,
            "infrastructure" | "monitoring" | "database" | "bootstrap" | "platform"
        )
    }) {
        Some("platform")
    } else {
        None
    }
}

/// One AppSet generating both workload and platform directories.
fn mixed_appset(ctx: &Ctx, o: &RenderedObject, out: &mut Vec<Finding>) {
    let dirs = generator_dirs(&o.value);
    let classes: BTreeMap<&str, Vec<&str>> = dirs.iter().fold(BTreeMap::new(), |mut m, d| {
        if let Some(c) = path_class(d) {
            m.entry(c).or_default().push(d.as_str());
        }
        m
    });
    if classes.contains_key("workload") && classes.contains_key("platform") {
        out.push(finding(
            RULE,
            ctx,
            o,
            format!(
                "mixes workload directories ({}) with infrastructure directories ({}); use one AppSet per purpose",
                classes["workload"].join(", "),
                classes["platform"].join(", ")
            ),
        ));
    }
}

/// The one class of an AppSet's directories, if they have exactly one.
fn appset_class(o: &RenderedObject) -> Option<&'static str> {
    let classes: BTreeSet<&str> = generator_dirs(&o.value).iter().filter_map(|d| path_class(d)).collect();
    if classes.len() == 1 {
        classes.into_iter().next()
    } else {
        None
    }
}

/// One AppProject must not hold both workload and infrastructure AppSets (per cluster).
fn shared_project(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    // (cluster, project) -> class -> objects
    let mut by_project: BTreeMap<(String, String), BTreeMap<&str, Vec<&RenderedObject>>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for o in objects {
        if !is_argo(&o.value, "ApplicationSet") {
            continue;
        }
        let cluster = ctx.root_of(o).kind.cluster().unwrap_or("").to_string();
        if !seen.insert((cluster.clone(), o.label())) {
            continue;
        }
        let Some(project) = s(&o.value, "/spec/template/spec/project") else {
            continue;
        };
        if project.contains("{{") {
            continue;
        }
        if let Some(c) = appset_class(o) {
            by_project
                .entry((cluster, project.to_string()))
                .or_default()
                .entry(c)
                .or_default()
                .push(o);
        }
    }
    for ((_, project), classes) in by_project {
        if classes.len() < 2 {
            continue;
        }
        let names = |c: &str| classes[c].iter().map(|o| o.label()).collect::<Vec<_>>().join(", ");
        for o in &classes["workload"] {
            out.push(finding(
                RULE,
                ctx,
                o,
                format!(
                    "AppProject {project} is shared by workload AppSets ({}) and infrastructure AppSets ({}); give workloads their own project",
                    names("workload"),
                    names("platform")
                ),
            ));
        }
    }
}
