//! Where runbooks come from. fleetctl carries its runbook library (the phase runbooks, the files they apply,
//! the rehearsal answers) inside the binary, so every command works in a repo that has never seen fleetctl.
//! A directory overrides it: `--runbooks DIR`, else the repo's own `runbooks/` when it holds runbooks.
//! `fleetctl runbooks export DIR` writes the embedded library out for editing.
//!
//! Paths in runbooks and answers that start with `runbooks/` name the library's own files; every other path
//! is the fleet repo's.

use super::{parse, Loaded, Vocabulary};
use crate::error::UserError;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/embedded_runbooks.rs"));

/// The prefix that names a library file in runbooks and answers.
pub const PREFIX: &str = "runbooks/";

/// Where the library was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Embedded,
    Dir(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Embedded => write!(f, "built into fleetctl {}", env!("CARGO_PKG_VERSION")),
            Origin::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

#[derive(Debug)]
pub struct Library {
    pub runbooks: Vec<Loaded>,
    pub origin: Origin,
    /// The embedded files written out on first use (a temporary directory, removed at exit).
    extracted: OnceLock<Result<tempfile::TempDir, String>>,
}

impl Library {
    /// The runbooks for `repo`: from `dir` when given, else the repo's own `runbooks/` when it holds any
    /// `*.yaml`, else the embedded library. Every runbook is checked against `vocab` at load.
    pub fn load(repo: &Path, dir: Option<&Path>, vocab: &dyn Vocabulary) -> Result<Library, UserError> {
        let own = repo.join("runbooks");
        let dir = dir.map(Path::to_path_buf).or_else(|| has_runbooks(&own).then_some(own));
        let (runbooks, origin) = match dir {
            Some(d) => (load_dir(&d, repo, vocab)?, Origin::Dir(d)),
            None => (load_embedded(repo, vocab)?, Origin::Embedded),
        };
        Ok(Library {
            runbooks,
            origin,
            extracted: OnceLock::new(),
        })
    }

    /// The filesystem path of `path` as a runbook or answers file names it: a library file for `runbooks/...`,
    /// otherwise `path` under the repo (absolute paths as they are).
    pub fn resolve(&self, repo: &Path, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        match (path.strip_prefix(PREFIX), &self.origin) {
            (Some(rest), Origin::Dir(d)) => d.join(rest),
            (Some(rest), Origin::Embedded) => match self.extracted() {
                Ok(root) => root.join(rest),
                Err(_) => repo.join(path),
            },
            (None, _) => repo.join(path),
        }
    }

    fn extracted(&self) -> Result<&Path, &str> {
        self.extracted
            .get_or_init(|| {
                let t = tempfile::Builder::new()
                    .prefix("fleetctl-runbooks-")
                    .tempdir()
                    .map_err(|e| e.to_string())?;
                export_to(t.path()).map_err(|e| e.cause)?;
                Ok(t)
            })
            .as_ref()
            .map(|t| t.path())
            .map_err(String::as_str)
    }
}

fn has_runbooks(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "yaml" || x == "yml"))
    })
}

/// Every runbook under `dir` (`*.yaml`, not its subfolders), sorted by file name.
pub fn load_dir(dir: &Path, repo: &Path, vocab: &dyn Vocabulary) -> Result<Vec<Loaded>, UserError> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        UserError::usage(format!("cannot read runbooks: {e}"))
            .subject(dir.display().to_string())
            .next("pass --runbooks DIR naming a folder of runbooks, or leave it out to use the built-in ones")
    })?;
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)
                .map_err(|e| UserError::usage(format!("cannot read runbook: {e}")).subject(f.display().to_string()))?;
            parse(f, text, repo, vocab)
        })
        .collect()
}

/// The embedded runbooks (top-level `*.yaml` of the library), named `<built-in>/runbooks/<file>` in errors.
fn load_embedded(repo: &Path, vocab: &dyn Vocabulary) -> Result<Vec<Loaded>, UserError> {
    EMBEDDED
        .iter()
        .filter(|(p, _)| !p.contains('/') && (p.ends_with(".yaml") || p.ends_with(".yml")))
        .map(|(p, text)| parse(&Path::new("<built-in>/runbooks").join(p), text.to_string(), repo, vocab))
        .collect()
}

/// The embedded text of a library file (`answers/rehearsal.yaml`), if fleetctl carries it.
pub fn embedded(path: &str) -> Option<&'static str> {
    let path = path.strip_prefix(PREFIX).unwrap_or(path);
    EMBEDDED.iter().find(|(p, _)| *p == path).map(|(_, t)| *t)
}

/// Write the embedded library under `dir` (created if needed); refuses to overwrite a file that differs.
/// Returns the files written or already identical.
pub fn export_to(dir: &Path) -> Result<Vec<PathBuf>, UserError> {
    // Check every file first, so a refusal leaves nothing half-written.
    for (rel, text) in EMBEDDED {
        let p = dir.join(rel);
        if std::fs::read_to_string(&p).is_ok_and(|old| old != *text) {
            return Err(
                UserError::usage("a file there differs from the built-in one; nothing was written")
                    .subject(p.display().to_string())
                    .next("export into an empty directory, or move your edited copy away first"),
            );
        }
    }
    let mut out = Vec::new();
    for (rel, text) in EMBEDDED {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| write_error(parent, e))?;
        }
        std::fs::write(&p, text).map_err(|e| write_error(&p, e))?;
        out.push(p);
    }
    Ok(out)
}

fn write_error(p: &Path, e: std::io::Error) -> UserError {
    UserError::usage(format!("cannot write: {e}"))
        .subject(p.display().to_string())
        .next("pick a directory you can write to")
}
