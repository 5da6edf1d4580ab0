//! `fleetctl status` and `fleetctl decisions`: read-only views of the journal and the runbooks.

use super::{Globals, InfoFormat};
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::{lock, Run, RunStatus, StateDir, StepStatus};
use crate::runbook;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// One row of `fleetctl status`.
#[derive(Serialize)]
struct Row {
    cluster: String,
    phase: u8,
    state: String,
    detail: String,
    decisions: BTreeMap<String, String>,
    /// From the rehearsal state (`<state-dir>/rehearsal/`), not a real cluster's.
    rehearsal: bool,
}

/// Print rows as a table (by `table`), JSON or YAML.
fn print_rows<T: Serialize>(rows: &T, output: InfoFormat, table: impl FnOnce()) {
    match output {
        InfoFormat::Json => println!("{}", serde_json::to_string_pretty(rows).unwrap_or_default()),
        InfoFormat::Yaml => print!("{}", serde_yaml::to_string(rows).unwrap_or_default()),
        InfoFormat::Table => table(),
    }
}

/// State and detail of a phase's last run. A run the journal calls running whose lock no live process
/// holds was killed (SIGKILL, a crash, a reboot): it is not in progress, and `resume` goes on from it.
fn run_state(r: &Run, state: &StateDir, cluster: &str) -> (String, String) {
    match r.status {
        RunStatus::Done => ("done".to_string(), r.finished.clone().unwrap_or_default()),
        // Ctrl-C / SIGTERM is journaled as a failure whose cause starts "interrupted".
        RunStatus::Failed if r.failure.as_deref().is_some_and(|f| f.starts_with("interrupted")) => {
            ("interrupted".to_string(), r.failure.clone().unwrap_or_default())
        }
        RunStatus::Failed => ("failed".to_string(), r.failure.clone().unwrap_or_default()),
        RunStatus::Running => {
            let at = match r
                .steps
                .iter()
                .rev()
                .find(|s| s.status == StepStatus::Running)
                .or(r.steps.last())
            {
                Some(s) => format!("at step {}", s.id),
                None => "during preflight".to_string(),
            };
            match lock::holder(&state.dir()) {
                Some(h) => ("in progress".to_string(), format!("{at} ({h})")),
                None => (
                    "killed".to_string(),
                    format!(
                        "stopped {at}: no process holds its run lock any more; `fleetctl resume --cluster {cluster}` continues it"
                    ),
                ),
            }
        }
    }
}

pub fn status(g: &Globals, cluster: Option<String>, output: InfoFormat) -> Result<i32, UserError> {
    let clusters = match cluster {
        Some(c) => vec![c],
        None => ClusterSpec::list(&g.repo),
    };
    let books = g.library()?.runbooks.clone();
    let mut phases: Vec<u8> = books.iter().map(|l| l.runbook.phase).collect();
    phases.sort();
    phases.dedup();
    let mut rows = Vec::new();
    let rehearsal_root = g.state_root.join("rehearsal");
    for c in &clusters {
        // A named cluster must exist (as for `phase`: exit 2 listing the known ones); its platform tells
        // which phases apply to it.
        let platform = ClusterSpec::load(&g.repo, c)?.platform;
        let state = StateDir::new(&g.state_root, c);
        let j = state.load()?;
        for p in &phases {
            let mut for_platforms: Vec<String> = books
                .iter()
                .filter(|l| l.runbook.phase == *p)
                .flat_map(|l| l.runbook.platforms.iter().map(|x| x.to_string()))
                .collect();
            for_platforms.sort();
            for_platforms.dedup();
            let applies = for_platforms.iter().any(|x| *x == platform.to_string());
            let (state_text, detail, decisions) = match j.last_of_phase(*p) {
                None if !applies => (
                    format!("n/a ({} only)", for_platforms.join(", ")),
                    String::new(),
                    Default::default(),
                ),
                None => ("never run".to_string(), String::new(), Default::default()),
                Some(r) => {
                    let (s, d) = run_state(r, &state, c);
                    (
                        if r.rehearsal { format!("{s} (rehearsal)") } else { s },
                        d,
                        r.decisions.clone(),
                    )
                }
            };
            rows.push(Row {
                cluster: c.clone(),
                phase: *p,
                state: state_text,
                detail,
                decisions,
                rehearsal: false,
            });
        }
        // The rehearsal's state, apart from the real one: its phases that ran, marked as rehearsal.
        let rstate = StateDir::new(&rehearsal_root, c);
        if rstate.journal_path().is_file() {
            let rj = rstate.load()?;
            for p in phases.iter().filter(|p| rj.last_of_phase(**p).is_some()) {
                let r = rj.last_of_phase(*p).expect("filtered on it");
                let (s, d) = run_state(r, &rstate, c);
                rows.push(Row {
                    cluster: c.clone(),
                    phase: *p,
                    state: format!("{s} (rehearsal)"),
                    detail: d,
                    decisions: r.decisions.clone(),
                    rehearsal: true,
                });
            }
        }
    }
    print_rows(&rows, output, || {
        println!("{:<12} {:<5} {:<22} DETAIL", "CLUSTER", "PHASE", "STATE");
        for r in &rows {
            println!("{:<12} {:<5} {:<22} {}", r.cluster, r.phase, r.state, r.detail);
            for (k, v) in &r.decisions {
                println!("{:<41} decision {k} = {v}", "");
            }
        }
        if rows.iter().any(|r| r.rehearsal) {
            println!(
                "(rehearsal rows: state from `fleetctl rehearse` in {}, simulated clusters, not real ones)",
                rehearsal_root.display()
            );
        }
    });
    Ok(0)
}

pub fn decisions(g: &Globals, phase: Option<u8>, output: InfoFormat) -> Result<i32, UserError> {
    let books = g.library()?.runbooks.clone();
    if let Some(p) = phase {
        runbook::require_phase(&books, p)?;
    }
    let mut rows = Vec::new();
    for l in books.iter().filter(|l| phase.is_none_or(|p| l.runbook.phase == p)) {
        for d in &l.runbook.decisions {
            rows.push((l.runbook.phase, d.clone()));
        }
    }
    let docs: Vec<_> = rows
        .iter()
        .map(|(p, d)| json!({"phase": p, "id": d.id, "question": d.question, "options": d.options, "recommended": d.recommended, "destructive": d.destructive, "input": d.input.is_input(), "type": d.input.name()}))
        .collect();
    print_rows(&docs, output, || {
        println!(
            "{:<5} {:<24} {:<11} {:<16} QUESTION [OPTIONS]",
            "PHASE", "ID", "DESTRUCTIVE", "RECOMMENDED"
        );
        for (p, d) in &rows {
            let opts = match d.input.name() {
                _ if !d.options.is_empty() => d.options.join(" | "),
                Some(t) => format!("free text: {t}"),
                None => "free text".into(),
            };
            println!(
                "{p:<5} {:<24} {:<11} {:<16} {} [{opts}]",
                d.id,
                if d.destructive { "yes" } else { "no" },
                d.recommended.clone().unwrap_or("-".into()),
                d.question
            );
        }
    });
    Ok(0)
}

/// `fleetctl runbooks export DIR`: the built-in runbooks and the files they use, to edit and pass back with
/// `--runbooks DIR`. Refuses to overwrite a file that differs (nothing is written then).
pub fn export_runbooks(g: &Globals, dir: &std::path::Path) -> Result<i32, UserError> {
    let written = crate::runbook::library::export_to(dir)?;
    g.ui.ok(&format!("wrote {} files under {}", written.len(), dir.display()));
    g.ui.line(&format!("use them with: fleetctl --runbooks {} phase N", dir.display()));
    Ok(0)
}

/// `fleetctl runbooks list`: which runbooks are in use, from where.
pub fn list_runbooks(g: &Globals) -> Result<i32, UserError> {
    let lib = g.library()?;
    println!("runbooks: {}", lib.origin);
    println!("{:<5} {:<22} {:<28} TITLE", "PHASE", "PLATFORMS", "FILE");
    for l in &lib.runbooks {
        let platforms: Vec<String> = l.runbook.platforms.iter().map(|p| p.to_string()).collect();
        let file = l
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!(
            "{:<5} {:<22} {:<28} {}",
            l.runbook.phase,
            platforms.join(","),
            file,
            l.runbook.title
        );
    }
    Ok(0)
}
