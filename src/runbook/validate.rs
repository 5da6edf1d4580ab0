//! A runbook is checked whole when it is loaded: ids unique, references resolve, each step has one kind whose
//! arguments the step kind accepts, each criterion has one form. Every error names `file:line`.

use super::{path, Criterion, Decision, Loaded, Runbook, SeedSecretStep, Step};
use crate::error::UserError;
use serde_json::Value;
use std::collections::HashSet;

/// What loading asks of the code that runs runbooks: whether a step kind or criterion builtin exists and takes
/// these arguments, and which kinds can recommend a decision's answer. The step registry (`src/steps/`)
/// answers; the runbook model stays below the engine and knows no kind itself.
pub trait Vocabulary {
    fn check_step(&self, kind: &str, args: &Value) -> Result<(), String>;
    fn check_criterion(&self, name: &str, args: &Value) -> Result<(), String>;
    fn can_recommend(&self, name: &str) -> bool;
}

/// An invalid-runbook error at the line of `needle` (an id or a key).
fn err(l: &Loaded, needle: &str, msg: String) -> UserError {
    UserError::usage(format!("invalid runbook: {msg}"))
        .subject(l.locate(needle))
        .next("see docs/runbooks.md for the format")
}

pub(super) fn validate(l: &Loaded, vocab: &dyn Vocabulary) -> Result<(), UserError> {
    let rb = &l.runbook;
    if rb.platforms.is_empty() {
        return Err(err(
            l,
            "platforms",
            "`platforms` must name at least one platform".into(),
        ));
    }
    let decisions = decisions(l, vocab)?;
    let criteria = criteria(l, vocab)?;
    let mut step_ids = HashSet::new();
    for s in &rb.steps {
        if !step_ids.insert(s.id.clone()) {
            return Err(err(l, &s.id, format!("step id '{}' is used twice", s.id)));
        }
        step(l, s, &decisions, &criteria, vocab)?;
    }
    Ok(())
}

/// The decision ids, each checked.
fn decisions(l: &Loaded, vocab: &dyn Vocabulary) -> Result<HashSet<String>, UserError> {
    let mut seen = HashSet::new();
    for d in &l.runbook.decisions {
        if !seen.insert(d.id.clone()) {
            return Err(err(l, &d.id, format!("decision id '{}' is used twice", d.id)));
        }
        decision(d, vocab).map_err(|m| err(l, &d.id, m))?;
    }
    Ok(seen)
}

fn decision(d: &Decision, vocab: &dyn Vocabulary) -> Result<(), String> {
    if d.options.is_empty() && !d.input.is_input() {
        return Err(format!(
            "decision '{}' has no options (set `input: TYPE` for a free-text answer: {})",
            d.id,
            super::InputType::NAMES.join(", ")
        ));
    }
    if let Some(b) = &d.recommend_from {
        if !vocab.can_recommend(&b.name) {
            return Err(format!(
                "decision '{}': recommendFrom '{}' cannot recommend",
                d.id, b.name
            ));
        }
        vocab
            .check_step(&b.name, &b.args)
            .map_err(|m| format!("decision '{}': {m}", d.id))?;
    }
    if let Some(g) = d
        .governs
        .iter()
        .find(|g| g.is_empty() || g.starts_with('/') || g.contains(".."))
    {
        return Err(format!(
            "decision '{}' governs '{g}': name a directory relative to the repo root",
            d.id
        ));
    }
    if let Some(r) = &d.recommended {
        if !d.options.is_empty() && !d.options.contains(r) {
            return Err(format!(
                "decision '{}' recommends '{r}', which is not one of its options",
                d.id
            ));
        }
    }
    Ok(())
}

/// The criterion ids, each checked.
fn criteria(l: &Loaded, vocab: &dyn Vocabulary) -> Result<HashSet<String>, UserError> {
    let mut ids = HashSet::new();
    for c in &l.runbook.acceptance {
        if !ids.insert(c.id.clone()) {
            return Err(err(l, &c.id, format!("criterion id '{}' is used twice", c.id)));
        }
        criterion(c, vocab).map_err(|m| err(l, &c.id, m))?;
    }
    Ok(ids)
}

fn criterion(c: &Criterion, vocab: &dyn Vocabulary) -> Result<(), String> {
    let forms = [
        c.object.is_some(),
        c.absent.is_some(),
        c.list.is_some(),
        c.probe.is_some(),
        c.builtin.is_some(),
        c.generated_apps.is_some(),
    ];
    if forms.iter().filter(|b| **b).count() != 1 {
        return Err(format!(
            "criterion '{}' needs exactly one of object, absent, list, probe, builtin, generatedApps",
            c.id
        ));
    }
    if let Some(b) = &c.builtin {
        vocab.check_criterion(&b.name, &b.args)?;
    }
    let expects = c
        .expect
        .iter()
        .chain(&c.fail_when)
        .chain(&c.filter)
        .chain(c.hints.iter().flat_map(|h| &h.when));
    for e in expects {
        e.validate().map_err(|m| format!("criterion '{}': {m}", c.id))?;
    }
    for p in &c.evidence {
        path::FieldPath::parse(p).map_err(|m| format!("criterion '{}': {m}", c.id))?;
    }
    if c.fail_on_event
        .iter()
        .any(|e| e.name.is_some() && e.name_prefix.is_some())
    {
        return Err(format!(
            "criterion '{}': failOnEvent takes name or namePrefix, not both",
            c.id
        ));
    }
    Ok(())
}

fn step(
    l: &Loaded,
    s: &Step,
    decisions: &HashSet<String>,
    criteria: &HashSet<String>,
    vocab: &dyn Vocabulary,
) -> Result<(), UserError> {
    let e = |m: String| err(l, &s.id, m);
    if s.kind_count() != 1 {
        return Err(e(format!(
            "step '{}' needs exactly one kind (apply, wait, decide, seedSecret, command, check, builtin)",
            s.id
        )));
    }
    if let Some(w) = &s.when {
        if !decisions.contains(&w.decision) {
            return Err(e(format!(
                "step '{}' depends on unknown decision '{}'",
                s.id, w.decision
            )));
        }
    }
    if let Some(d) = &s.decide {
        if !decisions.contains(d) {
            return Err(e(format!("step '{}' decides unknown decision '{d}'", s.id)));
        }
    }
    if let Some(ids) = &s.check {
        if let Some(id) = ids.iter().find(|id| !criteria.contains(*id)) {
            return Err(e(format!("step '{}' checks unknown criterion '{id}'", s.id)));
        }
    }
    if let Some(sec) = &s.seed_secret {
        replace_decision(&l.runbook, sec).map_err(|m| e(format!("step '{}': {m}", s.id)))?;
    }
    let (kind, args) = s.kind();
    vocab
        .check_step(kind, &args)
        .map_err(|m| e(format!("step '{}': {m}", s.id)))
}

/// A seedSecret's `replaceDecision` must be a destructive decision of this runbook with the option `yes`.
fn replace_decision(rb: &Runbook, sec: &SeedSecretStep) -> Result<(), String> {
    let Some(d) = &sec.replace_decision else {
        return Ok(());
    };
    match rb.decisions.iter().find(|x| &x.id == d) {
        None => Err(format!("replaceDecision names unknown decision '{d}'")),
        Some(x) if !x.destructive || !x.options.iter().any(|o| o == "yes") => Err(format!(
            "replaceDecision '{d}' must be a destructive decision with the option \"yes\""
        )),
        Some(_) => Ok(()),
    }
}
