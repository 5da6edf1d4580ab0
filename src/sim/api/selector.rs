//! Label selectors (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`) and field selectors (`=`, `==`,
//! `!=` on any dotted path, e.g. `metadata.name`, `metadata.namespace`, `involvedObject.name`; an
//! absent field equals "").

use super::errors::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selector {
    labels: Vec<Req>,
    fields: Vec<Req>,
}

fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (vec![], String::new(), 0);
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn set_values(rest: &str) -> Result<Vec<String>, ApiError> {
    let r = rest.trim();
    let inner = r
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| ApiError::bad_request(format!("unable to parse requirement: expected (values) in '{r}'")))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

fn parse_req(term: &str) -> Result<Req, ApiError> {
    if let Some((k, v)) = term.split_once("!=") {
        return Ok(Req::Ne(k.trim().into(), v.trim().into()));
    }
    if let Some((k, v)) = term.split_once("==") {
        return Ok(Req::Eq(k.trim().into(), v.trim().into()));
    }
    if let Some((k, v)) = term.split_once('=') {
        return Ok(Req::Eq(k.trim().into(), v.trim().into()));
    }
    if let Some(k) = term.strip_prefix('!') {
        return Ok(Req::NotExists(k.trim().into()));
    }
    let mut parts = term.splitn(2, char::is_whitespace);
    let key = parts.next().unwrap_or("").trim().to_string();
    let rest = parts.next().unwrap_or("").trim();
    if let Some(r) = rest.strip_prefix("notin") {
        return Ok(Req::NotIn(key, set_values(r)?));
    }
    if let Some(r) = rest.strip_prefix("in") {
        return Ok(Req::In(key, set_values(r)?));
    }
    if rest.is_empty() && !key.is_empty() {
        return Ok(Req::Exists(key));
    }
    Err(ApiError::bad_request(format!("unable to parse requirement: '{term}'")))
}

fn matches(req: &Req, get: &dyn Fn(&str) -> Option<String>) -> bool {
    match req {
        Req::Eq(k, v) => get(k).as_deref() == Some(v.as_str()),
        Req::Ne(k, v) => get(k).as_deref() != Some(v.as_str()),
        Req::In(k, vs) => get(k).is_some_and(|x| vs.contains(&x)),
        Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(&x)),
        Req::Exists(k) => get(k).is_some(),
        Req::NotExists(k) => get(k).is_none(),
    }
}

impl Selector {
    pub fn parse(labels: Option<&str>, fields: Option<&str>) -> Result<Self, ApiError> {
        let mut s = Selector::default();
        for t in split_top(labels.unwrap_or("")) {
            s.labels.push(parse_req(&t)?);
        }
        for t in split_top(fields.unwrap_or("")) {
            let r = parse_req(&t)?;
            if !matches!(&r, Req::Eq(..) | Req::Ne(..)) {
                return Err(ApiError::bad_request(format!("invalid field selector: '{t}'")));
            }
            s.fields.push(r);
        }
        Ok(s)
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = |k: &str| {
            obj.pointer("/metadata/labels")
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let fields = |k: &str| {
            let p = format!("/{}", k.replace('.', "/"));
            match obj.pointer(&p) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Null) | None => Some(String::new()),
                Some(v) => Some(v.to_string()),
            }
        };
        self.labels.iter().all(|r| matches(r, &labels)) && self.fields.iter().all(|r| matches(r, &fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_ops() {
        let o = json!({"metadata": {"name": "a", "namespace": "n", "labels": {"app": "x", "tier": "web"}}});
        let m = |l: &str| Selector::parse(Some(l), None).unwrap().matches(&o);
        assert!(m("app=x") && m("app==x") && m("app!=y") && m("tier in (web,db)") && m("tier notin (db)"));
        assert!(m("app") && m("!missing") && m("app=x,tier=web"));
        assert!(!m("app=y") && !m("tier in (db)") && !m("!app") && !m("missing"));
        let f = |s: &str| Selector::parse(None, Some(s)).unwrap().matches(&o);
        assert!(f("metadata.name=a") && f("metadata.namespace!=m") && !f("metadata.name=b"));
        assert!(Selector::parse(None, Some("metadata.name in (a)")).is_err());
        assert!(f("spec.missing=") && !f("spec.missing=x"));
    }
}
