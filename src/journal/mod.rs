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
    #[serde(default)]
    pub rehearsal: bool,
    #[serde(default)]
    pub decisions: BTreeMap<String, String>,
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    #[serde(default)]
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Journal {
    pub version: u32,
    pub cluster: String,
    #[serde(default)]
    pub runs: Vec<Run>,
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
        match std::fs::read_to_string(&p) {
            Ok(t) => serde_json::from_str(&t).map_err(|e| {
                UserError::usage(format!("the journal is not valid JSON: {e}"))
                    .subject(p.display().to_string())
                    .next("move it aside to start afresh (the cluster itself is unaffected)")
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Journal {
                version: 1,
                cluster: self.cluster.clone(),
                runs: vec![],
            }),
            Err(e) => Err(UserError::failed(format!("cannot read the journal: {e}")).subject(p.display().to_string())),
        }
    }

    pub fn save(&self, j: &Journal) -> Result<(), UserError> {
        let text = serde_json::to_string_pretty(j).expect("journal serialises");
        write_atomic(&self.journal_path(), text.as_bytes())
    }
}

/// Write a file atomically: temp file in the same dir, fsync, rename, fsync the dir.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), UserError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail =
        |e: std::io::Error| UserError::failed(format!("cannot write state: {e}")).subject(path.display().to_string());
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
            rehearsal: false,
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
}
