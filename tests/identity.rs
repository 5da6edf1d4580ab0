//! A run is pinned to its cluster (issue 14, items 1, 2 and 7): the identity met on first contact (API
//! server, cluster ID, ingress domain, nodes) is journaled, and every later run, `check` and `resume` refuses
//! another cluster of the same platform with exit 2 and nothing written; `resume` uses the kubeconfig,
//! context and server the run started with; a killed run shows as killed, not in progress, and resumes,
//! even when it was killed during preflight.

mod common;

use common::{assert_rerun_writes_nothing, fleetctl_on, repo_copy, text, Fleet, SimProc};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn cluster_id(sim: &SimProc) -> String {
    sim.api_get("/apis/config.openshift.io/v1/clusterversions/version")["spec"]["clusterID"]
        .as_str()
        .expect("the simulated ClusterVersion has a clusterID")
        .to_string()
}

fn journal_at(state: &Path, cluster: &str) -> Value {
    let t = std::fs::read_to_string(state.join(cluster).join("journal.json")).unwrap();
    serde_json::from_str(&t).unwrap()
}

/// Wait (with a deadline) until the last run of `cluster`'s journal satisfies `cond`.
fn wait_for_journal(state: &Path, cluster: &str, child: &mut Child, what: &str, cond: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = std::fs::read_to_string(state.join(cluster).join("journal.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|j| j["runs"].as_array().and_then(|r| r.last().cloned()));
        if run.as_ref().is_some_and(&cond) {
            return;
        }
        assert!(Instant::now() < deadline, "the run never reached {what}");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn another_cluster_of_the_same_platform_is_refused_with_exit_2_and_nothing_written() {
    let dir = repo_copy();
    let repo = dir.path();
    let answers = repo.join("runbooks/answers/rehearsal.yaml");
    let answers = answers.to_str().unwrap();
    let a = SimProc::on_fleet("openshift", "sno-ai-lab", "", 20.0, repo);
    let id_a = cluster_id(&a);
    let p1 = ["phase", "1", "--cluster", "openshift", "--answers", answers];
    let out = fleetctl_on(repo, &p1, &a.kubeconfig);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("first contact with openshift: cluster ID {id_a}")),
        "{}",
        text(&out)
    );
    let j = journal_at(&repo.join(".state"), "openshift");
    assert_eq!(j["identity"]["clusterId"], id_a.as_str(), "{j:#}");
    assert_eq!(j["identity"]["ingressDomain"], "apps.sno-ai-lab.vanillax.xyz");
    assert_eq!(j["identity"]["nodes"], serde_json::json!(["sno-ai-lab"]));
    assert_eq!(j["runs"][0]["server"], a.url.trim_end_matches('/'));

    // The same context name now leads to another OpenShift cluster: refused before any write.
    let b = SimProc::on_fleet("openshift", "sno-ai-lab", "", 20.0, repo);
    let id_b = cluster_id(&b);
    assert_ne!(id_a, id_b);
    b.reset_stats();
    for args in [
        &p1[..],
        &["phase", "2", "--cluster", "openshift", "--answers", answers][..],
        &["check", "--phase", "1", "--cluster", "openshift"][..],
    ] {
        let out = fleetctl_on(repo, args, &b.kubeconfig);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {t}");
        assert!(
            t.contains("wrong cluster") && t.contains(&id_a) && t.contains(&id_b),
            "{args:?}: {t}"
        );
        assert!(t.contains("nothing was written"), "{t}");
    }
    assert_eq!(
        b.writes(),
        0,
        "nothing may be written to the wrong cluster: {}",
        b.stats()
    );

    // `cluster new sno-b` from the OpenShift cluster, its context pointing at sno-ai-lab.
    let out = Command::new(common::bin())
        .arg("--repo")
        .arg(repo)
        .args([
            "cluster",
            "new",
            "sno-b",
            "--platform",
            "openshift",
            "--from",
            "openshift",
        ])
        .args(["--apps-domain", "apps.sno-b.example.org", "--kube-context", "sno-b"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let spec = repo.join("clusters/sno-b/cluster.yaml");
    assert!(!std::fs::read_to_string(&spec).unwrap().contains("clusterID"));
    a.reset_stats();
    let sno_b = [
        "--context",
        "sno-ai-lab",
        "phase",
        "1",
        "--cluster",
        "sno-b",
        "--answers",
        answers,
    ];
    let out = fleetctl_on(repo, &sno_b, &a.kubeconfig);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("appsDomain apps.sno-b.example.org") && t.contains("ingress domain apps.sno-ai-lab.vanillax.xyz"),
        "{t}"
    );
    // An appsDomain under the ingress domain passes that check, but the cluster is the one met as openshift.
    let s = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        s.replace("apps.sno-b.example.org", "sno-b.apps.sno-ai-lab.vanillax.xyz"),
    )
    .unwrap();
    let out = fleetctl_on(repo, &sno_b, &a.kubeconfig);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("that is cluster openshift, not sno-b"), "{t}");
    // A declared clusterID is checked from the first run on.
    let s = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{s}clusterID: {id_b}\n")).unwrap();
    let out = fleetctl_on(repo, &sno_b, &a.kubeconfig);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains(&format!("declares clusterID {id_b}")), "{t}");
    assert_eq!(
        a.writes(),
        0,
        "sno-b's runs must not write to sno-ai-lab: {}",
        a.stats()
    );
    assert!(
        !repo.join(".state/sno-b/journal.json").exists()
            || journal_at(&repo.join(".state"), "sno-b")["runs"]
                .as_array()
                .unwrap()
                .is_empty(),
        "a refused first contact journals no run"
    );

    // The right cluster still runs, and a re-run writes nothing.
    assert_rerun_writes_nothing(&a, "phase 1 on its own cluster", || {
        fleetctl_on(repo, &p1, &a.kubeconfig)
    });
}

/// A sample phase whose one step runs a command for a moment (a window to kill the run in).
fn slow_phase(fleet: &Fleet) {
    std::fs::write(
        fleet.path().join("runbooks/phase-7.yaml"),
        "phase: 7\ntitle: Slow command\nplatforms: [openshift]\nsteps:\n  - id: slow\n    command:\n      run: [sleep, \"2\"]\nacceptance: []\n",
    )
    .unwrap();
}

#[test]
fn resume_keeps_to_the_kubeconfig_and_server_the_run_started_with() {
    let a = SimProc::start("openshift", "sim-lab", "", 20.0);
    let b = SimProc::start("openshift", "sim-lab", "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    slow_phase(&fleet);
    // Started with KUBECONFIG=A (no --kubeconfig), then killed (SIGKILL: nothing can be journaled then).
    let mut child = fleet
        .cmd()
        .env("KUBECONFIG", &a.kubeconfig)
        .args(["phase", "7", "--cluster", "lab"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_journal(&fleet.state, "lab", &mut child, "step slow", |r| {
        r["steps"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["id"] == "slow" && s["status"] == "running"))
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let run = journal_at(&fleet.state, "lab")["runs"][0].clone();
    assert_eq!(run["kubeconfig"], a.kubeconfig.to_str().unwrap(), "{run:#}");
    assert_eq!(run["server"], a.url.trim_end_matches('/'), "{run:#}");

    // status: killed (the lock is free), not "in progress".
    let st = fleet.run(&["status", "--cluster", "lab", "-o", "json"]);
    let rows: Value = serde_json::from_slice(&st.stdout).unwrap();
    let row = rows.as_array().unwrap().iter().find(|r| r["phase"] == 7).unwrap();
    assert_eq!(row["state"], "killed", "{rows:#}");
    assert!(row["detail"].as_str().unwrap().contains("at step slow"), "{row}");
    // A temporary journal copy a kill left behind is cleaned by the next run.
    let tmp = fleet.state.join("lab/.tmpKILLED");
    std::fs::write(&tmp, "{").unwrap();

    // KUBECONFIG now points at another cluster: refused, nothing written there.
    b.reset_stats();
    let out = fleet
        .cmd()
        .env("KUBECONFIG", &b.kubeconfig)
        .args(["resume", "--cluster", "lab"])
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("KUBECONFIG has changed"), "{t}");
    assert!(
        t.contains(a.url.trim_end_matches('/')) && t.contains(b.url.trim_end_matches('/')),
        "{t}"
    );
    assert_eq!(b.writes(), 0, "{}", b.stats());
    // Even a kubeconfig passed explicitly must reach the cluster the run met.
    let out = fleet
        .cmd()
        .args(["resume", "--cluster", "lab", "--kubeconfig"])
        .arg(&b.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("wrong cluster"), "{}", text(&out));
    assert_eq!(b.writes(), 0, "{}", b.stats());

    // With KUBECONFIG unset, resume says where it goes on and completes there.
    let out = fleet.run(&["resume", "--cluster", "lab"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains(&format!("where it started: kubeconfig {}", a.kubeconfig.display()))
            && t.contains(&format!("server {}", a.url.trim_end_matches('/'))),
        "{t}"
    );
    assert!(!tmp.exists(), "the killed run's temporary file is cleaned");
    let j = fleet.journal("lab");
    assert_eq!(j["runs"].as_array().unwrap().len(), 1, "{j:#}");
    assert_eq!(j["runs"][0]["status"], "done", "{j:#}");
}

#[test]
fn a_run_killed_during_preflight_resumes_and_takes_new_answers() {
    // Every API request takes a while: a window to kill the run in after it is journaled, before a step.
    let sim = SimProc::start("openshift", "sim-lab", "slow=1@700ms", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let tok = fleet.path().join("token.txt");
    std::fs::write(&tok, "tok-after-kill").unwrap();
    let first = fleet.path().join("first.yaml");
    std::fs::write(&first, format!("replicas-ok: \"yes\"\ntoken-file: {}\n", tok.display())).unwrap();
    let mut child = fleet
        .cmd()
        .args(["phase", "9", "--cluster", "lab", "--answers"])
        .arg(&first)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_journal(&fleet.state, "lab", &mut child, "a journaled preflight", |r| {
        r["status"] == "running" && r["steps"].as_array().is_some_and(|s| s.is_empty())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    sim.set_faults("");
    let st = fleet.run(&["status", "--cluster", "lab"]);
    assert!(
        text(&st).contains("killed") && text(&st).contains("during preflight"),
        "{}",
        text(&st)
    );

    // The run took no decision before it was killed, and the answers file it started with is gone: resume
    // asks for the answers and accepts --answers (with the file still there, it reads that again).
    let second = fleet.path().join("second.yaml");
    std::fs::rename(&first, &second).unwrap();
    let out = fleet.run(&["resume", "--cluster", "lab"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--answers"), "{}", text(&out));
    let out = fleet.run(&["resume", "--cluster", "lab", "--answers", second.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let j = fleet.journal("lab");
    assert_eq!(
        j["runs"][0]["answers"],
        std::fs::canonicalize(&second).unwrap().display().to_string(),
        "the answers file is journaled with the run: {j:#}"
    );
    assert_eq!(
        j["runs"].as_array().unwrap().len(),
        1,
        "resume continues the killed run: {j:#}"
    );
    assert_eq!(j["runs"][0]["status"], "done");
    assert_eq!(j["runs"][0]["decisions"]["token-file"], tok.to_str().unwrap());
}
