//! Runbooks: loading `runbooks/*.yaml` and validating them with file:line errors.

pub mod expect;
pub mod model;
pub mod path;

pub use model::*;

use crate::error::UserError;
use crate::fleet::Platform;
use std::collections::HashSet;
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

/// Parse and validate one runbook file.
pub fn load_file(file: &Path) -> Result<Loaded, UserError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| UserError::usage(format!("cannot read runbook: {e}")).subject(file.display().to_string()))?;
    parse(file, text)
}

/// Parse and validate runbook text (`file` names it in errors).
pub fn parse(file: &Path, text: String) -> Result<Loaded, UserError> {
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
    // Runbooks live in <repo>/runbooks/: `builtin` criteria read that repo.
    let repo = file.parent().and_then(Path::parent).map(Path::to_path_buf);
    for c in &mut runbook.acceptance {
        c.repo = repo.clone();
    }
    let loaded = Loaded {
        file: file.to_path_buf(),
        text,
        runbook,
    };
    validate(&loaded)?;
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

fn validate(l: &Loaded) -> Result<(), UserError> {
    let rb = &l.runbook;
    let err = |needle: &str, msg: String| {
        UserError::usage(format!("invalid runbook: {msg}"))
            .subject(l.locate(needle))
            .next("see docs/runbooks.md for the format")
    };
    if rb.platforms.is_empty() {
        return Err(err("platforms", "`platforms` must name at least one platform".into()));
    }
    let mut seen = HashSet::new();
    for d in &rb.decisions {
        if !seen.insert(d.id.clone()) {
            return Err(err(&d.id, format!("decision id '{}' is used twice", d.id)));
        }
        if d.options.is_empty() && !d.input {
            return Err(err(
                &d.id,
                format!(
                    "decision '{}' has no options (set `input: true` for a free-text answer)",
                    d.id
                ),
            ));
        }
        if let Some(b) = &d.recommend_from {
            if b.name != "detect-backup-design" {
                return Err(err(
                    &d.id,
                    format!(
                        "decision '{}': recommendFrom '{}' cannot recommend (known: detect-backup-design)",
                        d.id, b.name
                    ),
                ));
            }
        }
        if let Some(r) = &d.recommended {
            if !d.options.is_empty() && !d.options.contains(r) {
                return Err(err(
                    &d.id,
                    format!("decision '{}' recommends '{r}', which is not one of its options", d.id),
                ));
            }
        }
    }
    let mut crit_ids = HashSet::new();
    for c in &rb.acceptance {
        if !crit_ids.insert(c.id.clone()) {
            return Err(err(&c.id, format!("criterion id '{}' is used twice", c.id)));
        }
        let n = [
            c.object.is_some(),
            c.absent.is_some(),
            c.list.is_some(),
            c.probe.is_some(),
            c.builtin.is_some(),
            c.generated_apps.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if n != 1 {
            return Err(err(
                &c.id,
                format!(
                    "criterion '{}' needs exactly one of object, absent, list, probe, builtin, generatedApps",
                    c.id
                ),
            ));
        }
        if let Some(b) = &c.builtin {
            crate::checks::builtin::validate(&b.name, &b.args).map_err(|m| err(&c.id, m))?;
        }
        for e in c
            .expect
            .iter()
            .chain(&c.fail_when)
            .chain(&c.filter)
            .chain(c.hints.iter().flat_map(|h| &h.when))
        {
            e.validate()
                .map_err(|m| err(&c.id, format!("criterion '{}': {m}", c.id)))?;
        }
        for p in &c.evidence {
            path::FieldPath::parse(p).map_err(|m| err(&c.id, format!("criterion '{}': {m}", c.id)))?;
        }
        for e in &c.fail_on_event {
            if e.name.is_some() && e.name_prefix.is_some() {
                return Err(err(
                    &c.id,
                    format!("criterion '{}': failOnEvent takes name or namePrefix, not both", c.id),
                ));
            }
        }
    }
    let mut step_ids = HashSet::new();
    for s in &rb.steps {
        if !step_ids.insert(s.id.clone()) {
            return Err(err(&s.id, format!("step id '{}' is used twice", s.id)));
        }
        if s.kind_count() != 1 {
            return Err(err(
                &s.id,
                format!(
                    "step '{}' needs exactly one kind (apply, wait, decide, seedSecret, command, check, builtin)",
                    s.id
                ),
            ));
        }
        if let Some(w) = &s.when {
            if !seen.contains(&w.decision) {
                return Err(err(
                    &s.id,
                    format!("step '{}' depends on unknown decision '{}'", s.id, w.decision),
                ));
            }
        }
        if let Some(d) = &s.decide {
            if !seen.contains(d) {
                return Err(err(&s.id, format!("step '{}' decides unknown decision '{d}'", s.id)));
            }
        }
        if let Some(ids) = &s.check {
            for id in ids {
                if !crit_ids.contains(id) {
                    return Err(err(&s.id, format!("step '{}' checks unknown criterion '{id}'", s.id)));
                }
            }
        }
        if let Some(w) = &s.wait {
            humantime::parse_duration(&w.timeout)
                .map_err(|e| err(&s.id, format!("step '{}': bad timeout '{}': {e}", s.id, w.timeout)))?;
            if w.until.is_empty() {
                return Err(err(
                    &s.id,
                    format!("step '{}': a wait needs at least one `until` expectation", s.id),
                ));
            }
            for e in w.until.iter().chain(&w.fail_fast) {
                e.validate().map_err(|m| err(&s.id, format!("step '{}': {m}", s.id)))?;
            }
        }
        if let Some(sec) = &s.seed_secret {
            if let Some(d) = &sec.replace_decision {
                match rb.decisions.iter().find(|x| &x.id == d) {
                    None => {
                        return Err(err(
                            &s.id,
                            format!("step '{}': replaceDecision names unknown decision '{d}'", s.id),
                        ))
                    }
                    Some(x) if !x.destructive || !x.options.iter().any(|o| o == "yes") => {
                        return Err(err(
                            &s.id,
                            format!(
                            "step '{}': replaceDecision '{d}' must be a destructive decision with the option \"yes\"",
                            s.id
                        ),
                        ))
                    }
                    Some(_) => {}
                }
            }
            for item in &sec.data {
                let f = &item.from;
                let n = [f.file.is_some(), f.env.is_some(), f.command.is_some()]
                    .iter()
                    .filter(|b| **b)
                    .count();
                if n != 1 {
                    return Err(err(
                        &s.id,
                        format!(
                            "step '{}': key '{}' needs exactly one of file, env, command",
                            s.id, item.key
                        ),
                    ));
                }
            }
        }
        if let Some(c) = &s.command {
            if c.run.is_empty() {
                return Err(err(&s.id, format!("step '{}': command.run is empty", s.id)));
            }
        }
    }
    Ok(())
}

/// Every runbook under `dir` (`*.yaml`), sorted by file name.
pub fn load_dir(dir: &Path) -> Result<Vec<Loaded>, UserError> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        UserError::usage(format!("cannot read runbooks: {e}"))
            .subject(dir.display().to_string())
            .next("pass --repo DIR pointing at the fleet repo")
    })?;
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files.iter().map(|f| load_file(f)).collect()
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
    use super::parse;
    use std::path::Path;

    #[test]
    fn a_duplicate_key_is_reported_at_its_second_occurrence() {
        let text = "phase: 9\ntitle: t\nplatforms: [talos]\nplatforms: [openshift]\nsteps: []\n";
        let e = parse(Path::new("rb.yaml"), text.to_string()).expect_err("a duplicate is an error");
        assert_eq!(e.subject.as_deref(), Some("rb.yaml:4"), "{e}");
        assert!(e.to_string().contains("duplicate field `platforms`"), "{e}");
        assert!(!e.to_string().contains("at line 1"), "{e}");
        let nested =
            "phase: 9\ntitle: t\nplatforms: [talos]\nsteps:\n  - id: a\n    title: x\n    title: y\n    check: []\n";
        let e = parse(Path::new("rb.yaml"), nested.to_string()).expect_err("a duplicate is an error");
        assert_eq!(e.subject.as_deref(), Some("rb.yaml:7"), "{e}");
    }
}
