//! Acceptance criteria: evaluated against a live cluster or a snapshot, each with evidence and a hint.

pub mod builtin;
pub mod probe;
pub mod resolve;

use crate::cluster::source::Source;
use crate::error::UserError;
use crate::fleet::ClusterSpec;
use crate::report::{CriterionResult, Evidence, Status};
use crate::runbook::path::{scalar_string, FieldPath};
use crate::runbook::{Criterion, Expect, ListRef, ObjectRef};
use serde_json::Value;
use std::collections::BTreeMap;

fn name_of(o: &Value) -> String {
    o.pointer("/metadata/name").map(scalar_string).unwrap_or_default()
}

/// The criterion's evidence fields as the object has them (typed; `null` when absent; secrets redacted).
fn record_evidence(evidence: &mut Evidence, c: &Criterion, obj: &Value, prefix: &str) {
    for p in &c.evidence {
        if let Ok(fp) = FieldPath::parse(p) {
            let v = match fp.get(obj) {
                Some(_) if crate::runbook::path::is_secret_field(obj, p) => Value::from("<redacted>"),
                Some(v) => v.clone(),
                None => Value::Null,
            };
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
    let mut r = evaluate_inner(c, src).await?;
    apply_events(c, src, &mut r).await?;
    Ok(r)
}

/// A criterion's verdict before it becomes a result: status, evidence, details, hint.
type Verdict = (Status, Evidence, Vec<String>, Option<String>);

async fn evaluate_inner(c: &Criterion, src: &Source<'_>) -> Result<CriterionResult, UserError> {
    let (status, evidence, details, hint) = if let Some(r) = &c.object {
        object(c, r, src).await?
    } else if let Some(r) = &c.absent {
        absent(c, r, src).await?
    } else if let Some(l) = &c.list {
        list(c, l, src).await?
    } else if let Some(p) = &c.probe {
        if src.is_live() {
            let (status, ev, det) = probe::run(p, src).await?;
            (status, ev, det, c.hint.clone())
        } else {
            let why = vec!["a live probe; not evaluated against a snapshot".to_string()];
            (Status::Skipped, BTreeMap::new(), why, None)
        }
    } else if let Some(b) = &c.builtin {
        let (status, ev, det) = builtin::run(&b.name, &b.args, c.repo.as_deref())?;
        (status, ev, det, c.hint.clone())
    } else if let Some(g) = &c.generated_apps {
        let repo = c.repo.clone().unwrap_or_else(|| std::path::PathBuf::from("."));
        let (status, ev, det) = crate::migrate::live::apps_unchanged(&repo, &g.cluster, &g.namespace, src).await?;
        (status, ev, det, c.hint.clone())
    } else {
        return Err(UserError::usage(format!("criterion '{}' has nothing to check", c.id)));
    };
    Ok(CriterionResult {
        id: c.id.clone(),
        title: c.title.clone(),
        status,
        evidence,
        details,
        hint: if status == Status::Pass { None } else { hint },
    })
}

/// One object must exist and meet `expect`; a `failWhen` match fails it.
async fn object(c: &Criterion, r: &ObjectRef, src: &Source<'_>) -> Result<Verdict, UserError> {
    let mut evidence = BTreeMap::new();
    let mut details = Vec::new();
    let Some(obj) = src.get_ref(r).await? else {
        details.push(format!("{} not found", r.display()));
        return Ok((Status::Pending, evidence, details, c.hint.clone()));
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
    Ok((status, evidence, details, pick_hint(c, &[&obj])))
}

/// One object must not exist.
async fn absent(c: &Criterion, r: &ObjectRef, src: &Source<'_>) -> Result<Verdict, UserError> {
    let mut evidence = BTreeMap::new();
    Ok(match src.get_ref(r).await? {
        Some(obj) => {
            record_evidence(&mut evidence, c, &obj, "");
            evidence.insert("present".into(), r.display().into());
            let details = vec![format!("{} exists but must not", r.display())];
            (Status::Fail, evidence, details, pick_hint(c, &[&obj]))
        }
        None => {
            evidence.insert("present".into(), Value::Null);
            (Status::Pass, evidence, vec![format!("{} is absent", r.display())], None)
        }
    })
}

/// A list, filtered by `where`; `count`, `names` and `expect` are checked on what remains.
async fn list(c: &Criterion, l: &ListRef, src: &Source<'_>) -> Result<Verdict, UserError> {
    let mut evidence = BTreeMap::new();
    let mut details = Vec::new();
    let items = src.list(l).await?;
    let kept: Vec<&Value> = items.iter().filter(|o| all_hold(&c.filter, o)).collect();
    let mut names: Vec<String> = kept.iter().map(|o| name_of(o)).collect();
    names.sort();
    evidence.insert("matched".into(), Value::from(names.clone()));
    for o in &kept {
        record_evidence(&mut evidence, c, o, &format!("{}.", name_of(o)));
    }
    let mut ok = true;
    let mut claim = |holds: bool, text: String| {
        ok &= holds;
        details.push(format!("{} {text}", if holds { "ok:" } else { "failed:" }));
    };
    if let Some(n) = c.count {
        claim(kept.len() == n, format!("count == {n} (observed: {})", kept.len()));
    }
    if let Some(want) = &c.names {
        let mut want = want.clone();
        want.sort();
        claim(
            want == names,
            format!("names == [{}] (observed: [{}])", want.join(", "), names.join(", ")),
        );
    }
    for o in &kept {
        for e in &c.expect {
            let out = e.eval(o);
            claim(out.holds, format!("{}: {}", name_of(o), out.account));
        }
    }
    let status = if ok {
        Status::Pass
    } else if kept.is_empty() && items.is_empty() {
        Status::Pending
    } else {
        Status::Fail
    };
    Ok((
        status,
        evidence,
        details,
        pick_hint(c, &items.iter().collect::<Vec<_>>()),
    ))
}

/// The `{{ cluster.KEY }}` placeholders a criterion may use (from clusters/NAME/cluster.yaml).
pub fn cluster_vars(spec: &ClusterSpec) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    vars.insert("cluster.name".into(), spec.name.clone());
    vars.insert("cluster.platform".into(), spec.platform.to_string());
    vars.insert("cluster.appsDomain".into(), spec.apps_domain.clone());
    vars.insert("cluster.storageClass".into(), spec.storage_class.clone());
    vars.insert("cluster.argocdNamespace".into(), spec.argocd.namespace.clone());
    vars.insert("cluster.kubeContext".into(), spec.kube_context.clone());
    vars.insert("cluster.gateway.name".into(), spec.gateway.name.clone());
    vars.insert("cluster.gateway.namespace".into(), spec.gateway.namespace.clone());
    vars
}

/// Replace `{{ KEY }}` in every string of `v`; an unknown key is an error naming it.
pub fn fill(v: &mut Value, vars: &BTreeMap<String, String>) -> Result<(), String> {
    match v {
        Value::String(s) if s.contains("{{") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("{{") {
                out.push_str(&rest[..i]);
                let after = &rest[i + 2..];
                let j = after.find("}}").ok_or_else(|| format!("unclosed '{{{{' in '{s}'"))?;
                let key = after[..j].trim();
                out.push_str(
                    vars.get(key)
                        .ok_or_else(|| format!("unknown placeholder '{{{{ {key} }}}}'"))?,
                );
                rest = &after[j + 2..];
            }
            out.push_str(rest);
            *s = out;
            Ok(())
        }
        Value::Array(a) => a.iter_mut().try_for_each(|x| fill(x, vars)),
        Value::Object(m) => m.values_mut().try_for_each(|x| fill(x, vars)),
        _ => Ok(()),
    }
}

/// Evaluate criteria for one cluster: a criterion limited to other platforms is `skipped`, and
/// `{{ cluster.KEY }}` placeholders are filled from its cluster.yaml.
pub async fn evaluate_for(
    cs: &[&Criterion],
    src: &Source<'_>,
    spec: &ClusterSpec,
) -> Result<Vec<CriterionResult>, UserError> {
    let vars = cluster_vars(spec);
    let mut out = Vec::new();
    for c in cs {
        if !c.platforms.is_empty() && !c.platforms.contains(&spec.platform) {
            let only: Vec<String> = c.platforms.iter().map(|p| p.to_string()).collect();
            out.push(CriterionResult {
                id: c.id.clone(),
                title: c.title.clone(),
                status: Status::Skipped,
                evidence: Evidence::new(),
                details: vec![format!(
                    "not applicable on {}: applies only on {}",
                    spec.platform,
                    only.join(", ")
                )],
                hint: None,
            });
            continue;
        }
        let mut v = serde_json::to_value(c).expect("criterion serialises");
        fill(&mut v, &vars).map_err(|m| UserError::usage(format!("criterion '{}': {m}", c.id)))?;
        let mut filled: Criterion = serde_json::from_value(v).expect("filled criterion deserialises");
        filled.repo = c.repo.clone(); // not serialised: carry it over

        out.push(evaluate(&filled, src).await?);
    }
    Ok(out)
}

/// Events that make a criterion that is not passing fail (see `Criterion::fail_on_event`).
async fn apply_events(c: &Criterion, src: &Source<'_>, r: &mut CriterionResult) -> Result<(), UserError> {
    if r.status == Status::Pass || r.status == Status::Skipped {
        return Ok(());
    }
    for m in &c.fail_on_event {
        let events = src
            .list(&crate::runbook::ListRef {
                api_version: "v1".into(),
                kind: "Event".into(),
                namespace: Some(m.namespace.clone()),
                label_selector: None,
            })
            .await?;
        let hit = events.iter().find(|e| {
            let inv = &e["involvedObject"];
            let name = inv["name"].as_str().unwrap_or_default();
            inv["kind"].as_str() == Some(m.kind.as_str())
                && m.name.as_deref().is_none_or(|n| n == name)
                && m.name_prefix.as_deref().is_none_or(|p| name.starts_with(p))
                && e["reason"].as_str() == Some(m.reason.as_str())
                && m.contains
                    .as_deref()
                    .is_none_or(|t| e["message"].as_str().unwrap_or_default().contains(t))
        });
        if let Some(e) = hit {
            let msg = e["message"].as_str().unwrap_or_default();
            let who = format!(
                "{}/{}",
                m.kind,
                e["involvedObject"]["name"].as_str().unwrap_or_default()
            );
            r.status = Status::Fail;
            r.details.push(format!("failed: event {} on {who}: {msg}", m.reason));
            r.evidence
                .insert("event".into(), format!("{} {who}: {msg}", m.reason).into());
            r.hint = Some(m.say.clone());
            return Ok(());
        }
    }
    Ok(())
}

/// Evaluate several criteria in order.
pub async fn evaluate_all(cs: &[&Criterion], src: &Source<'_>) -> Result<Vec<CriterionResult>, UserError> {
    let mut out = Vec::new();
    for c in cs {
        out.push(evaluate(c, src).await?);
    }
    Ok(out)
}
