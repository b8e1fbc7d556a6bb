//! Helm's `tpl` on the `runners.config` string, for the cases that only read values.
//!
//! The chart renders `runners.config` with `tpl` (templates/configmap.yaml:
//! `tpl .Values.runners.config $`), so values files put Go template actions in it:
//! `{{ .Values.runners.job.registry }}`, `{{ default .Release.Namespace .Values.x }}`,
//! `{{- if .Values.y }} ... {{- end }}`, `{{ printf "%s/%s" .Values.a .Values.b | quote }}`.
//! This evaluator covers field access on `.Values`, `.Release`, `.Chart`, `if`/`else if`/
//! `else`, pipelines and the Sprig functions such configs use. Anything else (`include`,
//! `range`, variables, `lookup`) is not guessed: the action is kept as written and named in
//! [`Output::unknown`], so the caller can say what it could not see instead of failing.

use std::fmt::Write as _;

use serde_json::Value;

/// What a template sees.
pub(crate) struct Scope<'a> {
    pub(crate) values: &'a Value,
    pub(crate) release_name: &'a str,
    pub(crate) release_namespace: &'a str,
    pub(crate) chart_version: &'a str,
    pub(crate) app_version: &'a str,
}

/// The rendered text and the actions that could not be evaluated.
pub(crate) struct Output {
    pub(crate) text: String,
    pub(crate) unknown: Vec<String>,
}

/// Renders `template`.
pub(crate) fn render(template: &str, scope: &Scope<'_>) -> Output {
    let tokens = lex(template);
    let mut pos = 0;
    let nodes = parse(&tokens, &mut pos, &mut Vec::new());
    let mut out = Output {
        text: String::new(),
        unknown: Vec::new(),
    };
    exec(&nodes, scope, &mut out);
    out
}

#[derive(Debug, Clone)]
enum Token {
    Text(String),
    /// An action's inner text (trim markers removed) and its source.
    Action(String, String),
}

fn lex(src: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = src;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut text = &rest[..start];
        if trim_next {
            text = text.trim_start();
        }
        let after = &rest[start + 2..];
        let trim_left =
            after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n");
        if trim_left {
            text = text.trim_end();
        }
        tokens.push(Token::Text(text.to_owned()));
        let Some(end) = find_close(after) else {
            // An unclosed action: Helm refuses the template; keep the rest as text.
            tokens.push(Token::Text(rest[start..].to_owned()));
            rest = "";
            trim_next = false;
            break;
        };
        let inner_raw = &after[..end];
        let trim_right =
            inner_raw.ends_with(" -") || inner_raw.ends_with("\t-") || inner_raw.ends_with("\n-");
        let mut inner = inner_raw;
        if trim_left {
            inner = &inner[1..];
        }
        if trim_right {
            inner = &inner[..inner.len() - 1];
        }
        let source = format!("{{{{{inner_raw}}}}}");
        tokens.push(Token::Action(inner.trim().to_owned(), source));
        trim_next = trim_right;
        rest = &after[end + 2..];
    }
    let text = if trim_next { rest.trim_start() } else { rest };
    tokens.push(Token::Text(text.to_owned()));
    tokens
}

/// The index of the `}}` closing an action, skipping string literals.
fn find_close(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' && q == b'"' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'"' || b == b'`' {
                    quote = Some(b);
                } else if b == b'}' && bytes.get(i + 1) == Some(&b'}') {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

#[derive(Debug)]
enum Node {
    Text(String),
    Expr {
        pipe: String,
        source: String,
    },
    If {
        branches: Vec<(String, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    /// A block this evaluator does not run (`range`, `with`, `define`, ...).
    Unsupported(String),
}

/// Parses until one of the `stops` keywords (`end`, `else`) at this level; the stop found is
/// pushed on `stops_found`.
fn parse(tokens: &[Token], pos: &mut usize, stop: &mut Vec<String>) -> Vec<Node> {
    let mut nodes = Vec::new();
    while *pos < tokens.len() {
        let token = tokens[*pos].clone();
        *pos += 1;
        match token {
            Token::Text(t) => nodes.push(Node::Text(t)),
            Token::Action(inner, source) => {
                let keyword = inner
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                if inner.starts_with("/*") {
                    continue;
                }
                match keyword.as_str() {
                    "end" | "else" => {
                        stop.push(inner);
                        return nodes;
                    }
                    "if" => {
                        let mut branches = Vec::new();
                        let mut cond = inner["if".len()..].trim().to_owned();
                        let mut otherwise = Vec::new();
                        loop {
                            let mut found = Vec::new();
                            let body = parse(tokens, pos, &mut found);
                            branches.push((cond.clone(), body));
                            match found.pop() {
                                Some(s) if s.starts_with("else if") => {
                                    s["else if".len()..].trim().clone_into(&mut cond);
                                }
                                Some(s) if s.starts_with("else") => {
                                    let mut found = Vec::new();
                                    otherwise = parse(tokens, pos, &mut found);
                                    break;
                                }
                                _ => break,
                            }
                        }
                        nodes.push(Node::If {
                            branches,
                            otherwise,
                        });
                    }
                    "range" | "with" | "define" | "block" => {
                        // Skip to the matching end.
                        let mut found = Vec::new();
                        loop {
                            let _ = parse(tokens, pos, &mut found);
                            match found.pop() {
                                Some(s) if s.starts_with("else") => {}
                                _ => break,
                            }
                        }
                        nodes.push(Node::Unsupported(source));
                    }
                    "template" => nodes.push(Node::Unsupported(source)),
                    _ => nodes.push(Node::Expr {
                        pipe: inner,
                        source,
                    }),
                }
            }
        }
    }
    nodes
}

fn exec(nodes: &[Node], scope: &Scope<'_>, out: &mut Output) {
    for node in nodes {
        match node {
            Node::Text(t) => out.text.push_str(t),
            Node::Expr { pipe, source } => {
                if let Some(v) = eval_pipeline(pipe, scope) {
                    out.text.push_str(&display(&v));
                } else {
                    out.unknown.push(source.clone());
                    // Keep TOML valid where the action is a value by itself (`key = {{ x }}`).
                    let bare_value = out.text.trim_end().ends_with('=');
                    if bare_value {
                        let _ = write!(out.text, "{source:?}");
                    } else {
                        out.text.push_str(source);
                    }
                }
            }
            Node::If {
                branches,
                otherwise,
            } => {
                let mut done = false;
                for (cond, body) in branches {
                    match eval_pipeline(cond, scope) {
                        Some(v) if truthy(&v) => {
                            exec(body, scope, out);
                            done = true;
                            break;
                        }
                        Some(_) => {}
                        None => {
                            // Unknown condition: the body is shown (its settings may apply).
                            out.unknown.push(format!("{{{{ if {cond} }}}}"));
                            exec(body, scope, out);
                            done = true;
                            break;
                        }
                    }
                }
                if !done {
                    exec(otherwise, scope, out);
                }
            }
            Node::Unsupported(source) => out.unknown.push(source.clone()),
        }
    }
}

/// Go's template truth: false, 0, nil, and empty strings, lists and maps are false.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// A value as `{{ }}` and `quote` print it (Go's `%v`: a list `[a b]`, a map `map[k:v]`;
/// Helm prints a missing value as nothing).
pub(crate) fn display(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(display).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => format!(
            "map[{}]",
            map.iter()
                .map(|(k, v)| format!("{k}:{}", display(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Num(String),
    Ident(String),
    Field(String),
    Open,
    Close,
    Pipe,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            let mut j = i + 1;
            let mut text = String::new();
            while j < chars.len() && chars[j] != '"' {
                if chars[j] == '\\' && j + 1 < chars.len() {
                    j += 1;
                    text.push(match chars[j] {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                } else {
                    text.push(chars[j]);
                }
                j += 1;
            }
            if j >= chars.len() {
                return None;
            }
            out.push(Tok::Str(text));
            i = j + 1;
        } else if c == '`' {
            let j = chars[i + 1..].iter().position(|&x| x == '`')? + i + 1;
            out.push(Tok::Str(chars[i + 1..j].iter().collect()));
            i = j + 1;
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == '|' {
            out.push(Tok::Pipe);
            i += 1;
        } else if c == '.' || c == '$' {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(Tok::Field(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else {
            // `:=`, `=`, `,` and the like: variables and other syntax are not evaluated.
            return None;
        }
    }
    Some(out)
}

fn eval_pipeline(src: &str, scope: &Scope<'_>) -> Option<Value> {
    let toks = tokenize(src)?;
    let mut pos = 0;
    let v = pipeline(&toks, &mut pos, scope)?;
    (pos == toks.len()).then_some(v)
}

fn pipeline(toks: &[Tok], pos: &mut usize, scope: &Scope<'_>) -> Option<Value> {
    let mut piped: Option<Value> = None;
    loop {
        let mut args: Vec<Value> = Vec::new();
        let mut func: Option<String> = None;
        while *pos < toks.len() && toks[*pos] != Tok::Pipe && toks[*pos] != Tok::Close {
            let tok = toks[*pos].clone();
            *pos += 1;
            match tok {
                Tok::Ident(name) if func.is_none() && args.is_empty() => match name.as_str() {
                    "true" => args.push(Value::Bool(true)),
                    "false" => args.push(Value::Bool(false)),
                    "nil" => args.push(Value::Null),
                    _ => func = Some(name),
                },
                Tok::Ident(name) => match name.as_str() {
                    "true" => args.push(Value::Bool(true)),
                    "false" => args.push(Value::Bool(false)),
                    "nil" => args.push(Value::Null),
                    _ => return None,
                },
                Tok::Str(s) => args.push(Value::String(s)),
                Tok::Num(n) => args.push(serde_json::from_str(&n).ok()?),
                Tok::Field(f) => args.push(field(&f, scope)?),
                Tok::Open => {
                    let v = pipeline(toks, pos, scope)?;
                    if toks.get(*pos) != Some(&Tok::Close) {
                        return None;
                    }
                    *pos += 1;
                    // `(expr).field`
                    if let Some(Tok::Field(f)) = toks.get(*pos)
                        && f.starts_with('.')
                        && f.len() > 1
                    {
                        *pos += 1;
                        args.push(walk(&v, f.trim_start_matches('.')));
                    } else {
                        args.push(v);
                    }
                }
                Tok::Pipe | Tok::Close => unreachable!("loop condition"),
            }
        }
        if let Some(p) = piped.take() {
            args.push(p);
        }
        let value = match func {
            Some(name) => call(&name, args)?,
            None if args.len() == 1 => args.pop()?,
            None => return None,
        };
        if toks.get(*pos) == Some(&Tok::Pipe) {
            *pos += 1;
            piped = Some(value);
        } else {
            return Some(value);
        }
    }
}

/// `.Values.a.b`, `$.Values.a`, `.Release.Namespace`, `.Chart.Version`.
fn field(path: &str, scope: &Scope<'_>) -> Option<Value> {
    let path = path.strip_prefix('$').unwrap_or(path);
    let path = path.strip_prefix('.')?;
    let mut parts = path.splitn(2, '.');
    let head = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    let s = |x: &str| Some(Value::String(x.to_owned()));
    match (head, rest) {
        ("Values", r) => Some(walk(scope.values, r)),
        ("Release", "Namespace") => s(scope.release_namespace),
        ("Release", "Name") => s(scope.release_name),
        ("Release", "Service") => s("Helm"),
        ("Chart", "Version") => s(scope.chart_version),
        ("Chart", "AppVersion") => s(scope.app_version),
        ("Chart", "Name") => s("gitlab-runner"),
        _ => None,
    }
}

/// The value at dotted `path` below `v` (`""` is `v` itself), if there is one.
pub(crate) fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .filter(|p| !p.is_empty())
        .try_fold(v, |cur, part| cur.get(part))
}

/// [`lookup`], with a missing value as `nil`, as templates see it.
fn walk(v: &Value, path: &str) -> Value {
    lookup(v, path).cloned().unwrap_or(Value::Null)
}

/// Sprig's `quote` and `squote`: the arguments but `nil`s, each as text quoted by `quote`,
/// joined by spaces.
fn quoted(args: &[Value], quote: impl Fn(String) -> String) -> String {
    args.iter()
        .filter(|a| !a.is_null())
        .map(|a| quote(display(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Sprig and template functions `runners.config` templates use. `None`: not modelled.
fn call(name: &str, mut args: Vec<Value>) -> Option<Value> {
    let s = |x: String| Some(Value::String(x));
    match (name, args.len()) {
        ("default", 2) => {
            let given = args.pop()?;
            let fallback = args.pop()?;
            Some(if truthy(&given) { given } else { fallback })
        }
        ("quote", _) => s(quoted(&args, |a| format!("{a:?}"))),
        ("squote", _) => s(quoted(&args, |a| format!("'{a}'"))),
        ("toString", 1) => s(display(&args[0])),
        ("lower", 1) => s(display(&args[0]).to_lowercase()),
        ("upper", 1) => s(display(&args[0]).to_uppercase()),
        ("trim", 1) => s(display(&args[0]).trim().to_owned()),
        ("trimSuffix", 2) => s(display(&args[1])
            .strip_suffix(display(&args[0]).as_str())
            .map_or_else(|| display(&args[1]), str::to_owned)),
        ("trimPrefix", 2) => s(display(&args[1])
            .strip_prefix(display(&args[0]).as_str())
            .map_or_else(|| display(&args[1]), str::to_owned)),
        ("replace", 3) => s(display(&args[2]).replace(&display(&args[0]), &display(&args[1]))),
        ("not" | "empty", 1) => Some(Value::Bool(!truthy(&args[0]))),
        ("and", n) if n > 0 => Some(
            args.iter()
                .find(|a| !truthy(a))
                .cloned()
                .unwrap_or_else(|| args[n - 1].clone()),
        ),
        ("or", n) if n > 0 => Some(
            args.iter()
                .find(|a| truthy(a))
                .cloned()
                .unwrap_or_else(|| args[n - 1].clone()),
        ),
        ("eq", 2) => Some(Value::Bool(args[0] == args[1])),
        ("ne", 2) => Some(Value::Bool(args[0] != args[1])),
        ("coalesce", _) => Some(args.into_iter().find(truthy).unwrap_or(Value::Null)),
        ("ternary", 3) => Some(if truthy(&args[2]) {
            args[0].clone()
        } else {
            args[1].clone()
        }),
        ("hasKey", 2) => Some(Value::Bool(
            args[0].as_object()?.contains_key(args[1].as_str()?),
        )),
        ("contains", 2) => Some(Value::Bool(display(&args[1]).contains(&display(&args[0])))),
        ("toJson", 1) => s(serde_json::to_string(&args[0]).ok()?),
        ("toYaml", 1) if !args[0].is_object() && !args[0].is_array() => s(display(&args[0])),
        ("int" | "int64", 1) => match &args[0] {
            Value::Number(n) => Some(Value::from(n.as_i64().unwrap_or_default())),
            Value::String(x) => Some(Value::from(x.trim().parse::<i64>().unwrap_or(0))),
            Value::Bool(b) => Some(Value::from(i64::from(*b))),
            _ => Some(Value::from(0)),
        },
        ("required", 2) => {
            let v = args.pop()?;
            truthy(&v).then_some(v)
        }
        ("printf", n) if n >= 1 => s(printf(&display(&args[0]), &args[1..])?),
        ("print", _) => s(args.iter().map(display).collect::<String>()),
        _ => None,
    }
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%s`, `%v`, `%d`, `%q`, `%%`.
fn printf(format: &str, args: &[Value]) -> Option<String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' | 'v' | 'd' => out.push_str(&display(args.next()?)),
            'q' => {
                let _ = write!(out, "{:?}", display(args.next()?));
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
