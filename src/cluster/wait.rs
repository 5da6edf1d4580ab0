//! Waits use watches (kube-runtime's watcher), never sleep loops: on the awaited object for a wait step,
//! on CustomResourceDefinitions for a kind that is not served yet. Each wait has a deadline; fail-fast
//! expectations end it at once with their cause. A wait is never silent: an object that does not exist yet
//! is said so (with what should create it, and the wait fails at once when that does not exist either), a
//! heartbeat line comes every 30 s, and an API server that stops answering is reported within 10 s and
//! ends the wait after the cluster's `api_grace`.

use crate::cluster::{describe, split_api_version, Cause, Cluster};
use crate::error::UserError;
use crate::runbook::expect::status_summary;
use crate::runbook::{Expect, ObjectRef};
use crate::ui::Ui;
use futures::{Stream, StreamExt};
use kube::api::{Api, DynamicObject};
use kube::runtime::{watcher, WatchStreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// A watch quiet for this long makes the wait ask the API server whether it is still there.
const QUIET: Duration = Duration::from_secs(5);
/// How long that question may take.
const PROBE: Duration = Duration::from_secs(3);
/// How often a long wait says it is still waiting.
const HEARTBEAT: Duration = Duration::from_secs(30);

fn dur(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

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

/// Keeps a wait honest about the API server: asks it whether it is there when the watch is quiet or
/// failing, says at once when it is lost and when it is back, and ends the wait once it has been lost
/// for longer than the grace.
struct Watchdog<'a> {
    cluster: &'a Cluster,
    ui: &'a Ui,
    what: String,
    lost: Option<(Instant, Cause)>,
    last_probe: Option<Instant>,
}

impl<'a> Watchdog<'a> {
    fn new(cluster: &'a Cluster, ui: &'a Ui, what: &str) -> Self {
        Watchdog {
            cluster,
            ui,
            what: what.to_string(),
            lost: None,
            last_probe: None,
        }
    }

    /// Ask the API server. `Ok(true)` when it answers again after being lost (the watch should start over).
    async fn probe(&mut self) -> Result<bool, UserError> {
        self.last_probe = Some(Instant::now());
        let server = &self.cluster.server;
        let grace = self.cluster.api_grace;
        match (self.cluster.lost(PROBE).await, &self.lost) {
            (None, None) => Ok(false),
            (None, Some((since, _))) => {
                self.ui.ok(&format!(
                    "the API server at {server} answers again (after {}); still waiting for {}",
                    dur(since.elapsed()),
                    self.what
                ));
                self.lost = None;
                Ok(true)
            }
            (Some(cause), None) => {
                self.ui.warn(&format!(
                    "lost the API server at {server}: {cause}; retrying (up to {} while waiting for {})",
                    dur(grace),
                    self.what
                ));
                self.lost = Some((Instant::now(), cause));
                Ok(false)
            }
            (Some(cause), Some((since, _))) if since.elapsed() >= grace => Err(UserError::failed(format!(
                "lost the API server at {server}: {cause}; it did not answer for {} while waiting for {}",
                dur(since.elapsed()),
                self.what
            ))
            .subject(self.what.clone())
            .next(format!(
                "check the API server (kubectl get --raw /readyz; the network/VPN); when it answers, `fleetctl resume` \
                 continues from this step (--api-grace sets how long a wait rides out a lost API server, now {})",
                dur(grace)
            ))),
            (Some(_), Some(_)) => Ok(false),
        }
    }

    /// After a watch error: ask, unless asked within the last second.
    async fn after_error(&mut self) -> Result<bool, UserError> {
        if self.last_probe.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return Ok(false);
        }
        self.probe().await
    }
}

/// What came of waiting for the next watch event.
enum Next<T> {
    Item(T),
    /// Nothing for a while (the API server answers); a chance for a heartbeat.
    Quiet,
    /// The API server was lost and is back: start the watch over.
    Restart,
    Deadline,
    Ended,
}

/// The next event of `stream` before `deadline`, keeping an eye on the API server meanwhile.
async fn next_event<S, T, E>(stream: &mut S, deadline: Instant, dog: &mut Watchdog<'_>) -> Result<Next<T>, UserError>
where
    S: Stream<Item = Result<T, E>> + Unpin,
    E: std::fmt::Display,
{
    let until = deadline.min(Instant::now() + QUIET);
    match tokio::time::timeout_at(until, stream.next()).await {
        Err(_) if Instant::now() >= deadline => Ok(Next::Deadline),
        Err(_) => Ok(if dog.probe().await? { Next::Restart } else { Next::Quiet }),
        Ok(None) => Ok(Next::Ended),
        Ok(Some(Err(e))) => {
            tracing::debug!("watch error on {} (retrying): {e}", dog.what);
            Ok(if dog.after_error().await? {
                Next::Restart
            } else {
                Next::Quiet
            })
        }
        Ok(Some(Ok(item))) => {
            if dog.lost.is_some() {
                dog.probe().await?;
            }
            Ok(Next::Item(item))
        }
    }
}

fn crd_watch(crds: &Api<DynamicObject>) -> futures::stream::BoxStream<'static, Result<DynamicObject, watcher::Error>> {
    watcher(crds.clone(), watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .boxed()
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
    // Callers of this wait have no Ui of their own: warnings go to stderr as every Ui's do.
    let ui = Ui::new(crate::ui::Verbosity::Normal, false);
    let mut dog = Watchdog::new(cluster, &ui, &format!("the cluster to serve {kind} ({api_version})"));
    let mut stream = crd_watch(&crds);
    loop {
        if cluster.resolve(api_version, kind).await?.is_some() {
            return Ok(());
        }
        match next_event(&mut stream, deadline, &mut dog).await? {
            Next::Deadline => {
                return Err(UserError::failed(format!(
                    "timed out after {} waiting for the cluster to serve {kind} ({api_version})",
                    humantime::format_duration(timeout)
                ))
                .subject(format!("CRD for {kind}.{group}"))
                .next("check that the operator providing this CRD is installed and healthy"))
            }
            Next::Ended => {
                return Err(UserError::failed("the CRD watch ended unexpectedly").subject(format!("{kind}.{group}")))
            }
            Next::Restart => stream = crd_watch(&crds),
            Next::Quiet => {}
            Next::Item(crd) => {
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

/// The conditions that end a wait as a failure: any one of `on`, once it has held for `after` (zero: at once).
#[derive(Clone, Copy)]
pub struct FailFast<'a> {
    pub on: &'a [Expect],
    pub after: Duration,
}

impl<'a> FailFast<'a> {
    pub fn at_once(on: &'a [Expect]) -> Self {
        FailFast {
            on,
            after: Duration::ZERO,
        }
    }
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
    wait_for_created(cluster, r, until, FailFast::at_once(fail_fast), &[], timeout, ui).await
}

/// Judges each state of the awaited object: done, not yet, or failed (a failFast condition that has held
/// for `fail_fast.after`).
struct Judge<'a> {
    what: &'a str,
    until: &'a [Expect],
    fail_fast: FailFast<'a>,
    /// A failFast condition that holds, since when, and the failure it will be.
    bad_since: Option<(Instant, UserError)>,
}

impl Judge<'_> {
    fn judge(&mut self, obj: &Value) -> Result<bool, UserError> {
        let (what, after) = (self.what, self.fail_fast.after);
        match self.fail_fast.on.iter().map(|e| e.eval(obj)).find(|o| o.holds) {
            Some(bad) => {
                let held = if after.is_zero() {
                    String::new()
                } else {
                    format!(" for {}", dur(after))
                };
                let msg = format!("{what} failed: {}{held}; status: {}", bad.account, status_summary(obj));
                let since = self.bad_since.as_ref().map_or_else(Instant::now, |b| b.0);
                self.bad_since = Some((since, UserError::failed(msg).subject(what.to_string())));
            }
            None => self.bad_since = None,
        }
        match &self.bad_since {
            Some((since, e)) if since.elapsed() >= after => Err(e.clone()),
            Some(_) => Ok(false),
            None => Ok(self.until.iter().all(|e| e.eval(obj).holds)),
        }
    }
}

/// "; ApplicationSet argocd/x creates it (status: ...)", or an error when `creators` are named and none
/// exists: then the object will not appear by waiting.
async fn creator_note(cluster: &Cluster, what: &str, creators: &[ObjectRef]) -> Result<String, UserError> {
    if creators.is_empty() {
        return Ok(String::new());
    }
    for c in creators {
        if let Some(obj) = cluster.get_ref(c).await? {
            return Ok(format!("; {} creates it ({})", c.display(), status_summary(&obj)));
        }
    }
    let names: Vec<String> = creators.iter().map(ObjectRef::display).collect();
    Err(UserError::failed(format!(
        "{what} is not created yet, and {} that would create it {} not exist either, so waiting cannot help",
        names.join(" or "),
        if names.len() == 1 { "does" } else { "do" }
    ))
    .subject(what.to_string()))
}

/// [`wait_for`], naming what creates the object (`createdBy` in a runbook): while the object does not
/// exist the wait says it is not created yet and by what, and fails at once when none of `creators` exists.
pub async fn wait_for_created(
    cluster: &Cluster,
    r: &ObjectRef,
    until: &[Expect],
    fail_fast: FailFast<'_>,
    creators: &[ObjectRef],
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
    let mut verdict = Judge {
        what: &what,
        until,
        fail_fast,
        bad_since: None,
    };
    let mut judge = |obj: &Value| verdict.judge(obj);
    let mut progress = ui.progress(&format!("waiting for {what}"));
    let first = cluster
        .get(&r.api_version, &r.kind, r.namespace.as_deref(), &name)
        .await?;
    let mut absent = String::new();
    match &first {
        Some(obj) if judge(obj)? => {
            progress.finish();
            return Ok(Waited::AlreadyTrue);
        }
        Some(_) => {}
        None => {
            absent = format!(
                "{what}: not created yet{}",
                creator_note(cluster, &what, creators).await?
            );
            progress.update(&absent);
        }
    }
    if cluster.resolve(&r.api_version, &r.kind).await?.is_none() {
        wait_for_kind(cluster, &r.api_version, &r.kind, timeout)
            .await
            .map_err(|e| timed_out(&what, timeout, None).next(e.cause))?;
    }
    let api = cluster.api_for(&r.api_version, &r.kind, r.namespace.as_deref()).await?;
    let cfg = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let watch = || watcher(api.clone(), cfg.clone()).default_backoff().boxed();
    let mut stream = watch();
    let mut dog = Watchdog::new(cluster, ui, &what);
    let mut last: Option<Value> = None;
    let mut beat = start + HEARTBEAT;
    let result = loop {
        let ev = match next_event(&mut stream, deadline, &mut dog).await {
            Err(e) => break Err(e),
            Ok(Next::Deadline) => break Err(timed_out(&what, timeout, last.as_ref())),
            Ok(Next::Ended) => break Err(UserError::failed("the watch ended unexpectedly").subject(what.clone())),
            Ok(Next::Restart) => {
                stream = watch();
                continue;
            }
            Ok(Next::Quiet) => {
                if let Some(v) = last.as_ref() {
                    // A failFast condition that has held long enough fails the wait without a new event.
                    if let Err(e) = judge(v) {
                        break Err(e);
                    }
                }
                if dog.lost.is_none() && Instant::now() >= beat {
                    beat = Instant::now() + HEARTBEAT;
                    let now = match &last {
                        Some(v) => format!("{what}: {}", status_summary(v)),
                        None => absent.clone(),
                    };
                    progress.heartbeat(&format!("{now} (waited {} of {})", dur(start.elapsed()), dur(timeout)));
                }
                continue;
            }
            Ok(Next::Item(ev)) => ev,
        };
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
    };
    progress.finish();
    result
}
