//! The simulated Argo CD application controller. Without a fleet repo an Application just reports
//! Synced/Healthy after 1 s (nothing is deployed). With one (`--fleet`), Applications are synced from the local
//! working tree the way Argo CD's controller does it (docs/sim.md, "The simulated Argo CD"):
//!
//! - the desired state is `spec.source.path` rendered with the real kustomize; its revision is a hash of that
//!   render (SIMULATED: no Git, so a commit that changes what the path renders is a new revision);
//! - auto-sync (`syncPolicy.automated`) starts a sync operation when the app is OutOfSync; a sync applies the
//!   objects wave by wave (`argocd.argoproj.io/sync-wave`), waits for each wave's health before the next, and
//!   fails when an object cannot be applied (its kind is not served, a webhook denies it) or a waited-on object
//!   is Degraded (`common::health`);
//! - a failed attempt is retried with the Application's `retry` (default limit 5, backoff 5 s x 2 up to 3 m:
//!   `duration * factor^n`, capped); once the retries are spent the operation is Failed and auto-sync skips that
//!   revision ("Failed sync attempt to R", condition SyncError) even with selfHeal, until the revision changes
//!   or someone sets `operation` (a manual sync, e.g. `argocd app sync` or fleetctl's resync step);
//! - the `argocd.argoproj.io/refresh` annotation is consumed (a refresh alone does not retry a failed revision);
//! - every Application is compared with Git again every 180 s (`timeout.reconciliation`, scaled), so a commit
//!   (a changed working tree) is picked up without an event.
//!
//! Objects are written straight into the store (as Argo CD's apply would, minus pruning and hooks), after the
//! simulated operators' webhooks (`World::admit`). A Helm chart source is simulated for the `kopiur` chart only.

use super::common::health::{assess, Health};
use super::common::status::{reconcile, stalled};
use super::common::{key, set_once};
use super::{Controller, Ctx};
use crate::sim::catalog::{crd, APP_HEALTH_KEY, KOPIUR_CRDS};
use crate::sim::store::admit::Admit;
use crate::sim::store::kinds::{builtins, ResourceInfo};
use crate::sim::store::StoreError;
use crate::sim::store::{meta_str, now, EventType};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

const APPS: &str = "applications.argoproj.io";
const REFRESH: &str = "argocd.argoproj.io/refresh";

pub const CONTROLLER: Controller = Controller {
    watches: &[APPS],
    deletes: false,
    on_event,
};

fn resolve(ctx: &Ctx, api_version: &str, kind: &str) -> Option<ResourceInfo> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    builtins()
        .into_iter()
        .chain(ctx.world.store.crd_resources())
        .find(|r| r.group == group && r.kind == kind && r.versions.iter().any(|v| v == version))
}

fn on_event(ctx: &Arc<Ctx>, gr: &str, _: EventType, obj: &Value) {
    let Some(repo) = ctx.world.repo.clone() else {
        reconcile(ctx, APPS, "Application", 1000, obj, application);
        return;
    };
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    ctx.once(key(gr, obj), 800, move |ctx| reconcile_app(ctx, &ns, &name, repo));
    // Argo CD compares every Application with Git every `timeout.reconciliation` (180 s in this fleet's
    // ArgoCD CR), so a commit is picked up without an event.
    let (ns, name) = (
        meta_str(obj, "namespace").to_string(),
        meta_str(obj, "name").to_string(),
    );
    ctx.timer(format!("poll/{ns}/{name}"), RECONCILIATION_MS, move |ctx| {
        if let Some(app) = ctx.world.store.get(APPS, &ns, &name) {
            ctx.requeue(APPS, &app);
        }
    });
}

/// `timeout.reconciliation`: how often an Application is compared with Git without an event.
const RECONCILIATION_MS: u64 = 180_000;

fn application(_: &Ctx, o: &mut Value, _: &str, _: &str) {
    o["status"]["sync"] = json!({"status": "Synced", "revision": "0000000000000000000000000000000000000000",
        "comparedTo": {"source": o.pointer("/spec/source").cloned().unwrap_or(json!({})), "destination": o.pointer("/spec/destination").cloned().unwrap_or(json!({}))}});
    o["status"]["health"] = json!({"status": "Healthy"});
    set_once(o, "reconciledAt", json!(now()));
}

/// What Git wants for an Application: the rendered objects and their revision.
struct Desired {
    objects: Vec<Value>,
    revision: String,
}

fn str_at<'a>(o: &'a Value, p: &str) -> &'a str {
    o.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn render(app: &Value, repo: &std::path::Path) -> Result<Desired, String> {
    let path = str_at(app, "/spec/source/path");
    let objects = crate::fleet::render::Kustomize::find()
        .and_then(|k| k.render(&repo.join(path)))
        .map_err(|e| format!("rendering {path} failed: {}", e.cause))?;
    let text = serde_json::to_string(&(&objects, app.pointer("/spec/source"))).unwrap_or_default();
    let h = Sha256::digest(text.as_bytes());
    let revision: String = h.iter().take(20).map(|b| format!("{b:02x}")).collect();
    Ok(Desired { objects, revision })
}

/// (group, kind, namespace, name) of a desired object, its namespace defaulted to the destination's.
fn ident(app: &Value, o: &Value) -> (String, String, String, String) {
    let av = str_at(o, "/apiVersion");
    let group = av.split_once('/').map(|x| x.0).unwrap_or("").to_string();
    let ns = match meta_str(o, "namespace") {
        "" => str_at(app, "/spec/destination/namespace").to_string(),
        n => n.to_string(),
    };
    (
        group,
        str_at(o, "/kind").to_string(),
        ns,
        meta_str(o, "name").to_string(),
    )
}

/// The live object behind a desired one (None: its kind is not served, or it does not exist).
fn live_of(ctx: &Ctx, app: &Value, o: &Value) -> Option<Value> {
    let ri = resolve(ctx, str_at(o, "/apiVersion"), str_at(o, "/kind"))?;
    let (_, _, ns, name) = ident(app, o);
    ctx.world
        .store
        .get(&ri.gr(), if ri.namespaced { &ns } else { "" }, &name)
}

/// One desired object as the app sees it: live or not, its health and message, its status.resources row.
struct Observed {
    live: bool,
    health: Health,
    msg: String,
    row: Value,
}

/// A live object's health as this Argo CD assesses it. An Application's own health counts only when Argo CD
/// is configured to assess it (`resource.customizations.health.argoproj.io_Application` in argocd-cm, or an
/// ArgoCD CR's `resourceHealthChecks`): since v1.8 it is Healthy once it exists, so a wave does not wait on it.
fn health_of(ctx: &Ctx, app: &Value, group: &str, kind: &str, live: &Value) -> (Health, String) {
    if group == "argoproj.io" && kind == "Application" && !child_apps_assessed(ctx, meta_str(app, "namespace")) {
        return (Health::Healthy, String::new());
    }
    assess(group, kind, live)
}

/// Whether the Argo CD in `ns` (the parent Application's namespace, where its argocd-cm and ArgoCD CR live)
/// assesses Application health: one get each, not a scan of the cluster.
fn child_apps_assessed(ctx: &Ctx, ns: &str) -> bool {
    let store = &ctx.world.store;
    let cm = store
        .get("configmaps", ns, "argocd-cm")
        .is_some_and(|c| c.pointer("/data").and_then(|d| d.get(APP_HEALTH_KEY)).is_some());
    cm || store.list("argocds.argoproj.io", Some(ns)).0.iter().any(|a| {
        a.pointer("/spec/resourceHealthChecks")
            .and_then(Value::as_array)
            .is_some_and(|l| {
                l.iter()
                    .any(|h| h["group"] == "argoproj.io" && h["kind"] == "Application")
            })
    })
}

/// Each desired object's health (Missing when it is not live), as status.resources lists them. The
/// Application itself, when it manages its own definition (app-of-apps self-management), counts as Healthy.
fn observe(ctx: &Ctx, app: &Value, objects: &[Value]) -> Vec<Observed> {
    objects
        .iter()
        .map(|o| {
            let (group, kind, ns, name) = ident(app, o);
            let itself = group == "argoproj.io"
                && kind == "Application"
                && ns == meta_str(app, "namespace")
                && name == meta_str(app, "name");
            let live = live_of(ctx, app, o);
            let (health, msg) = match &live {
                Some(_) if itself => (Health::Healthy, String::new()),
                Some(l) => health_of(ctx, app, &group, &kind, l),
                None => (Health::Missing, String::new()),
            };
            let row = json!({"group": group, "kind": kind, "namespace": ns, "name": name, "version": str_at(o, "/apiVersion").rsplit('/').next(),
                "status": if live.is_some() { "Synced" } else { "OutOfSync" }, "health": {"status": health.as_str()}});
            Observed { live: live.is_some(), health, msg, row }
        })
        .collect()
}

/// An Application being deleted: with `resources-finalizer.argocd.argoproj.io` (or its `/foreground`,
/// `/background` forms) Argo CD first deletes every resource it manages (`status.resources`), then removes
/// the finalizer; without it the Application goes and its resources stay (the API server removes an object
/// with no finalizers at once, so only the finalizer's case reaches here).
fn cascade_delete(ctx: &Ctx, app: &Value) {
    let (ns, name) = (meta_str(app, "namespace"), meta_str(app, "name"));
    let holds = |f: &Value| {
        f.as_str()
            .is_some_and(|s| s.starts_with("resources-finalizer.argocd.argoproj.io"))
    };
    let cascades = app
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(holds));
    if !cascades {
        return;
    }
    for r in app
        .pointer("/status/resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (group, version, kind) = (str_at(r, "/group"), str_at(r, "/version"), str_at(r, "/kind"));
        let av = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        if let Some(ri) = resolve(ctx, &av, kind) {
            let rns = if ri.namespaced { str_at(r, "/namespace") } else { "" };
            let _ = ctx.world.store.delete(&ri.gr(), rns, str_at(r, "/name"));
        }
    }
    ctx.world.store.mutate(APPS, ns, name, |o| {
        if let Some(l) = o.pointer_mut("/metadata/finalizers").and_then(Value::as_array_mut) {
            l.retain(|f| !holds(f));
        }
    });
}

/// The last sync operation's (phase, revision, message).
fn last_op(app: &Value) -> (String, String, String) {
    (
        str_at(app, "/status/operationState/phase").to_string(),
        str_at(app, "/status/operationState/syncResult/revision").to_string(),
        str_at(app, "/status/operationState/message").to_string(),
    )
}

fn reconcile_app(ctx: &Arc<Ctx>, ns: &str, name: &str, repo: PathBuf) {
    let Some(app) = ctx.world.store.get(APPS, ns, name) else {
        return;
    };
    if app
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(REFRESH))
        .is_some()
    {
        ctx.world.store.mutate(APPS, ns, name, |o| {
            if let Some(a) = o["metadata"]["annotations"].as_object_mut() {
                a.remove(REFRESH);
            }
        });
    }
    if app.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return cascade_delete(ctx, &app);
    }
    if let Some(state) = ctx.stall("Application", &app) {
        ctx.world
            .store
            .mutate(APPS, ns, name, |o| stalled(o, "Application", &state));
        return;
    }
    if app.pointer("/spec/source/chart").is_some() {
        return sync_chart_app(ctx, ns, name, &app);
    }
    let desired = match render(&app, &repo) {
        Ok(d) => d,
        Err(msg) => {
            let source = app.pointer("/spec/source").cloned().unwrap_or(Value::Null);
            ctx.world.store.mutate(APPS, ns, name, |o| {
                o["status"]["sync"] = json!({"status": "Unknown", "comparedTo": {"source": source.clone()}});
                o["status"]["health"] = json!({"status": "Unknown"});
                o["status"]["conditions"] = json!([{"type": "ComparisonError", "message": msg.clone()}]);
            });
            return;
        }
    };
    let synced = write_status(ctx, &app, &desired);
    let (phase, last_rev, last_msg) = last_op(&app);
    if phase == "Running" {
        return;
    }
    if let Some(op) = app.get("operation").filter(|o| o.is_object()).cloned() {
        ctx.world.store.mutate(APPS, ns, name, |o| {
            if let Some(m) = o.as_object_mut() {
                m.remove("operation");
            }
        });
        let retry = op.get("retry").cloned().unwrap_or(json!({"limit": 0}));
        let by = op.get("initiatedBy").cloned().unwrap_or(json!({"username": "admin"}));
        return start_op(ctx, ns, name, repo, retry, by);
    }
    let automated = app.pointer("/spec/syncPolicy/automated").is_some();
    if !automated || synced {
        return;
    }
    if last_rev == desired.revision && phase != "Succeeded" {
        // Argo CD's autoSync: "Skipping auto-sync: failed previous sync attempt to <revision>".
        let m = format!("Failed sync attempt to {}: {last_msg}", desired.revision);
        ctx.world
            .store
            .mutate(APPS, ns, name, |o| set_app_condition(o, "SyncError", &m));
        return;
    }
    let self_heal = app
        .pointer("/spec/syncPolicy/automated/selfHeal")
        .and_then(Value::as_bool)
        == Some(true);
    if last_rev == desired.revision && !self_heal {
        return;
    }
    let retry = app
        .pointer("/spec/syncPolicy/retry")
        .cloned()
        .unwrap_or(json!({"limit": 5}));
    start_op(ctx, ns, name, repo, retry, json!({"automated": true}));
}

fn set_app_condition(o: &mut Value, t: &str, msg: &str) {
    if !o["status"]["conditions"].is_array() {
        o["status"]["conditions"] = json!([]);
    }
    let conds = o["status"]["conditions"].as_array_mut().unwrap();
    match conds.iter_mut().find(|c| c["type"] == t) {
        Some(c) if c["message"] == msg => {}
        Some(c) => *c = json!({"type": t, "message": msg, "lastTransitionTime": now()}),
        None => conds.push(json!({"type": t, "message": msg, "lastTransitionTime": now()})),
    }
}

/// Writes sync and health status; returns whether the app is Synced (the last sync succeeded at this revision
/// and every object is live).
fn write_status(ctx: &Ctx, app: &Value, d: &Desired) -> bool {
    let rows = observe(ctx, app, &d.objects);
    let (phase, last_rev, _) = last_op(app);
    let all_live = rows.iter().all(|r| r.live);
    let synced = phase == "Succeeded" && last_rev == d.revision && all_live;
    let (health, msg) = rows
        .iter()
        .max_by_key(|r| r.health)
        .map(|r| (r.health, r.msg.clone()))
        .unwrap_or((Health::Healthy, String::new()));
    let source = app.pointer("/spec/source").cloned().unwrap_or(Value::Null);
    let dest = app.pointer("/spec/destination").cloned().unwrap_or(Value::Null);
    let resources: Vec<Value> = rows.into_iter().map(|r| r.row).collect();
    ctx.world
        .store
        .mutate(APPS, meta_str(app, "namespace"), meta_str(app, "name"), |o| {
            o["status"]["sync"] = json!({"status": if synced { "Synced" } else { "OutOfSync" }, "revision": d.revision,
            "comparedTo": {"source": source, "destination": dest}});
            o["status"]["health"] = if msg.is_empty() || health == Health::Healthy {
                json!({"status": health.as_str()})
            } else {
                json!({"status": health.as_str(), "message": msg})
            };
            o["status"]["resources"] = json!(resources);
            if synced {
                if let Some(c) = o["status"]["conditions"].as_array_mut() {
                    c.retain(|c| c["type"] != "SyncError" && c["type"] != "ComparisonError");
                }
            }
        });
    synced
}

fn backoff_ms(retry: &Value, n: u32) -> u64 {
    let dur = |p: &str, default: u64| -> u64 {
        match retry.pointer(p) {
            Some(Value::String(s)) => s
                .parse::<u64>()
                .map(|x| x * 1000)
                .ok()
                .or_else(|| humantime::parse_duration(s).ok().map(|d| d.as_millis() as u64))
                .unwrap_or(default),
            Some(Value::Number(x)) => x.as_u64().map(|x| x * 1000).unwrap_or(default),
            _ => default,
        }
    };
    let base = dur("/backoff/duration", 5_000);
    let max = dur("/backoff/maxDuration", 180_000);
    let factor = retry.pointer("/backoff/factor").and_then(Value::as_u64).unwrap_or(2);
    let wait = base.saturating_mul(factor.saturating_pow(n));
    if max > 0 {
        wait.min(max)
    } else {
        wait
    }
}

fn set_op(ctx: &Ctx, ns: &str, name: &str, f: impl Fn(&mut Value)) {
    ctx.world.store.mutate(APPS, ns, name, |o| {
        if !o["status"]["operationState"].is_object() {
            o["status"]["operationState"] = json!({});
        }
        f(&mut o["status"]["operationState"]);
    });
}

/// Runs one sync operation (with its retries) in the background; one per Application at a time.
fn start_op(ctx: &Arc<Ctx>, ns: &str, name: &str, repo: PathBuf, retry: Value, by: Value) {
    let (ns, name) = (ns.to_string(), name.to_string());
    ctx.once_async(format!("op/{ns}/{name}"), move |ctx| async move {
        run_op(&ctx, &ns, &name, &repo, &retry, &by).await;
        if let Some(app) = ctx.world.store.get(APPS, &ns, &name) {
            ctx.requeue(APPS, &app);
        }
    });
}

async fn run_op(ctx: &Arc<Ctx>, ns: &str, name: &str, repo: &std::path::Path, retry: &Value, by: &Value) {
    let limit = retry.get("limit").and_then(Value::as_u64).unwrap_or(0) as u32;
    let started = now();
    let mut attempt = 0u32;
    loop {
        let Some(app) = ctx.world.store.get(APPS, ns, name) else {
            return;
        };
        let (result, rev) = match render(&app, repo) {
            Ok(d) => {
                let rev = d.revision.clone();
                set_op(ctx, ns, name, |s| {
                    *s = json!({"operation": {"sync": {"revision": rev}, "initiatedBy": by, "retry": retry},
                        "phase": "Running", "message": "one or more tasks are running", "startedAt": started, "retryCount": attempt});
                });
                (sync_attempt(ctx, &app, &d).await, d.revision)
            }
            Err(e) => (Err(e), String::new()),
        };
        match result {
            Ok(()) => {
                set_op(ctx, ns, name, |s| {
                    s["phase"] = json!("Succeeded");
                    s["message"] = json!("successfully synced (all tasks run)");
                    s["finishedAt"] = json!(now());
                    s["syncResult"] = json!({"revision": rev});
                });
                return;
            }
            Err(e) if attempt < limit => {
                let wait = backoff_ms(retry, attempt);
                attempt += 1;
                set_op(ctx, ns, name, |s| {
                    s["message"] = json!(format!("Retrying attempt #{attempt} at {}: {e}", now()));
                    s["retryCount"] = json!(attempt);
                    s["syncResult"] = json!({"revision": rev});
                });
                ctx.sleep(wait).await;
            }
            Err(e) => {
                set_op(ctx, ns, name, |s| {
                    s["phase"] = json!("Failed");
                    s["message"] = json!(e);
                    s["finishedAt"] = json!(now());
                    s["syncResult"] = json!({"revision": rev});
                });
                return;
            }
        }
    }
}

fn wave_of(o: &Value) -> i64 {
    o.pointer("/metadata/annotations/argocd.argoproj.io~1sync-wave")
        .and_then(Value::as_str)
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or(0)
}

/// One sync attempt: apply wave by wave, each wave after the previous one is Healthy.
async fn sync_attempt(ctx: &Arc<Ctx>, app: &Value, d: &Desired) -> Result<(), String> {
    let dest_ns = str_at(app, "/spec/destination/namespace").to_string();
    let create_ns = app
        .pointer("/spec/syncPolicy/syncOptions")
        .and_then(Value::as_array)
        .is_some_and(|o| o.iter().any(|x| x == "CreateNamespace=true"));
    if create_ns && !dest_ns.is_empty() {
        ctx.world.store.ensure(
            "namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": dest_ns}}),
        );
    }
    let mut waves: Vec<i64> = d.objects.iter().map(wave_of).collect();
    waves.sort();
    waves.dedup();
    for (i, w) in waves.iter().enumerate() {
        let objs: Vec<&Value> = d.objects.iter().filter(|o| wave_of(o) == *w).collect();
        let errors: Vec<String> = objs.iter().filter_map(|o| apply_object(ctx, app, o).err()).collect();
        if !errors.is_empty() {
            return Err(format!(
                "one or more objects failed to apply, reason: {}",
                errors.join("; ")
            ));
        }
        if i + 1 < waves.len() {
            wait_healthy(ctx, app, &objs).await?;
        }
    }
    Ok(())
}

/// Waits until every object of a wave is Healthy; a Degraded one fails the sync.
async fn wait_healthy(ctx: &Arc<Ctx>, app: &Value, objs: &[&Value]) -> Result<(), String> {
    let (ns, name) = (
        meta_str(app, "namespace").to_string(),
        meta_str(app, "name").to_string(),
    );
    loop {
        let mut waiting = None;
        for o in objs {
            let (group, kind, ons, oname) = ident(app, o);
            let (h, msg) = match live_of(ctx, app, o) {
                Some(live) => health_of(ctx, app, &group, &kind, &live),
                None => (Health::Missing, String::new()),
            };
            match h {
                Health::Degraded => {
                    return Err(format!("{group}/{kind} {ons}/{oname} is Degraded: {msg}"));
                }
                Health::Healthy => {}
                _ => waiting = waiting.or(Some(format!("waiting for healthy state of {group}/{kind}/{oname}"))),
            }
        }
        let Some(w) = waiting else {
            return Ok(());
        };
        if ctx.world.store.get(APPS, &ns, &name).is_none() {
            return Err("the Application was deleted".into());
        }
        set_op(ctx, &ns, &name, |s| s["message"] = json!(w));
        ctx.sleep(1000).await;
    }
}

/// Applies one object (created, or merged into the live one), through the simulated webhooks.
fn apply_object(ctx: &Ctx, app: &Value, o: &Value) -> Result<(), String> {
    let av = str_at(o, "/apiVersion");
    let kind = str_at(o, "/kind");
    let Some(ri) = resolve(ctx, av, kind) else {
        return Err(format!(
            "the server could not find the requested resource ({kind} {av})"
        ));
    };
    let mut o = o.clone();
    let (_, _, ns, name) = ident(app, &o);
    if ri.namespaced {
        o["metadata"]["namespace"] = json!(ns);
    } else if let Some(m) = o["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    let gr = ri.gr();
    let store = &ctx.world.store;
    let denied = |m: String| format!("{kind} {name}: {m}");
    // Admitted like a client write: strict field validation, defaulting, validation, then the webhooks.
    let version = av.rsplit('/').next().unwrap_or(av);
    let adm = Admit::new(store, &ri, version, &ctx.world.faults().old_schema);
    let fail = |e: StoreError| denied(e.message);
    adm.decode(&mut o, Some("Strict")).map_err(fail)?;
    if let Some(d) = o.as_object_mut() {
        d.remove("status");
    }
    match store.get(&gr, meta_str(&o, "namespace"), &name) {
        None => {
            adm.default(&mut o, true);
            adm.validate(None, &o).map_err(fail)?;
            ctx.world.admit(&gr, None, &o).map_err(denied)?;
            store.create(&gr, o).map(|_| ()).map_err(fail)
        }
        Some(live) => {
            let mut merged = live.clone();
            json_patch::merge(&mut merged, &o);
            adm.default(&mut merged, false);
            if merged == live {
                return Ok(());
            }
            adm.validate(Some(&live), &merged).map_err(fail)?;
            ctx.world.admit(&gr, Some(&live), &merged).map_err(denied)?;
            let rv = meta_str(&live, "resourceVersion").to_string();
            store.replace(&gr, merged, Some(&rv)).map(|_| ()).map_err(fail)
        }
    }
}

/// Argo CD syncing a Helm chart source: only the kopiur chart is simulated.
fn sync_chart_app(ctx: &Arc<Ctx>, ns: &str, name: &str, app: &Value) {
    let chart = app
        .pointer("/spec/source/chart")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let dest = app
        .pointer("/spec/destination/namespace")
        .and_then(Value::as_str)
        .unwrap_or("kopiur-system")
        .to_string();
    let source = app.pointer("/spec/source").cloned().unwrap_or(Value::Null);
    let apps = "applications.argoproj.io";
    if chart != "kopiur" {
        let msg = format!("Helm chart {chart}: only the kopiur chart is simulated");
        ctx.world.store.mutate(apps, ns, name, |o| {
            o["status"]["sync"] = json!({"status": "Unknown", "comparedTo": {"source": source.clone()}});
            o["status"]["health"] = json!({"status": "Unknown"});
            o["status"]["conditions"] = json!([{"type": "ComparisonError", "message": msg.clone()}]);
        });
        return;
    }
    install_operator(ctx, &dest);
    ctx.world.store.mutate(apps, ns, name, |o| {
        o["status"]["sync"] = json!({"status": "Synced", "revision": source["targetRevision"].clone(), "comparedTo": {"source": source.clone()}});
        o["status"]["health"] = json!({"status": "Healthy"});
        o["status"]["operationState"] = json!({"phase": "Succeeded", "message": "simulated: the kopiur chart's CRDs and Deployments were stored"});
    });
}

/// What the kopiur chart would create: namespace, Deployments, CRDs.
fn install_operator(ctx: &Ctx, ns: &str) {
    ctx.world.store.ensure(
        "namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    );
    for d in ["kopiur-controller", "kopiur-webhook"] {
        ctx.world.store.ensure(
            "deployments.apps",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": d, "namespace": ns,
                "labels": {"app.kubernetes.io/name": d, "app.kubernetes.io/part-of": "kopiur"}},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": d}},
                    "template": {"metadata": {"labels": {"app.kubernetes.io/name": d}},
                        "spec": {"containers": [{"name": "manager", "image": format!("ghcr.io/home-operations/{d}")}]}}}}),
        );
    }
    for c in KOPIUR_CRDS {
        if let Some(crd) = crd(&ctx.world, c) {
            ctx.world
                .store
                .ensure("customresourcedefinitions.apiextensions.k8s.io", crd);
        }
    }
}
