//! Data: the CRDs the simulated platforms and operators register, the OLM package catalog, and the
//! objects a fresh simulated cluster starts with.

mod talos_preset;

use super::store::{new_uid, now};
use super::world::World;
use crate::fleet::Platform;
use serde_json::{json, Value};

/// (CRD name, kind, version, namespaced): the fallback when `crds_dir` has no file for the CRD.
pub const CRDS: &[(&str, &str, &str, bool)] = &[
    ("clusterversions.config.openshift.io", "ClusterVersion", "v1", false),
    ("ingresses.config.openshift.io", "Ingress", "v1", false),
    ("routes.route.openshift.io", "Route", "v1", true),
    ("subscriptions.operators.coreos.com", "Subscription", "v1alpha1", true),
    ("operatorgroups.operators.coreos.com", "OperatorGroup", "v1", true),
    (
        "clusterserviceversions.operators.coreos.com",
        "ClusterServiceVersion",
        "v1alpha1",
        true,
    ),
    ("installplans.operators.coreos.com", "InstallPlan", "v1alpha1", true),
    // An aggregated API (the package server) on a real cluster; a CRD here.
    (
        "packagemanifests.packages.operators.coreos.com",
        "PackageManifest",
        "v1",
        true,
    ),
    (
        "securitycontextconstraints.security.openshift.io",
        "SecurityContextConstraints",
        "v1",
        false,
    ),
    ("gatewayclasses.gateway.networking.k8s.io", "GatewayClass", "v1", false),
    ("gateways.gateway.networking.k8s.io", "Gateway", "v1", true),
    ("httproutes.gateway.networking.k8s.io", "HTTPRoute", "v1", true),
    (
        "referencegrants.gateway.networking.k8s.io",
        "ReferenceGrant",
        "v1beta1",
        true,
    ),
    ("argocds.argoproj.io", "ArgoCD", "v1beta1", true),
    ("applications.argoproj.io", "Application", "v1alpha1", true),
    ("applicationsets.argoproj.io", "ApplicationSet", "v1alpha1", true),
    ("appprojects.argoproj.io", "AppProject", "v1alpha1", true),
    ("lvmclusters.lvm.topolvm.io", "LVMCluster", "v1alpha1", true),
    ("certmanagers.operator.openshift.io", "CertManager", "v1alpha1", false),
    ("certificates.cert-manager.io", "Certificate", "v1", true),
    ("issuers.cert-manager.io", "Issuer", "v1", true),
    ("clusterissuers.cert-manager.io", "ClusterIssuer", "v1", false),
    ("externalsecrets.external-secrets.io", "ExternalSecret", "v1", true),
    (
        "clustersecretstores.external-secrets.io",
        "ClusterSecretStore",
        "v1",
        false,
    ),
    ("secretstores.external-secrets.io", "SecretStore", "v1", true),
    (
        "externalsecretsconfigs.operator.openshift.io",
        "ExternalSecretsConfig",
        "v1alpha1",
        false,
    ),
    (
        "nodefeaturediscoveries.nfd.openshift.io",
        "NodeFeatureDiscovery",
        "v1",
        true,
    ),
    ("clusterpolicies.nvidia.com", "ClusterPolicy", "v1", false),
    ("nodefeaturerules.nfd.k8s-sigs.io", "NodeFeatureRule", "v1alpha1", true),
    // kopiur (phase 5; upstream CRDs are AGPL and not in shared/crds: schema-less here)
    (
        "clusterrepositories.kopiur.home-operations.com",
        "ClusterRepository",
        "v1alpha1",
        false,
    ),
    (
        "repositories.kopiur.home-operations.com",
        "Repository",
        "v1alpha1",
        true,
    ),
    (
        "snapshotpolicies.kopiur.home-operations.com",
        "SnapshotPolicy",
        "v1alpha1",
        true,
    ),
    (
        "snapshotschedules.kopiur.home-operations.com",
        "SnapshotSchedule",
        "v1alpha1",
        true,
    ),
    ("snapshots.kopiur.home-operations.com", "Snapshot", "v1alpha1", true),
    ("restores.kopiur.home-operations.com", "Restore", "v1alpha1", true),
    (
        "clusterexternalsecrets.external-secrets.io",
        "ClusterExternalSecret",
        "v1",
        false,
    ),
    // MetalLB (Red Hat's metallb-operator; upstream CRDs are not in shared/crds: schema-less here)
    ("metallbs.metallb.io", "MetalLB", "v1beta1", true),
    ("ipaddresspools.metallb.io", "IPAddressPool", "v1beta1", true),
    ("l2advertisements.metallb.io", "L2Advertisement", "v1beta1", true),
];

/// CRDs an OpenShift cluster serves from the start.
const OPENSHIFT_CRDS: &[&str] = &[
    "clusterversions.config.openshift.io",
    "ingresses.config.openshift.io",
    "routes.route.openshift.io",
    "subscriptions.operators.coreos.com",
    "operatorgroups.operators.coreos.com",
    "clusterserviceversions.operators.coreos.com",
    "installplans.operators.coreos.com",
    "packagemanifests.packages.operators.coreos.com",
    "securitycontextconstraints.security.openshift.io",
    "gatewayclasses.gateway.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "referencegrants.gateway.networking.k8s.io",
];

/// CRDs a Talos cluster serves once clusters/talos/bootstrap/bootstrap-argocd.sh ran: the Gateway API CRDs
/// (step 1, for Cilium) and Argo CD's (the Helm chart installs them; there is no ArgoCD CR with Helm).
const TALOS_CRDS: &[&str] = &[
    "gatewayclasses.gateway.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "referencegrants.gateway.networking.k8s.io",
    "applications.argoproj.io",
    "applicationsets.argoproj.io",
    "appprojects.argoproj.io",
];

/// The CRDs the kopiur Helm chart installs (the simulated Argo CD syncing the `kopiur` chart).
pub const KOPIUR_CRDS: &[&str] = &[
    "clusterrepositories.kopiur.home-operations.com",
    "repositories.kopiur.home-operations.com",
    "snapshotpolicies.kopiur.home-operations.com",
    "snapshotschedules.kopiur.home-operations.com",
    "snapshots.kopiur.home-operations.com",
    "restores.kopiur.home-operations.com",
];

pub struct Package {
    pub name: &'static str,
    pub version: &'static str,
    pub display: &'static str,
    pub owned: &'static [&'static str],
    /// The catalog (CatalogSource) that ships it.
    pub catalog: &'static str,
    /// Its channels, the default first.
    pub channels: &'static [&'static str],
}

/// The simulated OLM catalog: known packages and the CRDs their CSVs own.
pub const PACKAGES: &[Package] = &[
    Package {
        name: "openshift-gitops-operator",
        version: "1.18.1",
        display: "Red Hat OpenShift GitOps",
        owned: &[
            "argocds.argoproj.io",
            "applications.argoproj.io",
            "applicationsets.argoproj.io",
            "appprojects.argoproj.io",
        ],
        catalog: "redhat-operators",
        channels: &["latest", "gitops-1.18", "gitops-1.17"],
    },
    Package {
        name: "lvms-operator",
        version: "4.22.0",
        display: "LVM Storage",
        owned: &["lvmclusters.lvm.topolvm.io"],
        catalog: "redhat-operators",
        channels: &["stable-4.22", "stable-4.21"],
    },
    Package {
        name: "openshift-cert-manager-operator",
        version: "1.18.0",
        display: "cert-manager Operator for Red Hat OpenShift",
        owned: &[
            "certmanagers.operator.openshift.io",
            "certificates.cert-manager.io",
            "issuers.cert-manager.io",
            "clusterissuers.cert-manager.io",
        ],
        catalog: "redhat-operators",
        channels: &["stable-v1", "stable-v1.18"],
    },
    Package {
        name: "openshift-external-secrets-operator",
        version: "1.0.0",
        display: "External Secrets Operator for Red Hat OpenShift",
        owned: &[
            "externalsecrets.external-secrets.io",
            "clustersecretstores.external-secrets.io",
            "secretstores.external-secrets.io",
            "clusterexternalsecrets.external-secrets.io",
            "externalsecretsconfigs.operator.openshift.io",
        ],
        catalog: "redhat-operators",
        channels: &["stable-v1"],
    },
    Package {
        name: "nfd",
        version: "4.22.0",
        display: "Node Feature Discovery Operator",
        owned: &[
            "nodefeaturediscoveries.nfd.openshift.io",
            "nodefeaturerules.nfd.k8s-sigs.io",
        ],
        catalog: "redhat-operators",
        channels: &["stable"],
    },
    Package {
        name: "gpu-operator-certified",
        version: "25.3.4",
        display: "NVIDIA GPU Operator",
        owned: &["clusterpolicies.nvidia.com"],
        catalog: "certified-operators",
        channels: &["stable", "v25.3"],
    },
    Package {
        name: "metallb-operator",
        version: "4.22.0",
        display: "MetalLB Operator",
        owned: &[
            "metallbs.metallb.io",
            "ipaddresspools.metallb.io",
            "l2advertisements.metallb.io",
        ],
        catalog: "redhat-operators",
        channels: &["stable"],
    },
];

pub fn package(name: &str) -> Option<&'static Package> {
    PACKAGES.iter().find(|p| p.name == name)
}

/// The channels a package's catalog serves now (`no-channel=` faults remove some).
pub fn channels(shared: &World, pkg: &Package) -> Vec<&'static str> {
    let gone = shared.faults().no_channels;
    pkg.channels
        .iter()
        .copied()
        .filter(|c| !gone.iter().any(|(p, ch)| p == pkg.name && ch == c))
        .collect()
}

/// The PackageManifest the marketplace serves for a package (`oc get packagemanifest NAME`).
fn package_manifest(shared: &World, pkg: &Package) -> Value {
    let chans = channels(shared, pkg);
    let csv = format!("{}.v{}", pkg.name, pkg.version);
    json!({"apiVersion": "packages.operators.coreos.com/v1", "kind": "PackageManifest",
        "metadata": {"name": pkg.name, "namespace": "openshift-marketplace",
            "labels": {"catalog": pkg.catalog, "catalog-namespace": "openshift-marketplace"}},
        "spec": {},
        "status": {"catalogSource": pkg.catalog, "catalogSourceNamespace": "openshift-marketplace",
            "catalogSourceDisplayName": pkg.catalog, "packageName": pkg.name,
            "defaultChannel": chans.first().copied().unwrap_or(""),
            "channels": chans.iter().map(|c| json!({"name": c, "currentCSV": csv,
                "currentCSVDesc": {"displayName": pkg.display, "version": pkg.version}})).collect::<Vec<_>>()}})
}

pub const INGRESS_DOMAIN: &str = "apps.sno-ai-lab.vanillax.xyz";
/// The simulated OpenShift node's InternalIP (a documentation address, never contacted).
pub const NODE_ADDRESS: &str = "192.0.2.10";
pub const OPENSHIFT_VERSION: &str = "4.22.0-rc.2";

/// A CRD object: the real YAML from `crds_dir` if present, else a minimal schema-less one.
pub fn crd(shared: &World, name: &str) -> Option<Value> {
    if let Some(dir) = &shared.crds_dir {
        let p = dir.join(format!("{name}.yaml"));
        static CACHE: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, Value>>> =
            std::sync::OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(v) = cache.lock().unwrap().get(&p) {
            return Some(v.clone());
        }
        if let Ok(text) = std::fs::read_to_string(&p) {
            match serde_yaml::from_str::<Value>(&text) {
                Ok(mut v) => {
                    if let Some(m) = v["metadata"].as_object_mut() {
                        m.retain(|k, _| ["name", "labels", "annotations"].contains(&k.as_str()));
                    }
                    if let Some(o) = v.as_object_mut() {
                        o.remove("status");
                    }
                    cache.lock().unwrap().insert(p.clone(), v.clone());
                    return Some(v);
                }
                Err(e) => tracing::warn!("sim: cannot parse {}: {e}", p.display()),
            }
        }
    }
    let (_, kind, version, namespaced) = CRDS.iter().find(|c| c.0 == name)?;
    let (plural, group) = name.split_once('.')?;
    Some(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "spec": {"group": group, "scope": if *namespaced { "Namespaced" } else { "Cluster" },
            "names": {"plural": plural, "singular": kind.to_lowercase(), "kind": kind, "listKind": format!("{kind}List")},
            "versions": [{"name": version, "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    }))
}

pub fn established(mut crd: Value) -> Value {
    let t = now();
    let names = crd["spec"]["names"].clone();
    crd["status"] = json!({"acceptedNames": names, "storedVersions": [crd["spec"]["versions"][0]["name"]],
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": t},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": t}]});
    crd
}

fn ns(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

pub fn node(name: &str, os_image: &str, kubelet: &str, runtime: &str, ip: &str, control_plane: bool) -> Value {
    let mut labels = json!({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64", "node-role.kubernetes.io/worker": ""});
    if control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        labels["node-role.kubernetes.io/master"] = json!("");
    }
    let res = json!({"cpu": "16", "memory": "65536Mi", "pods": "250", "ephemeral-storage": "500Gi"});
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
        "spec": {},
        "status": {"capacity": res, "allocatable": res,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status (simulated)", "lastHeartbeatTime": now(), "lastTransitionTime": now()}],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "nodeInfo": {"osImage": os_image, "kubeletVersion": kubelet, "kubeProxyVersion": kubelet, "containerRuntimeVersion": runtime,
                "kernelVersion": "6.12.0", "operatingSystem": "linux", "architecture": "amd64", "machineID": "", "systemUUID": "", "bootID": ""}}})
}

pub fn kube_version(p: Platform) -> (&'static str, &'static str) {
    match p {
        Platform::Openshift => ("1", "35"),
        Platform::Talos => ("1", "34"),
    }
}

/// Puts the platform's starting objects into the store.
pub fn seed(shared: &World) -> anyhow::Result<()> {
    let s = &shared.store;
    let add = |gr: &str, obj: Value| s.ensure(gr, obj);
    let crds = "customresourcedefinitions.apiextensions.k8s.io";
    let (maj, min) = kube_version(shared.platform);
    let kubelet = format!("v{maj}.{min}.2");
    for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        add("namespaces", ns(n));
    }
    add(
        "storageclasses.storage.k8s.io",
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "sim-local"}, "provisioner": "sim.local/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer"}),
    );
    match shared.platform {
        Platform::Talos => {
            talos_bootstrapped(shared);
            for (i, n) in ["talos-cp-1", "talos-worker-1"].iter().enumerate() {
                add(
                    "nodes",
                    node(
                        n,
                        "Talos (v1.11.2)",
                        &kubelet,
                        "containerd://2.1.4",
                        &format!("192.0.2.{}", 11 + i),
                        i == 0,
                    ),
                );
            }
        }
        Platform::Openshift => {
            for n in OPENSHIFT_CRDS {
                if let Some(c) = crd(shared, n) {
                    add(crds, established(c));
                }
            }
            for n in [
                "openshift-ingress",
                "openshift-marketplace",
                "openshift-operators",
                "openshift-config",
                "openshift-operator-lifecycle-manager",
            ] {
                add("namespaces", ns(n));
            }
            add(
                "nodes",
                node(
                    "sno-ai-lab",
                    "Red Hat Enterprise Linux CoreOS 9.6.20260801-0 (Plow)",
                    &kubelet,
                    "cri-o://1.35.1",
                    NODE_ADDRESS,
                    true,
                ),
            );
            add(
                "clusterversions.config.openshift.io",
                json!({"apiVersion": "config.openshift.io/v1", "kind": "ClusterVersion",
                "metadata": {"name": "version"},
                "spec": {"channel": "candidate-4.22", "clusterID": new_uid()},
                "status": {"desired": {"version": OPENSHIFT_VERSION, "image": format!("quay.io/openshift-release-dev/ocp-release:{OPENSHIFT_VERSION}-x86_64")},
                    "history": [{"state": "Completed", "version": OPENSHIFT_VERSION, "startedTime": now(), "completionTime": now(), "verified": false, "image": ""}],
                    "observedGeneration": 1, "versionHash": "sim", "availableUpdates": null,
                    "conditions": [{"type": "Available", "status": "True", "lastTransitionTime": now(), "message": format!("Done applying {OPENSHIFT_VERSION}")},
                        {"type": "Failing", "status": "False", "lastTransitionTime": now()},
                        {"type": "Progressing", "status": "False", "lastTransitionTime": now(), "message": format!("Cluster version is {OPENSHIFT_VERSION}")}]}}),
            );
            add(
                "ingresses.config.openshift.io",
                json!({"apiVersion": "config.openshift.io/v1", "kind": "Ingress",
                "metadata": {"name": "cluster"}, "spec": {"domain": INGRESS_DOMAIN}, "status": {}}),
            );
            for (name, priv_, uid) in [
                ("restricted-v2", false, "MustRunAsRange"),
                ("anyuid", false, "RunAsAny"),
                ("nonroot-v2", false, "MustRunAsNonRoot"),
                ("privileged", true, "RunAsAny"),
            ] {
                add(
                    "securitycontextconstraints.security.openshift.io",
                    json!({"apiVersion": "security.openshift.io/v1", "kind": "SecurityContextConstraints",
                    "metadata": {"name": name}, "allowPrivilegedContainer": priv_, "allowHostDirVolumePlugin": priv_, "allowHostIPC": priv_,
                    "allowHostNetwork": priv_, "allowHostPID": priv_, "allowHostPorts": priv_, "readOnlyRootFilesystem": false,
                    "runAsUser": {"type": uid}, "seLinuxContext": {"type": if priv_ { "RunAsAny" } else { "MustRunAs" }},
                    "users": [], "groups": if priv_ { json!(["system:cluster-admins", "system:nodes"]) } else { json!([]) }}),
                );
            }
            add(
                "operatorgroups.operators.coreos.com",
                json!({"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
                "metadata": {"name": "global-operators", "namespace": "openshift-operators"}, "spec": {},
                "status": {"namespaces": [""], "lastUpdated": now()}}),
            );
            for pkg in PACKAGES {
                add(
                    "packagemanifests.packages.operators.coreos.com",
                    package_manifest(shared, pkg),
                );
            }
        }
    }
    if shared.platform == Platform::Talos && shared.repo.is_some() {
        talos_preset::seed(shared);
    }
    Ok(())
}

/// What the Talos bootstrap script leaves behind (SIMULATED; docs/sim.md): Gateway API and Argo CD CRDs,
/// Cilium's GatewayClass `cilium`, the Helm-installed Argo CD in namespace `argocd` (its Deployments and the
/// argocd-server Service, no ArgoCD CR), and Longhorn's default StorageClass `longhorn`. The Gateways
/// themselves come from Git (clusters/talos/infrastructure/networking/gateway), synced by the simulated
/// Argo CD once the root Application exists.
fn talos_bootstrapped(shared: &World) {
    let s = &shared.store;
    let add = |gr: &str, obj: Value| s.ensure(gr, obj);
    for n in TALOS_CRDS {
        if let Some(c) = crd(shared, n) {
            add("customresourcedefinitions.apiextensions.k8s.io", established(c));
        }
    }
    add("namespaces", ns("argocd"));
    add(
        "gatewayclasses.gateway.networking.k8s.io",
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "cilium"},
            "spec": {"controllerName": "io.cilium/gateway-controller", "description": "The default Cilium GatewayClass"}}),
    );
    add(
        "storageclasses.storage.k8s.io",
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "longhorn", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "driver.longhorn.io", "allowVolumeExpansion": true, "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate", "parameters": {"numberOfReplicas": "3", "staleReplicaTimeout": "30"}}),
    );
    // The argo-cd chart's workloads (names as the chart gives them with release name `argocd`).
    for comp in [
        "server",
        "repo-server",
        "redis",
        "applicationset-controller",
        "notifications-controller",
    ] {
        let name = format!("argocd-{comp}");
        add(
            "deployments.apps",
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": "argocd", "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "argocd",
                    "app.kubernetes.io/managed-by": "Helm"}},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                    "template": {"metadata": {"labels": {"app.kubernetes.io/name": name}},
                        "spec": {"containers": [{"name": comp, "image": "quay.io/argoproj/argocd:simulated"}]}}}}),
        );
    }
    add(
        "services",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "argocd-server", "namespace": "argocd"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.80", "selector": {"app.kubernetes.io/name": "argocd-server"},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "https", "port": 443, "targetPort": 8080}]}}),
    );
}
