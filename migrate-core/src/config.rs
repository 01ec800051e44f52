//! The settings the rules read, from `[package.metadata.migrate]`.

use crate::id::IdFormat;
use crate::naming::WordLists;

/// How the rules are applied to a migrations folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The format of revision ids.
    pub id_format: IdFormat,
    /// Whether several heads are accepted (`multiple_heads` off).
    pub allow_multiple_heads: bool,
    /// Whether several bases are accepted (`multiple_bases` off): a forest of independent
    /// branches, where `multiple_heads` reports only heads that share a base.
    pub allow_multiple_bases: bool,
    /// The words a slug is checked against.
    pub words: WordLists,
    /// The last revision of a history adopted from another tool: it and its ancestors are
    /// exempt from the style rules ([`crate::rules::STYLE_RULES`]) and the lock rules, which that
    /// history predates.
    /// Graph rules still apply to them.
    pub start_after: Option<String>,
    /// Names of the migrations folder's entries left there on purpose, which `stray_file`
    /// does not report (a folder's name covers what it holds).
    pub ignore: Vec<String>,
    /// The PostgreSQL major version the chain must be safe on (`postgres_version`); `None`
    /// for [`DEFAULT_POSTGRES_VERSION`]. Several lock facts changed between versions.
    pub postgres_version: Option<u32>,
}

/// The version the lock rules assume when none is set: the oldest major version the
/// PostgreSQL project still supports (15, since 14's end of life in November 2026).
pub const DEFAULT_POSTGRES_VERSION: u32 = 15;

impl Config {
    /// The PostgreSQL major version the lock rules judge for.
    pub fn postgres_version(&self) -> u32 {
        self.postgres_version.unwrap_or(DEFAULT_POSTGRES_VERSION)
    }
}
