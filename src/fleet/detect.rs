//! A cluster description read from what a legacy single-cluster repo shows (docs/phase-4.md): the Gateway
//! most HTTPRoutes attach to, the default StorageClass (or the one most PersistentVolumeClaims name), the apps
//! domain from that Gateway's listener hostnames, and how Argo CD is installed (Helm chart or the OpenShift
//! GitOps operator). Phase 4 writes it to `clusters/<name>/cluster.yaml`; until then fleetctl uses it for a
//! repo that has no cluster description yet.

use super::cluster::{ArgocdFlavour, ArgocdSpec, ClusterSpec, GatewayRef, Platform};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Root-level trees of the legacy single-cluster layout.
const LEGACY_TREES: &[&str] = &["infrastructure", "my-apps", "monitoring"];

/// Whether `repo` is a legacy single-cluster fleet with no cluster description yet.
pub fn is_legacy(repo: &Path) -> bool {
    let described = std::fs::read_dir(repo.join("clusters"))
        .map(|rd| rd.flatten().any(|e| e.path().join("cluster.yaml").is_file()))
        .unwrap_or(false);
    !described && LEGACY_TREES.iter().any(|t| repo.join(t).is_dir())
}

fn yaml_files(dir: &Path, rel: &str, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir.join(rel)) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || (rel.is_empty() && matches!(name.as_str(), "clusters" | "apps-shared" | "target")) {
            continue;
        }
        let p = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        match e.file_type() {
            Ok(t) if t.is_dir() => yaml_files(dir, &p, out),
            Ok(_) if name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".sh") => {
                out.push(dir.join(&p))
            }
            _ => {}
        }
    }
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// What was found, and how sure: each `notes` line says where a value came from or that it is a guess.
#[derive(Debug, Clone)]
pub struct Detected {
    pub spec: ClusterSpec,
    pub notes: Vec<String>,
}

#[derive(Default)]
struct Seen {
    gateways: BTreeMap<(String, String), Vec<String>>,
    parent_refs: BTreeMap<(String, String, String), usize>,
    default_sc: Option<String>,
    pvc_sc: BTreeMap<String, usize>,
    hostnames: BTreeMap<String, usize>,
    helm_argocd: bool,
    operator_argocd: bool,
    argocd_ns: Option<String>,
}

impl Seen {
    fn object(&mut self, o: &Value) {
        let kind = s(o, "/kind");
        let ns = s(o, "/metadata/namespace").to_string();
        match kind {
            "Gateway" if s(o, "/apiVersion").starts_with("gateway.networking.k8s.io/") => {
                let hosts = o
                    .pointer("/spec/listeners")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.get("hostname").and_then(Value::as_str).map(str::to_string))
                    .collect();
                self.gateways.insert((s(o, "/metadata/name").to_string(), ns), hosts);
            }
            "HTTPRoute" => {
                for p in o
                    .pointer("/spec/parentRefs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let key = (
                        s(p, "/name").to_string(),
                        s(p, "/namespace").to_string(),
                        s(p, "/sectionName").to_string(),
                    );
                    *self.parent_refs.entry(key).or_default() += 1;
                }
                for h in o
                    .pointer("/spec/hostnames")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some((_, d)) = h.as_str().and_then(|h| h.split_once('.')) {
                        *self.hostnames.entry(d.to_string()).or_default() += 1;
                    }
                }
            }
            "StorageClass" if s(o, "/metadata/annotations/storageclass.kubernetes.io~1is-default-class") == "true" => {
                self.default_sc = Some(s(o, "/metadata/name").to_string());
            }
            "PersistentVolumeClaim" => {
                let sc = s(o, "/spec/storageClassName");
                if !sc.is_empty() && !sc.contains("{{") {
                    *self.pvc_sc.entry(sc.to_string()).or_default() += 1;
                }
            }
            "Subscription" if s(o, "/spec/name") == "openshift-gitops-operator" => self.operator_argocd = true,
            "Application" if s(o, "/apiVersion").starts_with("argoproj.io/") && !ns.is_empty() => {
                self.argocd_ns.get_or_insert(ns);
            }
            _ => {}
        }
        if kind == "Kustomization" || o.get("helmCharts").is_some() {
            let charts = o.get("helmCharts").and_then(Value::as_array).into_iter().flatten();
            if charts.into_iter().any(|c| s(c, "/name") == "argo-cd") {
                self.helm_argocd = true;
            }
        }
    }
}

fn most<K: Clone + Ord>(m: &BTreeMap<K, usize>) -> Option<K> {
    m.iter()
        .max_by_key(|(k, n)| (**n, std::cmp::Reverse((*k).clone())))
        .map(|(k, _)| k.clone())
}

/// The Gateway most HTTPRoutes attach to (a placeholder when there is none).
fn pick_gateway(seen: &Seen, notes: &mut Vec<String>) -> GatewayRef {
    match most(&seen.parent_refs) {
        Some((n, ns, section)) => {
            let ns = if ns.is_empty() {
                seen.gateways
                    .keys()
                    .find(|(g, _)| *g == n)
                    .map(|(_, x)| x.clone())
                    .unwrap_or_default()
            } else {
                ns
            };
            notes.push(format!(
                "gateway {ns}/{n}: the Gateway most HTTPRoutes attach to ({} routes)",
                seen.parent_refs.values().max().unwrap_or(&0)
            ));
            GatewayRef {
                name: n,
                namespace: ns,
                section_name: (!section.is_empty()).then_some(section),
            }
        }
        None => {
            notes.push("gateway: no HTTPRoute found; wrote a placeholder, set it by hand".into());
            GatewayRef {
                name: "CHANGE-ME".into(),
                namespace: "gateway".into(),
                section_name: None,
            }
        }
    }
}

/// Read the repo and describe its cluster as `name`.
pub fn detect(repo: &Path, name: &str) -> Detected {
    let mut files = Vec::new();
    yaml_files(repo, "", &mut files);
    let mut seen = Seen::default();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        if f.extension().is_some_and(|e| e == "sh") {
            seen.helm_argocd |= text.lines().any(|l| l.contains("helm") && l.contains("argo-cd"));
            continue;
        }
        // A malformed document (a Helm template) ends the file: the iterator would repeat its error.
        for doc in serde_yaml::Deserializer::from_str(&text) {
            match <Value as serde::Deserialize>::deserialize(doc) {
                Ok(v) => seen.object(&v),
                Err(_) => break,
            }
        }
    }
    let mut notes = Vec::new();
    let gateway = pick_gateway(&seen, &mut notes);
    let listener_domain = seen
        .gateways
        .get(&(gateway.name.clone(), gateway.namespace.clone()))
        .into_iter()
        .flatten()
        .find_map(|h| h.strip_prefix("*.").map(str::to_string));
    let apps_domain = match (listener_domain, most(&seen.hostnames)) {
        (Some(d), _) => {
            notes.push(format!("appsDomain {d}: the Gateway's listener hostname"));
            d
        }
        (None, Some(d)) => {
            notes.push(format!("appsDomain {d}: the domain most HTTPRoute hostnames use"));
            d
        }
        (None, None) => {
            notes.push("appsDomain: no hostname found; wrote a placeholder".into());
            format!("{name}.example.invalid")
        }
    };
    let storage_class = match (seen.default_sc.clone(), most(&seen.pvc_sc)) {
        (Some(sc), _) => {
            notes.push(format!("storageClass {sc}: the StorageClass marked default"));
            sc
        }
        (None, Some(sc)) => {
            notes.push(format!("storageClass {sc}: the class most PersistentVolumeClaims name"));
            sc
        }
        (None, None) => {
            notes.push("storageClass: none found; wrote a placeholder".into());
            "CHANGE-ME".into()
        }
    };
    let flavour = if seen.operator_argocd && !seen.helm_argocd {
        ArgocdFlavour::Operator
    } else {
        ArgocdFlavour::Helm
    };
    notes.push(format!(
        "argocd: {} ({})",
        if flavour == ArgocdFlavour::Helm {
            "helm"
        } else {
            "operator"
        },
        if seen.helm_argocd {
            "the argo-cd Helm chart is installed from this repo"
        } else if seen.operator_argocd {
            "an openshift-gitops-operator Subscription"
        } else {
            "nothing conclusive: the legacy layout is a Helm install"
        }
    ));
    Detected {
        spec: ClusterSpec {
            name: name.to_string(),
            platform: if flavour == ArgocdFlavour::Operator {
                Platform::Openshift
            } else {
                Platform::Talos
            },
            argocd: ArgocdSpec {
                flavour,
                namespace: seen.argocd_ns.unwrap_or_else(|| "argocd".into()),
            },
            kube_context: name.to_string(),
            apps_domain,
            gateway,
            storage_class,
            // Learned on the first live run (docs/cluster-yaml.md), never guessed from Git.
            cluster_id: None,
        },
        notes,
    }
}

/// The cluster.yaml text for a detected description, each value's origin as a comment.
pub fn to_yaml(d: &Detected) -> String {
    let mut out = String::from(
        "# What fleetctl needs to know about this cluster (format: docs/cluster-yaml.md).\n# Written by Phase 4 from what the repo shows:\n",
    );
    for n in &d.notes {
        out.push_str(&format!("#   {n}\n"));
    }
    out.push_str(&serde_yaml::to_string(&d.spec).expect("cluster spec serialises"));
    out
}
