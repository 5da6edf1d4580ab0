//! `httproute-shared-base`: an HTTPRoute in `apps-shared/*/base` must be portable: the stable
//! `gateway.networking.k8s.io/v1`, no `parentRefs`, and only standard-channel v1 fields (Cilium's and
//! OpenShift's Gateway API versions differ).

use super::{finding, gvk, Ctx};
use crate::schema::{convert::join_field, Gvk};
use crate::verify::roots::RootKind;
use crate::verify::{Finding, RenderedObject};
use serde_json::Value;

const RULE: &str = "httproute-shared-base";

/// Fields of HTTPRoute only in the experimental channel, used when no standard-channel CRD is loaded.
pub const EXPERIMENTAL_HTTPROUTE_FIELDS: &[&str] = &[
    "spec.useDefaultGateways",
    "spec.rules[].sessionPersistence",
    "spec.rules[].retry",
    "spec.rules[].filters[].externalAuth",
];

pub(super) fn check(ctx: &Ctx, objects: &[RenderedObject], out: &mut Vec<Finding>) {
    for o in objects {
        if !matches!(ctx.root_of(o).kind, RootKind::Base { .. }) {
            continue;
        }
        let g = gvk(&o.value);
        if g.group == "gateway.networking.k8s.io" && g.kind == "HTTPRoute" {
            check_route(ctx, o, g, out);
        }
    }
}

fn check_route(ctx: &Ctx, o: &RenderedObject, g: Gvk, out: &mut Vec<Finding>) {
    if g.version != "v1" {
        out.push(finding(
            RULE,
            ctx,
            o,
            format!(
                "apiVersion {}: shared bases use the stable gateway.networking.k8s.io/v1",
                g.api_version()
            ),
        ));
    }
    if o.value
        .pointer("/spec/parentRefs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        out.push(finding(
            RULE,
            ctx,
            o,
            "spec.parentRefs must be empty in a shared base: each overlay attaches the route to its cluster's Gateway",
        ));
    }
    let v1 = Gvk {
        version: "v1".into(),
        ..g
    };
    let standard = ctx.schemas.crd_annotation(&v1, "gateway.networking.k8s.io/channel") == Some("standard");
    let extra: Vec<String> = match ctx.schemas.crd_schema(&v1) {
        Some(schema) if standard => crate::schema::unknown_fields(&o.value, schema),
        _ => experimental_fields(&o.value),
    };
    for f in extra {
        out.push(finding(
            RULE,
            ctx,
            o,
            format!(
                "{f}: not a stable (standard channel) v1 field; Cilium's and OpenShift's Gateway API versions differ"
            ),
        ));
    }
}

fn experimental_fields(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for pat in EXPERIMENTAL_HTTPROUTE_FIELDS {
        find_pattern(v, &pat.split('.').collect::<Vec<_>>(), String::new(), &mut out);
    }
    out
}

fn find_pattern(v: &Value, segs: &[&str], path: String, out: &mut Vec<String>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push(path);
        return;
    };
    let (name, each) = match first.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (*first, false),
    };
    let Some(child) = v.get(name) else { return };
    let p = join_field(&path, name);
    if each {
        for (i, item) in child.as_array().into_iter().flatten().enumerate() {
            find_pattern(item, rest, format!("{p}[{i}]"), out);
        }
    } else {
        find_pattern(child, rest, p, out);
    }
}
