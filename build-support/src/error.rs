//! What can stop build-support before any rule runs.

use std::fmt;

/// A problem reading the crate's settings or its migrations folder.
///
/// `Display` is written by hand rather than derived: build-support is a build dependency of
/// every user crate, and its dependency tree stays free of syn.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A variable cargo sets for build scripts is missing.
    Environment(&'static str),
    /// A file or folder could not be read.
    Read {
        /// The path shown to users.
        path: String,
        /// The cause.
        message: String,
    },
    /// A generated file could not be written.
    Write {
        /// The path.
        path: String,
        /// The cause.
        message: String,
    },
    /// `[package.metadata.migrate]` is not valid.
    Settings {
        /// The manifest.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The migrations folder does not exist.
    NoFolder {
        /// The folder as configured.
        path: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Environment(name) => {
                write!(f, "environment variable `{name}` is not set: migrate-build runs from a build script")
            }
            Error::Read { path, message } => write!(f, "cannot read `{path}`: {message}"),
            Error::Write { path, message } => write!(f, "cannot write `{path}`: {message}"),
            Error::Settings { path, message } => {
                write!(f, "invalid [package.metadata.migrate] in `{path}`: {message}")
            }
            Error::NoFolder { path } => write!(f, "migrations folder `{path}` does not exist"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// What to do about it.
    pub fn help(&self) -> String {
        match self {
            Error::Environment(_) => {
                "call `migrate_build::compile()` from the crate's build.rs, not from other code".to_owned()
            }
            Error::Read { .. } | Error::Write { .. } => {
                "check the path's permissions, then build again".to_owned()
            }
            Error::Settings { .. } => "the keys are `folder`, `id_format` (\"hex12\" or \"alembic\"), \
                `allow_multiple_heads`, `allow_multiple_bases`, `vague_words`, `specific_words`, `start_after` \
                and `ignore`; see the README"
                .to_owned(),
            Error::NoFolder { .. } => "create it with `cargo migrate revision -m <slug>`, or point `folder` \
                under [package.metadata.migrate] at the right one"
                .to_owned(),
        }
    }
}
