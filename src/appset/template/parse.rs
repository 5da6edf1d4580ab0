//! Parsing a Go template into text and action nodes.

use super::eval::{print_value, Eval};
use super::lex::{lex, Tok};
use super::{GoOptions, TemplateError};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Text(String),
    Action(Pipeline),
}

pub(super) type Pipeline = Vec<Command>;
pub(super) type Command = Vec<Operand>;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    /// `.a.b` (empty = `.`); `root` is true for `$`/`$.a`.
    Field {
        root: bool,
        chain: Vec<String>,
    },
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    Func(String),
    Sub(Pipeline),
}

pub(super) const FUNCS: &[&str] = &[
    "index",
    "len",
    "print",
    "printf",
    "lower",
    "upper",
    "title",
    "trim",
    "trimPrefix",
    "trimSuffix",
    "replace",
    "default",
    "quote",
    "squote",
    "trunc",
    "join",
    "splitList",
    "toString",
    "normalize",
];

const KEYWORDS: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
];

/// A parsed Go template.
#[derive(Debug, Clone)]
pub struct GoTemplate {
    nodes: Vec<Node>,
}

impl GoTemplate {
    pub fn parse(src: &str) -> Result<GoTemplate, TemplateError> {
        let mut nodes: Vec<Node> = Vec::new();
        let mut rest = src;
        let mut trim_next_text = false;
        while let Some(start) = rest.find("{{") {
            let mut text = rest[..start].to_string();
            if trim_next_text {
                text = text.trim_start().to_string();
            }
            let mut inner = &rest[start + 2..];
            // `{{- ` trims the preceding text (the dash must be followed by a space).
            if inner.starts_with("- ")
                || inner.starts_with("-\t")
                || inner.starts_with("-\n")
                || inner.starts_with("-\r")
            {
                text = text.trim_end().to_string();
                inner = &inner[1..];
            }
            if !text.is_empty() {
                nodes.push(Node::Text(text));
            }
            let (action_src, after, trim_after) = split_action(inner, src)?;
            trim_next_text = trim_after;
            let trimmed = action_src.trim();
            if trimmed.starts_with("/*") {
                if !trimmed.ends_with("*/") {
                    return Err(TemplateError::msg(format!("unclosed comment in template '{src}'")));
                }
            } else {
                let toks = lex(action_src, src)?;
                let mut p = Parser { toks, pos: 0, src };
                let pipe = p.pipeline()?;
                if p.pos != p.toks.len() {
                    return Err(TemplateError::msg(format!(
                        "unexpected '{}' in template '{src}'",
                        p.toks[p.pos].describe()
                    )));
                }
                nodes.push(Node::Action(pipe));
            }
            rest = after;
        }
        let mut text = rest.to_string();
        if trim_next_text {
            text = text.trim_start().to_string();
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(GoTemplate { nodes })
    }

    pub fn execute(&self, data: &Value, opts: GoOptions) -> Result<String, TemplateError> {
        let mut out = String::new();
        let ev = Eval { root: data, opts };
        for n in &self.nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Action(p) => {
                    let v = ev.pipeline(p)?;
                    out.push_str(&print_value(v.as_ref()));
                }
            }
        }
        Ok(out)
    }
}

/// Render one string with Go template semantics.
pub fn render_go(tmpl: &str, data: &Value, opts: GoOptions) -> Result<String, TemplateError> {
    GoTemplate::parse(tmpl)?.execute(data, opts)
}

/// Find the end of an action (`}}` outside string literals). Returns (action text, rest, trim).
fn split_action<'a>(s: &'a str, whole: &str) -> Result<(&'a str, &'a str, bool), TemplateError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' && q == b'"' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'`' | b'\'' => quote = Some(c),
            b'}' if b.get(i + 1) == Some(&b'}') => {
                // ` -}}` trims the following text.
                if i >= 2 && b[i - 1] == b'-' && matches!(b[i - 2], b' ' | b'\t' | b'\n' | b'\r') {
                    return Ok((&s[..i - 1], &s[i + 2..], true));
                }
                return Ok((&s[..i], &s[i + 2..], false));
            }
            _ => {}
        }
        i += 1;
    }
    Err(TemplateError::msg(format!("unclosed action in template '{whole}'")))
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    src: &'a str,
}

impl Parser<'_> {
    fn err(&self, m: impl Into<String>) -> TemplateError {
        TemplateError::msg(format!("{} in template '{}'", m.into(), self.src))
    }

    fn pipeline(&mut self) -> Result<Pipeline, TemplateError> {
        let mut cmds = vec![self.command()?];
        while self.toks.get(self.pos) == Some(&Tok::Pipe) {
            self.pos += 1;
            cmds.push(self.command()?);
        }
        Ok(cmds)
    }

    fn command(&mut self) -> Result<Command, TemplateError> {
        let mut ops = Vec::new();
        while let Some(t) = self.toks.get(self.pos).cloned() {
            match t {
                Tok::Pipe | Tok::RParen => break,
                Tok::LParen => {
                    self.pos += 1;
                    let p = self.pipeline()?;
                    if self.toks.get(self.pos) != Some(&Tok::RParen) {
                        return Err(self.err("unclosed '('"));
                    }
                    self.pos += 1;
                    ops.push(Operand::Sub(p));
                }
                Tok::Field { root, chain } => {
                    self.pos += 1;
                    ops.push(Operand::Field { root, chain });
                }
                Tok::Str(s) => {
                    self.pos += 1;
                    ops.push(Operand::Str(s));
                }
                Tok::Int(n) => {
                    self.pos += 1;
                    ops.push(Operand::Int(n));
                }
                Tok::Float(f) => {
                    self.pos += 1;
                    ops.push(Operand::Float(f));
                }
                Tok::Ident(name) => {
                    self.pos += 1;
                    match name.as_str() {
                        "true" => ops.push(Operand::Bool(true)),
                        "false" => ops.push(Operand::Bool(false)),
                        "nil" => ops.push(Operand::Nil),
                        k if KEYWORDS.contains(&k) => {
                            return Err(self.err(format!(
                                "the '{k}' action is not supported offline (only plain pipelines are)"
                            )));
                        }
                        f if FUNCS.contains(&f) => ops.push(Operand::Func(name)),
                        other => {
                            return Err(self.err(format!(
                                "function \"{other}\" not defined (supported offline: {})",
                                FUNCS.join(", ")
                            )))
                        }
                    }
                }
            }
        }
        if ops.is_empty() {
            return Err(self.err("missing value for command"));
        }
        Ok(ops)
    }
}
