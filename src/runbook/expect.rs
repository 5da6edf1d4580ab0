//! Evaluating `Expect` predicates against an object, with a readable account of what was observed.

use super::model::Expect;
use super::path::{is_secret_field, scalar_string, FieldPath};
use serde_json::Value;

/// The outcome of one predicate: whether it holds and what was seen.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub holds: bool,
    /// e.g. `status.state == AtLatestKnown (observed: UpgradePending)`.
    pub account: String,
}

impl Expect {
    /// Check the shape: exactly one of `condition` / `field`, and the field path parses.
    pub fn validate(&self) -> Result<(), String> {
        match (&self.condition, &self.field) {
            (Some(_), Some(_)) => Err("an expectation has both `condition` and `field`; use one".into()),
            (None, None) => Err("an expectation needs `condition` or `field`".into()),
            (Some(_), None) => Ok(()),
            (None, Some(f)) => {
                FieldPath::parse(f)?;
                let n = [
                    self.equals.is_some(),
                    self.one_of.is_some(),
                    self.not_equals.is_some(),
                    self.exists.is_some(),
                    self.contains.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count();
                if n == 0 {
                    return Err(format!(
                        "field `{f}` needs one of equals, in, notEquals, exists, contains"
                    ));
                }
                Ok(())
            }
        }
    }

    pub fn eval(&self, obj: &Value) -> Outcome {
        if let Some(ctype) = &self.condition {
            let want = self.status.clone().unwrap_or_else(|| "True".into());
            let cond = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(ctype)));
            let Some(c) = cond else {
                return Outcome {
                    holds: false,
                    account: format!("condition {ctype}={want} (observed: no {ctype} condition)"),
                };
            };
            let status = c.get("status").map(scalar_string).unwrap_or_default();
            let reason = c.get("reason").map(scalar_string).unwrap_or_default();
            let message = c.get("message").map(scalar_string).unwrap_or_default();
            let mut holds = status == want;
            if let Some(r) = &self.reason {
                holds &= &reason == r;
            }
            let mut seen = format!("{ctype}={status}");
            if !reason.is_empty() {
                seen.push_str(&format!(", reason {reason}"));
            }
            if !message.is_empty() {
                seen.push_str(&format!(": {message}"));
            }
            return Outcome {
                holds,
                account: format!("condition {ctype}={want} (observed: {seen})"),
            };
        }
        let f = self.field.as_deref().unwrap_or_default();
        let Ok(path) = FieldPath::parse(f) else {
            return Outcome {
                holds: false,
                account: format!("bad field path {f}"),
            };
        };
        let got = path.get(obj);
        let secret = is_secret_field(obj, f);
        // Compare against the whole value; only the account shows a shortened one (char-safe).
        let seen = got.map(scalar_string);
        let seen_txt = match (&seen, secret) {
            (Some(_), true) => "<redacted>".to_string(),
            (Some(s), false) if s.chars().count() > 200 => format!("{}...", s.chars().take(200).collect::<String>()),
            (Some(s), false) => s.clone(),
            (None, _) => "<absent>".into(),
        };
        if let Some(e) = &self.equals {
            let want = scalar_string(e);
            return Outcome {
                holds: seen.as_deref() == Some(&want),
                account: format!("{f} == {want} (observed: {seen_txt})"),
            };
        }
        if let Some(list) = &self.one_of {
            let wants: Vec<String> = list.iter().map(scalar_string).collect();
            let holds = seen.as_ref().is_some_and(|s| wants.contains(s));
            return Outcome {
                holds,
                account: format!("{f} in [{}] (observed: {seen_txt})", wants.join(", ")),
            };
        }
        if let Some(ne) = &self.not_equals {
            let bad = scalar_string(ne);
            return Outcome {
                holds: seen.as_deref() != Some(&bad),
                account: format!("{f} != {bad} (observed: {seen_txt})"),
            };
        }
        if let Some(sub) = &self.contains {
            let holds = seen.as_ref().is_some_and(|s| s.contains(sub.as_str()));
            return Outcome {
                holds,
                account: format!("{f} contains {sub:?} (observed: {seen_txt})"),
            };
        }
        if let Some(ex) = self.exists {
            let present = got.is_some_and(|v| !v.is_null());
            return Outcome {
                holds: present == ex,
                account: format!("{f} {} (observed: {seen_txt})", if ex { "exists" } else { "is absent" }),
            };
        }
        Outcome {
            holds: false,
            account: format!("{f}: no test given"),
        }
    }
}

/// Summarise an object's status for error messages: phase/state and every condition.
pub fn status_summary(obj: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(st) = obj.get("status") {
        for k in ["phase", "state"] {
            if let Some(v) = st.get(k) {
                parts.push(format!("{k}={}", scalar_string(v)));
            }
        }
        if let Some(cs) = st.get("conditions").and_then(Value::as_array) {
            for c in cs {
                let t = c.get("type").map(scalar_string).unwrap_or_default();
                let s = c.get("status").map(scalar_string).unwrap_or_default();
                let r = c.get("reason").map(scalar_string).unwrap_or_default();
                let m = c.get("message").map(scalar_string).unwrap_or_default();
                let mut line = format!("{t}={s}");
                if !r.is_empty() {
                    line.push_str(&format!(" ({r})"));
                }
                if !m.is_empty() {
                    line.push_str(&format!(": {m}"));
                }
                parts.push(line);
            }
        }
    }
    if parts.is_empty() {
        "no status yet".into()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_and_fields_are_judged_with_what_was_seen() {
        let o = json!({"status": {"state": "UpgradePending", "conditions": [{"type": "InstallPlanFailed", "status": "True", "reason": "X", "message": "boom"}]}});
        let c = Expect {
            condition: Some("InstallPlanFailed".into()),
            ..Default::default()
        };
        let out = c.eval(&o);
        assert!(out.holds);
        assert!(out.account.contains("boom"));
        let f = Expect {
            field: Some("status.state".into()),
            equals: Some(json!("AtLatestKnown")),
            ..Default::default()
        };
        let out = f.eval(&o);
        assert!(!out.holds);
        assert!(out.account.contains("UpgradePending"));
        let ex = Expect {
            field: Some("status.installedCSV".into()),
            exists: Some(true),
            ..Default::default()
        };
        assert!(!ex.eval(&o).holds);
        assert!(status_summary(&o).contains("InstallPlanFailed=True (X): boom"));
    }

    #[test]
    fn secret_data_is_never_shown() {
        let s = json!({"apiVersion": "v1", "kind": "Secret", "data": {"token": "c2VjcmV0"}});
        let e = Expect {
            field: Some("data.token".into()),
            exists: Some(true),
            ..Default::default()
        };
        let out = e.eval(&s);
        assert!(out.holds);
        assert!(!out.account.contains("c2VjcmV0"), "{}", out.account);
    }

    #[test]
    fn contains_sees_past_the_shortened_account() {
        let long = format!("{}é\nTest PASSED\nDone\n", "x".repeat(250));
        let o = serde_json::json!({"data": {"log": long}});
        let e = Expect {
            field: Some("data.log".into()),
            contains: Some("Test PASSED".into()),
            ..Default::default()
        };
        let out = e.eval(&o);
        assert!(out.holds, "{}", out.account);
        assert!(out.account.contains("..."));
    }
}
