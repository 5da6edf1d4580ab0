//! The simulated Talos cluster as the live Talos fleet leaves it, seeded when the sim plays Argo CD against a
//! fleet (`--fleet`): the platform fleetctl does not install there, because the Talos bootstrap script and
//! the live fleet already did. What is seeded:
//!
//! - Argo CD "installed by Helm": the argoproj.io CRDs, namespace `argocd`, and the root Application of
//!   `clusters/talos/bootstrap/root.yaml` (what `bootstrap-argocd.sh` applies last);
//! - Longhorn: StorageClass `longhorn` (Immediate, the default class);
//! - CRDs the live platform serves: Gateway API, External Secrets (incl. ClusterExternalSecret),
//!   cert-manager, and kopiur;
//! - the live fleet's backup target, which is not in this repo: namespace `kopiur-system` (labelled for
//!   the repository), ClusterRepository `truenas` and the ClusterExternalSecret `kopiur-repository` that
//!   copies its credentials into labelled namespaces.
//!
//! Separate from `catalog::seed` so that a fuller Talos preset (Gateway, HTTPS router) merges cleanly.

use super::catalog::{crd, established};
use super::Shared;
use serde_json::{json, Value};

const CRDS: &[&str] = &[
    "applications.argoproj.io",
    "applicationsets.argoproj.io",
    "appprojects.argoproj.io",
    "gatewayclasses.gateway.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "referencegrants.gateway.networking.k8s.io",
    "externalsecrets.external-secrets.io",
    "clustersecretstores.external-secrets.io",
    "secretstores.external-secrets.io",
    "clusterexternalsecrets.external-secrets.io",
    "certificates.cert-manager.io",
    "issuers.cert-manager.io",
    "clusterissuers.cert-manager.io",
];

pub fn seed(shared: &Shared) {
    let s = &shared.store;
    let crds = "customresourcedefinitions.apiextensions.k8s.io";
    for n in CRDS.iter().chain(crate::sim::controllers::KOPIUR_CRDS) {
        if let Some(c) = crd(shared, n) {
            s.ensure(crds, established(c));
        }
    }
    s.ensure(
        "namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}}),
    );
    s.ensure(
        "namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kopiur-system",
            "labels": {"backups.vanillax.me/repository": "truenas"}}}),
    );
    s.ensure(
        "storageclasses.storage.k8s.io",
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "longhorn", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "driver.longhorn.io", "volumeBindingMode": "Immediate", "allowVolumeExpansion": true}),
    );
    s.ensure(
        "clusterrepositories.kopiur.home-operations.com",
        json!({"apiVersion": "kopiur.home-operations.com/v1alpha1", "kind": "ClusterRepository",
            "metadata": {"name": "truenas"},
            "spec": {"backend": {"s3": {"bucket": "kopiur", "endpoint": "truenas.vanillax.me:9000", "region": "us-east-1",
                    "auth": {"secretRef": {"name": "kopiur-repository", "namespace": "kopiur-system"}}}},
                "encryption": {"passwordSecretRef": {"name": "kopiur-repository", "key": "KOPIA_PASSWORD", "namespace": "kopiur-system"}},
                "allowedNamespaces": {"selector": {"matchLabels": {"backups.vanillax.me/repository": "truenas"}}}}}),
    );
    s.ensure(
        "clusterexternalsecrets.external-secrets.io",
        json!({"apiVersion": "external-secrets.io/v1", "kind": "ClusterExternalSecret",
            "metadata": {"name": "kopiur-repository"},
            "spec": {"externalSecretName": "kopiur-repository",
                "namespaceSelectors": [{"matchLabels": {"backups.vanillax.me/repository": "truenas"}}],
                "externalSecretSpec": {"refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": "1password"},
                    "target": {"name": "kopiur-repository", "creationPolicy": "Owner"},
                    "data": [{"secretKey": "AWS_ACCESS_KEY_ID", "remoteRef": {"key": "kopiur-truenas", "property": "access-key-id"}},
                        {"secretKey": "AWS_SECRET_ACCESS_KEY", "remoteRef": {"key": "kopiur-truenas", "property": "secret-access-key"}},
                        {"secretKey": "KOPIA_PASSWORD", "remoteRef": {"key": "kopiur-truenas", "property": "kopia-password"}}]}}}),
    );
    if let Some(root) = root_app(shared) {
        s.ensure("applications.argoproj.io", root);
    }
}

fn root_app(shared: &Shared) -> Option<Value> {
    let p = shared.repo.as_ref()?.join("clusters/talos/bootstrap/root.yaml");
    let text = std::fs::read_to_string(&p).ok()?;
    let mut v: Value = serde_yaml::from_str(&text).ok()?;
    if let Some(m) = v["metadata"].as_object_mut() {
        m.remove("finalizers");
    }
    Some(v)
}
