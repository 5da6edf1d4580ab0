//! The resource table (built-in resources plus Established CRDs) and the legacy discovery documents
//! (`/api`, `/api/v1`, `/apis`, `/apis/{g}`, `/apis/{g}/{v}`).

use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub struct ResourceInfo {
    /// "" for the core group.
    pub group: String,
    /// Served versions, the preferred (storage) one first.
    pub versions: Vec<String>,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub has_status: bool,
    pub categories: Vec<String>,
}

impl ResourceInfo {
    /// `plural` for core, `plural.group` otherwise.
    pub fn gr(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }
    pub fn from_crd(crd: &Value) -> Option<ResourceInfo> {
        let spec = crd.get("spec")?;
        let names = spec.get("names")?;
        let s = |v: &Value| v.as_str().map(str::to_string);
        let strs = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| a.iter().filter_map(s).collect())
                .unwrap_or_default()
        };
        let vers = spec.get("versions")?.as_array()?;
        let mut versions: Vec<(bool, String)> = vers
            .iter()
            .filter(|v| v["served"].as_bool().unwrap_or(true))
            .filter_map(|v| Some((v["storage"].as_bool().unwrap_or(false), s(&v["name"])?)))
            .collect();
        versions.sort_by_key(|(storage, _)| !storage);
        let has_status = vers.iter().any(|v| v.pointer("/subresources/status").is_some());
        let plural = s(&names["plural"])?;
        Some(ResourceInfo {
            group: s(&spec["group"])?,
            versions: versions.into_iter().map(|(_, n)| n).collect(),
            singular: s(&names["singular"]).unwrap_or_else(|| plural.trim_end_matches('s').to_string()),
            plural,
            kind: s(&names["kind"])?,
            namespaced: spec["scope"] != "Cluster",
            short_names: strs(names.get("shortNames")),
            has_status,
            categories: strs(names.get("categories")),
        })
    }
}

/// (group, version, plural, kind, namespaced, short names, status subresource)
#[allow(clippy::type_complexity)]
const BUILTINS: &[(&str, &str, &str, &str, bool, &[&str], bool)] = &[
    ("", "v1", "namespaces", "Namespace", false, &["ns"], true),
    ("", "v1", "nodes", "Node", false, &["no"], true),
    ("", "v1", "pods", "Pod", true, &["po"], true),
    ("", "v1", "services", "Service", true, &["svc"], true),
    ("", "v1", "configmaps", "ConfigMap", true, &["cm"], false),
    ("", "v1", "secrets", "Secret", true, &[], false),
    ("", "v1", "serviceaccounts", "ServiceAccount", true, &["sa"], false),
    ("", "v1", "events", "Event", true, &["ev"], false),
    (
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
        true,
    ),
    ("", "v1", "persistentvolumes", "PersistentVolume", false, &["pv"], true),
    ("apps", "v1", "deployments", "Deployment", true, &["deploy"], true),
    ("apps", "v1", "statefulsets", "StatefulSet", true, &["sts"], true),
    ("apps", "v1", "daemonsets", "DaemonSet", true, &["ds"], true),
    ("batch", "v1", "jobs", "Job", true, &[], true),
    (
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "StorageClass",
        false,
        &["sc"],
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
        &["crd", "crds"],
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "ClusterRole",
        false,
        &[],
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        false,
        &[],
        false,
    ),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", true, &[], false),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "RoleBinding",
        true,
        &[],
        false,
    ),
];

pub fn builtins() -> Vec<ResourceInfo> {
    BUILTINS
        .iter()
        .map(|(g, v, p, k, ns, sn, st)| ResourceInfo {
            group: g.to_string(),
            versions: vec![v.to_string()],
            plural: p.to_string(),
            singular: k.to_lowercase(),
            kind: k.to_string(),
            namespaced: *ns,
            short_names: sn.iter().map(|s| s.to_string()).collect(),
            has_status: *st,
            categories: if ["pods", "services", "deployments", "jobs", "statefulsets", "daemonsets"].contains(p) {
                vec!["all".into()]
            } else {
                vec![]
            },
        })
        .collect()
}

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
