//! Glob matching with the semantics of Go's `path.Match`, which the Argo CD git directory
//! generator applies to every directory path of the repository (one pattern against the whole
//! slash-separated path):
//!
//! - `*` matches any run of characters except `/` (so `a/*` never matches `a/b/c`, and `**` is
//!   just two `*`: it does not cross `/` either);
//! - `?` matches one character except `/`;
//! - `[...]` is a character class (`[^...]` negated, `a-z` ranges, `\` escapes);
//! - `\x` matches `x` literally;
//! - the pattern must match the whole path.
//!
//! A malformed pattern (unclosed `[`, empty class, trailing `\`) is an error here. Argo CD logs
//! it and matches nothing; an offline checker says so instead.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(char),
    Any,  // ?
    Star, // *
    Class { negated: bool, ranges: Vec<(char, char)> },
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    toks: Vec<Tok>,
    /// Git pathspec semantics: `*` and `?` match `/` too, and a pattern without wildcards
    /// also matches everything under that directory.
    pathspec: bool,
    literal: Option<String>,
}

impl Pattern {
    /// A git pathspec as `git ls-files -- <pattern>` reads it (no magic): what the Argo CD git
    /// files generator uses by default (`LsFiles` without new globbing).
    pub fn pathspec(pattern: &str) -> Result<Pattern, String> {
        let mut p = Pattern::new(pattern)?;
        p.pathspec = true;
        if !pattern.contains(['*', '?', '[', '\\']) {
            p.literal = Some(pattern.trim_end_matches('/').to_string());
        }
        Ok(p)
    }

    pub fn new(pattern: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' => {
                    if toks.last() != Some(&Tok::Star) {
                        toks.push(Tok::Star);
                    }
                    i += 1;
                }
                '?' => {
                    toks.push(Tok::Any);
                    i += 1;
                }
                '\\' => {
                    let c = *chars
                        .get(i + 1)
                        .ok_or_else(|| format!("bad pattern '{pattern}': trailing '\\'"))?;
                    toks.push(Tok::Lit(c));
                    i += 2;
                }
                '[' => {
                    i += 1;
                    let mut negated = false;
                    if chars.get(i) == Some(&'^') {
                        negated = true;
                        i += 1;
                    }
                    let mut ranges = Vec::new();
                    loop {
                        match chars.get(i) {
                            None => {
                                return Err(format!("bad pattern '{pattern}': unclosed '['"));
                            }
                            Some(']') if !ranges.is_empty() => {
                                i += 1;
                                break;
                            }
                            _ => {}
                        }
                        let (lo, next) = class_char(&chars, i, pattern)?;
                        i = next;
                        let mut hi = lo;
                        if chars.get(i) == Some(&'-') {
                            let (h, next) = class_char(&chars, i + 1, pattern)?;
                            hi = h;
                            i = next;
                        }
                        ranges.push((lo, hi));
                    }
                    toks.push(Tok::Class { negated, ranges });
                }
                c => {
                    toks.push(Tok::Lit(c));
                    i += 1;
                }
            }
        }
        Ok(Pattern {
            toks,
            pathspec: false,
            literal: None,
        })
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        if let Some(l) = &self.literal {
            return name == l || name.strip_prefix(l.as_str()).is_some_and(|r| r.starts_with('/'));
        }
        let s: Vec<char> = name.chars().collect();
        match_from(&self.toks, &s, self.pathspec)
    }
}

/// One character inside a class: not `-` or `]` unescaped, and never the end of the pattern.
fn class_char(chars: &[char], i: usize, pattern: &str) -> Result<(char, usize), String> {
    let bad = || format!("bad pattern '{pattern}': malformed character class");
    match chars.get(i) {
        None | Some('-') | Some(']') => Err(bad()),
        Some('\\') => match chars.get(i + 1) {
            Some(c) if i + 2 < chars.len() => Ok((*c, i + 2)),
            _ => Err(bad()),
        },
        Some(c) if i + 1 < chars.len() => Ok((*c, i + 1)),
        Some(_) => Err(bad()),
    }
}

fn match_from(toks: &[Tok], s: &[char], cross: bool) -> bool {
    let Some((first, rest)) = toks.split_first() else {
        return s.is_empty();
    };
    match first {
        Tok::Star => {
            // Try every split of a '/'-free prefix, shortest first.
            let mut k = 0;
            loop {
                if match_from(rest, &s[k..], cross) {
                    return true;
                }
                if k == s.len() || (s[k] == '/' && !cross) {
                    return false;
                }
                k += 1;
            }
        }
        Tok::Any => !s.is_empty() && (cross || s[0] != '/') && match_from(rest, &s[1..], cross),
        Tok::Lit(c) => !s.is_empty() && s[0] == *c && match_from(rest, &s[1..], cross),
        Tok::Class { negated, ranges } => {
            if s.is_empty() {
                return false;
            }
            let hit = ranges.iter().any(|(lo, hi)| *lo <= s[0] && s[0] <= *hi);
            hit != *negated && match_from(rest, &s[1..], cross)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn m(p: &str, s: &str) -> bool {
        Pattern::new(p).unwrap().matches(s)
    }

    #[test]
    fn star_stays_within_a_segment() {
        assert!(m("my-apps/*/*", "my-apps/media/plex"));
        assert!(!m("my-apps/*/*", "my-apps/media"));
        assert!(!m("my-apps/*/*", "my-apps/media/plex/base"));
        assert!(!m("my-apps/*", "my-apps/media/plex"));
        assert!(!m("my-apps/**", "my-apps/media/plex"));
        assert!(m("my-apps/**", "my-apps/media"));
        assert!(m("*", "monitoring"));
        assert!(!m("*", "monitoring/grafana"));
        assert!(m(
            "apps-shared/*/overlays/openshift",
            "apps-shared/redlib/overlays/openshift"
        ));
        assert!(m("a*c/x", "abbbc/x"));
        assert!(!m("a*c/x", "ab/c/x"));
    }

    #[test]
    fn whole_path_literal_and_classes() {
        assert!(m("infrastructure/networking", "infrastructure/networking"));
        assert!(!m("infrastructure/networking", "infrastructure/networking/cilium"));
        assert!(!m("infrastructure", "infrastructure/networking"));
        assert!(m("d/[f|g]", "d/f"));
        assert!(m("d/[f|g]", "d/g"));
        assert!(!m("d/[f|g]", "d/e"));
        assert!(m("d/[^f]", "d/e"));
        assert!(m("v[0-9]", "v7"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "a/c"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
    }

    #[test]
    fn git_pathspecs_cross_slashes() {
        // git ls-files -- 'apps/*/config.json' also lists apps/a/b/config.json (no :(glob) magic).
        let p = Pattern::pathspec("apps/*/config.json").unwrap();
        assert!(p.matches("apps/a/config.json"));
        assert!(p.matches("apps/a/b/config.json"));
        assert!(!p.matches("other/a/config.json"));
        let d = Pattern::pathspec("cluster-config").unwrap();
        assert!(d.matches("cluster-config/a.json"));
        assert!(!d.matches("cluster-config-2/a.json"));
    }

    #[test]
    fn malformed_patterns_are_errors() {
        assert!(Pattern::new("a[").is_err());
        assert!(Pattern::new("a[]").is_err());
        assert!(Pattern::new("a\\").is_err());
        assert!(Pattern::new("[a-]").is_err());
    }
}
