//! The layers of the simulated cluster (docs/sim.md, "Layers"), checked on the parsed source of `src/sim`:
//! - the store imports neither the API (wire) layer, the controllers nor the world around it;
//! - the controllers never import the API layer (or the router);
//! - each simulated operator is one file under `src/sim/controllers/` that declares its `CONTROLLER` and
//!   is listed once in the `CONTROLLERS` table; no controller file imports another controller file (shared
//!   helpers live in `controllers/common`, which imports no controller file either).
//!
//! Every `use` tree and every path starting with `crate`, `super` or `self` is resolved to the module it
//! names, so `super::kopiur::x` in a controller file counts as an import of `sim::controllers::kopiur`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use syn::visit::Visit;

fn sim_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/sim")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The module path of a file: `src/sim/controllers/common/lb.rs` -> [sim, controllers, common, lb].
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(sim_dir().parent().unwrap()).unwrap();
    let mut m: Vec<String> = rel.iter().map(|c| c.to_string_lossy().to_string()).collect();
    let last = m.pop().unwrap();
    if last != "mod.rs" {
        m.push(last.trim_end_matches(".rs").to_string());
    }
    m
}

/// Every path a file names, resolved to an absolute path from the crate root (without `crate`).
struct Paths {
    module: Vec<String>,
    out: BTreeSet<Vec<String>>,
}

impl Paths {
    fn resolve(&mut self, segs: &[String]) {
        let mut cur: Vec<String> = match segs.first().map(String::as_str) {
            Some("crate") => vec![],
            Some("self") => self.module.clone(),
            Some("super") => self.module.clone(),
            _ => return,
        };
        for s in segs {
            match s.as_str() {
                "crate" | "self" => {}
                "super" => {
                    cur.pop();
                }
                other => cur.push(other.to_string()),
            }
        }
        self.out.insert(cur);
    }
    fn tree(&mut self, prefix: &mut Vec<String>, t: &syn::UseTree) {
        match t {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                let p = prefix.clone();
                self.resolve(&p);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                let p = prefix.clone();
                self.resolve(&p);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => {
                let p = prefix.clone();
                self.resolve(&p);
            }
            syn::UseTree::Group(g) => g.items.iter().for_each(|i| self.tree(prefix, i)),
        }
    }
}

impl<'a> Visit<'a> for Paths {
    fn visit_item_use(&mut self, u: &'a syn::ItemUse) {
        self.tree(&mut vec![], &u.tree);
    }
    fn visit_path(&mut self, p: &'a syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.resolve(&segs);
        syn::visit::visit_path(self, p);
    }
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        // `mod tests { use super::*; }` inside a file: its `super` is the file's module.
        if m.content.is_some() {
            self.module.push(m.ident.to_string());
            syn::visit::visit_item_mod(self, m);
            self.module.pop();
        }
    }
}

/// (file, the module paths it names)
fn imports() -> Vec<(PathBuf, Vec<String>, BTreeSet<Vec<String>>)> {
    rust_files(&sim_dir())
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let mut p = Paths {
                module: module_of(&f),
                out: BTreeSet::new(),
            };
            p.visit_file(&ast);
            (f, p.module, p.out)
        })
        .collect()
}

fn starts(path: &[String], prefix: &[&str]) -> bool {
    path.len() >= prefix.len() && path.iter().zip(prefix).all(|(a, b)| a == b)
}

/// The controller files: `src/sim/controllers/*.rs` but mod.rs.
fn controller_modules() -> BTreeSet<String> {
    std::fs::read_dir(sim_dir().join("controllers"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name()?.to_string_lossy().to_string();
            (p.is_file() && name.ends_with(".rs") && name != "mod.rs").then(|| name.trim_end_matches(".rs").to_string())
        })
        .collect()
}

fn violations(applies: impl Fn(&[String]) -> bool, forbidden: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut out = vec![];
    for (f, module, paths) in imports() {
        if !applies(&module) {
            continue;
        }
        for p in paths.iter().filter(|p| forbidden(p)) {
            out.push(format!("{} names {}", f.display(), p.join("::")));
        }
    }
    out
}

#[test]
fn the_store_imports_neither_the_api_layer_nor_the_controllers() {
    let bad = violations(
        |m| starts(m, &["sim", "store"]),
        |p| starts(p, &["sim"]) && !starts(p, &["sim", "store"]) && p.len() > 1,
    );
    assert!(bad.is_empty(), "the store must import only itself:\n{}", bad.join("\n"));
}

#[test]
fn the_world_and_catalog_do_not_import_the_api_layer_or_the_controllers() {
    let bad = violations(
        |m| starts(m, &["sim", "world"]) || starts(m, &["sim", "catalog"]),
        |p| starts(p, &["sim", "api"]) || starts(p, &["sim", "controllers"]) || starts(p, &["sim", "router"]),
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_controllers_never_import_the_api_layer() {
    let bad = violations(
        |m| starts(m, &["sim", "controllers"]),
        |p| starts(p, &["sim", "api"]) || starts(p, &["sim", "router"]),
    );
    assert!(
        bad.is_empty(),
        "controllers must not import the wire layer:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_api_layer_never_calls_a_controller() {
    let bad = violations(|m| starts(m, &["sim", "api"]), |p| starts(p, &["sim", "controllers"]));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn no_controller_file_imports_another() {
    let ctl = controller_modules();
    let mut bad = vec![];
    for (f, module, paths) in imports() {
        if !starts(&module, &["sim", "controllers"]) || module.len() < 3 {
            continue; // controllers/mod.rs lists them all in its table
        }
        let own = &module[2];
        for p in &paths {
            if starts(p, &["sim", "controllers"])
                && p.len() > 2
                && ctl.contains(&p[2])
                && &p[2] != own
                && p[2] != "common"
            {
                bad.push(format!("{} names {}", f.display(), p.join("::")));
            }
            if own == "common"
                && starts(p, &["sim", "controllers"])
                && p.len() > 2
                && ctl.contains(&p[2])
                && p[2] != "common"
            {
                bad.push(format!("{} (common) names {}", f.display(), p.join("::")));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "controller files must share helpers through common only:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_controller_file_registers_itself_once_in_the_table() {
    let table = std::fs::read_to_string(sim_dir().join("controllers/mod.rs")).unwrap();
    let start = table
        .find("const CONTROLLERS")
        .expect("a CONTROLLERS table in controllers/mod.rs");
    let table = &table[start..start + table[start..].find("];").unwrap()];
    let mut missing = vec![];
    for c in controller_modules().into_iter().filter(|c| c != "common") {
        let text = std::fs::read_to_string(sim_dir().join(format!("controllers/{c}.rs"))).unwrap();
        if !text.contains("pub const CONTROLLER: Controller") {
            missing.push(format!("{c}.rs declares no `pub const CONTROLLER: Controller`"));
        }
        if table.matches(&format!("&{c}::CONTROLLER")).count() != 1 {
            missing.push(format!("{c}.rs is not listed once in CONTROLLERS"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
