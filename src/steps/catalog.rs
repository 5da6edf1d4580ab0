//! `catalog-channels {path}`: before a layer turns on, every OLM Subscription it brings must name a package
//! and a channel the cluster's catalogs serve (`packagemanifests`), and the GPU driver image a ClusterPolicy
//! implies is shown. A release candidate's catalogs can lag (OpenShift 4.22-RC may lack `stable-4.22`); a
//! Subscription naming a missing channel only fails later, as `ResolutionFailed`, after Argo CD spent its
//! retries. This stops before any write, naming the missing channel and the ones that exist.
//!
//! `path` is a kustomization the step renders: Subscriptions in it count, and so do those in every directory
//! its Applications and ApplicationSets make live (`live_paths`). Read-only.

use super::live_paths::live_paths;
use crate::engine::kind::{Checked, Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::fleet::render::Kustomize;
use serde::Deserialize;
use serde_json::Value;

pub struct CatalogChannels;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    path: String,
}

fn parse(args: &Value) -> Result<Args, UserError> {
    serde_json::from_value(args.clone()).map_err(|e| UserError::usage(format!("bad args for catalog-channels: {e}")))
}

fn str_at<'a>(o: &'a Value, p: &str) -> &'a str {
    o.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn is(o: &Value, group: &str, kind: &str) -> bool {
    str_at(o, "/apiVersion").starts_with(&format!("{group}/")) && str_at(o, "/kind") == kind
}

/// The Subscriptions and ClusterPolicies of `path` and of what it makes live, each with where it comes from.
fn collect(cx: &Cx<'_>, path: &str) -> Result<Vec<Value>, UserError> {
    let k = Kustomize::find()?;
    let top = k.render(&cx.paths.resolve(path))?;
    let mut out: Vec<Value> = top.iter().filter(|o| wanted(o)).cloned().collect();
    for lp in live_paths(cx.repo, &top, path) {
        if let Ok(objs) = k.render(&cx.repo.join(&lp.path)) {
            out.extend(objs.into_iter().filter(wanted).map(|mut o| {
                o["x-fleetctl-from"] = Value::String(lp.path.clone());
                o
            }));
        }
    }
    Ok(out)
}

fn wanted(o: &Value) -> bool {
    is(o, "operators.coreos.com", "Subscription") || is(o, "nvidia.com", "ClusterPolicy")
}

/// A Subscription's package and channel in the live catalog: Ok(note) or the failure.
async fn check_subscription(cx: &Cx<'_>, sub: &Value) -> Result<String, UserError> {
    let (pkg, channel, source) = (
        str_at(sub, "/spec/name"),
        str_at(sub, "/spec/channel"),
        str_at(sub, "/spec/source"),
    );
    let file = match str_at(sub, "/x-fleetctl-from") {
        "" => format!("Subscription {}", str_at(sub, "/metadata/name")),
        from => format!("Subscription {} in {from}", str_at(sub, "/metadata/name")),
    };
    let pm = cx
        .cluster
        .get(
            "packages.operators.coreos.com/v1",
            "PackageManifest",
            Some("openshift-marketplace"),
            pkg,
        )
        .await?;
    let Some(pm) = pm else {
        return Err(UserError::usage(format!("package {pkg} is in none of the cluster's catalogs"))
            .subject(file)
            .next(format!("oc get packagemanifests -n openshift-marketplace | grep {pkg}; enable the catalog that ships it (oc get catalogsource -n openshift-marketplace)")));
    };
    let have: Vec<String> = pm
        .pointer("/status/channels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    let catalog = str_at(&pm, "/status/catalogSource");
    if !channel.is_empty() && !have.iter().any(|c| c == channel) {
        return Err(UserError::usage(format!(
            "channel {channel} of package {pkg} is not in the cluster's catalog {catalog}; it has: {}",
            have.join(", ")
        ))
        .subject(file)
        .next(format!(
            "set spec.channel to one of {} in Git (a release-candidate catalog may not ship the new channel yet: oc get packagemanifest {pkg} -o jsonpath='{{.status.channels[*].name}}'); nothing was written",
            have.join(", ")
        )));
    }
    if !source.is_empty() && !catalog.is_empty() && source != catalog {
        return Err(UserError::usage(format!(
            "package {pkg} comes from catalog {catalog}, the Subscription names {source}"
        ))
        .subject(file)
        .next(format!("set spec.source: {catalog} in Git")));
    }
    Ok(format!(
        "{pkg} {} in {catalog}",
        if channel.is_empty() {
            "(default channel)"
        } else {
            channel
        }
    ))
}

/// The driver image a ClusterPolicy makes the GPU operator pull on this cluster's RHCOS.
async fn driver_image(cx: &Cx<'_>, cp: &Value) -> Result<Option<String>, UserError> {
    let d = &cp["spec"]["driver"];
    let (repo, image, version) = (str_at(d, "/repository"), str_at(d, "/image"), str_at(d, "/version"));
    if image.is_empty() || version.is_empty() {
        return Ok(None);
    }
    let ocp = cx
        .cluster
        .get("config.openshift.io/v1", "ClusterVersion", None, "version")
        .await?
        .map(|v| str_at(&v, "/status/desired/version").to_string())
        .unwrap_or_default();
    let minor: Vec<&str> = ocp.split(['.', '-']).take(2).collect();
    let tag = match minor.as_slice() {
        [a, b] => format!("{version}-rhcos{a}.{b}"),
        _ => format!("{version}-rhcos<cluster version>"),
    };
    Ok(Some(format!("{}/{image}:{tag}", repo.trim_end_matches('/'))))
}

async fn check(cx: &Cx<'_>, path: &str) -> Result<String, UserError> {
    let mut seen = Vec::new();
    for o in &collect(cx, path)? {
        if is(o, "operators.coreos.com", "Subscription") {
            seen.push(check_subscription(cx, o).await?);
        } else if let Some(img) = driver_image(cx, o).await? {
            cx.ui.line(&format!(
                "  the ClusterPolicy makes the GPU operator pull {img}: check the tag exists (skopeo inspect docker://{img}) - fleetctl does not reach registries"
            ));
            seen.push(format!("driver image {img}"));
        }
    }
    Ok(match seen.is_empty() {
        true => "no Subscription to check".into(),
        false => format!("the live catalog serves: {}", seen.join("; ")),
    })
}

#[async_trait::async_trait]
impl StepKind for CatalogChannels {
    fn name(&self) -> &'static str {
        "catalog-channels"
    }
    fn validate(&self, args: &Value) -> Result<(), String> {
        parse(args).map(|_| ()).map_err(|e| e.cause)
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn preflight(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Checked, UserError> {
        check(cx, &parse(args)?.path).await.map(|_| Checked::default())
    }
    async fn run(&self, cx: &Cx<'_>, args: &Value, _: &StepPlan) -> Result<Done, UserError> {
        check(cx, &parse(args)?.path).await.map(Done::already)
    }
}
