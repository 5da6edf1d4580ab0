//! The per-platform cluster templates `fleetctl cluster new` scaffolds from when no cluster of the same
//! platform is named with `--from`. They ship inside fleetctl (build.rs embeds this repo's reference clusters:
//! clusters/openshift - the OpenShift GitOps operator bootstrap, the ArgoCD CR, the root, the operator-managed
//! infrastructure and the layers - and clusters/talos), so a repo that has never held an OpenShift cluster
//! still gets a real OpenShift bootstrap, never a copy of another platform's tree.

use super::cluster::{ClusterSpec, Platform};
use super::rewrite::Facts;

include!(concat!(env!("OUT_DIR"), "/embedded_templates.rs"));

/// The template of `platform`: (path under the cluster folder, contents), cluster.yaml included.
pub fn files(platform: Platform) -> Vec<(&'static str, &'static str)> {
    TEMPLATES
        .iter()
        .filter(|(p, _, _)| *p == platform.as_str())
        .map(|(_, rel, text)| (*rel, *text))
        .collect()
}

/// The template's own cluster description (its facts are what the scaffold rewrites).
pub fn spec(platform: Platform) -> ClusterSpec {
    let text = files(platform)
        .into_iter()
        .find(|(rel, _)| *rel == "cluster.yaml")
        .map(|(_, t)| t)
        .expect("every embedded template has a cluster.yaml");
    serde_yaml::from_str(text).expect("the embedded template's cluster.yaml is valid (tests/cluster_new.rs)")
}

/// The facts the template's files carry: its folder is named after the platform.
pub fn facts(platform: Platform) -> Facts {
    let s = spec(platform);
    let repo_url = files(platform)
        .into_iter()
        .filter(|(rel, _)| rel.starts_with("bootstrap/root/"))
        .find_map(|(_, t)| repo_url_in(t));
    Facts {
        dir: platform.as_str().to_string(),
        name: s.name,
        apps_domain: s.apps_domain,
        storage_class: s.storage_class,
        gateway: s.gateway,
        repo_url,
    }
}

/// The first `repoURL:` value in a YAML text.
pub fn repo_url_in(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.trim_start().trim_start_matches("- ").strip_prefix("repoURL:")?;
        let v = v.split(" #").next()?.trim().trim_matches(['"', '\'']);
        (!v.is_empty()).then(|| v.to_string())
    })
}

/// A shared app's overlay for a cluster when no cluster of its platform has one yet: the deltas
/// docs/adding-a-cluster.md allows - the HTTPRoute's Gateway and hostname, the PVCs' StorageClass - as
/// patches on every HTTPRoute and PVC the base holds.
pub fn overlay(app: &str, platform: Platform, new: &Facts, route: bool, pvc: bool) -> String {
    let mut s = format!(
        "# {app} on {name} ({platform}), from fleetctl's {platform} overlay template: the HTTPRoute's Gateway and\n\
         # hostname and the PVCs' StorageClass (clusters/{name}/cluster.yaml). Add what else this platform\n\
         # needs (securityContext, ...) within ../../overlay-delta.yaml.\n\
         apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {app}\nresources:\n  - ../../base\n",
        name = new.dir,
    );
    if !(route || pvc) {
        return s;
    }
    s.push_str("patches:\n");
    if route {
        let g = &new.gateway;
        let section = g
            .section_name
            .as_deref()
            .map(|x| format!("\n            sectionName: {x}"))
            .unwrap_or_default();
        s.push_str(&format!(
            "  - target:\n      group: gateway.networking.k8s.io\n      kind: HTTPRoute\n    patch: |-\n\
             \x20     - op: add\n        path: /spec/parentRefs\n        value:\n\
             \x20         - name: {}\n            namespace: {}{section}\n\
             \x20     - op: add\n        path: /spec/hostnames\n        value:\n          - {app}.{}\n",
            g.name, g.namespace, new.apps_domain
        ));
    }
    if pvc {
        s.push_str(&format!(
            "  - target:\n      kind: PersistentVolumeClaim\n    patch: |-\n\
             \x20     - op: add\n        path: /spec/storageClassName\n        value: {}\n",
            new.storage_class
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_has_a_template_of_its_own_platform() {
        for p in [Platform::Openshift, Platform::Talos] {
            assert_eq!(spec(p).platform, p);
            assert!(files(p).len() > 3);
            assert!(facts(p).repo_url.is_some());
        }
        let os: Vec<&str> = files(Platform::Openshift).into_iter().map(|(r, _)| r).collect();
        for want in [
            "bootstrap/operator/subscription.yaml",
            "bootstrap/argocd/argocd.yaml",
            "bootstrap/root/root.yaml",
        ] {
            assert!(os.contains(&want), "{want} missing: {os:?}");
        }
    }
}
