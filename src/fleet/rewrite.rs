//! Structural rewriting of a cluster's YAML for `fleetctl cluster new`: only the fields that carry a cluster's
//! facts change - hostnames and URLs under the apps domain, paths naming the cluster's folder or overlay, the
//! StorageClass of PVCs, an HTTPRoute's Gateway, the Git repository, the cluster's name. Comments, image
//! references, label keys and every other text are kept byte for byte, so a domain that also appears in an
//! image (`registry.<domain>/app`) or a label key (`backups.<domain>/repository`) is never touched.
//!
//! The rewriter works line by line and tracks the key each line sits under (by indentation), so it also sees
//! into kustomize patches written as block scalars (`patch: |-`), and follows JSON 6902 operations: the
//! `value` of `path: /spec/hostnames` is a hostnames field.

use super::cluster::GatewayRef;

/// The facts a cluster's files carry.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The directory under clusters/ (also the overlay name under apps-shared/*/overlays/).
    pub dir: String,
    /// The cluster's name (cluster.yaml `name`).
    pub name: String,
    pub apps_domain: String,
    pub storage_class: String,
    pub gateway: GatewayRef,
    /// The Git repository Applications pull from, when known.
    pub repo_url: Option<String>,
}

/// Rewrites files of the cluster `old` into files of the cluster `new`.
pub struct Rewriter {
    pub old: Facts,
    pub new: Facts,
}

const HOST_KEYS: &[&str] = &["hostname", "hostnames", "host", "hosts", "dnsNames", "commonName"];

impl Rewriter {
    /// A YAML file, field by field.
    pub fn yaml(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        // (indent, key) of the enclosing mappings; a JSON 6902 `value` takes the name of its op's path.
        let mut stack: Vec<(usize, String)> = Vec::new();
        let mut op_path: Option<(usize, String)> = None;
        for line in text.split_inclusive('\n') {
            let body = line.trim_end_matches(['\n', '\r']);
            let eol = &line[body.len()..];
            let Some(l) = Line::parse(body) else {
                out.push_str(line);
                continue;
            };
            stack.retain(|(i, _)| *i < l.indent);
            if op_path
                .as_ref()
                .is_some_and(|(i, _)| *i > l.indent || (l.item && *i == l.indent))
            {
                op_path = None;
            }
            let key = match &l.key {
                Some(k) if k == "value" => match &op_path {
                    Some((i, p)) if *i == l.indent => last_field(p),
                    _ => k.clone(),
                },
                Some(k) => k.clone(),
                None => stack.last().map(|(_, k)| k.clone()).unwrap_or_default(),
            };
            if l.key.as_deref() == Some("path") && l.value.starts_with('/') {
                op_path = Some((l.indent, l.value.clone()));
            }
            let parents: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
            let new = if l.value.is_empty() {
                None
            } else {
                self.value(&key, &parents, &l.value)
            };
            match new {
                Some(v) => {
                    out.push_str(&body[..l.value_at]);
                    out.push_str(&v);
                    out.push_str(&body[l.value_end..]);
                    out.push_str(eol);
                }
                None => out.push_str(line),
            }
            if l.key.is_some() && (l.value.is_empty() || l.value.starts_with('|') || l.value.starts_with('>')) {
                stack.push((l.indent, key));
            }
        }
        out
    }

    /// A script or other text: only whole path tokens naming the cluster's folder or overlay.
    pub fn paths_only(&self, text: &str) -> String {
        let (old, new) = (
            format!("clusters/{}/", self.old.dir),
            format!("clusters/{}/", self.new.dir),
        );
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find(&old) {
            let boundary = rest[..i]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'));
            out.push_str(&rest[..i]);
            out.push_str(if boundary { &new } else { &old });
            rest = &rest[i + old.len()..];
        }
        out.push_str(rest);
        out
    }

    /// The new value of one scalar under `key`, or None to keep it.
    fn value(&self, key: &str, parents: &[&str], v: &str) -> Option<String> {
        let (o, n) = (&self.old, &self.new);
        if HOST_KEYS.contains(&key) {
            if let Some(h) = self.host(v) {
                return Some(h);
            }
        }
        if let Some(u) = self.url(v) {
            return Some(u);
        }
        if let Some(p) = self.path_list(v) {
            return Some(p);
        }
        if (key == "storageClassName" || key == "storageClass") && v == o.storage_class {
            return Some(n.storage_class.clone());
        }
        if parents.contains(&"parentRefs") || key == "parentRefs" {
            let (og, ng) = (&o.gateway, &n.gateway);
            match key {
                "name" if v == og.name => return Some(ng.name.clone()),
                "namespace" if v == og.namespace => return Some(ng.namespace.clone()),
                "sectionName" if Some(v) == og.section_name.as_deref() => return ng.section_name.clone(),
                _ => {}
            }
        }
        if key == "repoURL" || key == "sourceRepos" || parents.last() == Some(&"sourceRepos") {
            if let (Some(a), Some(b)) = (&o.repo_url, &n.repo_url) {
                if v == a {
                    return Some(b.clone());
                }
            }
        }
        if key == "cluster" && v == o.name {
            return Some(n.name.clone());
        }
        None
    }

    /// `v` when it is the old apps domain or a name under it (`*.`, `app.`), moved to the new domain.
    fn host(&self, v: &str) -> Option<String> {
        let (old, new) = (&self.old.apps_domain, &self.new.apps_domain);
        if v == old {
            return Some(new.clone());
        }
        let head = v.strip_suffix(old.as_str())?.strip_suffix('.')?;
        (!head.is_empty() && !head.contains(['/', ':', ' '])).then(|| format!("{head}.{new}"))
    }

    /// An http(s) URL whose host is under the old apps domain, with the host moved.
    fn url(&self, v: &str) -> Option<String> {
        let scheme = ["https://", "http://"].into_iter().find(|s| v.starts_with(s))?;
        let rest = &v[scheme.len()..];
        let end = rest.find(['/', ':', '?', '#']).unwrap_or(rest.len());
        let host = self.host(&rest[..end])?;
        Some(format!("{scheme}{host}{}", &rest[end..]))
    }

    /// A path (or a `;`-separated list, as in manifest-generate-paths) naming the cluster's folder or overlay.
    fn path_list(&self, v: &str) -> Option<String> {
        let parts: Vec<String> = v
            .split(';')
            .map(|p| self.path(p).unwrap_or_else(|| p.to_string()))
            .collect();
        let joined = parts.join(";");
        (joined != v).then_some(joined)
    }

    fn path(&self, p: &str) -> Option<String> {
        let (lead, rest) = p.split_at(p.len() - p.trim_start_matches(['/', '.']).len());
        let cluster = format!("clusters/{}", self.old.dir);
        if let Some(tail) = rest.strip_prefix(&cluster) {
            if tail.is_empty() || tail.starts_with('/') {
                return Some(format!("{lead}clusters/{}{tail}", self.new.dir));
            }
        }
        if rest.starts_with("apps-shared/") {
            let seg = format!("/overlays/{}", self.old.dir);
            let i = rest.find(&seg)?;
            let tail = &rest[i + seg.len()..];
            if tail.is_empty() || tail.starts_with('/') {
                return Some(format!("{lead}{}/overlays/{}{tail}", &rest[..i], self.new.dir));
            }
        }
        None
    }
}

/// The field a JSON pointer ends in, skipping array indexes and `-`: `/spec/hostnames` -> `hostnames`.
fn last_field(p: &str) -> String {
    p.rsplit('/')
        .find(|s| !s.is_empty() && *s != "-" && !s.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("")
        .to_string()
}

/// One YAML line: its indentation (list markers count as indentation), its key and scalar value.
struct Line {
    indent: usize,
    item: bool,
    key: Option<String>,
    value: String,
    value_at: usize,
    value_end: usize,
}

impl Line {
    fn parse(body: &str) -> Option<Line> {
        let mut i = body.len() - body.trim_start_matches(' ').len();
        let mut item = false;
        while body[i..].starts_with("- ") || &body[i..] == "-" {
            item = true;
            i += 2.min(body.len() - i);
            i += body[i..].len() - body[i..].trim_start_matches(' ').len();
        }
        let rest = &body[i..];
        if rest.is_empty() && !item || rest.starts_with('#') {
            return None;
        }
        let (key, value_at) = match key_of(rest) {
            Some((k, after)) => {
                let skip = rest[after..].len() - rest[after..].trim_start().len();
                (Some(k), i + after + skip)
            }
            None => (None, i),
        };
        let raw = &body[value_at..];
        let raw_end = comment_start(raw).unwrap_or(raw.len());
        let raw = raw[..raw_end].trim_end();
        let (quote, inner) = match raw.chars().next() {
            Some(q @ ('"' | '\'')) if raw.len() >= 2 && raw.ends_with(q) => (q.to_string(), &raw[1..raw.len() - 1]),
            _ => (String::new(), raw),
        };
        Some(Line {
            indent: i,
            item,
            key,
            value: inner.to_string(),
            value_at: value_at + quote.len(),
            value_end: value_at + raw.len() - quote.len(),
        })
    }
}

/// `key:` at the start of `s`: the key and the offset after the colon.
fn key_of(s: &str) -> Option<(String, usize)> {
    let (k, quoted) = match s.chars().next()? {
        q @ ('"' | '\'') => {
            let end = s[1..].find(q)? + 1;
            (&s[1..end], end + 1)
        }
        _ => {
            let end = s.find(':')?;
            (&s[..end], end)
        }
    };
    let after = &s[quoted..];
    if !after.starts_with(':') || !(after.len() == 1 || after[1..].starts_with(' ')) {
        return None;
    }
    if k.is_empty() || k.contains([' ', '{', '[', '"']) {
        return None;
    }
    Some((k.to_string(), quoted + 1))
}

/// Where a ` #` comment starts outside quotes.
fn comment_start(s: &str) -> Option<usize> {
    let mut q: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match q {
            Some(open) if c == open => q = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => q = Some(c),
            None if c == '#' && prev.is_whitespace() => return Some(i),
            None => {}
        }
        prev = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(dir: &str, domain: &str, sc: &str, gw: (&str, &str), git: &str) -> Facts {
        Facts {
            dir: dir.into(),
            name: dir.into(),
            apps_domain: domain.into(),
            storage_class: sc.into(),
            gateway: GatewayRef {
                name: gw.0.into(),
                namespace: gw.1.into(),
                section_name: Some("https".into()),
            },
            repo_url: Some(git.into()),
        }
    }

    #[test]
    fn rewrites_fields_never_text() {
        let r = Rewriter {
            old: facts(
                "openshift",
                "apps.a.example.org",
                "lvms-vg1",
                ("apps-gateway", "openshift-ingress"),
                "https://git.example/old.git",
            ),
            new: facts(
                "sno-b",
                "apps.b.example.org",
                "fast",
                ("gw", "ingress"),
                "https://git.example/new.git",
            ),
        };
        let src = "\
# apps.a.example.org stays in comments; clusters/openshift/ too
metadata:
  labels:
    backups.apps.a.example.org/repository: x
spec:
  image: registry.apps.a.example.org/app:1 # apps.a.example.org
  hostnames:
    - \"app.apps.a.example.org\"
  storageClassName: lvms-vg1
  path: clusters/openshift/apps
  other: lvms-vg1
patches:
  - patch: |-
      - op: replace
        path: /spec/parentRefs
        value:
          - name: apps-gateway
            namespace: openshift-ingress
      - op: add
        path: /spec/storageClassName
        value: lvms-vg1
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value:
          name: DOMAIN
          value: https://app.apps.a.example.org/x
  - path: apps-shared/*/overlays/openshift
    repoURL: https://git.example/old.git
";
        let out = r.yaml(src);
        assert!(out.contains("# apps.a.example.org stays in comments; clusters/openshift/ too"));
        assert!(out.contains("backups.apps.a.example.org/repository: x"));
        assert!(out.contains("image: registry.apps.a.example.org/app:1 # apps.a.example.org"));
        assert!(out.contains("- \"app.apps.b.example.org\""), "{out}");
        assert!(out.contains("storageClassName: fast"));
        assert!(out.contains("other: lvms-vg1"));
        assert!(out.contains("path: clusters/sno-b/apps"));
        assert!(out.contains("- name: gw\n            namespace: ingress"), "{out}");
        assert!(out.contains("value: fast"), "{out}");
        assert!(out.contains("value: https://app.apps.b.example.org/x"), "{out}");
        assert!(out.contains("path: apps-shared/*/overlays/sno-b"));
        assert!(out.contains("repoURL: https://git.example/new.git"), "{out}");
    }
}
