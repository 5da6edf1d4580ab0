//! Tokens of one Go template action.

use super::TemplateError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Field { root: bool, chain: Vec<String> },
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Pipe,
    LParen,
    RParen,
}

impl Tok {
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Field { .. } => "field".into(),
            Tok::Ident(s) => s.clone(),
            Tok::Str(s) => format!("{s:?}"),
            Tok::Int(i) => i.to_string(),
            Tok::Float(f) => f.to_string(),
            Tok::Pipe => "|".into(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(super) fn lex(s: &str, whole: &str) -> Result<Vec<Tok>, TemplateError> {
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let bad = |m: String| TemplateError::msg(format!("{m} in template '{whole}'"));
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (tok, next) = match c {
            '|' => (Tok::Pipe, i + 1),
            '(' => (Tok::LParen, i + 1),
            ')' => (Tok::RParen, i + 1),
            '"' => quoted(&chars, i + 1).map_err(bad)?,
            '`' => raw(&chars, i + 1).map_err(bad)?,
            '.' | '$' => field(&chars, i).map_err(bad)?,
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+') && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                number(&chars, i).map_err(bad)?
            }
            c if c.is_alphabetic() || c == '_' => {
                let end = ident_end(&chars, i);
                (Tok::Ident(chars[i..end].iter().collect()), end)
            }
            ':' if chars.get(i + 1) == Some(&'=') => return Err(bad("variable declarations are not supported".into())),
            other => return Err(bad(format!("unexpected '{other}'"))),
        };
        toks.push(tok);
        i = next;
    }
    Ok(toks)
}

fn ident_end(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && is_ident_char(chars[i]) {
        i += 1;
    }
    i
}

/// A `"..."` string starting after the opening quote: the token and the index after the closing one.
fn quoted(chars: &[char], mut i: usize) -> Result<(Tok, usize), String> {
    let mut v = String::new();
    loop {
        match chars.get(i) {
            None => return Err("unterminated string".into()),
            Some('"') => return Ok((Tok::Str(v), i + 1)),
            Some('\\') => {
                let e = chars.get(i + 1).ok_or_else(|| "unterminated string".to_string())?;
                v.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '\\' => '\\',
                    '"' => '"',
                    '\'' => '\'',
                    other => return Err(format!("unsupported escape '\\{other}'")),
                });
                i += 2;
            }
            Some(ch) => {
                v.push(*ch);
                i += 1;
            }
        }
    }
}

/// A `` `...` `` raw string starting after the opening backquote.
fn raw(chars: &[char], i: usize) -> Result<(Tok, usize), String> {
    match chars[i.min(chars.len())..].iter().position(|c| *c == '`') {
        Some(n) => Ok((Tok::Str(chars[i..i + n].iter().collect()), i + n + 1)),
        None => Err("unterminated raw string".into()),
    }
}

/// `.`, `.a.b.c`, `$` or `$.a.b` starting at `i`.
fn field(chars: &[char], mut i: usize) -> Result<(Tok, usize), String> {
    let root = chars[i] == '$';
    let mut chain = Vec::new();
    i += 1;
    if root {
        if chars.get(i).is_some_and(|c| is_ident_char(*c)) {
            return Err("template variables other than $ are not supported".into());
        }
    } else {
        let end = ident_end(chars, i);
        if end > i {
            chain.push(chars[i..end].iter().collect());
        }
        i = end;
    }
    while chars.get(i) == Some(&'.') {
        let end = ident_end(chars, i + 1);
        if end == i + 1 {
            return Err("bad field name".into());
        }
        chain.push(chars[i + 1..end].iter().collect());
        i = end;
    }
    Ok((Tok::Field { root, chain }, i))
}

/// An integer or float literal starting at `i` (a sign included).
fn number(chars: &[char], i: usize) -> Result<(Tok, usize), String> {
    let mut end = i + 1;
    while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '.' || chars[end] == '_') {
        end += 1;
    }
    let num: String = chars[i..end].iter().collect();
    let clean = num.replace('_', "");
    if let Ok(n) = clean.parse::<i64>() {
        Ok((Tok::Int(n), end))
    } else if let Ok(f) = clean.parse::<f64>() {
        Ok((Tok::Float(f), end))
    } else {
        Err(format!("bad number syntax '{num}'"))
    }
}
