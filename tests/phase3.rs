//! Phase 3 (shared Redlib) on the simulated clusters whose simulated Argo CD syncs a copy of this repo,
//! with every probed host pinned to the sim's loopback HTTPS router (never the real hosts).

mod common;

use common::{text, SimProc};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::repo_copy;

/// fleetctl against `repo`; with `net`, the sim's network as a rehearsal sets it: names resolve through the
/// simulated LAN DNS, the node's address reaches the simulated router and any other (a Gateway's) the
/// Gateway listener (None: unpinned, nothing resolves).
fn fleetctl(repo: &Path, args: &[&str], kubeconfig: Option<&Path>, net: Option<&SimProc>) -> Output {
    let mut c = Command::new(common::bin());
    c.arg("--repo")
        .arg(repo)
        .env("FLEETCTL_STATE_DIR", repo.join(".state"))
        .env("NO_COLOR", "1")
        .env_remove("FLEETCTL_PROBE_RESOLVE")
        .env_remove("FLEETCTL_PROBE_INSECURE")
        .env_remove("FLEETCTL_DNS_SERVER")
        .stdin(Stdio::null())
        .args(args);
    if let Some(kc) = kubeconfig {
        c.arg("--kubeconfig").arg(kc);
    }
    if let Some(sim) = net {
        let pins = if sim.gateway.is_empty() {
            format!("*={}", sim.router)
        } else {
            format!("{}={},*={}", fleetctl::sim::NODE_ADDRESS, sim.router, sim.gateway)
        };
        c.env("FLEETCTL_PROBE_RESOLVE", pins)
            .env("FLEETCTL_PROBE_INSECURE", "1");
        if !sim.dns.is_empty() {
            c.env("FLEETCTL_DNS_SERVER", &sim.dns);
        }
    }
    c.output().unwrap()
}

fn answers(repo: &Path) -> String {
    repo.join("runbooks/answers/rehearsal.yaml")
        .to_str()
        .unwrap()
        .to_string()
}

fn phase(repo: &Path, sim: &SimProc, cluster: &str, n: &str) -> Output {
    let a = answers(repo);
    if cluster == "openshift" {
        // The owner's commit that turns this phase's layer on (docs/multicluster-prd.md, "Layers").
        common::set_layer(repo, &format!("phase-{n}"));
    }
    fleetctl(
        repo,
        &["phase", n, "--cluster", cluster, "--answers", &a],
        Some(&sim.kubeconfig),
        Some(sim),
    )
}

fn check_json(repo: &Path, sim: Option<&SimProc>, cluster: &str, n: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["check", "--phase", n, "--cluster", cluster, "--output", "json"];
    args.extend_from_slice(extra);
    let out = fleetctl(repo, &args, sim.map(|s| s.kubeconfig.as_path()), sim);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON report: {}", text(&out)));
    (out.status.code().unwrap(), v)
}

fn criterion<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing: {r:#}"))
}

/// A sim syncing `repo` whose LAN DNS holds the per-host records phase 3's dns-check asks the owner for.
fn fleet_sim(platform: &str, ctx: &str, faults: &str, repo: &Path) -> SimProc {
    let fleet = repo.to_str().unwrap();
    let sim = SimProc::start_with(
        platform,
        ctx,
        faults,
        20.0,
        &["--fleet", fleet, "--lan-dns", "per-host"],
    );
    assert!(
        sim.router.starts_with("127.0.0.1:"),
        "sim serve prints its router: {}",
        sim.router
    );
    sim
}

#[test]
fn openshift_phases_1_to_3_pass_with_the_ui_and_redlib_reachable_through_the_router_and_rerun_writes_nothing() {
    let dir = repo_copy();
    let repo = dir.path();
    let sim = fleet_sim("openshift", "sno-ai-lab", "", repo);
    for n in ["1", "2", "3"] {
        let out = phase(repo, &sim, "openshift", n);
        assert!(out.status.success(), "phase {n} failed: {}", text(&out));
    }
    let (code, r) = check_json(repo, Some(&sim), "openshift", "1", &[]);
    assert_eq!(code, 0, "{r:#}");
    let ui = criterion(&r, "p1.argocd-reachable");
    assert_eq!(ui["status"], "pass", "{ui:#}");
    assert_eq!(ui["evidence"]["httpStatus"], 200);
    assert_eq!(ui["evidence"]["address"], sim.router.as_str());
    assert_eq!(
        ui["evidence"]["url"],
        "https://argocd-server-argocd.apps.sno-ai-lab.vanillax.xyz/healthz"
    );

    let (code, r) = check_json(repo, Some(&sim), "openshift", "3", &[]);
    assert_eq!(code, 0, "{r:#}");
    for id in ["p3.redlib-synced", "p3.redlib-reachable", "p3.overlay-delta"] {
        assert_eq!(criterion(&r, id)["status"], "pass", "{id}: {r:#}");
    }
    assert_eq!(
        criterion(&r, "p3.redlib-reachable")["evidence"]["url"],
        "https://redlib.apps.sno-ai-lab.vanillax.xyz/settings"
    );
    assert_eq!(
        criterion(&r, "p3.redlib-synced")["evidence"]["spec.source.path"],
        "apps-shared/redlib/overlays/openshift"
    );

    common::assert_rerun_writes_nothing(&sim, "phase 3", || phase(repo, &sim, "openshift", "3"));
}

#[test]
fn with_only_the_lan_wildcard_phase_3_prints_the_records_and_the_router_503_gets_its_own_hint() {
    let dir = repo_copy();
    let repo = dir.path();
    // The LAN as the brief describes it: *.apps.<domain> -> the node, where OpenShift's router answers.
    let sim = SimProc::on_fleet("openshift", "sno-ai-lab", "", 20.0, repo);
    for n in ["1", "2"] {
        let out = phase(repo, &sim, "openshift", n);
        assert!(out.status.success(), "phase {n} failed: {}", text(&out));
    }
    let out = phase(repo, &sim, "openshift", "3");
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("do not resolve to the Gateway")
            && t.contains("redlib.apps.sno-ai-lab.vanillax.xyz  A  192.168.10.11"),
        "the record to create is printed: {t}"
    );
    // What a browser would meet: the router's own 503, told apart from a Gateway or pod problem.
    let (_, r) = check_json(repo, Some(&sim), "openshift", "3", &[]);
    let probe = criterion(&r, "p3.redlib-reachable");
    assert_eq!(probe["status"], "fail", "{probe:#}");
    assert_eq!(probe["evidence"]["httpStatus"], 503, "evidence is typed: {probe:#}");
    let why = probe["details"].to_string();
    assert!(
        why.contains("default ingress router") && why.contains("needs a DNS record"),
        "{probe:#}"
    );
}

#[test]
fn unpinned_probes_of_a_simulated_cluster_are_skipped_not_sent_to_the_real_host() {
    let dir = repo_copy();
    let repo = dir.path();
    let sim = fleet_sim("openshift", "sno-ai-lab", "", repo);
    let out = phase(repo, &sim, "openshift", "1");
    assert!(out.status.success(), "{}", text(&out));
    let out = fleetctl(
        repo,
        &["check", "--phase", "1", "--cluster", "openshift", "--output", "json"],
        Some(&sim.kubeconfig),
        None,
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ui = criterion(&r, "p1.argocd-reachable");
    assert_eq!(ui["status"], "skipped", "{ui:#}");
    assert!(ui["details"][0].as_str().unwrap().contains("not probed"), "{ui:#}");
}

#[test]
fn talos_phase_3_applies_root_and_passes_through_the_router_then_reruns_with_zero_writes() {
    let dir = repo_copy();
    let repo = dir.path();
    let sim = fleet_sim("talos", "talos", "", repo);
    let out = phase(repo, &sim, "talos", "3");
    assert!(out.status.success(), "phase 3 on talos failed: {}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("redlib-image-user = talos-overlay-runasuser"),
        "the decision is shown: {t}"
    );
    let (code, r) = check_json(repo, Some(&sim), "talos", "3", &[]);
    assert_eq!(code, 0, "{r:#}");
    let probe = criterion(&r, "p3.redlib-reachable");
    assert_eq!(probe["status"], "pass", "{probe:#}");
    assert_eq!(probe["evidence"]["url"], "https://redlib.vanillax.me/settings");
    assert_eq!(
        criterion(&r, "p3.redlib-synced")["evidence"]["spec.source.path"],
        "apps-shared/redlib/overlays/talos"
    );
    common::assert_rerun_writes_nothing(&sim, "phase 3", || phase(repo, &sim, "talos", "3"));
}

#[test]
fn a_stalled_redlib_deployment_makes_the_router_answer_503_and_reachable_fail_with_a_hint() {
    let dir = repo_copy();
    let repo = dir.path();
    let sim = fleet_sim(
        "openshift",
        "sno-ai-lab",
        "stall=Deployment/redlib/redlib=Unavailable",
        repo,
    );
    for n in ["1", "2"] {
        let out = phase(repo, &sim, "openshift", n);
        assert!(out.status.success(), "phase {n} failed: {}", text(&out));
    }
    // The owner turns layer phase-3 on in Git; Argo CD syncs shared-redlib on its own; wait until it has.
    common::set_layer(repo, "phase-3");
    let deadline = Instant::now() + Duration::from_secs(30);
    let r = loop {
        let (_, r) = check_json(repo, Some(&sim), "openshift", "3", &[]);
        let synced = criterion(&r, "p3.redlib-synced")["evidence"]["status.sync.status"] == "Synced";
        if synced || Instant::now() > deadline {
            break r;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    // Synced, and Progressing while its Deployment is not Available, as Argo CD's health assessment says.
    let synced = criterion(&r, "p3.redlib-synced");
    assert_eq!(synced["evidence"]["status.sync.status"], "Synced", "{r:#}");
    assert_eq!(synced["evidence"]["status.health.status"], "Progressing", "{synced:#}");
    let probe = criterion(&r, "p3.redlib-reachable");
    assert_eq!(probe["status"], "fail", "{probe:#}");
    assert_eq!(probe["evidence"]["httpStatus"], 503);
    let why = probe["details"][0].as_str().unwrap();
    assert!(
        why.contains("503") && why.contains("Deployment redlib/redlib") && why.contains("not Available"),
        "{why}"
    );
    assert!(
        probe["hint"].as_str().unwrap().contains("oc -n redlib get pods"),
        "{probe:#}"
    );
}

#[test]
fn an_overlay_delta_beyond_parentrefs_and_hostnames_fails_p3_until_allow_listed_with_its_reason() {
    let dir = repo_copy();
    let repo = dir.path();
    let snap = repo.join("snapshot.yaml");
    std::fs::write(&snap, "apiVersion: v1\nkind: Namespace\nmetadata: {name: redlib}\n").unwrap();
    let snap = snap.to_str().unwrap().to_string();
    // Git as shipped: Talos pins runAsUser (the redlib-image-user decision), allow-listed with its reason.
    let (_, r) = check_json(repo, None, "talos", "3", &["--snapshot", &snap]);
    let c = criterion(&r, "p3.overlay-delta");
    assert_eq!(c["status"], "pass", "{r:#}");
    assert!(
        c["evidence"]["allowed"]
            .to_string()
            .contains("spec.template.spec.securityContext.runAsUser"),
        "the allowed delta is reported, not hidden: {c:#}"
    );

    // A delta nobody allowed: the Talos overlay scales Redlib to 2.
    let k = repo.join("apps-shared/redlib/overlays/talos/kustomization.yaml");
    let mut t = std::fs::read_to_string(&k).unwrap();
    t.push_str("  - target: {kind: Deployment, name: redlib}\n    patch: |-\n      - op: add\n        path: /spec/replicas\n        value: 2\n");
    std::fs::write(&k, t).unwrap();
    let (code, r) = check_json(repo, None, "talos", "3", &["--snapshot", &snap]);
    assert_eq!(code, 1);
    let c = criterion(&r, "p3.overlay-delta");
    assert_eq!(c["status"], "fail", "{c:#}");
    let details = c["details"].to_string();
    assert!(
        details.contains("Deployment/redlib") && details.contains("spec.replicas"),
        "{details}"
    );
    assert!(c["hint"].as_str().unwrap().contains("overlay-delta.yaml"), "{c:#}");

    // Allow-listing it, with its reason, is the owner's explicit choice: the phase passes and says so.
    let allow = repo.join("apps-shared/redlib/overlay-delta.yaml");
    let mut a = std::fs::read_to_string(&allow).unwrap();
    a.push_str("  - path: spec.replicas\n    kind: Deployment\n    name: redlib\n    reason: Talos has three nodes\n");
    std::fs::write(&allow, a).unwrap();
    let (_, r) = check_json(repo, None, "talos", "3", &["--snapshot", &snap]);
    let c = criterion(&r, "p3.overlay-delta");
    assert_eq!(c["status"], "pass", "{c:#}");
    assert!(c["evidence"]["allowed"].to_string().contains("spec.replicas"), "{c:#}");
}

#[test]
fn a_numeric_user_image_answer_with_the_upstream_image_still_in_git_stops_talos_phase_3_before_any_write() {
    let dir = repo_copy();
    let repo = dir.path();
    let sim = fleet_sim("talos", "talos", "", repo);
    let a = repo.join("runbooks/answers/rehearsal.yaml");
    let t = std::fs::read_to_string(&a).unwrap().replace(
        "redlib-image-user: talos-overlay-runasuser",
        "redlib-image-user: numeric-user-image",
    );
    let other = repo.join("numeric.yaml");
    std::fs::write(&other, t).unwrap();
    sim.reset_stats();
    let out = fleetctl(
        repo,
        &["phase", "3", "--cluster", "talos", "--answers", other.to_str().unwrap()],
        Some(&sim.kubeconfig),
        Some(&sim),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("Git does not match") && t.contains("quay.io/redlib/redlib:latest") && t.contains("deployment.yaml"),
        "{t}"
    );
    assert_eq!(sim.writes(), 0, "nothing may be written: {}", sim.stats());
}

#[test]
fn on_talos_a_root_that_still_points_at_the_old_apps_folder_stops_phase_3_at_once_naming_phase_4() {
    let dir = repo_copy();
    let repo = dir.path();
    let sim = fleet_sim("talos", "talos", "", repo);
    // The live Talos root before phase 4: same Application, the pre-migration path.
    let old_root = repo.join("old-root");
    std::fs::create_dir_all(&old_root).unwrap();
    let root = std::fs::read_to_string(repo.join("clusters/talos/bootstrap/root/root.yaml"))
        .unwrap()
        .replace(
            "path: clusters/talos/apps",
            "path: infrastructure/controllers/argocd/apps",
        );
    std::fs::write(old_root.join("root.yaml"), root).unwrap();
    let applied = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(["apply", "--server-side", "-f"])
        .arg(old_root.join("root.yaml"))
        .output();
    let Ok(applied) = applied else {
        eprintln!("SKIPPED: kubectl not found");
        return;
    };
    assert!(applied.status.success(), "{}", text(&applied));
    let a = std::fs::read_to_string(repo.join("runbooks/answers/rehearsal.yaml"))
        .unwrap()
        .replace("talos-root: apply", "talos-root: existing");
    let existing = repo.join("existing.yaml");
    std::fs::write(&existing, a).unwrap();
    sim.reset_stats();
    let t0 = Instant::now();
    let out = fleetctl(
        repo,
        &[
            "phase",
            "3",
            "--cluster",
            "talos",
            "--answers",
            existing.to_str().unwrap(),
        ],
        Some(&sim.kubeconfig),
        Some(&sim),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("infrastructure/controllers/argocd/apps") && t.contains("phase 4"),
        "the cause and the next step are named: {t}"
    );
    assert!(t0.elapsed() < Duration::from_secs(30), "fail-fast, not the 5m timeout");
    assert_eq!(sim.writes(), 0, "choosing `existing` writes nothing: {}", sim.stats());
}
