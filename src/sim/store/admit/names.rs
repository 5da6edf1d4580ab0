//! Name and label syntax (k8s.io/apimachinery `pkg/util/validation/validation.go`), with its messages.

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const QUALIFIED_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

fn alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| alnum_lower(c) || c == '-')
        && s.starts_with(alnum_lower)
        && s.ends_with(alnum_lower)
}

/// An RFC 1123 label (namespace and service names).
pub fn dns_label(s: &str) -> Vec<String> {
    let mut out = vec![];
    if s.len() > 63 {
        out.push("must be no more than 63 characters".into());
    }
    if !is_label(s) {
        out.push(format!("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '{DNS1123_LABEL_FMT}')"));
    }
    out
}

fn is_subdomain(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(is_label)
}

/// An RFC 1123 subdomain (most object names).
pub fn dns_subdomain(s: &str) -> Vec<String> {
    let mut out = vec![];
    if s.len() > 253 {
        out.push("must be no more than 253 characters".into());
    }
    if !is_subdomain(s) {
        out.push(format!("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '{DNS1123_LABEL_FMT}(\\.{DNS1123_LABEL_FMT})*')"));
    }
    out
}

/// A path segment (RBAC object names).
pub fn path_segment(s: &str) -> Vec<String> {
    let mut out = vec![];
    match s {
        "." => out.push("may not be '.'".into()),
        ".." => out.push("may not be '..'".into()),
        _ => {
            for c in ['/', '%'] {
                if s.contains(c) {
                    out.push(format!("may not contain '{c}'"));
                }
            }
        }
    }
    out
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_qualified_part(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| alnum(c) || "-_.".contains(c)) && s.starts_with(alnum) && s.ends_with(alnum)
}

/// A qualified name: an optional DNS subdomain prefix and `/`, then a name part (label and annotation keys).
pub fn qualified_name(s: &str) -> Vec<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let name = match parts.as_slice() {
        [n] => *n,
        [prefix, n] => {
            if prefix.is_empty() {
                return vec!["prefix part must be non-empty".into()];
            }
            let mut out: Vec<String> = dns_subdomain(prefix).into_iter().map(|m| format!("prefix part {m}")).collect();
            out.extend(name_part(n));
            return out;
        }
        _ => return vec![format!("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '{QUALIFIED_FMT}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")],
    };
    name_part(name)
}

fn name_part(n: &str) -> Vec<String> {
    if n.is_empty() {
        return vec!["name part must be non-empty".into()];
    }
    let mut out = vec![];
    if n.len() > 63 {
        out.push("name part must be no more than 63 characters".into());
    }
    if !is_qualified_part(n) {
        out.push(format!("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '{QUALIFIED_FMT}')"));
    }
    out
}

/// A label value: empty, or up to 63 characters of the qualified-name alphabet.
pub fn label_value(v: &str) -> Vec<String> {
    let mut out = vec![];
    if v.len() > 63 {
        out.push("must be no more than 63 characters".into());
    }
    if !v.is_empty() && !is_qualified_part(v) {
        out.push(format!("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '({QUALIFIED_FMT})?')"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels_follow_apimachinery() {
        assert!(dns_subdomain("web.example-1").is_empty());
        assert!(!dns_subdomain("Web").is_empty());
        assert!(!dns_subdomain("web_1").is_empty());
        assert!(dns_label("shop").is_empty());
        assert!(!dns_label("a.b").is_empty());
        assert!(qualified_name("app.kubernetes.io/name").is_empty());
        assert!(!qualified_name("bad key").is_empty());
        assert!(!qualified_name("a/b/c").is_empty());
        assert!(label_value("").is_empty());
        assert!(!label_value("-x").is_empty());
        assert_eq!(path_segment("system:openshift:scc:anyuid"), Vec::<String>::new());
    }
}
