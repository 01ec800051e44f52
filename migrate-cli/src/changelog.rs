//! `changelog`: placeholder, being written.

use anyhow::Result;
use migrate_runtime::cli::Exit;

use crate::project::Project;

/// How the changelog groups its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Grouping {
    /// By the month of each migration's date.
    Month,
    /// By the branch each merge brought in.
    Branch,
}

pub(crate) fn run(
    _project: &Project,
    _by: Grouping,
    _db: bool,
    _url: Option<&str>,
    _check: bool,
    _args: &[String],
) -> Result<Exit> {
    anyhow::bail!("changelog is not written yet")
}
