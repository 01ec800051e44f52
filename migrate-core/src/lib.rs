//! The one implementation of the migration compiler's rules, shared by every front end.
//!
//! The `#[migration]` macro, build-support, the runtime and the command line all use this
//! crate, so that the compiler and the runtime can never disagree: revision ids
//! ([`id`]), file names and slugs ([`naming`]), the revision graph and its linear order
//! ([`graph`]), the target grammar ([`target`]), the rules and their diagnostics
//! ([`rules`], [`diagnostic`]), the manifest format ([`manifest`]), the operations a
//! migration records with their SQL ([`op`], [`sql`]), the compiled chain ([`chain`]), the
//! record of deployed migrations ([`seal`]), and the SQL a run sends, as one step sequence for
//! the online run and the offline script ([`script`], [`version`]).
//!
//! Nothing here does I/O. The `syntax` feature adds `syntax`, which reads migration
//! source as proc-macro2 tokens; the runtime does not enable it.

#[cfg(feature = "syntax")]
mod calls;
pub mod chain;
pub mod config;
pub mod diagnostic;
pub mod graph;
pub mod id;
#[cfg(feature = "lint")]
pub mod lint;
pub mod listing;
pub mod manifest;
pub mod naming;
pub mod op;
pub mod rules;
pub mod script;
pub mod seal;
pub mod secret;
pub mod source;
pub mod sql;
#[cfg(feature = "syntax")]
pub mod syntax;
pub mod target;
pub mod text;
pub mod version;

pub use config::Config;
pub use diagnostic::{Diagnostic, Locator, RuleId};
pub use graph::{Graph, NodeId, Revision};
pub use target::{Target, TargetError};
