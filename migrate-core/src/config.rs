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
}
