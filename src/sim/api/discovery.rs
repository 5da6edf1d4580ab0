//! The resource table (built-in resources plus Established CRDs) and the legacy discovery documents
//! (`/api`, `/api/v1`, `/apis`, `/apis/{g}`, `/apis/{g}/{v}`).

use crate::sim::store::kinds::ResourceInfo;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource_entries(ri: &ResourceInfo) -> Vec<Value> {
    let mut out = vec![json!({
        "name": ri.plural, "singularName": ri.singular, "namespaced": ri.namespaced, "kind": ri.kind,
        "verbs": VERBS, "shortNames": ri.short_names, "categories": ri.categories,
        "storageVersionHash": format!("{:x}", ri.gr().len() * 7919),
    })];
    if ri.has_status {
        out.push(
            json!({"name": format!("{}/status", ri.plural), "singularName": "", "namespaced": ri.namespaced,
            "kind": ri.kind, "verbs": ["get", "patch", "update"]}),
        );
    }
    if ri.plural == "pods" {
        out.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
    }
    if ri.plural == "deployments" || ri.plural == "statefulsets" {
        out.push(
            json!({"name": format!("{}/scale", ri.plural), "singularName": "", "namespaced": true,
            "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}),
        );
    }
    out
}

/// APIResourceList for one group/version.
pub fn resource_list(all: &[ResourceInfo], group: &str, version: &str) -> Option<Value> {
    let res: Vec<Value> = all
        .iter()
        .filter(|r| r.group == group && r.versions.iter().any(|v| v == version))
        .flat_map(resource_entries)
        .collect();
    if res.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res}))
}

/// Kubernetes version priority: GA > beta > alpha, higher numbers first, others last.
pub fn version_priority(v: &str) -> (u8, u32, u32, String) {
    let parse = || -> Option<(u8, u32, u32)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let major: u32 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        let (level, minor) = match tail {
            "" => (0, 0),
            t if t.starts_with("beta") => (1, t[4..].parse().ok()?),
            t if t.starts_with("alpha") => (2, t[5..].parse().ok()?),
            _ => return None,
        };
        Some((level, u32::MAX - major, u32::MAX - minor))
    };
    match parse() {
        Some((l, ma, mi)) => (l, ma, mi, String::new()),
        None => (3, 0, 0, v.to_string()),
    }
}

fn groups(all: &[ResourceInfo]) -> BTreeMap<String, Vec<String>> {
    let mut g: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in all.iter().filter(|r| !r.group.is_empty()) {
        let e = g.entry(r.group.clone()).or_default();
        for v in &r.versions {
            if !e.contains(v) {
                e.push(v.clone());
            }
        }
    }
    for vs in g.values_mut() {
        vs.sort_by_key(|v| version_priority(v));
    }
    g
}

fn group_doc(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": vs, "preferredVersion": vs[0]})
}

pub fn api_group_list(all: &[ResourceInfo]) -> Value {
    let gs: Vec<Value> = groups(all).iter().map(|(n, v)| group_doc(n, v)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": gs})
}

pub fn api_group(all: &[ResourceInfo], name: &str) -> Option<Value> {
    let g = groups(all);
    let v = g.get(name)?;
    let mut d = group_doc(name, v);
    d["kind"] = json!("APIGroup");
    d["apiVersion"] = json!("v1");
    Some(d)
}

pub fn api_versions(addr: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]})
}

/// Aggregated discovery (apidiscovery.k8s.io/v2) for `/api` (core) or `/apis` (all groups).
pub fn aggregated(all: &[ResourceInfo], core: bool) -> Value {
    let mut by_group: BTreeMap<String, Vec<&ResourceInfo>> = BTreeMap::new();
    for r in all.iter().filter(|r| r.group.is_empty() == core) {
        by_group.entry(r.group.clone()).or_default().push(r);
    }
    let gv = groups(all);
    let items: Vec<Value> = by_group
        .iter()
        .map(|(g, rs)| {
            let versions: Vec<String> = if core { vec!["v1".into()] } else { gv.get(g).cloned().unwrap_or_default() };
            let vs: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let res: Vec<Value> = rs
                        .iter()
                        .filter(|r| r.versions.contains(v))
                        .map(|r| {
                            let kind = json!({"group": r.group, "version": v, "kind": r.kind});
                            let mut subs = vec![];
                            if r.has_status {
                                subs.push(json!({"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}));
                            }
                            if r.plural == "deployments" || r.plural == "statefulsets" {
                                subs.push(json!({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]}));
                            }
                            if r.plural == "pods" {
                                subs.push(json!({"subresource": "log", "responseKind": {"group": "", "version": "v1", "kind": "Pod"}, "verbs": ["get"]}));
                            }
                            json!({"resource": r.plural, "responseKind": kind,
                                "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                                "singularResource": r.singular, "verbs": VERBS, "shortNames": r.short_names,
                                "categories": r.categories, "subresources": subs})
                        })
                        .collect();
                    json!({"version": v, "resources": res, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": vs})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}
