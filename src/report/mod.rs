//! The evidence report: each criterion's status, evidence and hint; rendered as a table (people),
//! JSON (schema in docs/reports.md), Markdown (pull requests) or JUnit XML (CI).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CriterionResult {
    pub id: String,
    pub title: String,
    pub status: Status,
    /// Observed values, by field path.
    pub evidence: BTreeMap<String, String>,
    /// How each expectation was judged.
    #[serde(default)]
    pub details: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Always `fleetctl.report/v1`.
    pub schema: String,
    pub cluster: String,
    pub phases: Vec<u8>,
    pub generated: String,
    /// `live`, `rehearsal` (a simulated cluster) or `snapshot:<path>`.
    pub source: String,
    /// Decisions taken, by id, per phase.
    pub decisions: BTreeMap<String, String>,
    pub criteria: Vec<CriterionResult>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub pending: usize,
    pub skipped: usize,
}

impl Report {
    pub fn new(
        cluster: &str,
        phases: Vec<u8>,
        source: String,
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
            schema: "fleetctl.report/v1".into(),
            cluster: cluster.into(),
            phases,
            generated: crate::journal::now(),
            source,
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

    /// `1` or `1,2,3`.
    fn phase_list(&self) -> String {
        let phases: Vec<String> = self.phases.iter().map(|p| p.to_string()).collect();
        phases.join(",")
    }

    pub fn to_table(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "cluster {} · phase {} · {}\n",
            self.cluster,
            self.phase_list(),
            self.source
        ));
        let w = self.criteria.iter().map(|c| c.id.len()).max().unwrap_or(2).max(2);
        out.push_str(&format!("{:<w$}  {:<7}  {}\n", "ID", "STATUS", "TITLE"));
        for c in &self.criteria {
            out.push_str(&format!("{:<w$}  {:<7}  {}\n", c.id, c.status.as_str(), c.title));
            for (k, v) in &c.evidence {
                out.push_str(&format!("{:<w$}           {k}: {v}\n", ""));
            }
            if c.status != Status::Pass {
                for d in c.details.iter().filter(|d| !d.starts_with("ok:")) {
                    out.push_str(&format!("{:<w$}           {d}\n", ""));
                }
                if let Some(h) = &c.hint {
                    out.push_str(&format!("{:<w$}           hint: {h}\n", ""));
                }
            }
        }
        if !self.decisions.is_empty() {
            out.push_str("decisions:\n");
            for (k, v) in &self.decisions {
                out.push_str(&format!("  {k}: {v}\n"));
            }
        }
        let s = &self.summary;
        out.push_str(&format!(
            "{} passed, {} failed, {} pending, {} skipped\n",
            s.pass, s.fail, s.pending, s.skipped
        ));
        out
    }

    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut out = format!(
            "### fleetctl acceptance: cluster `{}`, phase {} ({})\n\n",
            self.cluster,
            self.phase_list(),
            self.source
        );
        out.push_str("| id | status | title | evidence | hint |\n|---|---|---|---|---|\n");
        for c in &self.criteria {
            let icon = match c.status {
                Status::Pass => "✅ pass",
                Status::Fail => "❌ fail",
                Status::Pending => "⏳ pending",
                Status::Skipped => "⏭ skipped",
            };
            let ev: Vec<String> = c
                .evidence
                .iter()
                .map(|(k, v)| format!("`{}`: {}", esc(k), esc(v)))
                .collect();
            out.push_str(&format!(
                "| `{}` | {icon} | {} | {} | {} |\n",
                c.id,
                esc(&c.title),
                ev.join("<br>"),
                esc(c.hint.as_deref().unwrap_or(""))
            ));
        }
        let s = &self.summary;
        out.push_str(&format!(
            "\n{} passed, {} failed, {} pending, {} skipped\n",
            s.pass, s.fail, s.pending, s.skipped
        ));
        out
    }

    pub fn to_junit(&self) -> String {
        let x = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let s = &self.summary;
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuites name=\"fleetctl\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" timestamp=\"{}\">\n",
            self.criteria.len(),
            s.fail + s.pending,
            s.skipped,
            x(&format!("{} phase {}", self.cluster, self.phase_list())),
            self.criteria.len(),
            s.fail + s.pending,
            s.skipped,
            x(&self.generated)
        ));
        for c in &self.criteria {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n",
                x(&self.cluster),
                x(&format!("{} {}", c.id, c.title))
            ));
            let body: Vec<String> = c
                .evidence
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .chain(c.details.iter().cloned())
                .collect();
            match c.status {
                Status::Pass => {}
                Status::Skipped => {
                    out.push_str(&format!("      <skipped message=\"{}\"/>\n", x(&c.details.join("; "))))
                }
                Status::Fail | Status::Pending => out.push_str(&format!(
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                    c.status.as_str(),
                    x(c.hint.as_deref().unwrap_or(c.status.as_str())),
                    x(&body.join("\n"))
                )),
            }
            out.push_str(&format!(
                "      <system-out>{}</system-out>\n    </testcase>\n",
                x(&body.join("\n"))
            ));
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}
