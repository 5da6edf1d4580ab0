//! User-facing errors: a one-line cause, the file or object involved, and the next step.

use std::fmt;

/// Process exit codes, shared by every command.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// A check failed, a step failed, or a criterion is not passing.
    pub const FAILED: i32 = 1;
    /// Usage or input error (bad flags, malformed YAML, missing answer, unknown phase).
    pub const USAGE: i32 = 2;
    /// Stopped by SIGINT/SIGTERM or Ctrl-C at a prompt (128 + SIGINT, as shells report Ctrl-C).
    pub const INTERRUPTED: i32 = 130;
}

/// An error meant for an operator: what went wrong, where, and what to do next.
#[derive(Debug, Clone)]
pub struct UserError {
    pub cause: String,
    /// The file (with line) or cluster object involved, if any.
    pub subject: Option<String>,
    /// The next thing to try.
    pub next: Option<String>,
    pub code: i32,
}

impl UserError {
    pub fn new(code: i32, cause: impl Into<String>) -> Self {
        UserError {
            cause: cause.into(),
            subject: None,
            next: None,
            code,
        }
    }
    /// An input/usage error (exit 2).
    pub fn usage(cause: impl Into<String>) -> Self {
        Self::new(exit::USAGE, cause)
    }
    /// A failure of the work itself (exit 1).
    pub fn failed(cause: impl Into<String>) -> Self {
        Self::new(exit::FAILED, cause)
    }
    pub fn subject(mut self, s: impl Into<String>) -> Self {
        self.subject = Some(s.into());
        self
    }
    pub fn next(mut self, s: impl Into<String>) -> Self {
        self.next = Some(s.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.cause)?;
        if let Some(s) = &self.subject {
            write!(f, " [{s}]")?;
        }
        if let Some(n) = &self.next {
            write!(f, "; next: {n}")?;
        }
        Ok(())
    }
}

impl std::error::Error for UserError {}

/// Find the exit code for any error: a `UserError` anywhere in the chain decides, otherwise 1.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(u) = cause.downcast_ref::<UserError>() {
            return u.code;
        }
    }
    exit::FAILED
}
