//! Repointing paths after the move, as text edits that keep comments, quoting and templating intact.
//!
//! - In every Application and ApplicationSet document: each `path:` value that is a literal path or a
//!   generator pattern (`my-apps/*/*`) is mapped through the plan; templated values (`{{path}}`,
//!   `{{ .path.path }}`) are left alone, since they follow the generator.
//! - When an ApplicationSet's generator paths get deeper (`my-apps/x` -> `clusters/talos/my-apps/x` is
//!   two segments more), its path-segment references shift with them: `{{path[1]}}` -> `{{path[3]}}`,
//!   `index .path.segments 1` -> `index .path.segments 3`, so they still name the same directory.
//! - In bootstrap files (scripts, READMEs): repo-relative path tokens are mapped through the plan.

use super::plan::Plan;

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
}

/// Split a `path:` line into (prefix up to the value, value, quote, suffix after the value).
fn split_path_line(line: &str) -> Option<(&str, &str, &str, &str)> {
    let t = line.trim_start();
    let body = t.strip_prefix("- ").map(str::trim_start).unwrap_or(t);
    let rest = body.strip_prefix("path:")?;
    let value_start = line.len() - rest.len() + (rest.len() - rest.trim_start().len());
    let v = &line[value_start..];
    let (quote, inner_start) = match v.chars().next() {
        Some('"') => ("\"", 1),
        Some('\'') => ("'", 1),
        _ => ("", 0),
    };
    let inner = &v[inner_start..];
    let end = if quote.is_empty() {
        inner.find(" #").unwrap_or(inner.len())
    } else {
        inner.find(quote)?
    };
    let value = inner[..end].trim_end();
    if value.is_empty() {
        return None;
    }
    let prefix = &line[..value_start + inner_start];
    let suffix = &line[value_start + inner_start + value.len()..];
    Some((prefix, value, quote, suffix))
}

/// Shift every path-segment index in a templated line by `delta`.
fn shift_segments(line: &str, delta: isize) -> String {
    if delta == 0 || !line.contains("{{") {
        return line.to_string();
    }
    let mut out = String::new();
    let mut rest = line;
    loop {
        // The next of: `path[N]` (legacy) or `path.segments N` (goTemplate `index`).
        let a = rest.find("path[").map(|i| (i, i + 5));
        let b = rest.find("path.segments").map(|i| (i, i + 13));
        let next = match (a, b) {
            (Some(x), Some(y)) => Some(if x.0 < y.0 { x } else { y }),
            (x, y) => x.or(y),
        };
        let Some((_, after)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            let n: isize = rest[..digits].parse().unwrap_or(0);
            out.push_str(&(n + delta).max(0).to_string());
            rest = &rest[digits..];
        }
    }
}

/// `argocd.argoproj.io/manifest-generate-paths: .;/my-apps/common`: absolute entries (from the repository
/// root) are mapped through the plan; relative ones follow the Application's own path.
fn map_generate_paths(line: &str, plan: &Plan) -> Option<String> {
    let key = "argocd.argoproj.io/manifest-generate-paths:";
    let i = line.find(key)? + key.len();
    let (head, v) = line.split_at(i);
    let lead = &v[..v.len() - v.trim_start().len()];
    let v = v.trim_start();
    let (quote, inner) = match v.chars().next() {
        Some(q @ ('"' | '\'')) => (q.to_string(), v[1..].trim_end().strip_suffix(q)?),
        _ => (String::new(), v.trim_end()),
    };
    let mapped: Vec<String> = inner
        .split(';')
        .map(|e| match e.trim().strip_prefix('/') {
            Some(abs) if !abs.contains("{{") => format!("/{}", plan.map(abs.trim_end_matches('/'))),
            _ => e.to_string(),
        })
        .collect();
    Some(format!("{head}{lead}{quote}{}{quote}", mapped.join(";")))
}

/// What rewriting one file did.
#[derive(Debug, Default, Clone)]
pub struct Rewritten {
    pub text: String,
    /// `old -> new` for each path value changed.
    pub changes: Vec<String>,
    /// Segment references shifted, with the delta.
    pub shifted: usize,
}

fn top_kind(doc: &[&str]) -> Option<String> {
    doc.iter().find_map(|l| {
        l.strip_prefix("kind:").map(|k| {
            k.split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\''])
                .to_string()
        })
    })
}

/// Rewrite the Application / ApplicationSet documents of one YAML file. `file` names it in errors.
pub fn rewrite_manifest(text: &str, plan: &Plan, file: &str) -> Result<Rewritten, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut docs: Vec<Vec<&str>> = vec![vec![]];
    for l in &lines {
        if l.trim_end() == "---" {
            docs.push(vec![l]);
        } else {
            docs.last_mut().unwrap().push(l);
        }
    }
    let mut out = Rewritten::default();
    let mut line_no = 0;
    for doc in docs {
        let kind = top_kind(&doc);
        let relevant = matches!(kind.as_deref(), Some("Application" | "ApplicationSet"));
        let mut new_lines = Vec::new();
        let mut deltas = Vec::new();
        for l in &doc {
            line_no += 1;
            let (body, nl) = match l.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (*l, ""),
            };
            if !relevant {
                new_lines.push(l.to_string());
                continue;
            }
            if let Some(new) = map_generate_paths(body, plan) {
                if new != body {
                    out.changes.push(format!("{} -> {}", body.trim(), new.trim()));
                    new_lines.push(format!("{new}{nl}"));
                    continue;
                }
            }
            if let Some((pre, value, _quote, suf)) = split_path_line(body) {
                if !value.contains("{{") {
                    let (mapped, delta) = plan.map_pattern(value).map_err(|m| format!("{m} [{file}:{line_no}]"))?;
                    if mapped != value {
                        out.changes.push(format!("{value} -> {mapped}"));
                        deltas.push(delta);
                        new_lines.push(format!("{pre}{mapped}{suf}{nl}"));
                        continue;
                    }
                }
            }
            new_lines.push(l.to_string());
        }
        if kind.as_deref() == Some("ApplicationSet") && !deltas.is_empty() {
            let d = deltas[0];
            let uses_segments = new_lines
                .iter()
                .any(|l| l.contains("{{") && (l.contains("path[") || l.contains("path.segments")));
            if uses_segments && deltas.iter().any(|x| *x != d) {
                return Err(format!(
                    "its generator paths move by different depths, so its path-segment references cannot be shifted [{file}]"
                ));
            }
            if uses_segments && d != 0 {
                for l in new_lines.iter_mut() {
                    let s = shift_segments(l, d);
                    if s != *l {
                        out.shifted += 1;
                        *l = s;
                    }
                }
            }
        }
        out.text.extend(new_lines);
    }
    Ok(out)
}

/// Rewrite repo-relative path tokens in a bootstrap file (a script, a README).
pub fn rewrite_tokens(text: &str, plan: &Plan) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut n = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let boundary = i == 0 || !is_path_char(chars[i - 1].1);
        if boundary && is_path_char(c) && c != '/' {
            let mut j = i;
            while j < chars.len() && is_path_char(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map(|x| x.0).unwrap_or(text.len());
            let token = &text[pos..end];
            let trimmed = token.trim_end_matches(['.', '/']);
            let mapped = if trimmed.contains('/') || plan.moves.iter().any(|m| m.from == trimmed) {
                plan.map(trimmed)
            } else {
                trimmed.to_string()
            };
            if mapped != trimmed {
                n += 1;
                out.push_str(&mapped);
                out.push_str(&token[trimmed.len()..]);
            } else {
                out.push_str(token);
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::super::plan::Move;
    use super::*;

    fn plan() -> Plan {
        let mv = |f: &str, t: &str| Move {
            id: f.into(),
            from: f.into(),
            to: t.into(),
            default: t.into(),
            file: false,
        };
        Plan {
            moves: vec![
                mv("infrastructure", "clusters/talos/infrastructure"),
                mv("my-apps", "clusters/talos/my-apps"),
                mv("bootstrap", "clusters/talos/bootstrap"),
                mv("infrastructure/controllers/argocd/apps", "clusters/talos/apps"),
            ],
        }
    }

    #[test]
    fn path_values_and_segments() {
        let t = "# keep me: my-apps/x\nkind: ApplicationSet\nspec:\n  generators:\n    - git:\n        directories:\n          - path: my-apps/*/*  # all\n          - path: \"my-apps/common/*\"\n            exclude: true\n  template:\n    metadata:\n      name: '{{path[1]}}-{{ index .path.segments 0 }}'\n    spec:\n      source:\n        path: '{{path}}'\n---\nkind: ConfigMap\ndata:\n  path: my-apps/x\n";
        let r = rewrite_manifest(t, &plan(), "f.yaml").unwrap();
        assert!(
            r.text.contains("          - path: clusters/talos/my-apps/*/*  # all\n"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("- path: \"clusters/talos/my-apps/common/*\"\n"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("name: '{{path[3]}}-{{ index .path.segments 2 }}'"),
            "{}",
            r.text
        );
        assert!(r.text.contains("path: '{{path}}'"));
        assert!(r.text.contains("# keep me: my-apps/x"));
        assert!(r.text.ends_with("  path: my-apps/x\n"), "ConfigMaps are not touched");
        assert_eq!(r.changes.len(), 2);
        // Idempotent on its own output: nothing left to map.
        let again = rewrite_manifest(&r.text, &plan(), "f.yaml").unwrap();
        assert!(again.changes.is_empty());
    }

    #[test]
    fn root_application_path() {
        let t = "kind: Application\nspec:\n  source:\n    path: infrastructure/controllers/argocd/apps\n";
        let r = rewrite_manifest(t, &plan(), "root.yaml").unwrap();
        assert_eq!(
            r.text,
            "kind: Application\nspec:\n  source:\n    path: clusters/talos/apps\n"
        );
    }

    #[test]
    fn bootstrap_tokens() {
        let (t, n) = rewrite_tokens(
            "helm -f bootstrap/values.yaml\nkubectl apply -f infrastructure/controllers/argocd/apps/root.yaml\ncurl https://x.io/my-apps/y\nmy-apps-z\n",
            &plan(),
        );
        assert_eq!(n, 2);
        assert!(t.contains("-f clusters/talos/bootstrap/values.yaml"));
        assert!(t.contains("-f clusters/talos/apps/root.yaml"));
        assert!(t.contains("https://x.io/my-apps/y"));
        assert!(t.contains("\nmy-apps-z"));
    }
}
