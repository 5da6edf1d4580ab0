//! `p4.apps-unchanged`: the Applications Argo CD generated on the cluster are exactly the ones the
//! repo's ApplicationSets generate (same names, projects, destinations, source paths). After the
//! migration is merged, a difference means Argo CD would create or prune Applications: churn.
//!
//! Between the commit and the merge the cluster still runs the old layout: a live source path that
//! the recorded move plan maps to the expected one counts as the same Application (adopted on merge).

use crate::cluster::source::Source;
use crate::error::UserError;
use crate::report::Status;
use crate::runbook::ListRef;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn s<'a>(o: &'a Value, p: &str) -> &'a str {
    o.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn owned_by_appset(o: &Value) -> bool {
    o.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| s(r, "/kind") == "ApplicationSet"))
}

/// Evaluate against a live cluster or a snapshot: (status, evidence, details).
pub async fn apps_unchanged(
    repo: &Path,
    cluster: &str,
    namespace: &str,
    src: &Source<'_>,
) -> Result<(Status, crate::report::Evidence, Vec<String>), UserError> {
    let expected = super::gate::generate_for(repo, cluster)?;
    let plan = super::recorded_plan(repo).unwrap_or_default();
    let mut awaiting_merge = 0;
    let live = src
        .list(&ListRef {
            api_version: "argoproj.io/v1alpha1".into(),
            kind: "Application".into(),
            namespace: Some(namespace.into()),
            label_selector: None,
        })
        .await?;
    let live: Vec<&Value> = live.iter().filter(|o| owned_by_appset(o)).collect();
    let by_name: BTreeMap<&str, &Value> = live.iter().map(|o| (s(o, "/metadata/name"), *o)).collect();
    let mut details = Vec::new();
    let (mut matched, mut missing, mut differ) = (0, 0, 0);
    for e in &expected {
        let Some(o) = by_name.get(e.name.as_str()) else {
            missing += 1;
            details.push(format!("missing: {} (not generated on the cluster yet)", e.name));
            continue;
        };
        let mut diffs = Vec::new();
        let mut cmp = |what: &str, want: &str, got: &str| {
            if want != got {
                diffs.push(format!("{what} {got} (repo: {want})"));
            }
        };
        cmp("project", &e.project, s(o, "/spec/project"));
        cmp(
            "destination.server",
            e.destination.server.as_deref().unwrap_or(""),
            s(o, "/spec/destination/server"),
        );
        cmp(
            "destination.namespace",
            e.destination.namespace.as_deref().unwrap_or(""),
            s(o, "/spec/destination/namespace"),
        );
        let live_path = s(o, "/spec/source/path");
        if live_path != e.source.path && plan.map(live_path) == e.source.path {
            awaiting_merge += 1;
        } else {
            cmp("source.path", &e.source.path, live_path);
        }
        cmp("source.repoURL", &e.source.repo_url, s(o, "/spec/source/repoURL"));
        if diffs.is_empty() {
            matched += 1;
        } else {
            differ += 1;
            details.push(format!("differs: {}: {}", e.name, diffs.join(", ")));
        }
    }
    let extra: Vec<&str> = by_name
        .keys()
        .filter(|n| !expected.iter().any(|e| e.name == **n))
        .copied()
        .collect();
    for n in &extra {
        details.push(format!(
            "extra: {n} is on the cluster but the repo no longer generates it (Argo CD would prune it)"
        ));
    }
    let mut evidence = crate::report::Evidence::new();
    evidence.insert("expected".into(), expected.len().into());
    evidence.insert("live (ApplicationSet-owned)".into(), live.len().into());
    evidence.insert("matched".into(), matched.into());
    evidence.insert(
        "old path, moved in the repo (adopted on merge)".into(),
        awaiting_merge.into(),
    );
    let status = if differ > 0 || !extra.is_empty() {
        Status::Fail
    } else if missing > 0 {
        Status::Pending
    } else {
        Status::Pass
    };
    if status == Status::Pass && awaiting_merge > 0 {
        details.push(format!(
            "ok: {awaiting_merge} Applications still use their old source path, which the migration moved; after the merge Argo CD repoints them in place (same names)"
        ));
    }
    if status == Status::Pass {
        details.push(format!(
            "ok: all {matched} generated Applications match the repo in name, project, destination and source path"
        ));
    }
    // Long lists help nobody: keep the first 20 findings.
    if details.len() > 20 {
        let n = details.len() - 20;
        details.truncate(20);
        details.push(format!("... and {n} more"));
    }
    Ok((status, evidence, details))
}
