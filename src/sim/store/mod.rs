//! The object store: every object as JSON, a global resourceVersion counter, a bounded event
//! history (for watch resume) and a broadcast of events (for watches and the scripted controllers).
//!
//! Resources are keyed by their "group resource" string: `plural` for the core group, `plural.group`
//! otherwise (the same spelling as a CRD name, e.g. `deployments.apps`, `argocds.argoproj.io`).
//! Writes here are raw: the HTTP layer applies status-subresource and patch semantics first.
//!
//! This is the middle layer of the simulated cluster: it imports neither the API (wire) layer nor the
//! controllers (docs/sim.md, "Layers").

pub mod admit;
mod delete;
pub mod error;
pub mod kinds;
pub mod names;
pub mod schema;

pub use delete::{Propagation, CRD_CLEANUP};
pub use error::StoreError;
use kinds::ResourceInfo;
pub use names::{new_uid, now};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How many past events are kept for watches that resume from a resourceVersion.
const HISTORY: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(&self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Event {
    pub rv: u64,
    pub gr: String,
    pub etype: EventType,
    pub obj: Value,
    /// The previous state, for MODIFIED (watches with selectors turn "stopped matching" into DELETED).
    pub old: Option<Value>,
}

#[derive(Default)]
struct Inner {
    rv: u64,
    objects: BTreeMap<String, BTreeMap<(String, String), Value>>,
    history: VecDeque<Arc<Event>>,
    /// Established custom resources, by group resource.
    crds: BTreeMap<String, ResourceInfo>,
    logs: HashMap<(String, String), String>,
}

pub struct Store {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Event>>,
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The object without the fields the server owns, for "did anything change" comparisons.
fn comparable(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["resourceVersion", "generation", "uid", "creationTimestamp"] {
            m.remove(k);
        }
        if let Some(Value::Array(mf)) = m.get_mut("managedFields") {
            for e in mf.iter_mut() {
                if let Some(e) = e.as_object_mut() {
                    e.remove("time");
                }
            }
        }
    }
    o
}

/// The parts of an object whose change bumps metadata.generation (all but metadata and status).
fn spec_part(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        for k in ["metadata", "status", "apiVersion", "kind"] {
            m.remove(k);
        }
    }
    o
}

impl Store {
    pub fn new() -> Arc<Self> {
        let (tx, _) = broadcast::channel(8192);
        Arc::new(Store {
            inner: Mutex::new(Inner::default()),
            tx,
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    pub fn current_rv(&self) -> u64 {
        self.inner.lock().unwrap().rv
    }

    pub fn crd_resources(&self) -> Vec<ResourceInfo> {
        self.inner.lock().unwrap().crds.values().cloned().collect()
    }

    pub fn get(&self, gr: &str, ns: &str, name: &str) -> Option<Value> {
        let g = self.inner.lock().unwrap();
        g.objects.get(gr)?.get(&(ns.to_string(), name.to_string())).cloned()
    }

    /// All objects of a resource (in one namespace if `ns` is Some) and the list resourceVersion.
    pub fn list(&self, gr: &str, ns: Option<&str>) -> (Vec<Value>, u64) {
        let g = self.inner.lock().unwrap();
        (Self::list_locked(&g, gr, ns), g.rv)
    }

    fn list_locked(g: &Inner, gr: &str, ns: Option<&str>) -> Vec<Value> {
        match g.objects.get(gr) {
            None => vec![],
            Some(m) => m
                .iter()
                .filter(|((n, _), _)| ns.is_none_or(|want| want == n))
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }

    /// Snapshot for a watch: current objects (if wanted), the events after `since` (if given), and a
    /// receiver subscribed under the same lock so nothing is missed. Err(()) = `since` too old.
    #[allow(clippy::type_complexity)]
    pub fn watch_start(
        &self,
        gr: &str,
        ns: Option<&str>,
        since: Option<u64>,
    ) -> Result<(Vec<Value>, Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>, u64), ()> {
        let g = self.inner.lock().unwrap();
        let rx = self.tx.subscribe();
        match since {
            None => Ok((Self::list_locked(&g, gr, ns), vec![], rx, g.rv)),
            Some(rv) => {
                let oldest = g.history.front().map(|e| e.rv).unwrap_or(g.rv + 1);
                if rv + 1 < oldest && rv < g.rv {
                    return Err(());
                }
                let evs = g.history.iter().filter(|e| e.rv > rv && e.gr == gr).cloned().collect();
                Ok((vec![], evs, rx, g.rv))
            }
        }
    }

    /// The resourceVersion a watch's bookmark may carry: the current one when the watcher has received
    /// every event (checked under the store lock, which every event is sent under), else only the last
    /// event it was given (`delivered`): a bookmark never runs ahead of an event still queued for it.
    pub fn bookmark_rv(&self, rx: &broadcast::Receiver<Arc<Event>>, delivered: u64) -> u64 {
        let g = self.inner.lock().unwrap();
        if rx.is_empty() {
            g.rv
        } else {
            delivered
        }
    }

    pub fn set_log(&self, ns: &str, pod: &str, log: String) {
        self.inner.lock().unwrap().logs.insert((ns.into(), pod.into()), log);
    }

    pub fn log(&self, ns: &str, pod: &str) -> Option<String> {
        self.inner.lock().unwrap().logs.get(&(ns.into(), pod.into())).cloned()
    }

    fn emit(&self, g: &mut Inner, gr: &str, etype: EventType, obj: Value) {
        self.emit_with_old(g, gr, etype, obj, None)
    }

    fn emit_with_old(&self, g: &mut Inner, gr: &str, etype: EventType, obj: Value, old: Option<Value>) {
        let ev = Arc::new(Event {
            rv: g.rv,
            gr: gr.to_string(),
            etype,
            obj,
            old,
        });
        g.history.push_back(ev.clone());
        while g.history.len() > HISTORY {
            g.history.pop_front();
        }
        if gr == "customresourcedefinitions.apiextensions.k8s.io" {
            Self::index_crd(g, &ev.obj, etype == EventType::Deleted);
        }
        let _ = self.tx.send(ev);
    }

    fn index_crd(g: &mut Inner, crd: &Value, deleted: bool) {
        let Some(ri) = ResourceInfo::from_crd(crd) else {
            return;
        };
        let established = crd
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Established" && c["status"] == "True"));
        if deleted || !established {
            g.crds.remove(&ri.gr());
        } else {
            g.crds.insert(ri.gr(), ri);
        }
    }

    /// Stores a new object: sets uid, creationTimestamp, resourceVersion, generation.
    pub fn create(&self, gr: &str, mut obj: Value) -> Result<Value, StoreError> {
        let mut g = self.inner.lock().unwrap();
        let key = (
            meta_str(&obj, "namespace").to_string(),
            meta_str(&obj, "name").to_string(),
        );
        if g.objects.get(gr).is_some_and(|m| m.contains_key(&key)) {
            return Err(StoreError::already_exists(gr, &key.1));
        }
        g.rv += 1;
        let rv = g.rv;
        {
            let m = obj["metadata"]
                .as_object_mut()
                .ok_or_else(|| StoreError::bad_request("metadata missing"))?;
            if !m.get("uid").is_some_and(Value::is_string) {
                m.insert("uid".into(), json!(new_uid()));
            }
            m.insert("creationTimestamp".into(), json!(now()));
            m.insert("resourceVersion".into(), json!(rv.to_string()));
            m.insert("generation".into(), json!(1));
            m.remove("deletionTimestamp");
        }
        g.objects.entry(gr.to_string()).or_default().insert(key, obj.clone());
        self.emit(&mut g, gr, EventType::Added, obj.clone());
        Ok(obj)
    }

    /// Replaces an existing object. `expected_rv`: optimistic concurrency (409 Conflict when stale).
    /// Returns (object, changed). An unchanged object keeps its resourceVersion and sends no event.
    pub fn replace(&self, gr: &str, mut obj: Value, expected_rv: Option<&str>) -> Result<(Value, bool), StoreError> {
        let mut g = self.inner.lock().unwrap();
        let key = (
            meta_str(&obj, "namespace").to_string(),
            meta_str(&obj, "name").to_string(),
        );
        let old = g
            .objects
            .get(gr)
            .and_then(|m| m.get(&key))
            .cloned()
            .ok_or_else(|| StoreError::not_found(gr, &key.1))?;
        let old_rv = meta_str(&old, "resourceVersion").to_string();
        if let Some(exp) = expected_rv.filter(|e| !e.is_empty()) {
            if exp != old_rv {
                return Err(StoreError::conflict(
                    gr,
                    &key.1,
                    "the object has been modified; please apply your changes to the latest version and try again",
                ));
            }
        }
        // Server-owned metadata always comes from the stored object.
        for k in [
            "uid",
            "creationTimestamp",
            "generation",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            match old["metadata"].get(k) {
                Some(v) => obj["metadata"][k] = v.clone(),
                None => {
                    if let Some(m) = obj["metadata"].as_object_mut() {
                        m.remove(k);
                    }
                }
            }
        }
        if comparable(&obj) == comparable(&old) {
            return Ok((old, false));
        }
        if delete::finished(&obj) {
            // the last finalizer is gone: the pending deletion completes
            let gone = Self::remove_locked(&mut g, gr, &key.0, &key.1).unwrap_or(obj);
            let gone = self.emit_deleted(&mut g, gr, gone);
            return Ok((gone, true));
        }
        if spec_part(&obj) != spec_part(&old) {
            let gen = old["metadata"]["generation"].as_i64().unwrap_or(1);
            obj["metadata"]["generation"] = json!(gen + 1);
        }
        g.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(g.rv.to_string());
        g.objects.entry(gr.to_string()).or_default().insert(key, obj.clone());
        self.emit_with_old(&mut g, gr, EventType::Modified, obj.clone(), Some(old));
        Ok((obj, true))
    }

    /// Read-modify-write for the scripted controllers (retries on conflict). None if absent.
    pub fn mutate(&self, gr: &str, ns: &str, name: &str, f: impl Fn(&mut Value)) -> Option<Value> {
        for _ in 0..10 {
            let mut obj = self.get(gr, ns, name)?;
            let rv = meta_str(&obj, "resourceVersion").to_string();
            f(&mut obj);
            match self.replace(gr, obj, Some(&rv)) {
                Ok((o, _)) => return Some(o),
                Err(e) if e.reason == error::Reason::Conflict => continue,
                Err(_) => return None,
            }
        }
        None
    }

    /// Creates an object unless one of that name exists (controllers' children).
    pub fn ensure(&self, gr: &str, obj: Value) -> Value {
        match self.create(gr, obj.clone()) {
            Ok(o) => o,
            Err(_) => self
                .get(gr, meta_str(&obj, "namespace"), meta_str(&obj, "name"))
                .unwrap_or(obj),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bookmark_never_runs_ahead_of_an_event_still_queued() {
        let s = Store::new();
        let cm = |n: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "namespace": "d"}});
        let (_, _, mut rx, rv0) = s.watch_start("configmaps", None, None).unwrap();
        assert_eq!(
            s.bookmark_rv(&rx, rv0),
            rv0,
            "nothing queued: the current resourceVersion"
        );
        s.create("configmaps", cm("a")).unwrap();
        s.create("configmaps", cm("b")).unwrap();
        // two events queued, none delivered: the bookmark stays at what the watcher has seen
        assert_eq!(s.bookmark_rv(&rx, rv0), rv0);
        let first = rx.try_recv().unwrap();
        assert_eq!(s.bookmark_rv(&rx, first.rv), first.rv);
        let second = rx.try_recv().unwrap();
        assert_eq!(s.bookmark_rv(&rx, second.rv), s.current_rv());
    }

    #[test]
    fn too_old_resource_version_is_refused_and_noop_keeps_rv() {
        let s = Store::new();
        let cm = |n: usize| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{n}"), "namespace": "d"}});
        let first = s.create("configmaps", cm(0)).unwrap();
        assert!(s.watch_start("configmaps", None, Some(1)).is_ok());
        for n in 1..HISTORY + 10 {
            s.create("configmaps", cm(n)).unwrap();
        }
        assert!(
            s.watch_start("configmaps", None, Some(1)).is_err(),
            "history is bounded: rv 1 is gone"
        );
        let recent = s.current_rv() - 5;
        let (_, evs, _, _) = s.watch_start("configmaps", Some("d"), Some(recent)).unwrap();
        assert_eq!(evs.len(), 5);
        let (same, changed) = s.replace("configmaps", first.clone(), None).unwrap();
        assert!(!changed);
        assert_eq!(
            same["metadata"]["resourceVersion"],
            first["metadata"]["resourceVersion"]
        );
        let mut stale = first.clone();
        stale["data"] = json!({"a": "b"});
        stale["metadata"]["resourceVersion"] = json!("0");
        assert_eq!(
            s.replace("configmaps", stale, Some("0")).unwrap_err().reason,
            error::Reason::Conflict
        );
    }
}
