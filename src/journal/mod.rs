//! The per-cluster journal in the state dir: runs, step outcomes, decisions, evidence.
//! Written atomically (temp file, fsync, rename) so a kill at any moment leaves it readable.

pub mod lock;

use crate::error::UserError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use lock::RunLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Running,
    Done,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    Running,
    /// The step acted and verified.
    Done,
    /// Observed already done: nothing to do.
    AlreadyDone,
    /// Skipped by its `when` condition.
    Skipped,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    pub kind: String,
    pub status: StepStatus,
    pub started: String,
    #[serde(default)]
    pub finished: Option<String>,
    /// Objects written by this step.
    #[serde(default)]
    pub writes: u32,
    /// What happened, in a line (never a secret value).
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub phase: u8,
    pub runbook: String,
    pub started: String,
    #[serde(default)]
    pub finished: Option<String>,
    pub status: RunStatus,
    /// How the cluster was reached, so `resume` can reach it again.
    #[serde(default)]
    pub kubeconfig: Option<String>,
    #[serde(default)]
    pub context: Option<String>,
    /// The API server the run started on; `resume` refuses any other.
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub rehearsal: bool,
    /// The `--answers` file the run was started (or last resumed) with; `resume` reads it again unless
    /// given another, so a run killed before its decisions were journaled resumes with the same answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<String>,
    #[serde(default)]
    pub decisions: BTreeMap<String, String>,
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    #[serde(default)]
    pub failure: Option<String>,
}

/// The journal format this fleetctl writes; it reads this and every older one, and refuses a newer one.
pub const VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Journal {
    pub version: u32,
    pub cluster: String,
    /// The cluster as seen on first contact; every later run and resume must meet the same cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<ClusterIdentity>,
    #[serde(default)]
    pub runs: Vec<Run>,
}

/// What tells one cluster from another, recorded on first contact (src/cluster/identity.rs reads it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterIdentity {
    /// The API server's URL.
    pub server: String,
    /// `ClusterVersion.spec.clusterID` on OpenShift, else the `kube-system` namespace's UID.
    #[serde(default)]
    pub cluster_id: Option<String>,
    /// Which of the two `cluster_id` is.
    #[serde(default)]
    pub cluster_id_from: String,
    #[serde(default)]
    pub kube_system_uid: Option<String>,
    /// OpenShift's ingress domain (`ingresses.config.openshift.io/cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_domain: Option<String>,
    #[serde(default)]
    pub nodes: Vec<String>,
    #[serde(default)]
    pub platform: String,
    /// When it was recorded.
    #[serde(default)]
    pub first_contact: String,
}

/// Where one cluster's state lives.
#[derive(Debug, Clone)]
pub struct StateDir {
    pub root: PathBuf,
    pub cluster: String,
}

impl StateDir {
    pub fn new(root: &Path, cluster: &str) -> StateDir {
        StateDir {
            root: root.to_path_buf(),
            cluster: cluster.to_string(),
        }
    }
    pub fn dir(&self) -> PathBuf {
        self.root.join(&self.cluster)
    }
    pub fn journal_path(&self) -> PathBuf {
        self.dir().join("journal.json")
    }
    pub fn report_path(&self, phase: u8) -> PathBuf {
        self.dir().join("reports").join(format!("phase-{phase}.json"))
    }

    pub fn load(&self) -> Result<Journal, UserError> {
        let p = self.journal_path();
        let bad = |cause: String| {
            UserError::usage(cause)
                .subject(p.display().to_string())
                .next("move it aside to start afresh (the cluster itself is unaffected)")
        };
        let bytes = match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Journal {
                    version: VERSION,
                    cluster: self.cluster.clone(),
                    identity: None,
                    runs: vec![],
                })
            }
            Err(e) => {
                return Err(UserError::usage(format!("cannot read the journal: {e}"))
                    .subject(p.display().to_string())
                    .next(format!(
                        "make the state dir readable ({}), or pass another --state-dir",
                        self.dir().display()
                    )))
            }
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            bad(format!(
                "the journal is not UTF-8 text (byte {} is not), so it is not a fleetctl journal or it is damaged",
                e.utf8_error().valid_up_to()
            ))
        })?;
        #[derive(Deserialize)]
        struct Version {
            #[serde(default)]
            version: u32,
        }
        let v: Version = serde_json::from_str(&text).map_err(|e| bad(format!("the journal is not valid JSON: {e}")))?;
        if v.version > VERSION {
            return Err(UserError::usage(format!(
                "the journal was written by a newer fleetctl (journal version {}; this fleetctl reads up to {VERSION})",
                v.version
            ))
            .subject(p.display().to_string())
            .next("use that newer fleetctl for this cluster; an older one could misread its state"));
        }
        serde_json::from_str(&text).map_err(|e| bad(format!("the journal is not valid JSON: {e}")))
    }

    /// Leftover temporary copies (`.tmp*`) of a run killed while it wrote: removed by the next run, which
    /// holds the run lock, so no live writer owns them.
    pub fn clean_temporaries(&self) {
        for dir in [self.dir(), self.dir().join("reports")] {
            let Ok(rd) = std::fs::read_dir(&dir) else { continue };
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(".tmp") && e.path().is_file() {
                    match std::fs::remove_file(e.path()) {
                        Ok(()) => tracing::info!("removed a killed run's temporary file {}", e.path().display()),
                        Err(err) => tracing::warn!("cannot remove {}: {err}", e.path().display()),
                    }
                }
            }
        }
    }

    pub fn save(&self, j: &Journal) -> Result<(), UserError> {
        let mut j = j.clone();
        j.version = VERSION;
        let text = serde_json::to_string_pretty(&j).expect("journal serialises");
        write_atomic(&self.journal_path(), text.as_bytes())
    }
}

/// Write a file atomically: temp file in the same dir, fsync, rename, fsync the dir.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), UserError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| {
        UserError::usage(format!("cannot write state: {e}"))
            .subject(path.display().to_string())
            .next(format!(
                "make {} writable, or pass a writable --state-dir (FLEETCTL_STATE_DIR)",
                dir.display()
            ))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Now, as RFC 3339 UTC.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Journal {
    /// The last run that did not finish, if the last run is one.
    pub fn unfinished(&self) -> Option<&Run> {
        self.runs
            .last()
            .filter(|r| r.status == RunStatus::Running || r.status == RunStatus::Failed)
    }
    /// The most recent run of a phase.
    pub fn last_of_phase(&self, phase: u8) -> Option<&Run> {
        self.runs.iter().rev().find(|r| r.phase == phase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trips_atomically() {
        let d = tempfile::tempdir().unwrap();
        let sd = StateDir::new(d.path(), "c1");
        let mut j = sd.load().unwrap();
        assert!(j.runs.is_empty());
        j.runs.push(Run {
            id: "r1".into(),
            phase: 1,
            runbook: "x".into(),
            started: now(),
            finished: None,
            status: RunStatus::Running,
            kubeconfig: None,
            context: None,
            server: None,
            rehearsal: false,
            answers: None,
            decisions: Default::default(),
            steps: vec![],
            failure: None,
        });
        sd.save(&j).unwrap();
        let back = sd.load().unwrap();
        assert_eq!(back.runs.len(), 1);
        assert_eq!(back.unfinished().unwrap().id, "r1");
        std::fs::write(sd.journal_path(), "{not json").unwrap();
        assert!(sd.load().is_err());
    }

    #[test]
    fn a_journal_from_a_newer_fleetctl_or_not_utf8_is_refused_with_a_next_step() {
        let d = tempfile::tempdir().unwrap();
        let sd = StateDir::new(d.path(), "c1");
        std::fs::create_dir_all(sd.dir()).unwrap();
        std::fs::write(
            sd.journal_path(),
            format!(
                "{{\"version\": {}, \"cluster\": \"c1\", \"runs\": [], \"new\": 1}}",
                VERSION + 1
            ),
        )
        .unwrap();
        let e = sd.load().unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.cause.contains("newer fleetctl") && e.next.is_some(), "{e}");
        std::fs::write(sd.journal_path(), b"{\"version\": 1, \"cluster\": \"\xff\"}").unwrap();
        let e = sd.load().unwrap_err();
        assert!(
            e.cause.contains("not UTF-8") && e.next.as_deref().unwrap().contains("move it aside"),
            "{e}"
        );
        // An older journal (version 1, no identity) still loads.
        std::fs::write(sd.journal_path(), "{\"version\": 1, \"cluster\": \"c1\", \"runs\": []}").unwrap();
        assert!(sd.load().unwrap().identity.is_none());
    }
}
