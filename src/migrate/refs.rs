//! Paths named in live config (scripts, CI workflows, Renovate config, Helm values and other non-manifest
//! YAML): found, repointed when that is safe, and checked after the move.
//!
//! A line is read as shell-like words: `$VAR`, `${VAR}`, `$(dirname "$0")` and literal path characters
//! (`a-z0-9._-/*?`) that touch form one expression (`"$ROOT_DIR/infrastructure/x.yaml"`). An expression is
//! resolved to a repository path: a plain literal from the repository root, `$SCRIPT_DIR/..` from the
//! script's own folder, `$ROOT_DIR/x` through the assignments earlier in the file (`SCRIPT_DIR="$(cd
//! "$(dirname "${BASH_SOURCE[0]}")" && pwd)"`, `ROOT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"`, `git rev-parse
//! --show-toplevel`). Only literal text is rewritten, and only where the old path existed: a path built
//! from another variable (`$ROOT_DIR/$APPS_TREE`) is never guessed at; the check after the move finds it
//! if it broke, with its file:line.

use super::plan::Plan;
use super::tree::{self, Tree};
use std::collections::BTreeMap;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Var(String),
    Lit(String),
}

/// One expression of a line: its pieces with their byte ranges.
#[derive(Debug, Clone)]
struct Expr {
    pieces: Vec<(Piece, Range<usize>)>,
}

const SCRIPT_DIR: &str = "@scriptdir";

fn is_path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/' | b'*' | b'?')
}

/// `$(dirname "$0")`, `$( dirname -- "${BASH_SOURCE[0]}" )`: the script's own folder. Returns the length.
fn dirname_subst(s: &str) -> Option<usize> {
    let inner_end = s.find(')')?;
    let inner = &s[2..inner_end];
    let t = inner.trim();
    let ok = t.starts_with("dirname") && (t.contains("$0") || t.contains("BASH_SOURCE")) && !t.contains('(');
    ok.then_some(inner_end + 1)
}

/// Split one line into expressions.
fn scan(line: &str) -> Vec<Expr> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut cur: Vec<(Piece, Range<usize>)> = Vec::new();
    let mut i = 0;
    let flush = |cur: &mut Vec<(Piece, Range<usize>)>, out: &mut Vec<Expr>| {
        if !cur.is_empty() {
            out.push(Expr {
                pieces: std::mem::take(cur),
            });
        }
    };
    while i < b.len() {
        let c = b[i];
        if c == b'$' {
            let rest = &line[i..];
            if rest.starts_with("$(") {
                if let Some(n) = dirname_subst(rest) {
                    cur.push((Piece::Var(SCRIPT_DIR.into()), i..i + n));
                    i += n;
                    continue;
                }
                flush(&mut cur, &mut out);
                i += 2;
                continue;
            }
            if let Some(inner) = rest.strip_prefix("${") {
                let end = rest.find('}').map(|e| i + e + 1).unwrap_or(b.len());
                let name: String = inner
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let name = if name.is_empty() { "@unknown".to_string() } else { name };
                cur.push((Piece::Var(name), i..end));
                i = end;
                continue;
            }
            let name: String = rest[1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                flush(&mut cur, &mut out);
                i += 1;
                continue;
            }
            cur.push((Piece::Var(name.clone()), i..i + 1 + name.len()));
            i += 1 + name.len();
            continue;
        }
        if is_path_char(c) {
            let start = i;
            while i < b.len() && is_path_char(b[i]) {
                i += 1;
            }
            cur.push((Piece::Lit(line[start..i].to_string()), start..i));
            continue;
        }
        // A quote joins what touches it on both sides ("$ROOT_DIR"/x); anything else ends the expression.
        let joins = (c == b'"' || c == b'\'')
            && !cur.is_empty()
            && b.get(i + 1).is_some_and(|n| is_path_char(*n) || *n == b'$');
        if !joins {
            flush(&mut cur, &mut out);
        }
        i += 1;
    }
    flush(&mut cur, &mut out);
    out
}

/// What a variable stands for, from an assignment earlier in the file.
#[derive(Debug, Clone, PartialEq)]
enum Binding {
    /// A directory of the repository (`""` is its root), in the coordinates of the file's own side; `true`
    /// when it is the script's own folder (it moves with the script).
    Dir(String, bool),
    /// A plain literal (`APPS_TREE=my-apps`): used in a path, the path is built at run time.
    Lit(String, usize),
}

/// An expression resolved to a repository path.
#[derive(Debug, Clone)]
struct Resolved {
    /// The repository path (normalised; a glob keeps its pattern segments).
    path: String,
    /// The literal (non-glob) leading segments of `path`.
    literal: String,
    glob: bool,
    /// The directory the first variable stands for (`None`: a plain literal from the repository root).
    anchor: Option<String>,
    /// Built with a literal variable (`$APPS_TREE`): the line of that assignment.
    built_from: Option<(String, usize)>,
}

fn assignment(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start();
    let t = ["export ", "local ", "readonly "]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .unwrap_or(t);
    let eq = t.find('=')?;
    let name = &t[..eq];
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.chars().next().is_some_and(|c| c.is_ascii_digit());
    valid.then(|| (name, t[eq + 1..].trim()))
}

struct Env<'a> {
    /// The file's repository path on this side.
    file: &'a str,
    vars: BTreeMap<String, Binding>,
}

impl Env<'_> {
    fn resolve(&self, e: &Expr) -> Option<Resolved> {
        let mut pieces = e.pieces.iter();
        let (first, _) = pieces.next()?;
        let mut built_from = None;
        let (anchor, mut text) = match first {
            Piece::Var(v) if v == SCRIPT_DIR => (Some(tree::parent(self.file).to_string()), String::new()),
            Piece::Var(v) => match self.vars.get(v)? {
                Binding::Dir(d, _) => (Some(d.clone()), String::new()),
                Binding::Lit(s, line) => {
                    built_from = Some((v.clone(), *line));
                    (None, s.clone())
                }
            },
            Piece::Lit(s) if s.starts_with('/') => return None,
            Piece::Lit(s) => (None, s.clone()),
        };
        for (p, _) in pieces {
            match p {
                Piece::Lit(s) => text.push_str(s),
                Piece::Var(v) => match self.vars.get(v)? {
                    Binding::Lit(s, line) => {
                        built_from.get_or_insert((v.clone(), *line));
                        text.push_str(s);
                    }
                    Binding::Dir(..) => return None,
                },
            }
        }
        let full = match &anchor {
            Some(d) => tree::join(d, text.trim_start_matches('/'))?,
            None => tree::normalize(&text)?,
        };
        let segs: Vec<&str> = full.split('/').collect();
        let lit_n = segs.iter().position(|s| s.contains(['*', '?'])).unwrap_or(segs.len());
        Some(Resolved {
            literal: segs[..lit_n].join("/"),
            glob: lit_n < segs.len(),
            path: full,
            anchor,
            built_from,
        })
    }

    /// Whether a variable is the script's own folder (so it moves with the script).
    fn follows_file(&self, v: &str) -> bool {
        v == SCRIPT_DIR || matches!(self.vars.get(v), Some(Binding::Dir(_, true)))
    }

    /// Update the bindings with an assignment on this line (1-based `n`).
    fn assign(&mut self, line: &str, n: usize) {
        let Some((name, rhs)) = assignment(line) else { return };
        let binding = if rhs.contains("rev-parse --show-toplevel") {
            Some(Binding::Dir(String::new(), false))
        } else {
            let exprs = scan(rhs);
            let anchored = exprs.iter().find_map(|e| match &e.pieces[0].0 {
                Piece::Var(v) if v == SCRIPT_DIR || matches!(self.vars.get(v), Some(Binding::Dir(..))) => {
                    let follows = self.follows_file(v) && e.pieces.len() == 1;
                    self.resolve(e)
                        .filter(|r| !r.glob)
                        .map(|r| Binding::Dir(r.path, follows))
                }
                _ => None,
            });
            let unquoted = rhs.trim_matches(['"', '\'']);
            anchored.or_else(|| {
                (!unquoted.is_empty() && unquoted.bytes().all(is_path_char) && !unquoted.starts_with('/'))
                    .then(|| Binding::Lit(unquoted.to_string(), n))
            })
        };
        match binding {
            Some(b) => {
                self.vars.insert(name.to_string(), b);
            }
            None => {
                self.vars.remove(name);
            }
        }
    }
}

/// The longest run of leading segments of a plain literal that names an existing path (no `.`/`..`/globs).
fn existing_prefix(token: &str, exists: &dyn Fn(&str) -> bool) -> Option<usize> {
    let t = token.strip_prefix("./").unwrap_or(token);
    let offset = token.len() - t.len();
    let segs: Vec<&str> = t.split('/').collect();
    let mut best = None;
    let mut len = 0;
    for (k, s) in segs.iter().enumerate() {
        if s.is_empty() || *s == "." || *s == ".." || s.contains(['*', '?']) {
            break;
        }
        len += s.len() + usize::from(k > 0);
        let followed = k + 1 < segs.len();
        if (k >= 1 || followed) && exists(&t[..len]) {
            best = Some(offset + len);
        }
    }
    best
}

/// One change made to a file.
#[derive(Debug, Clone)]
pub struct Change {
    pub line: usize,
    pub from: String,
    pub to: String,
}

/// Repoint the paths of one live config file. `before_file`/`after_file` are its repository paths before
/// and after the move; `before` is the base checkout.
pub fn rewrite_text(
    text: &str,
    plan: &Plan,
    before: &Tree,
    before_file: &str,
    after_file: &str,
) -> (String, Vec<Change>) {
    let mut env = Env {
        file: before_file,
        vars: BTreeMap::new(),
    };
    let mut out = String::with_capacity(text.len());
    let mut changes = Vec::new();
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let mut edits: Vec<(Range<usize>, String)> = Vec::new();
        let mut extra_lines = String::new();
        for e in scan(raw) {
            if let Some(edit) = rewrite_expr(&env, &e, raw, plan, before, after_file) {
                edits.push(edit);
            } else if let Some((edit, extra)) = sibling_items(&e, raw, plan, before) {
                edits.push(edit);
                extra_lines.push_str(&extra);
            }
        }
        env.assign(raw, i + 1);
        let mut line = raw.to_string();
        edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        for (r, new) in &edits {
            if raw[r.clone()] != **new {
                changes.push(Change {
                    line: i + 1,
                    from: raw[r.clone()].to_string(),
                    to: new.clone(),
                });
                line.replace_range(r.clone(), new);
            }
        }
        out.push_str(&line);
        if !extra_lines.is_empty() {
            if !line.ends_with('\n') {
                out.push('\n');
            }
            changes.push(Change {
                line: i + 1,
                from: String::new(),
                to: extra_lines.trim().to_string(),
            });
            out.push_str(&extra_lines);
        }
    }
    (out, changes)
}

/// The new text for an expression's literal part, when it names a path that existed and moved.
fn rewrite_expr(
    env: &Env,
    e: &Expr,
    raw: &str,
    plan: &Plan,
    before: &Tree,
    after_file: &str,
) -> Option<(Range<usize>, String)> {
    match e.pieces.as_slice() {
        [(Piece::Lit(tok), r)] => {
            let n = existing_prefix(tok, &|p| before.exists(p))?;
            let lead = tok.strip_prefix("./").map(|_| "./").unwrap_or("");
            let old = &tok[lead.len()..n];
            let rest = &tok[n..];
            if (rest.contains(['*', '?']) || any_depth(&raw[r.start + n..])) && !plan.moves_whole(old) {
                return None;
            }
            let new = plan.map(old);
            (new != old).then(|| (r.clone(), format!("{lead}{new}{rest}")))
        }
        [(Piece::Var(v), _), (Piece::Lit(tok), r)] => {
            let res = env.resolve(e)?;
            let anchor = res.anchor.clone()?;
            if res.built_from.is_some() || !before.exists(&res.literal) {
                return None;
            }
            if res.glob && !plan.moves_whole(&res.literal) {
                return None;
            }
            // The script's own folder moves with the script; any other directory variable is repointed
            // where it is assigned (or is the repository root, which stays).
            let new_anchor = if env.follows_file(v) {
                tree::parent(after_file).to_string()
            } else {
                plan.map(&anchor)
            };
            let new_path = plan.map(&res.path);
            if new_path == res.path && new_anchor == anchor {
                return None;
            }
            let glob_rest = if res.glob { &res.path[res.literal.len()..] } else { "" };
            let target = if res.glob { plan.map(&res.literal) } else { new_path };
            let rel = tree::relative(&new_anchor, &target);
            let trailing = if tok.ends_with('/') { "/" } else { "" };
            let new = match rel.as_str() {
                "." if glob_rest.is_empty() => trailing.to_string(),
                "." => glob_rest.to_string(),
                _ => format!("/{rel}{glob_rest}{trailing}"),
            };
            Some((r.clone(), new))
        }
        _ => None,
    }
}

/// A pattern rest that matches at any depth: `/**` (glob), `/.+` or `/.*` (regex).
fn any_depth(rest: &str) -> bool {
    rest.starts_with("/**") || rest.starts_with("/.+") || rest.starts_with("/.*")
}

/// A list item whose glob or regex covers a tree from which a part moves elsewhere
/// (`infrastructure/**` while `infrastructure/controllers/argocd/apps` moves to `clusters/talos/apps`):
/// the item is repointed and a sibling item added for each such part. Only depth-agnostic rests (`/**`,
/// `/.+`, `/.*`) are extended; anything else is left for the check to report. Returns the edit of this
/// line and the lines to add after it.
fn sibling_items(e: &Expr, raw: &str, plan: &Plan, before: &Tree) -> Option<((Range<usize>, String), String)> {
    let [(Piece::Lit(tok), r)] = e.pieces.as_slice() else {
        return None;
    };
    let n = existing_prefix(tok, &|p| before.is_dir(p))?;
    let (old, rest) = (&tok[..n], &tok[n..]);
    if !any_depth(&raw[r.start + n..]) || plan.moves_whole(old) {
        return None;
    }
    let subs: Vec<String> = plan.sub_moves(old).iter().map(|m| m.to.clone()).collect();
    let open = raw[..r.start].rfind(['"', '\'']);
    let quote = open.map(|o| &raw[o..o + 1]).unwrap_or("");
    let close = match open {
        Some(_) => r.end + raw[r.end..].find(quote)?,
        None => raw.trim_end().len(),
    };
    let item_start = open.map(|o| o + 1).unwrap_or(r.start);
    let item = &raw[item_start..close];
    let with = |to: &str| item.replacen(tok, &format!("{to}{rest}"), 1);
    let lead = raw[..open.unwrap_or(r.start)].trim_end();
    if raw.trim_start().starts_with("- ") && lead.trim_start() == "-" {
        let mut extra = String::new();
        for s in &subs {
            extra.push_str(&format!(
                "{}{quote}{}{quote}\n",
                &raw[..item_start - quote.len()],
                with(s)
            ));
        }
        return Some(((item_start..close, with(&plan.map(old))), extra));
    }
    if quote.is_empty() || !(lead.ends_with('[') || lead.ends_with(',')) {
        return None;
    }
    let mut new = with(&plan.map(old));
    for s in &subs {
        new.push_str(&format!("{quote}, {quote}{}", with(s)));
    }
    Some(((item_start..close, new), String::new()))
}

/// A path that a live config file names on the branch and that does not exist there.
#[derive(Debug, Clone)]
pub struct Stale {
    pub line: usize,
    pub text: String,
    pub path: String,
    /// `Some((VAR, line))` when the path is built from a variable assigned that literal.
    pub built_from: Option<(String, usize)>,
}

/// Every path this file names that resolves inside the old or new layout and no longer exists, leaving out
/// those that did not exist before the move either.
pub fn check_text(
    after_text: &str,
    before_text: Option<&str>,
    plan: &Plan,
    (before, after): (&Tree, &Tree),
    (before_file, after_file): (&str, &str),
) -> Vec<Stale> {
    let relevant = |p: &str| {
        plan.moves
            .iter()
            .any(|m| plan::under(&m.from, p) || plan::under(&m.to, p))
    };
    let missing = |t: &Tree, r: &Resolved| {
        let lit = if r.glob { &r.literal } else { &r.path };
        !lit.is_empty() && !t.exists(lit) && relevant(lit)
    };
    let was_broken: std::collections::BTreeSet<String> = before_text
        .map(|t| {
            resolve_all(t, before_file)
                .into_iter()
                .filter(|(_, _, r)| missing(before, r))
                .map(|(_, _, r)| plan.map(&r.path))
                .collect()
        })
        .unwrap_or_default();
    resolve_all(after_text, after_file)
        .into_iter()
        .filter(|(_, _, r)| missing(after, r) && !was_broken.contains(&r.path))
        .map(|(line, text, r)| Stale {
            line,
            text,
            // The part that is missing: a glob's literal head.
            path: if r.glob { r.literal } else { r.path },
            built_from: r.built_from,
        })
        .collect()
}

/// The repository paths a file names (resolved, without globs), in the coordinates of its own side.
pub fn paths_named(text: &str, file: &str) -> Vec<String> {
    resolve_all(text, file)
        .into_iter()
        .filter(|(_, _, r)| !r.glob)
        .map(|(_, _, r)| r.path)
        .collect()
}

/// Every resolvable expression of a file: (line, its text, resolved). Plain single-segment words are not
/// paths (`my-apps` may be a project or a namespace) unless they end in `/`.
fn resolve_all(text: &str, file: &str) -> Vec<(usize, String, Resolved)> {
    let mut env = Env {
        file,
        vars: BTreeMap::new(),
    };
    let mut out = Vec::new();
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        for e in scan(raw) {
            let span = e.pieces.first().unwrap().1.start..e.pieces.last().unwrap().1.end;
            let plain_word = matches!(e.pieces.as_slice(), [(Piece::Lit(t), _)] if !t.trim_end_matches('/').contains('/') && !t.ends_with('/'));
            if plain_word {
                continue;
            }
            if let Some(r) = env.resolve(&e) {
                out.push((i + 1, raw[span].to_string(), r));
            }
        }
        env.assign(raw, i + 1);
    }
    out
}

use super::plan;

#[cfg(test)]
mod tests;
