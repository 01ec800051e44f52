//! Branches in `cargo migrate`: `revision --head/--splice/--branch-label/--depends-on`, `bases`,
//! and history ranges and listings with branch labels and dependencies, over fixture crates.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fixture, stderr, stdout};
use migrate_runtime::testkit::TestDatabase;

/// A migration file creating a table, with `more` attribute arguments after `down_revision`.
fn migration(stamp: &str, rev: &str, parents: &[&str], slug: &str, more: &str) -> (String, String) {
    common::table_migration(stamp, rev, parents, slug, &format!("Why {slug}."), more)
}

const A: &str = "aaaa00000001";
const B: &str = "bbbb00000002";
const C: &str = "cccc00000003";
const L: &str = "1111000000aa";
const M: &str = "2222000000bb";

/// Adds `settings` under `[package.metadata.migrate]` of the fixture's Cargo.toml.
fn set(fixture: &Fixture, settings: &str) {
    let manifest = fixture.dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("reads");
    let text = text.replacen(
        "\n[dependencies]",
        &format!("\n[package.metadata.migrate]\n{settings}\n\n[dependencies]"),
        1,
    );
    std::fs::write(&manifest, text).expect("writes");
}

/// The file of the migration whose slug is `slug`.
fn file_of(fixture: &Fixture, slug: &str) -> String {
    let names = fixture.migrations();
    let name = names.iter().find(|n| n.ends_with(&format!("_{slug}.rs"))).expect("the file");
    fixture.read(name)
}

/// The id the file of `slug` was given.
fn rev_of(fixture: &Fixture, slug: &str) -> String {
    let text = file_of(fixture, slug);
    text.split("rev = \"").nth(1).and_then(|r| r.split('"').next()).expect("a revision").to_owned()
}

/// Writes the why and both functions of the template of `slug`, so that it builds.
fn fill_in(fixture: &Fixture, slug: &str) {
    let names = fixture.migrations();
    let name = names.iter().find(|n| n.ends_with(&format!("_{slug}.rs"))).expect("the file");
    let table = slug.trim_start_matches("add_").trim_end_matches("_table");
    let text = fixture
        .read(name)
        .replace("TODO: say why this change is needed.", "Audits need it.")
        .replace(
            "todo!(\"record the change on `op`\")",
            &format!(
                "op.create_table(\"{table}\", |t| {{ t.column(\"id\", Type::BigInt).primary_key(); }});"
            ),
        )
        .replace("todo!(\"undo the change on `op`\")", &format!("op.drop_table(\"{table}\");"));
    std::fs::write(fixture.dir.join("migrations").join(name), text).expect("writes");
}

#[test]
fn revision_places_labels_and_depends() {
    let fixture = Fixture::new(
        "branching-revision",
        &[
            migration("20241021_0900", A, &[], "add_people_table", ""),
            migration("20241022_0900", B, &[A], "add_notes_table", ""),
        ],
    );
    let refused = |args: &[&str], says: &str| {
        let before = fixture.migrations();
        let output = fixture.run(args);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(says), "{args:?}: {}", stderr(&output));
        assert_eq!(fixture.migrations(), before, "{args:?}: nothing written");
        stderr(&output)
    };
    let created = |args: &[&str]| {
        let output = fixture.run(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    };

    refused(&["revision", "-m", "add_audit_log_table", "--head", "zzzz"], "--head: unknown revision `zzzz`");
    refused(
        &["revision", "-m", "add_audit_log_table", "--head", "aaaa"],
        &format!("revision `{A}` is not a head revision; add --splice to create a new branch from it"),
    );
    refused(&["revision", "-m", "add_audit_log_table", "--head", "nope@head"], "unknown branch `nope`");

    created(&[
        "revision",
        "-m",
        "add_audit_log_table",
        "--head",
        "aaaa",
        "--splice",
        "--branch-label",
        "audit",
    ]);
    let audit = rev_of(&fixture, "add_audit_log_table");
    assert!(
        file_of(&fixture, "add_audit_log_table")
            .contains(&format!("down_revision = \"{A}\", branch_labels = [\"audit\"])]")),
        "{}",
        file_of(&fixture, "add_audit_log_table")
    );

    // Two heads now: a plain revision does not know which to follow, and says how to name it.
    refused(&["revision", "-m", "add_emails_table"], "`--head <label>@head`");

    // Labels the build would refuse are refused first, in the build's words.
    refused(
        &["revision", "-m", "add_audit_entries_table", "--head", "audit@head", "--branch-label", "audit"],
        &format!("branch label `audit` is already declared by revision `{audit}`"),
    );
    refused(
        &["revision", "-m", "add_audit_entries_table", "--head", "audit@head", "--branch-label", "bbbb"],
        &format!("branch label `bbbb` reads as a prefix of revision `{B}`"),
    );
    refused(
        &["revision", "-m", "add_audit_entries_table", "--head", "audit@head", "--branch-label", "head"],
        "branch label `head` is a word of the target grammar",
    );
    refused(
        &["revision", "-m", "add_audit_entries_table", "--head", "audit@head", "--depends-on", "nope"],
        "--depends-on: unknown revision `nope`",
    );

    // Following a branch's head, depending on the other line by prefix (written in full) and
    // on a label (written as given).
    created(&["revision", "-m", "add_audit_entries_table", "--head", "audit@head", "--depends-on", "bbbb"]);
    let entries = file_of(&fixture, "add_audit_entries_table");
    assert!(entries.contains(&format!("down_revision = \"{audit}\", depends_on = [\"{B}\"])]")), "{entries}");
    created(&["revision", "-m", "add_reports_table", "--head", B, "--depends-on", "audit"]);
    let reports = file_of(&fixture, "add_reports_table");
    assert!(reports.contains(&format!("down_revision = \"{B}\", depends_on = [\"audit\"])]")), "{reports}");

    // A new base needs a label, and the setting the build reads.
    let said = refused(&["revision", "-m", "add_plugins_table", "--head", "base"], "needs a branch label");
    assert!(said.contains("allow_multiple_bases = true"), "{said}");
    refused(
        &["revision", "-m", "add_plugins_table", "--head", "base", "--branch-label", "plugins"],
        "set `allow_multiple_bases = true`",
    );
    set(&fixture, "allow_multiple_bases = true\nallow_multiple_heads = true");
    created(&["revision", "-m", "add_plugins_table", "--head", "base", "--branch-label", "plugins"]);
    assert!(
        file_of(&fixture, "add_plugins_table")
            .contains("down_revision = None, branch_labels = [\"plugins\"])]")
    );

    // The files written are what the build accepts: the rules pass, and the crate builds.
    for slug in ["add_audit_log_table", "add_audit_entries_table", "add_reports_table", "add_plugins_table"] {
        fill_in(&fixture, slug);
    }
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}", stdout(&check));
    let build = fixture.cargo(&["build", "--quiet"]);
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));

    let history = stdout(&fixture.run(&["history"]));
    assert!(
        history.contains(&format!(
            "{audit} ({B}) -> {} (audit) (head), add_audit_entries_table",
            rev_of(&fixture, "add_audit_entries_table")
        )),
        "{history}"
    );
    assert!(history.contains(&format!("{B} (audit) -> ")), "{history}");
    let bases = stdout(&fixture.run(&["bases"]));
    assert_eq!(bases.lines().count(), 2, "{bases}");
    assert!(bases.contains(" (plugins) (head), add_plugins_table"), "{bases}");

    // merge takes a revision that is not a head with --splice only.
    refused(&["merge", "-m", "merge_people_and_plugins", A, "plugins"], "add --splice");
}

/// `core` on the line from `aaaa`, `lib` on a second base whose head `2222` is what `cccc`
/// depends on.
fn labelled() -> Vec<(String, String)> {
    vec![
        migration("20241021_0900", A, &[], "add_people_table", ""),
        migration("20241022_0900", B, &[A], "add_notes_table", ", branch_labels = [\"core\"]"),
        migration("20241022_1000", L, &[], "add_plugins_table", ", branch_labels = [\"lib\"]"),
        migration("20241022_1100", M, &[L], "add_plugin_settings_table", ""),
        migration("20241023_0900", C, &[B], "add_tags_table", &format!(", depends_on = [\"{M}\"]")),
    ]
}

/// `current` lists each revision once: the rows, then the effective heads they stand for that
/// are not rows themselves.
#[test]
fn current_lists_a_row_that_is_an_effective_head_once() {
    let fixture = Fixture::new("branching-current", &labelled());
    set(&fixture, "allow_multiple_bases = true");
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();
    let run = |args: &[&str]| {
        let mut all = vec!["--database-url", url];
        all.extend_from_slice(args);
        let output = fixture.run(&all);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    let m = format!(
        "{L} -> {M} (lib) (effective head), add_plugin_settings_table: Why add_plugin_settings_table.\n"
    );
    let c = format!("{B} ({M}) -> {C} (core) (head), add_tags_table: Why add_tags_table.\n");

    // The row `M` is itself an effective head (`C` depends on it).
    run(&["upgrade", "lib@head"]);
    assert_eq!(run(&["current"]), m);
    assert_eq!(
        run(&["--json", "current"]).trim(),
        format!("{{\"current\": [\"{M}\"], \"effective_heads\": []}}")
    );

    // The row `C` stands for `M`, which is listed after it.
    run(&["upgrade", "heads"]);
    assert_eq!(run(&["current"]), c + &m);
    assert_eq!(
        run(&["--json", "current"]).trim(),
        format!("{{\"current\": [\"{C}\"], \"effective_heads\": [\"{M}\"]}}")
    );
}

#[test]
fn bases_heads_and_ranges_with_labels() {
    let fixture = Fixture::new("branching-listings", &labelled());
    set(&fixture, "allow_multiple_bases = true");
    let run = |args: &[&str]| {
        let output = fixture.run(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    assert_eq!(run(&["bases"]), format!("{A} (core), add_people_table\n{L} (lib), add_plugins_table\n"));
    assert_eq!(
        run(&["heads"]),
        format!("{C} (core) (head), add_tags_table\n{M} (lib) (effective head), add_plugin_settings_table\n")
    );
    let json: serde_json::Value = serde_json::from_str(&run(&["--json", "bases"])).expect("JSON");
    assert_eq!(json[1]["rev"], L);
    assert_eq!(json[1]["labels"][0], "lib");
    let json: serde_json::Value = serde_json::from_str(&run(&["--json", "heads"])).expect("JSON");
    assert_eq!((json[0]["head"].as_bool(), json[0]["effective_head"].as_bool()), (Some(true), Some(false)));
    assert_eq!(json[0]["depends_on"][0], M);
    assert_eq!((json[1]["head"].as_bool(), json[1]["effective_head"].as_bool()), (Some(false), Some(true)));

    let lines = |range: &str| -> Vec<String> {
        run(&["history", "-r", range]).lines().map(|l| l.split(' ').nth(2).unwrap_or(l).to_owned()).collect()
    };
    // Each line reads `<parents> -> <rev> …` (with `(deps)` after the parents for C).
    assert_eq!(
        run(&["history"]).lines().next(),
        Some(format!("{B} ({M}) -> {C} (core) (head), add_tags_table: Why add_tags_table.").as_str())
    );
    assert_eq!(lines("lib@base:"), [M, L]);
    assert_eq!(lines(":lib@head"), [M, L]);
    assert_eq!(lines("core@head-1:").len(), 2);
    assert!(run(&["history", "-r", "core@base:"]).contains(M), "the dependency of the branch is listed");
    let verbose = run(&["history", "--verbose", "-r", "core@head:"]);
    assert!(verbose.contains(&format!("Also depends on: {M}\n")), "{verbose}");
    assert!(verbose.contains("Branch names: core\n"), "{verbose}");
    let unknown = fixture.run(&["history", "-r", "nope@head:"]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(stderr(&unknown).contains("unknown branch `nope`"), "{}", stderr(&unknown));

    // The embedded command line lists the same (`bases` is one of its commands too).
    let sql = fixture.run(&["upgrade", "heads", "--sql"]);
    assert!(sql.status.success(), "{}", stderr(&sql));
    let migrator = fixture.migrator().expect("the migrator");
    for args in [&["bases"][..], &["heads"], &["history", "-r", "lib@base:"], &["--json", "bases"]] {
        let embedded = std::process::Command::new(&migrator).args(args).output().expect("runs");
        assert!(embedded.status.success(), "{args:?}: {}", stderr(&embedded));
        assert_eq!(stdout(&embedded), run(args), "{args:?}");
    }
}
