//! Every statement of the crates.io history (285 migrations, 571 SQL files, vendored in
//! `corpus/crates-io/`) is read by the PostgreSQL parser the lock rules use, or listed here with
//! the reason it is not; and the lock rules, run over the whole history as if it were not
//! adopted, report what they would have caught (printed with `--nocapture`).

#![cfg(feature = "lint")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use migrate_core::lint;
use migrate_core::source::{DownRevision, Literal, MigrationFile, ModuleSource, Recorded};

/// The files the parser refuses, with why: each is SQL PostgreSQL refuses too.
const UNREADABLE: &[(&str, &str)] = &[(
    "20170318181441_downloads_need_no_id/down.sql",
    "no semicolon after its first statement, so PostgreSQL reads the first two lines as one statement and refuses it",
)];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/crates-io/migrations")
}

/// The migrations' folders, in the history's order (their names start with the date).
fn migrations() -> Vec<PathBuf> {
    // A missing corpus reads as empty, which the tests' counts refuse.
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Every `.sql` file under `dir`, sorted.
fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(sql_files(&path));
        } else if path.extension().is_some_and(|e| e == "sql") {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[test]
fn every_statement_of_the_corpus_is_read_or_listed_with_its_reason() {
    let mut files = 0;
    let mut statements = 0;
    let mut refused = Vec::new();
    for path in sql_files(&corpus()) {
        let text = std::fs::read_to_string(&path).expect("readable");
        files += 1;
        let name = path.strip_prefix(corpus()).unwrap_or(&path).display().to_string();
        match lint::read(&text) {
            Ok(facts) => statements += facts.len(),
            Err(error) => refused.push((name, error.line)),
        }
    }
    let listed: Vec<(String, usize)> = UNREADABLE.iter().map(|(name, _)| ((*name).to_owned(), 1)).collect();
    assert_eq!(refused, listed, "files the parser refuses, with the line of the first error");
    assert_eq!(files, 571);
    println!("{files} files, {statements} actions read, {} refused", refused.len());
    assert!(statements > files, "each file holds at least one statement: {statements}");
}

#[test]
fn the_lock_rules_over_the_whole_history() {
    let dirs = migrations();
    let files: Vec<MigrationFile> = dirs
        .iter()
        .enumerate()
        .filter_map(|(n, dir)| {
            let text = std::fs::read_to_string(dir.join("up.sql")).ok()?;
            let rev = format!("{n:012x}");
            let down = if n == 0 { DownRevision::None } else { DownRevision::One(format!("{:012x}", n - 1)) };
            let module = ModuleSource {
                name: format!("migration_{n}"),
                rev: Some(rev.clone()),
                down_revision: down,
                literals: vec![Literal { value: text, ..Literal::default() }],
                recorded: vec![Recorded::Sql { literal: 0 }],
                ..ModuleSource::default()
            };
            Some(MigrationFile {
                path: dir.display().to_string(),
                display: dir.display().to_string(),
                file_name: format!("20240101_0900_{rev}_migration_{n}.rs"),
                modules: vec![module],
                parsed: true,
                ..MigrationFile::default()
            })
        })
        .collect();
    assert_eq!(files.len(), dirs.len(), "every migration has an up.sql");
    let found = migrate_core::rules::check(&files, &migrate_core::Config::default());
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &found {
        *by_rule.entry(d.rule.as_str()).or_default() += 1;
    }
    println!("{} migrations judged; findings by rule: {by_rule:?}", files.len());
    if std::env::var_os("CORPUS_FINDINGS").is_some() {
        for d in found
            .iter()
            .filter(|d| d.rule.as_str() != "vague_slug" && !d.rule.as_str().starts_with("missing_"))
        {
            println!("{}: {}: {}", d.file.rsplit('/').next().unwrap_or(&d.file), d.rule, d.message);
        }
    }
    // The history builds tables, indexes and foreign keys on tables that hold rows in
    // production: the rules must see some of each.
    for rule in ["blocking_index", "constraint_without_not_valid", "destructive_change"] {
        assert!(by_rule.get(rule).copied().unwrap_or(0) > 0, "{rule} finds nothing: {by_rule:?}");
    }
}
