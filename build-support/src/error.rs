//! What can stop build-support before any rule runs.

/// A problem reading the crate's settings or its migrations folder.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A variable cargo sets for build scripts is missing.
    #[error("environment variable `{0}` is not set: migrate-build runs from a build script")]
    Environment(&'static str),
    /// A file or folder could not be read.
    #[error("cannot read `{path}`: {message}")]
    Read {
        /// The path shown to users.
        path: String,
        /// The cause.
        message: String,
    },
    /// A generated file could not be written.
    #[error("cannot write `{path}`: {message}")]
    Write {
        /// The path.
        path: String,
        /// The cause.
        message: String,
    },
    /// `[package.metadata.migrate]` is not valid.
    #[error("invalid [package.metadata.migrate] in `{path}`: {message}")]
    Settings {
        /// The manifest.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The migrations folder does not exist.
    #[error("migrations folder `{path}` does not exist")]
    NoFolder {
        /// The folder as configured.
        path: String,
    },
}

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
                `allow_multiple_heads`, `vague_words` and `specific_words`; see the README"
                .to_owned(),
            Error::NoFolder { .. } => "create it with `cargo migrate revision -m <slug>`, or point `folder` \
                under [package.metadata.migrate] at the right one"
                .to_owned(),
        }
    }
}
