//! Decision points: answered from the journal (a resumed run), `--answers FILE`, a prompt (only when stdin
//! and stderr are both terminals), or `--yes` (the recommended option, never for a destructive decision).
//! All decisions of a phase are settled before the first write.

pub mod input;

use crate::error::{exit, UserError};
use crate::runbook::Decision;
use input::Resolve;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Load `--answers FILE`: a YAML map of decision id to answer.
pub fn load_answers(path: &Path) -> Result<BTreeMap<String, String>, UserError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UserError::usage(format!("cannot read answers: {e}")).subject(path.display().to_string()))?;
    parse_answers(&text, &path.display().to_string())
}

/// Parse answers text (`name` says where it came from, in errors).
pub fn parse_answers(text: &str, name: &str) -> Result<BTreeMap<String, String>, UserError> {
    let path = Path::new(name);
    crate::runbook::yaml::guard(text, name, 1 << 20)?;
    let v: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location().map(|l| format!(":{}", l.line())).unwrap_or_default();
        UserError::usage(format!("malformed answers file: {e}"))
            .subject(format!("{}{loc}", path.display()))
            .next("write a YAML map of decision id to answer")
    })?;
    let map = match v {
        serde_yaml::Value::Mapping(m) => m,
        serde_yaml::Value::Null => Default::default(),
        _ => {
            return Err(
                UserError::usage("the answers file must be a YAML map of decision id to answer")
                    .subject(path.display().to_string()),
            )
        }
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let k = k
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| UserError::usage("an answer's key is not a string").subject(path.display().to_string()))?;
        let v = match v {
            serde_yaml::Value::String(s) => s,
            serde_yaml::Value::Bool(b) => b.to_string(),
            serde_yaml::Value::Number(n) => n.to_string(),
            other => {
                return Err(UserError::usage(format!(
                    "answer for '{k}' must be a string, number or boolean, not {other:?}"
                ))
                .subject(path.display().to_string()))
            }
        };
        out.insert(k, v);
    }
    Ok(out)
}

pub struct Answering<'a> {
    pub recorded: &'a BTreeMap<String, String>,
    pub answers: &'a BTreeMap<String, String>,
    pub yes: bool,
}

/// Whether prompts may be shown: both stdin and stderr must be terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

fn check_option(d: &Decision, v: &str, from: &str) -> Result<(), UserError> {
    if d.options.is_empty() || d.options.iter().any(|o| o == v) {
        Ok(())
    } else {
        Err(UserError::usage(format!(
            "answer '{v}' to decision '{}' is not one of its options: {}",
            d.id,
            d.options.join(", ")
        ))
        .subject(from.to_string()))
    }
}

/// A free-text answer that is not what its decision's `input` type says: exit 2, naming the decision.
fn check_input(d: &Decision, v: &str, resolve: Resolve<'_>, from: &str) -> Result<(), UserError> {
    input::check(d.input, v, resolve).map_err(|why| {
        UserError::usage(format!(
            "answer to decision '{}' is not a valid {}: {why}",
            d.id,
            d.input.name().unwrap_or("answer")
        ))
        .subject(from.to_string())
        .next(format!("correct `{}:` ({}); nothing was written", d.id, d.question))
    })
}

/// Settle one decision: an explicit `--answers` entry wins; else the answer an unfinished run recorded
/// (so `resume` never asks again); else a prompt; else `--yes` for a safe decision; else exit 2.
/// Relative path answers resolve against the working directory (see [`settle_with`]).
pub fn settle(d: &Decision, a: &Answering<'_>) -> Result<String, UserError> {
    settle_with(d, a, &|p: &str| PathBuf::from(p))
}

/// [`settle`], with relative path answers resolved by `resolve` (as the runbook's steps will read them).
/// Every free-text answer is checked against the decision's `input` type, wherever it came from.
pub fn settle_with(d: &Decision, a: &Answering<'_>, resolve: Resolve<'_>) -> Result<String, UserError> {
    if let Some(v) = a.answers.get(&d.id) {
        check_option(d, v, "--answers")?;
        check_input(d, v, resolve, "--answers")?;
        return Ok(v.clone());
    }
    if let Some(v) = a.recorded.get(&d.id) {
        check_input(d, v, resolve, "the answer the unfinished run recorded").map_err(|e| {
            e.next(format!(
                "give a new answer: `fleetctl resume --answers FILE` with `{}: <answer>`",
                d.id
            ))
        })?;
        return Ok(v.clone());
    }
    if interactive() {
        return prompt(d, resolve);
    }
    if a.yes && !d.destructive {
        if let Some(r) = &d.recommended {
            check_input(d, r, resolve, "the runbook's recommended answer")?;
            return Ok(r.clone());
        }
    }
    let why = if a.yes && d.destructive {
        format!("decision '{}' is destructive; --yes never answers it", d.id)
    } else if a.yes {
        format!("decision '{}' has no recommended answer for --yes", d.id)
    } else {
        format!("decision '{}' needs an answer and there is no terminal to ask on", d.id)
    };
    let options = if d.options.is_empty() {
        "free text".to_string()
    } else {
        d.options.join(" | ")
    };
    Err(UserError::usage(why)
        .subject(format!("{}: {} [{}]", d.id, d.question, options))
        .next(format!(
            "add `{}: <answer>` to an --answers file; nothing was written",
            d.id
        )))
}

fn prompt(d: &Decision, resolve: Resolve<'_>) -> Result<String, UserError> {
    let theme = dialoguer::theme::SimpleTheme;
    let mut q = d.question.clone();
    if let Some(h) = &d.help {
        q = format!("{q} ({h})");
    }
    if d.destructive {
        q = format!("DESTRUCTIVE: {q}");
    }
    let err = |e: dialoguer::Error| match e {
        // Ctrl-C at the prompt: an interrupt like any other (the engine journals it and says how to resume).
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            UserError::new(exit::INTERRUPTED, format!("interrupted at decision '{}'", d.id))
        }
        dialoguer::Error::IO(io) => UserError::usage(format!("could not ask decision '{}': {io}", d.id))
            .next(format!("answer it in an --answers file (`{}: <answer>`)", d.id)),
    };
    if d.options.is_empty() {
        let kind = d.input;
        if let Some(t) = kind.name().filter(|t| *t != "text") {
            q = format!("{q} [{t}]");
        }
        let mut input = dialoguer::Input::<String>::with_theme(&theme)
            .with_prompt(q)
            .validate_with(move |s: &String| input::check(kind, s, resolve));
        if let Some(r) = &d.recommended {
            input = input.default(r.clone());
        }
        return input.interact_text().map(|s| s.trim().to_string()).map_err(err);
    }
    let default = d
        .recommended
        .as_ref()
        .and_then(|r| d.options.iter().position(|o| o == r))
        .unwrap_or(0);
    let labels: Vec<String> = d
        .options
        .iter()
        .map(|o| {
            if Some(o) == d.recommended.as_ref() {
                format!("{o} (recommended)")
            } else {
                o.clone()
            }
        })
        .collect();
    let i = dialoguer::Select::with_theme(&theme)
        .with_prompt(q)
        .items(&labels)
        .default(default)
        .interact()
        .map_err(err)?;
    let choice = d.options[i].clone();
    if d.destructive {
        let typed: String = dialoguer::Input::with_theme(&theme)
            .with_prompt(format!(
                "type the answer '{choice}' again to confirm this destructive choice"
            ))
            .interact_text()
            .map_err(err)?;
        if typed.trim() != choice {
            return Err(UserError::usage(format!(
                "decision '{}' was not confirmed; nothing was written",
                d.id
            )));
        }
    }
    Ok(choice)
}

/// Answer ids no runbook declares: usually typos. One answers file may serve every phase, so only ids unknown to
/// all runbooks count; phase 4's per-tree `p4-dest-<tree>` answers depend on the legacy layout, not on a runbook.
pub fn unknown_answers<'a>(runbooks: &[crate::runbook::Loaded], answers: &'a BTreeMap<String, String>) -> Vec<&'a str> {
    let known: std::collections::BTreeSet<&str> = runbooks
        .iter()
        .flat_map(|b| b.runbook.decisions.iter().map(|d| d.id.as_str()))
        .collect();
    answers
        .keys()
        .map(String::as_str)
        .filter(|id| !known.contains(id) && !id.starts_with("p4-"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(destructive: bool) -> Decision {
        Decision {
            id: "wipe".into(),
            question: "Wipe the disk?".into(),
            options: vec!["no".into(), "yes".into()],
            recommended: Some("no".into()),
            destructive,
            input: Default::default(),
            help: None,
            recommend_from: None,
            governs: Vec::new(),
        }
    }

    #[test]
    fn yes_answers_only_safe_decisions() {
        let empty = BTreeMap::new();
        let a = Answering {
            recorded: &empty,
            answers: &empty,
            yes: true,
        };
        if interactive() {
            return; // a developer's terminal would prompt
        }
        assert_eq!(settle(&dec(false), &a).unwrap(), "no");
        let e = settle(&dec(true), &a).unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.to_string().contains("destructive"));
        let mut ans = BTreeMap::new();
        ans.insert("wipe".to_string(), "maybe".to_string());
        let a = Answering {
            recorded: &empty,
            answers: &ans,
            yes: false,
        };
        assert!(settle(&dec(true), &a)
            .unwrap_err()
            .to_string()
            .contains("not one of its options"));
    }
}
