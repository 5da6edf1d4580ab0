//! Watches: newline-delimited JSON events, `resourceVersion` resume from the bounded history (410
//! Expired ERROR event when too old), `""`/`"0"` = current objects as ADDED first, bookmarks,
//! `timeoutSeconds`, label/field selectors.

use super::errors::ApiError;
use super::selector::Selector;
use super::verbs::output;
use super::Server;
use super::{Body, Req, Target};
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
use tokio::sync::{broadcast::error::RecvError, mpsc};

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

pub async fn serve(shared: &Arc<Server>, req: &Req, ri: &ResourceInfo, t: &Target) -> Result<Response<Body>, ApiError> {
    let sel = Selector::parse(req.q("labelSelector"), req.q("fieldSelector"))?;
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
    let (tx, rx) = mpsc::channel::<Bytes>(1024);
    let gr = ri.gr();
    let ns = t.ns.clone();
    let (sh, ri, version) = (shared.clone(), ri.clone(), t.version.clone());
    let as_table = super::table::wanted(&req.accept);
    let include = req.q("includeObject").map(str::to_string);
    let keep = move |o: &Value| ns.as_deref().is_none_or(|n| meta_str(o, "namespace") == n) && sel.matches(o);
    match shared.store.watch_start(&gr, t.ns.as_deref(), since) {
        Err(()) => {
            let _ = tx.try_send(expired(&format!(
                "too old resource version: {} ({})",
                since.unwrap_or(0),
                shared.store.current_rv()
            )));
        }
        Ok((initial, replay, mut brx, _)) => {
            tokio::spawn(async move {
                // kubectl asks for Table rows; column headers go with the first event only
                let mut first = true;
                let mut out = |o: &Value| {
                    let obj = output(&sh, &ri, &version, o.clone());
                    if !as_table {
                        return obj;
                    }
                    let t = super::table::table(&sh, &ri, &version, &[obj], None, include.as_deref(), first);
                    first = false;
                    t
                };
                for o in initial.iter().filter(|o| keep(o)) {
                    if tx.send(line("ADDED", &out(o))).await.is_err() {
                        return;
                    }
                }
                for ev in &replay {
                    if let Some(t) = seen_as(ev, &keep) {
                        if tx.send(line(t, &out(&ev.obj))).await.is_err() {
                            return;
                        }
                    }
                }
                let deadline = tokio::time::sleep(timeout);
                tokio::pin!(deadline);
                let mut tick = tokio::time::interval(Duration::from_secs(5));
                tick.tick().await;
                loop {
                    let msg = tokio::select! {
                        ev = brx.recv() => match ev {
                            Ok(ev) if ev.gr == gr => match seen_as(&ev, &keep) {
                                Some(t) => line(t, &out(&ev.obj)),
                                None => continue,
                            },
                            Ok(_) => continue,
                            Err(RecvError::Lagged(_)) => {
                                let _ = tx.send(expired("watch fell behind; too old resource version")).await;
                                return;
                            }
                            Err(RecvError::Closed) => return,
                        },
                        _ = &mut deadline => return,
                        _ = tick.tick(), if bookmarks => line("BOOKMARK", &json!({"kind": ri.kind, "apiVersion": ri.api_version(&version),
                            "metadata": {"resourceVersion": sh.store.current_rv().to_string()}})),
                        _ = tx.closed() => return,
                    };
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                }
            });
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
