//! Runbooks: loading `runbooks/*.yaml` and validating them with file:line errors.

pub mod expect;
pub mod library;
pub mod model;
pub mod path;
mod validate;
pub mod yaml;

pub use library::Library;
pub use model::*;
pub use validate::Vocabulary;

use crate::error::UserError;
use crate::fleet::Platform;
use std::path::{Path, PathBuf};

/// A runbook with the file it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: PathBuf,
    pub text: String,
    pub runbook: Runbook,
}

impl Loaded {
    /// `file:line` of the first line mentioning `needle` (an id), for error messages.
    pub fn locate(&self, needle: &str) -> String {
        let line = self
            .text
            .lines()
            .position(|l| l.contains(&format!("id: {needle}")) || l.contains(&format!("id: \"{needle}\"")))
            .or_else(|| self.text.lines().position(|l| l.contains(needle)))
            .map(|i| i + 1)
            .unwrap_or(1);
        format!("{}:{line}", self.file.display())
    }

    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.runbook.acceptance.iter().find(|c| c.id == id)
    }

    pub fn decision(&self, id: &str) -> Option<&Decision> {
        self.runbook.decisions.iter().find(|d| d.id == id)
    }
}

/// Parse and validate runbook text (`file` names it in errors).
/// `repo` is the fleet repo that `builtin` criteria read.
pub fn parse(file: &Path, text: String, repo: &Path, vocab: &dyn Vocabulary) -> Result<Loaded, UserError> {
    yaml::guard(&text, &file.display().to_string(), 4 << 20)?;
    let mut runbook: Runbook = serde_yaml::from_str(&text).map_err(|e| {
        let msg = e.to_string();
        let dup = e
            .location()
            .and_then(|l| duplicate_key_line(&text, &msg, l.line(), l.column()));
        let line = dup.or(e.location().map(|l| l.line()));
        let loc = line.map(|l| format!(":{l}")).unwrap_or_default();
        // serde's own position (the mapping's start) would contradict the line given.
        let msg = match dup {
            Some(_) => msg.split(" at line ").next().unwrap_or(&msg).to_string(),
            None => msg,
        };
        UserError::usage(format!("invalid runbook: {msg}"))
            .subject(format!("{}{loc}", file.display()))
            .next("see docs/runbooks.md for the format")
    })?;
    for c in &mut runbook.acceptance {
        c.repo = Some(repo.to_path_buf());
    }
    let loaded = Loaded {
        file: file.to_path_buf(),
        text,
        runbook,
    };
    validate::validate(&loaded, vocab)?;
    Ok(loaded)
}

/// serde reports a duplicate field at the start of its mapping; point at the second occurrence instead.
fn duplicate_key_line(text: &str, msg: &str, map_line: usize, map_col: usize) -> Option<usize> {
    let (_, after) = msg.split_once("duplicate field `")?;
    let key = after.split('`').next()?;
    let indent = map_col.saturating_sub(1);
    let is_key = |l: &str| {
        let rest = l.get(indent..).unwrap_or_default();
        let rest = rest.strip_prefix("- ").unwrap_or(rest);
        l.len() - l.trim_start().len() <= indent + 2 && rest.starts_with(key) && rest[key.len()..].starts_with(':')
    };
    text.lines()
        .enumerate()
        .skip(map_line.saturating_sub(1))
        .filter(|(_, l)| is_key(l))
        .nth(1)
        .map(|(i, _)| i + 1)
}

/// Exit 2 "unknown phase N" (listing each known phase once) unless some runbook is for `phase`.
pub fn require_phase(all: &[Loaded], phase: u8) -> Result<(), UserError> {
    if all.iter().any(|l| l.runbook.phase == phase) {
        return Ok(());
    }
    let mut known: Vec<u8> = all.iter().map(|l| l.runbook.phase).collect();
    known.sort();
    known.dedup();
    let known: Vec<String> = known.iter().map(u8::to_string).collect();
    Err(
        UserError::usage(format!("unknown phase {phase}: no runbook for it")).next(format!(
            "known phases: {}",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )),
    )
}

/// The runbook for `phase` on `platform`.
pub fn select(all: &[Loaded], phase: u8, platform: Platform) -> Result<Loaded, UserError> {
    require_phase(all, phase)?;
    let for_phase: Vec<&Loaded> = all.iter().filter(|l| l.runbook.phase == phase).collect();
    let fits: Vec<&&Loaded> = for_phase
        .iter()
        .filter(|l| l.runbook.platforms.contains(&platform))
        .collect();
    match fits.as_slice() {
        [one] => Ok((**one).clone()),
        [] => Err(UserError::usage(format!(
            "phase {phase} does not run on {} {platform} cluster",
            article(platform)
        ))
        .subject(for_phase[0].file.display().to_string())
        .next("pick a cluster of the right platform with --cluster")),
        many => Err(
            UserError::usage(format!("phase {phase} has {} runbooks for {platform}", many.len())).subject(
                many.iter()
                    .map(|l| l.file.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ),
    }
}

/// "a" or "an" before a platform's name ("an openshift cluster", "a talos cluster").
fn article(p: Platform) -> &'static str {
    if p.to_string().starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, Vocabulary};
    use std::path::Path;

    /// Accepts every kind: these tests are about the YAML, not the kinds.
    struct Any;
    impl Vocabulary for Any {
        fn check_step(&self, _: &str, _: &serde_json::Value) -> Result<(), String> {
            Ok(())
        }
        fn check_criterion(&self, _: &str, _: &serde_json::Value) -> Result<(), String> {
            Ok(())
        }
        fn can_recommend(&self, _: &str) -> bool {
            true
        }
    }

    #[test]
    fn a_duplicate_key_is_reported_at_its_second_occurrence() {
        let text = "phase: 9\ntitle: t\nplatforms: [talos]\nplatforms: [openshift]\nsteps: []\n";
        let e =
            parse(Path::new("rb.yaml"), text.to_string(), Path::new("."), &Any).expect_err("a duplicate is an error");
        assert_eq!(e.subject.as_deref(), Some("rb.yaml:4"), "{e}");
        assert!(e.to_string().contains("duplicate field `platforms`"), "{e}");
        assert!(!e.to_string().contains("at line 1"), "{e}");
        let nested =
            "phase: 9\ntitle: t\nplatforms: [talos]\nsteps:\n  - id: a\n    title: x\n    title: y\n    check: []\n";
        let e =
            parse(Path::new("rb.yaml"), nested.to_string(), Path::new("."), &Any).expect_err("a duplicate is an error");
        assert_eq!(e.subject.as_deref(), Some("rb.yaml:7"), "{e}");
    }
}
