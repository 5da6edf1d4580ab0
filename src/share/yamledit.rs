//! Comment-preserving edits of one field in block-style YAML: `share` takes the cluster-specific values out
//! of the files it moves into a shared base (they go into the source cluster's overlay as patches), and a
//! reader's comments, key order and quoting stay as they were.
//!
//! Only what the edit needs is understood: block mappings and block sequences, found by a JSON pointer.
//! Every edit is checked: the edited document must parse to exactly the original with that one field
//! removed or replaced, otherwise the edit is not made (`None`) and the caller keeps the field where it was.

use serde_json::Value;

/// What to do with the field.
pub enum Op<'a> {
    Delete,
    /// Replace the value with a one-line YAML value (e.g. `[]`), and the JSON it must parse to.
    Replace(&'a str, Value),
}

/// Lines of one document: `(first line index, end line index)`.
fn documents(lines: &[&str]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.trim_end() == "---" || l.starts_with("--- ") {
            out.push((start, i));
            start = i + 1;
        }
    }
    out.push((start, lines.len()));
    out
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

fn is_content(l: &str) -> bool {
    let t = l.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// A block: content starts at `col` on line `first`; it ends before line `end`.
#[derive(Clone, Copy)]
struct Block {
    first: usize,
    col: usize,
    end: usize,
}

/// The key `key` of the mapping in `b`: (its line, its column, the block of its value).
fn find_key(lines: &[&str], b: Block, key: &str) -> Option<(usize, usize, Block)> {
    let mut i = b.first;
    while i < b.end {
        let l = lines[i];
        let at_col = if i == b.first {
            Some(b.col)
        } else {
            Some(indent(l)).filter(|c| *c == b.col)
        };
        if let Some(c) = at_col.filter(|_| is_content(l)) {
            let rest = &l[c.min(l.len())..];
            let k = rest.split(':').next().unwrap_or("").trim().trim_matches(['"', '\'']);
            if k == key && rest.contains(':') {
                let mut end = i + 1;
                // A compact sequence (`key:` then `- item` at the key's own column) belongs to the key.
                let belongs =
                    |l: &str| !is_content(l) || indent(l) > c || (indent(l) == c && l.trim_start().starts_with("- "));
                while end < b.end && belongs(lines[end]) {
                    end += 1;
                }
                // Trailing blank/comment lines belong to whatever follows.
                while end > i + 1 && !is_content(lines[end - 1]) {
                    end -= 1;
                }
                let first = (i + 1..end).find(|&j| is_content(lines[j])).unwrap_or(end);
                let col = lines.get(first).map_or(c, |l| indent(l));
                return Some((i, c, Block { first, col, end }));
            }
        }
        i += 1;
    }
    None
}

/// Item `n` of the block sequence that is the value of the key on line `key_line`.
fn find_item(lines: &[&str], key_line: usize, value: Block, n: usize) -> Option<Block> {
    let items: Vec<usize> = (key_line + 1..value.end)
        .filter(|&i| is_content(lines[i]) && lines[i].trim_start().starts_with("- "))
        .collect();
    let d = indent(lines[*items.first()?]);
    let items: Vec<usize> = items.into_iter().filter(|&i| indent(lines[i]) == d).collect();
    let first = *items.get(n)?;
    let end = items.get(n + 1).copied().unwrap_or(value.end);
    Some(Block { first, col: d + 2, end })
}

/// Apply `op` at `pointer` in the document of `kind`/`name`; `None` when it cannot be done safely.
pub fn edit(text: &str, kind: &str, name: &str, pointer: &str, op: Op) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let segs: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (s, e) in documents(&lines) {
        let doc: String = lines[s..e].concat();
        let Ok(v) = serde_yaml::from_str::<Value>(&doc) else {
            continue;
        };
        if v.get("kind").and_then(Value::as_str) != Some(kind)
            || v.pointer("/metadata/name").and_then(Value::as_str) != Some(name)
            || v.pointer(pointer).is_none()
        {
            continue;
        }
        let first = (s..e).find(|&i| is_content(lines[i]))?;
        let mut block = Block {
            first,
            col: indent(lines[first]),
            end: e,
        };
        let mut key_line = first;
        let mut key_col = block.col;
        let mut parent_key_line = None;
        for (k, seg) in segs.iter().enumerate() {
            if let Ok(n) = seg.parse::<usize>() {
                block = find_item(&lines, key_line, block, n)?;
                continue;
            }
            let (line, col, value) = find_key(&lines, block, seg)?;
            if k + 1 < segs.len() {
                parent_key_line = Some(line);
            }
            key_line = line;
            key_col = col;
            block = value;
        }
        // Never the first key of a sequence item (`- name: x`): deleting it would change the item.
        if lines[key_line].trim_start().starts_with("- ") {
            return None;
        }
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let pad = " ".repeat(key_col);
        // The field's own lines: the key line and its value's.
        let field_end = block.end.max(key_line + 1);
        let key = segs.last()?;
        match &op {
            Op::Delete => {
                out.drain(key_line..field_end);
                let parent = parent_key_line?;
                let still_has_keys = out[parent + 1..]
                    .iter()
                    .take_while(|l| !is_content(l) || indent(l) > indent(&out[parent]))
                    .any(|l| is_content(l));
                if !still_has_keys {
                    let l = out[parent].trim_end().to_string();
                    out[parent] = format!("{l} {{}}\n");
                }
            }
            Op::Replace(inline, _) => {
                out.splice(key_line..field_end, [format!("{pad}{key}: {inline}\n")]);
            }
        }
        let edited = out.concat();
        // The check: exactly the one field changed.
        let mut want = v.clone();
        apply(&mut want, &segs, &op)?;
        let new_lines: Vec<&str> = edited.split_inclusive('\n').collect();
        let new_e = (e + new_lines.len()).checked_sub(lines.len())?;
        let new_doc: String = new_lines[s..new_e].concat();
        let got: Value = serde_yaml::from_str(&new_doc).ok()?;
        return (got == want).then_some(edited);
    }
    None
}

fn apply(v: &mut Value, segs: &[&str], op: &Op) -> Option<()> {
    let (last, parents) = segs.split_last()?;
    let mut cur = v;
    for s in parents {
        cur = match s.parse::<usize>() {
            Ok(n) => cur.get_mut(n)?,
            Err(_) => cur.get_mut(*s)?,
        };
    }
    let m = cur.as_object_mut()?;
    match op {
        Op::Delete => {
            m.remove(*last)?;
        }
        Op::Replace(_, val) => {
            m.insert(last.to_string(), val.clone());
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEP: &str = "# a comment\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 1000   # pinned\n      containers:\n        - name: a\n          securityContext:\n            runAsUser: 1000\n";

    #[test]
    fn deleting_keeps_comments_and_the_rest() {
        let out = edit(
            DEP,
            "Deployment",
            "w",
            "/spec/template/spec/securityContext/runAsUser",
            Op::Delete,
        )
        .unwrap();
        assert!(out.starts_with("# a comment\n"));
        assert!(out.contains("        runAsNonRoot: true\n      containers:"), "{out}");
    }

    #[test]
    fn a_mapping_left_empty_becomes_an_empty_map() {
        let out = edit(
            DEP,
            "Deployment",
            "w",
            "/spec/template/spec/containers/0/securityContext/runAsUser",
            Op::Delete,
        )
        .unwrap();
        assert!(out.ends_with("          securityContext: {}\n"), "{out}");
    }

    #[test]
    fn replacing_a_block_sequence_and_refusing_what_is_not_there() {
        let route = "kind: HTTPRoute\nmetadata:\n  name: r\nspec:\n  parentRefs:\n  - name: gw   # same indent as the key\n    namespace: gateway\n  hostnames:\n    - r.vanillax.me\n  rules: []\n";
        let out = edit(
            route,
            "HTTPRoute",
            "r",
            "/spec/parentRefs",
            Op::Replace("[]", json!([])),
        )
        .unwrap();
        assert_eq!(out, "kind: HTTPRoute\nmetadata:\n  name: r\nspec:\n  parentRefs: []\n  hostnames:\n    - r.vanillax.me\n  rules: []\n");
        assert!(edit(route, "HTTPRoute", "other", "/spec/parentRefs", Op::Delete).is_none());
        assert!(edit(route, "HTTPRoute", "r", "/spec/missing", Op::Delete).is_none());
    }
}
