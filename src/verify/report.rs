//! What `verify` reports: findings, per-root results, and the text and JSON forms (docs/verify.md).

use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One problem found in the repo.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// Stable rule id (`schema`, `secret-plaintext`, ...).
    pub rule: String,
    /// The source file (relative to the repo) when it could be found, else the root directory.
    pub file: String,
    /// `Kind/namespace/name`, `Kind/name` for cluster-scoped objects, or empty for file-level findings.
    pub object: String,
    pub message: String,
    /// The kustomization root the object was rendered from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Extra lines (e.g. a unified diff) shown below the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Finding {
    pub fn new(rule: &str, file: impl Into<String>, object: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.into(),
            file: file.into(),
            object: object.into(),
            message: message.into(),
            root: None,
            detail: None,
        }
    }
    /// `RULE file object: message`.
    pub fn line(&self) -> String {
        let obj = if self.object.is_empty() {
            String::new()
        } else {
            format!(" {}", self.object)
        };
        format!("{} {}{}: {}", self.rule, self.file, obj, self.message)
    }
}

/// How a root was rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheState {
    /// Served from the render cache.
    Hit,
    /// Rendered by kustomize (and stored).
    Miss,
    /// kustomize failed (a `render` finding).
    Error,
}

/// One kustomization root.
#[derive(Debug, Clone, Serialize)]
pub struct RootResult {
    pub path: String,
    /// `cluster`, `overlay` or `base`.
    pub kind: String,
    /// The cluster it belongs to (`clusters/<c>/...` or `overlays/<c>`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub cache: CacheState,
    pub objects: usize,
    pub millis: u64,
}

/// Everything `verify` found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub findings: Vec<Finding>,
    pub roots: Vec<RootResult>,
    /// Kinds (`<apiVersion> <Kind>`) with no schema: listed, not errors.
    pub not_validated: BTreeSet<String>,
    pub cache_hits: usize,
    pub cache_misses: usize,
    /// Rendered objects (over all roots; an object rendered by two roots counts twice).
    pub objects: usize,
    /// Objects checked against a schema.
    pub validated: usize,
    /// Where schemas came from (`none` when no CRDs were found).
    pub schema_source: String,
    pub crds_loaded: usize,
    pub core_kinds_loaded: usize,
    pub kustomize: String,
    /// Notes for the operator (e.g. how to get CRDs).
    pub notes: Vec<String>,
    /// Files of objects that no root renders; their objects are validated and linted too.
    pub loose_files: Vec<String>,
}

impl VerifyReport {
    /// No findings.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Roots actually rendered by kustomize in this run.
    pub fn rendered(&self) -> usize {
        self.cache_misses
    }

    /// One line per finding (`RULE file object: message`, details indented), then notes and a summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&f.line());
            out.push('\n');
            if let Some(d) = &f.detail {
                for l in d.lines() {
                    out.push_str("    ");
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        if !self.not_validated.is_empty() {
            out.push_str(&format!(
                "not validated (no schema): {}\n",
                self.not_validated.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        out.push_str(&format!(
            "{}: {} finding(s); {} root(s){}, {} rendered, {} cache hit(s); {} object(s), {} validated; {} kind(s) not validated\n",
            if self.is_clean() { "clean" } else { "FAILED" },
            self.findings.len(),
            self.roots.len(),
            if self.loose_files.is_empty() {
                String::new()
            } else {
                format!(" + {} loose file(s)", self.loose_files.len())
            },
            self.cache_misses,
            self.cache_hits,
            self.objects,
            self.validated,
            self.not_validated.len()
        ));
        out
    }

    /// The JSON report (format in docs/verify.md).
    pub fn to_json(&self) -> Value {
        let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.findings {
            *by_rule.entry(f.rule.as_str()).or_default() += 1;
        }
        json!({
            "version": 1,
            "clean": self.is_clean(),
            "findings": self.findings,
            "roots": self.roots,
            "looseFiles": self.loose_files,
            "notValidated": self.not_validated,
            "summary": {
                "findings": self.findings.len(),
                "byRule": by_rule,
                "roots": self.roots.len(),
                "rendered": self.cache_misses,
                "cacheHits": self.cache_hits,
                "cacheMisses": self.cache_misses,
                "objects": self.objects,
                "validated": self.validated,
                "kindsNotValidated": self.not_validated.len(),
            },
            "schemas": {
                "source": self.schema_source,
                "crds": self.crds_loaded,
                "coreKinds": self.core_kinds_loaded,
            },
            "kustomize": self.kustomize,
            "notes": self.notes,
        })
    }
}
