//! look up → (parse) → emit: the whole `#[migration]` expansion, on proc-macro2 tokens.

use std::path::Path;
use std::sync::Arc;

use migrate_core::manifest::{Manifest, ManifestEntry};
use migrate_core::rules::invalid_file_name;
use migrate_core::syntax::{ParsedModule, Range, module_name_and_body, parse_module};
use proc_macro2::{Delimiter, Group, Literal, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};

use crate::manifest::LoadError;

/// What the descriptor says about a migration.
struct Descriptor<'a> {
    rev: &'a str,
    parents: Vec<&'a str>,
    labels: Vec<&'a str>,
    depends_on: Vec<&'a str>,
    slug: &'a str,
    file: &'a str,
    why: &'a str,
    transactional: bool,
    squashes: Option<&'a str>,
}

/// Expands `#[migration(args)] item`, found in `file` (as the compiler names it).
///
/// A migration build-support found clean is emitted straight from the manifest, without
/// reading the module again (the common case, and the one a large history builds thousands
/// of times). Otherwise the module is read to find the span of each problem. Either way the
/// module is returned: on errors with a harmless stub descriptor next to one spanned
/// `compile_error!` per problem, so that the user sees the problems and no cascade.
pub(crate) fn migration(
    args: TokenStream,
    item: TokenStream,
    file: Option<&Path>,
    load: &dyn Fn() -> Result<Arc<Manifest>, LoadError>,
) -> TokenStream {
    let path = file.map(|f| f.to_string_lossy().into_owned());
    let manifest = load();
    if let (Ok(manifest), Some((name, Some(body)))) = (&manifest, module_name_and_body(&item))
        && let Some(entry) = find(manifest, path.as_deref(), &name.to_string())
        && entry.clean
    {
        let descriptor = Descriptor {
            rev: &entry.rev,
            parents: entry.parents.iter().map(String::as_str).collect(),
            labels: entry.labels.iter().map(String::as_str).collect(),
            depends_on: entry.depends_on.iter().map(String::as_str).collect(),
            slug: &entry.module,
            file: &entry.display,
            why: &entry.why,
            transactional: entry.transactional,
            squashes: Some(entry.squashes.as_str()).filter(|s| !s.is_empty()),
        };
        let sql = sql_bodies(&item, body);
        let data: Vec<usize> = sql.iter().filter_map(|s| s.as_ref().map(|(at, _)| *at)).collect();
        let descriptor = descriptor_tokens(&descriptor, Some(name.span()), sql.map(|s| s.map(|(_, t)| t)));
        return with_descriptor(allow_unused(item, body, &data), body, descriptor);
    }

    let parsed = parse_module(args, item.clone(), Range::token(Span::call_site()));
    let mut errors = Vec::new();
    if let (Some(message), Some(range)) = (&parsed.source.syntax_error, parsed.spans.syntax_error) {
        errors.push(compile_error(range, message));
    }
    let mut display = path.clone().unwrap_or_default();
    // build-support's answer when it knows the migration; else read from the module.
    let mut transactional = None;
    match &manifest {
        Err((message, help)) => {
            errors.push(compile_error(parsed.spans.attribute, &format!("{message}\n= help: {help}")));
        }
        Ok(manifest) => match find(manifest, path.as_deref(), &parsed.source.name) {
            None if parsed.source.syntax_error.is_none() => {
                let (message, help) = invalid_file_name::outside_folder(&parsed.source.name, &display);
                errors.push(compile_error(parsed.spans.module, &format!("{message}\n= help: {help}")));
            }
            None => {}
            Some(entry) => {
                display.clone_from(&entry.display);
                transactional = Some(entry.transactional);
                for diagnostic in manifest.diagnostics_for(&entry.path, &entry.module) {
                    let range = parsed.spans.locate(&diagnostic.locator).unwrap_or(parsed.spans.module);
                    errors.push(compile_error(range, &diagnostic.rustc_message()));
                }
            }
        },
    }
    let transactional = transactional.unwrap_or_else(|| parsed.source.is_transactional());
    let descriptor = descriptor(&parsed, &display, transactional, errors.is_empty());
    let mut out = match module_name_and_body(&item) {
        Some((_, Some(body))) => with_descriptor(item, body, descriptor),
        // `mod name;`: the error says so, and a stub body keeps the rest quiet.
        Some((name, None)) => quote!(mod #name { #descriptor }),
        // Not a module: the error says so; the item stays as written.
        None => item,
    };

    out.extend(errors);
    out
}

/// The manifest entry of module `name` in `path`; without a file name from the compiler, a
/// unique module name still finds it.
fn find<'m>(manifest: &'m Manifest, path: Option<&str>, name: &str) -> Option<&'m ManifestEntry> {
    match path {
        Some(path) => manifest.entry(path, name),
        None => {
            let mut named = manifest.entries_named(name);
            match (named.next(), named.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    }
}

/// `item` with `descriptor` appended to the module's body, the `body`-th token.
fn with_descriptor(item: TokenStream, body: usize, descriptor: TokenStream) -> TokenStream {
    item.into_iter()
        .enumerate()
        .map(|(i, token)| match token {
            TokenTree::Group(group) if i == body => {
                let mut stream = group.stream();
                stream.extend(descriptor.clone());
                let mut replaced = Group::new(Delimiter::Brace, stream);
                replaced.set_span(group.span());
                TokenTree::Group(replaced)
            }
            other => other,
        })
        .collect()
}

/// The descriptor of a module read in full. With errors it points at stubs, so that a
/// missing function is reported once (by its rule), not again by the type checker.
fn descriptor(parsed: &ParsedModule, file: &str, transactional: bool, sound: bool) -> TokenStream {
    let source = &parsed.source;
    let why = source.why();
    let descriptor = Descriptor {
        rev: source.rev.as_deref().unwrap_or_default(),
        parents: source.down_revision.parents(),
        labels: source.branch_labels.iter().map(String::as_str).collect(),
        depends_on: source.depends_on.iter().map(String::as_str).collect(),
        slug: &source.name,
        file,
        why: &why,
        transactional,
        squashes: source.squashes.as_deref(),
    };
    descriptor_tokens(&descriptor, sound.then_some(parsed.spans.module.start), [None, None])
}

/// The texts of `upgrade` and `downgrade` when a function's body only executes literal SQL:
/// each statement `op.execute("…");` or `op.execute(include_str!("…"));` on its parameter,
/// with no return type. Such a body is embedded as data ([`Body::Sql`]), so that rustc
/// compiles no function for it (at a thousand migrations, most of a release rebuild's time
/// went into compiling two thousand one-call functions). Anything else stays a function.
///
/// [`Body::Sql`]: migrate_core::chain::Body::Sql
///
/// Each comes with the position, among the module's tokens, where its function's item starts.
fn sql_bodies(item: &TokenStream, body: usize) -> [Option<(usize, TokenStream)>; 2] {
    let Some(TokenTree::Group(module)) = item.clone().into_iter().nth(body) else {
        return [None, None];
    };
    let tokens: Vec<TokenTree> = module.stream().into_iter().collect();
    ["upgrade", "downgrade"].map(|name| {
        let at = tokens.windows(2).position(|w| {
            matches!(&w[0], TokenTree::Ident(i) if i == "fn")
                && matches!(&w[1], TokenTree::Ident(i) if i == name)
        })?;
        let (Some(TokenTree::Group(parameters)), Some(TokenTree::Group(block))) =
            (tokens.get(at + 2), tokens.get(at + 3))
        else {
            return None;
        };
        if parameters.delimiter() != Delimiter::Parenthesis || block.delimiter() != Delimiter::Brace {
            return None;
        }
        // The signature the runtime calls, exactly: no other parameter goes unchecked.
        let parameter: Vec<TokenTree> = parameters.stream().into_iter().collect();
        let [
            TokenTree::Ident(op),
            TokenTree::Punct(colon),
            TokenTree::Punct(and),
            TokenTree::Ident(mutable),
            TokenTree::Ident(ty),
        ] = parameter.as_slice()
        else {
            return None;
        };
        if colon.as_char() != ':' || and.as_char() != '&' || mutable != "mut" || ty != "Op" {
            return None;
        }
        let statements: Vec<TokenTree> = block.stream().into_iter().collect();
        let mut texts = Vec::new();
        let mut rest = statements.as_slice();
        while !rest.is_empty() {
            let [
                TokenTree::Ident(target),
                TokenTree::Punct(dot),
                TokenTree::Ident(method),
                TokenTree::Group(arguments),
                after @ ..,
            ] = rest
            else {
                return None;
            };
            if target != op || dot.as_char() != '.' || method != "execute" {
                return None;
            }
            texts.push(sql_text(arguments)?);
            rest = match after {
                [TokenTree::Punct(semicolon), more @ ..] if semicolon.as_char() == ';' => more,
                [] => after,
                _ => return None,
            };
        }
        let start = match (at.checked_sub(2).map(|i| &tokens[i]), at.checked_sub(1).map(|i| &tokens[i])) {
            (Some(TokenTree::Ident(public)), Some(TokenTree::Group(_))) if public == "pub" => at - 2,
            (_, Some(TokenTree::Ident(public))) if public == "pub" => at - 1,
            _ => at,
        };
        Some((start, quote!(::migrate_runtime::__private::Body::Sql(&[#(#texts),*]))))
    })
}

/// The module with `#[allow(dead_code)]` before the items starting at `positions` of its body:
/// functions embedded as data are type-checked but called by nothing.
fn allow_unused(item: TokenStream, body: usize, positions: &[usize]) -> TokenStream {
    if positions.is_empty() {
        return item;
    }
    item.into_iter()
        .enumerate()
        .map(|(i, token)| match token {
            TokenTree::Group(group) if i == body => {
                let mut stream = TokenStream::new();
                for (at, inner) in group.stream().into_iter().enumerate() {
                    if positions.contains(&at) {
                        stream.extend(quote!(#[allow(dead_code)]));
                    }
                    stream.extend([inner]);
                }
                let mut replaced = Group::new(Delimiter::Brace, stream);
                replaced.set_span(group.span());
                TokenTree::Group(replaced)
            }
            other => other,
        })
        .collect()
}

/// The argument of `op.execute(…)` when it is a string literal or `include_str!("…")`.
fn sql_text(arguments: &Group) -> Option<TokenStream> {
    if arguments.delimiter() != Delimiter::Parenthesis {
        return None;
    }
    let tokens: Vec<TokenTree> = arguments.stream().into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Literal(text)] if migrate_core::syntax::string_value(text).is_some() => {
            Some(arguments.stream())
        }
        [TokenTree::Ident(include), TokenTree::Punct(bang), TokenTree::Group(path)]
            if include == "include_str"
                && bang.as_char() == '!'
                && matches!(
                    path.stream().into_iter().collect::<Vec<_>>().as_slice(),
                    [TokenTree::Literal(_)]
                ) =>
        {
            Some(arguments.stream())
        }
        _ => None,
    }
}

/// The `__MIGRATION` static the runtime iterates. `functions` is the span of the module's
/// name, which the `upgrade` and `downgrade` paths take so that a missing one is reported
/// there; `None` points at stubs.
fn descriptor_tokens(
    d: &Descriptor<'_>,
    functions: Option<Span>,
    sql: [Option<TokenStream>; 2],
) -> TokenStream {
    let code = |function: TokenStream| quote!(::migrate_runtime::__private::Body::Code(#function));
    let [upgrade_sql, downgrade_sql] = sql;
    let (upgrade, downgrade) = match functions {
        Some(span) => (
            upgrade_sql.unwrap_or_else(|| code(quote_spanned!(span=> upgrade))),
            downgrade_sql.unwrap_or_else(|| code(quote_spanned!(span=> downgrade))),
        ),
        None => (
            code(quote!(::migrate_runtime::__private::unavailable)),
            code(quote!(::migrate_runtime::__private::unavailable)),
        ),
    };
    let Descriptor { rev, parents, labels, depends_on, slug, file, why, transactional, squashes } = d;
    let squashes = match squashes {
        Some(sum) => quote!(::core::option::Option::Some(#sum)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #[doc(hidden)]
        pub static __MIGRATION: ::migrate_runtime::__private::Migration = ::migrate_runtime::__private::Migration {
            rev: #rev,
            parents: &[#(#parents),*],
            branch_labels: &[#(#labels),*],
            depends_on: &[#(#depends_on),*],
            slug: #slug,
            file: #file,
            why: #why,
            transactional: #transactional,
            squashes: #squashes,
            upgrade: #upgrade,
            downgrade: #downgrade,
        };
    }
}

/// `::core::compile_error! { "message" }`, spanning `range`: the path carries the first
/// token's span and the braces the last one's, which rustc underlines from one to the other.
fn compile_error(range: Range, message: &str) -> TokenStream {
    let start = range.start;
    let mut literal = Literal::string(message);
    literal.set_span(range.end);
    let mut group = Group::new(Delimiter::Brace, TokenTree::Literal(literal).into());
    group.set_span(range.end);
    let path = quote_spanned!(start=> ::core::compile_error!);
    quote!(#path #group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::diagnostic::{Diagnostic, Locator, RuleId};

    const FILE: &str = "/crate/migrations/20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs";

    fn args() -> TokenStream {
        quote!(rev = "3f2a9c1b7d4e", down_revision = "a1b2c3d4e5f6")
    }

    fn item() -> TokenStream {
        quote! {
            #[doc = " Marketing needs a score per person to rank leads."]
            mod add_lead_scores_table {
                use migrate_runtime::prelude::*;
                pub fn upgrade(op: &mut Op) { op.execute("SELECT 1"); }
                pub fn downgrade(op: &mut Op) { op.execute("SELECT 2"); }
            }
        }
    }

    fn manifest(diagnostics: Vec<Diagnostic>, others: usize) -> Arc<Manifest> {
        let mut manifest = Manifest::default();
        let entry = |path: String, module: String, display: String| ManifestEntry {
            path,
            module,
            display,
            transactional: true,
            clean: diagnostics.is_empty(),
            rev: "3f2a9c1b7d4e".into(),
            parents: vec!["a1b2c3d4e5f6".into()],
            labels: Vec::new(),
            depends_on: Vec::new(),
            squashes: String::new(),
            why: "Marketing needs a score per person to rank leads.".into(),
        };
        for i in 0..others {
            manifest.add_entry(entry(
                format!("/crate/migrations/other_{i}.rs"),
                format!("other_{i}"),
                format!("migrations/other_{i}.rs"),
            ));
        }
        manifest.add_entry(entry(
            FILE.into(),
            "add_lead_scores_table".into(),
            "migrations/20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs".into(),
        ));
        manifest.diagnostics = diagnostics;
        Arc::new(manifest)
    }

    fn expand(manifest: Result<Arc<Manifest>, LoadError>) -> String {
        migration(args(), item(), Some(Path::new(FILE)), &move || manifest.clone()).to_string()
    }

    #[test]
    fn a_clean_migration_gets_its_descriptor_and_no_error() {
        let out = expand(Ok(manifest(Vec::new(), 0)));
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("rev : \"3f2a9c1b7d4e\""), "{out}");
        assert!(out.contains("parents : & [\"a1b2c3d4e5f6\"]"), "{out}");
        assert!(out.contains("why : \"Marketing needs a score per person to rank leads.\""), "{out}");
        // Bodies that only execute literal SQL are data; their functions stay, type-checked.
        assert!(
            out.contains("upgrade : :: migrate_runtime :: __private :: Body :: Sql (& [\"SELECT 1\"])"),
            "{out}"
        );
        assert!(out.contains("# [allow (dead_code)] pub fn upgrade"), "{out}");
        // The module itself is kept, the descriptor inside it.
        assert!(out.contains("# [allow (dead_code)] pub fn downgrade"), "{out}");
        assert!(out.trim_end().ends_with("} ; }"), "{out}");
    }

    /// The `upgrade` field the macro emits for a module whose upgrade has `body`.
    fn upgrade_of(signature: &str, body: &str) -> String {
        let item: TokenStream = format!(
            "mod add_lead_scores_table {{ use migrate_runtime::prelude::*; pub fn upgrade{signature} {{ {body} }} \
             pub fn downgrade(op: &mut Op) {{ op.execute(\"SELECT 2\"); }} }}"
        )
        .parse()
        .expect("tokens");
        let manifest = Ok(manifest(Vec::new(), 0));
        let out = migration(args(), item, Some(Path::new(FILE)), &move || manifest.clone()).to_string();
        let field = out.split("upgrade : ").nth(1).expect("the field");
        field[..field.find(" , downgrade :").expect("the next field")].to_owned()
    }

    #[test]
    fn only_bodies_of_literal_sql_become_data() {
        let data = |texts: &str| format!(":: migrate_runtime :: __private :: Body :: Sql (& [{texts}])");
        let code = ":: migrate_runtime :: __private :: Body :: Code (upgrade)";
        for (signature, body, expected) in [
            (
                "(op: &mut Op)",
                "op.execute(\"SELECT 1\"); op.execute(r#\"SELECT 2\"#);",
                data("\"SELECT 1\" , r#\"SELECT 2\"#"),
            ),
            (
                "(op: &mut Op)",
                "op.execute(include_str!(\"sql/a.sql\"))",
                data("include_str ! (\"sql/a.sql\")"),
            ),
            ("(_op: &mut Op)", "", data("")),
            // Anything else is code: another call, a variable, a helper, another receiver, a
            // return type, a generic, a format!.
            ("(op: &mut Op)", "op.execute(\"SELECT 1\"); op.drop_table(\"t\");", code.to_owned()),
            ("(op: &mut Op)", "let sql = \"SELECT 1\"; op.execute(sql);", code.to_owned()),
            ("(op: &mut Op)", "helper(op);", code.to_owned()),
            ("(op: &mut Op)", "other.execute(\"SELECT 1\");", code.to_owned()),
            ("(op: &mut Op) -> ()", "op.execute(\"SELECT 1\");", code.to_owned()),
            ("<T>(op: &mut Op)", "op.execute(\"SELECT 1\");", code.to_owned()),
            ("(op: &mut Op)", "op.execute(&format!(\"SELECT {}\", 1));", code.to_owned()),
            ("(op: &mut Op)", "op.execute(b\"SELECT 1\");", code.to_owned()),
            // Only the signature the runtime calls: another parameter would go unchecked.
            ("(op: &mut Op, extra: u8)", "op.execute(\"SELECT 1\");", code.to_owned()),
            ("(op: &Op)", "op.execute(\"SELECT 1\");", code.to_owned()),
        ] {
            assert_eq!(upgrade_of(signature, body), expected, "{signature} {{ {body} }}");
        }
    }

    #[test]
    fn output_does_not_depend_on_other_migrations() {
        // Incremental builds reuse an unchanged migration's code only if its expansion is
        // byte-identical when another migration is added.
        assert_eq!(expand(Ok(manifest(Vec::new(), 0))), expand(Ok(manifest(Vec::new(), 500))));
    }

    #[test]
    fn each_diagnostic_becomes_one_error_and_the_descriptor_a_stub() {
        let diagnostic = |locator, rule, message: &str| Diagnostic {
            file: FILE.into(),
            module: Some("add_lead_scores_table".into()),
            locator,
            rule,
            message: message.into(),
            help: "do this".into(),
        };
        let out = expand(Ok(manifest(
            vec![
                diagnostic(Locator::Revision, RuleId::DuplicateRevision, "first problem"),
                diagnostic(Locator::Literal(0), RuleId::HardcodedSecret, "second problem"),
            ],
            0,
        )));
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
        assert!(out.contains("\"first problem\\n= help: do this\""), "{out}");
        assert!(out.contains("__private :: unavailable"), "{out}");
    }

    #[test]
    fn no_manifest_is_reported_once() {
        let out = expand(Err(("no manifest".into(), "add build.rs".into())));
        assert_eq!(out.matches("compile_error").count(), 1, "{out}");
        assert!(out.contains("no manifest\\n= help: add build.rs"), "{out}");
    }

    #[test]
    fn a_module_outside_the_folder_is_reported() {
        let out =
            migration(args(), item(), Some(Path::new("/crate/src/lib.rs")), &|| Ok(manifest(Vec::new(), 0)))
                .to_string();
        assert!(
            out.contains(
                "migration `add_lead_scores_table` is in `/crate/src/lib.rs`, outside the migrations folder"
            ),
            "{out}"
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let load = || Ok(manifest(vec![], 0));
        let kept = migration(
            quote!(rev = "a"),
            quote!(
                fn not_a_module() {}
            ),
            Some(Path::new(FILE)),
            &load,
        );
        assert!(kept.to_string().contains("fn not_a_module"), "a wrong item is kept as written: {kept}");
        for (args, item) in [
            (
                quote!(),
                quote!(
                    mod add_x {}
                ),
            ),
            (
                quote!(rev = 1),
                quote!(
                    mod add_x;
                ),
            ),
            (
                quote!(=),
                quote!(
                    fn not_a_module() {}
                ),
            ),
            (
                quote!(rev = "a", down_revision = [1, 2]),
                quote!(
                    mod add_x {
                        pub fn upgrade() {}
                    }
                ),
            ),
        ] {
            let out = migration(args, item, Some(Path::new(FILE)), &load).to_string();
            assert!(out.contains("compile_error"), "{out}");
        }
    }
}
