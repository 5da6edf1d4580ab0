//! Rendering a kustomization with the real kustomize (`kustomize build` or `kubectl kustomize`).

use crate::error::UserError;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The kustomize program found on PATH.
#[derive(Debug, Clone)]
pub enum Kustomize {
    /// A standalone `kustomize` binary.
    Standalone(PathBuf),
    /// `kubectl kustomize`.
    Kubectl(PathBuf),
}

impl Kustomize {
    /// Find kustomize: a standalone binary first, else kubectl's built-in one.
    pub fn find() -> Result<Kustomize, UserError> {
        if let Ok(p) = which::which("kustomize") {
            return Ok(Kustomize::Standalone(p));
        }
        if let Ok(p) = which::which("kubectl") {
            return Ok(Kustomize::Kubectl(p));
        }
        Err(UserError::usage("neither kustomize nor kubectl was found on PATH")
            .next("install kubectl (https://kubernetes.io/docs/tasks/tools/) or kustomize, then retry"))
    }

    fn command(&self, dir: &Path, extra: &[String]) -> duct::Expression {
        let sub = match self {
            Kustomize::Standalone(_) => "build",
            Kustomize::Kubectl(_) => "kustomize",
        };
        let mut args: Vec<std::ffi::OsString> = vec![sub.into(), dir.as_os_str().into()];
        args.extend(extra.iter().map(Into::into));
        let cmd = match self {
            Kustomize::Standalone(p) | Kustomize::Kubectl(p) => duct::cmd(p, args),
        };
        go_runtime_tuning(|key| std::env::var_os(key).is_some())
            .into_iter()
            .fold(cmd, |cmd, (key, value)| cmd.env(key, value))
    }

    /// Render `dir` to YAML text.
    pub fn render_text(&self, dir: &Path) -> Result<String, UserError> {
        self.render_text_with(dir, &[])
    }

    /// Render `dir` with extra build options (Argo CD's `kustomize.buildOptions`, e.g.
    /// `--enable-helm`). A failure carries kustomize's whole error, not only its first line.
    pub fn render_text_with(&self, dir: &Path, options: &[String]) -> Result<String, UserError> {
        let out = self
            .command(dir, options)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| {
                UserError::failed(format!("could not run kustomize: {e}")).subject(dir.display().to_string())
            })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            // kubectl's multi-line form is `"command failed" err=<`, the error's lines, then `>`.
            let whole: Vec<String> = err
                .lines()
                .map(|l| strip_klog(l.trim()).replace("\\\"", "\""))
                .filter(|l| !l.is_empty() && l != ">" && !l.ends_with("\"command failed\" err=<"))
                .collect();
            let whole = if whole.is_empty() {
                "kustomize failed".to_string()
            } else {
                whole.join("\n")
            };
            return Err(UserError::usage(format!("kustomize build failed: {whole}"))
                .subject(dir.display().to_string())
                .next(format!(
                    "run `kubectl kustomize {}` to see the full error",
                    dir.display()
                )));
        }
        String::from_utf8(out.stdout)
            .map_err(|_| UserError::failed("kustomize printed non-UTF-8 output").subject(dir.display().to_string()))
    }

    /// Render `dir` to a list of objects (JSON values), in kustomize's order.
    pub fn render(&self, dir: &Path) -> Result<Vec<Value>, UserError> {
        let text = self.render_text(dir)?;
        parse_multi_doc(&text).map_err(|e| e.subject(dir.display().to_string()))
    }
}

/// kubectl logs errors through klog: `E1124 10:43:17.248509   18098 run.go:72] error: ...`. Keep the message.
fn strip_klog(line: &str) -> &str {
    let b = line.as_bytes();
    let klog = b.len() > 6 && b"IWEF".contains(&b[0]) && b[1..5].iter().all(u8::is_ascii_digit) && b[5] == b' ';
    let msg = match line.split_once("] ") {
        Some((_, rest)) if klog => rest.trim_start_matches("error: "),
        _ => line,
    };
    // Structured form: `"command failed" err="..."`.
    match msg.split_once(" err=\"") {
        Some((_, err)) if msg.starts_with('"') => err.strip_suffix('"').unwrap_or(err),
        _ => msg,
    }
}

/// Go runtime settings for a short-lived kustomize process, unless the user has set them.
///
/// A build lives for tens of milliseconds, so collecting garbage is wasted work: the collector stays off
/// until the heap nears a soft limit (`GOGC=off` with `GOMEMLIMIT`), and each process keeps to one core
/// because fleetctl already runs builds side by side. The output is the same; only CPU time changes.
/// `scripts/bench-verify.py` measures the effect against a plain `kubectl kustomize` loop.
fn go_runtime_tuning(user_set: impl Fn(&str) -> bool) -> Vec<(&'static str, &'static str)> {
    if user_set("GOGC") || user_set("GOMEMLIMIT") {
        return Vec::new();
    }
    let mut env = vec![("GOGC", "off"), ("GOMEMLIMIT", "512MiB")];
    if !user_set("GOMAXPROCS") {
        env.push(("GOMAXPROCS", "1"));
    }
    env
}

/// Parse multi-document YAML into objects; a `List` is flattened into its items; empty documents are skipped.
pub fn parse_multi_doc(text: &str) -> Result<Vec<Value>, UserError> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v: Value = serde::Deserialize::deserialize(doc).map_err(|e| {
            let loc = e.location().map(|l| format!("line {}: ", l.line())).unwrap_or_default();
            UserError::usage(format!("malformed YAML: {loc}{e}"))
        })?;
        match v {
            Value::Null => {}
            Value::Object(ref m)
                if m.get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List"))
                    && m.contains_key("items") =>
            {
                if let Some(Value::Array(items)) = m.get("items") {
                    out.extend(items.iter().cloned());
                }
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::go_runtime_tuning;

    #[test]
    fn klog_prefixes_are_dropped_from_kubectl_errors() {
        let line = "E1124 10:43:17.248509   18098 run.go:72] error: accumulating resources: missing.yaml";
        assert_eq!(super::strip_klog(line), "accumulating resources: missing.yaml");
        let structured = r#"E1124 11:02:47.335688    5336 run.go:72] "command failed" err="accumulating resources: x""#;
        assert_eq!(super::strip_klog(structured), "accumulating resources: x");
        let plain = "Error: accumulating resources: missing.yaml";
        assert_eq!(super::strip_klog(plain), plain);
    }

    #[test]
    fn a_failed_build_reports_kustomizes_whole_error() {
        let Ok(k) = super::Kustomize::find() else {
            eprintln!("skipped: no kustomize or kubectl on PATH");
            return;
        };
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join("kustomization.yaml"),
            "helmCharts:\n  - name: x\n    repo: https://127.0.0.1:1/charts\n    version: 1.0.0\n",
        )
        .unwrap();
        let e = k.render_text(t.path()).unwrap_err();
        // kubectl prints this one over several lines; all of them are kept, the klog frame is not.
        assert!(e.cause.contains("HelmChartInflationGenerator"), "{e}");
        assert!(e.cause.contains("must specify --enable-helm"), "{e}");
        assert!(!e.cause.contains("command failed"), "{e}");
    }

    #[test]
    fn go_runtime_tuning_defers_to_the_users_own_settings() {
        let none = go_runtime_tuning(|_| false);
        assert_eq!(
            none,
            vec![("GOGC", "off"), ("GOMEMLIMIT", "512MiB"), ("GOMAXPROCS", "1")]
        );
        assert!(go_runtime_tuning(|k| k == "GOGC").is_empty());
        assert!(go_runtime_tuning(|k| k == "GOMEMLIMIT").is_empty());
        assert_eq!(
            go_runtime_tuning(|k| k == "GOMAXPROCS"),
            vec![("GOGC", "off"), ("GOMEMLIMIT", "512MiB")]
        );
    }
}
