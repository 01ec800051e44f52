//! Reading migration source (feature `syntax`).
//!
//! The same functions serve build-support, which reads whole files, and the macro, which
//! receives one module's tokens: both walk the module's tokens in the same order, so the
//! n-th literal or import means the same token to both, and a diagnostic recorded by
//! build-support lands under the right token when the macro reports it.
//!
//! The reader works on tokens (proc-macro2), not on a full syntax tree: a migration file is
//! one module with a known shape, and build scripts and proc-macros are compiled without
//! optimisation by default, where building a complete syntax tree for every file of a large
//! history would dominate the build. Anything that is not valid Rust is left for rustc to
//! report; the reader only needs to never be wrong about valid code and never panic.

use std::collections::HashMap;
use std::str::FromStr;

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};

use crate::calls;
use crate::diagnostic::Locator;
use crate::seal::Meaning;
use crate::secret::is_credential_name;
use crate::source::{
    Allow, Carrier, DownRevision, Function, Import, ImportKind, Included, ModuleSource, Placeholder,
    Recorded, StrayItem,
};

/// The first and last token of something to point at; rustc underlines from one to the other.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    /// The first token's span.
    pub start: Span,
    /// The last token's span.
    pub end: Span,
}

impl Range {
    /// A range of one token.
    pub fn token(span: Span) -> Range {
        Range { start: span, end: span }
    }

    /// The range from the first to the last of `tokens` (the call site when empty).
    pub fn of(tokens: &[TokenTree]) -> Range {
        match (tokens.first(), tokens.last()) {
            (Some(first), Some(last)) => Range { start: first.span(), end: last.span() },
            _ => Range::token(Span::call_site()),
        }
    }

    /// 1-based line and column of the start, where spans carry locations (outside a macro).
    pub fn line_column(&self) -> (usize, usize) {
        let start = self.start.start();
        (start.line, start.column + 1)
    }

    /// 1-based line and 1-based, exclusive column of the end.
    pub fn end_line_column(&self) -> (usize, usize) {
        let end = self.end.end();
        (end.line, end.column + 1)
    }
}

/// Where each locator of a module points.
#[derive(Clone, Debug)]
pub struct Spans {
    /// The `#[migration(...)]` attribute.
    pub attribute: Range,
    /// The syntax error, when there is one.
    pub syntax_error: Option<Range>,
    /// The `rev` literal.
    pub rev: Option<Range>,
    /// The `down_revision` value as a whole.
    pub down_value: Option<Range>,
    /// Each literal of `down_revision`.
    pub down: Vec<Range>,
    /// Each literal of `branch_labels`.
    pub labels: Vec<Range>,
    /// Each literal of `depends_on`.
    pub depends: Vec<Range>,
    /// Each argument's name.
    pub arguments: Vec<Range>,
    /// The module's name.
    pub module: Range,
    /// Each import.
    pub imports: Vec<Range>,
    /// Each string literal of the body.
    pub literals: Vec<Range>,
    /// Each function's name.
    pub functions: Vec<Range>,
    /// Each placeholder macro call, from its name to its arguments.
    pub placeholders: Vec<Range>,
    /// Each statement of `upgrade` that records something: the method called on `op`, or the
    /// SQL literal.
    pub recorded: Vec<Range>,
    /// The rule id of each entry of `allow(…)`.
    pub allows: Vec<Range>,
}

impl Spans {
    fn new(attribute: Range, module: Range) -> Spans {
        Spans {
            attribute,
            syntax_error: None,
            rev: None,
            down_value: None,
            down: Vec::new(),
            labels: Vec::new(),
            depends: Vec::new(),
            arguments: Vec::new(),
            module,
            imports: Vec::new(),
            literals: Vec::new(),
            functions: Vec::new(),
            placeholders: Vec::new(),
            recorded: Vec::new(),
            allows: Vec::new(),
        }
    }

    /// Every locator with a range in this module, with its range.
    pub fn all(&self) -> Vec<(Locator, Range)> {
        let mut all = vec![(Locator::Attribute, self.attribute), (Locator::Module, self.module)];
        all.extend(self.rev.map(|r| (Locator::Revision, r)));
        all.extend(self.down_value.map(|r| (Locator::DownRevisionValue, r)));
        all.extend(self.down.iter().enumerate().map(|(i, r)| (Locator::DownRevision(i), *r)));
        all.extend(self.labels.iter().enumerate().map(|(i, r)| (Locator::BranchLabel(i), *r)));
        all.extend(self.depends.iter().enumerate().map(|(i, r)| (Locator::DependsOn(i), *r)));
        all.extend(self.arguments.iter().enumerate().map(|(i, r)| (Locator::Argument(i), *r)));
        all.extend(self.imports.iter().enumerate().map(|(i, r)| (Locator::Import(i), *r)));
        all.extend(self.literals.iter().enumerate().map(|(i, r)| (Locator::Literal(i), *r)));
        all.extend(self.functions.iter().enumerate().map(|(i, r)| (Locator::Function(i), *r)));
        all.extend(self.placeholders.iter().enumerate().map(|(i, r)| (Locator::Placeholder(i), *r)));
        all.extend(self.recorded.iter().enumerate().map(|(i, r)| (Locator::Recorded(i), *r)));
        all.extend(self.allows.iter().enumerate().map(|(i, r)| (Locator::Allow(i), *r)));
        all
    }

    /// The range a locator points at, if the module has that token. File-level locators
    /// (stray items) have no range here.
    pub fn locate(&self, locator: &Locator) -> Option<Range> {
        match locator {
            Locator::Attribute => Some(self.attribute),
            Locator::Revision => self.rev,
            Locator::DownRevisionValue => self.down_value.or(self.rev),
            Locator::DownRevision(i) => self.down.get(*i).copied(),
            Locator::BranchLabel(i) => self.labels.get(*i).copied(),
            Locator::DependsOn(i) => self.depends.get(*i).copied(),
            Locator::Argument(i) => self.arguments.get(*i).copied(),
            Locator::Module => Some(self.module),
            Locator::Import(i) => self.imports.get(*i).copied(),
            Locator::Literal(i) => self.literals.get(*i).copied(),
            Locator::Function(i) => self.functions.get(*i).copied(),
            Locator::Placeholder(i) => self.placeholders.get(*i).copied(),
            Locator::Recorded(i) => self.recorded.get(*i).copied(),
            Locator::Allow(i) => self.allows.get(*i).copied(),
            Locator::Item(_) => None,
        }
    }
}

/// A `#[migration]` module: what the rules see, and where each of its locators points.
#[derive(Clone, Debug)]
pub struct ParsedModule {
    /// The model the rules check.
    pub source: ModuleSource,
    /// The spans of its locators.
    pub spans: Spans,
    /// What the seal sums, when asked for ([`parse_file_with_meaning`]).
    pub meaning: Option<Meaning>,
}

/// A migration file: its `#[migration]` modules and everything else.
#[derive(Clone, Debug)]
pub struct ParsedFile {
    /// The `#[migration]` modules, in source order.
    pub modules: Vec<ParsedModule>,
    /// Items outside them.
    pub stray_items: Vec<StrayItem>,
    /// The opening bracket of the first group nested deeper than [`MAX_DEPTH`], if any: such
    /// a file is reported, never compiled (rustc's own parser overflows its stack on it).
    pub too_deep: Option<Range>,
}

/// A file that is not made of Rust tokens (an unclosed string or brace, say), with the
/// 1-based line and column where reading stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    /// What went wrong.
    pub message: String,
    /// The line.
    pub line: usize,
    /// The column.
    pub column: usize,
}

/// How deeply groups (`( )`, `[ ]`, `{ }`) may nest in a migration file. The reader walks
/// groups recursively, on the small stacks of a build script's threads; a file nested deeper
/// is reported ("nested too deeply") instead of overflowing the stack. Real migrations stay
/// far below it; rustc's own default `recursion_limit` is 128 as well.
pub const MAX_DEPTH: usize = 128;

/// The opening span of the first group nested deeper than [`MAX_DEPTH`] in `tokens`, which
/// sit at `depth`. Recursion stops there, so it never goes deeper than the limit itself.
pub fn too_deep(tokens: &[TokenTree], depth: usize) -> Option<Span> {
    for token in tokens {
        if let TokenTree::Group(group) = token {
            if depth >= MAX_DEPTH {
                return Some(group.span_open());
            }
            let inner: Vec<TokenTree> = group.stream().into_iter().collect();
            if let Some(span) = too_deep(&inner, depth + 1) {
                return Some(span);
            }
        }
    }
    None
}

/// The message and help for a file nested deeper than [`MAX_DEPTH`].
pub fn too_deep_message() -> String {
    format!(
        "the migration is nested too deeply (more than {MAX_DEPTH} levels of brackets)\n= help: move the \
         nested expression into a `.sql` file beside the migration and `include_str!` it, or flatten it"
    )
}

/// Crates a path may start with without reaching into the application: the standard library
/// keeps its paths stable across releases (`migrate_runtime` is allowed only for `prelude`).
const STANDARD_CRATES: &[&str] = &["std", "core", "alloc"];

/// The names `migrate_runtime::prelude` exports (keep in step with `migrate-runtime/src/lib.rs`).
pub const PRELUDE: &[&str] = &["Op", "Type", "Value", "Action", "sql", "Duration"];

/// Names of the standard library's prelude and primitive types a path may start with:
/// `String::from`, `Vec::<u8>::new`, `i64::MAX`, `Option::Some`.
const STANDARD_PRELUDE: &[&str] = &[
    "String",
    "Vec",
    "Option",
    "Result",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "ToString",
    "ToOwned",
    "Into",
    "From",
    "TryFrom",
    "TryInto",
    "Iterator",
    "IntoIterator",
    "Default",
    "Clone",
    "AsRef",
    "PartialEq",
    "PartialOrd",
    "Ord",
    "Eq",
    "Extend",
    "FromIterator",
    "bool",
    "char",
    "str",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "f32",
    "f64",
];

/// Macros of the standard library that read nothing outside the migration.
const STANDARD_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "compile_error",
    "concat",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "eprint",
    "eprintln",
    "file",
    "format",
    "format_args",
    "include_str",
    "line",
    "matches",
    "module_path",
    "panic",
    "print",
    "println",
    "stringify",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
];

/// Keywords that may stand before `!` without being a macro: `if !(…)`.
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "for", "if", "in", "let", "loop", "match", "move", "mut",
    "ref", "return", "static", "where", "while", "yield", "await",
];

fn is_punct(token: Option<&TokenTree>, c: char) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn is_ident(token: Option<&TokenTree>, name: &str) -> bool {
    matches!(token, Some(TokenTree::Ident(i)) if i == name)
}

fn is_group(token: Option<&TokenTree>, delimiter: Delimiter) -> bool {
    matches!(token, Some(TokenTree::Group(g)) if g.delimiter() == delimiter)
}

fn is_path_separator(tokens: &[TokenTree], at: usize) -> bool {
    is_punct(tokens.get(at), ':') && is_punct(tokens.get(at + 1), ':')
}

/// The text a string or byte-string literal carries, with its carrier.
fn carried_text(literal: &Literal) -> Option<(String, Carrier)> {
    if let Some(value) = string_value(literal) {
        return Some((value, Carrier::Str));
    }
    let text = literal.to_string();
    let bytes = text.strip_prefix('b').filter(|t| t.starts_with('"') || t.starts_with('r'))?;
    decode(bytes).map(|value| (value, Carrier::Bytes))
}

/// The value of a string literal (`"…"` or `r#"…"#`), or `None` for any other literal.
pub fn string_value(literal: &Literal) -> Option<String> {
    decode(&literal.to_string())
}

/// Decodes the text of a string literal without its prefix.
fn decode(text: &str) -> Option<String> {
    if let Some(raw) = text.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let inner = raw.get(hashes..raw.len().checked_sub(hashes)?)?;
        return Some(inner.strip_prefix('"')?.strip_suffix('"')?.to_owned());
    }
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match chars.next()? {
            'n' => value.push('\n'),
            'r' => value.push('\r'),
            't' => value.push('\t'),
            '0' => value.push('\0'),
            '\\' => value.push('\\'),
            '\'' => value.push('\''),
            '"' => value.push('"'),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                value.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
            }
            'u' => {
                let digits: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                value.push(char::from_u32(u32::from_str_radix(&digits, 16).ok()?)?);
            }
            // A line continuation, written with either line ending (the `\n` of a `\r\n` is
            // whitespace, skipped with the rest).
            '\r' if chars.peek() != Some(&'\n') => return None,
            // rustc skips ASCII whitespace only: a non-breaking space after it stays in the string.
            '\n' | '\r' => {
                while chars.peek().is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
                    chars.next();
                }
            }
            _ => return None,
        }
    }
    Some(value)
}

/// Attributes at the front of `tokens`: `(attribute range, attribute content)`, and the
/// position of the first token after them.
fn outer_attributes(tokens: &[TokenTree], mut at: usize) -> (Vec<(Range, TokenStream)>, usize) {
    let mut attributes = Vec::new();
    while is_punct(tokens.get(at), '#') {
        let Some(TokenTree::Group(group)) = tokens.get(at + 1) else {
            break;
        };
        if group.delimiter() != Delimiter::Bracket {
            break;
        }
        attributes.push((Range { start: tokens[at].span(), end: group.span() }, group.stream()));
        at += 2;
    }
    (attributes, at)
}

/// Whether an attribute's content is `migration(...)` (or `migrate_runtime::migration(...)`),
/// with its arguments.
fn migration_arguments(content: &TokenStream) -> Option<TokenStream> {
    let tokens: Vec<TokenTree> = content.clone().into_iter().collect();
    let mut at = 0;
    if is_path_separator(&tokens, 0) {
        at = 2;
    }
    while is_ident(tokens.get(at), "migrate_runtime") && is_path_separator(&tokens, at + 1) {
        at += 3;
    }
    if !is_ident(tokens.get(at), "migration") {
        return None;
    }
    match tokens.get(at + 1) {
        None => Some(TokenStream::new()),
        Some(TokenTree::Group(group))
            if group.delimiter() == Delimiter::Parenthesis && tokens.len() == at + 2 =>
        {
            Some(group.stream())
        }
        _ => None,
    }
}

/// The doc text of a `doc = "…"` attribute content.
fn doc_value(content: &TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = content.clone().into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Ident(doc), TokenTree::Punct(eq), TokenTree::Literal(text)]
            if doc == "doc" && eq.as_char() == '=' =>
        {
            string_value(text)
        }
        _ => None,
    }
}

/// The end (exclusive) of the item starting at `at`: after its `;`, or after its last brace
/// group (and a `;` right after it).
fn item_end(tokens: &[TokenTree], at: usize) -> usize {
    let mut i = at;
    while i < tokens.len() {
        if is_punct(tokens.get(i), ';') {
            return i + 1;
        }
        if is_group(tokens.get(i), Delimiter::Brace) {
            // `const X: S = S { .. };` ends at the semicolon, a body at its brace.
            return if is_punct(tokens.get(i + 1), ';') { i + 2 } else { i + 1 };
        }

        i += 1;
    }
    tokens.len()
}

/// How a user would name an item: `fn helper`, `struct User`, `use`.
fn describe(tokens: &[TokenTree]) -> String {
    let mut words = tokens.iter().filter_map(|t| match t {
        TokenTree::Ident(i) => Some(i.to_string()),
        _ => None,
    });
    let skip = ["pub", "crate", "unsafe", "async", "extern", "default"];
    let mut word = words.next();
    while word.as_deref().is_some_and(|w| skip.contains(&w)) {
        if word.as_deref() == Some("extern") && is_ident(tokens.get(1), "crate") {
            return format!("extern crate {}", words.nth(1).unwrap_or_default());
        }
        word = words.next();
    }
    match word.as_deref() {
        Some(kind @ ("fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "mod" | "union")) => {
            format!("{kind} {}", words.next().unwrap_or_default())
        }
        Some(kind @ ("use" | "impl")) => kind.to_owned(),
        Some("macro_rules") => format!("macro_rules! {}", words.next().unwrap_or_default()),
        Some(name) if tokens.iter().any(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == '!')) => {
            format!("{name}!")
        }
        _ => "item".to_owned(),
    }
}

/// Reads a whole migration file.
pub fn parse_file(text: &str) -> Result<ParsedFile, LexError> {
    read_file(text, false)
}

/// [`parse_file`], and what the seal sums of each module ([`ParsedModule::meaning`]): for a
/// folder that has a seal.
pub fn parse_file_with_meaning(text: &str) -> Result<ParsedFile, LexError> {
    read_file(text, true)
}

fn read_file(text: &str, with_meaning: bool) -> Result<ParsedFile, LexError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let stream = TokenStream::from_str(text).map_err(|e| {
        let start = e.span().start();
        LexError { message: e.to_string(), line: start.line, column: start.column + 1 }
    })?;
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let deep = too_deep(&tokens, 0).map(Range::token);
    let mut parsed = ParsedFile { modules: Vec::new(), stray_items: Vec::new(), too_deep: deep };
    let mut at = 0;
    while at < tokens.len() {
        let start = at;
        if is_punct(tokens.get(at), '#')
            && is_punct(tokens.get(at + 1), '!')
            && is_group(tokens.get(at + 2), Delimiter::Bracket)
        {
            let (line, column) = Range::token(tokens[at].span()).line_column();
            parsed
                .stray_items
                .push(StrayItem { description: "#![…] inner attribute".into(), line, column });
            at += 3;
            continue;
        }
        let (attributes, body) = outer_attributes(&tokens, at);
        let end = item_end(&tokens, body).max(body + 1).min(tokens.len());
        let migration = attributes
            .iter()
            .enumerate()
            .find_map(|(index, (range, content))| Some((index, range, migration_arguments(content)?)));
        match (migration, module_header(&tokens[body..end])) {
            (Some((index, range, args)), Some(_)) => {
                // The module as the macro receives it: every token but the `#[migration]`
                // attribute, which is the index-th pair of `#` and brackets.
                let from = start + 2 * index;
                let item: Vec<TokenTree> =
                    tokens[start..from].iter().chain(&tokens[from + 2..end]).cloned().collect();
                let meaning = (with_meaning && deep.is_none()).then(|| meaning(&args, &item));
                let mut module = parse_module(args, item.into_iter().collect(), *range);
                module.meaning = meaning;
                parsed.modules.push(module);
            }
            _ => {
                let (line, column) = Range::token(tokens[start].span()).line_column();
                parsed.stray_items.push(StrayItem {
                    description: describe(&tokens[body..end]),
                    line,
                    column,
                });
            }
        }
        at = end;
    }
    // `//` and `/* */` comments are no tokens: only a reader of the text finds them. They come
    // after every token-made text, so that the macro, which never sees them, numbers the
    // others alike. They point at the module's name, where the macro reports them: the message
    // gives the line.
    if let Some(module) = parsed.modules.first_mut()
        && deep.is_none()
    {
        for (value, line) in comments(text) {
            let name = module.spans.module;
            push_text(&mut module.source, &mut module.spans, value, Carrier::Comment(line), name);
        }
    }
    Ok(parsed)
}

/// The meaning of a migration as the seal sums it (see [`crate::seal`]): `args` are the
/// arguments of its `#[migration]` attribute, `item` the module as the macro receives it.
/// Everything but `down_revision`, the module's name, doc comments and the `downgrade`
/// function, as tokens: formatting and comments do not count, nor how a string is written
/// (`"a"`, `r"a"`, `"\x61"`), nor its line endings, nor a trailing comma.
pub fn meaning(args: &TokenStream, item: &[TokenTree]) -> Meaning {
    let mut meaning = Meaning::default();
    let args: Vec<TokenTree> = args.clone().into_iter().collect();
    for argument in split_commas(&args) {
        // Parents are compared on their own; an `allow(…)` changes what is judged, not what runs,
        // and a branch label how it is named.
        let left_out = is_ident(argument.first(), "down_revision")
            || is_ident(argument.first(), "allow")
            || is_ident(argument.first(), "branch_labels");
        if !left_out && !argument.is_empty() {
            canonical(argument, &mut meaning);
            meaning.tokens.push(',');
        }
    }
    meaning.tokens.push('|');
    let (_, at) = outer_attributes(item, 0);
    canonical(&item[..at], &mut meaning);
    if let Some(name_at) = module_header(&item[at..]).map(|n| at + n)
        && let Some(TokenTree::Group(body)) = item.get(name_at + 1)
    {
        let content: Vec<TokenTree> = body.stream().into_iter().collect();
        meaning.tokens.push('{');
        canonical_items(&content, &mut meaning);
        meaning.tokens.push('}');
    }
    meaning
}

/// The items of `tokens` in canonical form, but the `downgrade` function when no other item
/// names it (an upgrade that calls it runs it).
fn canonical_items(tokens: &[TokenTree], meaning: &mut Meaning) {
    let mut items = Vec::new();
    let mut downgrade = None;
    let mut at = 0;
    while at < tokens.len() {
        let (_, body) = outer_attributes(tokens, at);
        if body == at && is_punct(tokens.get(at), '#') {
            // An inner attribute, `#![…]`, or a stray `#`.
            let end = if is_punct(tokens.get(at + 1), '!') { (at + 3).min(tokens.len()) } else { at + 1 };
            items.push(at..end);
            at = end;
            continue;
        }
        let end = item_end(tokens, body).max(body + 1).min(tokens.len());
        let mut head = body;
        if is_ident(tokens.get(head), "pub") {
            head += if is_group(tokens.get(head + 1), Delimiter::Parenthesis) { 2 } else { 1 };
        }
        if downgrade.is_none()
            && is_ident(tokens.get(head), "fn")
            && is_ident(tokens.get(head + 1), "downgrade")
        {
            downgrade = Some(items.len());
        }
        items.push(at..end);
        at = end;
    }
    if let Some(index) = downgrade {
        let mut names = Vec::new();
        for (_, item) in items.iter().enumerate().filter(|(i, _)| *i != index) {
            flatten_idents(&tokens[item.clone()], &mut names);
        }
        if names.iter().any(|n| n == "downgrade") {
            downgrade = None;
        }
    }
    for (i, item) in items.into_iter().enumerate() {
        if Some(i) != downgrade {
            canonical(&tokens[item], meaning);
        }
    }
}

/// Appends `kind`, the length of `value`, `:` and `value`: one token of the canonical form
/// (without `format!`, whose machinery dominates an unoptimised build script here).
fn push_piece(text: &mut String, kind: char, value: &str) {
    text.push(kind);
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = value.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        text.push(char::from(digit));
    }
    text.push(':');
    text.push_str(value);
}

/// `tokens` in canonical form: each token with its kind and length, doc attributes left out,
/// string literals by their value; the paths of `include_str!` calls collected.
fn canonical(tokens: &[TokenTree], meaning: &mut Meaning) {
    let mut at = 0;
    while at < tokens.len() {
        if is_punct(tokens.get(at), '#') {
            let bracket = if is_punct(tokens.get(at + 1), '!') { at + 2 } else { at + 1 };
            if let Some(TokenTree::Group(group)) = tokens.get(bracket)
                && group.delimiter() == Delimiter::Bracket
                && doc_value(&group.stream()).is_some()
            {
                at = bracket + 1;
                continue;
            }
        }
        let text = &mut meaning.tokens;
        match &tokens[at] {
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                push_piece(text, 'i', &name);
                if name == "include_str"
                    && is_punct(tokens.get(at + 1), '!')
                    && let Some(TokenTree::Group(group)) = tokens.get(at + 2)
                    && let [TokenTree::Literal(path)] =
                        group.stream().into_iter().collect::<Vec<_>>().as_slice()
                    && let Some(path) = string_value(path)
                {
                    meaning.includes.push(path);
                }
            }
            // A trailing comma is formatting (rustfmt adds it to a list it breaks into lines).
            TokenTree::Punct(punct) if punct.as_char() == ',' && at + 1 == tokens.len() => {}
            TokenTree::Punct(punct) => {
                text.push('p');
                text.push(punct.as_char());
                if punct.spacing() == proc_macro2::Spacing::Joint {
                    text.push('j');
                }
            }
            TokenTree::Literal(literal) => {
                let (kind, value) = match string_value(literal) {
                    Some(value) => ('s', value),
                    None => ('l', literal.to_string()),
                };
                let value = crate::seal::unix_line_endings(&value);
                push_piece(text, kind, &value);
            }
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::None => ('<', '>'),
                };
                text.push(open);
                canonical(&group.stream().into_iter().collect::<Vec<_>>(), meaning);
                meaning.tokens.push(close);
            }
        }
        at += 1;
    }
}

/// The `//` and `/* */` comments of `text` (doc comments are tokens, read as such), each run
/// of them (comments with only whitespace between) with its 1-based line. A lexer of its own,
/// one pass over the text: strings, raw strings and character literals are skipped, so that a
/// `//` inside one is no comment.
fn comments(text: &str) -> Vec<(String, usize)> {
    let bytes = text.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let ident = |i: Option<usize>| i.is_some_and(|i| at(i).is_ascii_alphanumeric() || at(i) == b'_');
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let (end, comment) = match at(i) {
            b'/' if at(i + 1) == b'/' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                let doc = (at(i + 2) == b'/' && at(i + 3) != b'/') || at(i + 2) == b'!';
                (end, !doc)
            }
            b'/' if at(i + 1) == b'*' => {
                let (mut j, mut depth) = (i + 2, 1);
                while j < bytes.len() && depth > 0 {
                    if at(j) == b'/' && at(j + 1) == b'*' {
                        (j, depth) = (j + 2, depth + 1);
                    } else if at(j) == b'*' && at(j + 1) == b'/' {
                        (j, depth) = (j + 2, depth - 1);
                    } else {
                        j += 1;
                    }
                }
                let doc = (at(i + 2) == b'*' && !matches!(at(i + 3), b'*' | b'/')) || at(i + 2) == b'!';
                (j, !doc)
            }
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && at(j) != b'"' {
                    j += if at(j) == b'\\' { 2 } else { 1 };
                }
                (j + 1, false)
            }
            // A raw string, `r"…"`, `r#"…"#` (or `br`, `cr`): not `r#ident`, not in a word.
            b'r' if !ident(i.checked_sub(1))
                || (matches!(at(i - 1), b'b' | b'c') && !ident(i.checked_sub(2))) =>
            {
                let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
                if at(i + 1 + hashes) == b'"' {
                    let close = format!("\"{}", "#".repeat(hashes));
                    let from = i + 2 + hashes;
                    (text[from..].find(&close).map_or(text.len(), |n| from + n + close.len()), false)
                } else {
                    (i + 1, false)
                }
            }
            // A character literal (`'x'`, `'\''`), or a lifetime (`'a`), which ends nothing.
            b'\'' => {
                if at(i + 1) == b'\\' {
                    (text[i + 3..].find('\'').map_or(text.len(), |n| i + 3 + n + 1), false)
                } else {
                    let next = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                    if at(i + 1 + next) == b'\'' { (i + 2 + next, false) } else { (i + 1, false) }
                }
            }
            _ => (i + 1, false),
        };
        if comment {
            match runs.last_mut() {
                Some(run) if text[run.1..i].trim().is_empty() => run.1 = end,
                _ => runs.push((i, end)),
            }
        }
        i = end.max(i + 1);
    }
    let mut line = 1;
    let mut counted = 0;
    runs.into_iter()
        .map(|(start, end)| {
            line += text[counted..start].matches('\n').count();
            counted = start;
            (text[start..end.min(text.len())].trim_end().to_owned(), line)
        })
        .collect()
}

/// `[vis] mod name` at the front of an item: the position of the name.
fn module_header(tokens: &[TokenTree]) -> Option<usize> {
    let mut at = 0;
    if is_ident(tokens.first(), "pub") {
        at = if is_group(tokens.get(1), Delimiter::Parenthesis) { 2 } else { 1 };
    }
    if is_ident(tokens.get(at), "unsafe") {
        at += 1;
    }
    (is_ident(tokens.get(at), "mod") && matches!(tokens.get(at + 1), Some(TokenTree::Ident(_))))
        .then_some(at + 1)
}

/// The name of the module in `item` (a module as `#[migration]` receives it) and the
/// position of its body among the item's tokens, without reading anything else: the
/// macro's fast path.
pub fn module_name_and_body(item: &TokenStream) -> Option<(Ident, Option<usize>)> {
    let tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    let (_, at) = outer_attributes(&tokens, 0);
    let name_at = at + module_header(&tokens[at..])?;
    let TokenTree::Ident(name) = &tokens[name_at] else {
        return None;
    };
    let body = is_group(tokens.get(name_at + 1), Delimiter::Brace).then_some(name_at + 1);
    Some((name.clone(), body))
}

/// Reads a `#[migration]` module: the attribute's arguments `args`, the module as the macro
/// receives it (every token but the `#[migration]` attribute), and the attribute's range for
/// errors about it as a whole.
///
/// Never fails: a syntax error is recorded in the model (`syntax_error`) with its range, for
/// the macro to report, and the rest is read as far as possible.
pub fn parse_module(args: TokenStream, item: TokenStream, attribute: Range) -> ParsedModule {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let (attributes, at) = outer_attributes(&tokens, 0);
    let mut error = None;
    let Some(name_at) = module_header(&tokens[at..]).map(|n| at + n) else {
        let mut source = ModuleSource::default();
        let mut spans = Spans::new(attribute, attribute);
        first_error(&mut error, attribute, "`#[migration]` goes on a module: `mod <slug> { … }`".to_owned());
        read_arguments(args, &mut source, &mut spans, &mut error);
        return finish(source, spans, error);
    };
    let name = &tokens[name_at];
    let mut source = ModuleSource { name: name.to_string(), ..ModuleSource::default() };
    let mut spans = Spans::new(attribute, Range::token(name.span()));
    if let Some(deep) = too_deep(&tokens, 0) {
        // Nothing else is read: every reading below recurses into groups.
        first_error(&mut error, Range::token(deep), too_deep_message());
        read_arguments(args, &mut source, &mut spans, &mut error);
        return finish(source, spans, error);
    }
    read_arguments(args, &mut source, &mut spans, &mut error);
    source.doc = attributes.iter().filter_map(|(_, content)| doc_value(content)).collect();
    match tokens.get(name_at + 1) {
        Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => {
            let content: Vec<TokenTree> = body.stream().into_iter().collect();
            let bodies = read_functions(&content, &mut source, &mut spans);
            for (range, content) in &attributes {
                if let Some(doc) = doc_value(content) {
                    push_text(&mut source, &mut spans, doc, Carrier::Doc, *range);
                }
            }
            let mut local = Vec::new();
            local_names(&content, &mut local);
            walk(&content, &Scope { local: &local }, &mut source, &mut spans);
            match bodies.get("upgrade") {
                Some((op, body)) if !op.is_empty() => {
                    read_recorded(body, op, &calls::constants(&content), &bodies, &mut source, &mut spans);
                }
                Some(_) => {
                    source.recorded.push(Recorded::Unreadable {
                        call: "fn upgrade".to_owned(),
                        why: "the module defines `upgrade` more than once (under `#[cfg(…)]`), so the rules cannot \
                              know which one runs"
                            .to_owned(),
                    });
                    spans.recorded.push(spans.module);
                }
                None => {}
            }
        }
        _ => first_error(
            &mut error,
            Range::of(&tokens[at..=name_at]),
            format!("migration module `{name}` needs a body: `mod {name} {{ … }}`"),
        ),
    }
    finish(source, spans, error)
}

fn finish(mut source: ModuleSource, mut spans: Spans, error: Option<(Range, String)>) -> ParsedModule {
    if let Some((range, message)) = error {
        source.syntax_error = Some(message);
        spans.syntax_error = Some(range);
    }
    ParsedModule { source, spans, meaning: None }
}

/// Keeps the first syntax error: the later ones are often its consequences.
fn first_error(slot: &mut Option<(Range, String)>, range: Range, message: String) {
    if slot.is_none() {
        *slot = Some((range, message));
    }
}

/// Splits tokens at top-level commas.
fn split_commas(tokens: &[TokenTree]) -> Vec<&[TokenTree]> {
    tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')).collect()
}

fn read_arguments(
    args: TokenStream,
    source: &mut ModuleSource,
    spans: &mut Spans,
    error: &mut Option<(Range, String)>,
) {
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    let segments = split_commas(&tokens);
    let last = segments.len().saturating_sub(1);
    let mut squashes_at = None;
    for (n, segment) in segments.into_iter().enumerate() {
        if segment.is_empty() {
            if n != last {
                first_error(
                    error,
                    spans.attribute,
                    "cannot read `#[migration(...)]`: an argument is empty".to_owned(),
                );
            }
            continue;
        }
        if let [TokenTree::Ident(name), TokenTree::Group(list)] = segment
            && name == "allow"
            && list.delimiter() == Delimiter::Parenthesis
        {
            if source.arguments.iter().any(|a| a == "allow") {
                first_error(error, Range::token(name.span()), "argument `allow` is given twice".to_owned());
            }
            source.arguments.push("allow".to_owned());
            spans.arguments.push(Range::token(name.span()));
            read_allows(list, source, spans, error);
            continue;
        }
        let eq = segment.iter().position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == '='));
        let name_tokens = &segment[..eq.unwrap_or(segment.len())];
        let name_is_path = name_tokens.iter().all(|t| matches!(t, TokenTree::Ident(_) | TokenTree::Punct(_)))
            && matches!(name_tokens.first(), Some(TokenTree::Ident(_)));
        if !name_is_path {
            first_error(
                error,
                Range::of(segment),
                "cannot read `#[migration(...)]`: write arguments as `name = value`".to_owned(),
            );
            continue;
        }
        let name: String = name_tokens.iter().map(ToString::to_string).collect();
        let value = eq.map(|i| &segment[i + 1..]);
        if source.arguments.contains(&name) {
            first_error(error, Range::of(name_tokens), format!("argument `{name}` is given twice"));
        }
        source.arguments.push(name.clone());
        spans.arguments.push(Range::of(name_tokens));
        match (name.as_str(), value) {
            ("rev", Some([TokenTree::Literal(literal)])) if string_value(literal).is_some() => {
                source.rev = string_value(literal);
                spans.rev = Some(Range::token(literal.span()));
            }
            ("rev", _) => {
                first_error(error, Range::of(segment), "`rev` takes a string literal: `rev = \"3f2a9c1b7d4e\"`".to_owned())
            }
            ("down_revision", Some(value)) if !value.is_empty() => match read_down_revision(value) {
                Some((down, ranges)) => {
                    source.down_revision = down;
                    spans.down_value = Some(Range::of(value));
                    spans.down = ranges;
                }
                None => first_error(
                    error,
                    Range::of(value),
                    "`down_revision` takes `None`, a string literal, or a list of string literals for a merge"
                        .to_owned(),
                ),
            },
            ("down_revision", _) => first_error(
                error,
                Range::of(segment),
                "`down_revision` needs a value: `None`, `\"<parent>\"` or `[\"<parent>\", \"<parent>\"]`".to_owned(),
            ),
            // As Alembic's scripts write it: nothing declared.
            ("branch_labels" | "depends_on", Some([TokenTree::Ident(none)])) if none == "None" => {}
            ("branch_labels" | "depends_on", Some(value)) if !value.is_empty() => match read_names(value) {
                // An empty list declares nothing, and reads as if it meant something.
                Some((names, _)) if names.is_empty() => first_error(
                    error,
                    Range::of(value),
                    format!("`{name} = []` names nothing: remove the argument, or name one: `{name} = [\"…\"]`"),
                ),
                Some((names, ranges)) if name == "branch_labels" => {
                    source.branch_labels = names;
                    spans.labels = ranges;
                }
                Some((names, ranges)) => {
                    source.depends_on = names;
                    spans.depends = ranges;
                }
                None => first_error(
                    error,
                    Range::of(value),
                    format!("`{name}` takes `None`, a string literal or a list of string literals: `{name} = [\"…\"]`"),
                ),
            },
            ("branch_labels" | "depends_on", _) => first_error(
                error,
                Range::of(segment),
                format!("`{name}` needs a value: `{name} = [\"…\"]`"),
            ),
            ("transactional", Some([TokenTree::Ident(value)])) if value == "true" || value == "false" => {
                source.transactional = Some(value == "true");
            }
            ("transactional", _) => {
                first_error(error, Range::of(segment), "`transactional` takes `true` or `false`".to_owned())
            }
            ("squashes", Some([TokenTree::Literal(literal)]))
                if string_value(literal).is_some_and(|sum| is_checksum(&sum)) =>
            {
                source.squashes = string_value(literal);
                squashes_at = Some(Range::of(segment));
            }
            ("squashes", _) => first_error(
                error,
                Range::of(segment),
                "`squashes` takes the checksum the squashed revision recorded, 64 lowercase hex digits: \
                 `squashes = \"…\"` (written by `cargo migrate squash`)"
                    .to_owned(),
            ),
            // Unknown arguments are a rule of their own (`unknown_argument`), not a syntax error.
            _ => {}
        }
    }
    if source.rev.is_none() {
        first_error(
            error,
            spans.attribute,
            "`#[migration]` needs the revision id: `#[migration(rev = \"…\", down_revision = …)]`".to_owned(),
        );
    }
    // Only a squash's baseline stands for what databases recorded under its revision: on any
    // other migration, it would let an edit of a deployed migration through unnoticed.
    if let Some(at) = squashes_at
        && !source.down_revision.parents().is_empty()
    {
        first_error(
            error,
            at,
            "`squashes` is for the baseline of a squash, which has no down revision: this migration has one\n\
             = help: remove it; an edited deployed migration is restored, or its new checksum accepted with \
             `cargo migrate accept <revision>`"
                .to_owned(),
        );
    }
}

/// Whether `text` is a SHA-256 checksum as the runtime writes it: 64 lowercase hex digits.
fn is_checksum(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The entries of `allow(rule_id = "reason", …)`. A bare `rule_id` is kept without a reason,
/// for `unused_allow` to report; anything else is a syntax error.
fn read_allows(
    list: &Group,
    source: &mut ModuleSource,
    spans: &mut Spans,
    error: &mut Option<(Range, String)>,
) {
    let tokens: Vec<TokenTree> = list.stream().into_iter().collect();
    let segments = split_commas(&tokens);
    let last = segments.len().saturating_sub(1);
    for (n, entry) in segments.into_iter().enumerate() {
        let (rule, reason) = match entry {
            [] if n == last && n > 0 => continue,
            [TokenTree::Ident(rule)] => (rule, None),
            [TokenTree::Ident(rule), TokenTree::Punct(eq), TokenTree::Literal(reason)]
                if eq.as_char() == '=' && string_value(reason).is_some() =>
            {
                (rule, string_value(reason).filter(|r| !r.trim().is_empty()))
            }
            _ => {
                let range = if entry.is_empty() { Range::token(list.span()) } else { Range::of(entry) };
                first_error(
                    error,
                    range,
                    "`allow` takes rule ids with their reasons: `allow(blocking_index = \"the table holds 200 rows\")`"
                        .to_owned(),
                );
                continue;
            }
        };
        source.allows.push(Allow { rule: rule.to_string(), reason });
        spans.allows.push(Range::token(rule.span()));
    }
}

fn read_down_revision(value: &[TokenTree]) -> Option<(DownRevision, Vec<Range>)> {
    match value {
        [TokenTree::Ident(none)] if none == "None" => Some((DownRevision::None, Vec::new())),
        [TokenTree::Literal(literal)] => {
            Some((DownRevision::One(string_value(literal)?), vec![Range::token(literal.span())]))
        }
        [TokenTree::Group(list)] if list.delimiter() == Delimiter::Bracket => {
            let (parents, ranges) = read_list(list)?;
            Some((DownRevision::Many(parents), ranges))
        }
        _ => None,
    }
}

/// `"name"` or `["name", …]`: the names with their ranges.
fn read_names(value: &[TokenTree]) -> Option<(Vec<String>, Vec<Range>)> {
    match value {
        [TokenTree::Literal(literal)] => {
            Some((vec![string_value(literal)?], vec![Range::token(literal.span())]))
        }
        [TokenTree::Group(list)] if list.delimiter() == Delimiter::Bracket => read_list(list),
        _ => None,
    }
}

/// The string literals of a bracketed list, a trailing comma allowed.
fn read_list(list: &Group) -> Option<(Vec<String>, Vec<Range>)> {
    let elements: Vec<TokenTree> = list.stream().into_iter().collect();
    let mut names = Vec::new();
    let mut ranges = Vec::new();
    let segments = split_commas(&elements);
    let last = segments.len().saturating_sub(1);
    for (n, element) in segments.into_iter().enumerate() {
        match element {
            [] if n == last => {}
            [TokenTree::Literal(literal)] => {
                names.push(string_value(literal)?);
                ranges.push(Range::token(literal.span()));
            }
            _ => return None,
        }
    }
    Some((names, ranges))
}

/// What `upgrade` records, statement by statement ([`calls`]); an SQL literal is located
/// among the literals `walk` collected, by its position in the file.
fn read_recorded(
    body: &[TokenTree],
    op: &str,
    constants: &HashMap<String, String>,
    helpers: &calls::Helpers,
    source: &mut ModuleSource,
    spans: &mut Spans,
) {
    for (read, range) in calls::read_body(body, op, constants, helpers) {
        let recorded = match read {
            calls::Read::Operation { call, statements } => Recorded::Operation { call, statements },
            calls::Read::Unreadable { call, why } => Recorded::Unreadable { call, why },
            calls::Read::Text { call, sql } => Recorded::Text { call, sql },
            calls::Read::Sql { literal } => {
                let position = literal.line_column();
                match spans.literals.iter().position(|r| r.line_column() == position) {
                    Some(literal) => Recorded::Sql { literal },
                    None => Recorded::Unreadable {
                        call: "op.execute(…)".to_owned(),
                        why: "it includes a file the build does not read (not beside the migration)"
                            .to_owned(),
                    },
                }
            }
        };
        source.recorded.push(recorded);
        spans.recorded.push(range);
    }
}

/// The functions at the top of a module's body: `fn name(…) … { body }`. Returns the first
/// parameter and the body of each function that has one, for [`read_recorded`].
fn read_functions(content: &[TokenTree], source: &mut ModuleSource, spans: &mut Spans) -> calls::Helpers {
    let mut bodies = calls::Helpers::new();
    let mut twice = Vec::new();
    let mut at = 0;
    while at < content.len() {
        if is_ident(content.get(at), "fn")
            && let Some(TokenTree::Ident(name)) = content.get(at + 1)
        {
            let body = content[at + 2..]
                .iter()
                .position(|t| is_group(Some(t), Delimiter::Brace))
                .map(|i| at + 2 + i);
            if let Some(TokenTree::Group(block)) = body.and_then(|b| content.get(b)) {
                let statements: Vec<TokenTree> = block.stream().into_iter().collect();
                let parameter = first_parameter(&content[at + 2..body.unwrap_or(at + 2)]);
                let records = parameter.as_ref().is_some_and(|p| records_on(&statements, p));
                if let Some(op) = &parameter
                    && bodies.insert(name.to_string(), (op.clone(), statements.clone())).is_some()
                {
                    twice.push(name.to_string());
                }
                source.functions.push(Function { name: name.to_string(), empty: !records });
                spans.functions.push(Range::token(name.span()));
                find_placeholders(&statements, &name.to_string(), source, spans);
                at = body.map_or(at + 1, |b| b + 1);
                continue;
            }
        }
        at += 1;
    }
    // A name defined twice (under `#[cfg(…)]`) is not known to be the one that runs.
    for name in twice {
        bodies.insert(name, (String::new(), Vec::new()));
    }
    bodies
}

/// The macros a template leaves for the user to replace: they build, and panic when run.
pub const PLACEHOLDER_MACROS: &[&str] = &["todo", "unimplemented"];

/// The name of a function's first parameter, from the tokens between its name and its body
/// (`(op: &mut Op)` gives `op`); `None` when it has none or binds a pattern.
fn first_parameter(signature: &[TokenTree]) -> Option<String> {
    let Some(TokenTree::Group(parameters)) =
        signature.iter().find(|t| is_group(Some(t), Delimiter::Parenthesis))
    else {
        return None;
    };
    let tokens: Vec<TokenTree> = parameters.stream().into_iter().collect();
    let at = usize::from(is_ident(tokens.first(), "mut"));
    match (tokens.get(at), tokens.get(at + 1)) {
        (Some(TokenTree::Ident(name)), Some(TokenTree::Punct(colon)))
            if colon.as_char() == ':' && name != "_" =>
        {
            Some(name.to_string())
        }
        _ => None,
    }
}

/// Whether a function body records an operation on its parameter `op`: it calls a method on
/// `op` (`op.drop_table(…)`, `(*op).execute(…)`) or passes `op` on to a function or method
/// (`helper(op)`, `helper(&mut *op)`), which may record. Naming `op` in any other way records
/// nothing: `let _ = op;`, `op;`, `drop(op)`, `std::mem::forget(op)`, `println!("{op:?}")`;
/// comments are not tokens. A copy under another name (`let o = op; o.execute(…)`) is not
/// followed: such a body counts as empty.
pub(crate) fn records_on(tokens: &[TokenTree], op: &str) -> bool {
    tokens.iter().enumerate().any(|(i, token)| match token {
        TokenTree::Ident(ident) => ident == op && is_punct(tokens.get(i + 1), '.') && !is_punct(tokens.get(i + 2), '.'),
        TokenTree::Group(group) => {
            let inner: Vec<TokenTree> = group.stream().into_iter().collect();
            let names_op = inner.iter().any(|t| matches!(t, TokenTree::Ident(name) if name == op));
            let called = group.delimiter() == Delimiter::Parenthesis
                && matches!(i.checked_sub(1).map(|j| &tokens[j]), Some(TokenTree::Ident(f)) if f != "drop" && f != "forget");
            // `(*op).execute(…)`: the group is the receiver of a method call.
            let receiver = group.delimiter() == Delimiter::Parenthesis
                && matches!(inner.last(), Some(TokenTree::Ident(name)) if name == op)
                && is_punct(tokens.get(i + 1), '.');
            (names_op && (called || receiver)) || records_on(&inner, op)
        }
        _ => false,
    })
}

/// Records every placeholder macro call (`todo!(…)`, `unimplemented!(…)`) of the function
/// `function`, with its range from the macro's name to its arguments.
fn find_placeholders(tokens: &[TokenTree], function: &str, source: &mut ModuleSource, spans: &mut Spans) {
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(name)
                if PLACEHOLDER_MACROS.iter().any(|m| name == m) && is_punct(tokens.get(i + 1), '!') =>
            {
                let end = if matches!(tokens.get(i + 2), Some(TokenTree::Group(_))) { i + 2 } else { i + 1 };
                source
                    .placeholders
                    .push(Placeholder { function: function.to_owned(), name: name.to_string() });
                spans.placeholders.push(Range { start: name.span(), end: tokens[end].span() });
            }
            TokenTree::Group(group) => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                find_placeholders(&inner, function, source, spans);
            }
            _ => {}
        }
    }
}

/// Records the text and range of `tokens[from..to]`.
fn record_import(
    source: &mut ModuleSource,
    spans: &mut Spans,
    tokens: &[TokenTree],
    from: usize,
    to: usize,
    kind: ImportKind,
) {
    let slice = &tokens[from..to.max(from + 1).min(tokens.len())];
    let text: String = slice.iter().map(ToString::to_string).collect::<String>().split_whitespace().collect();
    let text = match kind {
        ImportKind::ExternCrate => text.replacen("externcrate", "extern crate ", 1),
        _ => text,
    };
    source.imports.push(Import { text, kind });
    spans.imports.push(Range::of(slice));
}

/// Checks the path whose first token is `from` and first segment `first`; records it when it
/// reaches outside the migration and returns the position after it (after the `!` of a macro,
/// so that its arguments are still walked); `None` when it is allowed.
fn check_path(
    tokens: &[TokenTree],
    from: usize,
    first: usize,
    scope: &Scope<'_>,
    source: &mut ModuleSource,
    spans: &mut Spans,
) -> Option<usize> {
    let end = path_end(tokens, first);
    let segments: Vec<String> = tokens[first..end]
        .iter()
        .filter_map(|t| match t {
            TokenTree::Ident(i) => Some(i.to_string()),
            _ => None,
        })
        .collect();
    let macro_call =
        is_punct(tokens.get(end), '!') && matches!(tokens.get(end + 1), Some(TokenTree::Group(_)));
    let leading = from != first;
    let allowed = if leading {
        segments.first().is_some_and(|c| STANDARD_CRATES.contains(&c.as_str()))
            || (segments.first().is_some_and(|c| c == "migrate_runtime")
                && segments.get(1).is_some_and(|s| s == "prelude"))
    } else {
        is_allowed_path(&segments, macro_call, scope)
    };
    if allowed && !(macro_call && segments.last().is_some_and(|s| s == "include_str")) {
        return None;
    }
    // A macro that reads a file or a setting is shown with what it reads.
    let reads = ["include", "include_bytes", "include_str", "env", "option_env"];
    let to = match segments.last() {
        Some(last) if macro_call && reads.contains(&last.as_str()) => end + 2,
        _ if macro_call => end + 1,
        _ => end,
    };
    record_import(source, spans, tokens, from, to, ImportKind::Path);
    Some(to)
}

/// The end of a path starting at `from`: identifiers joined by `::`.
fn path_end(tokens: &[TokenTree], from: usize) -> usize {
    let mut at = from + 1;
    while is_path_separator(tokens, at) && matches!(tokens.get(at + 2), Some(TokenTree::Ident(_))) {
        at += 3;
    }
    at
}

/// Records a text the migration carries.
fn push_text(source: &mut ModuleSource, spans: &mut Spans, value: String, carrier: Carrier, range: Range) {
    source.literals.push(crate::source::Literal { value, included: None, carrier });
    spans.literals.push(range);
}

/// What a module's paths may name besides the prelude and the standard library.
struct Scope<'a> {
    /// The items the module declares (at any depth) and the names its allowed `use`s bring.
    local: &'a [String],
}

/// The names of the items declared in `tokens` (`fn`, `const`, `struct`, `macro_rules!`, …)
/// and every name an allowed `use` brings, at any depth.
fn local_names(tokens: &[TokenTree], names: &mut Vec<String>) {
    const ITEMS: &[&str] = &["fn", "const", "static", "struct", "enum", "union", "type", "trait", "mod"];
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Ident(keyword) if ITEMS.iter().any(|k| keyword == k) => {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    names.push(name.to_string());
                }
            }
            TokenTree::Ident(keyword) if keyword == "macro_rules" && is_punct(tokens.get(i + 1), '!') => {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 2) {
                    names.push(name.to_string());
                }
            }
            TokenTree::Ident(keyword) if keyword == "use" => {
                let end =
                    (i + 1..tokens.len()).find(|&j| is_punct(tokens.get(j), ';')).unwrap_or(tokens.len());
                let tree = &tokens[i + 1..end];
                let text: String =
                    tree.iter().map(ToString::to_string).collect::<String>().split_whitespace().collect();
                if crate::rules::foreign_import::is_allowed_use(&text) {
                    let mut flat = Vec::new();
                    flatten_idents(tree, &mut flat);
                    names.extend(flat);
                }
            }
            TokenTree::Group(group) => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                local_names(&inner, names);
            }
            _ => {}
        }
    }
}

fn flatten_idents(tokens: &[TokenTree], out: &mut Vec<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Group(group) => {
                flatten_idents(&group.stream().into_iter().collect::<Vec<_>>(), out);
            }
            _ => {}
        }
    }
}

/// Whether a path whose segments are `segments` (the last one a macro's name when `macro_call`)
/// stays inside what a migration may use: the prelude, the module's own items, the standard
/// library (whose paths do not change), and `include_str!`. `include!`, `include_bytes!`,
/// `env!` and `option_env!` read files or settings outside the migration.
fn is_allowed_path(segments: &[String], macro_call: bool, scope: &Scope<'_>) -> bool {
    let Some(first) = segments.first().map(String::as_str) else {
        return true;
    };
    let last = segments.last().map_or("", String::as_str);
    if macro_call && ["include", "include_bytes", "env", "option_env"].contains(&last) {
        return false;
    }
    if macro_call && segments.len() == 1 {
        return STANDARD_MACROS.contains(&first) || scope.local.iter().any(|n| n == first);
    }
    match first {
        "self" | "Self" => true,
        "crate" | "super" => false,
        "migrate_runtime" => segments.get(1).is_some_and(|s| s == "prelude"),
        _ => {
            STANDARD_CRATES.contains(&first)
                || PRELUDE.contains(&first)
                || STANDARD_PRELUDE.contains(&first)
                || scope.local.iter().any(|n| n == first)
        }
    }
}

/// An `include_str!` argument naming a file beside the migration: a relative path that does
/// not climb out of the migrations folder.
fn is_beside(path: &str) -> bool {
    let path = path.replace('\\', "/");
    !path.is_empty() && !path.starts_with('/') && !path.contains(':') && !path.split('/').any(|c| c == "..")
}

/// The cells of a `bulk_insert(table, &[columns], rows)` call under credential-named columns,
/// recorded as `column = 'value'` under the value's literal.
fn bulk_insert_cells(arguments: &[TokenTree], source: &mut ModuleSource, spans: &mut Spans) {
    let parts = split_commas(arguments);
    let (Some(columns), Some(rows)) = (parts.get(1), parts.get(2)) else {
        return;
    };
    let mut names = Vec::new();
    strings_in(columns, &mut names);
    rows_of(rows, &names, source, spans);
}

fn strings_in(tokens: &[TokenTree], out: &mut Vec<String>) {
    for token in tokens {
        match token {
            TokenTree::Literal(literal) => out.extend(string_value(literal)),
            TokenTree::Group(group) => strings_in(&group.stream().into_iter().collect::<Vec<_>>(), out),
            _ => {}
        }
    }
}

fn rows_of(tokens: &[TokenTree], columns: &[String], source: &mut ModuleSource, spans: &mut Spans) {
    for token in tokens {
        let TokenTree::Group(group) = token else {
            continue;
        };
        let inner: Vec<TokenTree> = group.stream().into_iter().collect();
        if inner.iter().any(|t| is_group(Some(t), Delimiter::Bracket)) {
            rows_of(&inner, columns, source, spans);
        } else if group.delimiter() == Delimiter::Bracket {
            for (column, cell) in columns.iter().zip(split_commas(&inner)) {
                if let Some(TokenTree::Literal(literal)) = cell.first()
                    && is_credential_name(column)
                    && let Some((value, _)) = carried_text(literal)
                {
                    let text = format!("{column} = '{value}'");
                    push_text(source, spans, text, Carrier::Row, Range::token(literal.span()));
                }
            }
        }
    }
}

/// Walks a module's tokens in source order, recording imports, literals and method calls.
fn walk(tokens: &[TokenTree], scope: &Scope<'_>, source: &mut ModuleSource, spans: &mut Spans) {
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        // Attributes hold no code; doc comments are text the migration carries.
        if is_punct(Some(token), '#') {
            let bracket = if is_punct(tokens.get(i + 1), '!') { i + 2 } else { i + 1 };
            if let Some(TokenTree::Group(group)) = tokens.get(bracket)
                && group.delimiter() == Delimiter::Bracket
            {
                if let Some(doc) = doc_value(&group.stream()) {
                    push_text(
                        source,
                        spans,
                        doc,
                        Carrier::Doc,
                        Range { start: token.span(), end: group.span() },
                    );
                }
                i = bracket + 1;
                continue;
            }
        }
        let previous = i.checked_sub(1).map(|j| &tokens[j]);
        let inside_path = matches!(previous, Some(TokenTree::Punct(p)) if matches!(p.as_char(), '.' | '\''))
            || (i >= 2 && is_path_separator(tokens, i - 2));
        if is_ident(Some(token), "include_str")
            && !inside_path
            && is_punct(tokens.get(i + 1), '!')
            && let Some(TokenTree::Group(group)) = tokens.get(i + 2)
            && let [TokenTree::Literal(literal), rest @ ..] =
                group.stream().into_iter().collect::<Vec<_>>().as_slice()
            && rest.iter().all(|t| is_punct(Some(t), ','))
            && let Some(value) = string_value(literal)
            && is_beside(&value)
        {
            source.literals.push(crate::source::Literal {
                value: value.clone(),
                included: Some(Included { display: value, text: None }),
                carrier: Carrier::Str,
            });
            spans.literals.push(Range::token(literal.span()));
            i += 3;
            continue;
        }
        match token {
            TokenTree::Ident(ident) if ident == "use" => {
                let end =
                    (i + 1..tokens.len()).find(|&j| is_punct(tokens.get(j), ';')).unwrap_or(tokens.len());
                if end > i + 1 {
                    record_import(source, spans, tokens, i + 1, end, ImportKind::Use);
                }
                i = end + 1;
                continue;
            }
            TokenTree::Ident(ident) if ident == "extern" && is_ident(tokens.get(i + 1), "crate") => {
                let end =
                    (i + 2..tokens.len()).find(|&j| is_punct(tokens.get(j), ';')).unwrap_or(tokens.len());
                record_import(source, spans, tokens, i, end, ImportKind::ExternCrate);
                i = end + 1;
                continue;
            }
            TokenTree::Ident(ident)
                if ident == "concat"
                    && !inside_path
                    && is_punct(tokens.get(i + 1), '!')
                    && matches!(tokens.get(i + 2), Some(TokenTree::Group(_))) =>
            {
                if let Some(TokenTree::Group(group)) = tokens.get(i + 2) {
                    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                    let mut joined = String::new();
                    for part in &inner {
                        if let TokenTree::Literal(literal) = part {
                            match carried_text(literal) {
                                Some((value, _)) => joined.push_str(&value),
                                None => joined.push_str(literal.to_string().trim_matches('\'')),
                            }
                        }
                    }
                    push_text(source, spans, joined, Carrier::Concat, Range::of(&inner));
                    let rest: Vec<TokenTree> =
                        inner.into_iter().filter(|t| !matches!(t, TokenTree::Literal(_))).collect();
                    walk(&rest, scope, source, spans);
                }
                i += 3;
                continue;
            }
            // A path: `a::b…`, `::a::b…`, or a macro's `a!(…)`, `a::b!(…)`, starting here.
            TokenTree::Ident(ident)
                if !inside_path
                    && (is_path_separator(tokens, i + 1)
                        || (is_punct(tokens.get(i + 1), '!')
                            && matches!(tokens.get(i + 2), Some(TokenTree::Group(_)))
                            && !KEYWORDS.iter().any(|k| ident == k))) =>
            {
                if let Some(end) = check_path(tokens, i, i, scope, source, spans) {
                    i = end;
                    continue;
                }
            }
            TokenTree::Punct(p)
                if p.as_char() == ':'
                    && is_path_separator(tokens, i)
                    && !matches!(
                        previous,
                        Some(TokenTree::Ident(_) | TokenTree::Group(_) | TokenTree::Literal(_))
                    )
                    && !matches!(previous, Some(TokenTree::Punct(p)) if p.as_char() == '>' || p.as_char() == ':')
                    && matches!(tokens.get(i + 2), Some(TokenTree::Ident(_))) =>
            {
                if let Some(end) = check_path(tokens, i, i + 2, scope, source, spans) {
                    i = end;
                    continue;
                }
            }
            TokenTree::Punct(p) if p.as_char() == '.' => {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    source.method_calls.push(name.to_string());
                    if name == "bulk_insert"
                        && let Some(TokenTree::Group(arguments)) = tokens.get(i + 2)
                    {
                        let arguments: Vec<TokenTree> = arguments.stream().into_iter().collect();
                        bulk_insert_cells(&arguments, source, spans);
                    }
                }
            }
            TokenTree::Literal(literal) => {
                if let Some((value, carrier)) = carried_text(literal) {
                    push_text(source, spans, value, carrier, Range::token(literal.span()));
                }
            }
            TokenTree::Group(group) => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                walk(&inner, scope, source, spans);
            }
            _ => {}
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Carrier, ImportKind};

    const MIGRATION: &str = r#"
/// Marketing needs a score per person to rank leads.
#[migration(rev = "3f2a9c1b7d4e", down_revision = "a1b2c3d4e5f6")]
mod add_lead_scores_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("lead_scores", |t| {
            /// A doc comment inside is not a literal.
            t.column("id", Type::BigSerial).primary_key();
        });
        op.execute(include_str!("sql/backfill.sql"));
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("lead_scores");
    }
}
"#;

    #[test]
    fn a_migration_file_reads_into_the_model() {
        let file = parse_file(MIGRATION).expect("parses");
        assert!(file.stray_items.is_empty());
        let module = &file.modules[0];
        let source = &module.source;
        assert_eq!(source.name, "add_lead_scores_table");
        assert_eq!(source.rev.as_deref(), Some("3f2a9c1b7d4e"));
        assert_eq!(source.down_revision, DownRevision::One("a1b2c3d4e5f6".into()));
        assert_eq!(source.arguments, ["rev", "down_revision"]);
        assert_eq!(source.why(), "Marketing needs a score per person to rank leads.");
        assert_eq!(source.syntax_error, None);
        assert_eq!(
            source.imports,
            [Import { text: "migrate_runtime::prelude::*".into(), kind: ImportKind::Use }]
        );
        let literals: Vec<(&str, Carrier)> =
            source.literals.iter().map(|l| (l.value.as_str(), l.carrier)).collect();
        assert_eq!(
            literals,
            [
                (" Marketing needs a score per person to rank leads.", Carrier::Doc),
                ("lead_scores", Carrier::Str),
                (" A doc comment inside is not a literal.", Carrier::Doc),
                ("id", Carrier::Str),
                ("sql/backfill.sql", Carrier::Str),
                ("lead_scores", Carrier::Str)
            ]
        );
        assert!(source.literals[4].included.is_some());
        assert_eq!(
            source.functions.iter().map(|f| (f.name.as_str(), f.empty)).collect::<Vec<_>>(),
            [("upgrade", false), ("downgrade", false)]
        );
        assert!(source.method_calls.contains(&"primary_key".to_owned()));
        assert!(source.is_transactional());

        // Spans carry lines and columns outside a macro.
        assert_eq!(module.spans.rev.map(|r| r.line_column()), Some((3, 19)));
        assert_eq!(module.spans.down.first().map(|r| r.line_column()), Some((3, 51)));
        assert_eq!(module.spans.module.line_column(), (4, 5));
        assert_eq!(module.spans.literals[3].line_column(), (10, 22));
        assert_eq!(module.spans.functions[1].line_column(), (15, 12));
        assert_eq!(module.spans.attribute.line_column(), (3, 1));
    }

    #[test]
    fn string_literals_are_decoded() {
        let cases = [
            (r#""plain""#, Some("plain")),
            (r#""it's \"quoted\"\n\t\\ \x41 \u{e9}""#, Some("it's \"quoted\"\n\t\\ A é")),
            ("\"line \\\n      continued\"", Some("line continued")),
            (r###"r#"raw "with" \n"#"###, Some(r#"raw "with" \n"#)),
            (r#"r"raw""#, Some("raw")),
            (r#"b"bytes""#, None),
            ("'c'", None),
            ("12", None),
        ];
        for (text, expected) in cases {
            let literal: Literal = match TokenStream::from_str(text).expect("lexes").into_iter().next() {
                Some(TokenTree::Literal(l)) => l,
                other => panic!("{text}: {other:?}"),
            };
            assert_eq!(string_value(&literal).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn imports_and_paths_that_reach_outside() {
        let text = r#"
            #[migration(rev = "3f2a9c1b7d4e")]
            mod add_users_table {
                use crate::models::{User, Role};
                extern crate serde;
                pub fn upgrade(op: &mut Op) {
                    let t = crate::models::TABLE;
                    let v = ::serde_json::json!({});
                    let s = ::std::string::String::new();
                    let u = Vec::<u8>::new();
                    let w = super::super::secrets::KEY;
                }
            }
        "#;
        let file = parse_file(text).expect("parses");
        let imports: Vec<(String, ImportKind)> =
            file.modules[0].source.imports.iter().map(|i| (i.text.clone(), i.kind)).collect();
        assert_eq!(
            imports,
            [
                ("crate::models::{User,Role}".to_owned(), ImportKind::Use),
                ("extern crate serde".to_owned(), ImportKind::ExternCrate),
                ("crate::models::TABLE".to_owned(), ImportKind::Path),
                ("::serde_json::json!".to_owned(), ImportKind::Path),
                ("super::super::secrets::KEY".to_owned(), ImportKind::Path),
            ]
        );
    }

    /// What a path in code, a type or a macro may start with: the prelude, the module's own
    /// items, the standard library; anything else is reported under itself.
    #[test]
    fn every_path_outside_the_module_is_reported() {
        let reported = |body: &str| {
            let text = format!(
                "#[migration(rev = \"a\")] mod add_users_table {{ use migrate_runtime::prelude::*; use std::collections::BTreeMap; {body} }}"
            );
            let file = parse_file(&text).expect("parses");
            file.modules[0].source.imports.iter().skip(2).map(|i| i.text.clone()).collect::<Vec<_>>()
        };
        let allowed = [
            "fn upgrade(op: &mut Op) { op.add_column(\"t\", \"c\", Type::Text).server_default(sql(\"now()\")); }",
            "fn f() { let _ = Duration::from_secs(1); let _ = Value::Null; let _ = Action::Cascade; }",
            "fn f() { let _ = String::from(\"x\"); let _ = Vec::<u8>::new(); let _ = i64::MAX; let _: Option<u8> = Option::None; }",
            "fn f() { let _ = std::time::Duration::ZERO; let _ = ::core::mem::size_of::<u8>(); let _ = BTreeMap::<u8, u8>::new(); }",
            "fn f() { let _ = format!(\"{}\", 1); let _ = vec![1]; assert!(true); if !(1 > 2) {} }",
            "const TABLE: &str = \"t\"; fn f() { let _ = self::TABLE; helpers::g(); } mod helpers { pub fn g() {} }",
            "enum Kind { A } fn f() -> Kind { Kind::A } fn g(x: Self::T) {}",
            "macro_rules! table { () => { \"t\" } } fn f() { let _ = table!(); }",
            "fn f() { let _ = include_str!(\"sql/backfill.sql\"); let _ = migrate_runtime::prelude::Type::Text; }",
            "fn f<'a>(x: &'a str) { let _ = x.len(); let _ = x.parse::<u8>(); let _ = <u8 as Default>::default(); }",
        ];
        for body in allowed {
            assert_eq!(reported(body), Vec::<String>::new(), "{body}");
        }
        let cases = [
            ("fn f() { let _ = serde_json::json!({}); }", "serde_json::json!"),
            ("fn f() { let _ = my_app::models::TABLE; }", "my_app::models::TABLE"),
            (
                "fn f(op: &mut Op) { super::add_people_table::upgrade(op); }",
                "super::add_people_table::upgrade",
            ),
            ("fn f() { include!(\"../src/models.rs\"); }", "include!(\"../src/models.rs\")"),
            ("fn f() { let _ = include_bytes!(\"data.bin\"); }", "include_bytes!(\"data.bin\")"),
            ("fn f() { let _ = env!(\"TABLE\"); }", "env!(\"TABLE\")"),
            ("fn f() { std::include!(\"../src/models.rs\"); }", "std::include!(\"../src/models.rs\")"),
            ("fn f() { let _ = core::option_env!(\"TABLE\"); }", "core::option_env!(\"TABLE\")"),
            (
                "fn f() { let _ = include_str!(\"../../src/schema.sql\"); }",
                "include_str!(\"../../src/schema.sql\")",
            ),
            ("fn f() { let _ = include_str!(\"/etc/schema.sql\"); }", "include_str!(\"/etc/schema.sql\")"),
            ("fn f() { let _ = json!({}); }", "json!"),
            ("fn f(x: my_app::User) {}", "my_app::User"),
            ("fn f() -> Vec<models::User> { Vec::new() }", "models::User"),
            ("fn f() { let _ = migrate_runtime::Migrator::new; }", "migrate_runtime::Migrator::new"),
            ("fn f() { let _ = ::my_app::TABLE; }", "::my_app::TABLE"),
            ("fn f() { let _ = crate::TABLE; }", "crate::TABLE"),
        ];
        for (body, expected) in cases {
            assert_eq!(reported(body), [expected], "{body}");
        }
    }

    #[test]
    fn attribute_forms_and_errors() {
        let read = |attr: &str| {
            let text = format!("#[migration({attr})] mod add_users_table {{}}");
            parse_file(&text).expect("parses").modules.remove(0).source
        };
        assert_eq!(read(r#"rev = "a", down_revision = None"#).down_revision, DownRevision::None);
        assert_eq!(read(r#"rev = "a""#).down_revision, DownRevision::Absent);
        assert_eq!(read(r#"rev = "a","#).syntax_error, None);
        assert_eq!(
            read(r#"rev = "a", down_revision = ["b", "c",]"#).down_revision,
            DownRevision::Many(vec!["b".into(), "c".into()])
        );
        assert_eq!(read(r#"rev = "a", transactional = false"#).transactional, Some(false));
        assert!(!read(r#"rev = "a", transactional = false"#).is_transactional());
        let unknown = read(r#"rev = "a", down_revison = "b""#);
        assert_eq!(unknown.arguments, ["rev", "down_revison"]);
        assert_eq!(unknown.syntax_error, None);
        for bad in [
            "",
            "rev = 12",
            r#"rev = "a", rev = "b""#,
            r#"rev = "a", down_revision = ("b", "c")"#,
            r#"rev = "a", down_revision = [b, "c"]"#,
            r#"rev = "a", down_revision"#,
            r#"rev = "a", transactional = "no""#,
            r#"rev = "a" down_revision = "b""#,
            r#"rev = "a",, down_revision = None"#,
            r#""a""#,
        ] {
            assert!(read(bad).syntax_error.is_some(), "{bad}");
        }
        // `squashes`: a checksum, on a baseline only.
        let sum = "0123456789abcdef".repeat(4);
        let baseline = read(&format!(r#"rev = "a", down_revision = None, squashes = "{sum}""#));
        assert_eq!((baseline.squashes.as_deref(), baseline.syntax_error), (Some(sum.as_str()), None));
        let later = read(&format!(r#"rev = "a", squashes = "{sum}", down_revision = "b""#));
        assert!(
            later.syntax_error.as_deref().is_some_and(|e| e.contains("no down revision")),
            "{:?}",
            later.syntax_error
        );
        for bad in ["\"abc\"", &format!("\"{}\"", sum.to_uppercase()), "12"] {
            assert!(read(&format!("rev = \"a\", squashes = {bad}")).syntax_error.is_some(), "{bad}");
        }
    }

    #[test]
    fn items_of_a_file() {
        let text = "#![allow(dead_code)]\n#[migration(rev = \"a\")]\npub(crate) mod add_users_table {}\n\nfn helper() {}\nconst X: S = S { a: 1 };\nstruct T(u8);\nimpl T {}\nmacro_rules! m { () => {} }\nm!();\nfn f<T>() where T: I<O = u8> + Clone {}\n#[migration(rev = \"b\")]\nmod add_roles_table;\n";
        let file = parse_file(text).expect("parses");
        let described: Vec<(&str, usize)> =
            file.stray_items.iter().map(|s| (s.description.as_str(), s.line)).collect();
        assert_eq!(
            described,
            [
                ("#![…] inner attribute", 1),
                ("fn helper", 5),
                ("const X", 6),
                ("struct T", 7),
                ("impl", 8),
                ("macro_rules! m", 9),
                ("m!", 10),
                ("fn f", 11)
            ]
        );
        let modules: Vec<(&str, bool)> =
            file.modules.iter().map(|m| (m.source.name.as_str(), m.source.syntax_error.is_some())).collect();
        assert_eq!(modules, [("add_users_table", false), ("add_roles_table", true)]);
    }

    #[test]
    fn a_body_records_when_it_calls_a_method_on_op_or_passes_op_on() {
        let empty = |body: &str| {
            let text = format!(
                "#[migration(rev = \"a\")] mod add_users_table {{ pub fn upgrade(op: &mut Op) {{ {body}\n }} }}"
            );
            parse_file(&text).expect("parses").modules[0].source.functions[0].empty
        };
        let cases = [
            ("", true),
            ("// only a comment: op.drop_table(\"x\");", true),
            ("/* op.drop_table(\"x\") */", true),
            ("let _ = op;", true),
            ("op;", true),
            ("drop(op);", true),
            ("std::mem::drop(op);", true),
            ("std::mem::forget(op);", true),
            ("println!(\"{:?}\", op);", true),
            ("let _ = \"op.drop_table\";", true),
            ("let other = 1; other.max(2);", true),
            ("let o = op; o.drop_table(\"x\");", true),
            ("op.drop_table(\"people\");", false),
            ("if true { op.execute(\"SELECT 1\"); }", false),
            ("(*op).drop_table(\"people\");", false),
            ("helper(op);", false),
            ("helper(&mut *op, 2);", false),
            ("self::tables::create(op);", false),
            ("op.irreversible(\"the data is gone\");", false),
        ];
        for (body, expected) in cases {
            assert_eq!(empty(body), expected, "{body}");
        }
        // The parameter's own name counts, whatever it is; `_` and `_op` bodies record nothing.
        let named = |signature: &str, body: &str| {
            let text = format!(
                "#[migration(rev = \"a\")] mod add_users_table {{ pub fn upgrade{signature} {{ {body} }} }}"
            );
            parse_file(&text).expect("parses").modules[0].source.functions[0].empty
        };
        assert!(!named("(ops: &mut Op)", "ops.drop_table(\"x\");"));
        assert!(named("(ops: &mut Op)", "op.drop_table(\"x\");"));
        assert!(named("(_op: &mut Op)", ""));
        assert!(named("(_: &mut Op)", ""));
        assert!(named("()", "helper();"));
    }

    #[test]
    fn placeholders_are_found_in_each_function() {
        let text = r#"#[migration(rev = "a")] mod add_users_table {
            pub fn upgrade(op: &mut Op) { todo!("record the change") }
            pub fn downgrade(op: &mut Op) { if true { unimplemented!() } }
        }"#;
        let module = parse_file(text).expect("parses").modules.remove(0);
        let found: Vec<(&str, &str)> =
            module.source.placeholders.iter().map(|p| (p.function.as_str(), p.name.as_str())).collect();
        assert_eq!(found, [("upgrade", "todo"), ("downgrade", "unimplemented")]);
        assert_eq!(module.spans.placeholders[0].line_column(), (2, 43));
        assert_eq!(module.spans.placeholders[0].end_line_column(), (2, 69));
        assert!(module.source.functions.iter().all(|f| f.empty));
    }

    #[test]
    fn text_that_is_not_rust_tokens() {
        let error = parse_file("mod x {\n  \"unclosed\n}").expect_err("does not lex");
        assert_eq!(error.line, 2);
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_reported_not_walked() {
        let module = |depth: usize| {
            format!(
                "#[migration(rev = \"a\")]\nmod add_users_table {{ pub fn upgrade(op: &mut Op) {{ op.execute({}0{}); }} }}",
                "(".repeat(depth),
                ")".repeat(depth)
            )
        };
        // The module's body and the function's body are two levels, the call's parentheses one.
        let fits = parse_file(&module(MAX_DEPTH - 3)).expect("lexes");
        assert_eq!(fits.too_deep.map(|r| r.line_column()), None);
        assert_eq!(fits.modules[0].source.syntax_error, None);
        for depth in [MAX_DEPTH - 2, 1_300, 100_000] {
            let deep = parse_file(&module(depth)).expect("lexes");
            let column =
                "#[migration(rev = \"a\")]\nmod add_users_table { pub fn upgrade(op: &mut Op) { op.execute("
                    .len()
                    - "#[migration(rev = \"a\")]\n".len()
                    + MAX_DEPTH
                    - 2;
            assert_eq!(deep.too_deep.map(|r| r.line_column()), Some((2, column)), "{depth}");
            let source = &deep.modules[0].source;
            assert_eq!(source.syntax_error.as_deref(), Some(too_deep_message().as_str()));
            assert!(source.functions.is_empty() && source.literals.is_empty());
        }
        assert!(too_deep_message().contains("more than 128 levels"));
    }

    #[test]
    fn the_fast_path_finds_the_name_and_body() {
        let item =
            TokenStream::from_str("/// why\npub mod add_users_table { fn upgrade() {} }").expect("lexes");
        let (name, body) = module_name_and_body(&item).expect("a module");
        assert_eq!(name, "add_users_table");
        assert_eq!(body, Some(5));
        assert!(module_name_and_body(&TokenStream::from_str("fn x() {}").expect("lexes")).is_none());
    }

    #[test]
    fn non_transactional_operations_are_inferred() {
        let text = r#"#[migration(rev = "a")] mod add_interactions_index { pub fn upgrade(op: &mut Op) {
            op.create_index("i", "t", &["a"]).concurrently(); } }"#;
        assert!(!parse_file(text).expect("parses").modules[0].source.is_transactional());
        let text = r#"#[migration(rev = "a")] mod vacuum_interactions_table { pub fn upgrade(op: &mut Op) {
            op.execute("VACUUM interactions"); } }"#;
        assert!(!parse_file(text).expect("parses").modules[0].source.is_transactional());
    }

    /// The seal's sum of the first migration of `text`, its included files read from `files`.
    fn sum_of(text: &str, files: &[(&str, &str)]) -> String {
        let parsed = parse_file_with_meaning(text).expect("parses");
        let meaning = parsed.modules[0].meaning.clone().expect("read whole");
        meaning.sum(|path| files.iter().find(|(p, _)| *p == path).map(|(_, t)| (*t).to_owned()))
    }

    const SEALED: &str = r#"/// Notes need a table.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_notes_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("notes", |t| {
            t.column("id", Type::BigSerial).primary_key();
        });
        op.execute(include_str!("sql/notes.sql"));
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("notes");
    }
}
"#;

    #[test]
    fn the_seal_sums_meaning_not_form() {
        let files = [("sql/notes.sql", "INSERT INTO notes DEFAULT VALUES;\n")];
        let sealed = sum_of(SEALED, &files);
        let same = |edited: &str| assert_eq!(sum_of(edited, &files), sealed, "{edited}");
        let changed = |edited: &str| assert_ne!(sum_of(edited, &files), sealed, "{edited}");
        // Formatting, comments, the doc comment, line endings, how a string is written.
        same(&SEALED.replace("    ", "\t").replace("(op: &mut Op)", "( op : &mut Op )"));
        same(&SEALED.replace("primary_key();\n        });", "primary_key();\n        },);"));
        same(
            &SEALED.replace("/// Notes need a table.", "/// Notes need a table, said the team.\n// reviewed"),
        );
        same(&SEALED.replace("op.drop_table", "// a comment\n        op.drop_table"));
        same(&SEALED.replace('\n', "\r\n"));
        same(&SEALED.replace(r#"op.create_table("notes""#, r##"op.create_table(r#"notes"#"##));
        same(&SEALED.replace(r#""notes", |t|"#, r#""\x6eotes", |t|"#));
        assert_eq!(sum_of(SEALED, &[("sql/notes.sql", "INSERT INTO notes DEFAULT VALUES;\r\n")]), sealed);
        // What it runs: a name, a type, a call, an attribute argument, an included file.
        changed(&SEALED.replace(r#"create_table("notes""#, r#"create_table("note""#));
        changed(&SEALED.replace("BigSerial", "Serial"));
        changed(&SEALED.replace(".primary_key()", ".unique()"));
        changed(&SEALED.replace(
            r#"down_revision = "a1b2c3d4e5f6")"#,
            r#"down_revision = "a1b2c3d4e5f6", transactional = false)"#,
        ));
        changed(&SEALED.replace("sql/notes.sql", "sql/notes2.sql"));
        assert_ne!(sum_of(SEALED, &[("sql/notes.sql", "INSERT INTO notes (id) VALUES (1);\n")]), sealed);
        // Kept apart or left to be corrected: the parents, the module's name, the downgrade.
        same(&SEALED.replace(r#"down_revision = "a1b2c3d4e5f6""#, r#"down_revision = "c3d4e5f6a1b2""#));
        same(&SEALED.replace("mod add_notes_table", "mod add_notes"));
        // An override changes what the rules judge, not what runs.
        same(&SEALED.replace(
            r#"down_revision = "a1b2c3d4e5f6")"#,
            r#"down_revision = "a1b2c3d4e5f6", allow(blocking_index = "small"))"#,
        ));
        same(&SEALED.replace(r#"op.drop_table("notes");"#, r#"op.drop_table("notes").cascade();"#));
        // Unless the upgrade runs it.
        let calling =
            SEALED.replace("op.execute(include_str!", "downgrade(op);\n        op.execute(include_str!");
        assert_ne!(
            sum_of(
                &calling.replace(r#"op.drop_table("notes");"#, r#"op.drop_table("notes").cascade();"#),
                &files
            ),
            sum_of(&calling, &files)
        );
    }

    #[test]
    fn a_line_continuation_decodes_with_either_line_ending() {
        let lf = parse_file(
            "#[migration(rev = \"a\")] mod m { fn upgrade(op: &mut Op) { op.execute(\"a \\\n  b\"); } }",
        )
        .expect("parses");
        let crlf = parse_file(
            "#[migration(rev = \"a\")] mod m { fn upgrade(op: &mut Op) { op.execute(\"a \\\r\n  b\"); } }",
        )
        .expect("parses");
        assert_eq!(lf.modules[0].source.literals[0].value, "a b");
        assert_eq!(crlf.modules[0].source.literals[0].value, "a b");
    }

    #[test]
    fn comments_are_found_outside_strings_characters_and_doc_comments() {
        let text = "/// doc // not a comment\n//! inner doc\nmod m { // one\n    // two, same run\n\n    /* three /* nested */ still */\n    fn f() { let a = \"// no\"; let b = r#\"/* no \"# ; let c = '\"'; let d: &'static str = \"\\\" // no\"; }\n    /** doc */ /*** not doc */ //// not doc\n    let e = br\"// no\"; let f = '\\''; // four\n}\n";
        let found: Vec<(String, usize)> = comments(text);
        let expected = [
            // Comments with only whitespace between are one run, as they stand between two tokens.
            ("// one\n    // two, same run\n\n    /* three /* nested */ still */".to_owned(), 3),
            ("/*** not doc */ //// not doc".to_owned(), 8),
            ("// four".to_owned(), 9),
        ];
        assert_eq!(found, expected);
    }
}
