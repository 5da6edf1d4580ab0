//! What went wrong in the store or in admission, independent of how the wire layer reports it (the
//! API layer turns it into a `metav1.Status`).

/// The kind of failure; the API layer maps it to an HTTP code and a Status reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    NotFound,
    AlreadyExists,
    Conflict,
    Invalid,
    BadRequest,
}

#[derive(Debug, Clone)]
pub struct StoreError {
    pub reason: Reason,
    /// The group resource and name the error is about ("" when it is about the request).
    pub gr: String,
    pub name: String,
    /// The full sentence, as a real API server words it.
    pub message: String,
}

impl StoreError {
    fn about(reason: Reason, gr: &str, name: &str, message: String) -> Self {
        StoreError {
            reason,
            gr: gr.to_string(),
            name: name.to_string(),
            message,
        }
    }
    pub fn not_found(gr: &str, name: &str) -> Self {
        Self::about(Reason::NotFound, gr, name, format!("{gr} \"{name}\" not found"))
    }
    pub fn already_exists(gr: &str, name: &str) -> Self {
        Self::about(
            Reason::AlreadyExists,
            gr,
            name,
            format!("{gr} \"{name}\" already exists"),
        )
    }
    pub fn conflict(gr: &str, name: &str, why: &str) -> Self {
        let msg = format!("Operation cannot be fulfilled on {gr} \"{name}\": {why}");
        Self::about(Reason::Conflict, gr, name, msg)
    }
    pub fn invalid(gr: &str, name: &str, why: &str) -> Self {
        Self::about(Reason::Invalid, gr, name, format!("{gr} \"{name}\" is invalid: {why}"))
    }
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::about(Reason::BadRequest, "", "", msg.into())
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.reason, self.message)
    }
}
