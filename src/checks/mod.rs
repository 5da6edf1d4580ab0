//! Acceptance criteria: evaluated against a live cluster or a snapshot, each with evidence and a hint.

pub mod builtin;
pub mod probe;
pub mod source;

use crate::error::UserError;
use crate::report::{CriterionResult, Status};
use crate::runbook::path::{scalar_string, FieldPath};
use crate::runbook::{Criterion, Expect};
use serde_json::Value;
use source::Source;
use std::collections::BTreeMap;

fn name_of(o: &Value) -> String {
    o.pointer("/metadata/name").map(scalar_string).unwrap_or_default()
}

fn record_evidence(evidence: &mut BTreeMap<String, String>, c: &Criterion, obj: &Value, prefix: &str) {
    for p in &c.evidence {
        if let Ok(fp) = FieldPath::parse(p) {
            let v = fp
                .get(obj)
                .map(|v| crate::runbook::path::shown_value(obj, p, v))
                .unwrap_or_else(|| "<absent>".into());
            evidence.insert(format!("{prefix}{p}"), v);
        }
    }
}

fn all_hold(expects: &[Expect], obj: &Value) -> bool {
    expects.iter().all(|e| e.eval(obj).holds)
}

fn pick_hint(c: &Criterion, objs: &[&Value]) -> Option<String> {
    for h in &c.hints {
        if objs.iter().any(|o| all_hold(&h.when, o)) {
            return Some(h.say.clone());
        }
    }
    c.hint.clone()
}

/// Evaluate one criterion.
pub async fn evaluate(c: &Criterion, src: &Source<'_>) -> Result<CriterionResult, UserError> {
    let mut evidence = BTreeMap::new();
    let mut details = Vec::new();
    let result = |status: Status, evidence: BTreeMap<String, String>, details: Vec<String>, hint: Option<String>| {
        CriterionResult {
            id: c.id.clone(),
            title: c.title.clone(),
            status,
            evidence,
            details,
            hint: if status == Status::Pass { None } else { hint },
        }
    };
    if let Some(r) = &c.object {
        let Some(obj) = src.get_ref(r).await? else {
            details.push(format!("{} not found", r.display()));
            return Ok(result(Status::Pending, evidence, details, c.hint.clone()));
        };
        record_evidence(&mut evidence, c, &obj, "");
        let mut ok = true;
        for e in &c.expect {
            let o = e.eval(&obj);
            ok &= o.holds;
            details.push(format!("{} {}", if o.holds { "ok:" } else { "not yet:" }, o.account));
        }
        let failed = c.fail_when.iter().map(|e| e.eval(&obj)).find(|o| o.holds);
        let status = match (&failed, ok) {
            (Some(f), _) => {
                details.push(format!("failed: {}", f.account));
                Status::Fail
            }
            (None, true) => Status::Pass,
            (None, false) => Status::Pending,
        };
        return Ok(result(status, evidence, details, pick_hint(c, &[&obj])));
    }
    if let Some(r) = &c.absent {
        return Ok(match src.get_ref(r).await? {
            Some(obj) => {
                record_evidence(&mut evidence, c, &obj, "");
                evidence.insert("present".into(), r.display());
                details.push(format!("{} exists but must not", r.display()));
                result(Status::Fail, evidence, details, pick_hint(c, &[&obj]))
            }
            None => {
                evidence.insert("present".into(), "none".into());
                details.push(format!("{} is absent", r.display()));
                result(Status::Pass, evidence, details, None)
            }
        });
    }
    if let Some(l) = &c.list {
        let items = src.list(l).await?;
        let kept: Vec<&Value> = items.iter().filter(|o| all_hold(&c.filter, o)).collect();
        let mut names: Vec<String> = kept.iter().map(|o| name_of(o)).collect();
        names.sort();
        evidence.insert(
            "matched".into(),
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
        );
        for o in &kept {
            record_evidence(&mut evidence, c, o, &format!("{}.", name_of(o)));
        }
        let mut ok = true;
        if let Some(n) = c.count {
            let holds = kept.len() == n;
            ok &= holds;
            details.push(format!(
                "{} count == {n} (observed: {})",
                if holds { "ok:" } else { "failed:" },
                kept.len()
            ));
        }
        if let Some(want) = &c.names {
            let mut want = want.clone();
            want.sort();
            let holds = want == names;
            ok &= holds;
            details.push(format!(
                "{} names == [{}] (observed: [{}])",
                if holds { "ok:" } else { "failed:" },
                want.join(", "),
                names.join(", ")
            ));
        }
        for o in &kept {
            for e in &c.expect {
                let out = e.eval(o);
                ok &= out.holds;
                details.push(format!(
                    "{} {}: {}",
                    if out.holds { "ok:" } else { "failed:" },
                    name_of(o),
                    out.account
                ));
            }
        }
        let status = if ok {
            Status::Pass
        } else if kept.is_empty() && items.is_empty() {
            Status::Pending
        } else {
            Status::Fail
        };
        return Ok(result(
            status,
            evidence,
            details,
            pick_hint(c, &items.iter().collect::<Vec<_>>()),
        ));
    }
    if let Some(p) = &c.probe {
        if !src.is_live() {
            details.push("a live probe; not evaluated against a snapshot".into());
            return Ok(result(Status::Skipped, evidence, details, None));
        }
        let (status, ev, det) = probe::run(p, src).await?;
        return Ok(result(status, ev, det, c.hint.clone()));
    }
    if let Some(b) = &c.builtin {
        let (status, ev, det) = builtin::run(&b.name, &b.args, c.repo.as_deref())?;
        return Ok(result(status, ev, det, c.hint.clone()));
    }
    if let Some(g) = &c.generated_apps {
        let repo = c.repo.clone().unwrap_or_else(|| std::path::PathBuf::from("."));
        let (status, ev, det) = crate::migrate::live::apps_unchanged(&repo, &g.cluster, &g.namespace, src).await?;
        return Ok(result(status, ev, det, c.hint.clone()));
    }
    Err(UserError::usage(format!("criterion '{}' has nothing to check", c.id)))
}

/// Evaluate several criteria in order.
pub async fn evaluate_all(cs: &[&Criterion], src: &Source<'_>) -> Result<Vec<CriterionResult>, UserError> {
    let mut out = Vec::new();
    for c in cs {
        out.push(evaluate(c, src).await?);
    }
    Ok(out)
}
