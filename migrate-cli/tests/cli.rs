//! `cargo migrate` over fixture crates made in temporary folders, as a user's crate is made.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use common::{Fixture, stderr, stdout};
use migrate_runtime::testkit::TestDatabase;

fn migration(stamp: &str, rev: &str, parents: &[&str], slug: &str, why: &str) -> (String, String) {
    common::table_migration(stamp, rev, parents, slug, why, "")
}

const A: &str = "aaaa00000001";
const B: &str = "bbbb00000002";
const C: &str = "cccc00000003";

fn forked() -> Vec<(String, String)> {
    vec![
        migration("20241021_0900", A, &[], "add_people_table", "People first."),
        migration("20241022_0900", B, &[A], "add_notes_table", "Notes on people."),
        migration("20241023_0900", C, &[A], "add_tags_table", "Tags for people."),
    ]
}

#[test]
fn revision_names_and_parents_new_files() {
    let fixture = Fixture::new("revision", &[]);
    let first = fixture.run(&["revision", "-m", "add_people_table"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let names = fixture.migrations();
    assert_eq!(names.len(), 1);
    let name = &names[0];
    assert!(stdout(&first).starts_with(&format!("created migrations/{name}")), "{}", stdout(&first));
    let parsed = migrate_core::naming::FileName::parse(name, None).expect("a well-formed name");
    assert_eq!(parsed.slug, "add_people_table");
    let text = fixture.read(name);
    assert!(
        text.contains(&format!("#[migration(rev = \"{}\", down_revision = None)]", parsed.rev)),
        "{text}"
    );
    assert!(text.starts_with("/// TODO: say why this change is needed.\n"), "{text}");

    let second = fixture.run(&["revision", "-m", "add_people_phone_column"]);
    assert!(second.status.success(), "{}", stderr(&second));
    let names = fixture.migrations();
    // Both files may carry the same minute, and then sort by their random ids.
    let second_name = names.iter().find(|n| *n != name).expect("a second file");
    let text = fixture.read(second_name);

    assert!(text.contains(&format!("down_revision = \"{}\"", parsed.rev)), "the head is the parent: {text}");

    // A vague name is refused before anything is written.
    let vague = fixture.run(&["revision", "-m", "update_db"]);
    assert_eq!(vague.status.code(), Some(3), "a refusal exits 3");
    assert!(stderr(&vague).contains("slug `update_db` is vague"), "{}", stderr(&vague));
    assert_eq!(fixture.migrations().len(), 2);

    // The template does not build until its why is written: check says so, under the module.
    let check = fixture.run(&["check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).contains("error[missing_why]"), "{}", stdout(&check));
    // Nor until both functions are written: each placeholder is reported under itself.
    let placeholders =
        |check: &std::process::Output| stdout(check).matches("error[unwritten_template]").count();
    assert_eq!(placeholders(&check), 4, "{}", stdout(&check));
    assert!(stdout(&check).contains("is still a placeholder: `todo!`"), "{}", stdout(&check));
    // The caret runs under `todo!("record the change on `op`")`, from the name to the parenthesis.
    assert!(stdout(&check).contains(&format!("        {}\n", "^".repeat(34))), "{}", stdout(&check));

    // Filling in the why and only the upgrade leaves the downgrade's placeholder.
    let write =
        |text: &str| std::fs::write(fixture.dir.join("migrations").join(second_name), text).expect("writes");
    let why = text.replace("TODO: say why this change is needed.", "Sales call people back by phone.");
    let upgrade = "op.add_column(\"people\", \"phone\", Type::Text);";
    let downgrade = "op.drop_column(\"people\", \"phone\");";
    let half = why.replace("todo!(\"record the change on `op`\")", upgrade);
    write(&half);
    let check = fixture.run(&["check"]);
    assert_eq!(placeholders(&check), 3, "{}", stdout(&check));
    // Dodges record nothing all the same: `let _ = op;` in the downgrade, `drop(op)` in the upgrade.
    write(&half.replace("todo!(\"undo the change on `op`\")", "let _ = op;"));
    let check = fixture.run(&["check"]);
    assert_eq!(placeholders(&check), 2, "{}", stdout(&check));
    assert!(stdout(&check).contains("error[empty_downgrade]"), "{}", stdout(&check));
    write(
        &why.replace("todo!(\"record the change on `op`\")", "drop(op);")
            .replace("todo!(\"undo the change on `op`\")", downgrade),
    );
    let check = fixture.run(&["check"]);
    assert!(
        stdout(&check).contains(
            "error[empty_upgrade]: `upgrade` of migration `add_people_phone_column` records no operation"
        ),
        "{}",
        stdout(&check)
    );
    assert!(!stdout(&check).contains("error[empty_downgrade]"), "{}", stdout(&check));
}

#[test]
fn several_heads_refuse_a_revision_until_merged() {
    let fixture = Fixture::new("merge", &forked());
    let refused = fixture.run(&["revision", "-m", "add_emails_table"]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        stderr(&refused).contains(&format!("the history has 2 heads (`{B}` and `{C}`)")),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("cargo migrate merge -m <slug>"), "{}", stderr(&refused));

    let merged = fixture.run(&["merge", "-m", "merge_notes_and_tags"]);
    assert!(merged.status.success(), "{}", stderr(&merged));
    let names = fixture.migrations();
    let text = fixture.read(&names[3]);
    assert!(text.contains(&format!("down_revision = [\"{B}\", \"{C}\"]")), "{text}");
    let heads = fixture.run(&["heads"]);
    assert_eq!(stdout(&heads).lines().count(), 1, "{}", stdout(&heads));
    assert!(stdout(&heads).contains("(head) (mergepoint), merge_notes_and_tags"), "{}", stdout(&heads));

    let nothing = fixture.run(&["merge", "-m", "merge_again_twice"]);
    assert_eq!(nothing.status.code(), Some(3));
    assert!(stderr(&nothing).contains("nothing to merge"), "{}", stderr(&nothing));
}

#[test]
fn heads_history_and_show() {
    let fixture = Fixture::new("history", &forked());
    insta::assert_snapshot!("history", stdout(&fixture.run(&["history"])));
    insta::assert_snapshot!(
        "history_verbose_range",
        stdout(&fixture.run(&["history", "--verbose", "-r", ":bbbb"]))
    );
    insta::assert_snapshot!("heads", stdout(&fixture.run(&["heads"])));
    insta::assert_snapshot!("show", stdout(&fixture.run(&["show", "aaaa"])));
    let json = fixture.run(&["--json", "heads"]);
    let heads: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(heads.as_array().map(Vec::len), Some(2));
    assert_eq!(heads[0]["rev"], B);
    assert_eq!(heads[1]["parents"][0], A);
    let unknown = fixture.run(&["show", "zzzz"]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(stderr(&unknown).contains("unknown revision `zzzz`"), "{}", stderr(&unknown));
    let usage = fixture.run(&["show"]);
    assert_eq!(usage.status.code(), Some(2), "a wrong command line exits 2");

    // A reader that went away (`cargo migrate history | head`) ends the command quietly.
    let mut closed = fixture.command(&["history", "--verbose"]);
    let mut child = closed
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs cargo-migrate");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("reaps");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn check_prints_like_rustc() {
    let mut files = vec![migration("20241021_0900", A, &[], "add_people_table", "People first.")];
    let (name, text) = migration("20241022_0900", B, &[A], "update_db", "Something.");
    files.push((name, text.replace("op.drop_table(\"update_db\");", "")));
    files.push(("notes.rs".to_owned(), "fn helper() {}\n".to_owned()));
    let fixture = Fixture::new("check", &files);
    let check = fixture.run(&["check"]);
    assert_eq!(check.status.code(), Some(1));
    insta::assert_snapshot!("check", stdout(&check));
    let json = fixture.run(&["--json", "check"]);
    let problems: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let rules: Vec<&str> =
        problems.as_array().expect("a list").iter().filter_map(|p| p["rule"].as_str()).collect();
    assert_eq!(rules, ["vague_slug", "empty_downgrade", "item_outside_migration"]);

    let clean = Fixture::new("check-clean", &forked()[..2]);
    let check = clean.run(&["check"]);
    assert!(check.status.success(), "{}", stdout(&check));
    assert_eq!(stdout(&check), "2 migration files in migrations: no problem\n");
}

#[test]
fn check_names_every_stray_entry_of_the_folder() {
    let fixture = Fixture::new("stray", &forked()[..2]);
    let folder = fixture.dir.join("migrations");
    for (name, text) in
        [("env.py", "x = 1\n"), (".draft.rs", ""), ("20241023_0900_cccc00000003_add_tags_table.RS", "")]
    {
        std::fs::write(folder.join(name), text).expect("writes");
    }
    std::fs::create_dir_all(folder.join("old")).expect("creates");
    std::fs::write(folder.join("old/20200101_0000_dddd00000004_add_old_table.rs"), "").expect("writes");
    let check = fixture.run(&["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    let out = stdout(&check);
    assert_eq!(out.matches("error[stray_file]").count(), 4, "{out}");
    assert!(
        out.contains("error[stray_file]: `migrations/env.py` in the migrations folder is neither a migration file nor a file a migration includes\n --> migrations/env.py\n  = help: "),
        "{out}"
    );
    assert!(out.contains("hidden file `migrations/.draft.rs`"), "{out}");
    assert!(out.contains("folder `migrations/old` in the migrations folder"), "{out}");
    assert!(out.contains("rename it `20241023_0900_cccc00000003_add_tags_table.rs`"), "{out}");

    // Listed on purpose, they pass.
    let manifest = fixture.dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("reads");
    let listed = "\n[package.metadata.migrate]\nignore = [\"env.py\", \".draft.rs\", \"old\", \"20241023_0900_cccc00000003_add_tags_table.RS\"]\n";
    std::fs::write(&manifest, text.replacen("\n[dependencies]", &format!("{listed}\n[dependencies]"), 1))
        .expect("writes");
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
}

#[test]
fn database_commands_through_the_migrator() {
    let mut files = forked();
    files.push(migration("20241024_0900", "dddd00000004", &[B, C], "merge_notes_and_tags", "Both shipped."));
    // The merge creates nothing: empty bodies.
    let (name, text) = files.pop().expect("the merge");
    let text = text
        .replace("pub fn upgrade(op: &mut Op) {\n        op.create_table(\"merge_notes_and_tags\", |t| {\n            t.column(\"id\", Type::BigInt).identity().primary_key();\n        });\n    }", "pub fn upgrade(_op: &mut Op) {}")
        .replace("pub fn downgrade(op: &mut Op) {\n        op.drop_table(\"merge_notes_and_tags\");\n    }", "pub fn downgrade(_op: &mut Op) {}");
    files.push((name, text));
    let fixture = Fixture::new("database", &files);
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();

    let no_database = fixture.run(&["current"]);
    assert_eq!(no_database.status.code(), Some(3));
    assert!(stderr(&no_database).contains("no database: set DATABASE_URL"), "{}", stderr(&no_database));

    let upgrade = fixture.run(&["--database-url", url, "upgrade", "head"]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    assert!(stdout(&upgrade).starts_with("database at dddd00000004: 4 step(s)"), "{}", stdout(&upgrade));
    assert!(
        stderr(&upgrade).contains(&format!("upgrade {A} add_people_table")),
        "progress: {}",
        stderr(&upgrade)
    );

    let current = fixture.run(&["--database-url", url, "--json", "current"]);
    assert_eq!(stdout(&current).trim(), "{\"current\": [\"dddd00000004\"], \"effective_heads\": []}");
    assert_eq!(fixture.run(&["--database-url", url, "check", "--db"]).status.code(), Some(0));

    let down = fixture.run(&["--database-url", url, "downgrade", C]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(fixture.run(&["--database-url", url, "check", "--db"]).status.code(), Some(1));
    // The migrator's own command line says the same: 1 for a difference, 3 for a refusal.
    let migrator = fixture.migrator().expect("the migrator");
    let embedded = |args: &[&str]| {
        std::process::Command::new(&migrator).args(args).env("DATABASE_URL", url).output().expect("runs")
    };
    assert_eq!(embedded(&["check", "--db"]).status.code(), Some(1));
    for args in [&["stamp", "zzzz"][..], &["downgrade", "zzzz"]] {
        let (ours, theirs) = (fixture.run(&[&["--database-url", url][..], args].concat()), embedded(args));
        assert_eq!(
            (ours.status.code(), theirs.status.code()),
            (Some(3), Some(3)),
            "{args:?}: {}",
            stderr(&ours)
        );
        assert!(stderr(&ours).contains("unknown revision `zzzz`"), "{}", stderr(&ours));
    }
    let history = fixture.run(&["--database-url", url, "history", "--db"]);
    assert!(
        stdout(&history).contains(&format!("{A} -> {C} (head) (current)"))
            || stdout(&history).contains(&format!("{A} -> {C} (current)")),
        "{}",
        stdout(&history)
    );

    // .env is read when nothing else names the database.
    std::fs::write(fixture.dir.join(".env"), format!("DATABASE_URL={url}\n")).expect("writes .env");
    let again = fixture.run(&["upgrade", "heads"]);
    assert!(again.status.success(), "{}", stderr(&again));

    let sql = fixture.run(&["upgrade", "head", "--sql"]);
    assert!(sql.status.success(), "{}", stderr(&sql));
    assert!(stdout(&sql).contains("CREATE TABLE \"people\""), "{}", stdout(&sql));
    let bad = fixture.run(&["downgrade", "base", "--sql"]);
    assert_eq!(bad.status.code(), Some(3));
    assert!(stderr(&bad).contains("needs a range FROM:TO"), "{}", stderr(&bad));
}

/// The commands `cargo migrate` shares with a binary's embedded command line.
const DATABASE_COMMANDS: [&str; 12] = [
    "current",
    "upgrade",
    "downgrade",
    "stamp",
    "check",
    "history",
    "heads",
    "bases",
    "show",
    "test",
    "accept",
    "schema",
];

#[test]
fn database_commands_are_the_embedded_ones_checked_before_any_build() {
    let fixture = Fixture::new("embedded", &forked()[..2]);

    // A wrong command line and the help need no migrator: nothing is built.
    let usage = fixture.run(&["upgrade", "head", "--bogus"]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
    assert!(stderr(&usage).contains("unexpected argument '--bogus'"), "{}", stderr(&usage));
    let help = fixture.run(&["downgrade", "--help"]);
    assert_eq!(help.status.code(), Some(0), "{}", stderr(&help));
    assert!(stdout(&help).starts_with("Revert migrations down to TARGET"), "{}", stdout(&help));
    for output in [&usage, &help] {
        assert!(!stderr(output).contains("migrator"), "built: {}", stderr(output));
    }
    assert_eq!(fixture.migrator(), None, "nothing built");

    // The first database command builds the migrator and says so on stderr; stdout holds
    // the script alone.
    let first = fixture.run(&["upgrade", "heads", "--sql"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first)
            .starts_with("building the migrator of `cli-fixture` (first time; later runs reuse it)\n"),
        "{}",
        stderr(&first)
    );
    assert!(stdout(&first).starts_with("CREATE TABLE IF NOT EXISTS"), "{}", stdout(&first));
    let later = fixture.run(&["upgrade", "heads", "--sql"]);
    assert_eq!(stdout(&later), stdout(&first));
    assert!(
        !stderr(&later).contains("migrator") && !stderr(&later).contains("Compiling"),
        "{}",
        stderr(&later)
    );

    // Both command lines print the same help for every database command: the same definition.
    let migrator = fixture.migrator().expect("the migrator");
    for command in DATABASE_COMMANDS {
        let ours = fixture.run(&[command, "--help"]);
        let embedded =
            std::process::Command::new(&migrator).args([command, "--help"]).output().expect("runs");
        assert_eq!((ours.status.code(), embedded.status.code()), (Some(0), Some(0)), "{command}");
        assert_eq!(
            stdout(&ours).replace("Usage: cargo migrate ", "Usage: migrate "),
            stdout(&embedded),
            "{command} --help"
        );
    }

    // And the same exit codes: a refusal exits 3, a wrong command line 2, in both.
    for (args, code) in [
        (&["upgrade", "zzzz", "--sql"][..], 3),
        (&["downgrade", "base", "--sql"], 3),
        (&["stamp"], 2),
        (&["upgrade", "head", "--bogus"], 2),
    ] {
        let ours = fixture.run(args);
        let embedded = std::process::Command::new(&migrator).args(args).output().expect("runs");
        assert_eq!(ours.status.code(), Some(code), "cargo migrate {args:?}: {}", stderr(&ours));
        assert_eq!(embedded.status.code(), Some(code), "migrator {args:?}: {}", stderr(&embedded));
        // Past cargo's lines, when it waited for a lock another test held.
        let message = |text: String| text.find("error:").map(|at| text[at..].to_owned()).unwrap_or(text);
        assert_eq!(
            message(stderr(&ours)).replace("Usage: cargo migrate ", "Usage: migrate "),
            message(stderr(&embedded)),
            "{args:?}"
        );
    }
    let refused = fixture.run(&["revision", "-m", "update_db"]);
    assert_eq!(refused.status.code(), Some(3), "a refusal of cargo migrate's own exits 3 too");
}

/// Writes `files` (path, text) under a fresh folder named for the test; returns it.
fn source_folder(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migrate-cli-source-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("creates");
        std::fs::write(path, text).expect("writes");
    }
    dir
}

#[test]
fn sqlx_import_keeps_order_downgrades_and_transactions() {
    let source = source_folder(
        "sqlx",
        &[
            (
                "10_add_email_index.sql",
                "-- no-transaction\nCREATE INDEX CONCURRENTLY people_email ON people (email);\n",
            ),
            ("2_create_people.up.sql", "CREATE TABLE people (id int PRIMARY KEY, email text);\n"),
            ("2_create_people.down.sql", "DROP TABLE people;\n"),
            ("notes.txt", "not a migration"),
        ],
    );
    let fixture = Fixture::new("import-sqlx", &[]);
    let import = fixture.run(&["import", "--from", "sqlx", source.to_str().expect("UTF-8")]);
    assert!(import.status.success(), "{}", stderr(&import));
    assert!(
        stdout(&import).starts_with(
            "imported 2 migrations into migrations (1 outside a transaction, 1 without a downgrade)"
        ),
        "{}",
        stdout(&import)
    );
    let rust: Vec<String> = fixture.migrations().into_iter().filter(|n| n.ends_with(".rs")).collect();
    assert_eq!(rust.len(), 2);
    let texts: Vec<String> = rust.iter().map(|n| fixture.read(n)).collect();
    let people = texts.iter().find(|t| t.contains("mod create_people")).expect("the first migration");
    let index = texts.iter().find(|t| t.contains("mod add_email_index")).expect("the second migration");
    assert!(people.contains("down_revision = None") && people.contains(".down.sql\"));"), "{people}");
    let people_rev = people.split("rev = \"").nth(1).and_then(|r| r.get(..12)).expect("a revision");
    assert!(index.contains(&format!("down_revision = \"{people_rev}\", transactional = false")), "{index}");
    assert!(index.contains("op.irreversible(\"the sqlx migration had no down.sql\");"), "{index}");
    let sql = rust[0].replace(".rs", ".up.sql");
    assert!(fixture.migrations().contains(&sql), "the SQL beside the migration");
    assert!(
        std::fs::read_to_string(fixture.dir.join("Cargo.toml")).expect("reads").contains("start_after = \"")
    );

    // The rules pass as imported, and the history applies.
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}", stdout(&check));
    let database = TestDatabase::new().expect("a test database");
    let upgrade = fixture.run(&["--database-url", database.url(), "upgrade", "head"]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));

    // A second import into the same folder is refused.
    let again = fixture.run(&["import", "--from", "sqlx", source.to_str().expect("UTF-8")]);
    assert_eq!(again.status.code(), Some(3));
    assert!(stderr(&again).contains("already holds migrations"), "{}", stderr(&again));
    let _ = std::fs::remove_dir_all(source);
}

#[test]
fn refinery_import_walks_subfolders_and_refuses_rust_migrations() {
    let source = source_folder(
        "refinery",
        &[
            ("V1__create_people.sql", "CREATE TABLE people (id int PRIMARY KEY);\n"),
            ("later/V3__add_email.sql", "ALTER TABLE people ADD COLUMN email text;\n"),
            ("V2__add_name.rs", "pub fn migration() -> String { String::new() }\n"),
        ],
    );
    let fixture = Fixture::new("import-refinery", &[]);
    let refused = fixture.run(&["import", "--from", "refinery", source.to_str().expect("UTF-8")]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(stderr(&refused).contains("V2__add_name.rs` is a Rust migration"), "{}", stderr(&refused));
    assert!(fixture.migrations().is_empty(), "nothing written");

    std::fs::remove_file(source.join("V2__add_name.rs")).expect("removes");
    let import = fixture.run(&["import", "--from", "refinery", source.to_str().expect("UTF-8")]);
    assert!(import.status.success(), "{}", stderr(&import));
    assert!(
        stdout(&import).contains("(0 outside a transaction, 2 without a downgrade)"),
        "{}",
        stdout(&import)
    );
    // Newest first: version 3 from the subfolder follows version 1.
    let history = stdout(&fixture.run(&["history"]));
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 2, "{history}");
    assert!(
        lines[0].contains("(head), add_email: Imported from the refinery migration `V3__add_email.sql`."),
        "{history}"
    );
    assert!(lines[1].starts_with("<base> -> ") && lines[1].contains("create_people"), "{history}");
    let _ = std::fs::remove_dir_all(source);
}

#[test]
fn diesel_import_refuses_two_migrations_with_one_version() {
    let source = source_folder(
        "diesel",
        &[
            ("2024-01-01-000000_create_people/up.sql", "CREATE TABLE people ();\n"),
            ("2024-01-01-000000_create_users/up.sql", "CREATE TABLE users ();\n"),
        ],
    );
    let fixture = Fixture::new("import-diesel", &[]);
    let refused = fixture.run(&["import", "--from", "diesel", source.to_str().expect("UTF-8")]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        stderr(&refused).contains(
            "`2024-01-01-000000_create_people` and `2024-01-01-000000_create_users` have the same version 20240101000000"
        ),
        "{}",
        stderr(&refused)
    );
    assert!(fixture.migrations().is_empty(), "nothing written");
    assert!(!std::fs::read_to_string(fixture.dir.join("Cargo.toml")).expect("reads").contains("start_after"));
    let _ = std::fs::remove_dir_all(source);
}
