//! The rules of the house (docs/architecture.md), checked on the source itself:
//! - no import circle between the top-level modules of `src/`;
//! - no function longer than 120 lines;
//! - no source file longer than 700 lines, unless its first lines say why (`// house-rules: long because ...`).
//!
//! The source is parsed with `syn`, so strings, comments and nested items are counted as Rust sees them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::spanned::Spanned;
use syn::visit::Visit;

const MAX_FN_LINES: usize = 120;
const MAX_FILE_LINES: usize = 700;
const LONG_FILE_MARK: &str = "// house-rules: long because";

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The top-level module a file under `src/` belongs to (`src/engine/wait.rs` -> `engine`).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy().to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

#[derive(Default)]
struct Uses(BTreeSet<String>);

impl<'a> Visit<'a> for Uses {
    fn visit_path(&mut self, p: &'a syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if segs.len() >= 2 && segs[0] == "crate" {
            self.0.insert(segs[1].clone());
        }
        syn::visit::visit_path(self, p);
    }
    fn visit_use_tree(&mut self, t: &'a syn::UseTree) {
        if let syn::UseTree::Path(p) = t {
            if p.ident == "crate" {
                let mut names = Vec::new();
                collect_heads(&p.tree, &mut names);
                self.0.extend(names);
            }
        }
        syn::visit::visit_use_tree(self, t);
    }
}

fn collect_heads(t: &syn::UseTree, out: &mut Vec<String>) {
    match t {
        syn::UseTree::Path(p) => out.push(p.ident.to_string()),
        syn::UseTree::Name(n) => out.push(n.ident.to_string()),
        syn::UseTree::Rename(r) => out.push(r.ident.to_string()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|i| collect_heads(i, out)),
        syn::UseTree::Glob(_) => {}
    }
}

fn parse(file: &Path) -> syn::File {
    let text = std::fs::read_to_string(file).unwrap();
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Every cycle in the module graph, each as the list of modules on it.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components; any component of more than one module is a circle.
    struct T<'g> {
        g: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on: BTreeSet<String>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn strong(t: &mut T, v: &str) {
        t.index.insert(v.to_string(), t.next);
        t.low.insert(v.to_string(), t.next);
        t.next += 1;
        t.stack.push(v.to_string());
        t.on.insert(v.to_string());
        let edges: Vec<String> = t.g.get(v).map(|s| s.iter().cloned().collect()).unwrap_or_default();
        for w in edges {
            if !t.index.contains_key(&w) {
                strong(t, &w);
                let lw = t.low[&w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(&w) {
                let iw = t.index[&w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(&w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on: BTreeSet::new(),
        next: 0,
        out: vec![],
    };
    for v in graph.keys() {
        if !t.index.contains_key(v) {
            strong(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_import_circle_between_top_level_modules() {
    let src = root().join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut evidence: BTreeMap<(String, String), String> = BTreeMap::new();
    for f in rust_files(&src) {
        let Some(m) = top_module(&src, &f) else { continue };
        let mut u = Uses::default();
        u.visit_file(&parse(&f));
        let entry = graph.entry(m.clone()).or_default();
        for dep in u.0 {
            if dep != m && !matches!(dep.as_str(), "self" | "super") {
                evidence
                    .entry((m.clone(), dep.clone()))
                    .or_insert_with(|| f.display().to_string());
                entry.insert(dep);
            }
        }
    }
    // Only edges to other top-level modules count.
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    let found = cycles(&graph);
    let described: Vec<String> = found
        .iter()
        .map(|c| {
            let edges: Vec<String> = c
                .iter()
                .flat_map(|a| c.iter().map(move |b| (a.clone(), b.clone())))
                .filter(|(a, b)| graph[a].contains(b))
                .map(|(a, b)| format!("{a} -> {b} ({})", evidence[&(a.clone(), b.clone())]))
                .collect();
            format!("[{}]: {}", c.join(", "), edges.join("; "))
        })
        .collect();
    assert!(
        described.is_empty(),
        "import circles between top-level modules:\n{}",
        described.join("\n")
    );
}

struct Fns<'f> {
    file: &'f Path,
    long: Vec<String>,
}

impl Fns<'_> {
    fn check(&mut self, name: &str, start: usize, end: usize) {
        let n = end + 1 - start;
        if n > MAX_FN_LINES {
            self.long
                .push(format!("{}:{start} fn {name}: {n} lines", self.file.display()));
        }
    }
}

impl<'a> Visit<'a> for Fns<'_> {
    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        let (s, e) = (
            f.sig.fn_token.span().start().line,
            f.block.brace_token.span.close().end().line,
        );
        self.check(&f.sig.ident.to_string(), s, e);
        syn::visit::visit_item_fn(self, f);
    }
    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        let (s, e) = (
            f.sig.fn_token.span().start().line,
            f.block.brace_token.span.close().end().line,
        );
        self.check(&f.sig.ident.to_string(), s, e);
        syn::visit::visit_impl_item_fn(self, f);
    }
    fn visit_trait_item_fn(&mut self, f: &'a syn::TraitItemFn) {
        if let Some(b) = &f.default {
            let (s, e) = (
                f.sig.fn_token.span().start().line,
                b.brace_token.span.close().end().line,
            );
            self.check(&f.sig.ident.to_string(), s, e);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

#[test]
fn no_function_over_120_lines() {
    let mut long = Vec::new();
    for f in rust_files(&root().join("src")) {
        let mut v = Fns { file: &f, long: vec![] };
        v.visit_file(&parse(&f));
        long.extend(v.long);
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them at their natural seams):\n{}",
        long.join("\n")
    );
}

#[test]
fn no_source_file_over_700_lines_without_a_reason() {
    let mut long = Vec::new();
    for dir in ["src", "tests"] {
        for f in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&f).unwrap();
            let n = text.lines().count();
            let excused = text.lines().take(5).any(|l| l.trim_start().starts_with(LONG_FILE_MARK));
            if n > MAX_FILE_LINES && !excused {
                long.push(format!("{}: {n} lines", f.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_FILE_LINES} lines (split them, or say why in the first lines with `{LONG_FILE_MARK} ...`):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_cycle_finder_finds_a_planted_circle() {
    // The rule above is only as good as the finder: a two-module and a three-module circle, and a chain that is not one.
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let edge = |g: &mut BTreeMap<String, BTreeSet<String>>, a: &str, b: &str| {
        g.entry(a.into()).or_default().insert(b.into());
        g.entry(b.into()).or_default();
    };
    edge(&mut g, "engine", "migrate");
    edge(&mut g, "migrate", "engine");
    edge(&mut g, "a", "b");
    edge(&mut g, "b", "c");
    edge(&mut g, "c", "a");
    edge(&mut g, "cli", "engine");
    let mut found = cycles(&g);
    found.sort();
    assert_eq!(
        found,
        vec![
            vec!["a".to_string(), "b".into(), "c".into()],
            vec!["engine".into(), "migrate".into()]
        ]
    );
}
