//! `import --from diesel|sqlx|refinery <dir>`: a history written for another tool becomes a
//! chain of migrations, one per source migration, in the source tool's order. Each keeps its
//! SQL byte for byte in sibling `.sql` files run by `op.execute(include_str!(…))`, its
//! transaction setting, and its downgrade (or `irreversible` when it has none); its file name
//! takes the date and the name of the source migration. The crate's `start_after` is set to
//! the last imported revision, so the style rules, which the history predates, apply only to
//! what comes after it. `imported.toml` maps each source version to its revision, for `adopt`.
//!
//! Everything is read and planned before anything is written: a source the importer refuses
//! leaves the crate as it was.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use migrate_build::Settings;
use migrate_core::naming::FileName;
use migrate_core::rules::stray_file::IMPORTED;
use migrate_core::sql::needs_no_transaction;

use crate::project::Project;
use crate::revision::{down_revision, migration_text};
use crate::time::stamp_now;

/// The tools whose histories can be imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Tool {
    /// diesel_migrations: `VERSION_name/up.sql`, `down.sql`, `metadata.toml`.
    Diesel,
    /// sqlx: `VERSION_name.sql`, or `VERSION_name.up.sql` with `VERSION_name.down.sql`.
    Sqlx,
    /// refinery: `V{n}__name.sql` and `U{n}__name.sql`, in any subfolder.
    Refinery,
    /// Alembic: a project with `alembic.ini`, imported by [`crate::alembic`].
    Alembic,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Diesel => "Diesel",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::Alembic => "Alembic",
        }
    }
}

/// One migration of the source tool.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Source {
    /// What the source tool calls it: its folder or file name.
    origin: String,
    /// Its version, as the tool writes it.
    version: String,
    /// Its name, as the tool writes it.
    name: String,
    /// The upgrade's SQL file.
    up: PathBuf,
    /// The downgrade's SQL file, if it has one.
    down: Option<PathBuf>,
    /// Whether the tool runs it inside a transaction.
    transactional: bool,
}

/// What a source folder holds.
#[derive(Debug, Default)]
struct Read {
    /// The migrations, in the tool's order.
    migrations: Vec<Source>,
    /// Entries the tool ignores too, with the reason.
    skipped: Vec<String>,
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("cannot read `{}`: {e}", path.display())
}

/// The entries of a folder, sorted by name.
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error(dir))? {
        let entry = entry.map_err(read_error(dir))?;
        let is_dir = entry.file_type().map_err(read_error(&entry.path()))?.is_dir();
        found.push((entry.file_name().to_string_lossy().into_owned(), entry.path(), is_dir));
    }
    found.sort();
    Ok(found)
}

/// Refuses two sources sharing a version, naming both.
fn duplicate(migrations: &[Source], tool: Tool) -> Result<()> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for source in migrations {
        if let Some(first) = seen.insert(&source.version, &source.origin) {
            bail!(
                "`{first}` and `{}` have the same version {}: {} would run only one of them, or fail\n\
                 = help: give one of them a version of its own, then import again",
                source.origin,
                source.version,
                tool.name()
            );
        }
    }
    Ok(())
}

/// Diesel: one folder per migration, `VERSION_name`, the version being the part before the
/// first `_` without its dashes; applied in the string order of versions.
fn read_diesel(dir: &Path) -> Result<Read> {
    let mut read = Read::default();
    for (name, path, is_dir) in entries(dir)? {
        if !is_dir || name.starts_with('.') {
            read.skipped.push(format!("{name} (not a migration folder)"));
            continue;
        }
        let (version, description) = name.split_once('_').unwrap_or((&name, ""));
        let up = path.join("up.sql");
        if !up.is_file() {
            bail!(
                "`{}` has no up.sql: Diesel cannot run it either\n= help: add it, or move the folder out",
                path.display()
            );
        }
        let down = Some(path.join("down.sql")).filter(|p| p.is_file());
        let metadata = path.join("metadata.toml");
        let transactional = if metadata.is_file() {
            let text = std::fs::read_to_string(&metadata).map_err(read_error(&metadata))?;
            let table: toml::Table =
                text.parse().with_context(|| format!("`{}` is not valid TOML", metadata.display()))?;
            match table.get("run_in_transaction") {
                None => true,
                Some(value) => value.as_bool().with_context(|| {
                    format!("`run_in_transaction` in `{}` must be `true` or `false`", metadata.display())
                })?,
            }
        } else {
            true
        };
        read.migrations.push(Source {
            origin: name.clone(),
            version: version.replace('-', ""),
            name: description.to_owned(),
            up,
            down,
            transactional,
        });
    }
    read.migrations.sort_by(|a, b| a.version.cmp(&b.version));
    duplicate(&read.migrations, Tool::Diesel)?;
    Ok(read)
}

/// Whether a sqlx migration file opts out of the transaction: it starts with the exact bytes
/// `-- no-transaction`, as sqlx checks.
fn sqlx_no_transaction(path: &Path) -> Result<bool> {
    Ok(std::fs::read_to_string(path).map_err(read_error(path))?.starts_with("-- no-transaction"))
}

/// sqlx: `VERSION_name.sql` (no downgrade), or `VERSION_name.up.sql` with
/// `VERSION_name.down.sql`, in one folder; applied in the numeric order of versions.
fn read_sqlx(dir: &Path) -> Result<Read> {
    /// The files of one sqlx migration: the simple or up file, and the down file.
    struct Files {
        origin: String,
        name: String,
        up: Option<PathBuf>,
        down: Option<PathBuf>,
    }
    let mut read = Read::default();
    let mut found: BTreeMap<i64, Vec<Files>> = BTreeMap::new();
    for (file, path, is_dir) in entries(dir)? {
        let stem = file.strip_suffix(".sql");
        let Some((version, name)) = stem.filter(|_| !is_dir).and_then(|s| s.split_once('_')) else {
            read.skipped.push(format!("{file} (not `VERSION_name.sql`)"));
            continue;
        };
        let number: i64 = version.parse().with_context(|| {
            format!("`{file}`: the version `{version}` is not an integer, which sqlx refuses too")
        })?;
        let (name, up, down) = if let Some(name) = name.strip_suffix(".up") {
            (name, Some(path), None)
        } else if let Some(name) = name.strip_suffix(".down") {
            (name, None, Some(path))
        } else {
            (name, Some(path), None)
        };
        let versions = found.entry(number).or_default();
        match versions.iter_mut().find(|f| f.name == name) {
            Some(pair) if pair.up.is_none() && up.is_some() => pair.up = up,
            Some(pair) if pair.down.is_none() && down.is_some() => pair.down = down,
            _ => versions.push(Files { origin: file.clone(), name: name.to_owned(), up, down }),
        }
    }
    for (number, versions) in found {
        for Files { origin, name, up, down } in versions {
            let Some(up) = up else {
                bail!(
                    "`{origin}` has no matching `{number}_{name}.up.sql`\n= help: add it, or remove the downgrade"
                );
            };
            let mut transactional = !sqlx_no_transaction(&up)?;
            if let Some(down) = &down {
                transactional &= !sqlx_no_transaction(down)?;
            }
            let origin = origin.replace(".down.sql", ".up.sql");
            read.migrations.push(Source {
                origin,
                version: number.to_string(),
                name,
                up,
                down,
                transactional,
            });
        }
    }
    duplicate(&read.migrations, Tool::Sqlx)?;
    Ok(read)
}

/// refinery: `V{n}__name.sql` and `U{n}__name.sql` anywhere under the folder; applied in the
/// numeric order of versions, always inside a transaction, never reverted.
fn read_refinery(dir: &Path) -> Result<Read> {
    let mut read = Read::default();
    let mut folders = vec![dir.to_path_buf()];
    let mut found: Vec<(i64, Source)> = Vec::new();
    while let Some(folder) = folders.pop() {
        for (file, path, is_dir) in entries(&folder)? {
            if is_dir {
                folders.push(path);
                continue;
            }
            let parsed = file
                .strip_prefix(['V', 'U'])
                .and_then(|rest| rest.split_once("__"))
                .and_then(|(version, rest)| Some((version.parse::<i64>().ok()?, rest)));
            let Some((number, rest)) = parsed else {
                read.skipped.push(format!("{file} (not `V{{n}}__name.sql`)"));
                continue;
            };
            if rest.ends_with(".rs") {
                bail!(
                    "`{}` is a Rust migration: it computes its SQL when it runs, which cannot be imported\n\
                     = help: print what its `migration()` returns into `V{number}__{}.sql` beside it, remove the .rs file, then import again",
                    path.display(),
                    rest.trim_end_matches(".rs")
                );
            }
            let Some(name) = rest.strip_suffix(".sql") else {
                read.skipped.push(format!("{file} (not `V{{n}}__name.sql`)"));
                continue;
            };
            found.push((
                number,
                Source {
                    origin: file.clone(),
                    version: number.to_string(),
                    name: name.to_owned(),
                    up: path,
                    down: None,
                    transactional: true,
                },
            ));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.origin.cmp(&b.1.origin)));
    read.migrations = found.into_iter().map(|(_, source)| source).collect();
    duplicate(&read.migrations, Tool::Refinery)?;
    Ok(read)
}

/// `YYYYMMDD_HHMM` when the version starts with a real date and time (`20170309122510`,
/// `2017-09-23-182408`, `2025-11-19-091444-0000`).
pub(crate) fn stamp_of(version: &str) -> Option<String> {
    let digits: String = version.chars().filter(char::is_ascii_digit).collect();
    let stamp = format!("{}_{}", digits.get(..8)?, digits.get(8..12)?);
    FileName::check_timestamp(&stamp).ok().map(|()| stamp)
}

/// Every migration's stamp: its own date when its version is one; else the previous one's,
/// or the next one's for those before the first date, so the files still sort in the order
/// of the history; the import's time when no version is a date (sequential numbers).
fn stamps(migrations: &[Source]) -> Vec<String> {
    let own: Vec<Option<String>> = migrations.iter().map(|m| stamp_of(&m.version)).collect();
    let fallback = own.iter().flatten().next().cloned().unwrap_or_else(stamp_now);
    let mut last = fallback;
    own.into_iter()
        .map(|stamp| {
            if let Some(stamp) = stamp {
                last = stamp;
            }
            last.clone()
        })
        .collect()
}

/// Rust's keywords, which a module cannot be named.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "static",
    "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual",
    "where", "while", "yield",
];

/// The source name as a slug: lowercase ASCII words joined by single underscores; never empty,
/// never starting with a digit, never a keyword.
pub(crate) fn slug_of(name: &str, version: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
    }
    let slug = slug.trim_end_matches('_').to_owned();
    if slug.is_empty() {
        let digits: String = version.chars().filter(char::is_ascii_alphanumeric).collect();
        return format!("migration_{}", digits.to_ascii_lowercase());
    }
    if slug.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("migration_{slug}");
    }
    if KEYWORDS.contains(&slug.as_str()) {
        return format!("{slug}_migration");
    }
    slug
}

/// A twelve-hex revision id derived from the source migration, so that importing the same
/// history twice writes the same files (FNV-1a, 48 bits).
fn rev_of(tool: Tool, origin: &str, attempt: u32) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{}:{origin}:{attempt}", tool.name()).bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", hash & 0xffff_ffff_ffff)
}

/// One file to write: its name in the migrations folder and its text.
type Planned = (String, String);

/// The files of the import, and the last revision.
fn plan(tool: Tool, migrations: &[Source]) -> Result<(Vec<Planned>, String)> {
    let stamps = stamps(migrations);
    let mut files = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    let mut parent: Option<String> = None;
    // Each source version and its revision, for `adopt`.
    let mut mapped: Vec<(String, String)> = Vec::new();
    for (source, stamp) in migrations.iter().zip(stamps) {
        let mut attempt = 0;
        let mut rev = rev_of(tool, &source.origin, attempt);
        while taken.contains(&rev) {
            attempt += 1;
            rev = rev_of(tool, &source.origin, attempt);
        }
        taken.push(rev.clone());
        mapped.push((source.version.clone(), rev.clone()));
        let slug = slug_of(&source.name, &source.version);
        let file_name = FileName::format(&stamp, &rev, &slug);
        let stem = file_name.trim_end_matches(".rs");
        let up = std::fs::read_to_string(&source.up).map_err(read_error(&source.up))?;
        let down = match &source.down {
            Some(path) => Some(std::fs::read_to_string(path).map_err(read_error(path))?),
            None => None,
        };
        // Whether the build would run it outside a transaction unless told otherwise.
        let inferred = needs_no_transaction(&up) || down.as_deref().is_some_and(needs_no_transaction);
        let transactional = match (source.transactional, inferred) {
            (false, _) => ", transactional = false",
            // The tool runs it in a transaction although its SQL looks as if it could not.
            (true, true) => ", transactional = true",
            (true, false) => "",
        };
        let mut functions = format!(
            "    pub fn upgrade(op: &mut Op) {{\n        op.execute(include_str!(\"{stem}.up.sql\"));\n    }}\n\n    pub fn downgrade(op: &mut Op) {{\n"
        );
        let irreversible = match tool {
            Tool::Refinery => "refinery migrations have no downgrade",
            Tool::Diesel => "the Diesel migration had no down.sql",
            Tool::Sqlx => "the sqlx migration had no down.sql",
            Tool::Alembic => "the Alembic migration had no downgrade",
        };
        match down {
            Some(down) => {
                let _ = writeln!(functions, "        op.execute(include_str!(\"{stem}.down.sql\"));");
                files.push((format!("{stem}.down.sql"), down));
            }
            None => {
                let _ = writeln!(functions, "        op.irreversible(\"{irreversible}\");");
            }
        }
        functions.push_str("    }\n");
        let why = format!("Imported from the {} migration `{}`.", tool.name(), source.origin);
        let parents: Vec<&String> = parent.iter().collect();
        let text = migration_text(&why, &rev, &down_revision(&parents), transactional, &slug, &functions);
        files.push((format!("{stem}.up.sql"), up));
        files.push((file_name, text));
        parent = Some(rev);
    }
    let key = tool.name().to_ascii_lowercase();
    files.push((IMPORTED.to_owned(), crate::adopt::mapping_text(&key, tool.name(), &mapped)));
    match parent {
        Some(last) => Ok((files, last)),
        None => bail!("no {} migration found", tool.name()),
    }
}

/// The Cargo.toml text with `start_after = "<rev>"` under `[package.metadata.migrate]`, the
/// rest of the file as it was (only that line added or replaced), checked by reading it back.
pub(crate) fn with_start_after(manifest: &str, rev: &str) -> Result<String> {
    let setting = format!("start_after = \"{rev}\"");
    let lines: Vec<&str> = manifest.lines().collect();
    let header = lines.iter().position(|l| l.trim() == "[package.metadata.migrate]");
    let text = match header {
        Some(header) => {
            let end = lines[header + 1..]
                .iter()
                .position(|l| l.trim_start().starts_with('['))
                .map_or(lines.len(), |n| header + 1 + n);
            let existing = (header + 1..end)
                .find(|&i| lines[i].split('=').next().is_some_and(|key| key.trim() == "start_after"));
            let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            match existing {
                Some(i) => out[i] = setting.clone(),
                None => out.insert(header + 1, setting.clone()),
            }
            out.join("\n") + "\n"
        }
        None => format!("{}\n\n[package.metadata.migrate]\n{setting}\n", manifest.trim_end()),
    };
    let before = Settings::parse(manifest).ok();
    match Settings::parse(&text) {
        Ok(settings)
            if settings.config.start_after.as_deref() == Some(rev)
                && before.is_none_or(|b| b.folder == settings.folder) =>
        {
            Ok(text)
        }
        _ => bail!(
            "cannot set `{setting}` under [package.metadata.migrate] in Cargo.toml by itself (it is written in \
             another form)\n= help: add it by hand"
        ),
    }
}

/// What an import did, for the summary.
pub(crate) struct Imported {
    /// How many migrations.
    pub(crate) count: usize,
    /// How many run outside a transaction.
    pub(crate) outside_transaction: usize,
    /// How many have no downgrade.
    pub(crate) irreversible: usize,
    /// What the source tool ignores too.
    pub(crate) skipped: Vec<String>,
    /// The last revision, now `start_after`.
    pub(crate) last: String,
}

/// Imports the history in `dir` into the project's empty migrations folder.
pub(crate) fn import(project: &Project, tool: Tool, dir: &Path) -> Result<Imported> {
    let folder = project.folder();
    if folder.is_dir() && !project.scan()?.files.is_empty() {
        bail!(
            "`{}` already holds migrations: an import starts a history\n= help: import into a crate whose migrations folder is empty",
            folder.display()
        );
    }
    let read = match tool {
        Tool::Diesel => read_diesel(dir)?,
        Tool::Sqlx => read_sqlx(dir)?,
        Tool::Refinery => read_refinery(dir)?,
        Tool::Alembic => bail!("an Alembic project is imported by `alembic::import`"),
    };
    let (files, last) = plan(tool, &read.migrations)?;
    let manifest_text = std::fs::read_to_string(&project.manifest).map_err(read_error(&project.manifest))?;
    let manifest_text = with_start_after(&manifest_text, &last)?;
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create `{}`", folder.display()))?;
    for (name, text) in &files {
        let path = folder.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    std::fs::write(&project.manifest, manifest_text)
        .with_context(|| format!("cannot write `{}`", project.manifest.display()))?;
    Ok(Imported {
        count: read.migrations.len(),
        outside_transaction: read.migrations.iter().filter(|m| !m.transactional).count(),
        irreversible: read.migrations.iter().filter(|m| m.down.is_none()).count(),
        skipped: read.skipped,
        last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(version: &str) -> Source {
        Source {
            origin: version.to_owned(),
            version: version.to_owned(),
            name: String::new(),
            up: PathBuf::new(),
            down: None,
            transactional: true,
        }
    }

    #[test]
    fn versions_that_are_dates_give_the_stamp() {
        assert_eq!(stamp_of("20170309122510").as_deref(), Some("20170309_1225"));
        assert_eq!(stamp_of("2017-09-23-182408").as_deref(), Some("20170923_1824"));
        assert_eq!(stamp_of("2025-11-19-091444-0000").as_deref(), Some("20251119_0914"));
        assert_eq!(stamp_of("00000000000000"), None);
        assert_eq!(stamp_of("20171399000000"), None);
        assert_eq!(stamp_of("3"), None);
    }

    #[test]
    fn versions_that_are_not_dates_borrow_a_neighbours_stamp() {
        let migrations =
            [source("00000000000000"), source("20140924113530"), source("7"), source("20141001080000")];
        assert_eq!(stamps(&migrations), ["20140924_1135", "20140924_1135", "20140924_1135", "20141001_0800"]);
        let sequential = stamps(&[source("1"), source("2")]);
        assert_eq!(sequential[0], sequential[1]);
        assert_eq!(FileName::check_timestamp(&sequential[0]), Ok(()));
    }

    #[test]
    fn names_become_module_names() {
        assert_eq!(
            slug_of("Add email notifications to crate owners", "1"),
            "add_email_notifications_to_crate_owners"
        );
        assert_eq!(slug_of("make-unique-version-unique", "1"), "make_unique_version_unique");
        assert_eq!(slug_of("  --weird__Name!!", "1"), "weird_name");
        assert_eq!(slug_of("2fa", "1"), "migration_2fa");
        assert_eq!(slug_of("type", "1"), "type_migration");
        assert_eq!(slug_of("", "2017-09-23-182408"), "migration_20170923182408");
    }

    #[test]
    fn ids_are_stable_and_twelve_hex() {
        let rev = rev_of(Tool::Diesel, "20170309122510_x", 0);
        assert_eq!(rev, rev_of(Tool::Diesel, "20170309122510_x", 0));
        assert_ne!(rev, rev_of(Tool::Diesel, "20170309122510_x", 1));
        assert_ne!(rev, rev_of(Tool::Sqlx, "20170309122510_x", 0));
        assert_eq!(migrate_core::id::IdFormat::Hex12.check(&rev), Ok(()));
    }

    #[test]
    fn start_after_is_added_or_replaced_and_nothing_else_changes() {
        let plain = "[package]\nname = \"x\"\n\n[dependencies]\nserde = \"1\"\n";
        assert_eq!(
            with_start_after(plain, "a1b2c3d4e5f6").expect("adds"),
            format!("{}\n[package.metadata.migrate]\nstart_after = \"a1b2c3d4e5f6\"\n", plain)
        );
        let configured = "[package]\nname = \"x\"\n\n[package.metadata.migrate]\nfolder = \"db\"\nstart_after = \"old\"\n\n[dependencies]\n";
        assert_eq!(
            with_start_after(configured, "a1b2c3d4e5f6").expect("replaces"),
            "[package]\nname = \"x\"\n\n[package.metadata.migrate]\nfolder = \"db\"\nstart_after = \"a1b2c3d4e5f6\"\n\n[dependencies]\n"
        );
        let inline = "[package]\nname = \"x\"\nmetadata = { migrate = { folder = \"db\" } }\n";
        assert!(with_start_after(inline, "a1b2c3d4e5f6").is_err());
    }
}
