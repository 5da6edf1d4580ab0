//! Ctrl-C (SIGINT) or SIGTERM during a phase: it stops at once without writing more, journals the run as
//! interrupted at its step, says how to resume, exits 130; `status` shows it and `resume` completes it.

mod common;

use common::{text, Fleet, SimProc};
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn running_step(fleet: &Fleet) -> Option<String> {
    let t = std::fs::read_to_string(fleet.state.join("lab/journal.json")).ok()?;
    let j: serde_json::Value = serde_json::from_str(&t).ok()?;
    let steps = j["runs"].as_array()?.last()?["steps"].as_array()?.clone();
    steps
        .iter()
        .rev()
        .find(|s| s["status"] == "running")
        .and_then(|s| s["id"].as_str().map(String::from))
}

#[test]
fn a_signal_during_a_stalled_phase_is_journaled_as_interrupted_and_resume_completes() {
    for sig in ["INT", "TERM"] {
        let sim = SimProc::start("openshift", "sim-lab", "stall=Deployment/demo/web=Progressing", 20.0);
        let fleet = Fleet::copy("sample-fleet");
        let tok = fleet.path().join("token.txt");
        std::fs::write(&tok, "tok-interrupt").unwrap();
        let a = fleet.path().join("answers.yaml");
        std::fs::write(&a, format!("replicas-ok: \"yes\"\ntoken-file: {}\n", tok.display())).unwrap();
        let mut child = fleet
            .cmd()
            .args(["phase", "9", "--cluster", "lab", "--answers"])
            .arg(&a)
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        // Wait until the run sits in the stalled wait (the sample's wait times out after 20s).
        let deadline = Instant::now() + Duration::from_secs(15);
        while running_step(&fleet).as_deref() != Some("wait-app") {
            assert!(Instant::now() < deadline, "the run never reached wait-app");
            assert!(child.try_wait().unwrap().is_none(), "the run ended before the signal");
            std::thread::sleep(Duration::from_millis(50));
        }
        sim.reset_stats();
        let sent = Instant::now();
        let kill = std::process::Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(5),
                "SIG{sig} did not stop the run promptly"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let err = reader.join().unwrap();
        assert_eq!(status.code(), Some(130), "SIG{sig}: {err}");
        assert!(
            err.contains("interrupted at step wait-app; run `fleetctl resume --cluster lab` to continue"),
            "SIG{sig}: {err}"
        );
        assert_eq!(
            sim.writes(),
            0,
            "nothing may be written after the signal: {}",
            sim.stats()
        );

        let j = fleet.journal("lab");
        let run = j["runs"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(run["status"], "failed", "{run:#}");
        assert!(
            run["failure"]
                .as_str()
                .unwrap()
                .starts_with("interrupted at step wait-app"),
            "{run:#}"
        );
        let step = run["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "wait-app")
            .unwrap();
        assert_eq!(step["status"], "failed", "{run:#}");

        let st = fleet.run(&["status", "--cluster", "lab"]);
        assert!(st.status.success(), "{}", text(&st));
        assert!(text(&st).contains("interrupted at step wait-app"), "{}", text(&st));
        assert!(!text(&st).contains("in progress"), "{}", text(&st));
        let row = fleet.run(&["status", "--cluster", "lab", "--output", "json"]);
        let rows: serde_json::Value = serde_json::from_slice(&row.stdout).unwrap();
        let nine = rows.as_array().unwrap().iter().find(|r| r["phase"] == 9).unwrap();
        assert_eq!(nine["state"], "interrupted", "{rows:#}");

        // The stall clears; resume picks the run up and completes it.
        sim.set_faults("");
        let out = fleet.run(&["resume", "--cluster", "lab"]);
        assert!(out.status.success(), "resume after SIG{sig}: {}", text(&out));
        let j = fleet.journal("lab");
        let runs = j["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "resume continues the same run");
        assert_eq!(runs[0]["status"], "done");
    }
}

#[test]
fn a_signal_during_a_command_step_kills_the_command_and_resume_runs_it_again() {
    let sim = SimProc::start("openshift", "sim-lab", "", 20.0);
    let fleet = Fleet::copy("sample-fleet");
    let marker = fleet.path().join("MARKER");
    let pidfile = fleet.path().join("PID");
    std::fs::write(
        fleet.path().join("runbooks/phase-7.yaml"),
        format!(
            "phase: 7\ntitle: Slow command\nplatforms: [openshift]\nsteps:\n  - id: slow\n    command:\n      run: [sh, -c, \"echo $$ > {} && sleep 3 && touch {}\"]\nacceptance: []\n",
            pidfile.display(),
            marker.display()
        ),
    )
    .unwrap();
    let child = fleet
        .cmd()
        .args(["phase", "7", "--cluster", "lab", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Signal once the command is running: the step is journaled as running and its shell wrote its pid.
    let deadline = Instant::now() + Duration::from_secs(15);
    let pid = loop {
        let pid = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        match pid {
            Some(p) if running_step(&fleet).as_deref() == Some("slow") => break p,
            _ => {}
        }
        assert!(Instant::now() < deadline, "the run never reached the command");
        std::thread::sleep(Duration::from_millis(20));
    };
    let sent = Instant::now();
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        sent.elapsed()
    );
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(text(&out).contains("interrupted at step slow"), "{}", text(&out));
    // The command was killed with the run: its shell is gone (waited for, with a deadline), and it never
    // got to its write.
    let deadline = Instant::now() + Duration::from_secs(10);
    // gone, or a zombie nobody reaped yet (state Z in /proc/PID/stat)
    let alive = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|st| st.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
            .unwrap_or(false)
    };
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the command (pid {pid}) kept running after the signal"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!marker.exists(), "the command kept running after the signal");

    let out = fleet.run(&[
        "resume",
        "--cluster",
        "lab",
        "--kubeconfig",
        sim.kubeconfig.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(marker.exists(), "resume runs the interrupted command again");
    assert_eq!(fleet.journal("lab")["runs"][0]["status"], "done");
}
