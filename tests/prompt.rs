//! Decisions asked on a real terminal (a pty, as a person at a shell sees them): a free-text answer is
//! checked against the type its decision declares and asked again; Ctrl-C at a prompt is an interrupt like
//! any other: exit 130, journaled, and `resume` goes on (issue 13, item 9).
#![cfg(unix)]

mod common;

use common::{text, Fleet, SimProc};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A command running on a pseudo-terminal: stdin and stderr are the terminal, its controlling one.
struct Pty {
    master: File,
    seen: Arc<Mutex<String>>,
    child: Child,
}

impl Pty {
    fn spawn(mut cmd: Command) -> Pty {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 40,
            ws_col: 160,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two fresh descriptors into the two ints; the other pointers may be null.
        let rc = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened by openpty and are owned here alone.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::null())
            .stderr(Stdio::from(slave.try_clone().unwrap()))
            .env("TERM", "xterm")
            .env_remove("CI");
        // SAFETY: between fork and exec only async-signal-safe calls: a new session whose controlling
        // terminal is the pty on stdin.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop(slave);
        let seen = Arc::new(Mutex::new(String::new()));
        let (mut reader, s) = (master.try_clone().unwrap(), seen.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child and every copy of the terminal are gone.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Pty { master, seen, child }
    }

    /// Wait (with a deadline) until the terminal has shown `what`.
    fn expect(&mut self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.seen.lock().unwrap().contains(what) {
            assert!(
                Instant::now() < deadline,
                "the terminal never showed {what:?}: {}",
                self.seen.lock().unwrap()
            );
            if let Some(s) = self.child.try_wait().unwrap() {
                panic!("exited {s} before showing {what:?}: {}", self.seen.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// The exit code, waiting with a deadline.
    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            assert!(Instant::now() < deadline, "never exited: {}", self.seen.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn shown(&self) -> String {
        self.seen.lock().unwrap().clone()
    }
}

/// A phase with one typed free-text decision (the Gateway's load-balancer address, a CIDR).
fn fleet_with_cidr_decision() -> Fleet {
    let fleet = Fleet::copy("sample-fleet");
    std::fs::write(
        fleet.path().join("runbooks/phase-7.yaml"),
        "phase: 7\ntitle: An address\nplatforms: [openshift]\ndecisions:\n  - id: lb-address\n    question: Which address does MetalLB give the Gateway?\n    input: cidr\nsteps:\n  - id: address\n    decide: lb-address\n  - id: done\n    command:\n      run: [\"true\"]\nacceptance: []\n",
    )
    .unwrap();
    fleet
}

fn phase_7_on_a_terminal(fleet: &Fleet, sim: &SimProc) -> Pty {
    let mut cmd = fleet.cmd();
    cmd.args(["phase", "7", "--cluster", "lab", "--kubeconfig"])
        .arg(&sim.kubeconfig);
    Pty::spawn(cmd)
}

#[test]
fn a_free_text_answer_is_checked_against_its_type_and_asked_again() {
    let sim = SimProc::start("openshift", "sim-lab", "", 20.0);
    let fleet = fleet_with_cidr_decision();
    let mut t = phase_7_on_a_terminal(&fleet, &sim);
    t.expect("Which address does MetalLB give the Gateway? [cidr]");
    t.type_keys("192.168.10.300/32\r");
    t.expect("'192.168.10.300' is not an IP address");
    t.type_keys("192.168.10.11/32\r");
    assert_eq!(t.exit_code(), Some(0), "{}", t.shown());
    let j = fleet.journal("lab");
    assert_eq!(j["runs"][0]["decisions"]["lb-address"], "192.168.10.11/32", "{j:#}");

    // The same check holds for an answers file: exit 2 before anything is written.
    let bad = fleet.path().join("bad.yaml");
    std::fs::write(&bad, "lb-address: 192.168.10.300/32\n").unwrap();
    sim.reset_stats();
    let out = fleet
        .cmd()
        .args(["phase", "7", "--cluster", "lab", "--answers"])
        .arg(&bad)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("answer to decision 'lb-address' is not a valid cidr")
            && text(&out).contains("'192.168.10.300' is not an IP address"),
        "{}",
        text(&out)
    );
    assert_eq!(sim.writes(), 0);
}

#[test]
fn ctrl_c_at_a_prompt_is_an_interrupt_that_resume_continues() {
    let sim = SimProc::start("openshift", "sim-lab", "", 20.0);
    let fleet = fleet_with_cidr_decision();
    let mut t = phase_7_on_a_terminal(&fleet, &sim);
    t.expect("Which address does MetalLB give the Gateway?");
    t.type_keys("\u{3}");
    assert_eq!(t.exit_code(), Some(130), "{}", t.shown());
    let shown = t.shown();
    assert!(
        shown.contains(
            "interrupted during preflight; nothing was written; run `fleetctl resume --cluster lab` to continue"
        ),
        "{shown}"
    );
    assert!(
        !shown.contains("read interrupted") && !shown.contains("IO error"),
        "{shown}"
    );
    let j = fleet.journal("lab");
    assert_eq!(j["runs"][0]["status"], "failed", "{j:#}");
    assert!(
        j["runs"][0]["failure"]
            .as_str()
            .unwrap()
            .starts_with("interrupted during preflight"),
        "{j:#}"
    );
    let st = fleet.run(&["status", "--cluster", "lab"]);
    assert!(text(&st).contains("interrupted"), "{}", text(&st));

    let answers = fleet.path().join("answers.yaml");
    std::fs::write(&answers, "lb-address: 192.168.10.11/32\n").unwrap();
    let out = fleet.run(&["resume", "--cluster", "lab", "--answers", answers.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let j = fleet.journal("lab");
    assert_eq!(j["runs"].as_array().unwrap().len(), 1, "{j:#}");
    assert_eq!(j["runs"][0]["status"], "done", "{j:#}");
}
