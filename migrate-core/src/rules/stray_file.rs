//! `stray_file`: an entry of the migrations folder that is neither a migration file nor a
//! file a migration includes.
//!
//! Why: sqlx and refinery skip what they do not recognise, so a migration saved as `.RS`, a
//! hidden copy or a subfolder drops out of the chain without a word. Here every entry is a
//! migration (a `.rs` file, checked by the other rules), a file some migration includes with
//! `include_str!` (a subfolder holding one is checked entry by entry), or an error naming it.
//! `ignore = ["notes.md", "drafts"]` under `[package.metadata.migrate]` lists the names left
//! there on purpose (a folder's name covers what it holds). `imported.toml` ([`IMPORTED`]),
//! which `cargo migrate import` writes beside an imported history, belongs there too.

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Locator, RuleId};

/// The file `cargo migrate import` writes at the top of the migrations folder: the source
/// tool's version of each imported migration and its revision, which `cargo migrate adopt`
/// reads to stamp a database that tool migrated. No other name is accepted, and not in a
/// subfolder.
pub const IMPORTED: &str = "imported.toml";

/// An entry of a migrations folder that is not a migration file, at any depth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderEntry {
    /// The key that identifies it: its absolute path in builds.
    pub path: String,
    /// The path shown to users (`migrations/notes.py`).
    pub display: String,
    /// Its path inside the migrations folder, `/`-separated (`sql/backfill.sql`).
    pub name: String,
    /// Whether it is a folder.
    pub is_folder: bool,
}

/// Whether `name` is listed in `ignore`, itself or through a folder holding it.
fn ignored(name: &str, config: &Config) -> bool {
    config.ignore.iter().any(|listed| {
        let listed = listed.trim_end_matches('/');
        name == listed || name.strip_prefix(listed).is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The diagnostics for `entries` (every non-migration entry of the folder, subfolders and
/// their contents included), given the keys of the files the migrations include.
pub fn check(entries: &[FolderEntry], included: &[String], config: &Config) -> Vec<Diagnostic> {
    let holds_included = |folder: &FolderEntry| {
        included.iter().any(|i| i.strip_prefix(&folder.path).is_some_and(|r| r.starts_with('/')))
    };
    // Folders reported as a whole: what they hold is not reported again.
    let mut reported_folders: Vec<&str> = Vec::new();
    let mut diagnostics = Vec::new();
    for entry in entries {
        let inside_reported =
            reported_folders.iter().any(|f| entry.name.strip_prefix(f).is_some_and(|r| r.starts_with('/')));
        if inside_reported || ignored(&entry.name, config) || included.contains(&entry.path) {
            continue;
        }
        if !entry.is_folder && entry.name == IMPORTED {
            continue;
        }
        if entry.is_folder && holds_included(entry) {
            continue;
        }
        let file_name = entry.name.rsplit('/').next().unwrap_or(&entry.name);
        let ignore = format!("or list it under [package.metadata.migrate]: `ignore = [\"{}\"]`", entry.name);
        let (message, help) = if entry.is_folder {
            reported_folders.push(&entry.name);
            (
                format!(
                    "folder `{}` in the migrations folder holds no migration and no file a migration includes",
                    entry.display
                ),
                format!(
                    "migrations are read from the folder itself, not from subfolders: move its migration files up, move it out, {ignore}"
                ),
            )
        } else if file_name.starts_with('.') {
            (
                format!(
                    "hidden file `{}` in the migrations folder is not read as a migration",
                    entry.display
                ),
                format!(
                    "a migration file is named `YYYYMMDD_HHMM_<rev>_<slug>.rs`: rename it, move it out, {ignore}"
                ),
            )
        } else if file_name.to_ascii_lowercase().ends_with(".rs") {
            let stem = &file_name[..file_name.len() - 3];
            (
                format!(
                    "`{}` in the migrations folder is not read as a migration: its extension is not `.rs`",
                    entry.display
                ),
                format!("rename it `{stem}.rs` if it is a migration; otherwise move it out, {ignore}"),
            )
        } else if entry.name.contains('/') {
            (
                format!("`{}` in the migrations folder is not included by any migration", entry.display),
                format!(
                    "include it from a migration (`op.execute(include_str!(\"{}\"))`), move it out, {ignore}",
                    entry.name
                ),
            )
        } else {
            (
                format!(
                    "`{}` in the migrations folder is neither a migration file nor a file a migration includes",
                    entry.display
                ),
                format!(
                    "a migration file is named `YYYYMMDD_HHMM_<rev>_<slug>.rs`; move it out of the folder, {ignore}"
                ),
            )
        };
        diagnostics.push(Diagnostic {
            file: entry.path.clone(),
            module: None,
            locator: Locator::Attribute,
            rule: RuleId::StrayFile,
            message,
            help,
        });
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, is_folder: bool) -> FolderEntry {
        FolderEntry {
            path: format!("/crate/migrations/{name}"),
            display: format!("migrations/{name}"),
            name: name.to_owned(),
            is_folder,
        }
    }

    fn reported(entries: &[FolderEntry], included: &[&str], ignore: &[&str]) -> Vec<String> {
        let config = Config { ignore: ignore.iter().map(|s| (*s).to_owned()).collect(), ..Config::default() };
        let included: Vec<String> = included.iter().map(|i| format!("/crate/migrations/{i}")).collect();
        check(entries, &included, &config)
            .into_iter()
            .map(|d| d.file.replace("/crate/migrations/", ""))
            .collect()
    }

    #[test]
    fn every_kind_of_stray_entry_is_reported() {
        let entries = [
            entry(".20241021_0900_a1b2c3d4e5f6_add_people_table.rs", false),
            entry("20241022_0900_b2c3d4e5f6a1_add_tags_table.RS", false),
            entry("drafts", true),
            entry("drafts/20241023_0900_c3d4e5f6a1b2_add_notes_table.rs", false),
            entry("env.py", false),
            entry("sql", true),
            entry("sql/backfill.sql", false),
            entry("sql/old.sql", false),
        ];
        assert_eq!(
            reported(&entries, &["sql/backfill.sql"], &[]),
            [
                ".20241021_0900_a1b2c3d4e5f6_add_people_table.rs",
                "20241022_0900_b2c3d4e5f6a1_add_tags_table.RS",
                "drafts",
                "env.py",
                "sql/old.sql"
            ]
        );
        let config = Config::default();
        let diagnostics = check(&entries[1..2], &[], &config);
        assert_eq!(
            diagnostics[0].message,
            "`migrations/20241022_0900_b2c3d4e5f6a1_add_tags_table.RS` in the migrations folder is not read as a migration: its extension is not `.rs`"
        );
        assert!(diagnostics[0].help.starts_with("rename it `20241022_0900_b2c3d4e5f6a1_add_tags_table.rs`"));
        assert_eq!(diagnostics[0].rule, RuleId::StrayFile);
    }

    #[test]
    fn ignored_and_included_entries_pass() {
        let entries = [
            entry("README.md", false),
            entry("drafts", true),
            entry("drafts/x.rs", false),
            entry("sql", true),
            entry("sql/a.sql", false),
        ];
        assert_eq!(reported(&entries, &["sql/a.sql"], &["README.md", "drafts/"]), Vec::<String>::new());
        // The import's mapping, at the top only and by its exact name.
        let imported =
            [entry("imported.toml", false), entry("Imported.toml", false), entry("sql/imported.toml", false)];
        assert_eq!(reported(&imported, &[], &[]), ["Imported.toml", "sql/imported.toml"]);
        // A name only covers itself and what it holds.
        assert_eq!(reported(&entries, &["sql/a.sql"], &["README", "draft"]), ["README.md", "drafts"]);
    }
}
