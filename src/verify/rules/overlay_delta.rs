//! `overlay-delta`: the overlays of one shared app may differ only in `spec.parentRefs` and `spec.hostnames`,
//! plus the paths `apps-shared/<app>/overlay-delta.yaml` allows (the comparison itself is
//! [`crate::verify::delta`], shared with phase 3's criterion). Each overlay is compared with the first.

use super::Ctx;
use crate::verify::delta::{self, Allow, Seg};
use crate::verify::roots::RootKind;
use crate::verify::{Finding, RenderedObject};
use std::collections::{BTreeMap, BTreeSet};

const RULE: &str = "overlay-delta";

/// (kind, name) -> object of one overlay.
type Objs<'a> = BTreeMap<(String, String), &'a RenderedObject>;

/// One rendered overlay: its root directory and objects.
struct Overlay<'a> {
    cluster: &'a str,
    root: &'a str,
    objs: Objs<'a>,
}

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for (app, overlays) in overlays_by_app(ctx, objects) {
        if overlays.len() < 2 {
            continue;
        }
        let allow = match delta::load_allow(ctx.repo, app) {
            Ok(a) => a,
            Err(e) => {
                out.push(Finding::new(
                    RULE,
                    format!("apps-shared/{app}/overlay-delta.yaml"),
                    "",
                    e,
                ));
                continue;
            }
        };
        let cmp = Compare::new(app, &allow);
        let (reference, others) = overlays.split_first().unwrap();
        for other in others {
            cmp.pair(reference, other, out);
        }
    }
}

/// Every shared app's rendered overlays, sorted by cluster. An app with an overlay that did not render is
/// left out: its `render` finding says why, and a comparison against nothing would blame every base file.
fn overlays_by_app<'a>(ctx: &'a Ctx, objects: &'a [RenderedObject]) -> BTreeMap<&'a str, Vec<Overlay<'a>>> {
    let broken: BTreeSet<&str> = ctx
        .failed
        .iter()
        .filter_map(|&i| match &ctx.roots[i].kind {
            RootKind::Overlay { app, .. } => Some(app.as_str()),
            _ => None,
        })
        .collect();
    let mut apps: BTreeMap<&str, BTreeMap<&str, Overlay>> = BTreeMap::new();
    for (i, r) in ctx.roots.iter().enumerate() {
        let RootKind::Overlay { app, cluster } = &r.kind else {
            continue;
        };
        if broken.contains(app.as_str()) {
            continue;
        }
        let objs = objects
            .iter()
            .filter(|o| o.root == i)
            .map(|o| {
                let (kind, name, _) = crate::schema::identity(&o.value);
                ((kind, name), o)
            })
            .collect();
        let overlay = Overlay {
            cluster,
            root: &r.rel,
            objs,
        };
        apps.entry(app).or_default().insert(cluster, overlay);
    }
    apps.into_iter()
        .map(|(app, by_cluster)| (app, by_cluster.into_values().collect()))
        .collect()
}

/// What one app's overlays may differ in.
struct Compare<'a> {
    app: &'a str,
    allow: &'a [Allow],
    always: Vec<Vec<Seg>>,
}

impl<'a> Compare<'a> {
    fn new(app: &'a str, allow: &'a [Allow]) -> Compare<'a> {
        let always = delta::ALWAYS_ALLOWED.iter().map(|p| delta::parse_path(p)).collect();
        Compare { app, allow, always }
    }

    /// The allow-list lets this whole object differ (or exist in only some overlays).
    fn whole(&self, key: &(String, String)) -> bool {
        self.allow.iter().any(|a| {
            a.path.is_empty()
                && a.kind.as_ref().is_some_and(|k| *k == key.0)
                && a.name.as_ref().is_none_or(|n| *n == key.1)
        })
    }

    /// The paths where two versions of one object differ that nothing allows.
    fn unexcused(&self, key: &(String, String), a: &RenderedObject, b: &RenderedObject) -> Vec<String> {
        let mut paths = Vec::new();
        delta::diff_paths(Some(&a.value), Some(&b.value), "", &mut paths);
        paths.retain(|p| {
            let segs = delta::parse_path(p);
            !self.always.iter().any(|a| delta::matches(a, &segs))
                && !self.allow.iter().any(|a| {
                    a.kind.as_ref().is_none_or(|k| *k == key.0)
                        && a.name.as_ref().is_none_or(|n| *n == key.1)
                        && delta::matches(&a.path, &segs)
                })
        });
        paths
    }

    /// Compare one overlay with the reference overlay.
    fn pair(&self, reference: &Overlay, other: &Overlay, out: &mut Vec<Finding>) {
        let (ref_cluster, cluster) = (reference.cluster, other.cluster);
        for (key, o) in &other.objs {
            let Some(r) = reference.objs.get(key) else {
                if !self.whole(key) {
                    let message = format!("only in overlays/{cluster}, not in overlays/{ref_cluster}");
                    out.push(overlay_finding(&o.file, o, other.root, message));
                }
                continue;
            };
            let bad = self.unexcused(key, r, o);
            if bad.is_empty() {
                continue;
            }
            let detail = similar::TextDiff::from_lines(to_yaml(r).as_str(), to_yaml(o).as_str())
                .unified_diff()
                .context_radius(2)
                .header(reference.root, other.root)
                .to_string();
            let message = format!(
                "overlays/{cluster} differs from overlays/{ref_cluster} beyond parentRefs/hostnames at {} (allow it in apps-shared/{}/overlay-delta.yaml if intended)",
                bad.join(", "),
                self.app
            );
            let mut f = overlay_finding(o.file_for(&bad[0]), o, other.root, message);
            f.detail = Some(detail);
            out.push(f);
        }
        for (key, r) in &reference.objs {
            if !other.objs.contains_key(key) && !self.whole(key) {
                let message = format!("only in overlays/{ref_cluster}, not in overlays/{cluster}");
                out.push(overlay_finding(&r.file, r, reference.root, message));
            }
        }
    }
}

fn overlay_finding(file: &str, o: &RenderedObject, root: &str, message: String) -> Finding {
    let mut f = Finding::new(RULE, file, o.label(), message);
    f.root = Some(root.to_string());
    f
}

fn to_yaml(o: &RenderedObject) -> String {
    serde_yaml::to_string(&o.value).unwrap_or_default()
}
