//! seedSecret sources: an empty value is refused in preflight, file values lose their trailing line end,
//! and a live Secret holding a different value is replaced only with an explicit destructive answer.

mod common;

use common::{text, Fleet, SimProc};

const CTX: &str = "sim-lab";

fn phase9(fleet: &Fleet, sim: &SimProc, token: &[u8], extra_answers: &str, extra: &[&str]) -> std::process::Output {
    let tok = fleet.path().join("token.txt");
    std::fs::write(&tok, token).unwrap();
    let a = fleet.path().join("answers.yaml");
    std::fs::write(
        &a,
        format!("replicas-ok: \"yes\"\ntoken-file: {}\n{extra_answers}", tok.display()),
    )
    .unwrap();
    fleet
        .cmd()
        .args(["phase", "9", "--cluster", "lab", "--answers"])
        .arg(&a)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(extra)
        .output()
        .unwrap()
}

/// The live value of the sample token, decoded.
fn live_token(sim: &SimProc) -> Option<Vec<u8>> {
    use base64::Engine;
    let s = sim.api_get("/api/v1/namespaces/demo/secrets/sample-token");
    let b64 = s.pointer("/data/token")?.as_str()?.to_string();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

#[test]
fn an_empty_or_blank_secret_file_is_refused_in_preflight_with_zero_writes() {
    let sim = SimProc::start("openshift", CTX, "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    for content in [&b""[..], b"\n", b"  \r\n\t\n"] {
        let out = phase9(&fleet, &sim, content, "", &[]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{content:?}: {t}");
        assert!(t.contains("is empty") && t.contains("token.txt"), "{t}");
        assert!(t.contains("decision token-file") && t.contains("seed-token"), "{t}");
        assert!(t.contains("nothing was written"), "{t}");
        assert_eq!(
            t.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "one-line cause: {t}"
        );
        assert_eq!(sim.writes(), 0, "an empty source must stop before any write");
    }
    // The journal keeps only the cluster's identity met on first contact: no run was journaled.
    let j = fleet.state.join("lab/journal.json");
    if j.exists() {
        let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
        assert_eq!(
            j["runs"],
            serde_json::json!([]),
            "no run is journaled when preflight fails: {j:#}"
        );
    }
}

#[test]
fn a_file_source_loses_its_trailing_line_end() {
    let sim = SimProc::start("openshift", CTX, "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let out = phase9(&fleet, &sim, b"tok-abc\n", "", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(live_token(&sim).as_deref(), Some(&b"tok-abc"[..]));
    // The same token written with a CRLF (or none) is the same value: nothing to write.
    for same in [&b"tok-abc\r\n"[..], b"tok-abc"] {
        sim.reset_stats();
        let out = phase9(&fleet, &sim, same, "", &[]);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(
            sim.writes(),
            0,
            "{:?} must equal the seeded value: {}",
            same,
            sim.stats()
        );
    }
}

/// The sample runbook with a destructive decision that allows replacing the seeded token.
fn with_replace_decision(fleet: &Fleet) {
    let p = fleet.path().join("runbooks/phase-9.yaml");
    let rb = std::fs::read_to_string(&p).unwrap();
    let rb = rb
        .replace(
            "decisions:\n",
            "decisions:\n  - id: replace-token\n    question: Replace the live sample token?\n    options: [\"no\", \"yes\"]\n    recommended: \"no\"\n    destructive: true\n",
        )
        .replace(
            "      name: sample-token\n",
            "      name: sample-token\n      replaceDecision: replace-token\n",
        );
    std::fs::write(&p, rb).unwrap();
}

#[test]
fn a_different_live_secret_is_replaced_only_with_an_explicit_destructive_answer() {
    let sim = SimProc::start("openshift", CTX, "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let out = phase9(&fleet, &sim, b"old-tok-111\n", "", &[]);
    assert!(out.status.success(), "{}", text(&out));

    // A step without replaceDecision never replaces a live credential.
    sim.reset_stats();
    let out = phase9(&fleet, &sim, b"new-tok-222\n", "", &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("Secret demo/sample-token already holds a different value for token"),
        "{t}"
    );
    assert!(!t.contains("old-tok") && !t.contains("new-tok"), "a value leaked: {t}");
    assert_eq!(sim.writes(), 0);
    assert_eq!(live_token(&sim).as_deref(), Some(&b"old-tok-111"[..]));

    with_replace_decision(&fleet);
    // A dry run does not stop: it says what a real run would need, and writes nothing.
    let out = phase9(&fleet, &sim, b"new-tok-222\n", "", &["--dry-run"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("would replace the live value of Secret demo/sample-token (token)")
            && t.contains("replace-token: yes"),
        "{t}"
    );
    assert!(!t.contains("old-tok") && !t.contains("new-tok"), "a value leaked: {t}");
    assert_eq!(sim.writes(), 0);
    // Unanswered (--yes never answers a destructive decision) or answered no: refused, nothing written.
    for (answers, extra, says) in [
        ("", &["--yes"][..], "needs the destructive decision replace-token"),
        ("replace-token: \"no\"\n", &[][..], "decision replace-token is 'no'"),
    ] {
        let out = phase9(&fleet, &sim, b"new-tok-222\n", answers, extra);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{t}");
        assert!(t.contains(says) && t.contains("replace-token: yes"), "{t}");
        assert!(!t.contains("old-tok") && !t.contains("new-tok"), "a value leaked: {t}");
        assert_eq!(sim.writes(), 0);
    }
    // Answered yes: replaced, and the answer is journaled.
    let out = phase9(&fleet, &sim, b"new-tok-222\n", "replace-token: \"yes\"\n", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("new-tok"), "{}", text(&out));
    assert_eq!(live_token(&sim).as_deref(), Some(&b"new-tok-222"[..]));
    let j = fleet.journal("lab");
    assert_eq!(
        j["runs"].as_array().unwrap().last().unwrap()["decisions"]["replace-token"],
        "yes"
    );

    // The same value again: nothing to replace, nothing written, no answer needed.
    sim.reset_stats();
    let out = phase9(&fleet, &sim, b"new-tok-222", "", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sim.writes(), 0, "{}", sim.stats());
}

#[test]
fn a_replace_decision_must_be_destructive_with_a_yes_option() {
    let fleet = Fleet::copy("sample-fleet");
    with_replace_decision(&fleet);
    let p = fleet.path().join("runbooks/phase-9.yaml");
    let rb = std::fs::read_to_string(&p)
        .unwrap()
        .replace("    destructive: true\n", "");
    std::fs::write(&p, rb).unwrap();
    let out = fleet.run(&["decisions"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("must be a destructive decision"), "{}", text(&out));
}
