//! The schemas the store knows objects by: a custom resource's served openAPIV3Schema (as the CRD
//! stored says, with `old-schema` faults applied).

use crate::sim::store::{meta_str, Store};
use serde_json::Value;

const CRDS: &str = "customresourcedefinitions.apiextensions.k8s.io";

/// A CRD as served: with the properties that `old-schema` faults (CRD name, dotted path) remove.
pub fn served_crd(mut crd: Value, old_schema: &[(String, String)]) -> Value {
    let name = meta_str(&crd, "name").to_string();
    for (c, path) in old_schema {
        if *c == name {
            remove_schema_property(&mut crd, path);
        }
    }
    crd
}

/// The served openAPIV3Schema of a custom resource (group resource `gr`) at `version`.
pub fn crd_schema(store: &Store, gr: &str, version: &str, old_schema: &[(String, String)]) -> Option<Value> {
    let crd = served_crd(store.get(CRDS, "", gr)?, old_schema);
    let vers = crd.pointer("/spec/versions")?.as_array()?;
    vers.iter()
        .find(|x| x["name"] == version)?
        .pointer("/schema/openAPIV3Schema")
        .cloned()
}

/// Removes `a.b.c` (property names under the root object) from every version's openAPIV3Schema.
pub fn remove_schema_property(crd: &mut Value, dotted: &str) {
    let parts: Vec<&str> = dotted.split('.').collect();
    let Some(vers) = crd.pointer_mut("/spec/versions").and_then(Value::as_array_mut) else {
        return;
    };
    for v in vers {
        let mut cur = match v.pointer_mut("/schema/openAPIV3Schema") {
            Some(c) => c,
            None => continue,
        };
        for (i, p) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                if let Some(props) = cur.get_mut("properties").and_then(Value::as_object_mut) {
                    props.remove(*p);
                }
                if let Some(req) = cur.get_mut("required").and_then(Value::as_array_mut) {
                    req.retain(|r| r != p);
                }
                break;
            }
            match cur.pointer_mut(&format!("/properties/{p}")) {
                Some(next) => cur = next,
                None => break,
            }
        }
    }
}
