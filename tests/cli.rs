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
