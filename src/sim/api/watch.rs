//! Watches: newline-delimited JSON events, `resourceVersion` resume from the bounded history (410
//! Expired ERROR event when too old), `""`/`"0"` = current objects as ADDED first, `timeoutSeconds`,
//! label/field selectors; bookmarks (`allowWatchBookmarks`, KEP-956) whose resourceVersion never runs
//! ahead of an event the watcher has not been sent; streaming lists (`sendInitialEvents=true` with
//! `resourceVersionMatch=NotOlderThan`, KEP-3157): the current objects as ADDED, then a BOOKMARK
//! annotated `k8s.io/initial-events-end: "true"`.

use super::errors::ApiError;
use super::selector::Selector;
use super::verbs::output;
use super::Server;
use super::{Body, Req, Target};
use crate::sim::store::error::{FieldError, StoreError};
use crate::sim::store::kinds::ResourceInfo;
use crate::sim::store::{meta_str, Event, EventType};
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::Response;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{error::RecvError, Receiver};
use tokio::sync::mpsc;

fn line(etype: &str, obj: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": etype, "object": obj})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn expired(msg: &str) -> Bytes {
    line("ERROR", &ApiError::expired(msg).status())
}

/// The event type a selector-filtered watcher sees: an object that starts matching is ADDED, one that
/// stops matching is DELETED, like the real server.
fn seen_as(ev: &Event, keep: &dyn Fn(&Value) -> bool) -> Option<&'static str> {
    let now = keep(&ev.obj);
    match ev.etype {
        EventType::Modified => {
            let before = ev.old.as_ref().map_or(now, keep);
            match (before, now) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            }
        }
        t => now.then_some(t.as_str()),
    }
}

/// The options of a watch request, validated as apimachinery's `ValidateListOptions` does.
struct Opts {
    since: Option<u64>,
    timeout: Duration,
    bookmarks: bool,
    initial_events: bool,
}

fn options(req: &Req) -> Result<Opts, ApiError> {
    let since = match req.q("resourceVersion").unwrap_or("") {
        "" | "0" => None,
        s => Some(
            s.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s}")))?,
        ),
    };
    let timeout = req
        .q("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let bookmarks = req.q("allowWatchBookmarks").is_some_and(|b| b == "true");
    let initial_events = req.q("sendInitialEvents").is_some_and(|b| b == "true");
    let mut errs = vec![];
    if req.q("sendInitialEvents").is_some() {
        if req.q("resourceVersionMatch") != Some("NotOlderThan") {
            errs.push(FieldError::Forbidden(
                "resourceVersionMatch".into(),
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan".into(),
            ));
        }
        if initial_events && !bookmarks {
            errs.push(FieldError::Forbidden(
                "allowWatchBookmarks".into(),
                "sendInitialEvents requires setting allowWatchBookmarks to true".into(),
            ));
        }
    } else if req.q("resourceVersionMatch").is_some_and(|m| !m.is_empty()) {
        errs.push(FieldError::Forbidden(
            "resourceVersionMatch".into(),
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided".into(),
        ));
    }
    if !errs.is_empty() {
        return Err(StoreError::invalid_fields("ListOptions", "meta.k8s.io", "", errs).into());
    }
    Ok(Opts {
        since: if initial_events { None } else { since },
        timeout,
        bookmarks,
        initial_events,
    })
}

/// How often a watch that allows bookmarks gets one (the real server's watch cache sends them about
/// once a minute; clients may not rely on a frequency).
const BOOKMARK_EVERY: Duration = Duration::from_secs(1);

fn bookmark(ri: &ResourceInfo, version: &str, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(
        "BOOKMARK",
        &json!({"kind": ri.kind, "apiVersion": ri.api_version(version), "metadata": meta}),
    )
}

/// One watch's stream: initial objects, replayed events, then live events and bookmarks.
struct Stream {
    sh: Arc<Server>,
    ri: ResourceInfo,
    version: String,
    as_table: bool,
    include: Option<String>,
    first: bool,
}

impl Stream {
    /// The object as sent: itself, or a Table row (column headers with the first event only).
    fn out(&mut self, o: &Value) -> Value {
        let obj = output(&self.sh, &self.ri, &self.version, o.clone());
        if !self.as_table {
            return obj;
        }
        let t = super::table::table(
            &self.sh,
            &self.ri,
            &self.version,
            &[obj],
            None,
            self.include.as_deref(),
            self.first,
        );
        self.first = false;
        t
    }
}

/// What a watch starts from: the initial objects, the events to replay, the live receiver, the list rv.
type Start = (Vec<Value>, Vec<Arc<Event>>, Receiver<Arc<Event>>, u64);

async fn run(mut st: Stream, o: Opts, keep: impl Fn(&Value) -> bool, start: Start, tx: mpsc::Sender<Bytes>) {
    let (initial, replay, mut brx, list_rv) = start;
    let gr = st.ri.gr();
    for obj in initial.iter().filter(|x| keep(x)) {
        if tx.send(line("ADDED", &st.out(obj))).await.is_err() {
            return;
        }
    }
    if o.initial_events && tx.send(bookmark(&st.ri, &st.version, list_rv, true)).await.is_err() {
        return;
    }
    let mut delivered = list_rv;
    for ev in &replay {
        delivered = ev.rv;
        if let Some(t) = seen_as(ev, &keep) {
            if tx.send(line(t, &st.out(&ev.obj))).await.is_err() {
                return;
            }
        }
    }
    let deadline = tokio::time::sleep(o.timeout);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(BOOKMARK_EVERY);
    tick.tick().await;
    loop {
        let msg = tokio::select! {
            ev = brx.recv() => match ev {
                Ok(ev) => {
                    delivered = delivered.max(ev.rv);
                    match (ev.gr == gr).then(|| seen_as(&ev, &keep)).flatten() {
                        Some(t) => line(t, &st.out(&ev.obj)),
                        None => continue,
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let _ = tx.send(expired("watch fell behind; too old resource version")).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            _ = &mut deadline => return,
            _ = tick.tick(), if o.bookmarks => {
                let rv = st.sh.store.bookmark_rv(&brx, delivered);
                bookmark(&st.ri, &st.version, rv, false)
            }
            _ = tx.closed() => return,
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

pub async fn serve(shared: &Arc<Server>, req: &Req, ri: &ResourceInfo, t: &Target) -> Result<Response<Body>, ApiError> {
    let sel = Selector::parse(req.q("labelSelector"), req.q("fieldSelector"))?;
    let o = options(req)?;
    let (tx, rx) = mpsc::channel::<Bytes>(1024);
    let ns = t.ns.clone();
    let keep = move |x: &Value| ns.as_deref().is_none_or(|n| meta_str(x, "namespace") == n) && sel.matches(x);
    let st = Stream {
        sh: shared.clone(),
        ri: ri.clone(),
        version: t.version.clone(),
        as_table: super::table::wanted(&req.accept),
        include: req.q("includeObject").map(str::to_string),
        first: true,
    };
    match shared.store.watch_start(&ri.gr(), t.ns.as_deref(), o.since) {
        Err(()) => {
            let _ = tx.try_send(expired(&format!(
                "too old resource version: {} ({})",
                o.since.unwrap_or(0),
                shared.store.current_rv()
            )));
        }
        Ok(start) => {
            tokio::spawn(run(st, o, keep, start, tx));
        }
    }
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(|b| Ok::<_, Infallible>(Frame::data(b)));
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("cache-control", "no-cache, private")
        .body(StreamBody::new(stream).boxed_unsync())
        .unwrap())
}
