//! Path patterns in CI workflows (`on.<event>.paths`, `paths-ignore`: globs) and Renovate config
//! (`fileMatch`: regexes; `matchPaths`, `matchFileNames`, `ignorePaths`, `includePaths`: globs), checked by
//! what they match: every file a pattern list matched before the move must, at its new place, be matched
//! by the same list after it.

use super::plan::Plan;
use super::tree::Tree;
use serde_json::Value;
use std::collections::BTreeSet;

/// Whether a file is a Renovate config.
pub fn is_renovate(path: &str) -> bool {
    matches!(
        path,
        "renovate.json"
            | "renovate.json5"
            | ".renovaterc"
            | ".renovaterc.json"
            | ".github/renovate.json"
            | ".github/renovate.json5"
            | ".gitlab/renovate.json"
    )
}

/// Whether a file is a GitHub Actions workflow.
pub fn is_workflow(path: &str) -> bool {
    path.starts_with(".github/workflows/") && (path.ends_with(".yaml") || path.ends_with(".yml"))
}

#[derive(Clone, Copy)]
enum Kind {
    Glob,
    Regex,
}

/// (JSON pointer, kind, patterns) of every pattern list in the file.
fn lists(path: &str, text: &str) -> Vec<(String, Kind, Vec<String>)> {
    let v: Value = if is_workflow(path) {
        serde_yaml::from_str(text).unwrap_or(Value::Null)
    } else {
        serde_json::from_str(text).unwrap_or(Value::Null)
    };
    let mut out = Vec::new();
    walk(&v, String::new(), is_workflow(path), &mut out);
    out
}

fn walk(v: &Value, ptr: String, workflow: bool, out: &mut Vec<(String, Kind, Vec<String>)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{ptr}/{k}");
                let kind = match (workflow, k.as_str()) {
                    (true, "paths" | "paths-ignore") => Some(Kind::Glob),
                    (false, "fileMatch") => Some(Kind::Regex),
                    (false, "matchPaths" | "matchFileNames" | "ignorePaths" | "includePaths") => Some(Kind::Glob),
                    _ => None,
                };
                match (kind, x.as_array()) {
                    (Some(kind), Some(a)) => {
                        let pats = a.iter().filter_map(Value::as_str).map(str::to_string).collect();
                        out.push((p, kind, pats));
                    }
                    _ => walk(x, p, workflow, out),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, format!("{ptr}/{i}"), workflow, out);
            }
        }
        _ => {}
    }
}

/// A matcher for a list; patterns that cannot be compiled (JavaScript-only regex syntax) are left out.
fn matcher(kind: Kind, pats: &[String]) -> Box<dyn Fn(&str) -> bool> {
    match kind {
        Kind::Glob => {
            let mut b = globset::GlobSetBuilder::new();
            for p in pats {
                if let Ok(g) = globset::GlobBuilder::new(p).literal_separator(true).build() {
                    b.add(g);
                }
            }
            let set = b.build().unwrap_or_else(|_| globset::GlobSet::empty());
            Box::new(move |f| set.is_match(f))
        }
        Kind::Regex => {
            let res: Vec<regex::Regex> = pats.iter().filter_map(|p| regex::Regex::new(p).ok()).collect();
            Box::new(move |f| res.iter().any(|r| r.is_match(f)))
        }
    }
}

/// Pattern lists that lost files in the move: (line in the after file, what).
pub fn check(
    plan: &Plan,
    (before, after): (&Tree, &Tree),
    before_text: &str,
    after_text: &str,
    (before_file, after_file): (&str, &str),
) -> Vec<(usize, String)> {
    let after_lists = lists(after_file, after_text);
    let mut out = Vec::new();
    for (ptr, kind, pats) in lists(before_file, before_text) {
        let m = matcher(kind, &pats);
        let matched: BTreeSet<String> = before.files.iter().filter(|f| m(f)).map(|f| plan.map(f)).collect();
        if matched.is_empty() {
            continue;
        }
        let now = after_lists.iter().find(|(p, _, _)| *p == ptr);
        let Some((_, kind2, pats2)) = now else {
            out.push((1, format!("{ptr} is gone; it matched {} files", matched.len())));
            continue;
        };
        let m2 = matcher(*kind2, pats2);
        let lost: Vec<&String> = matched.iter().filter(|f| after.exists(f) && !m2(f)).collect();
        if !lost.is_empty() {
            let key = ptr.rsplit('/').find(|s| s.parse::<usize>().is_err()).unwrap_or("");
            let line = after_text
                .lines()
                .position(|l| pats2.first().is_some_and(|p| l.contains(p.as_str())) || l.contains(key))
                .map(|i| i + 1)
                .unwrap_or(1);
            out.push((
                line,
                format!(
                    "{key} {:?} no longer matches {} of the files it matched before the move (e.g. {})",
                    pats2,
                    lost.len(),
                    lost[0]
                ),
            ));
        }
    }
    out
}
