//! The evidence report: each criterion's status, typed evidence and hint, and where the evidence came from
//! (a live cluster, a simulated one, a snapshot). Rendered as a table (people), JSON or YAML (schema in
//! docs/reports.md), Markdown (pull requests) or JUnit XML (CI) by render.rs; several reports (a rehearsal)
//! are one document with a closing total.

mod render;

pub use render::Format;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The report schema this fleetctl writes.
pub const SCHEMA: &str = "fleetctl.report/v2";
/// The schema of several reports in one document.
pub const LIST_SCHEMA: &str = "fleetctl.reportlist/v2";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Pending,
    Skipped,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Pending => "pending",
            Status::Skipped => "skipped",
        }
    }
}

/// Observed values by field path, as the cluster has them (numbers as numbers, lists as lists); `null` for
/// a field that is absent.
pub type Evidence = BTreeMap<String, Value>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CriterionResult {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub evidence: Evidence,
    /// How each expectation was judged.
    #[serde(default)]
    pub details: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// What the evidence was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A real cluster's API server.
    Live,
    /// A simulated cluster (fleetctl's own: its `/version` says `-sim`), in a rehearsal or `sim serve`.
    Simulated,
    /// A file or directory of `kubectl get -o yaml` output.
    Snapshot,
}

impl Source {
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Live => "live",
            Source::Simulated => "simulated",
            Source::Snapshot => "snapshot",
        }
    }
}

/// Where a report's evidence came from, and how it was gathered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: Source,
    /// The snapshot's path, for `Source::Snapshot`.
    pub snapshot: Option<String>,
    /// Part of `fleetctl rehearse`.
    pub rehearsal: bool,
    /// A `--dry-run`: the criteria as they stand before anything was written.
    pub dry_run: bool,
}

impl Origin {
    /// A live or simulated cluster.
    pub fn cluster(simulated: bool) -> Origin {
        Origin {
            source: if simulated { Source::Simulated } else { Source::Live },
            snapshot: None,
            rehearsal: false,
            dry_run: false,
        }
    }

    pub fn snapshot(path: &str) -> Origin {
        Origin {
            source: Source::Snapshot,
            snapshot: Some(path.to_string()),
            rehearsal: false,
            dry_run: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub cluster: String,
    pub phases: Vec<u8>,
    pub generated: String,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    #[serde(default)]
    pub rehearsal: bool,
    #[serde(default)]
    pub dry_run: bool,
    /// Decisions taken, by id, per phase.
    pub decisions: BTreeMap<String, String>,
    pub criteria: Vec<CriterionResult>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub pending: usize,
    pub skipped: usize,
}

impl Summary {
    fn add(&mut self, o: &Summary) {
        self.pass += o.pass;
        self.fail += o.fail;
        self.pending += o.pending;
        self.skipped += o.skipped;
    }

    /// `3 passed, 0 failed, 1 pending, 0 skipped`.
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} pending, {} skipped",
            self.pass, self.fail, self.pending, self.skipped
        )
    }
}

impl Report {
    pub fn new(
        cluster: &str,
        phases: Vec<u8>,
        origin: Origin,
        decisions: BTreeMap<String, String>,
        criteria: Vec<CriterionResult>,
    ) -> Report {
        let mut s = Summary::default();
        for c in &criteria {
            match c.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Pending => s.pending += 1,
                Status::Skipped => s.skipped += 1,
            }
        }
        Report {
            schema: SCHEMA.into(),
            cluster: cluster.into(),
            phases,
            generated: crate::journal::now(),
            source: origin.source,
            snapshot: origin.snapshot,
            rehearsal: origin.rehearsal,
            dry_run: origin.dry_run,
            decisions,
            criteria,
            summary: s,
        }
    }

    /// Every criterion passed (skipped ones do not count against it).
    pub fn passed(&self) -> bool {
        self.summary.fail == 0 && self.summary.pending == 0
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises")
    }

    /// `simulated (rehearsal, dry run)`, `snapshot dump/`, `live`.
    pub fn origin_text(&self) -> String {
        let mut s = self.source.as_str().to_string();
        if let Some(p) = &self.snapshot {
            s.push(' ');
            s.push_str(p);
        }
        let tags: Vec<&str> = [(self.rehearsal, "rehearsal"), (self.dry_run, "dry run")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, t)| *t)
            .collect();
        if !tags.is_empty() {
            s.push_str(&format!(" ({})", tags.join(", ")));
        }
        s
    }
}

/// Several reports printed as one document (a rehearsal's phases), with a total.
#[derive(Debug, Clone, Default)]
pub struct ReportList {
    pub reports: Vec<Report>,
}

/// The total over a list of reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Total {
    pub reports: usize,
    /// Reports whose every criterion passed.
    pub passed: usize,
    pub not_passing: usize,
    pub criteria: Summary,
}

impl ReportList {
    pub fn total(&self) -> Total {
        let mut t = Total {
            reports: self.reports.len(),
            ..Default::default()
        };
        for r in &self.reports {
            if r.passed() {
                t.passed += 1;
            } else {
                t.not_passing += 1;
            }
            t.criteria.add(&r.summary);
        }
        t
    }

    /// Every report passed.
    pub fn passed(&self) -> bool {
        self.reports.iter().all(Report::passed)
    }
}

impl Total {
    /// `total: 8 reports (7 passing, 1 not); criteria: 60 passed, 1 failed, 0 pending, 3 skipped`.
    pub fn line(&self) -> String {
        format!(
            "total: {} {} ({} passing, {} not); criteria: {}",
            self.reports,
            if self.reports == 1 { "report" } else { "reports" },
            self.passed,
            self.not_passing,
            self.criteria.line()
        )
    }
}

/// An evidence value as a person reads it: strings bare, an absent field as `<absent>`, lists comma-joined.
pub fn shown(v: &Value) -> String {
    match v {
        Value::Null => "<absent>".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            let items: Vec<String> = a.iter().map(shown).collect();
            items.join(", ")
        }
        other => other.to_string(),
    }
}
