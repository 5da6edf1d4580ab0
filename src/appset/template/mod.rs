//! The two ApplicationSet templating dialects, evaluated offline.
//!
//! - Legacy (`goTemplate` unset/false): fasttemplate. Every `{{ key }}` whose trimmed key is a
//!   string parameter is replaced; any other tag is left exactly as written (Argo CD does the
//!   same, so a typo survives into the Application). A `{{` without `}}` is an error.
//! - `goTemplate: true`: a subset of Go's text/template. Supported: text, `{{ }}` actions with
//!   `{{-`/`-}}` trimming, comments, field chains (`.path.basename`, `.values.wave`, `.`, `$`,
//!   `$.x`), string/number/bool literals, parenthesised sub-pipelines, pipelines with `|`, and
//!   the functions `index len print printf` plus the Sprig/Argo CD functions `lower upper
//!   title trim trimPrefix trimSuffix replace default quote squote trunc join splitList
//!   toString normalize`. Control structures (`if`, `range`, `with`, `define`, ...) are
//!   reported as unsupported. `missingkey=error` makes a missing map key an error; otherwise it
//!   prints `<no value>` exactly as Go does.

/// Options that matter for evaluation (from `spec.goTemplateOptions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoOptions {
    pub missingkey_error: bool,
}

impl GoOptions {
    /// Parse `goTemplateOptions`; unknown options are an error, as in Go (`Option` panics).
    pub fn parse(opts: &[String]) -> Result<GoOptions, String> {
        let mut out = GoOptions::default();
        for o in opts {
            match o.as_str() {
                "missingkey=error" => out.missingkey_error = true,
                "missingkey=default" | "missingkey=invalid" | "missingkey=zero" => out.missingkey_error = false,
                other => return Err(format!("unknown goTemplateOptions entry '{other}'")),
            }
        }
        Ok(out)
    }
}

/// A template failure: the message, and for a missing key the key's name.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub message: String,
    pub missing_key: Option<String>,
}

impl TemplateError {
    fn msg(m: impl Into<String>) -> Self {
        TemplateError {
            message: m.into(),
            missing_key: None,
        }
    }
}

mod eval;
mod funcs;
mod legacy;
mod lex;
mod parse;
#[cfg(test)]
mod tests;

pub use eval::print_value;
pub use funcs::sanitize_name;
pub use legacy::render_legacy;
pub use parse::{render_go, GoTemplate};
