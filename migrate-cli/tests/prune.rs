//! `cargo migrate prune --not-in <url>` against a real PostgreSQL: what a database never got is
//! listed, then removed with `--yes`, and the crate still builds; what must stay stays; sealed
//! migrations, a database at base or ahead of the folder, hostile names and a wrong password are
//! refused without removing anything.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use common::{Fixture, stderr, stdout, table_migration};
use migrate_runtime::testkit::{self, Cluster, ClusterSettings, TestDatabase};

const A: &str = "0a0000000001";
const B: &str = "0b0000000002";
const C: &str = "0c0000000003";
const D: &str = "0d0000000004";
const E: &str = "0e0000000005";
const X: &str = "1a0000000006";
const M: &str = "1b0000000007";
const T: &str = "2a0000000008";
const U: &str = "2b0000000009";

/// A migration creating `table` with the SQL file `include` (relative to the folder), dropping
/// it again.
fn including(
    stamp: &str,
    rev: &str,
    parent: &str,
    slug: &str,
    table: &str,
    include: &str,
) -> (String, String) {
    let text = format!(
        "/// {slug} is needed.\n#[migration(rev = \"{rev}\", down_revision = \"{parent}\")]\nmod {slug} {{\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n        op.execute(include_str!(\"{include}\"));\n    }}\n\n    pub fn downgrade(op: &mut Op) {{\n        op.execute(\"DROP TABLE {table}\");\n    }}\n}}\n"
    );
    (format!("{stamp}_{rev}_{slug}.rs"), text)
}

/// A migration whose upgrade executes the files `includes` (never applied in these tests).
fn including_many(stamp: &str, rev: &str, parent: &str, slug: &str, includes: &[&str]) -> (String, String) {
    let calls: String =
        includes.iter().map(|i| format!("        op.execute(include_str!({i:?}));\n")).collect();
    let text = format!(
        "/// {slug} is needed.\n#[migration(rev = \"{rev}\", down_revision = \"{parent}\")]\nmod {slug} {{\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n{calls}    }}\n\n    pub fn downgrade(op: &mut Op) {{\n        op.execute(\"DROP TABLE IF EXISTS x\");\n    }}\n}}\n"
    );
    (format!("{stamp}_{rev}_{slug}.rs"), text)
}

fn write(fixture: &Fixture, name: &str, text: &str) {
    let path = fixture.dir.join("migrations").join(name);
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("creates");
    std::fs::write(path, text).expect("writes");
}

/// Every file under `dir`, by path relative to it, with its bytes; folders as empty entries
/// ending in `/`.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("reads").flatten() {
            let path = entry.path();
            let name = path.strip_prefix(root).expect("inside").to_string_lossy().into_owned();
            if path.is_dir() {
                into.insert(format!("{name}/"), Vec::new());
                walk(root, &path, into);
            } else {
                into.insert(name, std::fs::read(&path).expect("reads"));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

/// The crate's files that prune may touch: the migrations folder, Cargo.toml and src.
fn crate_files(fixture: &Fixture) -> BTreeMap<String, Vec<u8>> {
    let mut files = tree(&fixture.dir.join("migrations"));
    files.insert("../Cargo.toml".into(), std::fs::read(fixture.dir.join("Cargo.toml")).expect("reads"));
    files.insert("../src/main.rs".into(), std::fs::read(fixture.dir.join("src/main.rs")).expect("reads"));
    files
}

/// A database whose version table holds `rows` (`None`: no version table), as `stamp` leaves it.
fn stamped(rows: Option<&[&str]>) -> TestDatabase {
    let database = TestDatabase::new().expect("a test database");
    if let Some(rows) = rows {
        let mut client = database.connect().expect("connects");
        client
            .batch_execute("CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY)")
            .expect("creates the version table");
        for row in rows {
            client.execute("INSERT INTO public.alembic_version VALUES ($1)", &[row]).expect("inserts");
        }
    }
    database
}

fn done(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(output), stderr(output));
    stdout(output)
}

fn refused(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(3), "{}{}", stdout(output), stderr(output));
    stderr(output)
}

fn allow_several_bases(fixture: &Fixture) {
    let path = fixture.dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).expect("reads");
    std::fs::write(path, format!("{text}\n[package.metadata.migrate]\nallow_multiple_bases = true\n"))
        .expect("writes");
}

#[test]
fn lists_then_removes_exactly_what_was_never_deployed_and_the_crate_still_builds() {
    let mut files = vec![
        table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
        table_migration("20240102_0000", B, &[A], "add_notes_table", "Notes on people.", ""),
        including("20240103_0000", C, B, "add_shared_table", "shared_thing", "sql/shared.sql"),
        including_many("20240104_0000", D, C, "add_draft_things", &["sql/shared.sql", "sql/d_only.sql"]),
        including("20240105_0000", E, D, "add_extra_table", "extra_thing", "extra/e.sql"),
    ];
    files.sort();
    let fixture = Fixture::new("prune-main", &files);
    write(&fixture, "sql/shared.sql", "CREATE TABLE shared_thing (id int);\n");
    write(&fixture, "sql/d_only.sql", "CREATE TABLE d_only (id int);\n");
    write(&fixture, "extra/e.sql", "CREATE TABLE extra_thing (id int);\n");
    // As `import` writes it, with the revision of each imported migration.
    write(
        &fixture,
        "imported.toml",
        &format!(
            "# Written by `cargo migrate import`.\ntool = \"diesel\"\n\n[versions]\n\"1\" = \"{A}\"\n\"2\" = \"{B}\"\n\"3\" = \"{C}\"\n\"4\" = \"{D}\"\n\"5\" = \"{E}\"\n"
        ),
    );
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();
    let upgrade = fixture.run(&["--database-url", url, "upgrade", C]);
    assert!(upgrade.status.success(), "{}{}", stdout(&upgrade), stderr(&upgrade));

    // Without --yes: the list, newest first, and no file changed.
    let before = crate_files(&fixture);
    let listed = done(&fixture.run(&["prune", "--not-in", url]));
    assert_eq!(
        listed,
        format!(
            "2 migrations never deployed to the database of --not-in (at {C}), newest first:\n  \
             {E}  add_extra_table   migrations/20240105_0000_{E}_add_extra_table.rs\n  \
             {D}  add_draft_things  migrations/20240104_0000_{D}_add_draft_things.rs\n  \
             + migrations/extra/e.sql, which only they include\n  \
             + migrations/sql/d_only.sql, which only they include\n  \
             + 2 entries of migrations/imported.toml\n\
             nothing was removed: run again with --yes to remove them\n"
        )
    );
    assert_eq!(crate_files(&fixture), before, "the listing changed a file");

    // With --yes: exactly those, their own SQL files, the emptied folder and their entries.
    let removed = done(&fixture.run(&["prune", "--not-in", url, "--yes"]));
    // In the order removed: the child before its parent, each before the files only it includes.
    assert!(
        removed.contains(&format!(
            "removed 2 never-deployed migrations:\n  {E}  add_extra_table   migrations/20240105_0000_{E}_add_extra_table.rs\n  \
             {D}  add_draft_things  migrations/20240104_0000_{D}_add_draft_things.rs\n"
        )),
        "{removed}"
    );
    assert!(
        removed.ends_with(&format!(
            "removed migrations/extra/e.sql, which only they included\nremoved migrations/sql/d_only.sql, which only \
             they included\nremoved the folder migrations/extra, left empty\nremoved 2 entries of \
             migrations/imported.toml\nthe folder's head is now the database's: {C}\n"
        )),
        "{removed}"
    );
    let mut expected = before.clone();
    for gone in [
        format!("20240104_0000_{D}_add_draft_things.rs"),
        format!("20240105_0000_{E}_add_extra_table.rs"),
        "sql/d_only.sql".to_owned(),
        "extra/e.sql".to_owned(),
        "extra/".to_owned(),
    ] {
        assert!(expected.remove(&gone).is_some(), "{gone}");
    }
    expected.insert(
        "imported.toml".into(),
        format!(
            "# Written by `cargo migrate import`.\ntool = \"diesel\"\n\n[versions]\n\"1\" = \"{A}\"\n\"2\" = \"{B}\"\n\"3\" = \"{C}\"\n"
        )
        .into_bytes(),
    );
    assert_eq!(crate_files(&fixture), expected);

    // The crate still builds, and the database is at its head.
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
    let upgrade = fixture.run(&["--database-url", url, "upgrade", "head"]);
    assert!(upgrade.status.success(), "{}{}", stdout(&upgrade), stderr(&upgrade));
    assert!(stdout(&upgrade).contains(&format!("database at {C}: 0 step(s)")), "{}", stdout(&upgrade));
    // And a second prune has nothing to do.
    let again = done(&fixture.run(&["prune", "--not-in", url, "--yes"]));
    assert!(again.starts_with("nothing to prune"), "{again}");
}

#[test]
fn a_branch_forked_below_the_head_and_never_applied_goes_with_its_merge() {
    let fixture = Fixture::new(
        "prune-fork",
        &[
            table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
            table_migration("20240102_0000", B, &[A], "add_notes_table", "Notes on people.", ""),
            table_migration("20240103_0000", C, &[B], "add_tags_table", "Tags for people.", ""),
            // Forked from B, below the database's head C, then merged.
            table_migration("20240104_0000", X, &[B], "add_labels_table", "Labels, tried out.", ""),
            table_migration("20240105_0000", M, &[C, X], "add_merged_table", "Both lines.", ""),
        ],
    );
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();
    let upgrade = fixture.run(&["--database-url", url, "upgrade", C]);
    assert!(upgrade.status.success(), "{}{}", stdout(&upgrade), stderr(&upgrade));
    let listed = done(&fixture.run(&["prune", "--not-in", url]));
    assert!(
        listed.starts_with(&format!(
            "2 migrations never deployed to the database of --not-in (at {C}), newest first:\n  {M}  add_merged_table"
        )),
        "{listed}"
    );
    assert!(listed.contains(&format!("\n  {X}  add_labels_table  ")), "{listed}");
    // A changelog is written again in the same change: `check` below finds it up to date.
    done(&fixture.run(&["changelog"]));
    let removed = done(&fixture.run(&["prune", "--not-in", url, "--yes"]));
    assert!(
        removed.ends_with("wrote `CHANGELOG_DB.md` again (cargo migrate changelog --by month)\n"),
        "{removed}"
    );
    let log = std::fs::read_to_string(fixture.dir.join("CHANGELOG_DB.md")).expect("the changelog");
    assert!(!log.contains("add_labels_table"), "{log}");
    let names = fixture.migrations();
    assert_eq!(
        names,
        [
            format!("20240101_0000_{A}_add_people_table.rs"),
            format!("20240102_0000_{B}_add_notes_table.rs"),
            format!("20240103_0000_{C}_add_tags_table.rs"),
        ]
    );
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
}

#[test]
fn a_migration_of_another_tree_depending_on_a_candidate_keeps_it_and_says_why() {
    let fixture = Fixture::new(
        "prune-other-tree",
        &[
            table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
            table_migration("20240102_0000", B, &[A], "add_notes_table", "Notes on people.", ""),
            table_migration("20240103_0000", C, &[B], "add_tags_table", "Tags for people.", ""),
            table_migration("20240104_0000", D, &[C], "add_labels_table", "Labels, tried out.", ""),
            // Another tree, never applied here, that needs C.
            table_migration(
                "20240105_0000",
                T,
                &[],
                "add_audit_table",
                "Audit.",
                ", branch_labels = [\"audit\"]",
            ),
            table_migration(
                "20240106_0000",
                U,
                &[T],
                "add_audit_tags_table",
                "Audit tags.",
                &format!(", depends_on = [\"{C}\"]"),
            ),
        ],
    );
    allow_several_bases(&fixture);
    let database = stamped(Some(&[A]));
    let url = database.url();
    let listed = done(&fixture.run(&["prune", "--not-in", url]));
    let u_file = format!("migrations/20240106_0000_{U}_add_audit_tags_table.rs");
    assert!(
        listed.starts_with(&format!(
            "1 migration never deployed to the database of --not-in (at {A}), newest first:\n  {D}  add_labels_table  "
        )),
        "{listed}"
    );
    assert!(listed.contains(&format!("  (kept: {U} ({u_file}) needs it)\n")), "{listed}");
    assert!(listed.contains(&format!("  (kept: {U} ({u_file}) needs it through {C})\n")), "{listed}");
    let removed = done(&fixture.run(&["prune", "--not-in", url, "--yes"]));
    // C is now an effective head: U's row will stand for it.
    assert!(removed.contains(&format!("the folder's heads are now {U}; ")), "{removed}");
    assert_eq!(fixture.migrations().len(), 5, "{:?}", fixture.migrations());
    assert!(!fixture.migrations().iter().any(|n| n.contains(D)));
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
}

#[test]
fn a_sealed_candidate_is_refused_and_nothing_is_removed() {
    let fixture = Fixture::new(
        "prune-sealed",
        &[
            table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
            table_migration("20240102_0000", B, &[A], "add_notes_table", "Notes on people.", ""),
            table_migration("20240103_0000", C, &[B], "add_tags_table", "Tags for people.", ""),
        ],
    );
    // B was deployed somewhere (sealed); C was not.
    let seal = fixture.run(&["seal", "--to", B]);
    assert!(seal.status.success(), "{}{}", stdout(&seal), stderr(&seal));
    let database = stamped(Some(&[A]));
    let url = database.url();
    let before = crate_files(&fixture);
    let listed = done(&fixture.run(&["prune", "--not-in", url]));
    assert!(
        listed.contains(&format!("  {B}  add_notes_table  migrations/20240102_0000_{B}_add_notes_table.rs  (sealed in migrations/seal.lock: cannot be removed)\n")),
        "{listed}"
    );
    assert!(!listed.contains(&format!("{C}_add_tags_table.rs  (sealed")), "{listed}");
    assert!(listed.contains("--yes would refuse: 1 migration is sealed in migrations/seal.lock"), "{listed}");
    let said = refused(&fixture.run(&["prune", "--not-in", url, "--yes"]));
    assert!(
        said.contains(&format!(
            "error: cannot prune `{B}` (migrations/20240102_0000_{B}_add_notes_table.rs): it is sealed in \
             `migrations/seal.lock`, so it was deployed to some database, and the seal forbids deleting it"
        )),
        "{said}"
    );
    assert!(said.contains("nothing was removed"), "{said}");
    assert_eq!(crate_files(&fixture), before, "a refusal removed something");

    // A seal that cannot be read (a merge conflict left in it): what is sealed cannot be told.
    let seal_text = fixture.read("seal.lock");
    write(&fixture, "seal.lock", &format!("<<<<<<< HEAD\n{seal_text}=======\n>>>>>>> other\n"));
    let before = crate_files(&fixture);
    let said = refused(&fixture.run(&["prune", "--not-in", url]));
    assert!(said.contains("migrations/seal.lock:1: error[unreadable_seal]"), "{said}");
    assert_eq!(crate_files(&fixture), before);
}

#[test]
fn a_database_at_base_without_version_table_or_ahead_of_the_folder_is_refused() {
    let fixture = Fixture::new(
        "prune-databases",
        &[
            table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
            table_migration("20240102_0000", B, &[A], "add_notes_table", "Notes on people.", ""),
        ],
    );
    let before = crate_files(&fixture);
    for (rows, expected) in [
        (
            None,
            "error: the database of --not-in has no version table `public.alembic_version`: it is at base, so every migration of the folder would be pruned",
        ),
        (
            Some(&[][..]),
            "error: the database of --not-in has no version rows in `public.alembic_version`: it is at base",
        ),
        (
            Some(&["ffffffffffff"][..]),
            "error: the database of --not-in is at `ffffffffffff`, a revision no migration of `migrations` has: the database is ahead of this folder",
        ),
        // One row known, one not: still ahead.
        (Some(&[A, "ffffffffffff"][..]), "is at `ffffffffffff`, a revision no migration"),
    ] {
        let database = stamped(rows);
        for yes in [false, true] {
            let mut args = vec!["prune", "--not-in", database.url()];
            if yes {
                args.push("--yes");
            }
            let output = fixture.run(&args);
            let said = refused(&output);
            assert!(said.contains(expected), "{rows:?}: {said}");
            assert!(said.contains("nothing was removed"), "{said}");
            assert!(stdout(&output).is_empty(), "{}", stdout(&output));
            assert_eq!(crate_files(&fixture), before, "{rows:?}");
        }
    }
    // A folder whose graph cannot be read: refused, naming the file.
    write(
        &fixture,
        &format!("20240103_0000_{C}_add_tags_table.rs"),
        &table_migration("20240103_0000", C, &["deadbeef0000"], "add_tags_table", "Tags.", "").1,
    );
    let before = crate_files(&fixture);
    let database = stamped(Some(&[A]));
    let said = refused(&fixture.run(&["prune", "--not-in", database.url(), "--yes"]));
    assert!(said.contains(&format!("migrations/20240103_0000_{C}_add_tags_table.rs:2:")), "{said}");
    assert!(said.contains("error[unknown_down_revision]"), "{said}");
    assert_eq!(crate_files(&fixture), before);
}

#[test]
fn hostile_file_names_slugs_and_includes_remove_nothing_else() {
    let outside = std::env::temp_dir().join(format!("migrate-cli-prune-outside-{}.sql", std::process::id()));
    std::fs::write(&outside, "SELECT 1;\n").expect("writes");
    let people = format!("20240101_0000_{A}_add_people_table.rs");
    let hostile_name = format!("20240102_0000_{B}_add_notes_table\n$(rm -rf ~) 'x'.rs");
    let (_, hostile_text) = including_many(
        "20240102_0000",
        B,
        A,
        "añadir_notas_tabla",
        &[
            "../Cargo.toml",
            "../src/main.rs",
            &people,
            "seal.lock",
            "imported.toml",
            "./sql/own.sql",
            outside.to_str().expect("UTF-8"),
            "sql/missing.sql",
        ],
    );
    let fixture = Fixture::new(
        "prune-hostile",
        &[
            table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
            (hostile_name.clone(), hostile_text),
        ],
    );
    write(&fixture, "sql/own.sql", "SELECT 2;\n");
    write(&fixture, "imported.toml", &format!("tool = \"diesel\"\n\n[versions]\n\"1\" = \"{A}\"\n"));
    let before = crate_files(&fixture);
    let database = stamped(Some(&[A]));
    let url = database.url();
    let listed = done(&fixture.run(&["prune", "--not-in", url]));
    // The name is printed escaped: no line of the output is forged.
    assert!(
        listed.contains(&format!(
            "  {B}  añadir_notas_tabla  migrations/20240102_0000_{B}_add_notes_table\\n$(rm -rf ~) 'x'.rs\n"
        )),
        "{listed}"
    );
    assert!(!listed.lines().any(|l| l.starts_with("$(rm")), "{listed}");
    assert!(listed.contains("  + migrations/sql/own.sql, which only they include\n"), "{listed}");
    assert_eq!(listed.matches("  + ").count(), 1, "{listed}");
    assert_eq!(crate_files(&fixture), before);
    done(&fixture.run(&["prune", "--not-in", url, "--yes"]));
    let mut expected = before.clone();
    for gone in [hostile_name.as_str(), "sql/own.sql", "sql/"] {
        assert!(expected.remove(gone).is_some(), "{gone}");
    }
    assert_eq!(crate_files(&fixture), expected);
    assert_eq!(std::fs::read_to_string(&outside).expect("still there"), "SELECT 1;\n");
    let _ = std::fs::remove_file(&outside);
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));

    // An argument that is no connection string: an error, nothing printed of it but its kind.
    let said = refused(&fixture.run(&["prune", "--not-in", "not a url at all"]));
    assert!(said.contains("cannot connect to the database of --not-in"), "{said}");
}

#[test]
fn a_wrong_password_is_an_error_that_never_shows_it() {
    let secret = "Wr0ngPrunePassw0rd";
    let cluster = Cluster::start_with(
        &ClusterSettings::default().hba("host all prune_reader 127.0.0.1/32 scram-sha-256"),
    )
    .expect("a cluster");
    let mut admin = testkit::client(&cluster.url("postgres")).expect("connects");
    admin
        .batch_execute(
            "SET password_encryption = 'scram-sha-256'; CREATE ROLE prune_reader LOGIN PASSWORD 'right';
             CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY);
             GRANT SELECT ON public.alembic_version TO prune_reader;",
        )
        .expect("creates the role");
    admin.execute("INSERT INTO public.alembic_version VALUES ($1)", &[&A]).expect("stamps");
    let port = cluster.port();
    let fixture = Fixture::new(
        "prune-password",
        &[
            table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
            table_migration("20240102_0000", B, &[A], "add_notes_table", "Notes on people.", ""),
        ],
    );
    let before = crate_files(&fixture);
    let wrong = format!("postgres://prune_reader:{secret}@127.0.0.1:{port}/postgres");
    let inline = format!("--not-in={wrong}");
    let tls = format!("{wrong}?sslmode=require");
    for args in [
        vec!["prune", "--not-in", wrong.as_str(), "--yes"],
        vec!["prune", inline.as_str()],
        // TLS asked of a server without it: refused, again without the password.
        vec!["prune", "--not-in", tls.as_str()],
    ] {
        let output = fixture.run(&args);
        let (out, err) = (stdout(&output), stderr(&output));
        assert_eq!(output.status.code(), Some(3), "{args:?}: {out}{err}");
        assert!(err.contains("cannot connect to the database of --not-in"), "{err}");
        assert!(!out.contains(secret) && !err.contains(secret), "{args:?} printed the password: {out}{err}");
    }
    let said = stderr(&fixture.run(&["prune", "--not-in", &wrong]));
    assert!(said.contains("password authentication failed"), "{said}");
    assert_eq!(crate_files(&fixture), before);
    // The right password, TLS preferred (libpq's default): read through.
    let right = format!("postgres://prune_reader:right@127.0.0.1:{port}/postgres?sslmode=prefer");
    let listed = done(&fixture.run(&["prune", "--not-in", &right]));
    assert!(listed.contains(&format!("  {B}  add_notes_table  ")), "{listed}");
}

/// Appends `[package.metadata.migrate]` with `ignore = names` to the fixture's Cargo.toml.
fn ignore(fixture: &Fixture, names: &[&str]) {
    let path = fixture.dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).expect("reads");
    std::fs::write(path, format!("{text}\n[package.metadata.migrate]\nignore = {names:?}\n"))
        .expect("writes");
}

#[test]
fn a_file_reached_through_a_symbolic_link_is_judged_by_its_real_path() {
    // A subfolder that is a symbolic link to the crate's sources: what the migration to prune
    // includes through it is the crate's file, outside the folder, and stays.
    let fixture = Fixture::new(
        "prune-symlink-outside",
        &[
            table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
            table_migration("20240102_0000", B, &[A], "add_notes_table", "Notes on people.", ""),
            including("20240104_0000", D, B, "add_draft_things", "draft_thing", "sql/keep.sql"),
        ],
    );
    std::fs::create_dir_all(fixture.dir.join("src/sqlsrc")).expect("creates");
    std::fs::write(fixture.dir.join("src/sqlsrc/keep.sql"), "SELECT 1;\n").expect("writes");
    std::os::unix::fs::symlink("../src/sqlsrc", fixture.dir.join("migrations/sql")).expect("links");
    ignore(&fixture, &["sql"]);
    let database = stamped(Some(&[B]));
    let url = database.url();
    let why = "which only they include: its real path src/sqlsrc/keep.sql is outside the migrations folder";
    let listed = done(&fixture.run(&["prune", "--not-in", url]));
    assert!(listed.contains(&format!("  (kept: migrations/sql/keep.sql, {why})\n")), "{listed}");
    assert!(!listed.contains("  + "), "{listed}");
    let removed = done(&fixture.run(&["prune", "--not-in", url, "--yes"]));
    assert!(
        removed
            .contains(&format!("kept migrations/sql/keep.sql, {}\n", why.replace("include:", "included:"))),
        "{removed}"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.dir.join("src/sqlsrc/keep.sql")).expect("still there"),
        "SELECT 1;\n"
    );
    assert!(std::fs::symlink_metadata(fixture.dir.join("migrations/sql")).expect("the link").is_symlink());
    assert!(!fixture.migrations().iter().any(|n| n.contains(D)), "{:?}", fixture.migrations());
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));

    // Two spellings of one file (`alias` links to `sql`) are one file: what a deployed
    // migration includes under one stays when the migration to prune names it under the other,
    // whichever way round.
    let fixture = Fixture::new(
        "prune-symlink-alias",
        &[
            table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
            including_many("20240102_0000", B, A, "add_notes_table", &["sql/x.sql", "alias/y.sql"]),
            including_many(
                "20240104_0000",
                D,
                B,
                "add_draft_things",
                &["alias/x.sql", "sql/y.sql", "alias/z.sql"],
            ),
        ],
    );
    write(&fixture, "sql/x.sql", "SELECT 'x';\n");
    write(&fixture, "sql/y.sql", "SELECT 'y';\n");
    write(&fixture, "sql/z.sql", "SELECT 'z';\n");
    std::os::unix::fs::symlink("sql", fixture.dir.join("migrations/alias")).expect("links");
    // `sql/y.sql` is named only through the link once D is gone.
    ignore(&fixture, &["alias", "sql/y.sql", "sql/z.sql"]);
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
    let before = tree(&fixture.dir.join("migrations"));
    let database = stamped(Some(&[B]));
    let listed = done(&fixture.run(&["prune", "--not-in", database.url()]));
    // Named only through the link, `z.sql` stays too, and the list says why.
    let why = "it is reached through a symbolic link (its real path is migrations/sql/z.sql), and nothing is \
               removed through one";
    assert!(
        listed.contains(&format!("  (kept: migrations/alias/z.sql, which only they include: {why})\n")),
        "{listed}"
    );
    assert_eq!(listed.matches("(kept: ").count(), 1, "{listed}");
    assert!(!listed.contains("  + "), "{listed}");
    let removed = done(&fixture.run(&["prune", "--not-in", database.url(), "--yes"]));
    assert!(
        removed.contains(&format!("kept migrations/alias/z.sql, which only they included: {why}\n")),
        "{removed}"
    );
    assert!(
        !removed.contains("removed migrations/sql") && !removed.contains("removed migrations/alias"),
        "{removed}"
    );
    let mut expected = before;
    assert!(expected.remove(&format!("20240104_0000_{D}_add_draft_things.rs")).is_some());
    assert_eq!(tree(&fixture.dir.join("migrations")), expected);
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
}

#[test]
fn redundant_rows_and_a_refused_connection_are_said_as_they_are() {
    let fixture = Fixture::new(
        "prune-redundant-rows",
        &[
            table_migration("20240101_0000", A, &[], "add_people_table", "People first.", ""),
            table_migration("20240102_0000", B, &[A], "add_notes_table", "Notes on people.", ""),
            table_migration("20240103_0000", C, &[B], "add_tags_table", "Tags for people.", ""),
        ],
    );
    // A's row adds nothing to B's: the database is at B, the folder's head once C is gone.
    let database = stamped(Some(&[A, B]));
    let removed = done(&fixture.run(&["prune", "--not-in", database.url(), "--yes"]));
    assert!(removed.ends_with(&format!("the folder's head is now the database's: {B}\n")), "{removed}");

    // Nothing listens there: the help speaks of the URL given to --not-in.
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("binds").local_addr().expect("a port").port();
    let before = crate_files(&fixture);
    let said = refused(&fixture.run(&[
        "prune",
        "--not-in",
        &format!("postgres://nobody:Secr3t@127.0.0.1:{port}/db"),
    ]));
    assert!(said.contains("cannot connect to the database of --not-in"), "{said}");
    assert!(
        said.contains("= help: check that the server runs and that the URL given to --not-in is right; nothing was removed"),
        "{said}"
    );
    assert!(!said.contains("DATABASE_URL") && !said.contains("Secr3t"), "{said}");
    assert_eq!(said.matches("= help:").count(), 1, "{said}");
    assert_eq!(crate_files(&fixture), before);
}
