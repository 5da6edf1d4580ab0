//! Renderers: one report, or several as one document. JSON and YAML carry the same data (docs/reports.md);
//! the table, Markdown and JUnit forms end with a total line (JUnit: its counts).

use super::{shown, Report, ReportList, Status, LIST_SCHEMA};
use serde::Serialize;

/// How a report is printed (`-o/--output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Yaml,
    Markdown,
    Junit,
}

fn yaml<T: Serialize>(v: &T) -> String {
    serde_yaml::to_string(v).expect("report serialises")
}

impl Report {
    pub fn render(&self, f: Format) -> String {
        match f {
            Format::Table => self.to_table(),
            Format::Json => self.to_json() + "\n",
            Format::Yaml => yaml(self),
            Format::Markdown => self.to_markdown(),
            Format::Junit => junit(std::slice::from_ref(self)),
        }
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
            self.origin_text()
        ));
        let w = self.criteria.iter().map(|c| c.id.len()).max().unwrap_or(2).max(2);
        out.push_str(&format!("{:<w$}  {:<7}  {}\n", "ID", "STATUS", "TITLE"));
        for c in &self.criteria {
            out.push_str(&format!("{:<w$}  {:<7}  {}\n", c.id, c.status.as_str(), c.title));
            for (k, v) in &c.evidence {
                out.push_str(&format!("{:<w$}           {k}: {}\n", "", shown(v)));
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
        out.push_str(&self.summary.line());
        out.push('\n');
        out
    }

    pub fn to_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut out = format!(
            "### fleetctl acceptance: cluster `{}`, phase {} ({})\n\n",
            self.cluster,
            self.phase_list(),
            self.origin_text()
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
                .map(|(k, v)| format!("`{}`: {}", esc(k), esc(&shown(v))))
                .collect();
            out.push_str(&format!(
                "| `{}` | {icon} | {} | {} | {} |\n",
                c.id,
                esc(&c.title),
                ev.join("<br>"),
                esc(c.hint.as_deref().unwrap_or(""))
            ));
        }
        out.push_str(&format!("\n{}\n", self.summary.line()));
        out
    }

    pub fn to_junit(&self) -> String {
        junit(std::slice::from_ref(self))
    }
}

/// The document a list of reports is in JSON and YAML.
#[derive(Serialize)]
struct ListDoc<'a> {
    schema: &'static str,
    items: &'a [Report],
    total: super::Total,
}

impl ReportList {
    /// The whole list as one document: one JSON or YAML document, one JUnit file, or the reports one after
    /// another ending with the total line (table, Markdown).
    pub fn render(&self, f: Format) -> String {
        let doc = ListDoc {
            schema: LIST_SCHEMA,
            items: &self.reports,
            total: self.total(),
        };
        match f {
            Format::Json => serde_json::to_string_pretty(&doc).expect("reports serialise") + "\n",
            Format::Yaml => yaml(&doc),
            Format::Junit => junit(&self.reports),
            Format::Table | Format::Markdown => {
                let mut out = String::new();
                for r in &self.reports {
                    out.push_str(&r.render(f));
                    out.push('\n');
                }
                out.push_str(&self.total().line());
                out.push('\n');
                out
            }
        }
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One JUnit file: a testsuite per report, a testcase per criterion (fail and pending are failures).
fn junit(reports: &[Report]) -> String {
    let list = ReportList {
        reports: reports.to_vec(),
    };
    let t = list.total();
    let tests: usize = reports.iter().map(|r| r.criteria.len()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"fleetctl\" tests=\"{tests}\" failures=\"{}\" skipped=\"{}\">\n",
        t.criteria.fail + t.criteria.pending,
        t.criteria.skipped,
    ));
    for r in reports {
        let s = &r.summary;
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" timestamp=\"{}\">\n",
            xml(&format!("{} phase {}", r.cluster, r.phase_list())),
            r.criteria.len(),
            s.fail + s.pending,
            s.skipped,
            xml(&r.generated)
        ));
        // Where the verdicts came from, as a property: a stable suite name for CI to track across runs.
        out.push_str(&format!(
            "    <properties><property name=\"source\" value=\"{}\"/></properties>\n",
            xml(&r.origin_text())
        ));
        for c in &r.criteria {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n",
                xml(&r.cluster),
                xml(&format!("{} {}", c.id, c.title))
            ));
            let body: Vec<String> = c
                .evidence
                .iter()
                .map(|(k, v)| format!("{k}: {}", shown(v)))
                .chain(c.details.iter().cloned())
                .collect();
            match c.status {
                Status::Pass => {}
                Status::Skipped => out.push_str(&format!(
                    "      <skipped message=\"{}\"/>\n",
                    xml(&c.details.join("; "))
                )),
                Status::Fail | Status::Pending => out.push_str(&format!(
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                    c.status.as_str(),
                    xml(c.hint.as_deref().unwrap_or(c.status.as_str())),
                    xml(&body.join("\n"))
                )),
            }
            out.push_str(&format!(
                "      <system-out>{}</system-out>\n    </testcase>\n",
                xml(&body.join("\n"))
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
