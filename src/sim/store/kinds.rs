//! The kinds the simulated cluster serves: the built-in resources and the custom resources of
//! Established CRDs. Keyed by "group resource" (`plural` for core, `plural.group` otherwise).

use serde_json::Value;

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
    ("", "v1", "endpoints", "Endpoints", true, &["ep"], false),
    ("apps", "v1", "replicasets", "ReplicaSet", true, &["rs"], true),
    ("batch", "v1", "cronjobs", "CronJob", true, &["cj"], true),
    ("coordination.k8s.io", "v1", "leases", "Lease", true, &[], false),
    ("networking.k8s.io", "v1", "ingresses", "Ingress", true, &["ing"], true),
    (
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
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
            categories: if [
                "pods",
                "services",
                "deployments",
                "jobs",
                "statefulsets",
                "daemonsets",
                "replicasets",
                "cronjobs",
            ]
            .contains(p)
            {
                vec!["all".into()]
            } else {
                vec![]
            },
        })
        .collect()
}
