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
    /// Admission refused the write (e.g. new content in a terminating namespace).
    Forbidden,
    /// The object is over the size the store keeps (etcd's request limit).
    TooLarge,
}

/// What is wrong with one field (apimachinery's `field.Error`).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldError {
    Required(String, String),
    /// (field, value as the server prints it, detail)
    Invalid(String, String, String),
    /// (field, value, supported values)
    NotSupported(String, String, Vec<String>),
    Forbidden(String, String),
    /// (field, the limit's sentence)
    TooLong(String, String),
    Duplicate(String, String),
    /// (field, value, detail) for a value of the wrong type
    TypeInvalid(String, String, String),
}

impl FieldError {
    pub fn field(&self) -> &str {
        match self {
            FieldError::Required(f, _)
            | FieldError::Invalid(f, _, _)
            | FieldError::NotSupported(f, _, _)
            | FieldError::Forbidden(f, _)
            | FieldError::TooLong(f, _)
            | FieldError::Duplicate(f, _)
            | FieldError::TypeInvalid(f, _, _) => f,
        }
    }
    /// The Status cause reason (`FieldValueRequired`, ...).
    pub fn reason(&self) -> &'static str {
        match self {
            FieldError::Required(..) => "FieldValueRequired",
            FieldError::Invalid(..) => "FieldValueInvalid",
            FieldError::NotSupported(..) => "FieldValueNotSupported",
            FieldError::Forbidden(..) => "FieldValueForbidden",
            FieldError::TooLong(..) => "FieldValueTooLong",
            FieldError::Duplicate(..) => "FieldValueDuplicate",
            FieldError::TypeInvalid(..) => "FieldValueTypeInvalid",
        }
    }
    /// The sentence after the field path, as `field.Error` prints it.
    pub fn detail(&self) -> String {
        let with = |head: String, d: &str| if d.is_empty() { head } else { format!("{head}: {d}") };
        match self {
            FieldError::Required(_, d) => with("Required value".into(), d),
            FieldError::Invalid(_, v, d) => with(format!("Invalid value: {v}"), d),
            FieldError::NotSupported(_, v, s) => {
                let s: Vec<String> = s.iter().map(|x| format!("{x:?}")).collect();
                format!("Unsupported value: {v}: supported values: {}", s.join(", "))
            }
            FieldError::Forbidden(_, d) => with("Forbidden".into(), d),
            FieldError::TooLong(_, d) => format!("Too long: {d}"),
            FieldError::Duplicate(_, v) => format!("Duplicate value: {v}"),
            FieldError::TypeInvalid(_, v, d) => with(format!("Invalid value: {v}"), d),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field().is_empty() {
            write!(f, "<nil>: {}", self.detail())
        } else {
            write!(f, "{}: {}", self.field(), self.detail())
        }
    }
}

/// A value as apimachinery's field errors print it: strings quoted, numbers and booleans bare.
pub fn printed(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct StoreError {
    pub reason: Reason,
    /// The group resource and name the error is about ("" when it is about the request).
    pub gr: String,
    pub name: String,
    /// The full sentence, as a real API server words it.
    pub message: String,
    /// For Invalid: the Kind (Status details name the kind, not the resource) and the field errors.
    pub invalid: Option<Box<(String, Vec<FieldError>)>>,
}

impl StoreError {
    fn about(reason: Reason, gr: &str, name: &str, message: String) -> Self {
        StoreError {
            reason,
            gr: gr.to_string(),
            name: name.to_string(),
            message,
            invalid: None,
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
    /// 422 Invalid with field errors: `Deployment.apps "web" is invalid: spec.selector: Required value`
    /// (several errors are listed in brackets), as apierrors.NewInvalid words it.
    pub fn invalid_fields(kind: &str, group: &str, name: &str, errs: Vec<FieldError>) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let list: Vec<String> = errs.iter().map(ToString::to_string).collect();
        let body = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let mut e = Self::about(
            Reason::Invalid,
            group,
            name,
            format!("{qualified} \"{name}\" is invalid: {body}"),
        );
        e.invalid = Some(Box::new((kind.to_string(), errs)));
        e
    }
    pub fn forbidden(gr: &str, name: &str, why: &str) -> Self {
        Self::about(
            Reason::Forbidden,
            gr,
            name,
            format!("{gr} \"{name}\" is forbidden: {why}"),
        )
    }
    pub fn too_large(msg: impl Into<String>) -> Self {
        Self::about(Reason::TooLarge, "", "", msg.into())
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.reason, self.message)
    }
}
