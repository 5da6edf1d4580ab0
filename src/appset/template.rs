//! The two ApplicationSet templating dialects, evaluated offline.
//!
//! - Legacy (`goTemplate` unset/false): fasttemplate. Every `{{ key }}` whose trimmed key is a
//!   string parameter is replaced; any other tag is left exactly as written (Argo CD does the
//!   same, so a typo survives into the Application). A `{{` without `}}` is an error.
//! - `goTemplate: true`: a subset of Go's text/template. Supported: text, `{{ }}` actions with
//!   `{{-`/`-}}` trimming, comments, field chains (`.path.basename`, `.values.wave`, `.`, `$`,
//!   `$.x`), string/number/bool literals, parenthesised sub-pipelines, pipelines with `|`, and
//!   the functions `index len print printf` plus the Sprig/Argo CD functions `lower upper
//!   title trim trimPrefix trimSuffix replace default quote squote trunc join splitList
//!   toString normalize`. Control structures (`if`, `range`, `with`, `define`, ...) are
//!   reported as unsupported. `missingkey=error` makes a missing map key an error; otherwise it
//!   prints `<no value>` exactly as Go does.

use serde_json::{Map, Value};

/// Options that matter for evaluation (from `spec.goTemplateOptions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoOptions {
    pub missingkey_error: bool,
}

impl GoOptions {
    /// Parse `goTemplateOptions`; unknown options are an error, as in Go (`Option` panics).
    pub fn parse(opts: &[String]) -> Result<GoOptions, String> {
        let mut out = GoOptions::default();
        for o in opts {
            match o.as_str() {
                "missingkey=error" => out.missingkey_error = true,
                "missingkey=default" | "missingkey=invalid" | "missingkey=zero" => out.missingkey_error = false,
                other => return Err(format!("unknown goTemplateOptions entry '{other}'")),
            }
        }
        Ok(out)
    }
}

/// A template failure: the message, and for a missing key the key's name.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub message: String,
    pub missing_key: Option<String>,
}

impl TemplateError {
    fn msg(m: impl Into<String>) -> Self {
        TemplateError {
            message: m.into(),
            missing_key: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Legacy fasttemplate

/// Substitute `{{key}}` tags from flat string parameters; unknown tags stay as written.
pub fn render_legacy(tmpl: &str, params: &Map<String, Value>) -> Result<String, TemplateError> {
    // Argo CD only templates strings where some single line has `{{` followed by `}}`.
    if !tmpl
        .lines()
        .any(|l| l.find("{{").is_some_and(|i| l[i + 2..].contains("}}")))
    {
        return Ok(tmpl.to_string());
    }
    let mut out = String::new();
    let mut rest = tmpl;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(TemplateError::msg(format!(
                "cannot find end tag '}}}}' in template '{tmpl}'"
            )));
        };
        let tag = &after[..end];
        let key = tag.trim();
        match params.get(key) {
            Some(Value::String(v)) if !key.is_empty() => out.push_str(v),
            _ => {
                out.push_str("{{");
                out.push_str(tag);
                out.push_str("}}");
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Go text/template subset

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Action(Pipeline),
}

type Pipeline = Vec<Command>;
type Command = Vec<Operand>;

#[derive(Debug, Clone, PartialEq)]
enum Operand {
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

const FUNCS: &[&str] = &[
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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
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
    fn describe(&self) -> String {
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

fn lex(s: &str, whole: &str) -> Result<Vec<Tok>, TemplateError> {
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
        match c {
            '|' => {
                toks.push(Tok::Pipe);
                i += 1;
            }
            '(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            '"' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(bad("unterminated string".into())),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            let e = chars.get(i + 1).ok_or_else(|| bad("unterminated string".into()))?;
                            v.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                '\\' => '\\',
                                '"' => '"',
                                '\'' => '\'',
                                other => return Err(bad(format!("unsupported escape '\\{other}'"))),
                            });
                            i += 2;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                toks.push(Tok::Str(v));
            }
            '`' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(bad("unterminated raw string".into())),
                        Some('`') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                toks.push(Tok::Str(v));
            }
            '.' | '$' => {
                let root = c == '$';
                let mut chain = Vec::new();
                if root {
                    i += 1;
                    if chars.get(i).is_some_and(|c| is_ident_char(*c)) {
                        return Err(bad("template variables other than $ are not supported".into()));
                    }
                }
                // `.` alone, or `.a.b.c`.
                if !root {
                    i += 1;
                    let mut name = String::new();
                    while i < chars.len() && is_ident_char(chars[i]) {
                        name.push(chars[i]);
                        i += 1;
                    }
                    if !name.is_empty() {
                        chain.push(name);
                    }
                }
                while chars.get(i) == Some(&'.') {
                    i += 1;
                    let mut name = String::new();
                    while i < chars.len() && is_ident_char(chars[i]) {
                        name.push(chars[i]);
                        i += 1;
                    }
                    if name.is_empty() {
                        return Err(bad("bad field name".into()));
                    }
                    chain.push(name);
                }
                toks.push(Tok::Field { root, chain });
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+') && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut num = String::new();
                num.push(c);
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                    num.push(chars[i]);
                    i += 1;
                }
                let clean = num.replace('_', "");
                if let Ok(n) = clean.parse::<i64>() {
                    toks.push(Tok::Int(n));
                } else if let Ok(f) = clean.parse::<f64>() {
                    toks.push(Tok::Float(f));
                } else {
                    return Err(bad(format!("bad number syntax '{num}'")));
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut name = String::new();
                while i < chars.len() && is_ident_char(chars[i]) {
                    name.push(chars[i]);
                    i += 1;
                }
                toks.push(Tok::Ident(name));
            }
            ':' if chars.get(i + 1) == Some(&'=') => return Err(bad("variable declarations are not supported".into())),
            other => return Err(bad(format!("unexpected '{other}'"))),
        }
    }
    Ok(toks)
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

struct Eval<'a> {
    root: &'a Value,
    opts: GoOptions,
}

/// The result of evaluating something: `None` is Go's invalid value (prints `<no value>`).
type GVal = Option<Value>;

impl Eval<'_> {
    fn pipeline(&self, p: &Pipeline) -> Result<GVal, TemplateError> {
        let mut prev: Option<GVal> = None;
        for cmd in p {
            prev = Some(self.command(cmd, prev)?);
        }
        Ok(prev.unwrap_or(None))
    }

    fn command(&self, cmd: &Command, piped: Option<GVal>) -> Result<GVal, TemplateError> {
        match &cmd[0] {
            Operand::Func(name) => {
                let mut args = Vec::new();
                for a in &cmd[1..] {
                    args.push(self.operand(a)?);
                }
                if let Some(p) = piped {
                    args.push(p);
                }
                call(name, args)
            }
            first => {
                if cmd.len() > 1 || piped.is_some() {
                    return Err(TemplateError::msg("can't give argument to non-function".to_string()));
                }
                self.operand(first)
            }
        }
    }

    fn operand(&self, op: &Operand) -> Result<GVal, TemplateError> {
        Ok(match op {
            Operand::Str(s) => Some(Value::String(s.clone())),
            Operand::Int(n) => Some(Value::from(*n)),
            Operand::Float(f) => Some(Value::from(*f)),
            Operand::Bool(b) => Some(Value::Bool(*b)),
            Operand::Nil => return Err(TemplateError::msg("nil is not a command")),
            Operand::Sub(p) => self.pipeline(p)?,
            Operand::Func(name) => call(name, Vec::new())?,
            Operand::Field { chain, .. } => self.field(chain)?,
        })
    }

    fn field(&self, chain: &[String]) -> Result<GVal, TemplateError> {
        let mut cur: GVal = Some(self.root.clone());
        let mut seen = String::new();
        for name in chain {
            seen.push('.');
            seen.push_str(name);
            cur = match cur {
                None => {
                    if self.opts.missingkey_error {
                        return Err(TemplateError {
                            message: format!("nil data; no entry for key \"{name}\""),
                            missing_key: Some(seen),
                        });
                    }
                    None
                }
                Some(Value::Object(m)) => match m.get(name) {
                    Some(v) => Some(v.clone()),
                    None => {
                        if self.opts.missingkey_error {
                            return Err(TemplateError {
                                message: format!("map has no entry for key \"{name}\""),
                                missing_key: Some(seen),
                            });
                        }
                        None
                    }
                },
                Some(Value::Null) => {
                    return Err(TemplateError::msg(format!(
                        "nil pointer evaluating interface {{}}.{name}"
                    )))
                }
                Some(other) => {
                    return Err(TemplateError::msg(format!(
                        "can't evaluate field {name} in type {}",
                        go_type(&other)
                    )))
                }
            };
        }
        Ok(cur)
    }
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        Value::Null => "interface {}",
    }
}

/// `fmt.Sprint` of a value, as text/template prints it.
pub fn print_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<no value>".to_string(),
        Some(v) => sprint(v),
    }
}

fn sprint(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(sprint).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            format!(
                "map[{}]",
                keys.iter()
                    .map(|k| format!("{k}:{}", sprint(&m[*k])))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
    }
}

fn as_str(v: &GVal) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => sprint(other),
    }
}

fn as_int(v: &GVal, f: &str) -> Result<i64, TemplateError> {
    match v {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| TemplateError::msg(format!("error calling {f}: non-integer index"))),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| TemplateError::msg(format!("error calling {f}: cannot use '{s}' as a number"))),
        _ => Err(TemplateError::msg(format!("error calling {f}: expected an integer"))),
    }
}

fn empty(v: &GVal) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
    }
}

/// Argo CD's `normalize` (and its path.basenameNormalized): lower case, characters outside
/// `[-a-z0-9.]` become `-`, at most 253 characters, no leading/trailing `-` or `.`.
pub fn sanitize_name(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut s: String = lower
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.len() > 253 {
        let mut cut = 253;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s.trim_matches(|c| c == '-' || c == '.').to_string()
}

fn arity(f: &str, args: &[GVal], n: usize) -> Result<(), TemplateError> {
    if args.len() != n {
        return Err(TemplateError::msg(format!(
            "wrong number of args for {f}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

fn s(v: String) -> Result<GVal, TemplateError> {
    Ok(Some(Value::String(v)))
}

fn call(name: &str, args: Vec<GVal>) -> Result<GVal, TemplateError> {
    match name {
        "index" => {
            if args.is_empty() {
                return Err(TemplateError::msg("wrong number of args for index"));
            }
            let mut cur = args[0].clone();
            for idx in &args[1..] {
                cur = match cur {
                    Some(Value::Array(a)) => {
                        let i = as_int(idx, "index")?;
                        if i < 0 || i as usize >= a.len() {
                            return Err(TemplateError::msg(format!(
                                "error calling index: index out of range: {i}"
                            )));
                        }
                        Some(a[i as usize].clone())
                    }
                    Some(Value::Object(m)) => {
                        // Go returns the element type's zero value for a missing key.
                        m.get(&as_str(idx)).cloned()
                    }
                    None | Some(Value::Null) => {
                        return Err(TemplateError::msg("error calling index: index of untyped nil"))
                    }
                    Some(other) => {
                        return Err(TemplateError::msg(format!(
                            "error calling index: can't index item of type {}",
                            go_type(&other)
                        )))
                    }
                };
            }
            Ok(cur)
        }
        "len" => {
            arity(name, &args, 1)?;
            let n = match &args[0] {
                Some(Value::String(s)) => s.len(),
                Some(Value::Array(a)) => a.len(),
                Some(Value::Object(m)) => m.len(),
                _ => return Err(TemplateError::msg("error calling len: len of invalid value")),
            };
            Ok(Some(Value::from(n as i64)))
        }
        "print" | "toString" => {
            let mut out = String::new();
            let mut prev_string = true;
            for (i, a) in args.iter().enumerate() {
                let is_string = matches!(a, Some(Value::String(_)));
                if i > 0 && !is_string && !prev_string {
                    out.push(' ');
                }
                out.push_str(&match a {
                    None => "<nil>".to_string(),
                    Some(v) => sprint(v),
                });
                prev_string = is_string;
            }
            s(out)
        }
        "printf" => {
            let fmt = as_str(
                args.first()
                    .ok_or_else(|| TemplateError::msg("wrong number of args for printf: want at least 1"))?,
            );
            let mut out = String::new();
            let mut it = args[1..].iter();
            let mut chars = fmt.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '%' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('%') => out.push('%'),
                    Some(verb @ ('s' | 'v' | 'd' | 'q')) => match it.next() {
                        Some(a) => {
                            let t = match a {
                                None => "<nil>".to_string(),
                                Some(v) => sprint(v),
                            };
                            if verb == 'q' {
                                out.push_str(&format!("{t:?}"));
                            } else {
                                out.push_str(&t);
                            }
                        }
                        None => out.push_str(&format!("%!{verb}(MISSING)")),
                    },
                    Some(other) => {
                        return Err(TemplateError::msg(format!(
                            "printf verb %{other} is not supported offline (use %s, %v, %d, %q)"
                        )))
                    }
                    None => out.push_str("%!(NOVERB)"),
                }
            }
            s(out)
        }
        "lower" => {
            arity(name, &args, 1)?;
            s(as_str(&args[0]).to_lowercase())
        }
        "upper" => {
            arity(name, &args, 1)?;
            s(as_str(&args[0]).to_uppercase())
        }
        "title" => {
            arity(name, &args, 1)?;
            let mut out = String::new();
            let mut start = true;
            for c in as_str(&args[0]).chars() {
                if start && c.is_alphabetic() {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = c.is_whitespace();
            }
            s(out)
        }
        "trim" => {
            arity(name, &args, 1)?;
            s(as_str(&args[0]).trim().to_string())
        }
        "trimPrefix" => {
            arity(name, &args, 2)?;
            let (p, v) = (as_str(&args[0]), as_str(&args[1]));
            s(v.strip_prefix(p.as_str()).unwrap_or(&v).to_string())
        }
        "trimSuffix" => {
            arity(name, &args, 2)?;
            let (p, v) = (as_str(&args[0]), as_str(&args[1]));
            s(v.strip_suffix(p.as_str()).unwrap_or(&v).to_string())
        }
        "replace" => {
            arity(name, &args, 3)?;
            s(as_str(&args[2]).replace(&as_str(&args[0]), &as_str(&args[1])))
        }
        "default" => {
            if args.is_empty() || args.len() > 2 {
                return Err(TemplateError::msg("wrong number of args for default"));
            }
            if args.len() == 1 || empty(&args[1]) {
                Ok(args[0].clone())
            } else {
                Ok(args[1].clone())
            }
        }
        "quote" => s(args
            .iter()
            .filter(|a| a.is_some())
            .map(|a| format!("{:?}", as_str(a)))
            .collect::<Vec<_>>()
            .join(" ")),
        "squote" => s(args
            .iter()
            .filter(|a| a.is_some())
            .map(|a| format!("'{}'", as_str(a)))
            .collect::<Vec<_>>()
            .join(" ")),
        "trunc" => {
            arity(name, &args, 2)?;
            let n = as_int(&args[0], "trunc")?;
            let v: Vec<char> = as_str(&args[1]).chars().collect();
            let out: String = if n >= 0 {
                v.iter().take(n as usize).collect()
            } else {
                let k = v.len().saturating_sub((-n) as usize);
                v[k..].iter().collect()
            };
            s(out)
        }
        "join" => {
            arity(name, &args, 2)?;
            let sep = as_str(&args[0]);
            let parts: Vec<String> = match &args[1] {
                Some(Value::Array(a)) => a.iter().map(|x| as_str(&Some(x.clone()))).collect(),
                other => vec![as_str(other)],
            };
            s(parts.join(&sep))
        }
        "splitList" => {
            arity(name, &args, 2)?;
            let sep = as_str(&args[0]);
            let v = as_str(&args[1]);
            Ok(Some(Value::Array(
                v.split(sep.as_str()).map(|x| Value::String(x.to_string())).collect(),
            )))
        }
        "normalize" => {
            arity(name, &args, 1)?;
            s(sanitize_name(&as_str(&args[0])))
        }
        other => Err(TemplateError::msg(format!("function \"{other}\" not defined"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn go(t: &str, data: Value, err: bool) -> Result<String, TemplateError> {
        render_go(t, &data, GoOptions { missingkey_error: err })
    }

    fn dir_params() -> Value {
        json!({"path": {"path": "apps-shared/redlib/overlays/openshift", "basename": "openshift",
            "basenameNormalized": "openshift",
            "segments": ["apps-shared", "redlib", "overlays", "openshift"]},
            "values": {"wave": "6"}})
    }

    #[test]
    fn fields_index_and_pipelines() {
        let d = dir_params();
        assert_eq!(
            go("{{ .path.path }}", d.clone(), true).unwrap(),
            "apps-shared/redlib/overlays/openshift"
        );
        assert_eq!(
            go("shared-{{ index .path.segments 1 }}", d.clone(), true).unwrap(),
            "shared-redlib"
        );
        assert_eq!(go("{{.values.wave}}", d.clone(), true).unwrap(), "6");
        assert_eq!(
            go("{{ .path.basename | upper }}", d.clone(), true).unwrap(),
            "OPENSHIFT"
        );
        assert_eq!(
            go("{{ index .path.segments 1 | printf \"app-%s\" }}", d.clone(), true).unwrap(),
            "app-redlib"
        );
        assert_eq!(
            go("{{ (index .path.segments 0) | replace \"-\" \"_\" }}", d.clone(), true).unwrap(),
            "apps_shared"
        );
        assert_eq!(go("a {{- \" b \" -}} c", d.clone(), true).unwrap(), "a b c");
        assert_eq!(go("{{/* note */}}x", d.clone(), true).unwrap(), "x");
        assert_eq!(
            go("{{ .path.segments }}", d.clone(), true).unwrap(),
            "[apps-shared redlib overlays openshift]"
        );
        assert_eq!(go("{{ $.values.wave }}", d.clone(), true).unwrap(), "6");
        assert_eq!(go("{{ default \"x\" .values.nope }}", d.clone(), false).unwrap(), "x");
        assert_eq!(go("no actions", d, true).unwrap(), "no actions");
    }

    #[test]
    fn missing_keys() {
        let d = dir_params();
        assert_eq!(go("{{ .values.nope }}", d.clone(), false).unwrap(), "<no value>");
        assert_eq!(go("{{ .nope.deeper }}", d.clone(), false).unwrap(), "<no value>");
        let e = go("{{ .values.nope }}", d.clone(), true).unwrap_err();
        assert_eq!(e.missing_key.as_deref(), Some(".values.nope"));
        assert!(e.message.contains("map has no entry for key \"nope\""), "{e:?}");
        let e = go("{{ .path.basename.x }}", d.clone(), false).unwrap_err();
        assert!(e.message.contains("can't evaluate field x in type string"), "{e:?}");
        let e = go("{{ index .path.segments 9 }}", d, false).unwrap_err();
        assert!(e.message.contains("index out of range: 9"), "{e:?}");
    }

    #[test]
    fn parse_errors() {
        let d = dir_params();
        assert!(go("{{ .path.path", d.clone(), true).is_err());
        assert!(go("{{ if .x }}y{{ end }}", d.clone(), true)
            .unwrap_err()
            .message
            .contains("not supported"));
        assert!(go("{{ nosuchfunc .x }}", d.clone(), true)
            .unwrap_err()
            .message
            .contains("not defined"));
        assert!(go("{{ .path.path .x }}", d, true)
            .unwrap_err()
            .message
            .contains("non-function"));
    }

    #[test]
    fn legacy_templates() {
        let mut p = Map::new();
        p.insert("path".into(), json!("my-apps/media/plex"));
        p.insert("path.basename".into(), json!("plex"));
        p.insert("path[1]".into(), json!("media"));
        p.insert("values.wave".into(), json!("6"));
        assert_eq!(render_legacy("{{path}}", &p).unwrap(), "my-apps/media/plex");
        assert_eq!(
            render_legacy("my-apps-{{ path.basename }}", &p).unwrap(),
            "my-apps-plex"
        );
        assert_eq!(render_legacy("{{path[1]}}-{{values.wave}}", &p).unwrap(), "media-6");
        assert_eq!(
            render_legacy("{{ unknown }}/{{path.path}}", &p).unwrap(),
            "{{ unknown }}/{{path.path}}"
        );
        assert_eq!(
            render_legacy("{{ .path.basename }}", &p).unwrap(),
            "{{ .path.basename }}"
        );
        assert_eq!(render_legacy("plain", &p).unwrap(), "plain");
        assert!(render_legacy("{{path}} and {{oops", &p).is_err());
    }

    #[test]
    fn sanitize() {
        assert_eq!(sanitize_name("Directory_2"), "directory-2");
        assert_eq!(sanitize_name("-a.b-"), "a.b");
    }
}
