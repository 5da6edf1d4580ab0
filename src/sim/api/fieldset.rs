//! Field sets as server-side apply tracks them (structured-merge-diff's `fieldpath.Set` and its typed
//! walkers, read from sigs.k8s.io/structured-merge-diff `typed/tofieldset.go`, `typed/remove.go`): which
//! paths of an object are *members*, in the FieldsV1 notation `metadata.managedFields` stores
//! (`f:<field>`, `k:{"name":"x"}` for an item of a map-list, `v:<value>` for an item of a set, `.` for a
//! node that is a member and has children).
//!
//! What is a member follows the schema (`store::schema::Node`): a scalar; an atomic list or map as a
//! whole; an item of a map-list or set (and its fields); a key of a map without named fields (labels,
//! annotations, data, ...). A struct's own path is not a member, so applying `annotations: {}` owns
//! nothing, and dropping a list item removes the whole item.

use crate::sim::store::schema::{ListType, Node};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A set of paths, each element in FieldsV1 notation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Set {
    members: BTreeSet<String>,
    children: BTreeMap<String, Set>,
}

pub type Path = Vec<String>;

impl Set {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(Set::is_empty)
    }

    pub fn insert(&mut self, path: &[String]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    fn child(&self, pe: &str) -> Option<&Set> {
        self.children.get(pe)
    }

    /// Every member path.
    pub fn paths(&self) -> Vec<Path> {
        let mut out: Vec<Path> = self.members.iter().map(|m| vec![m.clone()]).collect();
        for (k, c) in &self.children {
            for mut p in c.paths() {
                p.insert(0, k.clone());
                out.push(p);
            }
        }
        out
    }

    /// Whether the member at `path` has member paths below it.
    pub fn has_children(&self, path: &[String]) -> bool {
        let mut cur = self;
        for pe in path {
            match cur.child(pe) {
                Some(c) => cur = c,
                None => return false,
            }
        }
        !cur.is_empty()
    }

    pub fn union(&self, o: &Set) -> Set {
        let mut out = self.clone();
        out.members.extend(o.members.iter().cloned());
        for (k, c) in &o.children {
            let merged = match out.children.get(k) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.children.insert(k.clone(), merged);
        }
        out
    }

    /// Paths in `self` and not in `o` (exact paths: a member of `o` does not take the paths below it).
    pub fn difference(&self, o: &Set) -> Set {
        let mut out = Set {
            members: self.members.difference(&o.members).cloned().collect(),
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            let d = match o.children.get(k) {
                Some(oc) => c.difference(oc),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(k.clone(), d);
            }
        }
        out
    }

    pub fn intersection(&self, o: &Set) -> Set {
        let mut out = Set {
            members: self.members.intersection(&o.members).cloned().collect(),
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if let Some(oc) = o.children.get(k) {
                let i = c.intersection(oc);
                if !i.is_empty() {
                    out.children.insert(k.clone(), i);
                }
            }
        }
        out
    }

    /// The FieldsV1 JSON form.
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        let keys: BTreeSet<&String> = self.members.iter().chain(self.children.keys()).collect();
        for k in keys {
            let mut node = match self.children.get(k) {
                Some(c) if !c.is_empty() => c.to_fields_v1(),
                _ => json!({}),
            };
            if self.members.contains(k) && node.as_object().is_some_and(|o| !o.is_empty()) {
                node.as_object_mut().unwrap().insert(".".into(), json!({}));
            }
            m.insert(k.clone(), node);
        }
        Value::Object(m)
    }

    /// Parses the FieldsV1 JSON form.
    pub fn from_fields_v1(v: &Value) -> Set {
        let mut out = Set::default();
        for (k, c) in v.as_object().into_iter().flatten() {
            if k == "." {
                continue;
            }
            let empty = c.as_object().is_none_or(|o| o.is_empty());
            if empty || c.get(".").is_some() {
                out.members.insert(k.clone());
            }
            if !empty {
                let sub = Set::from_fields_v1(c);
                if !sub.is_empty() {
                    out.children.insert(k.clone(), sub);
                }
            }
        }
        out
    }
}

/// What a map-list key field defaults to when an item leaves it out (the API server's defaulting of
/// `ContainerPort.protocol` / `ServicePort.protocol`, which structured-merge-diff reads from the schema).
fn key_default(field: &str) -> Option<Value> {
    (field == "protocol").then(|| json!("TCP"))
}

/// The path element of a list item: `k:{...}` for a map-list (keys sorted), `v:<value>` for a set.
pub fn item_element(list: &ListType, item: &Value) -> Option<String> {
    match list {
        ListType::Atomic => None,
        ListType::Set => Some(format!("v:{}", serde_json::to_string(item).unwrap_or_default())),
        ListType::Map(keys) => {
            let mut sorted: Vec<&String> = keys.iter().collect();
            sorted.sort();
            let mut m = Map::new();
            for k in sorted {
                match item.get(k).cloned().or_else(|| key_default(k)) {
                    Some(v) => {
                        m.insert(k.clone(), v);
                    }
                    None => continue,
                }
            }
            Some(format!("k:{}", Value::Object(m)))
        }
    }
}

/// The field set of a value under `node`.
pub fn field_set(v: &Value, node: Node) -> Set {
    let mut set = Set::default();
    walk(v, node, &mut vec![], &mut set);
    set
}

fn walk(v: &Value, node: Node, path: &mut Path, set: &mut Set) {
    match v {
        Value::Object(m) if !node.atomic_map() => {
            for (k, cv) in m {
                path.push(format!("f:{k}"));
                walk(cv, node.child(k).unwrap_or(Node::Deduced), path, set);
                if !node.is_field(k) {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(a) => {
            let lt = node.list_type();
            if lt == ListType::Atomic {
                set.insert(path);
                return;
            }
            for item in a {
                let Some(pe) = item_element(&lt, item) else { continue };
                path.push(pe);
                if matches!(lt, ListType::Map(_)) {
                    walk(item, node.items(), path, set);
                }
                set.insert(path);
                path.pop();
            }
        }
        _ => set.insert(path),
    }
}

/// Removes every member of `set` from `v` (a member takes what is below it), as structured-merge-diff's
/// RemoveItems does.
pub fn remove_items(v: &mut Value, set: &Set, node: Node) {
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let pe = format!("f:{k}");
                if set.members.contains(&pe) {
                    m.remove(&k);
                } else if let Some(sub) = set.child(&pe) {
                    remove_items(m.get_mut(&k).unwrap(), sub, node.child(&k).unwrap_or(Node::Deduced));
                }
            }
        }
        Value::Array(a) => {
            let lt = node.list_type();
            let items = node.items();
            a.retain(|i| item_element(&lt, i).is_none_or(|pe| !set.members.contains(&pe)));
            for i in a.iter_mut() {
                if let Some(sub) = item_element(&lt, i).and_then(|pe| set.child(&pe)) {
                    remove_items(i, sub, items);
                }
            }
        }
        _ => {}
    }
}

/// The value at a field path (`f:`, `k:`, `v:` elements; `.` is the node itself).
pub fn value_at<'a>(v: &'a Value, path: &[String], node: Node) -> Option<&'a Value> {
    let Some((pe, rest)) = path.split_first() else {
        return Some(v);
    };
    if let Some(f) = pe.strip_prefix("f:") {
        return value_at(v.get(f)?, rest, node.child(f).unwrap_or(Node::Deduced));
    }
    let lt = node.list_type();
    let item = v
        .as_array()?
        .iter()
        .find(|i| item_element(&lt, i).as_deref() == Some(pe.as_str()))?;
    value_at(item, rest, node.items())
}

/// What changed from `old` to `new` under `node`: (modified, added, removed) member paths. A member is
/// modified when it has no members below it (a scalar, an atomic list or map) and its value differs;
/// list items are only added or removed.
pub fn compare(old: &Value, new: &Value, node: Node) -> (Set, Set, Set) {
    let (so, sn) = (field_set(old, node), field_set(new, node));
    let added = sn.difference(&so);
    let removed = so.difference(&sn);
    let mut modified = Set::default();
    for p in so.intersection(&sn).paths() {
        if so.has_children(&p) || sn.has_children(&p) {
            continue;
        }
        if value_at(old, &p, node) != value_at(new, &p, node) {
            modified.insert(&p);
        }
    }
    (modified, added, removed)
}

/// `.spec.template.spec.containers[name="web"].image`, as conflict messages print a path.
pub fn path_string(p: &[String]) -> String {
    p.iter()
        .map(|s| match s.strip_prefix("f:") {
            Some(f) => format!(".{f}"),
            None => match s.strip_prefix("k:") {
                Some(k) => {
                    let kv: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
                    let parts: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!("[{}]", parts.join(","))
                }
                None => format!("[{}]", s.trim_start_matches("v:")),
            },
        })
        .collect()
}
