//! `metav1.Status` errors with the code and reason a real API server would send.

use crate::sim::store::error::{Reason, StoreError};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

fn split_gr(gr: &str) -> (&str, &str) {
    gr.split_once('.').unwrap_or((gr, ""))
}

fn details(gr: &str, name: &str) -> Option<Value> {
    let (plural, group) = split_gr(gr);
    Some(json!({"name": name, "group": group, "kind": plural}))
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }
    pub fn not_found(gr: &str, name: &str) -> Self {
        ApiError {
            details: details(gr, name),
            ..Self::new(404, "NotFound", format!("{gr} \"{name}\" not found"))
        }
    }
    pub fn invalid(gr: &str, name: &str, why: &str) -> Self {
        ApiError {
            details: details(gr, name),
            ..Self::new(422, "Invalid", format!("{gr} \"{name}\" is invalid: {why}"))
        }
    }
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", msg)
    }
    pub fn method_not_allowed(msg: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", msg)
    }
    pub fn unsupported_media(ct: &str) -> Self {
        Self::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json; got {ct}"))
    }
    pub fn expired(msg: impl Into<String>) -> Self {
        Self::new(410, "Expired", msg)
    }

    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let (code, reason) = match e.reason {
            Reason::NotFound => (404, "NotFound"),
            Reason::AlreadyExists => (409, "AlreadyExists"),
            Reason::Conflict => (409, "Conflict"),
            Reason::Invalid => (422, "Invalid"),
            Reason::BadRequest => (400, "BadRequest"),
            Reason::Forbidden => (403, "Forbidden"),
            Reason::TooLarge => (413, "RequestEntityTooLarge"),
        };
        let mut details = (!e.gr.is_empty()).then(|| details(&e.gr, &e.name)).flatten();
        if let Some(inv) = &e.invalid {
            let (kind, errs) = inv.as_ref();
            let causes: Vec<Value> = errs
                .iter()
                .map(|c| json!({"reason": c.reason(), "message": c.detail(), "field": c.field()}))
                .collect();
            details = Some(json!({"name": e.name, "group": e.gr, "kind": kind, "causes": causes}));
        }
        ApiError {
            code,
            reason,
            message: e.message,
            details,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}
