//! Phase 2's load balancer for the Gateway on the simulated OpenShift cluster: MetalLB from Git gives the
//! Gateway the decided pool address; `existing-load-balancer` is proven in preflight or refused before any
//! write; a pool address in Git that differs from the decision stops phase 2 before any write.

mod common;

use common::fleetctl_on as fleetctl;
use common::{text, SimProc};
use std::path::Path;

fn phase(repo: &Path, sim: &SimProc, n: &str, answers: &str) -> std::process::Output {
    fleetctl(
        repo,
        &["phase", n, "--cluster", "openshift", "--answers", answers],
        &sim.kubeconfig,
    )
}

#[test]
fn metallb_from_git_gives_the_gateway_the_pool_address_and_an_existing_pool_then_counts_as_a_load_balancer() {
    let (dir, sim) = common::openshift_platform_ready("");
    let repo = dir.path();
    let out = fleetctl(
        repo,
        &["check", "--phase", "2", "--cluster", "openshift", "--output", "json"],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    // The address is the one Git's IPAddressPool holds, not a made-up one.
    assert!(
        report.contains("192.168.10.11") && !report.contains("192.0.2.80"),
        "{report}"
    );

    // The cluster now has MetalLB with a pool: answering existing-load-balancer is proven and passes.
    let existing = common::rehearsal_answers_with(
        repo,
        "answers-lb.yaml",
        &[("gateway-load-balancer", "existing-load-balancer")],
    );
    sim.reset_stats();
    let out = phase(repo, &sim, "2", &existing);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("IPAddressPool metallb-system/gateway: 192.168.10.11/32"),
        "{t}"
    );
    assert_eq!(sim.writes(), 0, "{}", sim.stats());
}

#[test]
fn existing_load_balancer_on_bare_metal_without_one_stops_in_preflight_with_zero_writes() {
    let dir = common::repo_copy();
    let repo = dir.path();
    // No --fleet: nothing syncs Git's MetalLB, so the cluster has no pool and no LoadBalancer Service.
    let sim = SimProc::start("openshift", "sno-ai-lab", "", 20.0);
    let answers = common::rehearsal_answers_with(
        repo,
        "answers-lb.yaml",
        &[("gateway-load-balancer", "existing-load-balancer")],
    );
    let out = phase(repo, &sim, "1", &answers);
    assert!(out.status.success(), "phase 1: {}", text(&out));
    sim.reset_stats();
    let out = phase(repo, &sim, "2", &answers);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("no load balancer on the cluster")
            && t.contains("ipaddresspools.metallb.io is not served")
            && t.contains("no Service of type LoadBalancer")
            && t.contains("metallb-from-git"),
        "{t}"
    );
    assert!(!t.contains("preflight passed"), "{t}");
    assert_eq!(sim.writes(), 0, "{}", sim.stats());
}

#[test]
fn a_gateway_address_git_does_not_hold_stops_phase_2_before_any_write() {
    let dir = common::repo_copy();
    let repo = dir.path();
    let sim = SimProc::on_fleet("openshift", "sno-ai-lab", "", 20.0, repo);
    let answers = repo.join("runbooks/answers/rehearsal.yaml");
    let out = phase(repo, &sim, "1", answers.to_str().unwrap());
    assert!(out.status.success(), "phase 1: {}", text(&out));
    let other = common::rehearsal_answers_with(
        repo,
        "answers-lb.yaml",
        &[("gateway-lb-address", "\"192.168.10.12/32\"")],
    );
    sim.reset_stats();
    let out = phase(repo, &sim, "2", &other);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("Git does not match")
            && t.contains("192.168.10.12/32")
            && t.contains("clusters/openshift/infrastructure/metallb/ipaddresspool.yaml"),
        "{t}"
    );
    assert_eq!(sim.writes(), 0, "{}", sim.stats());
}
