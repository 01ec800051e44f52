//! Reading what `upgrade` records from its tokens, for the lock rules: each statement that
//! calls an operation on `op` with literal arguments is replayed on a real [`Op`], so the rules
//! judge the SQL the runtime will send, rendered by the same code. A call the reader cannot
//! replay (an argument that is not a literal, `op` copied or passed to a function of another
//! module, a loop) is kept as unreadable, for `unchecked_sql` to report: nothing recorded is
//! silently left unchecked.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use proc_macro2::{Delimiter, TokenTree};

use crate::op::{Action, Op, Type, Value};
use crate::syntax::{Range, string_value};

/// One statement of `upgrade` that records something.
pub(crate) enum Read {
    /// An operation replayed, with its call as users name it and the SQL it renders.
    Operation { call: String, statements: Vec<String> },
    /// `op.execute` of a literal or of `include_str!`: the literal's range (the path's for an
    /// included file).
    Sql { literal: Range },
    /// `op.execute` of SQL the module writes otherwise: a `const`, `concat!` of literals.
    Text { call: String, sql: String },
    /// Not readable, and why.
    Unreadable { call: String, why: String },
}

/// The functions of a module that take `op` on to record: name → (parameter, body).
pub(crate) type Helpers = HashMap<String, (String, Vec<TokenTree>)>;

/// How deeply helpers calling helpers are followed; deeper is unreadable (and recursion ends).
const HELPER_DEPTH: usize = 8;

/// Reads the statements of a function body whose `op` parameter is named `op`. `constants`
/// holds the module's `const NAME: &str = "…";` items, which arguments may name; `helpers` the
/// module's functions, whose bodies are read in place where `op` is passed to them
/// (`add_phone(op)`). A statement that does not record (`let _ = op;`) is left out.
pub(crate) fn read_body(
    body: &[TokenTree],
    op: &str,
    constants: &HashMap<String, String>,
    helpers: &Helpers,
) -> Vec<(Read, Range)> {
    let mut out = Vec::new();
    read_into(body, op, constants, helpers, 0, &mut out);
    out
}

fn read_into(
    body: &[TokenTree],
    op: &str,
    constants: &HashMap<String, String>,
    helpers: &Helpers,
    depth: usize,
    out: &mut Vec<(Read, Range)>,
) {
    // A name the body defines itself (`fn`, `const`, `static`, `let`, `macro_rules!`) shadows
    // the module's item of that name: neither is read for it.
    let local = local_names(body);
    let shadowed_constants;
    let shadowed_helpers;
    let (constants, helpers) = if local.is_empty() {
        (constants, helpers)
    } else {
        shadowed_constants = constants
            .iter()
            .filter(|(k, _)| !local.contains(k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        shadowed_helpers = helpers
            .iter()
            .filter(|(k, _)| !local.contains(k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (&shadowed_constants, &shadowed_helpers)
    };
    for statement in statements(body) {
        // Every statement naming `op` is read, but those that plainly record nothing
        // (`let _ = op;`, `drop(op)`, `op;`): a copy of `op` under another name, a closure or a
        // macro handed `op` may record, so they are unreadable rather than skipped.
        if statement.is_empty() || !mentions(statement, op) || discards(statement, op) {
            continue;
        }
        let range = Range::of(statement);
        if let Some((param, helper)) = helper_call(statement, op, helpers) {
            if depth < HELPER_DEPTH {
                read_into(helper, param, constants, helpers, depth + 1, out);
            } else {
                let why = format!("helpers calling helpers are followed {HELPER_DEPTH} deep, no deeper");
                out.push((Read::Unreadable { call: written(statement), why }, range));
            }
            continue;
        }
        let read = match chain(statement, op) {
            Some(calls) => replay(&calls, constants),
            None => Err(format!(
                "`{op}` is used here in a way the rules cannot follow (passed to a function of another module, \
                 in a loop or a condition)"
            )),
        };
        match read {
            Ok(read) => {
                let at = match &read {
                    Read::Sql { literal } => *literal,
                    _ => calls_range(statement).unwrap_or(range),
                };
                out.push((read, at));
            }
            Err(why) => out.push((Read::Unreadable { call: written(statement), why }, range)),
        }
    }
}

/// `helper(op)`, `helper(&mut *op)` or `self::helper(op)`, for a helper of the module: its
/// parameter and body.
fn helper_call<'h>(
    statement: &[TokenTree],
    op: &str,
    helpers: &'h Helpers,
) -> Option<(&'h str, &'h [TokenTree])> {
    let statement = match statement {
        [TokenTree::Ident(this), TokenTree::Punct(a), TokenTree::Punct(b), rest @ ..]
            if this == "self" && a.as_char() == ':' && b.as_char() == ':' =>
        {
            rest
        }
        other => other,
    };
    let [TokenTree::Ident(name), TokenTree::Group(args)] = statement else {
        return None;
    };
    let args: Vec<TokenTree> = args.stream().into_iter().collect();
    let passes_op = match args.as_slice() {
        [TokenTree::Ident(o)] => o == op,
        [TokenTree::Punct(amp), TokenTree::Ident(m), TokenTree::Punct(star), TokenTree::Ident(o)] => {
            amp.as_char() == '&' && m == "mut" && star.as_char() == '*' && o == op
        }
        _ => false,
    };
    // A helper defined twice (`#[cfg(…)]`) has no parameter recorded: not followed.
    let (param, body) = helpers.get(&name.to_string()).filter(|(param, _)| passes_op && !param.is_empty())?;
    Some((param.as_str(), body.as_slice()))
}

/// Whether a statement names `op` only to let it go: `let _ = op`, `drop(op)`,
/// `std::mem::forget(op)`, `op`.
fn discards(statement: &[TokenTree], op: &str) -> bool {
    let text: String = statement.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
    let text = text.split_whitespace().collect::<String>().replace("&mut*", "").replace('&', "");
    [
        format!("let_={op}"),
        format!("drop({op})"),
        format!("std::mem::drop({op})"),
        format!("forget({op})"),
        format!("std::mem::forget({op})"),
        op.to_owned(),
    ]
    .contains(&text)
}

/// The names a body defines for itself, at any depth: after `fn`, `const`, `static`,
/// `macro_rules!`, and the names a `let` binds.
fn local_names(body: &[TokenTree]) -> std::collections::HashSet<String> {
    let mut names = std::collections::HashSet::new();
    collect_local_names(body, &mut names);
    names
}

fn collect_local_names(tokens: &[TokenTree], names: &mut std::collections::HashSet<String>) {
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(keyword)
                if ["fn", "const", "static", "macro_rules"].contains(&keyword.to_string().as_str()) =>
            {
                let next =
                    tokens[i + 1..].iter().find(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == '!'));
                if let Some(TokenTree::Ident(name)) = next {
                    names.insert(name.to_string());
                }
            }
            TokenTree::Ident(keyword) if keyword == "let" => {
                let end = tokens[i + 1..]
                    .iter()
                    .position(
                        |t| matches!(t, TokenTree::Punct(p) if p.as_char() == '=' || p.as_char() == ';'),
                    )
                    .map_or(tokens.len(), |at| i + 1 + at);
                collect_pattern_names(&tokens[i + 1..end], names);
            }
            TokenTree::Group(group) => {
                collect_local_names(&group.stream().into_iter().collect::<Vec<_>>(), names)
            }
            _ => {}
        }
    }
}

fn collect_pattern_names(tokens: &[TokenTree], names: &mut std::collections::HashSet<String>) {
    for t in tokens {
        match t {
            TokenTree::Ident(name) if name != "mut" && name != "ref" => {
                names.insert(name.to_string());
            }
            TokenTree::Group(group) => {
                collect_pattern_names(&group.stream().into_iter().collect::<Vec<_>>(), names)
            }
            _ => {}
        }
    }
}

/// The `const NAME: &str = "…";` items of a module body, and of the modules inside it by path
/// (`columns::EMAIL`).
pub(crate) fn constants(content: &[TokenTree]) -> HashMap<String, String> {
    let mut found = HashMap::new();
    let mut twice = Vec::new();
    collect_constants(content, "", &mut found, &mut twice);
    for name in twice {
        found.remove(&name);
    }
    found
}

fn collect_constants(
    content: &[TokenTree],
    prefix: &str,
    found: &mut HashMap<String, String>,
    twice: &mut Vec<String>,
) {
    for (i, token) in content.iter().enumerate() {
        let (TokenTree::Ident(keyword), Some(TokenTree::Ident(name))) = (token, content.get(i + 1)) else {
            continue;
        };
        if keyword == "mod"
            && let Some(TokenTree::Group(body)) = content.get(i + 2)
            && body.delimiter() == Delimiter::Brace
            && prefix.matches("::").count() < 4
        {
            let inner: Vec<TokenTree> = body.stream().into_iter().collect();
            collect_constants(&inner, &format!("{prefix}{name}::"), found, twice);
        } else if keyword == "const" || keyword == "static" {
            if found.contains_key(&format!("{prefix}{name}")) {
                // Defined twice (under `#[cfg(…)]`): which one counts is not known here.
                twice.push(format!("{prefix}{name}"));
            }
            let value = content[i..]
                .iter()
                .take_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
                .skip_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == '='))
                .nth(1);
            if let Some(TokenTree::Literal(literal)) = value
                && let Some(text) = string_value(literal)
            {
                found.insert(format!("{prefix}{name}"), text);
            }
        }
    }
}

/// The statements of a block: split at `;`, and after the block of a `for`, `while`, `loop`,
/// `if`, `match` or `unsafe` statement (or a bare block) when no `else` follows.
fn statements(body: &[TokenTree]) -> Vec<&[TokenTree]> {
    const BLOCK_STATEMENTS: [&str; 6] = ["for", "while", "loop", "if", "match", "unsafe"];
    let mut out = Vec::new();
    let mut start = 0;
    for (i, token) in body.iter().enumerate() {
        let ends = match token {
            TokenTree::Punct(p) => p.as_char() == ';',
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => {
                let block_statement = i == start
                    || matches!(&body[start], TokenTree::Ident(k) if BLOCK_STATEMENTS.contains(&k.to_string().as_str()));
                block_statement && !matches!(body.get(i + 1), Some(TokenTree::Ident(e)) if e == "else")
            }
            _ => false,
        };
        if ends {
            let end = if matches!(token, TokenTree::Punct(_)) { i } else { i + 1 };
            out.push(&body[start..end]);
            start = i + 1;
        }
    }
    out.push(&body[start..]);
    out
}

fn mentions(tokens: &[TokenTree], op: &str) -> bool {
    tokens.iter().any(|t| match t {
        TokenTree::Ident(ident) => ident == op,
        TokenTree::Group(group) => mentions(&group.stream().into_iter().collect::<Vec<_>>(), op),
        _ => false,
    })
}

/// The statement as written, shortened: `op.execute(&sql)`.
fn written(tokens: &[TokenTree]) -> String {
    let text: String = tokens.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Token streams print with spaces between all tokens; put back the usual spacing.
    for (spaced, tight) in [
        (": :", "::"),
        (" :: ", "::"),
        (" . ", "."),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" ,", ","),
        ("& ", "&"),
        (" !", "!"),
        ("[ ", "["),
        (" ]", "]"),
    ] {
        text = text.replace(spaced, tight);
    }
    crate::text::shorten(&text, 60)
}

/// From the first method's name to the end of the statement.
fn calls_range(statement: &[TokenTree]) -> Option<Range> {
    statement.get(2..).filter(|rest| !rest.is_empty()).map(Range::of)
}

/// One call of a chain: `.name(arguments)`, each argument's tokens.
struct Call {
    name: String,
    arguments: Vec<Vec<TokenTree>>,
}

/// `op.a(…).b(…)…`, as calls; `None` when the statement is anything else.
fn chain(tokens: &[TokenTree], op: &str) -> Option<Vec<Call>> {
    let (TokenTree::Ident(receiver), TokenTree::Punct(dot)) = (tokens.first()?, tokens.get(1)?) else {
        return None;
    };
    if receiver != op || dot.as_char() != '.' {
        return None;
    }
    calls_after(&tokens[1..])
}

fn calls_after(mut tokens: &[TokenTree]) -> Option<Vec<Call>> {
    let mut calls = Vec::new();
    while !tokens.is_empty() {
        let (TokenTree::Punct(dot), TokenTree::Ident(name), TokenTree::Group(args)) =
            (tokens.first()?, tokens.get(1)?, tokens.get(2)?)
        else {
            return None;
        };
        if dot.as_char() != '.' || args.delimiter() != Delimiter::Parenthesis {
            return None;
        }
        let inner: Vec<TokenTree> = args.stream().into_iter().collect();
        let mut arguments: Vec<Vec<TokenTree>> =
            split_top(&inner).into_iter().map(<[TokenTree]>::to_vec).collect();
        if arguments.last().is_some_and(Vec::is_empty) {
            arguments.pop();
        }
        calls.push(Call { name: name.to_string(), arguments });
        tokens = &tokens[3..];
    }
    Some(calls).filter(|c| !c.is_empty())
}

/// Splits at commas outside groups (and outside a closure's `|…|` parameters).
fn split_top(tokens: &[TokenTree]) -> Vec<&[TokenTree]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_bars = false;
    for (i, token) in tokens.iter().enumerate() {
        if let TokenTree::Punct(p) = token {
            match p.as_char() {
                '|' => in_bars = !in_bars && i == start,
                ',' if !in_bars => {
                    parts.push(&tokens[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// What an argument's tokens mean, when they are a literal the reader knows.
struct Arguments<'a> {
    call: &'a Call,
    constants: &'a HashMap<String, String>,
}

impl Arguments<'_> {
    fn get(&self, n: usize) -> Result<&[TokenTree], String> {
        self.call
            .arguments
            .get(n)
            .map(Vec::as_slice)
            .ok_or_else(|| format!("`{}` has fewer arguments than the rules expect", self.call.name))
    }

    fn not_literal(&self, n: usize) -> String {
        format!("argument {} of `{}` is not a literal", n + 1, self.call.name)
    }

    fn text(&self, n: usize) -> Result<String, String> {
        let tokens = strip_ref(self.get(n)?);
        text_of(tokens, self.constants).ok_or_else(|| self.not_literal(n))
    }

    fn texts(&self, n: usize) -> Result<Vec<String>, String> {
        let tokens = strip_ref(self.get(n)?);
        match tokens {
            [TokenTree::Group(list)] if list.delimiter() == Delimiter::Bracket => {
                let inner: Vec<TokenTree> = list.stream().into_iter().collect();
                split_top(&inner)
                    .into_iter()
                    .filter(|t| !t.is_empty())
                    .map(|t| text_of(t, self.constants).ok_or_else(|| self.not_literal(n)))
                    .collect()
            }
            _ => Err(self.not_literal(n)),
        }
    }

    fn ty(&self, n: usize) -> Result<Type, String> {
        type_of(self.get(n)?).ok_or_else(|| self.not_literal(n))
    }

    fn value(&self, n: usize) -> Result<Value, String> {
        value_of(self.get(n)?, self.constants).ok_or_else(|| self.not_literal(n))
    }

    fn action(&self, n: usize) -> Result<Action, String> {
        match self.get(n)? {
            [TokenTree::Ident(ty), TokenTree::Punct(_), TokenTree::Punct(_), TokenTree::Ident(variant)]
                if ty == "Action" =>
            {
                Ok(match variant.to_string().as_str() {
                    "NoAction" => Action::NoAction,
                    "Restrict" => Action::Restrict,
                    "Cascade" => Action::Cascade,
                    "SetNull" => Action::SetNull,
                    "SetDefault" => Action::SetDefault,
                    _ => return Err(self.not_literal(n)),
                })
            }
            _ => Err(self.not_literal(n)),
        }
    }

    fn count(&self, n: usize) -> Result<u32, String> {
        match self.get(n)? {
            [TokenTree::Literal(literal)] => {
                let text = literal.to_string().replace('_', "");
                let digits = text.strip_suffix("u32").unwrap_or(&text);
                digits.parse().map_err(|_| self.not_literal(n))
            }
            _ => Err(self.not_literal(n)),
        }
    }

    /// A closure `|t| { … }`: its parameter and body statements.
    fn closure(&self, n: usize) -> Result<(String, Vec<TokenTree>), String> {
        match self.get(n)? {
            [TokenTree::Punct(open), TokenTree::Ident(param), TokenTree::Punct(close), body @ ..]
                if open.as_char() == '|' && close.as_char() == '|' =>
            {
                let body: Vec<TokenTree> = match body {
                    [TokenTree::Group(block)] if block.delimiter() == Delimiter::Brace => {
                        block.stream().into_iter().collect()
                    }
                    other => other.to_vec(),
                };
                Ok((param.to_string(), body))
            }
            _ => Err(format!("argument {} of `{}` is not a closure `|t| {{ … }}`", n + 1, self.call.name)),
        }
    }
}

fn strip_ref(tokens: &[TokenTree]) -> &[TokenTree] {
    match tokens {
        [TokenTree::Punct(amp), rest @ ..] if amp.as_char() == '&' => rest,
        other => other,
    }
}

fn text_of(tokens: &[TokenTree], constants: &HashMap<String, String>) -> Option<String> {
    match tokens {
        [TokenTree::Literal(literal)] => string_value(literal),
        [TokenTree::Ident(_), ..] => constants.get(&path_of(tokens)?).cloned(),
        _ => None,
    }
}

/// A path of the module written `a::b::C` or `self::a::C`, as `a::C`'s key in the constants.
fn path_of(tokens: &[TokenTree]) -> Option<String> {
    let mut segments = Vec::new();
    let mut rest = tokens;
    loop {
        let [TokenTree::Ident(segment), tail @ ..] = rest else {
            return None;
        };
        segments.push(segment.to_string());
        match tail {
            [] => break,
            [TokenTree::Punct(a), TokenTree::Punct(b), tail @ ..]
                if a.as_char() == ':' && b.as_char() == ':' =>
            {
                rest = tail
            }
            _ => return None,
        }
    }
    if segments.first().is_some_and(|s| s == "self") {
        segments.remove(0);
    }
    Some(segments.join("::"))
}

fn type_of(tokens: &[TokenTree]) -> Option<Type> {
    let [
        TokenTree::Ident(ty),
        TokenTree::Punct(_),
        TokenTree::Punct(_),
        TokenTree::Ident(variant),
        rest @ ..,
    ] = tokens
    else {
        return None;
    };
    if ty != "Type" {
        return None;
    }
    let args: Vec<TokenTree> = match rest {
        [] => Vec::new(),
        [TokenTree::Group(args)] if args.delimiter() == Delimiter::Parenthesis => {
            args.stream().into_iter().collect()
        }
        _ => return None,
    };
    let number = |n: usize| -> Option<u32> {
        match split_top(&args).get(n)? {
            [TokenTree::Literal(literal)] => literal.to_string().replace('_', "").parse().ok(),
            _ => None,
        }
    };
    Some(match (variant.to_string().as_str(), args.is_empty()) {
        ("SmallInt", true) => Type::SmallInt,
        ("Integer", true) => Type::Integer,
        ("BigInt", true) => Type::BigInt,
        ("Serial", true) => Type::Serial,
        ("BigSerial", true) => Type::BigSerial,
        ("Boolean", true) => Type::Boolean,
        ("Real", true) => Type::Real,
        ("Double", true) => Type::Double,
        ("Text", true) => Type::Text,
        ("Date", true) => Type::Date,
        ("Time", true) => Type::Time,
        ("Timestamp", true) => Type::Timestamp,
        ("TimestampTz", true) => Type::TimestampTz,
        ("Interval", true) => Type::Interval,
        ("Uuid", true) => Type::Uuid,
        ("Json", true) => Type::Json,
        ("Jsonb", true) => Type::Jsonb,
        ("Bytea", true) => Type::Bytea,
        ("Inet", true) => Type::Inet,
        ("Numeric", false) => Type::Numeric(number(0)?, number(1)?),
        ("Varchar", false) => Type::Varchar(number(0)?),
        ("Char", false) => Type::Char(number(0)?),
        ("Named", false) => Type::Named(intern(&string_value_of(&args)?)),
        ("Sql", false) => Type::Sql(intern(&string_value_of(&args)?)),
        ("Array", false) => {
            let inner = match args.as_slice() {
                [TokenTree::Punct(amp), rest @ ..] if amp.as_char() == '&' => type_of(rest)?,
                _ => return None,
            };
            Type::Array(intern_type(inner))
        }
        _ => return None,
    })
}

fn string_value_of(tokens: &[TokenTree]) -> Option<String> {
    match tokens {
        [TokenTree::Literal(literal)] => string_value(literal),
        _ => None,
    }
}

fn value_of(tokens: &[TokenTree], constants: &HashMap<String, String>) -> Option<Value> {
    // `x.into()` is `x`.
    let tokens = match tokens {
        [rest @ .., TokenTree::Punct(dot), TokenTree::Ident(into), TokenTree::Group(empty)]
            if dot.as_char() == '.' && into == "into" && empty.stream().is_empty() =>
        {
            rest
        }
        other => other,
    };
    match tokens {
        [TokenTree::Ident(f), TokenTree::Group(arg)] if f == "sql" => {
            let inner: Vec<TokenTree> = arg.stream().into_iter().collect();
            Some(crate::op::sql(&text_of(&inner, constants)?))
        }
        [TokenTree::Ident(b)] if b == "true" || b == "false" => Some(Value::from(b == "true")),
        [TokenTree::Ident(none), ..] if none == "None" => Some(Value::from(None::<i64>)),
        [TokenTree::Punct(minus), TokenTree::Literal(number)] if minus.as_char() == '-' => {
            number_value(&format!("-{number}"))
        }
        [TokenTree::Literal(literal)] => match string_value(literal) {
            Some(text) => Some(Value::from(text)),
            None => number_value(&literal.to_string()),
        },
        [TokenTree::Ident(name)] => constants.get(&name.to_string()).map(|t| Value::from(t.as_str())),
        _ => None,
    }
}

fn number_value(text: &str) -> Option<Value> {
    let text = text.replace('_', "");
    let trimmed = text.trim_end_matches(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E');
    let trimmed = trimmed.strip_suffix("i64").or(trimmed.strip_suffix("i32")).unwrap_or(trimmed);
    if let Ok(n) = trimmed.parse::<i64>() {
        return Some(Value::from(n));
    }
    trimmed.parse::<f64>().ok().map(Value::from)
}

/// Replays a chain on an [`Op`] and renders what it recorded.
fn replay(calls: &[Call], constants: &HashMap<String, String>) -> Result<Read, String> {
    let Some((first, builders)) = calls.split_first() else {
        return Err("nothing is called".to_owned());
    };
    let a = Arguments { call: first, constants };
    let mut op = Op::new();
    let mut call = format!("{}()", first.name);
    if let Ok(name) = a.text(0) {
        call = format!("{}(\"{name}\")", first.name);
    }
    let unknown_builder =
        |b: &Call| format!("`.{}(…)` after `{}` is not an option the rules know", b.name, first.name);
    match first.name.as_str() {
        "execute" => {
            return match first.arguments.as_slice() {
                [arg] => {
                    match strip_ref(arg) {
                        [TokenTree::Literal(literal)] if string_value(literal).is_some() => {
                            Ok(Read::Sql { literal: Range::token(literal.span()) })
                        }
                        [TokenTree::Ident(name), TokenTree::Punct(bang), TokenTree::Group(path)]
                            if name == "include_str" && bang.as_char() == '!' =>
                        {
                            let inner: Vec<TokenTree> = path.stream().into_iter().collect();
                            match inner.as_slice() {
                                [TokenTree::Literal(literal)] => {
                                    Ok(Read::Sql { literal: Range::token(literal.span()) })
                                }
                                _ => Err("its `include_str!` does not name a file literally".to_owned()),
                            }
                        }
                        [TokenTree::Ident(name), TokenTree::Punct(bang), TokenTree::Group(parts)]
                            if name == "concat" && bang.as_char() == '!' =>
                        {
                            let inner: Vec<TokenTree> = parts.stream().into_iter().collect();
                            let texts: Option<Vec<String>> = split_top(&inner)
                                .into_iter()
                                .filter(|p| !p.is_empty())
                                .map(|p| text_of(p, constants))
                                .collect();
                            match texts {
                                Some(texts) => Ok(Read::Text {
                                    call: "execute(concat!(…))".to_owned(),
                                    sql: texts.concat(),
                                }),
                                None => {
                                    Err("its `concat!` joins something other than string literals".to_owned())
                                }
                            }
                        }
                        [TokenTree::Ident(name)] if constants.contains_key(&name.to_string()) => {
                            let sql = constants[&name.to_string()].clone();
                            Ok(Read::Text { call: format!("execute({name})"), sql })
                        }
                        _ => Err("its SQL is not a literal: the rules cannot read SQL built at run time"
                            .to_owned()),
                    }
                }
                _ => Err("`execute` takes one argument".to_owned()),
            };
        }
        // Settings, declarations, comments and rows of data: nothing the lock rules judge (a
        // comment takes no lock that blocks reads or writes, rows lock only themselves), so
        // their arguments need not be literals.
        "irreversible" | "lock_timeout" | "statement_timeout" | "comment_on_table" | "comment_on_column"
        | "bulk_insert" => {
            return Ok(Read::Operation { call, statements: Vec::new() });
        }
        "create_table" => {
            let (param, body) = a.closure(1)?;
            let table = op.create_table(&a.text(0)?, |_| {});
            replay_table(table, &param, &body, constants)?;
            for b in builders {
                match b.name.as_str() {
                    "if_not_exists" => {
                        table.if_not_exists();
                    }
                    _ => return Err(unknown_builder(b)),
                }
            }
        }
        "drop_table" | "drop_column" | "drop_index" | "drop_constraint" | "drop_enum" => {
            let object = match first.name.as_str() {
                "drop_table" => op.drop_table(&a.text(0)?),
                "drop_column" => op.drop_column(&a.text(0)?, &a.text(1)?),
                "drop_index" => op.drop_index(&a.text(0)?),
                "drop_constraint" => op.drop_constraint(&a.text(0)?, &a.text(1)?),
                _ => op.drop_enum(&a.text(0)?),
            };
            for b in builders {
                match b.name.as_str() {
                    "if_exists" => {
                        object.if_exists();
                    }
                    "cascade" => {
                        object.cascade();
                    }
                    "concurrently" => {
                        object.concurrently();
                    }
                    _ => return Err(unknown_builder(b)),
                }
            }
        }
        "rename_table" => op.rename_table(&a.text(0)?, &a.text(1)?),
        "rename_column" => op.rename_column(&a.text(0)?, &a.text(1)?, &a.text(2)?),
        "add_column" => {
            let column = op.add_column(&a.text(0)?, &a.text(1)?, a.ty(2)?);
            for b in builders {
                replay_column(column, b, constants).map_err(|()| unknown_builder(b))??;
            }
        }
        "alter_column" => {
            let alter = op.alter_column(&a.text(0)?, &a.text(1)?);
            for b in builders {
                let ba = Arguments { call: b, constants };
                match b.name.as_str() {
                    "set_type" => {
                        alter.set_type(ba.ty(0)?);
                    }
                    "set_type_using" => {
                        alter.set_type_using(ba.ty(0)?, &ba.text(1)?);
                    }
                    "set_not_null" => {
                        alter.set_not_null();
                    }
                    "set_not_null_through_check" => {
                        alter.set_not_null_through_check();
                    }
                    "drop_not_null" => {
                        alter.drop_not_null();
                    }
                    "set_default" => {
                        alter.set_default(ba.value(0)?);
                    }
                    "drop_default" => {
                        alter.drop_default();
                    }
                    "rename_to" => {
                        alter.rename_to(&ba.text(0)?);
                    }
                    _ => return Err(unknown_builder(b)),
                }
            }
        }
        "create_index" => {
            let index = op.create_index(&a.text(0)?, &a.text(1)?, &refs(&a.texts(2)?));
            for b in builders {
                let ba = Arguments { call: b, constants };
                match b.name.as_str() {
                    "unique" => {
                        index.unique();
                    }
                    "concurrently" => {
                        index.concurrently();
                    }
                    "if_not_exists" => {
                        index.if_not_exists();
                    }
                    "using" => {
                        index.using(&ba.text(0)?);
                    }
                    "where_sql" => {
                        index.where_sql(&ba.text(0)?);
                    }
                    _ => return Err(unknown_builder(b)),
                }
            }
        }
        "create_unique_constraint" | "create_primary_key" => {
            let (name, table, columns) = (a.text(0)?, a.text(1)?, a.texts(2)?);
            let key = if first.name == "create_primary_key" {
                op.create_primary_key(&name, &table, &refs(&columns))
            } else {
                op.create_unique_constraint(&name, &table, &refs(&columns))
            };
            for b in builders {
                match b.name.as_str() {
                    "concurrently" => {
                        key.concurrently();
                    }
                    _ => return Err(unknown_builder(b)),
                }
            }
        }
        "create_check_constraint" => {
            let check = op.create_check_constraint(&a.text(0)?, &a.text(1)?, &a.text(2)?);
            for b in builders {
                match b.name.as_str() {
                    "not_valid" => {
                        check.not_valid();
                    }
                    _ => return Err(unknown_builder(b)),
                }
            }
        }
        "backfill" => {
            let backfill = op.backfill(&a.text(0)?, &a.text(1)?, &a.text(2)?);
            for b in builders {
                let ba = Arguments { call: b, constants };
                match b.name.as_str() {
                    "batch_size" => {
                        backfill.batch_size(ba.count(0)?);
                    }
                    _ => return Err(unknown_builder(b)),
                }
            }
        }
        "create_foreign_key" => {
            let key = op.create_foreign_key(
                &a.text(0)?,
                &a.text(1)?,
                &a.text(2)?,
                &refs(&a.texts(3)?),
                &refs(&a.texts(4)?),
            );
            for b in builders {
                let ba = Arguments { call: b, constants };
                match b.name.as_str() {
                    "on_delete" => {
                        key.on_delete(ba.action(0)?);
                    }
                    "on_update" => {
                        key.on_update(ba.action(0)?);
                    }
                    "not_valid" => {
                        key.not_valid();
                    }
                    _ => return Err(unknown_builder(b)),
                }
            }
        }
        "validate_constraint" => op.validate_constraint(&a.text(0)?, &a.text(1)?),
        "create_enum" => op.create_enum(&a.text(0)?, &refs(&a.texts(1)?)),
        "add_enum_value" => {
            let value = op.add_enum_value(&a.text(0)?, &a.text(1)?);
            for b in builders {
                let ba = Arguments { call: b, constants };
                match b.name.as_str() {
                    "if_not_exists" => {
                        value.if_not_exists();
                    }
                    "before" => {
                        value.before(&ba.text(0)?);
                    }
                    "after" => {
                        value.after(&ba.text(0)?);
                    }
                    _ => return Err(unknown_builder(b)),
                }
            }
        }
        other => return Err(format!("`op.{other}` is not an operation the rules know")),
    }
    Ok(Read::Operation { call, statements: op.statements().into_iter().map(|s| s.sql).collect() })
}

fn refs(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

/// The options of a column (`.not_null()`, `.references(…)`, …), in a table or added.
/// `Err(())` for an option the reader does not know.
fn replay_column(
    column: &mut crate::op::Column,
    b: &Call,
    constants: &HashMap<String, String>,
) -> Result<Result<(), String>, ()> {
    let ba = Arguments { call: b, constants };
    let done = || Ok(Ok(()));
    match b.name.as_str() {
        "not_null" => {
            column.not_null();
            done()
        }
        "primary_key" => {
            column.primary_key();
            done()
        }
        "unique" => {
            column.unique();
            done()
        }
        "identity" => {
            column.identity();
            done()
        }
        "server_default" => Ok(ba.value(0).map(|v| {
            column.server_default(v);
        })),
        "references" => Ok(ba.text(0).and_then(|t| ba.text(1).map(|c| (t, c))).map(|(t, c)| {
            column.references(&t, &c);
        })),
        "on_delete" => Ok(ba.action(0).map(|a| {
            column.on_delete(a);
        })),
        "on_update" => Ok(ba.action(0).map(|a| {
            column.on_update(a);
        })),
        "comment" => Ok(ba.text(0).map(|t| {
            column.comment(&t);
        })),
        _ => Err(()),
    }
}

/// The body of `create_table`'s closure: each statement calls the table parameter.
fn replay_table(
    table: &mut crate::op::Table,
    param: &str,
    body: &[TokenTree],
    constants: &HashMap<String, String>,
) -> Result<(), String> {
    for statement in statements(body) {
        if statement.is_empty() {
            continue;
        }
        let calls = chain(statement, param).ok_or_else(|| {
            format!("the `create_table` closure uses `{param}` in a way the rules cannot follow")
        })?;
        let Some((first, builders)) = calls.split_first() else {
            continue;
        };
        let a = Arguments { call: first, constants };
        match first.name.as_str() {
            "column" => {
                let column = table.column(&a.text(0)?, a.ty(1)?);
                for b in builders {
                    replay_column(column, b, constants).map_err(|()| {
                        format!("`.{}(…)` on a column is not an option the rules know", b.name)
                    })??;
                }
                continue;
            }
            "primary_key" => {
                table.primary_key(&refs(&a.texts(0)?));
            }
            "unique" => {
                table.unique(&a.text(0)?, &refs(&a.texts(1)?));
            }
            "check" => {
                table.check(&a.text(0)?, &a.text(1)?);
            }
            "comment" => {
                table.comment(&a.text(0)?);
            }
            "if_not_exists" => {
                table.if_not_exists();
            }
            other => return Err(format!("`{param}.{other}` is not a table option the rules know")),
        }
        if let Some(b) = builders.first() {
            return Err(format!(
                "`.{}(…)` after `{param}.{}` is not an option the rules know",
                b.name, first.name
            ));
        }
    }
    Ok(())
}

/// Strings that live as long as the process: [`Type::Named`] and friends hold `&'static str`.
/// Each distinct text is leaked once.
fn intern(text: &str) -> &'static str {
    static TEXTS: OnceLock<Mutex<Vec<&'static str>>> = OnceLock::new();
    let mut texts = TEXTS.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = texts.iter().find(|t| **t == text) {
        return found;
    }
    let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
    texts.push(leaked);
    leaked
}

/// [`intern`] for the element type of [`Type::Array`].
fn intern_type(ty: Type) -> &'static Type {
    static TYPES: OnceLock<Mutex<Vec<&'static Type>>> = OnceLock::new();
    let mut types = TYPES.get_or_init(|| Mutex::new(Vec::new())).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = types.iter().find(|t| ***t == ty) {
        return found;
    }
    let leaked: &'static Type = Box::leak(Box::new(ty));
    types.push(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use crate::source::Recorded;
    use crate::syntax::parse_file;

    fn recorded(body: &str) -> Vec<Recorded> {
        let text = format!(
            "#[migration(rev = \"a1b2c3d4e5f6\")]\nmod add_people_table {{\n    const TABLE: &str = \"people\";\n    \
             mod columns {{ pub const EMAIL: &str = \"email\"; }}\n    fn add_phone(o: &mut Op) {{ o.add_column(TABLE, \"phone\", Type::Text); }}\n    \
             pub fn upgrade(op: &mut Op) {{ {body} }}\n}}\n"
        );
        let file = parse_file(&text).expect("lexes");
        file.modules[0].source.recorded.clone()
    }

    fn statements(recorded: &[Recorded]) -> Vec<String> {
        recorded
            .iter()
            .flat_map(|r| match r {
                Recorded::Operation { statements, .. } => statements.clone(),
                Recorded::Text { sql, .. } => vec![sql.clone()],
                other => vec![format!("{other:?}")],
            })
            .collect()
    }

    #[test]
    fn operations_with_literal_arguments_are_replayed_and_rendered() {
        let found = recorded(
            r#"op.create_index("idx_people_email", TABLE, &[columns::EMAIL]).unique().concurrently();
               op.add_column("people", "score", Type::Numeric(10, 2)).not_null().server_default(0);
               op.create_table("tags", |t| { t.column("id", Type::BigInt).identity().primary_key(); t.check("ck", "id > 0"); });"#,
        );
        assert_eq!(
            statements(&found),
            [
                r#"CREATE UNIQUE INDEX CONCURRENTLY "idx_people_email" ON "people" ("email")"#,
                r#"ALTER TABLE "people" ADD COLUMN "score" numeric(10, 2) NOT NULL DEFAULT 0"#,
                "CREATE TABLE \"tags\" (\n    \"id\" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n    CONSTRAINT \"ck\" CHECK (id > 0)\n)",
            ]
        );
    }

    #[test]
    fn helpers_of_the_module_are_read_in_place_and_sql_text_is_kept() {
        let found = recorded(
            r#"add_phone(op); self::add_phone(&mut *op); op.execute(concat!("DROP ", "TABLE x")); op.execute(TABLE);"#,
        );
        assert_eq!(
            statements(&found),
            [
                r#"ALTER TABLE "people" ADD COLUMN "phone" text"#,
                r#"ALTER TABLE "people" ADD COLUMN "phone" text"#,
                "DROP TABLE x",
                "people",
            ]
        );
        assert!(matches!(&found[2], Recorded::Text { call, .. } if call == "execute(concat!(…))"));
    }

    #[test]
    fn what_cannot_be_read_is_kept_as_unreadable_with_why() {
        let found = recorded(
            r#"let name = String::from("t");
               op.drop_table(&name);
               for t in ["a", "b"] { op.drop_table(t); }
               my_macro!(op);
               other::helper(op);
               op.execute(&format!("DROP TABLE {}", 1));
               let _ = op;"#,
        );
        let whys: Vec<(String, String)> = found
            .iter()
            .map(|r| match r {
                Recorded::Unreadable { call, why } => (call.clone(), why.clone()),
                other => panic!("read: {other:?}"),
            })
            .collect();
        assert_eq!(whys.len(), 5, "{whys:?}");
        assert_eq!(
            whys[0],
            ("op.drop_table(&name)".to_owned(), "argument 1 of `drop_table` is not a literal".to_owned())
        );
        assert!(whys[1].1.contains("cannot follow"), "{whys:?}");
        assert!(whys[2].0.starts_with("my_macro!(op)"), "{whys:?}");
        assert!(whys[3].0.starts_with("other::helper(op)"), "{whys:?}");
        assert!(whys[4].1.contains("SQL built at run time"), "{whys:?}");
    }

    #[test]
    fn copies_closures_shadows_and_twins_of_op_are_unreadable() {
        let unreadable =
            |found: &[Recorded]| found.iter().filter(|r| matches!(r, Recorded::Unreadable { .. })).count();
        // A copy of `op` under another name, a closure called in place.
        assert_eq!(unreadable(&recorded(r#"let o = op; o.execute("CREATE INDEX a ON t (x)");"#)), 1);
        assert_eq!(unreadable(&recorded(r#"let o = &mut *op; o.execute("CREATE INDEX a ON t (x)");"#)), 1);
        assert_eq!(unreadable(&recorded(r#"(|o: &mut Op| o.execute("CREATE INDEX a ON t (x)"))(op);"#)), 1);
        // A local function or constant shadowing the module's: the module's is not read for it.
        let found =
            recorded(r#"add_phone(op); fn add_phone(o: &mut Op) { o.execute("CREATE INDEX a ON t (x)"); }"#);
        assert_eq!(unreadable(&found), 1, "{found:?}");
        let found = recorded(r#"const TABLE: &str = "CREATE INDEX a ON t (x)"; op.execute(TABLE);"#);
        assert_eq!(unreadable(&found), 1, "{found:?}");
        // A `let` shadowing a module's constant, plainly or inside a pattern.
        for binding in [r#"let SQL = "SELECT 1";"#, r#"let (SQL, _) = ("SELECT 1", 0);"#] {
            let text = format!(
                "#[migration(rev = \"a1b2c3d4e5f6\")]\nmod add_people_table {{\n    const SQL: &str = \"CREATE INDEX a ON t (x)\";\n    \
                 pub fn upgrade(op: &mut Op) {{ {binding} op.execute(SQL); }}\n}}\n"
            );
            let found = parse_file(&text).expect("lexes").modules[0].source.recorded.clone();
            assert_eq!(unreadable(&found), 1, "{binding}: {found:?}");
        }
        // What plainly records nothing is left out.
        assert_eq!(recorded("let _ = op; drop(op);"), []);
        // Twins under `#[cfg]`: which one runs is not known.
        let text = "#[migration(rev = \"a1b2c3d4e5f6\")]\nmod add_people_table {\n    \
                    pub fn upgrade(op: &mut Op) { op.execute(\"CREATE INDEX a ON t (x)\"); }\n    \
                    #[cfg(any())] pub fn upgrade(op: &mut Op) { op.execute(\"SELECT 1\"); }\n}\n";
        let found = parse_file(text).expect("lexes").modules[0].source.recorded.clone();
        assert!(
            matches!(found.as_slice(), [Recorded::Unreadable { why, .. }] if why.contains("more than once")),
            "{found:?}"
        );
        let text = "#[migration(rev = \"a1b2c3d4e5f6\")]\nmod add_people_table {\n    const SQL: &str = \"CREATE INDEX a ON t (x)\";\n    \
                    #[cfg(any())] const SQL: &str = \"SELECT 1\";\n    pub fn upgrade(op: &mut Op) { op.execute(SQL); }\n}\n";
        let found = parse_file(text).expect("lexes").modules[0].source.recorded.clone();
        assert_eq!(unreadable(&found), 1, "{found:?}");
    }

    #[test]
    fn a_line_continuation_keeps_a_non_breaking_space_as_rustc_does() {
        let found = recorded("op.execute(\"CREATE INDEX CONC\\\n\u{a0}URRENTLY a ON t (x)\");");
        let text = "#[migration(rev = \"a1b2c3d4e5f6\")]\nmod add_people_table {\n    pub fn upgrade(op: &mut Op) { op.execute(\"CREATE INDEX CONC\\\n\u{a0}URRENTLY a ON t (x)\"); }\n}\n";
        let file = parse_file(text).expect("lexes");
        let source = &file.modules[0].source;
        assert!(matches!(found.as_slice(), [Recorded::Sql { .. }]), "{found:?}");
        assert_eq!(
            source.literals.iter().find(|l| l.value.starts_with("CREATE")).map(|l| l.value.as_str()),
            Some("CREATE INDEX CONC\u{a0}URRENTLY a ON t (x)")
        );
    }

    #[test]
    fn helpers_calling_themselves_stop_at_a_depth() {
        let text = "#[migration(rev = \"a1b2c3d4e5f6\")]\nmod add_people_table {\n    fn again(op: &mut Op) { again(op); }\n    \
                    pub fn upgrade(op: &mut Op) { again(op); }\n}\n";
        let found = parse_file(text).expect("lexes").modules[0].source.recorded.clone();
        assert!(
            matches!(found.as_slice(), [Recorded::Unreadable { why, .. }] if why.contains("8 deep")),
            "{found:?}"
        );
    }
}
