//! The `#[migration]` attribute. Use it through `migrate-runtime`, which re-exports it.
//!
//! A thin shim over `migrate-core`: it reads its module (parse), looks up what build-support
//! found about it in the manifest (check), and emits the module with its descriptor, plus
//! one spanned error per problem (emit). It decides where to point, never whether
//! something is valid. Nothing below this file touches `proc_macro`, so every stage is
//! testable.

mod emit;
mod manifest;

use proc_macro::TokenStream;

/// Marks a module as a migration: `#[migration(rev = "…", down_revision = "…")]`.
///
/// Arguments: `rev` (the revision id), `down_revision` (absent or `None` for the first
/// migration, a string for one parent, a list for a merge) and `transactional` (to override
/// what is inferred from the operations). Every rule violation concerning the migration is
/// reported as an error under the offending token.
#[proc_macro_attribute]
pub fn migration(args: TokenStream, item: TokenStream) -> TokenStream {
    let file = proc_macro::Span::call_site().local_file();
    emit::migration(args.into(), item.into(), file.as_deref(), &manifest::load).into()
}
