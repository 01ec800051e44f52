//! `adopt`: a database that Diesel, sqlx or refinery migrated, whose history was imported
//! (`import`), is stamped at the revision of the last migration that tool applied, read from
//! the tool's own table, so that `upgrade head` goes on from there.
//!
//! The import records which imported revision each source version became in
//! `migrations/imported.toml` ([`IMPORTED`]); `adopt` reads it, then the tool's applied
//! versions, and refuses what a stamp would get wrong before running the `stamp` command of
//! the migrator: an applied version the import does not have, an imported migration before
//! the last applied one that the tool never applied (the stamp would mark it applied), a
//! database that already has version rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use migrate_core::rules::stray_file::IMPORTED;
use migrate_core::version::{OTHER_TOOLS, Tables};

use crate::project::{History, Project};

/// A tool whose database can be adopted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Old {
    Diesel,
    Sqlx,
    Refinery,
}

impl Old {
    /// As `import --from` and the mapping's `tool` spell it.
    fn parse(key: &str) -> Option<Old> {
        match key {
            "diesel" => Some(Old::Diesel),
            "sqlx" => Some(Old::Sqlx),
            "refinery" => Some(Old::Refinery),
            _ => None,
        }
    }

    /// As messages name it.
    fn name(self) -> &'static str {
        match self {
            Old::Diesel => "Diesel",
            Old::Sqlx => "sqlx",
            Old::Refinery => "refinery",
        }
    }

    /// The table where it records what it applied: the one the runtime's refusal to start
    /// from base names it by.
    fn table(self) -> &'static str {
        OTHER_TOOLS.iter().find(|(_, tool)| *tool == self.name()).map_or("", |(table, _)| table)
    }

    /// Its table in every schema outside the system's (the ones where the runtime's refusal
    /// to start from base looks for it), schema-qualified: the tool may keep it outside
    /// `public` (a `search_path`), and adopt reads the one upgrade names.
    fn located_sql(self) -> String {
        format!(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = '{}' \
             AND c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1",
            self.table()
        )
    }

    /// The versions it applied in `table` (schema-qualified), one row each: the version as
    /// text and whether it succeeded (sqlx records failed ones too).
    fn applied_sql(self, table: &str) -> String {
        let success = if self == Old::Sqlx { "success" } else { "true" };
        format!("SELECT version::text, {success} FROM {table} ORDER BY version")
    }

    /// The tool's order of versions: Diesel's are strings, sqlx's and refinery's numbers.
    fn order(self, a: &str, b: &str) -> std::cmp::Ordering {
        match self {
            Old::Diesel => a.cmp(b),
            Old::Sqlx | Old::Refinery => match (a.parse::<i64>(), b.parse::<i64>()) {
                (Ok(a), Ok(b)) => a.cmp(&b),
                _ => a.cmp(b),
            },
        }
    }
}

/// The text of `migrations/imported.toml`: the tool (as `--from` names it) and each source
/// version with its revision, in the tool's order.
pub(crate) fn mapping_text(key: &str, tool: &str, versions: &[(String, String)]) -> String {
    let mut text = format!(
        "# Written by `cargo migrate import`: the {tool} version of each imported migration and its\n\
         # revision, in {tool}'s order. `cargo migrate adopt` reads it to stamp a database {tool}\n\
         # migrated at the revision of the last migration {tool} applied; keep it while one may be left.\n\
         tool = \"{key}\"\n\n[versions]\n"
    );
    // Quoted as TOML quotes: a Diesel version is whatever precedes the folder name's first
    // `_`, quotes and backslashes included.
    let quoted = |s: &str| toml::Value::String(s.to_owned()).to_string();
    for (version, rev) in versions {
        let _ = writeln!(text, "{} = {}", quoted(version), quoted(rev));
    }
    text
}

/// What `migrations/imported.toml` says.
#[derive(Debug, PartialEq, Eq)]
struct Mapping {
    tool: Old,
    /// Source version and revision, in the tool's order.
    versions: Vec<(String, String)>,
}

/// Reads the mapping from its text; `shown` is its path as messages show it.
fn parse_mapping(text: &str, shown: &str) -> Result<Mapping> {
    let redo = "it is written by `cargo migrate import`: restore it from version control, or import the history again";
    let table: toml::Table =
        text.parse().map_err(|e| anyhow::anyhow!("`{shown}` is not valid TOML: {e}\n= help: {redo}"))?;
    let key = table.get("tool").and_then(toml::Value::as_str).unwrap_or_default();
    let Some(tool) = Old::parse(key) else {
        bail!(
            "`{shown}` names no tool whose database can be adopted: `tool` must be \"diesel\", \"sqlx\" or \
             \"refinery\"\n= help: {redo}"
        );
    };
    let Some(listed) = table.get("versions").and_then(toml::Value::as_table) else {
        bail!("`{shown}` has no [versions] table\n= help: {redo}");
    };
    let mut versions = Vec::new();
    for (version, rev) in listed {
        let Some(rev) = rev.as_str() else {
            bail!("`{shown}`: the revision of version `{version}` is not a string\n= help: {redo}");
        };
        versions.push((version.clone(), rev.to_owned()));
    }
    versions.sort_by(|a, b| tool.order(&a.0, &b.0));
    Ok(Mapping { tool, versions })
}

/// The index in `mapping` of the last version the tool applied (None: it applied none), once
/// `applied` is known to be exactly the first versions of the import.
fn last_applied(
    mapping: &Mapping,
    applied: &[String],
    describe: &dyn Fn(&str) -> String,
) -> Result<Option<usize>> {
    let tool = mapping.tool.name();
    let position: BTreeMap<&str, usize> =
        mapping.versions.iter().enumerate().map(|(i, (v, _))| (v.as_str(), i)).collect();
    let unknown: Vec<&str> =
        applied.iter().map(String::as_str).filter(|v| !position.contains_key(v)).collect();
    if !unknown.is_empty() {
        bail!(
            "{tool} applied {} that no imported migration has: {}; the database ran a history the import does not \
             hold\n= help: import the {tool} folder deployed to this database (`cargo migrate import`), or record \
             where the database stands by hand with `cargo migrate stamp <revision>`",
            if unknown.len() == 1 { "a version" } else { "versions" },
            unknown.join(", ")
        );
    }
    let Some(last) = applied.iter().filter_map(|v| position.get(v.as_str()).copied()).max() else {
        return Ok(None);
    };
    let missing: Vec<String> = mapping.versions[..last]
        .iter()
        .filter(|(v, _)| !applied.contains(v))
        .map(|(v, rev)| format!("{v} ({})", describe(rev)))
        .collect();
    if !missing.is_empty() {
        let (version, rev) = &mapping.versions[last];
        bail!(
            "{tool} never applied {}, which {} before its last applied version {version}: stamping {rev} would mark \
             {} applied\n= help: apply {} first as {tool} would (its SQL is the `.up.sql` beside the migration; then \
             add its version to `{}`), then adopt again; or record where the database really stands with \
             `cargo migrate stamp <revision>`",
            missing.join(", "),
            if missing.len() == 1 { "comes" } else { "come" },
            if missing.len() == 1 { "it" } else { "them" },
            if missing.len() == 1 { "it" } else { "them" },
            mapping.tool.table()
        );
    }
    Ok(Some(last))
}

/// What `adopt` found.
pub(crate) enum Adopted {
    /// Stamp this revision; the line says what the tool applied.
    Stamp {
        /// The revision.
        rev: String,
        /// What to print first.
        said: String,
    },
    /// Nothing to stamp, and why.
    Nothing(String),
}

/// The rows of `sql`, as text; `None` when its table does not exist.
fn query(client: &mut postgres::Client, sql: &str, what: &str) -> Result<Option<Vec<Vec<Option<String>>>>> {
    match crate::project::text_rows(client, sql) {
        Ok(rows) => Ok(Some(rows)),
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {what}: {}", crate::project::db_message(&e))),
    }
}

/// Reads the mapping and the database, and says which revision to stamp, or refuses.
pub(crate) fn adopt(project: &Project, database_url: Option<String>) -> Result<Adopted> {
    let path = project.folder().join(IMPORTED);
    let shown = format!("{}/{IMPORTED}", project.settings.folder.display());
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "no `{shown}`: adopt stamps a database that Diesel, sqlx or refinery migrated, from the history \
             `cargo migrate import` brought in, and this crate has no imported history\n= help: import it first \
             (`cargo migrate import --from diesel|sqlx|refinery <dir>`), or record where the database stands with \
             `cargo migrate stamp <revision>`"
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{shown}`")),
    };
    let mapping = parse_mapping(&text, &shown)?;
    let tool = mapping.tool.name();
    let history = History::of(&project.scan()?);
    let entry = |rev: &str| history.entries.iter().find(|e| e.rev == rev);
    if let Some((version, rev)) = mapping.versions.iter().find(|(_, rev)| entry(rev).is_none()) {
        bail!(
            "`{shown}` maps {tool}'s version {version} to the revision {rev}, which no migration file has\n= help: \
             restore the imported migration files, or `{shown}` as the import wrote it"
        );
    }
    // Stamping the last applied version's revision marks its ancestors applied: each revision
    // must come once, and each after the previous one (the import writes them so; a hand edit
    // may not).
    for (i, (version, rev)) in mapping.versions.iter().enumerate().skip(1) {
        let (before, earlier) = &mapping.versions[i - 1];
        let (Some(node), Some(prior)) = (history.graph.node(rev), history.graph.node(earlier)) else {
            continue;
        };
        if let Some((other, _)) = mapping.versions[..i].iter().find(|(_, r)| r == rev) {
            bail!(
                "`{shown}` maps both {tool} versions {other} and {version} to the revision {rev}: each imported \
                 migration has one version, so a revision cannot come twice\n= help: restore `{shown}` as the import \
                 wrote it"
            );
        }
        if !history.graph.ancestors(&[node])[prior] {
            bail!(
                "`{shown}` lists {tool}'s version {version} (revision {rev}) after {before} (revision {earlier}), but \
                 {rev} does not come after {earlier} in the migrations: the tool's order and the migrations' \
                 disagree, and the stamp would mark applied what {tool} did not apply\n= help: restore `{shown}` as the \
                 import wrote it"
            );
        }
    }
    let describe = |rev: &str| match entry(rev) {
        Some(e) => format!("revision {rev}, {}", e.file),
        None => format!("revision {rev}"),
    };

    let url = migrate_runtime::cli::need_url(database_url).map_err(anyhow::Error::msg)?;
    let mut client = migrate_runtime::testkit::client(&url).map_err(|e| anyhow::anyhow!("{e}"))?;
    let tables = Tables::default();
    let [version_rows, _, _] = tables.state_sql();
    let rows = query(&mut client, &version_rows, "the version table")?.unwrap_or_default();
    let rows: Vec<String> = rows.into_iter().filter_map(|r| r.into_iter().next().flatten()).collect();
    if !rows.is_empty() {
        bail!(
            "the database already has version rows ({}): it was adopted or migrated by migrate already, and \
             {tool}'s table is history\n= help: `cargo migrate current` shows where it stands and `cargo migrate \
             upgrade head` goes on from there; to record another revision, `cargo migrate stamp --purge <revision>`",
            rows.join(", ")
        );
    }
    let name = mapping.tool.table();
    let located = query(&mut client, &mapping.tool.located_sql(), "the catalog")?.unwrap_or_default();
    let located: Vec<String> = located.into_iter().filter_map(|r| r.into_iter().next().flatten()).collect();
    let table = match located.as_slice() {
        [] => {
            return Ok(Adopted::Nothing(format!(
                "the database has no `{name}`: {tool} applied nothing here, so there is nothing to stamp; `cargo \
                 migrate upgrade head` applies the history from its first migration"
            )));
        }
        [table] => table.as_str(),
        several => bail!(
            "the database has {} tables named `{name}` ({}): which one holds what {tool} applied here is not \
             guessed\n= help: drop or rename the ones {tool} does not use for this database, then adopt again",
            several.len(),
            several.join(", ")
        ),
    };
    let Some(found) = query(&mut client, &mapping.tool.applied_sql(table), &format!("`{table}`"))? else {
        bail!("cannot read `{table}`: it was dropped while adopt read it");
    };
    let failed: Vec<String> = found
        .iter()
        .filter(|r| r.get(1).cloned().flatten().as_deref() == Some("f"))
        .filter_map(|r| r.first().cloned().flatten())
        .collect();
    if !failed.is_empty() {
        bail!(
            "{tool} recorded version {} as failed in `{table}`: the schema may hold part of its changes\n= help: \
             finish or undo it by hand, delete its row from `{table}`, then adopt again",
            failed.join(", ")
        );
    }
    let applied: Vec<String> = found.into_iter().filter_map(|r| r.into_iter().next().flatten()).collect();
    let Some(last) = last_applied(&mapping, &applied, &describe)? else {
        return Ok(Adopted::Nothing(format!(
            "{tool} applied none of the {} imported migrations here (`{table}` is empty): nothing to stamp; to apply \
             them all, run `cargo migrate stamp base` once (upgrade refuses to start from base beside `{table}`), \
             then `cargo migrate upgrade head`",
            mapping.versions.len()
        )));
    };
    let (version, rev) = &mapping.versions[last];
    Ok(Adopted::Stamp {
        rev: rev.clone(),
        said: format!(
            "{tool} applied {} of the {} imported migrations, the last being version {version} ({}): stamping {rev}",
            last + 1,
            mapping.versions.len(),
            describe(rev)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(tool: Old, versions: &[&str]) -> Mapping {
        Mapping {
            tool,
            versions: versions
                .iter()
                .enumerate()
                .map(|(i, v)| ((*v).to_owned(), format!("rev{i}")))
                .collect(),
        }
    }

    fn last(mapping: &Mapping, applied: &[&str]) -> Result<Option<usize>> {
        let applied: Vec<String> = applied.iter().map(|v| (*v).to_owned()).collect();
        last_applied(mapping, &applied, &|rev| format!("revision {rev}"))
    }

    #[test]
    fn each_tool_has_its_table() {
        let tables: Vec<&str> = [Old::Diesel, Old::Sqlx, Old::Refinery].iter().map(|t| t.table()).collect();
        assert_eq!(tables, ["__diesel_schema_migrations", "_sqlx_migrations", "refinery_schema_history"]);
    }

    #[test]
    fn the_mapping_reads_back_in_the_tools_order() {
        let versions: Vec<(String, String)> =
            [("2", "b"), ("10", "c"), ("1", "a")].iter().map(|(v, r)| ((*v).into(), (*r).into())).collect();
        let text = mapping_text("sqlx", "sqlx", &versions);
        let read = parse_mapping(&text, "migrations/imported.toml").expect("reads");
        assert_eq!(read.tool, Old::Sqlx);
        let order: Vec<&str> = read.versions.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(order, ["1", "2", "10"], "numbers, not strings");
        let diesel = parse_mapping(&mapping_text("diesel", "Diesel", &versions), "m").expect("reads");
        let order: Vec<&str> = diesel.versions.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(order, ["1", "10", "2"], "Diesel's versions are strings");
        let refused = parse_mapping("tool = \"alembic\"\n[versions]\n", "m").expect_err("refused");
        assert!(refused.to_string().contains("`tool` must be"), "{refused}");
    }

    #[test]
    fn the_applied_versions_must_be_the_first_of_the_import() {
        let mapping = mapping(Old::Diesel, &["20240101000000", "20240102000000", "20240103000000"]);
        assert_eq!(last(&mapping, &[]).expect("none"), None);
        assert_eq!(last(&mapping, &["20240101000000", "20240102000000"]).expect("a prefix"), Some(1));
        let unknown =
            last(&mapping, &["20240101000000", "20990101000000", "20990102000000"]).expect_err("unknown");
        assert!(
            unknown.to_string().starts_with(
                "Diesel applied versions that no imported migration has: 20990101000000, 20990102000000"
            ),
            "{unknown}"
        );
        let gap = last(&mapping, &["20240101000000", "20240103000000"]).expect_err("a gap");
        assert!(
            gap.to_string().starts_with(
                "Diesel never applied 20240102000000 (revision rev1), which comes before its last applied version \
                 20240103000000: stamping rev2 would mark it applied"
            ),
            "{gap}"
        );
    }
}
