//! parse → look up → emit: the whole `#[migration]` expansion, on proc-macro2 tokens.

use std::path::Path;
use std::sync::Arc;

use migrate_core::manifest::Manifest;
use migrate_core::rules::invalid_file_name;
use migrate_core::syntax::{ParsedModule, Range, parse_module};
use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::ItemMod;

use crate::manifest::LoadError;

/// Expands `#[migration(args)] item`, found in `file` (as the compiler names it).
///
/// Always returns the module: on errors, with a harmless stub descriptor next to one
/// spanned `compile_error!` per problem, so that the user sees the problems and no cascade.
pub(crate) fn migration(
    args: TokenStream,
    item: TokenStream,
    file: Option<&Path>,
    load: &dyn Fn() -> Result<Arc<Manifest>, LoadError>,
) -> TokenStream {
    let mut module: ItemMod = match syn::parse2(item.clone()) {
        Ok(module) => module,
        Err(_) => {
            let error = compile_error(
                Range::token(Span::call_site()),
                "`#[migration]` goes on a module\n= help: write the migration as `mod <slug> { … }` under the attribute",
            );
            return quote!(#error #item);
        }
    };
    let parsed = parse_module(args, &module, Range::token(Span::call_site()));
    let mut errors = Vec::new();
    if let (Some(message), Some(range)) = (&parsed.source.syntax_error, parsed.spans.syntax_error) {
        errors.push(compile_error(range, message));
    }

    let path = file.map(|f| f.to_string_lossy().into_owned());
    let mut display = path.clone().unwrap_or_default();
    let mut transactional = parsed.source.is_transactional();
    match load() {
        Err((message, help)) => {
            errors.push(compile_error(parsed.spans.attribute, &format!("{message}\n= help: {help}")));
        }
        Ok(manifest) => {
            let name = &parsed.source.name;
            let entry = path.as_deref().and_then(|p| manifest.entry(p, name)).or_else(|| {
                // Without a file name from the compiler, a unique module name still finds it.
                let mut named = manifest.entries_named(name);
                match (named.next(), named.next()) {
                    (Some(only), None) if path.is_none() => Some(only),
                    _ => None,
                }
            });
            match entry {
                None => {
                    let (message, help) = invalid_file_name::outside_folder(name, &display);
                    errors.push(compile_error(parsed.spans.module, &format!("{message}\n= help: {help}")));
                }
                Some(entry) => {
                    display.clone_from(&entry.display);
                    transactional = entry.transactional;
                    for diagnostic in manifest.diagnostics_for(&entry.path, &entry.module) {
                        let range = parsed.spans.locate(&diagnostic.locator).unwrap_or(parsed.spans.module);
                        errors.push(compile_error(range, &diagnostic.rustc_message()));
                    }
                }
            }
        }
    }

    let descriptor = descriptor(&parsed, &module.ident, &display, transactional, errors.is_empty());
    match &mut module.content {
        Some((_, items)) => items.push(syn::Item::Verbatim(descriptor)),
        None => {
            module.content = Some((Default::default(), vec![syn::Item::Verbatim(descriptor)]));
            module.semi = None;
        }
    }
    quote!(#module #(#errors)*)
}

/// The `__MIGRATION` static the runtime iterates. With errors it points at stubs, so that a
/// missing function is reported once (by its rule), not again by the type checker.
fn descriptor(
    parsed: &ParsedModule,
    name: &Ident,
    file: &str,
    transactional: bool,
    sound: bool,
) -> TokenStream {
    let source = &parsed.source;
    let rev = source.rev.as_deref().unwrap_or_default();
    let parents = source.down_revision.parents();
    let slug = &source.name;
    let why = source.why();
    let (upgrade, downgrade) = if sound {
        // Spanned on the module's name: a missing `upgrade` is reported there.
        (
            Ident::new("upgrade", name.span()).into_token_stream(),
            Ident::new("downgrade", name.span()).into_token_stream(),
        )
    } else {
        (quote!(::migrate_runtime::__private::unavailable), quote!(::migrate_runtime::__private::unavailable))
    };
    quote! {
        #[doc(hidden)]
        pub static __MIGRATION: ::migrate_runtime::__private::Migration = ::migrate_runtime::__private::Migration {
            rev: #rev,
            parents: &[#(#parents),*],
            slug: #slug,
            file: #file,
            why: #why,
            transactional: #transactional,
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
    use migrate_core::manifest::ManifestEntry;

    const FILE: &str = "/crate/migrations/20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs";

    fn args() -> TokenStream {
        quote!(rev = "3f2a9c1b7d4e", down_revision = "a1b2c3d4e5f6")
    }

    fn item() -> TokenStream {
        quote! {
            /// Marketing needs a score per person to rank leads.
            mod add_lead_scores_table {
                use migrate_runtime::prelude::*;
                pub fn upgrade(op: &mut Op) { op.execute("SELECT 1"); }
                pub fn downgrade(op: &mut Op) { op.execute("SELECT 2"); }
            }
        }
    }

    fn manifest(diagnostics: Vec<Diagnostic>, others: usize) -> Arc<Manifest> {
        let mut manifest = Manifest::default();
        for i in 0..others {
            manifest.add_entry(ManifestEntry {
                path: format!("/crate/migrations/other_{i}.rs"),
                module: format!("other_{i}"),
                display: format!("migrations/other_{i}.rs"),
                transactional: true,
            });
        }
        manifest.add_entry(ManifestEntry {
            path: FILE.into(),
            module: "add_lead_scores_table".into(),
            display: "migrations/20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs".into(),
            transactional: true,
        });
        manifest.diagnostics = diagnostics;
        Arc::new(manifest)
    }

    fn expand(manifest: Result<Arc<Manifest>, LoadError>) -> String {
        migration(args(), item(), Some(Path::new(FILE)), &move || manifest.clone()).to_string()
    }

    #[test]
    fn a_sound_migration_gets_its_descriptor_and_no_error() {
        let out = expand(Ok(manifest(Vec::new(), 0)));
        assert!(!out.contains("compile_error"), "{out}");
        assert!(out.contains("rev : \"3f2a9c1b7d4e\""), "{out}");
        assert!(out.contains("parents : & [\"a1b2c3d4e5f6\"]"), "{out}");
        assert!(out.contains("why : \"Marketing needs a score per person to rank leads.\""), "{out}");
        assert!(out.contains("upgrade : upgrade"), "{out}");
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
        let load = || Ok(manifest(Vec::new(), 0));
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
