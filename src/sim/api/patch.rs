//! The non-apply patch types, by the json-patch crate: merge patch (RFC 7386; strategic merge patch is
//! treated the same: no `$patch` directives, lists are replaced) and JSON patch (RFC 6902).

use super::errors::ApiError;
use serde_json::Value;

/// RFC 7386 merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902 JSON patch: 400 for a body that is not a list of operations, 422 for one that does not apply.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), ApiError> {
    let ops: json_patch::Patch = serde_json::from_value(ops.clone())
        .map_err(|e| ApiError::bad_request(format!("the request body is not a JSON patch: {e}")))?;
    json_patch::patch(doc, &ops)
        .map_err(|e| ApiError::new(422, "Invalid", format!("the JSON patch does not apply: {e}")))
}
