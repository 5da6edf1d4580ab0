//! Finding ApplicationSet objects in the YAML files of the repository.

use super::dirs;
use super::AppSetFile;
use crate::error::UserError;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One YAML document of a file and the line it starts on (1-based).
struct Doc {
    line: usize,
    text: String,
}

/// Split multi-document YAML on `---` / `...` marker lines, keeping line numbers.
fn split_docs(text: &str) -> Vec<Doc> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        let is_marker = line == "---"
            || line.starts_with("--- ")
            || line.starts_with("---\t")
            || line == "..."
            || line.starts_with("... ");
        if is_marker {
            docs.push(Doc {
                line: start,
                text: std::mem::take(&mut cur),
            });
            start = i + 2;
            // `--- {inline}` content after the marker belongs to the new document.
            if let Some(rest) = line.strip_prefix("--- ").filter(|r| !r.trim().is_empty()) {
                cur.push_str(rest);
                cur.push('\n');
                start = i + 1;
            }
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    docs.push(Doc { line: start, text: cur });
    docs
}

/// Whether a document's text declares `kind: ApplicationSet` at its top level.
fn mentions_appset(text: &str) -> bool {
    text.lines().any(|l| {
        let Some(rest) = l.strip_prefix("kind:") else {
            return false;
        };
        let v = rest.split('#').next().unwrap_or("").trim();
        v.trim_matches(|c| c == '"' || c == '\'') == "ApplicationSet"
    })
}

fn is_appset(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("ApplicationSet")
        && v.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("argoproj.io/"))
}

/// Load the ApplicationSets of `repo`, or only those under `scope` (a directory, relative to the
/// repo or absolute inside it, e.g. `clusters/talos`). Files are read in repo walk order
/// (depth-first, by name), documents in file order. Without a scope the whole repo is read (the
/// legacy layout keeps its ApplicationSets anywhere), except a Cargo crate's `tests/`.
pub fn load_appsets(repo: &Path, scope: Option<&Path>) -> Result<Vec<AppSetFile>, UserError> {
    if !repo.is_dir() {
        return Err(UserError::usage("the fleet repository is not a directory")
            .subject(repo.display().to_string())
            .next("pass --repo with the path of the fleet repository"));
    }
    let scope_rel: PathBuf = match scope {
        None => PathBuf::new(),
        Some(s) if s.is_absolute() => s.strip_prefix(repo).map(Path::to_path_buf).map_err(|_| {
            UserError::usage("the scope is outside the fleet repository").subject(s.display().to_string())
        })?,
        Some(s) => s.to_path_buf(),
    };
    let scope_abs = repo.join(&scope_rel);
    if !scope_abs.is_dir() {
        return Err(UserError::usage("no such directory in the fleet repository")
            .subject(scope_abs.display().to_string())
            .next("check --cluster (clusters/<name> must exist)"));
    }
    // When the fleet repo is also a Cargo crate (fleetctl lives in it), its top-level tests/
    // holds fixture fleets, not this fleet: a whole-repo scan leaves it out.
    let skip_tests = scope_rel.as_os_str().is_empty() && repo.join("Cargo.toml").is_file();
    let mut out = Vec::new();
    for f in dirs::list_files(&scope_abs) {
        if !(f.ends_with(".yaml") || f.ends_with(".yml")) {
            continue;
        }
        if skip_tests && f.starts_with("tests/") {
            continue;
        }
        let rel = scope_rel.join(&f);
        let text = match std::fs::read_to_string(scope_abs.join(&f)) {
            Ok(t) => t,
            Err(_) => continue, // not UTF-8 text: not a manifest
        };
        if !mentions_appset(&text) {
            continue;
        }
        for doc in split_docs(&text) {
            if let Some(set) = appset_of_doc(&rel, doc)? {
                out.push(set);
            }
        }
    }
    Ok(out)
}

/// The ApplicationSet a document holds, if it holds one.
fn appset_of_doc(rel: &Path, doc: Doc) -> Result<Option<AppSetFile>, UserError> {
    if !mentions_appset(&doc.text) {
        return Ok(None);
    }
    let v: Value = serde_yaml::from_str(&doc.text).map_err(|e| {
        let line = e.location().map(|l| doc.line + l.line() - 1).unwrap_or(doc.line);
        UserError::usage(format!("malformed YAML in an ApplicationSet: {e}"))
            .subject(format!("{}:{line}", rel.display()))
            .next("fix the YAML (`kubectl apply --dry-run=client -f` shows the same)")
    })?;
    if !is_appset(&v) {
        return Ok(None);
    }
    let meta = v.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() {
        return Err(
            UserError::usage("ApplicationSet without metadata.name").subject(format!("{}:{}", rel.display(), doc.line)),
        );
    }
    let namespace = meta
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .map(str::to_string);
    // Point at the object itself, past leading comments and blank lines.
    let first = doc
        .text
        .lines()
        .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .unwrap_or(0);
    Ok(Some(AppSetFile {
        path: rel.to_path_buf(),
        line: doc.line + first,
        name,
        namespace,
        object: v,
        text: doc.text.lines().skip(first).map(|l| format!("{l}\n")).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_lines() {
        let t = "# c\nkind: A\n---\nkind: ApplicationSet\nx: 1\n--- \n\nkind: B\n";
        let d = split_docs(t);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].line, 1);
        assert_eq!(d[1].line, 4);
        assert!(mentions_appset(&d[1].text));
        assert_eq!(d[2].line, 7);
        assert!(!mentions_appset(&d[2].text));
        assert!(mentions_appset("kind: \"ApplicationSet\" # x\n"));
        assert!(!mentions_appset("  kind: ApplicationSet\n"));
    }
}
