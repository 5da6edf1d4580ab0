//! Phase 5 on the simulated Talos cluster, seeded when the sim plays Argo CD against a fleet (`--fleet`), on
//! top of what `catalog::talos_bootstrapped` seeds (Argo CD, Gateway API, Longhorn): what the live Talos
//! fleet runs and this repo does not install there:
//!
//! - External Secrets' CRDs (incl. ClusterExternalSecret) - apps-shared ExternalSecrets need them;
//! - kopiur's CRDs and the live fleet's backup target: namespace `kopiur-system` (labelled for the
//!   repository), ClusterRepository `truenas` and the ClusterExternalSecret `kopiur-repository` that copies
//!   its credentials into labelled namespaces;
//! - what `clusters/talos/bootstrap/bootstrap-argocd.sh` pre-seeded before Argo CD (the trust anchor): the
//!   Connect token Secret ESO's ClusterSecretStore reads (`external-secrets/1passwordconnect`), and the
//!   live fleet's 1Password Connect server (`1passwordconnect/onepassword-connect`, Deployment + Service),
//!   with simulated placeholder values, never a real credential.

use super::{crd, established, KOPIUR_CRDS};
use crate::sim::world::World;
use serde_json::json;

const CRDS: &[&str] = &[
    "externalsecrets.external-secrets.io",
    "clustersecretstores.external-secrets.io",
    "secretstores.external-secrets.io",
    "clusterexternalsecrets.external-secrets.io",
];

pub fn seed(shared: &World) {
    let s = &shared.store;
    let crds = "customresourcedefinitions.apiextensions.k8s.io";
    for n in CRDS.iter().chain(KOPIUR_CRDS) {
        if let Some(c) = crd(shared, n) {
            s.ensure(crds, established(c));
        }
    }
    s.ensure(
        "namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kopiur-system",
            "labels": {"backups.vanillax.me/repository": "truenas"}}}),
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
    seed_connect(s);
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
}

/// The bootstrap script's pre-seed and the Connect server the live Talos fleet runs.
fn seed_connect(s: &crate::sim::store::Store) {
    for ns in ["1passwordconnect", "external-secrets"] {
        s.ensure(
            "namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        );
    }
    // "simulated-token", base64: a placeholder the simulated ESO only checks for presence.
    s.ensure(
        "secrets",
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "1passwordconnect", "namespace": "external-secrets"},
            "data": {"token": "c2ltdWxhdGVkLXRva2Vu"}}),
    );
    let labels = json!({"app.kubernetes.io/name": "onepassword-connect"});
    s.ensure(
        "services",
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "onepassword-connect", "namespace": "1passwordconnect"},
            "spec": {"selector": labels, "ports": [{"name": "connect-api", "port": 8080, "targetPort": 8080}]}}),
    );
    s.ensure(
        "deployments.apps",
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "onepassword-connect", "namespace": "1passwordconnect"},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "connect-api", "image": "1password/connect-api:1.7.3"}]}}}}),
    );
}
