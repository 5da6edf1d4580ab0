//! Free-text answers checked against the type their decision declares (`input: cidr`, ...): at the prompt
//! (the prompt asks again) and in answers files (exit 2), before anything is written.

use crate::runbook::InputType;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Where a relative path answer points (runbook paths resolve against the runbook library or the repo).
pub type Resolve<'a> = &'a dyn Fn(&str) -> PathBuf;

/// Check one answer; the error says what is wrong with it, in a sentence.
pub fn check(kind: InputType, value: &str, resolve: Resolve<'_>) -> Result<(), String> {
    let v = value.trim();
    if kind.is_input() && v.is_empty() {
        return Err("the answer is empty".into());
    }
    match kind {
        InputType::None | InputType::Text => Ok(()),
        InputType::Path => exists(v, resolve).map(|_| ()),
        InputType::File => file(v, resolve).map(|_| ()),
        InputType::JsonFile => json_file(v, resolve),
        InputType::Cidr => cidr(v),
        InputType::Ip => ip(v).map(|_| ()),
        InputType::Hostname => hostname(v),
        InputType::Integer => v
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| format!("'{v}' is not a whole number")),
    }
}

fn exists(v: &str, resolve: Resolve<'_>) -> Result<PathBuf, String> {
    let p = resolve(v);
    if p.exists() {
        Ok(p)
    } else {
        Err(format!("{} does not exist", shown(v, &p)))
    }
}

fn shown(v: &str, p: &Path) -> String {
    if Path::new(v) == p {
        v.to_string()
    } else {
        format!("{v} ({})", p.display())
    }
}

fn file(v: &str, resolve: Resolve<'_>) -> Result<PathBuf, String> {
    let p = exists(v, resolve)?;
    if !p.is_file() {
        return Err(format!("{} is not a regular file", shown(v, &p)));
    }
    std::fs::File::open(&p).map_err(|e| format!("{} cannot be read: {e}", shown(v, &p)))?;
    Ok(p)
}

fn json_file(v: &str, resolve: Resolve<'_>) -> Result<(), String> {
    let p = file(v, resolve)?;
    let text = std::fs::read(&p).map_err(|e| format!("{} cannot be read: {e}", shown(v, &p)))?;
    // Never echo the content: it is a credential.
    match serde_json::from_slice::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err(format!("{} holds JSON, but not a JSON object", shown(v, &p))),
        Err(e) => Err(format!(
            "{} is not JSON (line {}, column {}); is it the right file?",
            shown(v, &p),
            e.line(),
            e.column()
        )),
    }
}

fn ip(v: &str) -> Result<IpAddr, String> {
    v.parse::<IpAddr>().map_err(|_| format!("'{v}' is not an IP address"))
}

fn cidr(v: &str) -> Result<(), String> {
    let (addr, len) = v
        .split_once('/')
        .ok_or_else(|| format!("'{v}' is not a CIDR: it needs a prefix length, e.g. {v}/32"))?;
    let a = ip(addr).map_err(|e| format!("'{v}' is not a CIDR: {e}"))?;
    let max = if a.is_ipv4() { 32 } else { 128 };
    match len.parse::<u8>() {
        Ok(n) if n <= max => Ok(()),
        _ => Err(format!("'{v}' is not a CIDR: the prefix length '{len}' is not 0-{max}")),
    }
}

fn hostname(v: &str) -> Result<(), String> {
    let name = v.strip_suffix('.').unwrap_or(v);
    if name.len() > 253 {
        return Err(format!("'{v}' is longer than 253 characters"));
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "'{v}' is not a host name: '{label}' is not a DNS label (letters, digits and '-', 1-63 characters)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here(p: &str) -> PathBuf {
        PathBuf::from(p)
    }

    #[test]
    fn addresses_names_and_numbers_are_checked_by_type() {
        assert!(check(InputType::Cidr, "192.168.10.11/32", &here).is_ok());
        assert!(check(InputType::Cidr, "fd00::1/64", &here).is_ok());
        let e = check(InputType::Cidr, "192.168.10.300/32", &here).unwrap_err();
        assert!(e.contains("not an IP address"), "{e}");
        assert!(check(InputType::Cidr, "192.168.10.11/33", &here)
            .unwrap_err()
            .contains("0-32"));
        assert!(check(InputType::Cidr, "192.168.10.11", &here)
            .unwrap_err()
            .contains("prefix length"));
        assert!(check(InputType::Ip, "10.0.0.1", &here).is_ok());
        assert!(check(InputType::Hostname, "api.sno-ai-lab.example.org", &here).is_ok());
        assert!(check(InputType::Hostname, "bad_name.example", &here).is_err());
        assert!(check(InputType::Hostname, "-x.example", &here).is_err());
        assert!(check(InputType::Integer, "3", &here).is_ok());
        assert!(check(InputType::Integer, "three", &here).is_err());
        assert!(check(InputType::Text, "  ", &here).is_err());
    }

    #[test]
    fn files_must_exist_and_json_files_hold_a_json_object() {
        let d = tempfile::tempdir().unwrap();
        let j = d.path().join("c.json");
        std::fs::write(&j, "{\"verifier\": {}}").unwrap();
        let t = d.path().join("c.txt");
        std::fs::write(&t, "op-token-not-json").unwrap();
        let res = |p: &str| d.path().join(p);
        assert!(check(InputType::JsonFile, "c.json", &res).is_ok());
        let e = check(InputType::JsonFile, "c.txt", &res).unwrap_err();
        assert!(e.contains("is not JSON") && !e.contains("op-token"), "{e}");
        assert!(check(InputType::File, "missing", &res)
            .unwrap_err()
            .contains("does not exist"));
        assert!(check(InputType::File, ".", &res)
            .unwrap_err()
            .contains("not a regular file"));
        assert!(check(InputType::Path, ".", &res).is_ok());
    }
}
