//! Reading migration source with syn (feature `syntax`).
//!
//! The same functions serve build-support, which parses whole files, and the macro, which
//! receives one module's tokens: both walk the module's tokens in the same order, so the
//! n-th literal or import means the same token to both, and a diagnostic recorded by
//! build-support lands under the right token when the macro reports it.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Item, ItemMod, Lit, Meta, Token};

use crate::diagnostic::Locator;
use crate::source::{DownRevision, Function, Import, ImportKind, Included, Literal, ModuleSource, StrayItem};

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

    /// The range from the first to the last token of `tokens` (the call site when empty).
    pub fn of(tokens: impl ToTokens) -> Range {
        let mut iter = tokens.into_token_stream().into_iter();
        let Some(first) = iter.next() else {
            return Range::token(Span::call_site());
        };
        let last = iter.last().unwrap_or_else(|| first.clone());
        Range { start: first.span(), end: last.span() }
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
}

impl Spans {
    /// The range a locator points at, if the module has that token. File-level locators
    /// (stray items) have no range here.
    pub fn locate(&self, locator: &Locator) -> Option<Range> {
        match locator {
            Locator::Attribute => Some(self.attribute),
            Locator::Revision => self.rev,
            Locator::DownRevisionValue => self.down_value.or(self.rev),
            Locator::DownRevision(i) => self.down.get(*i).copied(),
            Locator::Argument(i) => self.arguments.get(*i).copied(),
            Locator::Module => Some(self.module),
            Locator::Import(i) => self.imports.get(*i).copied(),
            Locator::Literal(i) => self.literals.get(*i).copied(),
            Locator::Function(i) => self.functions.get(*i).copied(),
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
}

/// A migration file: its `#[migration]` modules and everything else.
#[derive(Clone, Debug)]
pub struct ParsedFile {
    /// The `#[migration]` modules, in source order.
    pub modules: Vec<ParsedModule>,
    /// Items outside them.
    pub stray_items: Vec<StrayItem>,
}

/// Crates a leading `::path` may name without reaching into the application.
const STANDARD_CRATES: &[&str] = &["std", "core", "alloc", "migrate_runtime"];

/// Whether an attribute is `#[migration(...)]` (or `#[migrate_runtime::migration(...)]`).
pub fn is_migration_attribute(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == "migration")
}

/// Parses a whole migration file.
pub fn parse_file(text: &str) -> syn::Result<ParsedFile> {
    let file = syn::parse_file(text)?;
    let mut parsed = ParsedFile { modules: Vec::new(), stray_items: Vec::new() };
    for attr in &file.attrs {
        let (line, column) = Range::of(attr).line_column();
        parsed.stray_items.push(StrayItem { description: "#![…] inner attribute".into(), line, column });
    }
    for item in file.items {
        match item {
            Item::Mod(mut module) if module.attrs.iter().any(is_migration_attribute) => {
                let position = module.attrs.iter().position(is_migration_attribute).unwrap_or(0);
                let attr = module.attrs.remove(position);
                let attribute = Range::of(&attr);
                let args = match attr.meta {
                    Meta::List(list) => list.tokens,
                    _ => TokenStream::new(),
                };
                parsed.modules.push(parse_module(args, &module, attribute));
            }
            other => {
                let (line, column) = Range::of(&other).line_column();
                parsed.stray_items.push(StrayItem { description: describe(&other), line, column });
            }
        }
    }
    Ok(parsed)
}

/// How a user would name an item: `fn helper`, `struct User`, `use`.
fn describe(item: &Item) -> String {
    match item {
        Item::Const(i) => format!("const {}", i.ident),
        Item::Enum(i) => format!("enum {}", i.ident),
        Item::ExternCrate(i) => format!("extern crate {}", i.ident),
        Item::Fn(i) => format!("fn {}", i.sig.ident),
        Item::Impl(_) => "impl".into(),
        Item::Macro(i) => match i.mac.path.get_ident() {
            Some(name) => format!("{name}!"),
            None => "macro invocation".into(),
        },
        Item::Mod(i) => format!("mod {}", i.ident),
        Item::Static(i) => format!("static {}", i.ident),
        Item::Struct(i) => format!("struct {}", i.ident),
        Item::Trait(i) => format!("trait {}", i.ident),
        Item::Type(i) => format!("type {}", i.ident),
        Item::Union(i) => format!("union {}", i.ident),
        Item::Use(_) => "use".into(),
        _ => "item".into(),
    }
}

/// Reads a `#[migration]` module: the attribute's arguments `args`, the module (without the
/// `#[migration]` attribute itself), and the attribute's range for errors about it as a whole.
///
/// Never fails: a syntax error is recorded in the model (`syntax_error`) with its range, for
/// the macro to report, and the rest is read as far as possible.
pub fn parse_module(args: TokenStream, module: &ItemMod, attribute: Range) -> ParsedModule {
    let mut source = ModuleSource { name: module.ident.to_string(), ..ModuleSource::default() };
    let mut spans = Spans {
        attribute,
        syntax_error: None,
        rev: None,
        down_value: None,
        down: Vec::new(),
        arguments: Vec::new(),
        module: Range::token(module.ident.span()),
        imports: Vec::new(),
        literals: Vec::new(),
        functions: Vec::new(),
    };
    let mut error = None;
    read_arguments(args, &mut source, &mut spans, &mut error);

    for attr in &module.attrs {
        if let Meta::NameValue(nv) = &attr.meta
            && nv.path.is_ident("doc")
            && let Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) = &nv.value
        {
            source.doc.push(s.value());
        }
    }

    match &module.content {
        None => first_error(
            &mut error,
            Range::of(module),
            format!("migration module `{}` needs a body: `mod {} {{ … }}`", module.ident, module.ident),
        ),
        Some((_, items)) => {
            for item in items {
                if let Item::Fn(function) = item {
                    source.functions.push(Function {
                        name: function.sig.ident.to_string(),
                        empty: function.block.stmts.is_empty(),
                    });
                    spans.functions.push(Range::token(function.sig.ident.span()));
                }
                walk(item.to_token_stream(), &mut source, &mut spans);
            }
        }
    }
    if let Some((range, message)) = error {
        source.syntax_error = Some(message);
        spans.syntax_error = Some(range);
    }
    ParsedModule { source, spans }
}

/// Keeps the first syntax error: the later ones are often its consequences.
fn first_error(slot: &mut Option<(Range, String)>, range: Range, message: String) {
    if slot.is_none() {
        *slot = Some((range, message));
    }
}

fn read_arguments(
    args: TokenStream,
    source: &mut ModuleSource,
    spans: &mut Spans,
    error: &mut Option<(Range, String)>,
) {
    let mut fail = |range: Range, message: String| first_error(error, range, message);
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(e) => {
            fail(Range::token(e.span()), format!("cannot read `#[migration(...)]`: {e}"));
            return;
        }
    };
    let mut seen = Vec::new();
    for meta in &metas {
        let path = meta.path();
        let name = path.to_token_stream().to_string().replace(' ', "");
        source.arguments.push(name.clone());
        spans.arguments.push(Range::of(path));
        if seen.contains(&name) {
            fail(Range::of(path), format!("argument `{name}` is given twice"));
            continue;
        }
        seen.push(name.clone());
        let value = match meta {
            Meta::NameValue(nv) => Some(&nv.value),
            _ => None,
        };
        match (name.as_str(), value) {
            ("rev", Some(Expr::Lit(ExprLit { lit: Lit::Str(s), .. }))) => {
                source.rev = Some(s.value());
                spans.rev = Some(Range::token(s.span()));
            }
            ("rev", _) => fail(
                Range::of(meta),
                "`rev` takes a string literal: `rev = \"3f2a9c1b7d4e\"`".to_owned(),
            ),
            ("down_revision", Some(value)) => match read_down_revision(value) {
                Some((down, ranges)) => {
                    source.down_revision = down;
                    spans.down_value = Some(Range::of(value));
                    spans.down = ranges;
                }
                None => fail(
                    Range::of(value),
                    "`down_revision` takes `None`, a string literal, or a list of string literals for a merge"
                        .to_owned(),
                ),
            },
            ("down_revision", None) => fail(
                Range::of(meta),
                "`down_revision` needs a value: `None`, `\"<parent>\"` or `[\"<parent>\", \"<parent>\"]`".to_owned(),
            ),
            ("transactional", Some(Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }))) => {
                source.transactional = Some(b.value);
            }
            ("transactional", _) => fail(
                Range::of(meta),
                "`transactional` takes `true` or `false`".to_owned(),
            ),
            // Unknown arguments are a rule of their own (`unknown_argument`), not a syntax error.
            _ => {}
        }
    }
    if source.rev.is_none() {
        fail(
            spans.attribute,
            "`#[migration]` needs the revision id: `#[migration(rev = \"…\", down_revision = …)]`".to_owned(),
        );
    }
}

fn read_down_revision(value: &Expr) -> Option<(DownRevision, Vec<Range>)> {
    match value {
        Expr::Path(path) if path.path.is_ident("None") => Some((DownRevision::None, Vec::new())),
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => {
            Some((DownRevision::One(s.value()), vec![Range::token(s.span())]))
        }
        Expr::Array(array) => {
            let mut parents = Vec::new();
            let mut ranges = Vec::new();
            for element in &array.elems {
                let Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) = element else {
                    return None;
                };
                parents.push(s.value());
                ranges.push(Range::token(s.span()));
            }
            Some((DownRevision::Many(parents), ranges))
        }
        _ => None,
    }
}

fn is_punct(token: Option<&TokenTree>, c: char) -> bool {
    matches!(token, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn is_ident(token: Option<&TokenTree>, name: &str) -> bool {
    matches!(token, Some(TokenTree::Ident(i)) if i == name)
}

fn is_path_separator(tokens: &[TokenTree], at: usize) -> bool {
    is_punct(tokens.get(at), ':') && is_punct(tokens.get(at + 1), ':')
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
    spans.imports.push(Range { start: slice[0].span(), end: slice[slice.len() - 1].span() });
}

/// The end of a path starting at `from`: identifiers joined by `::`.
fn path_end(tokens: &[TokenTree], from: usize) -> usize {
    let mut at = from + 1;
    while is_path_separator(tokens, at) && matches!(tokens.get(at + 2), Some(TokenTree::Ident(_))) {
        at += 3;
    }
    at
}

/// Walks a module's tokens in source order, recording imports, literals and method calls.
fn walk(stream: TokenStream, source: &mut ModuleSource, spans: &mut Spans) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        // Attributes (doc comments included) hold no code.
        if is_punct(Some(token), '#') {
            let bracket = if is_punct(tokens.get(i + 1), '!') { i + 2 } else { i + 1 };
            if matches!(tokens.get(bracket), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket)
            {
                i = bracket + 1;
                continue;
            }
        }
        match token {
            TokenTree::Ident(ident) if ident == "use" => {
                let end =
                    (i + 1..tokens.len()).find(|&j| is_punct(tokens.get(j), ';')).unwrap_or(tokens.len());
                if end > i + 1 {
                    record_import(source, spans, &tokens, i + 1, end, ImportKind::Use);
                }
                i = end + 1;
                continue;
            }
            TokenTree::Ident(ident) if ident == "extern" && is_ident(tokens.get(i + 1), "crate") => {
                let end =
                    (i + 2..tokens.len()).find(|&j| is_punct(tokens.get(j), ';')).unwrap_or(tokens.len());
                record_import(source, spans, &tokens, i, end, ImportKind::ExternCrate);
                i = end + 1;
                continue;
            }
            TokenTree::Ident(ident) if ident == "crate" && is_path_separator(&tokens, i + 1) => {
                let end = path_end(&tokens, i);
                record_import(source, spans, &tokens, i, end, ImportKind::Path);
                i = end;
                continue;
            }
            TokenTree::Ident(ident)
                if ident == "super"
                    && is_path_separator(&tokens, i + 1)
                    && is_ident(tokens.get(i + 3), "super") =>
            {
                let end = path_end(&tokens, i);
                record_import(source, spans, &tokens, i, end, ImportKind::Path);
                i = end;
                continue;
            }
            TokenTree::Punct(p) if p.as_char() == ':' && is_path_separator(&tokens, i) => {
                let leading = match i.checked_sub(1).map(|j| &tokens[j]) {
                    None => true,
                    Some(TokenTree::Ident(_)) => false,
                    Some(TokenTree::Punct(p)) => p.as_char() != '>' && p.as_char() != ':',
                    Some(TokenTree::Group(_) | TokenTree::Literal(_)) => false,
                };
                if let (true, Some(TokenTree::Ident(name))) = (leading, tokens.get(i + 2))
                    && !STANDARD_CRATES.iter().any(|c| name == c)
                {
                    let end = path_end(&tokens, i + 2);
                    record_import(source, spans, &tokens, i, end, ImportKind::Path);
                    i = end;
                    continue;
                }
            }
            TokenTree::Ident(ident) if ident == "include_str" && is_punct(tokens.get(i + 1), '!') => {
                if let Some(TokenTree::Group(group)) = tokens.get(i + 2)
                    && let Some(TokenTree::Literal(lit)) = group.stream().into_iter().next()
                    && let Lit::Str(s) = Lit::new(lit.clone())
                {
                    source.literals.push(Literal {
                        value: s.value(),
                        included: Some(Included { display: s.value(), text: None }),
                    });
                    spans.literals.push(Range::token(lit.span()));
                    i += 3;
                    continue;
                }
            }
            TokenTree::Punct(p) if p.as_char() == '.' => {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    source.method_calls.push(name.to_string());
                }
            }
            TokenTree::Literal(lit) => {
                if let Lit::Str(s) = Lit::new(lit.clone()) {
                    source.literals.push(Literal { value: s.value(), included: None });
                    spans.literals.push(Range::token(lit.span()));
                }
            }
            TokenTree::Group(group) => walk(group.stream(), source, spans),
            _ => {}
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ImportKind;

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
        let literals: Vec<&str> = source.literals.iter().map(|l| l.value.as_str()).collect();
        assert_eq!(literals, ["lead_scores", "id", "sql/backfill.sql", "lead_scores"]);
        assert!(source.literals[2].included.is_some());
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
        assert_eq!(module.spans.literals[1].line_column(), (10, 22));
        assert_eq!(module.spans.functions[1].line_column(), (15, 12));
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
                ("::serde_json::json".to_owned(), ImportKind::Path),
                ("super::super::secrets::KEY".to_owned(), ImportKind::Path),
            ]
        );
    }

    #[test]
    fn attribute_forms_and_errors() {
        let read = |attr: &str| {
            let text = format!("#[migration({attr})] mod add_users_table {{}}");
            parse_file(&text).expect("parses").modules.remove(0).source
        };
        assert_eq!(read(r#"rev = "a", down_revision = None"#).down_revision, DownRevision::None);
        assert_eq!(read(r#"rev = "a""#).down_revision, DownRevision::Absent);
        assert_eq!(
            read(r#"rev = "a", down_revision = ["b", "c"]"#).down_revision,
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
            r#"rev = "a", down_revision"#,
            r#"rev = "a", transactional = "no""#,
            r#"rev = "a" down_revision = "b""#,
        ] {
            assert!(read(bad).syntax_error.is_some(), "{bad}");
        }
    }

    #[test]
    fn stray_items_are_described_with_their_position() {
        let text = "#[migration(rev = \"a\")]\nmod add_users_table {}\n\nfn helper() {}\n";
        let file = parse_file(text).expect("parses");
        assert_eq!(file.stray_items, [StrayItem { description: "fn helper".into(), line: 4, column: 1 }]);
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
}
