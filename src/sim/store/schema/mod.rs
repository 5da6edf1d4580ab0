//! The schemas the store knows objects by, as nodes that say what a real API server reads from them:
//! the built-in kinds' OpenAPI definitions (`core-v1.37.0.json`: the kinds served and what they reference,
//! taken from Kubernetes v1.37.0's published schemas in shared/crds/_core without descriptions;
//! `tests/sim_schemas.rs` keeps it equal to that source), a custom resource's served openAPIV3Schema, or
//! nothing (a schema-less object: maps are granular, lists atomic, like structured-merge-diff's deduced
//! type).

pub mod crd;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use crd::{crd_schema, served_crd};

const CORE: &str = include_str!("core-v1.37.0.json");
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
/// In a CRD schema the sim reads, a property that stands for a built-in definition (a custom resource's
/// `metadata` is ObjectMeta whatever its CRD says).
const BUILTIN_MARK: &str = "x-sim-builtin";

/// The built-in definitions, by name.
pub fn definitions() -> &'static serde_json::Map<String, Value> {
    static DEFS: OnceLock<Value> = OnceLock::new();
    DEFS.get_or_init(|| serde_json::from_str(CORE).expect("embedded core schemas"))["$defs"]
        .as_object()
        .expect("$defs")
}

/// The definition name of a built-in kind, e.g. `apps/v1 Deployment` -> `io.k8s.api.apps.v1.Deployment`.
pub fn definition_for(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    static BY_GVK: OnceLock<BTreeMap<(String, String, String), String>> = OnceLock::new();
    let map = BY_GVK.get_or_init(|| {
        let mut m = BTreeMap::new();
        for (name, d) in definitions() {
            for gvk in d["x-kubernetes-group-version-kind"].as_array().into_iter().flatten() {
                let s = |k: &str| gvk[k].as_str().unwrap_or_default().to_string();
                m.entry((s("group"), s("version"), s("kind")))
                    .or_insert_with(|| name.clone());
            }
        }
        m
    });
    map.get(&(group.to_string(), version.to_string(), kind.to_string()))
        .map(String::as_str)
}

/// How a list merges (structured-merge-diff's element relationship).
#[derive(Clone, Debug, PartialEq)]
pub enum ListType {
    /// Replaced as a whole.
    Atomic,
    /// Items are scalars, merged as a set (`x-kubernetes-list-type: set`).
    Set,
    /// Items are objects identified by these key fields (`x-kubernetes-list-type: map`).
    Map(Vec<String>),
}

/// A schema node.
#[derive(Clone, Copy, Debug)]
pub enum Node<'a> {
    /// A node of the built-in definitions (JSON Schema: `$ref`s, nullable `type` arrays).
    Builtin(&'a Value),
    /// A node of a CRD's structural openAPIV3Schema.
    Crd(&'a Value),
    /// No schema: structured-merge-diff's deduced type.
    Deduced,
}

impl Node<'static> {
    /// The root node of a built-in kind.
    pub fn builtin(group: &str, version: &str, kind: &str) -> Option<Node<'static>> {
        definition_for(group, version, kind).map(|n| Node::Builtin(&definitions()[n]))
    }
}

impl<'a> Node<'a> {
    /// The schema value itself (`$ref`s followed).
    pub fn raw(self) -> Option<&'a Value> {
        match self {
            Node::Builtin(v) => Some(v),
            Node::Crd(v) => Some(v),
            Node::Deduced => None,
        }
    }

    fn get(self, k: &str) -> Option<&'a Value> {
        self.raw()?.get(k)
    }

    fn wrap(self, v: &'a Value) -> Node<'a> {
        match self {
            Node::Builtin(_) => Node::Builtin(v),
            _ => Node::Crd(v),
        }
    }

    /// Whether this is the built-in Quantity (a string or number the server canonicalizes).
    pub fn is_quantity(self) -> bool {
        match self {
            Node::Builtin(v) => std::ptr::eq(v, &definitions()[QUANTITY]),
            _ => false,
        }
    }

    /// Unknown fields below are kept (`x-kubernetes-preserve-unknown-fields`, or no schema at all).
    pub fn preserves_unknown(self) -> bool {
        match self {
            Node::Deduced => true,
            _ => self.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true)),
        }
    }

    /// The named properties, if the node is an object with fields.
    pub fn properties(self) -> Option<&'a serde_json::Map<String, Value>> {
        self.get("properties").and_then(Value::as_object)
    }

    /// Whether `key` is a named field (not a key of a map of values).
    pub fn is_field(self, key: &str) -> bool {
        self.properties().is_some_and(|p| p.contains_key(key))
    }

    /// The schema of a map key: its field, else the map's value schema; None for an unknown field.
    pub fn child(self, key: &str) -> Option<Node<'a>> {
        if let Node::Deduced = self {
            return Some(Node::Deduced);
        }
        if let Some(p) = self.properties().and_then(|p| p.get(key)) {
            if let Some(def) = p
                .get(BUILTIN_MARK)
                .and_then(Value::as_str)
                .and_then(|n| definitions().get(n))
            {
                return Some(Node::Builtin(def));
            }
            return Some(self.wrap(p).resolved());
        }
        match self.get("additionalProperties") {
            Some(a) if a.is_object() => return Some(self.wrap(a).resolved()),
            Some(Value::Bool(true)) => return Some(Node::Deduced),
            _ => {}
        }
        if self.preserves_unknown() {
            return Some(Node::Deduced);
        }
        if self.get("x-kubernetes-embedded-resource") == Some(&json!(true))
            && ["apiVersion", "kind", "metadata"].contains(&key)
        {
            return Some(Node::Deduced);
        }
        None
    }

    /// The schema of a list's items.
    pub fn items(self) -> Node<'a> {
        match self.get("items") {
            Some(i) => self.wrap(i).resolved(),
            None => Node::Deduced,
        }
    }

    /// `$ref`s followed (built-in definitions only). A built-in node that says nothing of its shape
    /// (`JSON`, `RawExtension`, `FieldsV1`: an object without properties) holds any JSON: deduced.
    pub fn resolved(self) -> Node<'a> {
        match self {
            Node::Builtin(v) => {
                let r = resolve_static(v);
                let shapeless = ["properties", "additionalProperties", "items", "oneOf", "anyOf"]
                    .iter()
                    .all(|k| r.get(*k).is_none());
                let scalar = r["type"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .any(|t| !["object", "null"].contains(&t.as_str().unwrap_or("")))
                    })
                    .unwrap_or_else(|| r["type"].as_str().is_some_and(|t| t != "object"));
                if shapeless && !scalar {
                    Node::Deduced
                } else {
                    Node::Builtin(r)
                }
            }
            other => other,
        }
    }

    /// How a list at this node merges: its `x-kubernetes-list-type` (map keys from
    /// `x-kubernetes-list-map-keys`); for a built-in list without one, its patch merge key when the
    /// patch strategy is merge; otherwise atomic (CRD lists without a list type are atomic).
    pub fn list_type(self) -> ListType {
        let ext = |k: &str| self.get(k).and_then(Value::as_str);
        match ext("x-kubernetes-list-type") {
            Some("set") => return ListType::Set,
            Some("map") => {
                let keys: Vec<String> = self
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                if !keys.is_empty() {
                    return ListType::Map(keys);
                }
            }
            Some(_) => return ListType::Atomic,
            None => {}
        }
        match (
            self,
            ext("x-kubernetes-patch-strategy"),
            ext("x-kubernetes-patch-merge-key"),
        ) {
            (Node::Builtin(_), Some(s), Some(k)) if s.split(',').any(|x| x == "merge") => ListType::Map(vec![k.into()]),
            _ => ListType::Atomic,
        }
    }

    /// Whether an object at this node is atomic (`x-kubernetes-map-type: atomic`).
    pub fn atomic_map(self) -> bool {
        self.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
    }

    /// The strategic-merge-patch strategy and merge key of a field (built-in kinds).
    pub fn patch_strategy(self) -> (Option<&'a str>, Option<&'a str>) {
        (
            self.get("x-kubernetes-patch-strategy").and_then(Value::as_str),
            self.get("x-kubernetes-patch-merge-key").and_then(Value::as_str),
        )
    }

    /// The `required` field names of an object node.
    pub fn required(self) -> Vec<&'a str> {
        self.get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

fn resolve_static(v: &Value) -> &Value {
    let mut cur = v;
    for _ in 0..8 {
        let r = cur
            .get("$ref")
            .or_else(|| cur.pointer("/allOf/0/$ref"))
            .and_then(Value::as_str);
        match r.and_then(|r| r.rsplit('/').next()).and_then(|n| definitions().get(n)) {
            Some(d) => cur = d,
            None => break,
        }
    }
    cur
}

/// The schema an object is read by: a built-in kind's definition, or a custom resource's served
/// openAPIV3Schema (owned here; its `metadata` is ObjectMeta), or none.
pub struct ObjectSchema {
    builtin: Option<Node<'static>>,
    crd: Option<Value>,
}

impl ObjectSchema {
    pub fn builtin(group: &str, version: &str, kind: &str) -> Self {
        ObjectSchema {
            builtin: Node::builtin(group, version, kind),
            crd: None,
        }
    }
    /// A custom resource's schema: apiVersion and kind are strings and metadata is ObjectMeta, as the
    /// API server reads every custom resource.
    pub fn custom(schema: Option<Value>) -> Self {
        let crd = schema.map(|mut s| {
            if s.is_object() {
                let props = s
                    .as_object_mut()
                    .unwrap()
                    .entry("properties")
                    .or_insert_with(|| json!({}));
                if let Some(p) = props.as_object_mut() {
                    p.insert("apiVersion".into(), json!({"type": "string"}));
                    p.insert("kind".into(), json!({"type": "string"}));
                    p.insert("metadata".into(), json!({ BUILTIN_MARK: OBJECT_META }));
                }
            }
            s
        });
        ObjectSchema { builtin: None, crd }
    }
    /// Whether the kind has a schema (built-in, or a CRD version's openAPIV3Schema).
    pub fn known(&self) -> bool {
        self.builtin.is_some() || self.crd.is_some()
    }
    pub fn is_builtin(&self) -> bool {
        self.builtin.is_some()
    }
    /// The root node.
    pub fn root(&self) -> Node<'_> {
        match (&self.builtin, &self.crd) {
            (Some(b), _) => *b,
            (None, Some(c)) => Node::Crd(c),
            (None, None) => Node::Deduced,
        }
    }
}
