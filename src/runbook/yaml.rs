//! A guard in front of the YAML parser for files a user hands fleetctl (snapshots, answers, runbooks): the
//! parser's time grows with the square of flow nesting (200 000 `[` take minutes before its own recursion
//! limit refuses them), so nesting deeper than any Kubernetes object needs, and files larger than the caller
//! allows, are refused first, in one linear pass.

use crate::error::UserError;

/// Deeper flow nesting than this is refused (serde_yaml itself refuses beyond 128).
pub const MAX_DEPTH: usize = 100;

/// Refuse `text` when it is larger than `max_bytes` or nests flow collections (`[`/`{`) deeper than
/// [`MAX_DEPTH`]; `what` names the file in the message.
pub fn guard(text: &str, what: &str, max_bytes: usize) -> Result<(), UserError> {
    if text.len() > max_bytes {
        return Err(UserError::usage(format!(
            "{what} is {} bytes; fleetctl reads at most {max_bytes} bytes of YAML here",
            text.len()
        ))
        .subject(what.to_string())
        .next("pass a smaller file (split a snapshot into a directory of files)"));
    }
    match flow_depth(text) {
        Some(line) => Err(UserError::usage(format!(
            "YAML nested more than {MAX_DEPTH} levels deep at line {line}; no Kubernetes object or fleetctl file is"
        ))
        .subject(format!("{what}:{line}"))
        .next("check that this is the file you meant (kubectl get -o yaml output, an answers map, a runbook)")),
        None => Ok(()),
    }
}

/// The line where flow nesting first goes deeper than [`MAX_DEPTH`], if it does.
fn flow_depth(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    // Lines more indented than this belong to a block scalar (`key: |`): text, not structure.
    let mut block: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(b) = block {
            if line.trim().is_empty() || indent > b {
                continue;
            }
            block = None;
        }
        let mut prev = ' ';
        let mut prev_sig = '\n';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Some('"') => {
                    if c == '\\' {
                        chars.next();
                    } else if c == '"' {
                        quote = None;
                    }
                    prev = c;
                    continue;
                }
                Some(_) => {
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            quote = None;
                        }
                    }
                    prev = c;
                    continue;
                }
                None => {}
            }
            // Where a scalar or a flow collection may start.
            let starts = depth > 0
                || matches!(prev_sig, '\n' | '[' | '{' | ',')
                || (matches!(prev_sig, ':' | '-' | '?') && prev.is_whitespace());
            match c {
                '#' if prev.is_whitespace() => break,
                '"' | '\'' if starts => quote = Some(c),
                '[' | '{' if starts => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(i + 1);
                    }
                }
                ']' | '}' if depth > 0 => depth -= 1,
                _ => {}
            }
            if !c.is_whitespace() {
                prev_sig = c;
            }
            prev = c;
        }
        if quote.is_none() && depth == 0 && block_indicator(line) {
            block = Some(indent);
        }
    }
    None
}

/// Whether a line ends with a block scalar indicator (`|`, `>-`, `|+2`, ...) after `:` or `-`.
fn block_indicator(line: &str) -> bool {
    let code = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    let t = code.trim_end();
    let body = t.trim_end_matches(|c: char| c == '+' || c == '-' || c.is_ascii_digit());
    let Some(rest) = body.strip_suffix(['|', '>']) else {
        return false;
    };
    let rest = rest.trim_end();
    rest.is_empty() || rest.ends_with(':') || rest.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn hostile_nesting_is_refused_in_linear_time_and_ordinary_yaml_passes() {
        let deep = format!("a: {}{}\n", "[".repeat(200_000), "]".repeat(200_000));
        let t = Instant::now();
        let e = guard(&deep, "snap.yaml", 64 << 20).unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        assert_eq!(e.code, 2);
        assert!(e.cause.contains("nested more than 100 levels") && e.subject.unwrap() == "snap.yaml:1");
        let maps = format!("a: {}1{}\n", "{a: ".repeat(50_000), "}".repeat(50_000));
        assert!(guard(&maps, "x", 64 << 20).is_err());
        // Brackets inside quotes, comments, plain scalars and block scalars are text.
        let ok = "a: \"[[[[\"\nb: '{{{{'\nc: x[1]   # [[[[\nd: |\n  [[[[[[\n  {{{{\ne: [1, [2, {f: [3]}]]\n";
        assert!(guard(ok, "x", 1 << 20).is_ok());
        let many = format!("k: {}x{}\n", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(guard(&many, "x", 1 << 20).is_ok());
        assert!(guard("a: 1\n", "x", 2).unwrap_err().cause.contains("at most 2 bytes"));
    }
}
