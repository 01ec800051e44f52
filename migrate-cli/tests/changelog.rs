//! `cargo migrate changelog`: the exact CHANGELOG_DB.md of a folder with branches and merges in
//! both groupings, hostile doc comments, determinism, staleness through `changelog --check` and
//! `check`, and `--db` against a real PostgreSQL.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Output;

use common::{Fixture, stderr, stdout, table_migration};
use migrate_runtime::testkit::{self, Cluster, ClusterSettings, TestDatabase};

const A: &str = "aaaa00000001";
const B: &str = "bbbb00000002";
const C1: &str = "cccc00000003";
const C2: &str = "cccc00000004";
const D: &str = "dddd00000005";
const X: &str = "eeee00000006";
const E: &str = "ffff00000007";
const M: &str = "abab00000008";
const U: &str = "acac00000009";

/// A folder with a side branch merged twice: `C1 → C2` merged by `D`, and `X`, grown from
/// `C1` too, merged later by `M`; then a migration without a date in its file name.
///
/// ```text
/// A ─ B ─────── D ─ E ─ M ─ U
///  └ C1 ─ C2 ──┘       /
///      └ X ───────────┘
/// ```
fn branched() -> Vec<(String, String)> {
    vec![
        table_migration("20241001_0900", A, &[], "add_people_table", "Add the people table.", ""),
        table_migration(
            "20241005_0930",
            B,
            &[A],
            "add_notes_table",
            "Notes on people,\n/// for the sales team.\n///\n/// A second paragraph.",
            "",
        ),
        table_migration("20241006_1000", C1, &[A], "add_tags_table", "Tags.", ""),
        table_migration("20241007_1100", C2, &[C1], "add_colours_table", "Colours of tags.", ""),
        table_migration("20241010_1200", D, &[B, C2], "add_merged_table", "Merge the tags branch.", ""),
        table_migration("20241012_1300", X, &[C1], "add_labels_table", "Labels, from the tags branch.", ""),
        table_migration("20241101_0800", E, &[D], "add_deals_table", "Deals.", ""),
        table_migration("20241102_0815", M, &[E, X], "add_joined_table", "Merge the labels branch.", ""),
        // No date: as a hand-named or foreign file.
        {
            let (name, text) = table_migration("", U, &[M], "add_undated_table", "Without a date.", "");
            (name.trim_start_matches('_').to_owned(), text)
        },
    ]
}

const HEADER: &str = "# Database changelog\n\nWritten by `cargo migrate changelog --by {by}` from the migrations \
                      folder `migrations`, newest first: do not edit it by hand. Run that command again after a \
                      migration changes and commit the file; `cargo migrate check` fails while it is stale.\n\n";

fn header(by: &str) -> String {
    HEADER.replace("{by}", by)
}

/// One entry as the file shows it.
fn entry(level: &str, slug: &str, said: &str, why: &str) -> String {
    format!("{level} `{slug}`\n\n{said}\n\n{why}\n\n")
}

fn entries() -> [(&'static str, String); 9] {
    [
        (
            "a",
            entry(
                "###",
                "add_people_table",
                &format!("2024-10-01 09:00 UTC · revision `{A}`"),
                "Add the people table.",
            ),
        ),
        (
            "b",
            entry(
                "###",
                "add_notes_table",
                &format!("2024-10-05 09:30 UTC · revision `{B}`"),
                "Notes on people,\nfor the sales team.\n\nA second paragraph.",
            ),
        ),
        ("c1", entry("###", "add_tags_table", &format!("2024-10-06 10:00 UTC · revision `{C1}`"), "Tags.")),
        (
            "c2",
            entry(
                "###",
                "add_colours_table",
                &format!("2024-10-07 11:00 UTC · revision `{C2}`"),
                "Colours of tags.",
            ),
        ),
        (
            "d",
            entry(
                "###",
                "add_merged_table",
                &format!("2024-10-10 12:00 UTC · revision `{D}` · merges `{B}`, `{C2}`"),
                "Merge the tags branch.",
            ),
        ),
        (
            "x",
            entry(
                "###",
                "add_labels_table",
                &format!("2024-10-12 13:00 UTC · revision `{X}`"),
                "Labels, from the tags branch.",
            ),
        ),
        ("e", entry("###", "add_deals_table", &format!("2024-11-01 08:00 UTC · revision `{E}`"), "Deals.")),
        (
            "m",
            entry(
                "###",
                "add_joined_table",
                &format!("2024-11-02 08:15 UTC · revision `{M}` · merges `{E}`, `{X}`"),
                "Merge the labels branch.",
            ),
        ),
        ("u", entry("###", "add_undated_table", &format!("undated · revision `{U}`"), "Without a date.")),
    ]
}

fn get(name: &str) -> String {
    entries().into_iter().find(|(n, _)| *n == name).map(|(_, e)| e).expect("an entry")
}

/// The entry one level deeper, as a merge's brought-in migrations show.
fn deeper(name: &str) -> String {
    format!("#{}", get(name))
}

fn changelog(fixture: &Fixture) -> String {
    std::fs::read_to_string(fixture.dir.join("CHANGELOG_DB.md")).expect("reads CHANGELOG_DB.md")
}

fn done(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(output), stderr(output));
    stdout(output)
}

/// The file's text with one newline at the end, as written.
fn ending(text: String) -> String {
    format!("{}\n", text.trim_end())
}

#[test]
fn by_month_the_newest_month_first_and_undated_last() {
    let fixture = Fixture::new("changelog-month", &branched());
    assert_eq!(done(&fixture.run(&["changelog"])), "wrote CHANGELOG_DB.md (9 migrations)\n");
    let expected = ending(format!(
        "{}## 2024-11\n\n{}{}## 2024-10\n\n{}{}{}{}{}{}## Undated\n\n{}",
        header("month"),
        get("m"),
        get("e"),
        get("x"),
        get("d"),
        get("c2"),
        get("c1"),
        get("b"),
        get("a"),
        get("u"),
    ));
    assert_eq!(changelog(&fixture), expected);
    // The default is --by month, and says so.
    assert_eq!(done(&fixture.run(&["changelog", "--by", "month"])), "wrote CHANGELOG_DB.md (9 migrations)\n");
    assert_eq!(changelog(&fixture), expected);
}

#[test]
fn by_branch_each_merge_lists_what_it_brought_in_once() {
    let fixture = Fixture::new("changelog-branch", &branched());
    done(&fixture.run(&["changelog", "--by", "branch"]));
    let expected = ending(format!(
        "{}## Mainline\n\nThe first-parent line down from each head, newest first; after each merge, the migrations \
         it brought in, newest first.\n\n{}{}Brought in by `add_joined_table`:\n\n{}{}{}Brought in by \
         `add_merged_table`:\n\n{}{}{}{}",
        header("branch"),
        get("u"),
        get("m"),
        // X only: C1, which it grew from, came in with the older merge D.
        deeper("x"),
        get("e"),
        get("d"),
        deeper("c2"),
        deeper("c1"),
        get("b"),
        get("a"),
    ));
    assert_eq!(changelog(&fixture), expected);
}

#[test]
fn two_heads_are_two_lines_of_the_mainline() {
    // B and C both grow from A and nothing merges them.
    let fixture = Fixture::new(
        "changelog-heads",
        &[
            table_migration("20241001_0900", A, &[], "add_people_table", "Add the people table.", ""),
            table_migration("20241005_0930", B, &[A], "add_notes_table", "Notes.", ""),
            table_migration("20241006_1000", C1, &[A], "add_tags_table", "Tags.", ""),
        ],
    );
    done(&fixture.run(&["changelog", "--by", "branch"]));
    let text = changelog(&fixture);
    let order: Vec<&str> = text.lines().filter(|l| l.starts_with("### ")).collect();
    assert_eq!(order, ["### `add_tags_table`", "### `add_notes_table`", "### `add_people_table`"], "{text}");
}

#[test]
fn a_side_branch_merged_into_two_heads_is_listed_once() {
    // S is merged into both B's line (by D) and C1's line (by M), which stay two heads.
    let fixture = Fixture::new(
        "changelog-twice",
        &[
            table_migration("20241001_0900", A, &[], "add_people_table", "People.", ""),
            table_migration("20241002_0900", B, &[A], "add_notes_table", "Notes.", ""),
            table_migration("20241003_0900", C1, &[A], "add_tags_table", "Tags.", ""),
            table_migration("20241004_0900", X, &[A], "add_labels_table", "The side branch.", ""),
            table_migration("20241005_0900", D, &[B, X], "add_merged_table", "Merge into notes.", ""),
            table_migration("20241006_0900", M, &[C1, X], "add_joined_table", "Merge into tags.", ""),
        ],
    );
    done(&fixture.run(&["changelog", "--by", "branch"]));
    let text = changelog(&fixture);
    let order: Vec<&str> = text.lines().filter(|l| l.starts_with("###")).collect();
    assert_eq!(
        order,
        [
            "### `add_joined_table`",
            "### `add_merged_table`",
            "#### `add_labels_table`",
            "### `add_tags_table`",
            "### `add_notes_table`",
            "### `add_people_table`",
        ],
        "{text}"
    );
}

/// A doc comment holding what would break the file's structure if copied as is.
const HOSTILE: &str = "# Heading in a doc comment\n\
                       /// | col | col |\n\
                       /// |-----|-----|\n\
                       /// Use `op.execute(\"a | b\")` and an unclosed ` tick.\n\
                       /// ---\n\
                       /// <script>alert(1)</script> <!-- hides the rest\n\
                       ///\n\
                       /// ```sql\n\
                       /// SELECT '<b>' | 1; -- # not a heading\n";

#[test]
fn a_hostile_doc_comment_stays_readable_and_contained() {
    let fixture = Fixture::new(
        "changelog-hostile",
        &[
            table_migration("20241001_0900", A, &[], "add_people_table", "Add the people table.", ""),
            table_migration("20241002_0900", B, &[A], "add_notes_table", HOSTILE, ""),
            table_migration("20241003_0900", C1, &[B], "add_tags_table", "Tags.", ""),
        ],
    );
    done(&fixture.run(&["changelog"]));
    let text = changelog(&fixture);
    let hostile = entry(
        "###",
        "add_notes_table",
        &format!("2024-10-02 09:00 UTC · revision `{B}`"),
        "\\# Heading in a doc comment\n\
         \\| col \\| col \\|\n\
         \\|-----\\|-----\\|\n\
         Use `op.execute(\"a | b\")` and an unclosed \\` tick.\n\
         \\---\n\
         \\<script>alert(1)\\</script> \\<!-- hides the rest\n\
         \n\
         ```sql\n\
         SELECT '<b>' | 1; -- # not a heading\n\
         ```",
    );
    assert!(text.contains(&hostile), "{text}");
    // The structure is the file's own: its headings alone, and the entry after the hostile
    // one intact.
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headings,
        [
            "# Database changelog",
            "## 2024-10",
            "### `add_tags_table`",
            "### `add_notes_table`",
            "### `add_people_table`"
        ],
        "{text}"
    );
    assert!(
        text.contains(
            entry(
                "###",
                "add_people_table",
                &format!("2024-10-01 09:00 UTC · revision `{A}`"),
                "Add the people table."
            )
            .trim_end()
        ),
        "{text}"
    );
    // A fence the doc comment opens is closed before the next entry.
    let fences = text.lines().filter(|l| l.starts_with("```")).count();
    assert_eq!(fences, 2, "{text}");
}

#[test]
fn the_same_folder_writes_the_same_bytes_whatever_the_order_on_disk() {
    let files = branched();
    let first = Fixture::new("changelog-same-1", &files);
    done(&first.run(&["changelog", "--by", "branch"]));
    let once = std::fs::read(first.dir.join("CHANGELOG_DB.md")).expect("reads");
    done(&first.run(&["changelog", "--by", "branch"]));
    assert_eq!(
        std::fs::read(first.dir.join("CHANGELOG_DB.md")).expect("reads"),
        once,
        "a second run differs"
    );
    // The files written in the reverse order (another order of directory entries), later.
    let reversed: Vec<(String, String)> = files.into_iter().rev().collect();
    let second = Fixture::new("changelog-same-2", &reversed);
    done(&second.run(&["changelog", "--by", "branch"]));
    assert_eq!(
        std::fs::read(second.dir.join("CHANGELOG_DB.md")).expect("reads"),
        once,
        "the order on disk shows"
    );
}

/// Runs `changelog --check` and `check` and asserts both exit with `code`; returns their stdout.
fn both_checks(fixture: &Fixture, code: i32) -> (String, String) {
    let own = fixture.run(&["changelog", "--check"]);
    assert_eq!(own.status.code(), Some(code), "changelog --check: {}{}", stdout(&own), stderr(&own));
    let check = fixture.run(&["check"]);
    assert_eq!(check.status.code(), Some(code), "check: {}{}", stdout(&check), stderr(&check));
    (stdout(&own), stdout(&check))
}

/// Files that pass every rule, so that `check` judges the changelog alone.
fn clean() -> Vec<(String, String)> {
    vec![
        table_migration("20241001_0900", A, &[], "add_people_table", "Add the people table.", ""),
        table_migration("20241005_0930", B, &[A], "add_notes_table", "Notes on people.", ""),
    ]
}

#[test]
fn a_stale_changelog_fails_both_checks_until_written_again() {
    let fixture = Fixture::new("changelog-stale", &clean());
    // No file: `check` has nothing to check, `changelog --check` says it is missing.
    let check = fixture.run(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}{}", stdout(&check), stderr(&check));
    let missing = fixture.run(&["changelog", "--check"]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert!(stdout(&missing).contains("`CHANGELOG_DB.md` is missing"), "{}", stdout(&missing));

    done(&fixture.run(&["changelog"]));
    let (own, check) = both_checks(&fixture, 0);
    assert_eq!(own, "`CHANGELOG_DB.md` is up to date (2 migrations)\n");
    assert!(check.contains("`CHANGELOG_DB.md` is up to date (2 migrations)"), "{check}");

    // An edited why.
    let (name, text) = &clean()[1];
    let path = fixture.dir.join("migrations").join(name);
    std::fs::write(&path, text.replace("Notes on people.", "Notes on people and deals.")).expect("edits");
    let (own, check) = both_checks(&fixture, 1);
    for said in [&own, &check] {
        assert!(said.contains("`CHANGELOG_DB.md` is stale"), "{said}");
        assert!(said.contains("- Notes on people.\n+ Notes on people and deals."), "{said}");
        assert!(
            said.contains("= help: run `cargo migrate changelog --by month` and commit the file"),
            "{said}"
        );
    }
    // With --json, stdout holds the rules' JSON alone; the verdict goes to stderr.
    let json = fixture.run(&["--json", "check"]);
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    serde_json::from_str::<serde_json::Value>(&stdout(&json)).expect("stdout stays JSON");
    assert!(stderr(&json).contains("`CHANGELOG_DB.md` is stale"), "{}", stderr(&json));
    done(&fixture.run(&["changelog"]));
    both_checks(&fixture, 0);

    // A migration added.
    let (name, text) = table_migration("20241102_0815", C1, &[B], "add_tags_table", "Tags.", "");
    std::fs::write(fixture.dir.join("migrations").join(name), text).expect("writes");
    let (own, _) = both_checks(&fixture, 1);
    assert!(own.contains("+ ### `add_tags_table`"), "{own}");
    done(&fixture.run(&["changelog"]));
    both_checks(&fixture, 0);

    // A hand edit, then a file without its header: compared with the default options.
    let file = fixture.dir.join("CHANGELOG_DB.md");
    let written = changelog(&fixture);
    std::fs::write(&file, written.replace("Tags.", "Tags, edited by hand.")).expect("edits");
    let (own, _) = both_checks(&fixture, 1);
    assert!(own.contains("- Tags, edited by hand.\n+ Tags."), "{own}");
    std::fs::write(&file, written.replace("Written by", "Made by")).expect("edits");
    let (own, _) = both_checks(&fixture, 1);
    assert!(
        own.contains("its header does not say which `cargo migrate changelog` options wrote it"),
        "{own}"
    );
    // Only a final newline missing.
    std::fs::write(&file, written.trim_end()).expect("edits");
    let (own, _) = both_checks(&fixture, 1);
    assert!(own.contains("the final newline differ"), "{own}");

    // Written by branch: the check redoes it by branch.
    done(&fixture.run(&["changelog", "--by", "branch"]));
    both_checks(&fixture, 0);

    // --check takes the options from the file's header, never from the command line.
    let refused = fixture.run(&["changelog", "--check", "--by", "month"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

/// The time of the last successful upgrade of each revision, UTC, to the minute.
fn upgraded_at(url: &str, rev: &str) -> String {
    let mut client = testkit::client(url).expect("connects");
    let row = client
        .query_one(
            "SELECT to_char(max(finished_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM public.migrate_history \
             WHERE revision = $1 AND direction = 'upgrade' AND success",
            &[&rev],
        )
        .expect("queries");
    row.get(0)
}

#[test]
fn with_db_each_migration_says_when_it_was_applied() {
    let mut files = clean();
    files.push(table_migration("20241102_0815", C1, &[B], "add_tags_table", "Tags.", ""));
    let fixture = Fixture::new("changelog-db", &files);
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();

    // A database never migrated: nothing applied.
    done(&fixture.run(&["--database-url", url, "changelog", "--db"]));
    let text = changelog(&fixture);
    assert_eq!(text.matches(" · not applied\n").count(), 3, "{text}");
    assert!(text.contains("Written by `cargo migrate changelog --by month --db`"), "{text}");

    let upgrade = fixture.run(&["--database-url", url, "upgrade", B]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    // DATABASE_URL, as the database commands read it.
    let written = fixture.command(&["changelog", "--db"]).env("DATABASE_URL", url).output().expect("runs");
    done(&written);
    let text = changelog(&fixture);
    for rev in [A, B] {
        let at = upgraded_at(url, rev);
        assert!(text.contains(&format!("revision `{rev}` · applied {at} UTC\n")), "{rev}: {text}");
    }
    assert!(text.contains(&format!("revision `{C1}` · not applied\n")), "{text}");

    // The check needs the database the header asks for.
    let without = fixture.run(&["changelog", "--check"]);
    assert_eq!(without.status.code(), Some(3), "{}", stdout(&without));
    assert!(stderr(&without).contains("no database"), "{}", stderr(&without));
    let with = fixture.run(&["--database-url", url, "changelog", "--check"]);
    assert_eq!(with.status.code(), Some(0), "{}{}", stdout(&with), stderr(&with));
    // `check` checks it when a database is set, and says so when none is.
    let check = fixture.run(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}{}", stdout(&check), stderr(&check));
    assert!(stdout(&check).contains("was written with --db and no database is set"), "{}", stdout(&check));
    let check = fixture.run(&["--database-url", url, "check"]);
    assert_eq!(check.status.code(), Some(0), "{}{}", stdout(&check), stderr(&check));
    assert!(stdout(&check).contains("is up to date"), "{}", stdout(&check));

    // The database moves on: the file is stale.
    let upgrade = fixture.run(&["--database-url", url, "upgrade", "head"]);
    assert!(upgrade.status.success(), "{}", stderr(&upgrade));
    let stale = fixture.run(&["--database-url", url, "changelog", "--check"]);
    assert_eq!(stale.status.code(), Some(1), "{}", stdout(&stale));
    assert!(
        stdout(&stale).contains(&format!("+ 2024-11-02 08:15 UTC · revision `{C1}` · applied")),
        "{}",
        stdout(&stale)
    );
    let check = fixture.run(&["--database-url", url, "check"]);
    assert_eq!(check.status.code(), Some(1), "{}{}", stdout(&check), stderr(&check));

    // Reverted: not applied, with the upgrade it had.
    let at = upgraded_at(url, C1);
    let downgrade = fixture.run(&["--database-url", url, "downgrade", B]);
    assert!(downgrade.status.success(), "{}", stderr(&downgrade));
    done(&fixture.run(&["--database-url", url, "changelog", "--db"]));
    let text = changelog(&fixture);
    assert!(
        text.contains(&format!("revision `{C1}` · not applied (reverted since its upgrade of {at} UTC)\n")),
        "{text}"
    );

    // A version row no file has: refused, named.
    let mut client = testkit::client(url).expect("connects");
    client.batch_execute("UPDATE public.alembic_version SET version_num = 'ffffffffffff'").expect("updates");
    let refused = fixture.run(&["--database-url", url, "changelog", "--db"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains("the database's version row `ffffffffffff` is no migration of this folder"),
        "{}",
        stderr(&refused)
    );
    // The file was left as it was.
    assert_eq!(changelog(&fixture), text);
}

#[test]
fn a_wrong_password_is_refused_without_being_printed() {
    let secret = "Wr0ngSecretPassw0rd";
    let cluster = Cluster::start_with(
        &ClusterSettings::default().hba("host all changelog_reader 127.0.0.1/32 scram-sha-256"),
    )
    .expect("a cluster");
    let mut admin = testkit::client(&cluster.url("postgres")).expect("connects");
    admin
        .batch_execute(
            "SET password_encryption = 'scram-sha-256'; CREATE ROLE changelog_reader LOGIN PASSWORD 'right'",
        )
        .expect("creates the role");
    let port = cluster.port();
    let fixture = Fixture::new("changelog-password", &clean());
    let wrong = format!("postgres://changelog_reader:{secret}@127.0.0.1:{port}/postgres");
    for output in [
        fixture.run(&["--database-url", &wrong, "changelog", "--db"]),
        fixture.command(&["changelog", "--db"]).env("DATABASE_URL", &wrong).output().expect("runs"),
    ] {
        let (out, err) = (stdout(&output), stderr(&output));
        assert_eq!(output.status.code(), Some(3), "{out}{err}");
        assert!(err.contains("cannot connect to changelog_reader@127.0.0.1"), "{err}");
        assert!(err.contains("password authentication failed"), "{err}");
        assert!(!out.contains(secret) && !err.contains(secret), "printed the password: {out}{err}");
    }
    assert!(!fixture.dir.join("CHANGELOG_DB.md").exists(), "a file was written");
    // The right password is read through: the refusal was the password's.
    let right = format!("postgres://changelog_reader:right@127.0.0.1:{port}/postgres");
    done(&fixture.run(&["--database-url", &right, "changelog", "--db"]));
    assert!(changelog(&fixture).contains(" · not applied\n"));
}

#[test]
fn the_example_backend_s_changelog_is_up_to_date() {
    let manifest = common::workspace().join("examples/crm-backend/Cargo.toml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-migrate"))
        .args(["migrate", "changelog", "--check", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("runs cargo-migrate");
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
}

/// The lines of `text` outside its fenced code blocks, as CommonMark reads them at the top
/// level: a fence opens with three or more backticks or tildes indented at most three spaces
/// (a backtick fence's info string holds no backtick), and closes with a run of the same
/// character at least as long, indented at most three spaces, followed by spaces alone.
fn outside_fences(text: &str) -> Vec<&str> {
    let fence = |line: &str| -> Option<(char, usize, bool)> {
        let spaces = line.chars().take_while(|c| *c == ' ').count();
        let rest = line.get(spaces..)?;
        let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
        let run = rest.chars().take_while(|x| *x == c).count();
        let after = &rest[run..];
        (spaces <= 3 && run >= 3).then_some((
            c,
            run,
            after.trim().is_empty() || !(c == '`' && after.contains('`')),
        ))
    };
    let mut open: Option<(char, usize)> = None;
    let mut outside = Vec::new();
    for line in text.lines() {
        match (open, fence(line)) {
            (Some((c, length)), Some((d, run, _)))
                if c == d && run >= length && {
                    let rest = line.trim_start_matches(' ').trim_start_matches(c);
                    rest.chars().all(|x| x == ' ' || x == '\t')
                } =>
            {
                open = None
            }
            (Some(_), _) => {}
            (None, Some((c, run, true))) => open = Some((c, run)),
            (None, _) => outside.push(line),
        }
    }
    outside
}

#[test]
fn a_fence_closed_by_a_line_indented_four_spaces_stays_open_until_closed() {
    // Indented four spaces, the line is the block's text, not its close.
    let why = "Starts a fence:\n/// ```\n/// code\n///     ```\n/// # Forged heading after the fake close";
    let fixture = Fixture::new(
        "changelog-fence",
        &[
            table_migration("20241001_0900", A, &[], "add_people_table", "Add the people table.", ""),
            table_migration("20241002_0900", B, &[A], "add_notes_table", why, ""),
        ],
    );
    done(&fixture.run(&["changelog"]));
    let text = changelog(&fixture);
    let contained = entry(
        "###",
        "add_notes_table",
        &format!("2024-10-02 09:00 UTC · revision `{B}`"),
        "Starts a fence:\n```\ncode\n    ```\n# Forged heading after the fake close\n```",
    );
    assert!(text.contains(&contained), "{text}");
    // Read as CommonMark reads it, the file's headings are its own and the older entry is text.
    let outside = outside_fences(&text);
    let headings: Vec<&str> = outside.iter().copied().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headings,
        ["# Database changelog", "## 2024-10", "### `add_notes_table`", "### `add_people_table`"],
        "{text}"
    );
    assert!(outside.contains(&"Add the people table."), "{text}");
}

#[test]
fn a_doc_comment_cannot_stand_for_the_header() {
    let forged = "Written by `cargo migrate changelog --by branch --db` forged";
    let fixture = Fixture::new(
        "changelog-forged",
        &[
            table_migration("20241001_0900", A, &[], "add_people_table", "Add the people table.", ""),
            table_migration("20241002_0900", B, &[A], "add_notes_table", forged, ""),
        ],
    );
    done(&fixture.run(&["changelog"]));
    let written = changelog(&fixture);
    // Escaped, the doc comment's line does not start as the header does.
    assert!(
        written.contains("\n\nWritten by \\`cargo migrate changelog --by branch --db\\` forged\n"),
        "{written}"
    );
    assert_eq!(written.matches("\nWritten by `").count(), 1, "{written}");
    both_checks(&fixture, 0);
    // The header line removed and a hand edit made: stale, never "not checked" by the
    // options the doc comment's line names.
    let header = written.lines().nth(2).expect("a header line");
    assert!(header.starts_with("Written by `cargo migrate changelog --by month`"), "{written}");
    let edited = format!("{}hand edit\n", written.replace(&format!("{header}\n"), ""));
    std::fs::write(fixture.dir.join("CHANGELOG_DB.md"), edited).expect("edits");
    let (own, check) = both_checks(&fixture, 1);
    for said in [&own, &check] {
        assert!(
            said.contains("its header does not say which `cargo migrate changelog` options wrote it"),
            "{said}"
        );
        assert!(!said.contains("not checked"), "{said}");
    }
}

#[test]
fn headings_in_quotes_and_lists_and_link_definitions_are_escaped() {
    let why = "Quoted and listed:\n\
               ///\n\
               /// > # Quoted heading\n\
               ///\n\
               /// - # Listed heading\n\
               /// 1. > ## Numbered and quoted\n\
               ///\n\
               /// [evil]: https://evil.example/\n\
               /// > [docs]: https://evil.example/docs";
    let fixture = Fixture::new(
        "changelog-containers",
        &[table_migration("20241001_0900", A, &[], "add_people_table", why, "")],
    );
    done(&fixture.run(&["changelog"]));
    let text = changelog(&fixture);
    let expected = entry(
        "###",
        "add_people_table",
        &format!("2024-10-01 09:00 UTC · revision `{A}`"),
        "Quoted and listed:\n\
         \n\
         > \\# Quoted heading\n\
         \n\
         - \\# Listed heading\n\
         1. > \\## Numbered and quoted\n\
         \n\
         \\[evil]: https://evil.example/\n\
         > \\[docs]: https://evil.example/docs",
    );
    assert!(text.contains(expected.trim_end()), "{text}");
}

#[test]
fn a_changelog_checked_out_with_crlf_line_endings_is_up_to_date() {
    let fixture = Fixture::new("changelog-crlf", &clean());
    done(&fixture.run(&["changelog", "--by", "branch"]));
    let file = fixture.dir.join("CHANGELOG_DB.md");
    let written = changelog(&fixture);
    std::fs::write(&file, written.replace('\n', "\r\n")).expect("writes CRLF");
    let (own, check) = both_checks(&fixture, 0);
    assert_eq!(own, "`CHANGELOG_DB.md` is up to date (2 migrations)\n");
    assert!(check.contains("is up to date"), "{check}");
    // Still compared: an edit under CRLF is stale, its line shown.
    std::fs::write(&file, written.replace("Notes on people.", "Notes, edited.").replace('\n', "\r\n"))
        .expect("edits");
    let (own, _) = both_checks(&fixture, 1);
    assert!(own.contains("- Notes, edited.\n+ Notes on people."), "{own}");
    // A carriage return alone is no line ending.
    std::fs::write(&file, written.replace("Notes on people.", "Notes on\r people.")).expect("edits");
    both_checks(&fixture, 1);
}

#[test]
fn with_db_an_upgrade_undone_then_stamped_is_not_what_applied_it() {
    let mut files = clean();
    files.push(table_migration("20241102_0815", C1, &[B], "add_tags_table", "Tags.", ""));
    let fixture = Fixture::new("changelog-db-stamped", &files);
    let database = TestDatabase::new().expect("a test database");
    let url = database.url();
    let migrate = |args: &[&str]| {
        let mut all = vec!["--database-url", url];
        all.extend(args);
        let output = fixture.run(&all);
        assert!(output.status.success(), "{args:?}: {}{}", stdout(&output), stderr(&output));
    };
    let said = |rev: &str| -> String {
        done(&fixture.run(&["--database-url", url, "changelog", "--db"]));
        let text = changelog(&fixture);
        let marker = format!("revision `{rev}` · ");
        let line = text.lines().find(|l| l.contains(&marker)).unwrap_or_else(|| panic!("{rev}: {text}"));
        line[line.find(&marker).expect("found") + marker.len()..].to_owned()
    };
    // Upgraded to B, B reverted, then C1 stamped: B is applied by the stamp, not by the
    // upgrade that was undone.
    migrate(&["upgrade", B]);
    let first = upgraded_at(url, B);
    migrate(&["downgrade", A]);
    migrate(&["stamp", C1]);
    assert_eq!(said(A), format!("applied {} UTC", upgraded_at(url, A)));
    assert_eq!(said(B), "applied (stamped: no upgrade recorded)");
    assert_eq!(said(C1), "applied (stamped: no upgrade recorded)");
    // Reverted again: the upgrade it had is still told.
    migrate(&["stamp", A]);
    assert_eq!(said(B), format!("not applied (reverted since its upgrade of {first} UTC)"));
    // Upgraded again, after the downgrade: that upgrade applied it.
    migrate(&["upgrade", B]);
    assert_eq!(said(B), format!("applied {} UTC", upgraded_at(url, B)));

    // A version row holding line breaks and terminal escapes is shown escaped.
    let mut client = testkit::client(url).expect("connects");
    client
        .batch_execute("UPDATE public.alembic_version SET version_num = E'ab\\ncd\\x1b[31mred'")
        .expect("updates");
    let refused = fixture.run(&["--database-url", url, "changelog", "--db"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stdout(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains("the database's version row `ab\\ncd\\u{1b}[31mred` is no migration of this folder"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}') && !err.contains("ab\ncd"), "{err:?}");
}
