//! The CLI's behaviour on its own: help, completions, man page, input errors (no cluster needed).

mod common;

use common::{text, Fleet};

#[test]
fn help_completions_and_man_page_come_from_one_definition() {
    let fleet = Fleet::copy("sample-fleet");
    let help = fleet.run(&["phase", "--help"]);
    assert!(help.status.success());
    let h = String::from_utf8_lossy(&help.stdout);
    assert!(h.contains("--dry-run") && h.contains("Example"), "{h}");
    let comp = fleet.run(&["completions", "bash"]);
    assert!(String::from_utf8_lossy(&comp.stdout).contains("rehearse"));
    let man = fleet.run(&["man"]);
    let m = String::from_utf8_lossy(&man.stdout);
    assert!(m.contains(".TH") && m.contains("fleetctl"), "{m}");
}

#[test]
fn a_malformed_runbook_is_named_with_its_line_and_exits_2() {
    let fleet = Fleet::copy("sample-fleet");
    std::fs::write(
        fleet.path().join("runbooks/phase-7.yaml"),
        "phase: 7\ntitle: x\nplatforms: [openshift]\nsteps:\n  - id: a\n    aply: {path: x}\n",
    )
    .unwrap();
    let out = fleet.run(&["decisions"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("phase-7.yaml:6") && t.contains("aply"), "{t}");
    assert!(!t.contains("panicked"), "{t}");

    std::fs::write(
        fleet.path().join("runbooks/phase-7.yaml"),
        "phase: 7\ntitle: x\nplatforms: [openshift]\nsteps:\n  - id: a\n    decide: nope\n",
    )
    .unwrap();
    let out = fleet.run(&["decisions"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("phase-7.yaml:5") && text(&out).contains("unknown decision 'nope'"),
        "{}",
        text(&out)
    );
}

#[test]
fn unknown_phase_and_unreachable_api_give_one_line_causes() {
    let fleet = Fleet::copy("sample-fleet");
    let out = fleet.run(&["phase", "42", "--cluster", "lab"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("unknown phase 42"), "{}", text(&out));

    let kc = fleet.path().join("dead.kubeconfig");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: \"http://127.0.0.1:9\"}\nusers:\n- name: dead\n  user: {}\ncontexts:\n- name: sim-lab\n  context: {cluster: dead, user: dead}\ncurrent-context: sim-lab\n",
    )
    .unwrap();
    // An unreachable API server is bad input (exit 2) for every command that needs the cluster, naming the
    // server, the context and what to try next.
    let commands: [&[&str]; 3] = [
        &["phase", "9", "--cluster", "lab", "--yes"],
        &["check", "--phase", "9", "--cluster", "lab"],
        &["verify", "--from-cluster", "--cluster", "lab"],
    ];
    for args in commands {
        let out = fleet.cmd().args(args).arg("--kubeconfig").arg(&kc).output().unwrap();
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {t}");
        assert!(
            t.contains("cannot reach the API server http://127.0.0.1:9 (connection refused)"),
            "{args:?}: {t}"
        );
        assert!(
            t.contains("kube context sim-lab") && t.contains("kubectl --context sim-lab get --raw /version"),
            "{args:?}: {t}"
        );
        assert!(!t.contains("ServiceError") && !t.contains("panicked"), "{args:?}: {t}");
        assert_eq!(t.lines().filter(|l| l.starts_with("error:")).count(), 1, "{t}");
    }
    assert!(
        !fleet.state.join("lab/journal.json").exists(),
        "nothing may be journaled before preflight passes"
    );
}

#[test]
fn decisions_and_status_list_what_the_runbooks_hold() {
    let fleet = Fleet::copy("sample-fleet");
    let out = fleet.run(&["decisions", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wipe = v.as_array().unwrap().iter().find(|d| d["id"] == "wipe-disk").unwrap();
    assert_eq!(wipe["destructive"], true);
    assert_eq!(wipe["recommended"], "no");
    let st = fleet.run(&["status", "--cluster", "lab"]);
    assert!(String::from_utf8_lossy(&st.stdout).contains("never run"));
}

/// `fleetctl status | head -1`: the reader goes away; fleetctl must end quietly, not panic (exit 101).
#[test]
fn a_closed_stdout_pipe_ends_fleetctl_without_a_panic() {
    let fleet = Fleet::copy("sample-fleet");
    for args in [
        &["status"][..],
        &["decisions"][..],
        &["decisions", "--output", "json"][..],
        // A command that may talk to an API server keeps SIGPIPE ignored (its sockets need it) and still
        // ends quietly.
        &[
            "check",
            "--phase",
            "1",
            "--snapshot",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/sample-snapshot.yaml"),
        ][..],
    ] {
        let mut child = fleet
            .cmd()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before fleetctl has written anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
    }
}

#[test]
fn status_refuses_an_unknown_cluster_and_marks_phases_of_other_platforms_na() {
    let fleet = Fleet::copy("sample-fleet");
    let out = fleet.run(&["status", "--cluster", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("known: lab, tal") && !t.contains("never run"), "{t}");

    // tal is a Talos cluster; the fixture's phases 8 and 9 are OpenShift-only.
    let out = fleet.run(&["status", "--cluster", "tal"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = t.lines().filter(|l| l.starts_with("tal ")).collect();
    assert_eq!(rows.len(), 2, "{t}");
    assert!(rows.iter().all(|r| r.contains("n/a (openshift only)")), "{t}");
    assert!(!t.contains("never run"), "{t}");
}

/// docs/reports.md documents these shapes; this pins them.
#[test]
fn status_and_decisions_json_shapes_are_the_documented_ones() {
    let fleet = Fleet::copy("sample-fleet");
    let keys = |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let out = fleet.run(&["status", "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().expect("status JSON is an array of rows");
    assert_eq!(rows.len(), 4, "2 clusters x 2 phases: {v}");
    for r in rows {
        assert_eq!(
            keys(r),
            ["cluster", "phase", "state", "detail", "decisions", "rehearsal"],
            "{r}"
        );
    }
    let lab8 = rows.iter().find(|r| r["cluster"] == "lab" && r["phase"] == 8).unwrap();
    assert_eq!(lab8["state"], "never run");
    assert_eq!(lab8["decisions"], serde_json::json!({}));
    let tal8 = rows.iter().find(|r| r["cluster"] == "tal" && r["phase"] == 8).unwrap();
    assert_eq!(tal8["state"], "n/a (openshift only)");

    let out = fleet.run(&["decisions", "--output", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in v.as_array().expect("decisions JSON is an array of rows") {
        assert_eq!(
            keys(r),
            [
                "phase",
                "id",
                "question",
                "options",
                "recommended",
                "destructive",
                "input",
                "type"
            ],
            "{r}"
        );
    }
}

#[test]
fn appset_generate_refuses_a_directory_that_is_not_a_fleet_repo() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a fleet").unwrap();
    let out = std::process::Command::new(common::bin())
        .arg("--repo")
        .arg(dir.path())
        .args(["appset", "generate"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("not a fleet repo") && t.contains("next:"), "{t}");
    assert!(!t.contains("0 ApplicationSets"), "{t}");
}

#[test]
fn appset_json_rows_name_their_cluster() {
    let repo = common::repo_copy();
    let out = std::process::Command::new(common::bin())
        .arg("--repo")
        .arg(repo.path())
        .args(["appset", "generate", "--output", "json"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let infra: Vec<&serde_json::Value> = v["applications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["appset"] == "infrastructure")
        .collect();
    let clusters: std::collections::BTreeSet<&str> = infra.iter().map(|a| a["cluster"].as_str().unwrap()).collect();
    assert_eq!(
        clusters.into_iter().collect::<Vec<_>>(),
        ["openshift", "talos"],
        "each row says which cluster's Argo CD generates it"
    );
    for a in infra {
        let c = a["cluster"].as_str().unwrap();
        assert!(
            a["source"]["path"]
                .as_str()
                .unwrap()
                .starts_with(&format!("clusters/{c}/")),
            "{a}"
        );
    }
    assert!(v["conflicts"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn an_unknown_phase_is_named_before_any_cluster_is_picked() {
    let fleet = Fleet::copy("sample-fleet");
    // A second runbook for phase 8 (another platform) must not list 8 twice.
    let p8 = std::fs::read_to_string(fleet.path().join("runbooks/phase-8.yaml")).unwrap();
    std::fs::write(
        fleet.path().join("runbooks/phase-8-talos.yaml"),
        p8.replace("platforms: [openshift]", "platforms: [talos]"),
    )
    .unwrap();
    std::fs::write(
        fleet.path().join("runbooks/phase-10-talos.yaml"),
        p8.replace("platforms: [openshift]", "platforms: [talos]")
            .replace("phase: 8", "phase: 10"),
    )
    .unwrap();
    // Two clusters, no --cluster: the phase is checked first.
    let out = fleet.run(&["phase", "7"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("unknown phase 7") && !t.contains("several clusters"), "{t}");
    assert!(t.contains("known phases: 8, 9, 10"), "each phase once: {t}");
    // A phase of the other platform: the article fits the platform.
    let out = fleet.run(&["phase", "9", "--cluster", "tal"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("does not run on a talos cluster"), "{}", text(&out));
    let out = fleet.run(&["phase", "10", "--cluster", "lab"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("does not run on an openshift cluster"),
        "{}",
        text(&out)
    );
}

#[test]
fn sim_serve_refuses_missing_fleet_or_crds_directories() {
    for flag in ["--fleet", "--crds"] {
        let mut child = std::process::Command::new(common::bin())
            .args(["sim", "serve", "--platform", "talos", flag, "/nonexistent/dir"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Accepted, it would serve until killed: give it a few seconds to refuse.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        if child.try_wait().unwrap().is_none() {
            let _ = child.kill();
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", text(&out));
        assert!(text(&out).contains("/nonexistent/dir"), "{flag}: {}", text(&out));
    }
}
