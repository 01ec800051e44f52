//! The crate the command works on: its settings, its migrations folder, and the revision
//! graph the files describe.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use migrate_build::{Folder, Settings};
use migrate_core::graph::{Graph, Revision};
use migrate_core::listing::Listed;

/// A crate with a migrations folder.
pub(crate) struct Project {
    /// The crate's folder.
    pub(crate) dir: PathBuf,
    /// Its `Cargo.toml`.
    pub(crate) manifest: PathBuf,
    /// `[package.metadata.migrate]`.
    pub(crate) settings: Settings,
}

/// The graph of a folder's files, with the files behind its nodes.
pub(crate) struct History {
    /// The graph (duplicates, unknown parents and cycles left out).
    pub(crate) graph: Graph,
    /// The listing entry of each node.
    pub(crate) entries: Vec<Listed>,
}

impl Project {
    /// The crate of `manifest_path`, or the nearest crate above the current folder.
    pub(crate) fn find(manifest_path: Option<&Path>) -> Result<Project> {
        let manifest = match manifest_path {
            Some(path) => path.to_path_buf(),
            None => {
                let start = std::env::current_dir().context("cannot read the current folder")?;
                let found = start.ancestors().map(|dir| dir.join("Cargo.toml")).find(|m| {
                    std::fs::read_to_string(m).is_ok_and(|text| text.lines().any(|l| l.trim() == "[package]"))
                });
                match found {
                    Some(manifest) => manifest,
                    None => bail!(
                        "no crate here: run the command in the crate that holds the migrations, or pass --manifest-path"
                    ),
                }
            }
        };
        let manifest =
            manifest.canonicalize().with_context(|| format!("cannot find `{}`", manifest.display()))?;
        let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
        let settings = Settings::read(&dir).map_err(|e| anyhow::anyhow!("{e}\n= help: {}", e.help()))?;
        Ok(Project { dir, manifest, settings })
    }

    /// The migrations folder, absolute.
    pub(crate) fn folder(&self) -> PathBuf {
        self.dir.join(&self.settings.folder)
    }

    /// The committed schema file (`schema_file`), absolute.
    pub(crate) fn schema_file(&self) -> PathBuf {
        self.dir.join(&self.settings.schema_file)
    }

    /// Reads the migrations folder.
    pub(crate) fn scan(&self) -> Result<Folder> {
        Folder::scan(&self.dir, &self.settings.folder)
            .map_err(|e| anyhow::anyhow!("{e}\n= help: {}", e.help()))
    }

    /// Reads the migrations folder with what the seal sums of every migration.
    pub(crate) fn scan_to_seal(&self) -> Result<Folder> {
        Folder::scan_to_seal(&self.dir, &self.settings.folder)
            .map_err(|e| anyhow::anyhow!("{e}\n= help: {}", e.help()))
    }
}

impl History {
    /// The history the files of `folder` describe, in the chain's order of files.
    pub(crate) fn of(folder: &Folder) -> History {
        let mut revisions = Vec::new();
        let mut entries = Vec::new();
        // The folder lists its files sorted by file name already.
        for file in &folder.files {
            let Some(module) = file.source.modules.first() else {
                continue;
            };
            let Some(rev) = &module.rev else {
                continue;
            };
            let parents: Vec<String> =
                module.down_revision.parents().into_iter().map(str::to_owned).collect();
            revisions.push(Revision {
                rev: rev.clone(),
                parents: parents.clone(),
                depends_on: module.depends_on.clone(),
                labels: module.branch_labels.clone(),
                key: file.source.file_name.clone(),
            });
            entries.push(Listed {
                rev: rev.clone(),
                parents,
                depends_on: module.depends_on.clone(),
                slug: module.name.clone(),
                why: module.why(),
                file: file.source.display.clone(),
            });
        }
        let (graph, _) = Graph::build(&revisions);
        // Node ids follow the input that the graph kept (the first of duplicates).
        let entries = (0..graph.len()).map(|n| entries[graph.input_of(n)].clone()).collect();
        History { graph, entries }
    }

    /// The ids of the heads.
    pub(crate) fn heads(&self) -> Vec<String> {
        self.graph.revs_of(&self.graph.heads()).into_iter().map(str::to_owned).collect()
    }
}

/// The rows of `sql` on `client`, each value as text (`None` for `NULL`): what the commands
/// that read a database (`adopt`, `prune`, `changelog --db`) read.
pub(crate) fn text_rows(
    client: &mut postgres::Client,
    sql: &str,
) -> std::result::Result<Vec<Vec<Option<String>>>, postgres::Error> {
    Ok(client
        .simple_query(sql)?
        .into_iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect())
}

/// A database error's own message, without the client's prefix.
pub(crate) fn db_message(error: &postgres::Error) -> String {
    error.as_db_error().map_or_else(|| error.to_string(), |db| db.message().to_owned())
}

/// `text` as printed: its control characters escaped (`\n`, `\u{1b}`), so that a file name or a
/// value read from a database prints on one line, forges no line of the output and moves no
/// terminal.
pub(crate) fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_debug().to_string() } else { c.to_string() }).collect()
}
