//! Phase 6 (GPU stack) on the simulated OpenShift cluster whose simulated Argo CD syncs this repo's
//! working tree, after phases 1 and 2; and `fleetctl check --snapshot` on phase-6 status dumps.

mod common;

use common::{text, SimProc};
use serde_json::Value;
use std::io::{Read, Write};

use common::fleetctl_on as fleetctl;

/// A raw GET against the simulated API server: (status code, body).
fn get(sim: &SimProc, path: &str) -> (u16, String) {
    let hostport = sim.url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(hostport).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let code = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (
        code,
        resp.split_once("\r\n\r\n").map(|x| x.1.to_string()).unwrap_or_default(),
    )
}

fn criterion<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing in {r:#}"))
}

#[test]
fn two_rtx_3090s_pass_cuda_vectoradd_the_job_is_cleaned_up_and_a_rerun_writes_nothing() {
    let (dir, sim) = common::openshift_through(&["1", "2", "3", "5"], "gpus=2,gpu-model=2204");
    common::set_layer(dir.path(), "phase-6");
    let repo = dir.path();
    let a = common::rehearsal_answers_with(repo, "answers-2gpus.yaml", &[("gpu-count", "\"2\"")]);
    let out = fleetctl(
        repo,
        &[
            "phase",
            "6",
            "--cluster",
            "openshift",
            "--answers",
            &a,
            "--output",
            "json",
        ],
        &sim.kubeconfig,
    );
    assert!(out.status.success(), "phase 6 failed: {}", text(&out));
    let t = text(&out);
    // The detection is shown: the RTX 3090 is Ampere, the open modules are recommended, and the
    // decided 580 proprietary driver is accepted.
    assert!(t.contains("10de:2204 GeForce RTX 3090 (Ampere)"), "{t}");
    assert!(
        t.contains("recommended open-modules") && t.contains("also works"),
        "{t}"
    );
    assert!(t.contains("Test PASSED on sno-ai-lab (nvidia.com/gpu: 2)"), "{t}");

    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for id in [
        "p6.nfd-label",
        "p6.clusterpolicy-ready",
        "p6.gpu-capacity",
        "p6.cuda-vectoradd",
    ] {
        assert_eq!(criterion(&report, id)["status"], "pass", "{id}: {report:#}");
    }
    let cap = &criterion(&report, "p6.gpu-capacity")["evidence"];
    assert_eq!(cap["sno-ai-lab.status.capacity[\"nvidia.com/gpu\"]"], "2", "{cap}");
    let ev = &criterion(&report, "p6.cuda-vectoradd")["evidence"];
    assert_eq!(ev["data.nodeGpus"], "2");
    assert_eq!(ev["data.expectedGpus"], "2");

    // The full log is kept in the state dir; the Job and its pod are gone.
    let log = std::fs::read_to_string(repo.join(".state/openshift/reports/phase-6-cuda-vectoradd.log")).unwrap();
    assert!(log.trim_end().ends_with("Test PASSED\nDone"), "{log}");
    let (code, _) = get(
        &sim,
        "/apis/batch/v1/namespaces/nvidia-gpu-operator/jobs/cuda-vectoradd",
    );
    assert_eq!(code, 404, "the vectoradd Job must be deleted");
    let (_, pods) = get(&sim, "/api/v1/namespaces/nvidia-gpu-operator/pods");
    let pods: Value = serde_json::from_str(&pods).unwrap();
    assert!(
        pods["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| !p["metadata"]["name"].as_str().unwrap().starts_with("cuda-vectoradd")),
        "the Job's pod must go with it: {pods:#}"
    );
    // The journal keeps the log's last lines in the step note.
    let journal = std::fs::read_to_string(repo.join(".state/openshift/journal.json")).unwrap();
    assert!(
        journal.contains("log tail:") && journal.contains("Test PASSED | Done"),
        "{journal}"
    );

    // Re-run: the evidence shows PASSED for this node and count, so nothing is written.
    sim.reset_stats();
    let out = fleetctl(
        repo,
        &["phase", "6", "--cluster", "openshift", "--answers", &a],
        &sim.kubeconfig,
    );
    assert!(out.status.success(), "re-run: {}", text(&out));
    assert!(text(&out).contains("already verified"), "{}", text(&out));
    assert_eq!(
        sim.writes(),
        0,
        "re-running phase 6 must write nothing: {}",
        sim.stats()
    );

    let out = fleetctl(
        repo,
        &["check", "--phase", "6", "--cluster", "openshift", "--output", "json"],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The node now reports 2 GPUs; expecting 1 fails at once and says what was seen.
    let one = common::rehearsal_answers_with(repo, "answers-1gpu.yaml", &[]);
    let out = fleetctl(
        repo,
        &["phase", "6", "--cluster", "openshift", "--answers", &one],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("sno-ai-lab reports nvidia.com/gpu: 2, but the decision gpu-count expects 1"),
        "{t}"
    );
}

#[test]
fn open_modules_on_the_pascal_card_and_passthrough_without_virtualization_stop_with_the_reason() {
    // Today's hardware: one GTX 1050 Ti (the simulated NFD's default device 10de:1c82).
    let (dir, sim) = common::openshift_through(&["1", "2", "3", "5"], "");
    common::set_layer(dir.path(), "phase-6");
    let repo = dir.path();
    let policy = repo.join("clusters/openshift/infrastructure/gpu-cluster-policy/clusterpolicy.yaml");
    let original = std::fs::read_to_string(&policy).unwrap();

    // Git and the decision agree on the open modules, but the detected Pascal card cannot run them.
    std::fs::write(
        &policy,
        original.replace("kernelModuleType: proprietary", "kernelModuleType: open"),
    )
    .unwrap();
    let open = common::rehearsal_answers_with(repo, "answers-open.yaml", &[("driver-branch", "open-modules")]);
    sim.reset_stats();
    let out = fleetctl(
        repo,
        &["phase", "6", "--cluster", "openshift", "--answers", &open],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("step 'detect-gpus' failed"), "{t}");
    assert!(
        t.contains("10de:1c82 GeForce GTX 1050 Ti (Pascal)") && t.contains("cannot drive"),
        "{t}"
    );
    assert!(t.contains("kernelModuleType: proprietary"), "the fix is named: {t}");
    assert_eq!(
        sim.writes(),
        0,
        "nothing is written before the CUDA step: {}",
        sim.stats()
    );

    // A decision Git does not reflect stops in preflight (exit 2), before any write.
    std::fs::write(&policy, &original).unwrap();
    let out = fleetctl(
        repo,
        &["phase", "6", "--cluster", "openshift", "--answers", &open],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Git does not match"), "{}", text(&out));

    // VM passthrough: Git hands the GPU to VMs, but OpenShift Virtualization is not installed.
    std::fs::write(
        &policy,
        original.replace(
            "    enabled: false\n    defaultWorkload: container",
            "    enabled: true\n    defaultWorkload: vm-passthrough",
        ),
    )
    .unwrap();
    let vm = common::rehearsal_answers_with(repo, "answers-vm.yaml", &[("gpu-mode", "vm-passthrough")]);
    sim.reset_stats();
    let out = fleetctl(
        repo,
        &["phase", "6", "--cluster", "openshift", "--answers", &vm],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("step 'passthrough-readiness' failed"), "{t}");
    assert!(
        t.contains("no HyperConverged openshift-cnv/kubevirt-hyperconverged"),
        "{t}"
    );
    // What it can see (NFD reports the IOMMU on) and what it cannot (the BIOS steps).
    assert!(t.contains("IOMMU enabled (NFD iommu-enabled)"), "{t}");
    assert!(
        t.contains("check in the BIOS") && t.contains("Above 4G Decoding"),
        "{t}"
    );
    assert_eq!(sim.writes(), 0, "{}", sim.stats());
}

#[test]
fn snapshot_of_a_healthy_gpu_stack_passes_every_phase_6_criterion() {
    let (code, r) = check_snapshot("healthy.yaml");
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["summary"]["pass"], 5, "{r:#}");
    let ev = &criterion(&r, "p6.nfd-label")["evidence"];
    assert_eq!(
        ev["sno-ai-lab.metadata.labels[\"nvidia.com/gpu.product\"]"],
        "NVIDIA-GeForce-GTX-1050-Ti"
    );
}

#[test]
fn snapshot_with_the_clusterpolicy_not_ready_is_not_passing_and_names_the_driver() {
    let (code, r) = check_snapshot("clusterpolicy-notready.yaml");
    assert_eq!(code, 1, "{r:#}");
    let c = criterion(&r, "p6.clusterpolicy-ready");
    assert_eq!(c["status"], "pending", "{c:#}");
    assert_eq!(c["evidence"]["status.state"], "notReady");
    assert_eq!(c["evidence"]["spec.driver.kernelModuleType"], "open");
    assert!(c["hint"].as_str().unwrap().contains("580"), "{c:#}");
    // No driver, no device plugin: the node advertises no GPU, and nothing ran.
    assert_eq!(criterion(&r, "p6.gpu-capacity")["status"], "fail");
    assert_eq!(criterion(&r, "p6.cuda-vectoradd")["status"], "pending");
    assert_eq!(criterion(&r, "p6.nfd-label")["status"], "pass");
}

#[test]
fn snapshot_with_a_vectoradd_log_without_test_passed_fails_p6_cuda_vectoradd() {
    let (code, r) = check_snapshot("vectoradd-failed.yaml");
    assert_eq!(code, 1, "{r:#}");
    let c = criterion(&r, "p6.cuda-vectoradd");
    assert_eq!(c["status"], "fail", "{c:#}");
    assert_eq!(c["evidence"]["data.result"], "FAILED");
    assert!(
        c["hint"].as_str().unwrap().contains("did not end in Test PASSED"),
        "{c:#}"
    );
    for id in ["p6.nfd-label", "p6.clusterpolicy-ready", "p6.gpu-capacity"] {
        assert_eq!(criterion(&r, id)["status"], "pass", "{id}");
    }
}

fn check_snapshot(dump: &str) -> (i32, Value) {
    common::check_snapshot("6", "openshift", &format!("phase6/{dump}"))
}
