//! kubectl-native output (issue 14, item 9): `-o yaml`, one JSON document per invocation, typed evidence,
//! a closing total line (golden files in tests/golden/: `UPDATE_GOLDEN=1 cargo test --test output` rewrites
//! them); `status` finds the rehearsal's state; a man page per subcommand with ENVIRONMENT and EXIT STATUS;
//! completions offer cluster names and phase numbers.

mod common;

use common::{text, Fleet};
use fleetctl::report::{CriterionResult, Format, Origin, Report, ReportList, Status};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

/// Compare with a golden file (or write it, with UPDATE_GOLDEN=1).
fn assert_golden(name: &str, got: &str) {
    let p = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&p, got).unwrap();
    }
    let want =
        std::fs::read_to_string(&p).unwrap_or_else(|_| panic!("{} missing (UPDATE_GOLDEN=1 writes it)", p.display()));
    assert!(
        got == want,
        "{name} differs from its golden file:\n--- got\n{got}\n--- want\n{want}"
    );
}

fn criterion(id: &str, status: Status, evidence: Value) -> CriterionResult {
    CriterionResult {
        id: id.into(),
        title: format!("the {id} criterion"),
        status,
        evidence: serde_json::from_value(evidence).unwrap(),
        details: if status == Status::Pass {
            vec![]
        } else {
            vec![format!("failed: {id}")]
        },
        hint: (status != Status::Pass).then(|| format!("look at {id}")),
    }
}

/// Two reports with fixed times: one passing with typed evidence, one not.
fn two_reports() -> ReportList {
    let decisions: BTreeMap<String, String> = [("argocd-name".to_string(), "argocd".to_string())].into();
    let mut one = Report::new(
        "openshift",
        vec![1],
        Origin::cluster(true),
        decisions,
        vec![
            criterion(
                "p1.up",
                Status::Pass,
                json!({"status.availableReplicas": 2, "status.ready": true, "httpStatus": 200}),
            ),
            criterion(
                "p1.names",
                Status::Pass,
                json!({"matched": ["gp3-csi", "lvms-vg1"], "status.message": null}),
            ),
        ],
    );
    one.generated = "2026-01-01T00:00:00.000Z".into();
    one.rehearsal = true;
    let mut two = Report::new(
        "talos",
        vec![3],
        Origin::snapshot("dump/"),
        BTreeMap::new(),
        vec![
            criterion("p3.synced", Status::Pending, json!({"status.sync.status": "OutOfSync"})),
            criterion("p3.probe", Status::Skipped, json!({})),
        ],
    );
    two.generated = "2026-01-01T00:00:01.000Z".into();
    ReportList {
        reports: vec![one, two],
    }
}

#[test]
fn renderings_match_their_golden_files() {
    let list = two_reports();
    assert_golden("report.yaml", &list.reports[0].render(Format::Yaml));
    assert_golden("reportlist.json", &list.render(Format::Json));
    assert_golden("reportlist.txt", &list.render(Format::Table));
    // One JSON document, typed evidence, and the total.
    let doc: Value = serde_json::from_str(&list.render(Format::Json)).unwrap();
    assert_eq!(
        doc["items"][0]["criteria"][0]["evidence"]["status.availableReplicas"],
        2
    );
    assert_eq!(doc["items"][0]["criteria"][0]["evidence"]["status.ready"], true);
    assert_eq!(doc["total"]["reports"], 2);
    assert_eq!(doc["total"]["notPassing"], 1);
    let table = list.render(Format::Table);
    assert_eq!(
        table.lines().last().unwrap(),
        "total: 2 reports (1 passing, 1 not); criteria: 2 passed, 0 failed, 1 pending, 1 skipped"
    );
    let junit = list.render(Format::Junit);
    assert_eq!(junit.matches("<testsuites").count(), 1, "{junit}");
    assert_eq!(junit.matches("<testsuite ").count(), 2, "{junit}");
}

#[test]
fn check_on_a_snapshot_prints_yaml_as_its_golden_file() {
    let fleet = Fleet::copy("sample-fleet");
    let out = fleet
        .cmd()
        .args(["check", "--phase", "9", "--cluster", "lab", "-o", "yaml", "--snapshot"])
        .arg(golden("sample-snapshot.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let got = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_yaml::from_str(&got).unwrap();
    // The time and the snapshot's absolute path vary; the rest is fixed.
    let got = got
        .replace(v["generated"].as_str().unwrap(), "GENERATED")
        .replace(&golden("sample-snapshot.yaml").display().to_string(), "SNAPSHOT");
    assert_golden("check-sample.yaml", &got);
}

fn rehearse(repo: &Path, state: &Path, args: &[&str]) -> std::process::Output {
    Command::new(common::bin())
        .arg("--repo")
        .arg(repo)
        .arg("--state-dir")
        .arg(state)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .arg("rehearse")
        .args(args)
        .current_dir(repo)
        .output()
        .unwrap()
}

#[test]
fn a_rehearsal_prints_one_document_ends_tables_with_a_total_and_shows_in_status() {
    let repo = common::repo_copy();
    let state = tempfile::tempdir().unwrap();
    let out = rehearse(repo.path(), state.path(), &["1", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["schema"], "fleetctl.reportlist/v2");
    assert_eq!(doc["items"].as_array().unwrap().len(), 1);
    assert_eq!(doc["items"][0]["source"], "simulated");
    assert_eq!(doc["items"][0]["rehearsal"], true);
    assert_eq!(doc["total"]["passed"], 1);
    let out = rehearse(repo.path(), state.path(), &["1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("total: 1 report (1 passing, 0 not); criteria:"),
        "{stdout}"
    );
    // `status` finds the rehearsal's state, marked as such.
    let st = Command::new(common::bin())
        .arg("--repo")
        .arg(repo.path())
        .arg("--state-dir")
        .arg(state.path())
        .args(["status", "-o", "json"])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&st.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rehearsal"] == true)
        .unwrap_or_else(|| panic!("no rehearsal row: {rows:#}"));
    assert_eq!(row["cluster"], "openshift");
    assert_eq!(row["phase"], 1);
    assert_eq!(row["state"], "done (rehearsal)");
}

#[test]
fn every_subcommand_has_a_man_page_with_environment_and_exit_status() {
    let fleet = Fleet::copy("sample-fleet");
    let dir = tempfile::tempdir().unwrap();
    let out = fleet.run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for p in [
        "fleetctl.1",
        "fleetctl-phase.1",
        "fleetctl-resume.1",
        "fleetctl-cluster-new.1",
    ] {
        assert!(pages.contains(&p.to_string()), "{p} missing: {pages:?}");
    }
    for p in &pages {
        let roff = std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert!(
            roff.contains(".SH \"ENVIRONMENT\"") && roff.contains("KUBECONFIG"),
            "{p}"
        );
        assert!(roff.contains(".SH \"EXIT STATUS\"") && roff.contains("130"), "{p}");
        // Every page another page points at exists.
        for (i, _) in roff.match_indices("fleetctl\\-") {
            let name: String = roff[i..]
                .replace("\\-", "-")
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if roff[i..].replace("\\-", "-")[name.len()..].starts_with("(1)") {
                assert!(
                    pages.contains(&format!("{name}.1")),
                    "{p} refers to {name}(1), which was not written"
                );
            }
        }
    }
    let one = fleet.run(&["man", "phase"]);
    let roff = String::from_utf8_lossy(&one.stdout);
    assert!(
        roff.replace("\\-", "-").contains(".TH fleetctl-phase 1") && roff.contains("EXIT STATUS"),
        "{roff}"
    );
}

#[test]
fn completions_offer_cluster_names_and_phase_numbers() {
    let fleet = Fleet::copy("sample-fleet");
    let bash = String::from_utf8(fleet.run(&["completions", "bash"]).stdout).unwrap();
    assert!(
        bash.contains("fleetctl completions bash --values clusters"),
        "bash reads the clusters live"
    );
    assert!(
        bash.contains("echo 'lab tal'"),
        "with this repo's clusters as the fallback"
    );
    assert!(bash.contains("8 9"), "the runbooks' phase numbers are offered");
    let names = fleet.run(&["completions", "bash", "--values", "clusters"]);
    assert_eq!(String::from_utf8_lossy(&names.stdout), "lab\ntal\n");
    let zsh = String::from_utf8(fleet.run(&["completions", "zsh"]).stdout).unwrap();
    assert!(
        zsh.contains("lab") && zsh.contains("tal"),
        "zsh offers the clusters too"
    );
}
