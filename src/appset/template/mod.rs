//! The two ApplicationSet templating dialects, evaluated offline.
//!
//! - Legacy (`goTemplate` unset/false): fasttemplate. Every `{{ key }}` whose trimmed key is a
//!   string parameter is replaced; any other tag is left exactly as written (Argo CD does the
//!   same, so a typo survives into the Application). A `{{` without `}}` is an error.
//! - `goTemplate: true`: Go's `text/template`, executed by the `gotmpl` crate (a port of Go's
//!   package, checked against Go's own output): control flow (`if`/`else if`/`else`, `with`,
//!   `range` incl. `range $i, $v :=`, `break`, `continue`), variables, pipelines, parentheses,
//!   comparison and logic functions, `len`, `index`, `printf`, `define`/`template`. On top of it,
//!   the Sprig functions Argo CD registers (`sprig.GenericFuncMap()` minus `env`, `expandenv`,
//!   `getHostByName`) and Argo CD's own `normalize`, `slugify`, `toYaml`, `fromYaml`,
//!   `fromYamlArray` (`applicationset/utils/utils.go`), in [`funcs`]. Sprig functions whose
//!   output depends on the clock, randomness or keys (`now`, `randAlpha`, `uuidv4`,
//!   `genPrivateKey`, ...) are refused by name. `missingkey=error` makes a missing map key an
//!   error; otherwise it prints `<no value>` exactly as Go does.
//!
//! Parameters reach the template as Argo CD hands them over: every number a `float64`
//! (generators unmarshal JSON/YAML into `map[string]any`), so `{{ .replicas }}` prints `3` and
//! `1000000` prints `1e+06`, as in Argo CD.

mod funcs;
mod go;
mod legacy;
#[cfg(test)]
mod tests;

pub(crate) use funcs::go_float;
pub use funcs::sanitize_name;
pub use go::render_go;
pub use legacy::render_legacy;

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
