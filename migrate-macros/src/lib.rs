//! The `#[migration]` attribute and `embed_migrations!`. Use them through
//! `migrate-runtime`, which re-exports them.
//!
//! A thin shim over `migrate-core`: `#[migration]` looks up what build-support found about
//! its module in the manifest (check), reads the module when it must point at a problem
//! (parse), and emits the module with its descriptor, plus one spanned error per problem
//! (emit). It decides where to point, never whether something is valid. Nothing below this
//! file touches `proc_macro`, so every stage is testable.

mod embed;
mod emit;
mod manifest;

use proc_macro::TokenStream;

/// Marks a module as a migration: `#[migration(rev = "…", down_revision = "…")]`.
///
/// Arguments: `rev` (the revision id), `down_revision` (absent or `None` for the first
/// migration, a string for one parent, a list for a merge), `branch_labels`, `depends_on`,
/// `transactional` (to override what is inferred from the operations), `allow(rule = "reason")`
/// and `squashes` (written by `cargo migrate squash` on a baseline: the checksum databases
/// recorded for its revision before the squash). Every rule violation concerning the migration
/// is reported as an error under the offending token.
#[proc_macro_attribute]
pub fn migration(args: TokenStream, item: TokenStream) -> TokenStream {
    let file = proc_macro::Span::call_site().local_file();
    emit::migration(args.into(), item.into(), file.as_deref(), &manifest::load).into()
}

/// Embeds the chain build-support compiled from the migrations folder, as a `Chain`
/// expression: `static MIGRATIONS: Chain = embed_migrations!();`. With a name, embeds
/// another folder compiled by the same build script: `embed_migrations!("audit")`.
///
/// Without the build.rs line there is nothing to embed, and the error says which line to add.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    embed::embed_migrations(input.into(), manifest::out_dir().as_deref()).into()
}
