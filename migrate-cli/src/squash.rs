//! `squash --to <rev>`: placeholder, being written.

use anyhow::Result;
use migrate_runtime::cli::Exit;

use crate::project::Project;

pub(crate) fn run(_project: &Project, _to: &str, _dev_url: Option<&str>, _args: &[String]) -> Result<Exit> {
    anyhow::bail!("squash is not written yet")
}
