//! `prune --not-in <url>`: placeholder, being written.

use anyhow::Result;
use migrate_runtime::cli::Exit;

use crate::project::Project;

pub(crate) fn run(_project: &Project, _url: &str, _yes: bool, _args: &[String]) -> Result<Exit> {
    anyhow::bail!("prune is not written yet")
}
