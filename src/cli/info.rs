//! `fleetctl status` and `fleetctl decisions`: read-only views of the journal and the runbooks.

use super::{Globals, ListFormat};
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::journal::{RunStatus, StateDir, StepStatus};
use crate::runbook;
use serde_json::json;

pub fn status(g: &Globals, cluster: Option<String>, output: ListFormat) -> Result<i32, UserError> {
    let clusters = match cluster {
        Some(c) => vec![c],
        None => ClusterSpec::list(&g.repo),
    };
    let books = g.library()?.runbooks.clone();
    let mut phases: Vec<u8> = books.iter().map(|l| l.runbook.phase).collect();
    phases.sort();
    phases.dedup();
    let mut rows = Vec::new();
    for c in &clusters {
        // A named cluster must exist (as for `phase`: exit 2 listing the known ones); its platform tells
        // which phases apply to it.
        let platform = ClusterSpec::load(&g.repo, c)?.platform;
        let j = StateDir::new(&g.state_root, c).load()?;
        for p in &phases {
            let mut for_platforms: Vec<String> = books
                .iter()
                .filter(|l| l.runbook.phase == *p)
                .flat_map(|l| l.runbook.platforms.iter().map(|x| x.to_string()))
                .collect();
            for_platforms.sort();
            for_platforms.dedup();
            let applies = for_platforms.iter().any(|x| *x == platform.to_string());
            let (state, detail, decisions) = match j.last_of_phase(*p) {
                None if !applies => (
                    format!("n/a ({} only)", for_platforms.join(", ")),
                    String::new(),
                    Default::default(),
                ),
                None => ("never run".to_string(), String::new(), Default::default()),
                Some(r) => {
                    let (s, d) = match r.status {
                        RunStatus::Done => ("done".to_string(), r.finished.clone().unwrap_or_default()),
                        // Ctrl-C / SIGTERM is journaled as a failure whose cause starts "interrupted".
                        RunStatus::Failed if r.failure.as_deref().is_some_and(|f| f.starts_with("interrupted")) => {
                            ("interrupted".to_string(), r.failure.clone().unwrap_or_default())
                        }
                        RunStatus::Failed => ("failed".to_string(), r.failure.clone().unwrap_or_default()),
                        RunStatus::Running => {
                            let at = r
                                .steps
                                .iter()
                                .rev()
                                .find(|s| s.status == StepStatus::Running)
                                .or(r.steps.last())
                                .map(|s| s.id.clone())
                                .unwrap_or_default();
                            ("in progress".to_string(), format!("at step {at}"))
                        }
                    };
                    (
                        if r.rehearsal { format!("{s} (rehearsal)") } else { s },
                        d,
                        r.decisions.clone(),
                    )
                }
            };
            rows.push((c.clone(), *p, state, detail, decisions));
        }
    }
    match output {
        ListFormat::Json => {
            let v: Vec<_> = rows
                .iter()
                .map(|(c, p, s, d, dec)| json!({"cluster": c, "phase": p, "state": s, "detail": d, "decisions": dec}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        ListFormat::Table => {
            println!("{:<12} {:<5} {:<22} DETAIL", "CLUSTER", "PHASE", "STATE");
            for (c, p, s, d, dec) in &rows {
                println!("{c:<12} {p:<5} {s:<22} {d}");
                for (k, v) in dec {
                    println!("{:<41} decision {k} = {v}", "");
                }
            }
        }
    }
    Ok(0)
}

pub fn decisions(g: &Globals, phase: Option<u8>, output: ListFormat) -> Result<i32, UserError> {
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
    match output {
        ListFormat::Json => {
            let v: Vec<_> = rows
                .iter()
                .map(|(p, d)| json!({"phase": p, "id": d.id, "question": d.question, "options": d.options, "recommended": d.recommended, "destructive": d.destructive, "input": d.input}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        ListFormat::Table => {
            println!(
                "{:<5} {:<24} {:<11} {:<16} QUESTION [OPTIONS]",
                "PHASE", "ID", "DESTRUCTIVE", "RECOMMENDED"
            );
            for (p, d) in &rows {
                let opts = if d.options.is_empty() {
                    "free text".into()
                } else {
                    d.options.join(" | ")
                };
                println!(
                    "{p:<5} {:<24} {:<11} {:<16} {} [{opts}]",
                    d.id,
                    if d.destructive { "yes" } else { "no" },
                    d.recommended.clone().unwrap_or("-".into()),
                    d.question
                );
            }
        }
    }
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
