//! The non-apply patch types: merge patch (RFC 7386; strategic merge patch is treated the same: no
//! `$patch` directives, lists are replaced) and JSON patch (RFC 6902).

use super::errors::ApiError;
use serde_json::{json, Value};

/// RFC 7386 merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().unwrap();
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

fn unescape(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

fn pointer_parent<'a>(doc: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), ApiError> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| ApiError::bad_request(format!("invalid JSON pointer '{path}'")))?;
    let p = doc
        .pointer_mut(parent)
        .ok_or_else(|| ApiError::new(422, "Invalid", format!("path {parent} not found")))?;
    Ok((p, unescape(last)))
}

fn jp_add(doc: &mut Value, path: &str, v: Value) -> Result<(), ApiError> {
    if path.is_empty() {
        *doc = v;
        return Ok(());
    }
    let (p, last) = pointer_parent(doc, path)?;
    match p {
        Value::Object(m) => {
            m.insert(last, v);
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse().map_err(|_| ApiError::bad_request("bad array index"))?
            };
            if i > a.len() {
                return Err(ApiError::new(422, "Invalid", "array index out of range"));
            }
            a.insert(i, v);
        }
        _ => return Err(ApiError::new(422, "Invalid", format!("cannot add at {path}"))),
    }
    Ok(())
}

fn jp_remove(doc: &mut Value, path: &str) -> Result<Value, ApiError> {
    let (p, last) = pointer_parent(doc, path)?;
    let removed = match p {
        Value::Object(m) => m.remove(&last),
        Value::Array(a) => last.parse::<usize>().ok().filter(|i| *i < a.len()).map(|i| a.remove(i)),
        _ => None,
    };
    removed.ok_or_else(|| ApiError::new(422, "Invalid", format!("unable to remove nonexistent key: {path}")))
}

/// RFC 6902 JSON patch.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), ApiError> {
    let ops = ops
        .as_array()
        .ok_or_else(|| ApiError::bad_request("a JSON patch must be an array"))?;
    for op in ops {
        let path = op["path"].as_str().unwrap_or("");
        match op["op"].as_str().unwrap_or("") {
            "add" => jp_add(doc, path, op["value"].clone())?,
            "remove" => {
                jp_remove(doc, path)?;
            }
            "replace" => {
                jp_remove(doc, path)?;
                jp_add(doc, path, op["value"].clone())?;
            }
            "test" => {
                if doc.pointer(path) != Some(&op["value"]) {
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        format!("test operation for path {path} failed"),
                    ));
                }
            }
            o @ ("move" | "copy") => {
                let from = op["from"].as_str().unwrap_or("");
                let v = if o == "move" {
                    jp_remove(doc, from)?
                } else {
                    doc.pointer(from)
                        .cloned()
                        .ok_or_else(|| ApiError::new(422, "Invalid", format!("path {from} not found")))?
                };
                jp_add(doc, path, v)?;
            }
            other => return Err(ApiError::bad_request(format!("unknown JSON patch op '{other}'"))),
        }
    }
    Ok(())
}
