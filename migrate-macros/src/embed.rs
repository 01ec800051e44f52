//! `embed_migrations!`: the generated chain, or the reason there is none.

use std::path::Path;

use migrate_core::manifest::FILE_NAME;
use migrate_core::rules::missing_manifest;
use migrate_core::syntax::string_value;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};

fn error(span: Span, (message, help): (String, String)) -> TokenStream {
    let text = format!("{message}\n= help: {help}");
    quote_spanned!(span=> ::core::compile_error!(#text))
}

/// Expands `embed_migrations!(input)` given the crate's `OUT_DIR`.
pub(crate) fn embed_migrations(input: TokenStream, out_dir: Option<&Path>) -> TokenStream {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let (name, span) = match tokens.as_slice() {
        [] => ("migrations".to_owned(), Span::call_site()),
        [TokenTree::Literal(literal)] => match string_value(literal) {
            Some(name)
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                (name, literal.span())
            }
            _ => return usage(literal.span()),
        },
        [first, ..] => return usage(first.span()),
    };
    let Some(out_dir) = out_dir else {
        return error(span, missing_manifest::missing());
    };
    let generated = out_dir.join(migrate_core::manifest::DIR);
    if !generated.join(FILE_NAME).is_file() {
        return error(span, missing_manifest::missing());
    }
    if !generated.join(format!("{name}.rs")).is_file() {
        return error(span, missing_manifest::unknown_folder(&name));
    }
    quote!(include!(concat!(env!("OUT_DIR"), "/migrate/", #name, ".rs")))
}

fn usage(span: Span) -> TokenStream {
    error(
        span,
        (
            "`embed_migrations!` takes nothing, or the name of a folder build.rs compiled".to_owned(),
            "write `embed_migrations!()`, or `embed_migrations!(\"audit\")` for a folder built with \
             `Build::new().folder(\"audit_migrations\", \"audit\")`"
                .to_owned(),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out_dir(test: &str, files: &[&str]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("migrate-macros-embed-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("migrate")).expect("creates");
        for file in files {
            std::fs::write(dir.join("migrate").join(file), "").expect("writes");
        }
        dir
    }

    #[test]
    fn the_generated_module_is_included() {
        let dir = out_dir("ok", &[FILE_NAME, "migrations.rs", "audit.rs"]);
        let out = embed_migrations(TokenStream::new(), Some(&dir)).to_string();
        assert!(out.contains("include !") && out.contains("\"migrations\""), "{out}");
        let out = embed_migrations(quote!("audit"), Some(&dir)).to_string();
        assert!(out.contains("\"audit\""), "{out}");
        std::fs::remove_dir_all(dir).expect("cleans up");
    }

    #[test]
    fn missing_pieces_are_explained() {
        let out = embed_migrations(TokenStream::new(), None).to_string();
        assert!(out.contains("no migration manifest: this crate"), "{out}");
        let dir = out_dir("missing", &[FILE_NAME]);
        let out = embed_migrations(quote!("audit"), Some(&dir)).to_string();
        assert!(out.contains("build.rs compiled no migrations folder named `audit`"), "{out}");
        let out = embed_migrations(quote!(audit), Some(&dir)).to_string();
        assert!(out.contains("takes nothing, or the name"), "{out}");
        let out = embed_migrations(quote!("../x"), Some(&dir)).to_string();
        assert!(out.contains("takes nothing, or the name"), "{out}");
        std::fs::remove_dir_all(dir).expect("cleans up");
    }
}
