//! Rendering a kustomization with the real kustomize (`kustomize build` or `kubectl kustomize`), the way the
//! repo's Argo CD builds it.
//!
//! Public API (shared by `verify` and `appset`):
//! - [`Kustomize::find`], [`Kustomize::render_text`] / [`Kustomize::render`]: a plain build;
//! - [`BuildOptions::from_repo`]: Argo CD's `kustomize.buildOptions` as the repo's Git holds them, and helm
//!   found through `which`; [`Kustomize::render_text_with`] builds with them;
//! - [`helm_charts`]: the `helmCharts` a kustomization (and what it includes) inflates, to tell up front
//!   that a root needs helm;
//! - [`parse_multi_doc`].

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

    fn command(&self, dir: &Path, flags: Vec<std::ffi::OsString>) -> duct::Expression {
        let (program, verb) = match self {
            Kustomize::Standalone(p) => (p, "build"),
            Kustomize::Kubectl(p) => (p, "kustomize"),
        };
        let args = [verb.into(), dir.as_os_str().to_owned()].into_iter().chain(flags);
        let cmd = duct::cmd(program, args);
        go_runtime_tuning(|key| std::env::var_os(key).is_some())
            .into_iter()
            .fold(cmd, |cmd, (key, value)| cmd.env(key, value))
    }

    /// Render `dir` to YAML text.
    pub fn render_text(&self, dir: &Path) -> Result<String, UserError> {
        self.run(self.command(dir, Vec::new()), dir)
    }

    /// Render `dir` to YAML text with Argo CD's build options (e.g. `--enable-helm`, with the helm found).
    pub fn render_text_with(&self, dir: &Path, opts: &BuildOptions) -> Result<String, UserError> {
        let mut args: Vec<std::ffi::OsString> = opts.flags.iter().map(Into::into).collect();
        if let Some(helm) = opts.helm.as_ref().filter(|_| opts.enables_helm()) {
            args.push("--helm-command".into());
            args.push(helm.into());
        }
        self.run(self.command(dir, args), dir)
    }

    /// Render `dir` with extra kustomize flags as given (appset: the flags of one cluster's Argo CD).
    pub fn render_text_args(&self, dir: &Path, flags: &[String]) -> Result<String, UserError> {
        self.run(self.command(dir, flags.iter().map(Into::into).collect()), dir)
    }

    fn run(&self, cmd: duct::Expression, dir: &Path) -> Result<String, UserError> {
        let out = cmd.stdout_capture().stderr_capture().unchecked().run().map_err(|e| {
            UserError::failed(format!("could not run kustomize: {e}")).subject(dir.display().to_string())
        })?;
        if !out.status.success() {
            // kustomize's whole error, without kubectl's log prefixes.
            let err = String::from_utf8_lossy(&out.stderr);
            // kubectl's multi-line form is `"command failed" err=<`, the error's lines, then `>`.
            let lines: Vec<String> = err
                .lines()
                .map(|l| strip_klog(l.trim()).replace("\\\"", "\""))
                .filter(|l| !l.is_empty() && l != ">" && !l.ends_with("\"command failed\" err=<"))
                .collect();
            let msg = if lines.is_empty() {
                "kustomize failed".to_string()
            } else {
                lines.join("; ")
            };
            return Err(UserError::usage(format!("kustomize build failed: {msg}"))
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

/// How the repo's Argo CD builds kustomizations: `kustomize.buildOptions` from the Argo CD configuration in
/// Git, and the helm binary on PATH.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// kustomize flags (`--enable-helm`, `--load-restrictor LoadRestrictionsNone`, ...).
    pub flags: Vec<String>,
    /// Where the flags were found (`file: field`); `None` when the repo holds no Argo CD configuration.
    pub source: Option<String>,
    /// helm, found through `which`.
    pub helm: Option<PathBuf>,
}

impl BuildOptions {
    /// Read the build options from the repo's YAML files (`files`; an `argocd-cm` ConfigMap, the argo-cd
    /// Helm chart's values or `valuesInline` in a kustomization's `helmCharts`, or an `ArgoCD` resource's
    /// `spec.kustomizeBuildOptions`), and find helm.
    pub fn from_repo(files: &[PathBuf]) -> BuildOptions {
        let mut opts = BuildOptions {
            helm: which::which("helm").ok(),
            ..Default::default()
        };
        for f in files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            if !(text.contains("kustomize.buildOptions") || text.contains("kustomizeBuildOptions")) {
                continue;
            }
            let Ok(docs) = parse_multi_doc(&text) else {
                continue;
            };
            if let Some((field, value)) = docs.iter().find_map(build_options_in) {
                opts.flags = value.split_whitespace().map(str::to_string).collect();
                opts.source = Some(format!("{}: {field}", f.display()));
                break;
            }
        }
        opts
    }

    /// Whether kustomize may inflate `helmCharts` (`--enable-helm`).
    pub fn enables_helm(&self) -> bool {
        self.flags
            .iter()
            .any(|f| f == "--enable-helm" || f == "--enable-helm=true")
    }

    /// The same options with `--enable-helm` added (for a repo whose Argo CD configuration is not in Git).
    pub fn with_helm(&self) -> BuildOptions {
        let mut o = self.clone();
        if !o.enables_helm() {
            o.flags.push("--enable-helm".into());
        }
        o
    }
}

/// `(field, buildOptions)` of one YAML document, if it configures Argo CD's kustomize build.
fn build_options_in(d: &Value) -> Option<(&'static str, &str)> {
    let s = |p: &str| d.pointer(p).and_then(Value::as_str);
    let kind = s("/kind");
    if kind == Some("ConfigMap") && s("/metadata/name") == Some("argocd-cm") {
        return s("/data/kustomize.buildOptions").map(|v| ("data[kustomize.buildOptions]", v));
    }
    if kind == Some("ArgoCD") {
        return s("/spec/kustomizeBuildOptions").map(|v| ("spec.kustomizeBuildOptions", v));
    }
    if d.get("kind").is_none() {
        if let Some(v) = s("/configs/cm/kustomize.buildOptions") {
            return Some(("configs.cm[kustomize.buildOptions] (argo-cd Helm values)", v));
        }
    }
    d.get("helmCharts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|c| {
            c.pointer("/valuesInline/configs/cm/kustomize.buildOptions")
                .and_then(Value::as_str)
        })
        .map(|v| ("helmCharts[].valuesInline.configs.cm[kustomize.buildOptions]", v))
}

/// The names of the `helmCharts` the kustomization in `dir` inflates, its resources' and components'
/// included (empty when it needs no helm).
pub fn helm_charts(dir: &Path) -> Vec<String> {
    fn visit(dir: &Path, seen: &mut std::collections::HashSet<PathBuf>, out: &mut Vec<String>) {
        let canon = dir.canonicalize().unwrap_or(dir.to_path_buf());
        if !seen.insert(canon.clone()) {
            return;
        }
        let Some(k) = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .map(|f| canon.join(f))
            .find(|p| p.is_file())
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_yaml::from_str::<Value>(&t).ok())
        else {
            return;
        };
        for c in k.get("helmCharts").and_then(Value::as_array).into_iter().flatten() {
            out.push(c.get("name").and_then(Value::as_str).unwrap_or_default().to_string());
        }
        for field in ["resources", "components", "bases"] {
            for r in k.get(field).and_then(Value::as_array).into_iter().flatten() {
                let p = canon.join(r.as_str().unwrap_or_default());
                if p.is_dir() {
                    visit(&p, seen, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    visit(dir, &mut Default::default(), &mut out);
    out
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
