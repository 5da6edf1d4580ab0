//! Phases 1 then 2 on the simulated OpenShift cluster whose simulated Argo CD syncs this repo's
//! working tree: non-interactive with the answers file, both complete, checks pass, re-runs write nothing.

mod common;

use common::{text, SimProc};

use common::fleetctl_on as fleetctl;

#[test]
fn phases_1_and_2_complete_pass_their_checks_and_rerun_with_zero_writes() {
    let dir = common::repo_copy();
    let repo = dir.path();
    let sim = SimProc::on_fleet("openshift", "sno-ai-lab", "", 20.0, repo);
    let answers = repo.join("runbooks/answers/rehearsal.yaml");
    let answers = answers.to_str().unwrap();
    for phase in ["1", "2"] {
        common::set_layer(repo, &format!("phase-{phase}"));
        let out = fleetctl(
            repo,
            &["phase", phase, "--cluster", "openshift", "--answers", answers],
            &sim.kubeconfig,
        );
        assert!(out.status.success(), "phase {phase} failed: {}", text(&out));
    }
    for phase in ["1", "2"] {
        let out = fleetctl(
            repo,
            &["check", "--phase", phase, "--cluster", "openshift", "--output", "json"],
            &sim.kubeconfig,
        );
        assert_eq!(out.status.code(), Some(0), "check --phase {phase}: {}", text(&out));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["summary"]["fail"], 0);
        assert_eq!(r["summary"]["pending"], 0);
        if phase == "2" {
            // Programmed because MetalLB (synced from Git) gave the Gateway its pool's address.
            let report = r.to_string();
            assert!(
                report.contains("192.168.10.11"),
                "gateway address not from Git's pool: {report}"
            );
        }
    }
    for phase in ["1", "2"] {
        common::assert_rerun_writes_nothing(&sim, &format!("phase {phase}"), || {
            fleetctl(
                repo,
                &["phase", phase, "--cluster", "openshift", "--answers", answers],
                &sim.kubeconfig,
            )
        });
    }
    // The pre-seeded secrets never reach the output or the state dir.
    let token = std::fs::read_to_string(repo.join("runbooks/answers/rehearsal-connect-token.txt")).unwrap();
    let journal = std::fs::read_to_string(repo.join(".state/openshift/journal.json")).unwrap();
    assert!(!journal.contains(token.trim()));
}

#[test]
fn a_decision_that_git_does_not_reflect_stops_phase_2_before_any_write() {
    let dir = common::repo_copy();
    let repo = dir.path();
    let sim = SimProc::on_fleet("openshift", "sno-ai-lab", "", 20.0, repo);
    let answers = repo.join("runbooks/answers/rehearsal.yaml");
    let out = fleetctl(
        repo,
        &[
            "phase",
            "1",
            "--cluster",
            "openshift",
            "--answers",
            answers.to_str().unwrap(),
        ],
        &sim.kubeconfig,
    );
    assert!(out.status.success(), "{}", text(&out));
    let text_answers = std::fs::read_to_string(&answers).unwrap().replace(
        "lvm-device: \"/dev/disk/by-path/pci-0000:02:00.0-nvme-1\"",
        "lvm-device: \"/dev/nvme1n1\"",
    );
    let other = repo.join("other-answers.yaml");
    std::fs::write(&other, text_answers).unwrap();
    sim.reset_stats();
    let out = fleetctl(
        repo,
        &[
            "phase",
            "2",
            "--cluster",
            "openshift",
            "--answers",
            other.to_str().unwrap(),
        ],
        &sim.kubeconfig,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("Git does not match") && t.contains("/dev/nvme1n1") && t.contains("lvmcluster.yaml"),
        "{t}"
    );
    assert_eq!(sim.writes(), 0);
}

/// A Secret's `data.KEY`, decoded.
fn secret_value(sim: &SimProc, ns: &str, name: &str, key: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let s = sim.api_get(&format!("/api/v1/namespaces/{ns}/secrets/{name}"));
    let b64 = s.get("data")?.get(key)?.as_str()?.to_string();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

#[test]
fn an_empty_token_file_stops_phase_1_and_a_rotated_token_needs_an_explicit_answer() {
    let dir = common::repo_copy();
    let repo = dir.path();
    let sim = SimProc::on_fleet("openshift", "sno-ai-lab", "", 20.0, repo);
    let answers = std::fs::read_to_string(repo.join("runbooks/answers/rehearsal.yaml")).unwrap();
    let with_token = |name: &str, token: &str, extra: &str| {
        let tok = repo.join(format!("{name}.txt"));
        std::fs::write(&tok, token).unwrap();
        let text = answers.replace(
            "connect-token-file: runbooks/answers/rehearsal-connect-token.txt",
            &format!("connect-token-file: {}", tok.display()),
        );
        let p = repo.join(format!("{name}-answers.yaml"));
        std::fs::write(&p, format!("{text}{extra}")).unwrap();
        p
    };
    let run = |answers: &std::path::Path, phase: &str| {
        fleetctl(
            repo,
            &[
                "phase",
                phase,
                "--cluster",
                "openshift",
                "--answers",
                answers.to_str().unwrap(),
            ],
            &sim.kubeconfig,
        )
    };
    let good = with_token("good", "tok-first-value\n", "");
    // The trust bootstrap comes first (phase 1 seeds the Connect secrets before the operator).
    // `op read ... > file` failed and left the file empty: refused before any write.
    let out = run(&with_token("empty", "", ""), "1");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("empty.txt is empty") && t.contains("decision connect-token-file"),
        "{t}"
    );
    assert_eq!(sim.writes(), 0, "{}", sim.stats());

    let out = run(&good, "1");
    assert!(out.status.success(), "{}", text(&out));
    for (ns, name) in [
        ("1passwordconnect", "1password-operator-token"),
        ("external-secrets", "1passwordconnect"),
    ] {
        assert_eq!(
            secret_value(&sim, ns, name, "token").as_deref(),
            Some(&b"tok-first-value"[..]),
            "{ns}/{name} must hold the token without its newline"
        );
    }

    // A rotated token: the live Secrets differ, so replacing them needs `replace-seeded-secrets: yes`.
    sim.reset_stats();
    let out = run(&with_token("rotated", "tok-second-value\n", ""), "1");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("already holds a different value") && t.contains("replace-seeded-secrets: yes"),
        "{t}"
    );
    assert!(
        !t.contains("tok-first") && !t.contains("tok-second"),
        "a value leaked: {t}"
    );
    assert_eq!(sim.writes(), 0, "{}", sim.stats());

    let out = run(
        &with_token("rotated-yes", "tok-second-value\n", "replace-seeded-secrets: \"yes\"\n"),
        "1",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        secret_value(&sim, "external-secrets", "1passwordconnect", "token").as_deref(),
        Some(&b"tok-second-value"[..])
    );
}
