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
    /// The words a slug is checked against.
    pub words: WordLists,
    /// The last revision of a history adopted from another tool: it and its ancestors are
    /// exempt from the style rules ([`crate::rules::STYLE_RULES`]), which that history predates.
    /// Graph rules still apply to them.
    pub start_after: Option<String>,
    /// Names of the migrations folder's entries left there on purpose, which `stray_file`
    /// does not report (a folder's name covers what it holds).
    pub ignore: Vec<String>,
}
