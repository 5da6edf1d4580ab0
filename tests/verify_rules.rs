//! Every lint rule against a seeded violation of the clean fixture fleet.

#[path = "fixtures/verify/common.rs"]
mod common;

use common::*;
use fleetctl::verify::VerifyReport;

fn lines(r: &VerifyReport) -> Vec<String> {
    r.findings.iter().map(|f| f.line()).collect()
}

/// Run the clean fleet with `violations/<fixture>` over it; every finding must be of `rule`, and there
/// must be exactly `count` of them. Returns the lines for more specific checks.
fn only(fixture: &str, rule: &str, count: usize) -> Option<Vec<String>> {
    if !have_kustomize() || schemas().is_none() {
        return None;
    }
    let fleet = fleet_with(Some(fixture));
    let r = verify(fleet.path(), Some(shared_cache()));
    let l = lines(&r);
    assert!(
        r.findings.iter().all(|f| f.rule == rule),
        "{fixture}: expected only {rule} findings, got:\n{}",
        l.join("\n")
    );
    assert_eq!(r.findings.len(), count, "{fixture}: findings:\n{}", l.join("\n"));
    assert!(!r.is_clean());
    Some(l)
}

#[test]
fn clean_fleet_is_clean() {
    if !have_kustomize() || schemas().is_none() {
        return;
    }
    let fleet = fleet_with(None);
    let r = verify(fleet.path(), Some(shared_cache()));
    assert!(r.is_clean(), "{}", r.to_text());
    // 2 cluster app trees, 2 infrastructure dirs, 1 bootstrap (its three parts are not roots), 1 base, 2 overlays.
    let paths: Vec<&str> = r.roots.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "apps-shared/web/base",
            "apps-shared/web/overlays/alpha",
            "apps-shared/web/overlays/beta",
            "clusters/alpha/apps",
            "clusters/alpha/infrastructure/gateway",
            "clusters/alpha/infrastructure/secrets",
            "clusters/beta/apps",
            "clusters/beta/bootstrap",
        ]
    );
    assert!(r.validated > 0 && r.validated == r.objects, "{}", r.to_text());
    assert!(r.not_validated.is_empty(), "{:?}", r.not_validated);
    let text = r.to_text();
    assert!(text.starts_with("clean: 0 finding(s); 8 root(s)"), "{text}");
    let j = r.to_json();
    assert_eq!(j["clean"], true);
    assert_eq!(j["summary"]["roots"], 8);
}

#[test]
fn secret_plaintext() {
    // The clean fleet's credential-free repository Secret passes; the same one with a password does not.
    let Some(l) = only("secret-plaintext", "secret-plaintext", 2) else {
        return;
    };
    assert!(
        l[0].starts_with(
            "secret-plaintext clusters/alpha/infrastructure/secrets/helm-repository.yaml Secret/argocd/repo-charts:"
        ),
        "{l:?}"
    );
    assert!(l[0].contains("stringData.password"), "{l:?}");
    assert!(
        l[1].starts_with(
            "secret-plaintext clusters/alpha/infrastructure/secrets/plain.yaml Secret/cert-manager/api-token:"
        ),
        "{l:?}"
    );
    assert!(l[1].contains("stringData.api-token"), "{l:?}");
}

#[test]
fn externalsecret_conventions() {
    let Some(l) = only("externalsecret-conventions", "externalsecret-conventions", 4) else {
        return;
    };
    let all = l.join("\n");
    for want in [
        "refreshInterval is \"5m\"",
        "creationPolicy is Merge",
        "secretStoreRef is SecretStore/vault",
        "data[0].remoteRef.property is not set",
    ] {
        assert!(all.contains(want), "missing {want:?} in\n{all}");
    }
}

#[test]
fn appset_thin() {
    let Some(l) = only("appset-thin", "appset-thin", 1) else {
        return;
    };
    assert!(
        l[0].contains("ApplicationSet/argocd/shared-apps: spec.template.spec.source.kustomize"),
        "{l:?}"
    );
}

#[test]
fn appset_head() {
    let Some(l) = only("appset-head", "appset-head", 1) else {
        return;
    };
    assert!(
        l[0].contains("spec.template.spec.source.targetRevision is \"main\""),
        "{l:?}"
    );
}

#[test]
fn appset_generators() {
    let Some(l) = only("appset-generators", "appset-generators", 1) else {
        return;
    };
    assert!(l[0].contains("spec.generators[0].list"), "{l:?}");
}

#[test]
fn appset_separation_within_one_appset() {
    let Some(l) = only("appset-separation", "appset-separation", 1) else {
        return;
    };
    assert!(
        l[0].contains(
            "ApplicationSet/argocd/infrastructure: mixes workload directories (apps-shared/*/overlays/alpha)"
        ),
        "{l:?}"
    );
}

#[test]
fn appset_separation_by_project() {
    let Some(l) = only("appset-separation-project", "appset-separation", 1) else {
        return;
    };
    assert!(
        l[0].contains("AppProject infrastructure is shared by workload AppSets"),
        "{l:?}"
    );
}

#[test]
fn httproute_shared_base() {
    let Some(l) = only("httproute-shared-base", "httproute-shared-base", 1) else {
        return;
    };
    assert!(
        l[0].starts_with(
            "httproute-shared-base apps-shared/web/base/httproute.yaml HTTPRoute/web: spec.parentRefs must be empty"
        ),
        "{l:?}"
    );
}

#[test]
fn httproute_shared_base_experimental_field() {
    if !have_kustomize() || schemas().is_none() {
        return;
    }
    let fleet = fleet_with(None);
    let p = fleet.path().join("apps-shared/web/base/httproute.yaml");
    let text = std::fs::read_to_string(&p).unwrap().replace(
        "      backendRefs:",
        "      retry:\n        attempts: 2\n      backendRefs:",
    );
    std::fs::write(&p, text).unwrap();
    let r = verify(fleet.path(), Some(shared_cache()));
    let l = lines(&r);
    assert!(
        l.iter().any(|l| l.starts_with("httproute-shared-base apps-shared/web/base/httproute.yaml HTTPRoute/web: spec.rules[0].retry: not a stable")),
        "{l:?}"
    );
    // The standard-channel CRD does not know it either.
    assert!(
        l.iter().any(|l| l.starts_with(
            "schema apps-shared/web/base/httproute.yaml HTTPRoute/web: spec.rules[0].retry: unknown field"
        )),
        "{l:?}"
    );
}

#[test]
fn no_user_route() {
    let Some(l) = only("no-user-route", "no-user-route", 1) else {
        return;
    };
    assert!(
        l[0].starts_with("no-user-route clusters/alpha/infrastructure/gateway/route.yaml Route/web/web:"),
        "{l:?}"
    );
}

#[test]
fn hostname_domain() {
    let Some(l) = only("hostname-domain", "hostname-domain", 1) else {
        return;
    };
    // Blamed on the overlay patch that sets the hostname, not on the base.
    assert!(
        l[0].starts_with("hostname-domain apps-shared/web/overlays/beta/route.yaml HTTPRoute/web/web:"),
        "{l:?}"
    );
    assert!(
        l[0].contains("spec.hostnames[0]: web.alpha.example is not under apps.beta.example"),
        "{l:?}"
    );
}

#[test]
fn shared_base_uid() {
    let Some(l) = only("shared-base-uid", "shared-base-uid", 1) else {
        return;
    };
    assert!(
        l[0].contains("Deployment/web: spec.template.spec.securityContext.runAsUser"),
        "{l:?}"
    );
}

#[test]
fn install_method_quarantine() {
    let Some(l) = only("install-method-quarantine", "install-method-quarantine", 2) else {
        return;
    };
    let all = l.join("\n");
    assert!(
        all.contains("install-method-quarantine clusters/alpha/infrastructure/argocd-values.yaml: Argo CD Helm values"),
        "{all}"
    );
    assert!(
        all.contains("ArgoCD/argocd/argocd: an ArgoCD custom resource belongs under clusters/<name>/bootstrap/"),
        "{all}"
    );
}

#[test]
fn overlay_delta() {
    let Some(l) = only("overlay-delta", "overlay-delta", 1) else {
        return;
    };
    assert!(
        l[0].starts_with("overlay-delta apps-shared/web/overlays/beta/replicas.yaml "),
        "{l:?}"
    );
    assert!(l[0].contains("Deployment/web/web: overlays/beta differs from overlays/alpha beyond parentRefs/hostnames at spec.replicas"), "{l:?}");
}

#[test]
fn overlay_delta_diff_and_allow_list() {
    if !have_kustomize() || schemas().is_none() {
        return;
    }
    let fleet = fleet_with(Some("overlay-delta"));
    let r = verify(fleet.path(), Some(shared_cache()));
    let detail = r.findings[0].detail.clone().unwrap();
    assert!(
        detail.contains("-  replicas: 1") && detail.contains("+  replicas: 2"),
        "{detail}"
    );
    assert!(r.to_text().contains("    +  replicas: 2"), "{}", r.to_text());
    std::fs::write(
        fleet.path().join("apps-shared/web/overlay-delta.yaml"),
        "allow:\n  - path: spec.replicas\n    kind: Deployment\n    reason: beta has spare capacity\n",
    )
    .unwrap();
    let r = verify(fleet.path(), Some(shared_cache()));
    assert!(r.is_clean(), "{}", r.to_text());
}

#[test]
fn schema_rule() {
    let Some(l) = only("schema", "schema", 1) else {
        return;
    };
    assert_eq!(
        l[0],
        "schema apps-shared/web/base/deployment.yaml Deployment/web: spec.template.spec.containers[0].imagePullPolicyy: unknown field"
    );
}

#[test]
fn render_failure_is_a_finding() {
    let Some(l) = only("render", "render", 1) else {
        return;
    };
    assert!(
        l[0].starts_with("render clusters/alpha/infrastructure/gateway: kustomize build failed"),
        "{l:?}"
    );
}

#[test]
fn argocd_rbac_finds_a_kind_the_controller_may_not_write() {
    let Some(l) = only("argocd-rbac", "argocd-rbac", 1) else {
        return;
    };
    assert!(
        l[0].starts_with("argocd-rbac apps-shared/web/base/httproute.yaml HTTPRoute/web/web:"),
        "{l:?}"
    );
    assert!(
        l[0].contains("may not create/patch/delete httproutes.gateway.networking.k8s.io"),
        "{l:?}"
    );
    assert!(
        l[0].contains("ClusterRole argocd-fleet-manager (clusters/beta/bootstrap/argocd/rbac.yaml)"),
        "{l:?}"
    );
}

#[test]
fn an_overlay_that_does_not_render_is_not_compared_with_the_others() {
    // Only the render finding: no overlay-delta blaming every base file as "only in overlays/alpha".
    let Some(l) = only("render-overlay", "render", 1) else {
        return;
    };
    assert!(l[0].starts_with("render apps-shared/web/overlays/beta:"), "{l:?}");
}

#[test]
fn every_rule_has_a_fixture() {
    let dir = fixtures().join("violations");
    for rule in fleetctl::verify::rules::RULES.iter().map(|r| r.id) {
        assert!(dir.join(rule).is_dir(), "no seeded-violation fixture for rule {rule}");
    }
}

#[test]
fn loose_files_are_validated_and_linted() {
    if !have_kustomize() || schemas().is_none() {
        return;
    }
    let fleet = fleet_with(None);
    let dir = fleet.path().join("clusters/alpha/bootstrap");
    std::fs::create_dir_all(&dir).unwrap();
    // Applied by a bootstrap script, not by a kustomization: still checked.
    std::fs::write(
        dir.join("root.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: root\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.com/fleet.git\n    targetRevision: v1.2.3\n    path: clusters/alpha/apps\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: argocd\n  syncPolicyy: {}\n",
    )
    .unwrap();
    std::fs::write(
        fleet.path().join("apps-shared/web/stray-secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: stray\ndata:\n  password: aHVudGVyMg==\n",
    )
    .unwrap();
    let r = verify(fleet.path(), Some(shared_cache()));
    let l = lines(&r);
    assert_eq!(l.len(), 3, "{l:?}");
    assert!(
        l[0].starts_with("secret-plaintext apps-shared/web/stray-secret.yaml Secret/stray:"),
        "{l:?}"
    );
    assert!(l[1].starts_with("appset-head clusters/alpha/bootstrap/root.yaml Application/argocd/root: spec.source.targetRevision is \"v1.2.3\""), "{l:?}");
    assert_eq!(
        l[2],
        "schema clusters/alpha/bootstrap/root.yaml Application/argocd/root: spec.syncPolicyy: unknown field"
    );
    assert!(r.findings.iter().all(|f| f.root.is_none()));
    assert_eq!(
        r.loose_files,
        vec![
            "apps-shared/web/stray-secret.yaml",
            "clusters/alpha/bootstrap/root.yaml"
        ]
    );
}

#[test]
fn hostname_domain_in_an_inline_patch_blames_the_kustomization() {
    let Some(l) = only("hostname-domain-inline", "hostname-domain", 1) else {
        return;
    };
    assert!(
        l[0].starts_with(
            "hostname-domain apps-shared/web/overlays/beta/kustomization.yaml HTTPRoute/web/web: spec.hostnames[0]: web.alpha.example"
        ),
        "{l:?}"
    );
}

/// Without any CRD (a newcomer offline), a CRD kind's resource name is not known. apimachinery's rule
/// would call a Gateway `gatewaies`; a role granting `gateways` must not be reported, and a finding that
/// rests on a guessed name says so.
#[test]
fn argocd_rbac_without_crds_does_not_trust_a_guessed_plural() {
    if !have_kustomize() {
        return;
    }
    let fleet = fleet_with(None);
    let gw = fleet.path().join("clusters/beta/infrastructure/gateway");
    std::fs::create_dir_all(&gw).unwrap();
    std::fs::write(
        gw.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gateway.yaml\n",
    )
    .unwrap();
    std::fs::write(
        gw.join("gateway.yaml"),
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: apps\n  namespace: ingress\nspec:\n  gatewayClassName: shared\n  listeners:\n    - name: https\n      port: 443\n      protocol: HTTPS\n      hostname: \"*.apps.beta.example\"\n",
    )
    .unwrap();
    let rbac = fleet.path().join("clusters/beta/bootstrap/argocd/rbac.yaml");
    let granted = std::fs::read_to_string(&rbac)
        .unwrap()
        .replace("resources: [httproutes]", "resources: [httproutes, gateways]");
    std::fs::write(&rbac, &granted).unwrap();
    let empty = fleetctl::schema::SchemaSet::empty();
    let mut opts = fleetctl::verify::VerifyOptions::new(fleet.path());
    opts.cache_dir = Some(shared_cache());
    let r = fleetctl::verify::run_with(&opts, &empty).unwrap();
    assert!(r.is_clean(), "{}", r.to_text());

    // Not granted under any likely name: reported, and the guess is said.
    std::fs::write(&rbac, granted.replace("httproutes, gateways", "httproutes")).unwrap();
    let r = fleetctl::verify::run_with(&opts, &empty).unwrap();
    let l = lines(&r);
    assert_eq!(l.len(), 1, "{l:?}");
    assert!(
        l[0].starts_with("argocd-rbac clusters/beta/infrastructure/gateway/gateway.yaml Gateway/ingress/apps:"),
        "{l:?}"
    );
    assert!(
        l[0].contains("may not create/patch/delete gateways.gateway.networking.k8s.io (no CRD for Gateway is known here, so its resource name is guessed: checked as gateways or gatewaies;"),
        "{l:?}"
    );
}

/// A Secret file in a kustomization's directory that the kustomization does not list is not rendered
/// by it: it is a loose file (applied by hand, if at all), linted as such, and its Secret is found (issue
/// 14). A Secret anywhere else in the repo is found too, unless `.fleetctlignore` names it.
#[test]
fn a_secret_file_no_kustomization_reads_is_found() {
    if !have_kustomize() || schemas().is_none() {
        return;
    }
    let fleet = fleet_with(None);
    let secret = |name: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: cert-manager\nstringData:\n  token: hunter2\n")
    };
    let dir = fleet.path().join("clusters/alpha/infrastructure/secrets");
    std::fs::write(dir.join("leftover.yaml"), secret("leftover")).unwrap();
    let elsewhere = fleet.path().join("docs/examples");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("token.yaml"), secret("example")).unwrap();
    let r = verify(fleet.path(), Some(shared_cache()));
    let l = lines(&r);
    assert_eq!(l.len(), 2, "{l:?}");
    assert!(
        l[0].starts_with("secret-plaintext clusters/alpha/infrastructure/secrets/leftover.yaml Secret/cert-manager/leftover: Secret with values in Git (stringData.token)"),
        "{l:?}"
    );
    assert!(
        l[1].starts_with("secret-plaintext docs/examples/token.yaml Secret/cert-manager/example: Secret with values in Git (stringData.token)"),
        "{l:?}"
    );
    assert!(l[1].contains("no kustomization renders this file"), "{l:?}");
    assert_eq!(
        r.loose_files,
        vec!["clusters/alpha/infrastructure/secrets/leftover.yaml"]
    );

    std::fs::write(fleet.path().join(".fleetctlignore"), "docs/examples/\n").unwrap();
    let r = verify(fleet.path(), Some(shared_cache()));
    let l = lines(&r);
    assert_eq!(l.len(), 1, "{l:?}");
    assert!(l[0].contains("leftover.yaml"), "{l:?}");
}

/// A root inflating a local Helm chart: without helm on PATH it is said per root (its own rule, not a
/// render failure) and everything else is still checked; with helm, its objects are rendered and validated.
#[test]
fn helm_roots_need_helm_and_say_so_when_it_is_missing() {
    if !have_kustomize() || schemas().is_none() {
        return;
    }
    if which::which("helm").is_ok() {
        let fleet = fleet_with(Some("helm-unavailable"));
        let r = verify(fleet.path(), Some(shared_cache()));
        assert!(r.is_clean(), "{}", r.to_text());
        let root = r.roots.iter().find(|x| x.path.ends_with("chart-app")).unwrap();
        assert_eq!(root.objects, 1, "the chart's ConfigMap");
        return;
    }
    eprintln!("helm is not on PATH: only the no-helm path is tested here");
    let Some(l) = only("helm-unavailable", "helm-unavailable", 1) else {
        return;
    };
    assert!(
        l[0].starts_with("helm-unavailable clusters/alpha/infrastructure/chart-app: helmCharts (demo) need helm, which is not on PATH"),
        "{l:?}"
    );
    let fleet = fleet_with(Some("helm-unavailable"));
    let r = verify(fleet.path(), Some(shared_cache()));
    assert_eq!(r.roots.len(), 9, "{}", r.to_text());
    assert!(r.validated > 0, "the other roots are still validated");
    assert!(
        r.notes.iter().any(|n| n.contains("rendered with --enable-helm")),
        "{:?}",
        r.notes
    );
}
