//! Waits use watches (kube-runtime's watcher), never sleep loops: on the awaited object for a wait step,
//! on CustomResourceDefinitions for a kind that is not served yet. Each wait has a deadline; fail-fast
//! expectations end it at once with their cause.

use crate::cluster::{describe, split_api_version, Cluster};
use crate::error::UserError;
use crate::runbook::expect::status_summary;
use crate::runbook::{Expect, ObjectRef};
use crate::ui::Ui;
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::{watcher, WatchStreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// How a wait ended badly.
fn timed_out(what: &str, after: Duration, last: Option<&Value>) -> UserError {
    UserError::failed(format!(
        "timed out after {} waiting for {what}; last observed: {}",
        humantime::format_duration(after),
        last.map(status_summary)
            .unwrap_or_else(|| "the object does not exist".into())
    ))
    .subject(what.to_string())
}

/// Wait until `kind` in `api_version` is served (its CRD Established), then refresh discovery.
pub async fn wait_for_kind(
    cluster: &Cluster,
    api_version: &str,
    kind: &str,
    timeout: Duration,
) -> Result<(), UserError> {
    let (group, _) = split_api_version(api_version);
    let deadline = Instant::now() + timeout;
    let crds: Api<DynamicObject> = cluster
        .api_for("apiextensions.k8s.io/v1", "CustomResourceDefinition", None)
        .await?;
    let mut stream = watcher(crds, watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .boxed();
    loop {
        if cluster.resolve(api_version, kind).await?.is_some() {
            return Ok(());
        }
        let next = tokio::time::timeout_at(deadline, stream.next()).await;
        match next {
            Err(_) => {
                return Err(UserError::failed(format!(
                    "timed out after {} waiting for the cluster to serve {kind} ({api_version})",
                    humantime::format_duration(timeout)
                ))
                .subject(format!("CRD for {kind}.{group}"))
                .next("check that the operator providing this CRD is installed and healthy"))
            }
            Ok(None) => {
                return Err(UserError::failed("the CRD watch ended unexpectedly").subject(format!("{kind}.{group}")))
            }
            Ok(Some(Err(e))) => tracing::debug!("CRD watch error (retrying): {e}"),
            Ok(Some(Ok(crd))) => {
                let v = serde_json::to_value(&crd).unwrap_or(Value::Null);
                let g = v.pointer("/spec/group").and_then(Value::as_str);
                let k = v.pointer("/spec/names/kind").and_then(Value::as_str);
                let established = Expect {
                    condition: Some("Established".into()),
                    ..Default::default()
                }
                .eval(&v)
                .holds;
                if g == Some(group) && k == Some(kind) && established {
                    cluster.refresh_discovery().await?;
                }
            }
        }
    }
}

/// The outcome of a wait step.
pub enum Waited {
    /// The expectations already held at the first look.
    AlreadyTrue,
    Reached,
}

/// Wait until every `until` expectation holds on the object, failing at once when a `fail_fast` one holds.
pub async fn wait_for(
    cluster: &Cluster,
    r: &ObjectRef,
    until: &[Expect],
    fail_fast: &[Expect],
    timeout: Duration,
    ui: &Ui,
) -> Result<Waited, UserError> {
    let start = Instant::now();
    let deadline = start + timeout;
    let name = match cluster.ref_name(r).await? {
        Some(n) => n,
        None => {
            return Err(
                UserError::failed(format!("cannot tell which object to wait for: {}", r.display()))
                    .subject(r.display()),
            )
        }
    };
    let what = describe(&r.kind, r.namespace.as_deref(), &name);
    let judge = |obj: &Value| -> Result<bool, UserError> {
        if let Some(bad) = fail_fast.iter().map(|e| e.eval(obj)).find(|o| o.holds) {
            return Err(UserError::failed(format!(
                "{what} failed: {}; status: {}",
                bad.account,
                status_summary(obj)
            ))
            .subject(what.clone()));
        }
        Ok(until.iter().all(|e| e.eval(obj).holds))
    };
    if let Some(obj) = cluster
        .get(&r.api_version, &r.kind, r.namespace.as_deref(), &name)
        .await?
    {
        if judge(&obj)? {
            return Ok(Waited::AlreadyTrue);
        }
    }
    if cluster.resolve(&r.api_version, &r.kind).await?.is_none() {
        wait_for_kind(cluster, &r.api_version, &r.kind, timeout)
            .await
            .map_err(|e| timed_out(&what, timeout, None).next(e.cause))?;
    }
    let api = cluster.api_for(&r.api_version, &r.kind, r.namespace.as_deref()).await?;
    let cfg = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut stream = watcher(api, cfg).default_backoff().boxed();
    let mut progress = ui.progress(&format!("waiting for {what}"));
    let mut last: Option<Value> = None;
    let result = loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => break Err(timed_out(&what, timeout, last.as_ref())),
            Ok(None) => break Err(UserError::failed("the watch ended unexpectedly").subject(what.clone())),
            Ok(Some(Err(e))) => tracing::debug!("watch error on {what} (retrying): {e}"),
            Ok(Some(Ok(ev))) => {
                let obj = match ev {
                    watcher::Event::Apply(o) | watcher::Event::InitApply(o) => o,
                    watcher::Event::Delete(_) => {
                        last = None;
                        continue;
                    }
                    _ => continue,
                };
                let v = serde_json::to_value(&obj).unwrap_or(Value::Null);
                progress.update(&format!("{what}: {}", status_summary(&v)));
                match judge(&v) {
                    Err(e) => break Err(e),
                    Ok(true) => break Ok(Waited::Reached),
                    Ok(false) => last = Some(v),
                }
            }
        }
    };
    progress.finish();
    result
}
