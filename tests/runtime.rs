//! The runner against a real PostgreSQL: a throwaway cluster of the machine's binaries, or
//! `DATABASE_URL`'s server, with a fresh database per test. Nothing here skips: without a
//! server the tests fail, saying why.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use migrate_runtime::catalog::{Key, Kind};
use migrate_runtime::testkit::{self, TestDatabase};
use migrate_runtime::{Chain, Direction, Error, Migrator, TableNames};

mod support;
use support::{database, rows};

static CRM: Chain = migrate_runtime::embed_migrations!("crm");
static DIAMOND: Chain = migrate_runtime::embed_migrations!("diamond");
static FAILING: Chain = migrate_runtime::embed_migrations!("failing");
static SLOW: Chain = migrate_runtime::embed_migrations!("slow");
static EDITED_BEFORE: Chain = migrate_runtime::embed_migrations!("edited_before");
static EDITED_AFTER: Chain = migrate_runtime::embed_migrations!("edited_after");
static SHORT: Chain = migrate_runtime::embed_migrations!("short");
static BROKEN: Chain = migrate_runtime::embed_migrations!("broken_downgrades");

const A: &str = "aaaa00000001";
const B: &str = "bbbb00000002";
const C: &str = "cccc00000003";
const D: &str = "dddd00000004";
const E: &str = "eeee00000005";
/// The CRM's enum migration, whose downgrade is irreversible.
const LINKEDIN: &str = "a7f3c9e1b5d2";

fn tables(database: &TestDatabase, migrator: &Migrator) -> Vec<String> {
    database
        .schema(migrator)
        .expect("reads the schema")
        .objects()
        .filter(|(key, _)| key.kind == Kind::Table)
        .map(|(key, _)| key.to_string())
        .collect()
}

#[test]
fn empty_head_base_head_walking_the_merge_both_ways() {
    let db = database();
    let migrator = Migrator::new(&DIAMOND);
    let empty = db.schema(&migrator).expect("reads the schema");

    let report = migrator.upgrade(db.url(), "head").expect("upgrades");
    let applied: Vec<&str> = report.steps.iter().map(|s| s.rev).collect();
    assert_eq!(applied, [A, B, C, D, E]);
    assert_eq!(report.after, [E]);
    let at_head = db.schema(&migrator).expect("reads the schema");
    let phone = Key::new(Kind::Column, "public", Some("people"), "phone");
    assert_eq!(at_head.get(&phone).and_then(|c| c.get("type")), Some("text"));

    // Down to one arm: the merge and what follows it are undone, the other arm stays.
    let report = migrator.downgrade(db.url(), C).expect("downgrades to an arm");
    let reverted: Vec<&str> = report.steps.iter().map(|s| s.rev).collect();
    assert_eq!(reverted, [E, D]);
    assert_eq!(report.after, [B, C]);
    assert!(!migrator.is_at_heads(db.url()).expect("reads"));

    assert_eq!(migrator.downgrade(db.url(), "base").expect("downgrades").after, Vec::<String>::new());
    assert_eq!(db.schema(&migrator).expect("reads the schema"), empty);
    assert_eq!(migrator.current(db.url()).expect("reads"), Vec::<String>::new());

    migrator.upgrade(db.url(), "head").expect("upgrades again");
    assert_eq!(db.schema(&migrator).expect("reads the schema"), at_head);
    assert!(migrator.is_at_heads(db.url()).expect("reads"));
    let marks: Vec<(bool, bool)> =
        migrator.history(db.url()).expect("reads").iter().map(|h| (h.applied, h.current)).collect();
    assert_eq!(marks, [(true, false), (true, false), (true, false), (true, false), (true, true)]);
}

#[test]
fn a_rerun_is_a_no_op() {
    let db = database();
    let migrator = Migrator::new(&CRM);
    let first = migrator.upgrade(db.url(), "head").expect("upgrades");
    assert_eq!(first.steps.len(), CRM.len());
    // One round trip per migration inside a transaction, three for the one outside, and a
    // few for the run: reading the state, the lock, creating the tables.
    assert!(first.round_trips <= CRM.len() + 2 + 8, "{} round trips", first.round_trips);
    let again = migrator.upgrade(db.url(), "head").expect("reruns");
    assert!(again.steps.is_empty());
    // Nothing to do: one connection, one query, no lock.
    assert_eq!((again.connections, again.round_trips), (1, 1));
    let upgrades = rows("SELECT count(*) FROM migrate_history WHERE direction = 'upgrade' AND success", &db);
    assert_eq!(upgrades, [CRM.len().to_string()]);
}

#[test]
fn a_failure_mid_chain_leaves_the_database_as_it_was() {
    let db = database();
    let migrator = Migrator::new(&FAILING);
    let error = migrator.upgrade(db.url(), "head").expect_err("the third migration fails");
    let Error::MigrationFailed(failure) = &error else { panic!("unexpected error: {error}") };
    assert_eq!(failure.rev, C);
    assert_eq!(failure.statement_index, Some((1, 2)));
    assert_eq!(failure.op.as_deref(), Some("create_index(\"idx_missing\")"));
    assert_eq!(failure.code.as_deref(), Some("42P01"));
    assert!(failure.transactional);
    let message = error.report();
    assert!(message.contains("at statement 2 of 2"), "{message}");
    assert!(message.contains("the database is as it was before it"), "{message}");

    assert_eq!(migrator.current(db.url()).expect("reads"), [B]);
    let names = tables(&db, &migrator);
    assert!(
        names.iter().any(|l| l.contains("public.notes")) && !names.iter().any(|l| l.contains("public.tags")),
        "{names:?}"
    );
    assert_eq!(
        rows("SELECT revision, success FROM migrate_history WHERE NOT success", &db),
        [format!("{C} f")]
    );
    // A failure inside a transaction leaves nothing to repair: the next run tries again.
    let again = migrator.upgrade(db.url(), "head").expect_err("fails again");
    assert!(matches!(again, Error::MigrationFailed(_)), "{again}");
}

fn racer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_migrate-racer"))
}

#[test]
fn sixteen_racing_processes_apply_each_migration_once() {
    let db = database();
    let children: Vec<Child> = (0..16)
        .map(|_| {
            racer()
                .args(["crm", db.url(), "head"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("starts a racer")
        })
        .collect();
    let mut applied: Vec<String> = Vec::new();
    for child in children {
        let output = child.wait_with_output().expect("waits");
        assert!(output.status.success(), "a racer failed: {}", String::from_utf8_lossy(&output.stderr));
        applied.extend(String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned));
    }
    let mut expected: Vec<String> = CRM.iter().map(|m| m.rev.to_owned()).collect();
    applied.sort();
    expected.sort();
    assert_eq!(applied, expected, "each migration applied by exactly one process");
    let twice = rows(
        "SELECT revision FROM migrate_history WHERE direction = 'upgrade' AND success GROUP BY revision HAVING count(*) > 1",
        &db,
    );
    assert!(twice.is_empty(), "applied twice: {twice:?}");
    assert!(Migrator::new(&CRM).is_at_heads(db.url()).expect("reads"));
}

#[test]
fn a_migration_killed_outside_a_transaction_is_refused_until_stamped() {
    let db = database();
    let mut child = racer()
        .args(["slow", db.url(), "head"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let start = Instant::now();
    let started = format!("SELECT 1 FROM migrate_history WHERE revision = '{B}' AND success IS NULL");
    let mut client = db.connect().expect("connects");
    let has_row = |messages: Vec<postgres::SimpleQueryMessage>| {
        messages.iter().any(|m| matches!(m, postgres::SimpleQueryMessage::Row(_)))
    };
    while !client.simple_query(&started).is_ok_and(has_row) {
        assert!(start.elapsed() < Duration::from_secs(30), "the slow migration never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaps");

    let migrator = Migrator::new(&SLOW);
    let error = migrator.upgrade(db.url(), "head").expect_err("refused");
    assert!(matches!(&error, Error::Dirty(d) if d.rev == B && d.interrupted), "{error}");
    assert!(error.report().contains(&format!("clear the mark with `stamp {A}`")), "{error}");
    assert!(error.report().contains("left: index idx_people_email on \"people\": absent"), "{error}");
    assert_eq!(migrator.current(db.url()).expect("reads"), [A]);

    // The index never got built: record that the migration did not happen, then rerun.
    migrator.stamp(db.url(), &[A], false).expect("stamps");
    let report = migrator.upgrade(db.url(), "head").expect("reruns");
    assert_eq!(report.after, [B]);
    let indexes = rows("SELECT indexname FROM pg_indexes WHERE indexname = 'idx_people_email'", &db);
    assert_eq!(indexes, ["idx_people_email"]);
}

#[test]
fn an_edited_migration_is_refused_until_accepted() {
    let db = database();
    Migrator::new(&EDITED_BEFORE).upgrade(db.url(), "head").expect("upgrades");
    let edited = Migrator::new(&EDITED_AFTER);
    let error = edited.upgrade(db.url(), "head").expect_err("refused");
    let Error::ChecksumMismatch(mismatches) = &error else { panic!("unexpected error: {error}") };
    assert_eq!(mismatches.iter().map(|m| m.rev.as_str()).collect::<Vec<_>>(), [B]);
    assert!(error.report().contains("never edit a deployed migration"), "{error}");
    edited.accept_checksums(db.url(), &[B]).expect("accepts");
    assert!(edited.upgrade(db.url(), "head").expect("runs").steps.is_empty());
}

/// One migration whose SQL came from an included file, as an LF and as a CRLF checkout
/// (git's `autocrlf`) render it.
fn line_endings_lf(op: &mut migrate_runtime::op::Op) {
    op.execute("CREATE TABLE line_endings (\n    id int\n)");
}

fn line_endings_crlf(op: &mut migrate_runtime::op::Op) {
    op.execute("CREATE TABLE line_endings (\r\n    id int\r\n)");
}

fn line_endings_down(op: &mut migrate_runtime::op::Op) {
    op.execute("DROP TABLE line_endings");
}

const fn line_endings(upgrade: fn(&mut migrate_runtime::op::Op)) -> migrate_runtime::Migration {
    support::migration(
        "ffff00000006",
        &[],
        ("line_endings", "migrations/20240101_0000_ffff00000006_line_endings.rs"),
        true,
        upgrade,
        line_endings_down,
    )
}

static LINE_ENDINGS_LF: migrate_runtime::Migration = line_endings(line_endings_lf);
static LINE_ENDINGS_CRLF: migrate_runtime::Migration = line_endings(line_endings_crlf);
static LF_CHECKOUT: Chain = Chain::new(&[&LINE_ENDINGS_LF]);
static CRLF_CHECKOUT: Chain = Chain::new(&[&LINE_ENDINGS_CRLF]);

#[test]
fn line_endings_are_no_edit_and_a_checksum_recorded_with_crlf_still_matches() {
    let db = database();
    let (lf, crlf) = (Migrator::new(&LF_CHECKOUT), Migrator::new(&CRLF_CHECKOUT));
    lf.upgrade(db.url(), "head").expect("upgrades");
    assert!(crlf.upgrade(db.url(), "head").expect("the same migration").steps.is_empty());

    // A history a CRLF checkout recorded before line endings stopped counting:
    // `printf 'CREATE TABLE line_endings (\r\n    id int\r\n);\n' | sha256sum`.
    let raw = "ea24b8e02dbd2cf3a82d6c3376cbc755519aaa12a5282a4ca5f5ee84ac28cb51";
    let mut client = db.connect().expect("connects");
    client.batch_execute(&format!("UPDATE migrate_history SET checksum = '{raw}'")).expect("updates");
    assert!(crlf.upgrade(db.url(), "head").expect("still matches").steps.is_empty());
    // Where its `\r`s were is not known from LF SQL: that checkout accepts it once.
    assert!(matches!(lf.upgrade(db.url(), "head").expect_err("refused"), Error::ChecksumMismatch(_)));
    lf.accept_checksums(db.url(), &["ffff00000006"]).expect("accepts");
    assert!(crlf.upgrade(db.url(), "head").expect("matches").steps.is_empty());
}

#[test]
fn a_database_newer_than_the_code_is_refused() {
    let db = database();
    Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect("upgrades");
    let older = Migrator::new(&SHORT);
    let error = older.upgrade(db.url(), "head").expect_err("refused");
    assert!(matches!(&error, Error::UnknownRevision { revisions } if revisions == &[E]), "{error}");
    assert!(error.report().contains("the database is newer than the code"), "{error}");
    // The way out, when the newer history was abandoned on purpose.
    older.stamp(db.url(), &["head"], true).expect("stamps with purge");
    assert_eq!(older.current(db.url()).expect("reads"), [A]);
}

#[test]
fn a_downgrade_through_an_irreversible_migration_is_refused() {
    let db = database();
    let migrator = Migrator::new(&CRM);
    migrator.upgrade(db.url(), "head").expect("upgrades");
    let before = db.schema(&migrator).expect("reads the schema");
    let error = migrator.downgrade(db.url(), "base").expect_err("refused");
    assert!(matches!(&error, Error::Irreversible { rev, .. } if rev == LINKEDIN), "{error}");
    assert_eq!(db.schema(&migrator).expect("reads the schema"), before, "nothing ran");
    let report = migrator.downgrade(db.url(), LINKEDIN).expect("down to the irreversible one");
    assert_eq!(report.after, [LINKEDIN]);
}

#[test]
fn an_existing_object_suggests_stamp() {
    let db = database();
    db.connect().expect("connects").batch_execute("CREATE TABLE people (id bigint)").expect("creates");
    // Without a version table the run is refused before it starts; with one (empty: told to
    // start from base here), the migration meets the table.
    let refused = Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect_err("refused");
    assert!(matches!(refused, Error::ExistingSchema { .. }), "{refused}");
    Migrator::new(&DIAMOND).stamp(db.url(), &["base"], false).expect("stamps base");
    let error = Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect_err("fails");
    let Error::MigrationFailed(failure) = &error else { panic!("unexpected error: {error}") };
    assert_eq!(failure.code.as_deref(), Some("42P07"));
    assert!(error.report().contains(&format!("with `stamp {A}` instead of applying it")), "{error}");
}

#[test]
fn a_statement_timeout_stops_a_migration_outside_a_transaction() {
    let db = database();
    let migrator = Migrator::new(&SLOW).statement_timeout(Duration::from_millis(200));
    let error = migrator.upgrade(db.url(), "head").expect_err("times out");
    let Error::MigrationFailed(failure) = &error else { panic!("unexpected error: {error}") };
    assert_eq!(
        (failure.rev.as_str(), failure.code.as_deref(), failure.transactional),
        (B, Some("57014"), false)
    );
    assert_eq!(failure.statement_index, Some((0, 2)));
    // Outside a transaction a failure leaves the database to be checked: runs are refused.
    let next = Migrator::new(&SLOW).upgrade(db.url(), "head").expect_err("refused");
    assert!(matches!(&next, Error::Dirty(d) if !d.interrupted), "{next}");
}

#[test]
fn one_transaction_for_the_whole_run_is_all_or_nothing() {
    let db = database();
    let error = Migrator::new(&FAILING).one_transaction(true).upgrade(db.url(), "head").expect_err("fails");
    let Error::MigrationFailed(failure) = &error else { panic!("unexpected error: {error}") };
    assert_eq!((failure.rev.as_str(), failure.statement_index), (C, Some((1, 2))));
    assert_eq!(Migrator::new(&FAILING).current(db.url()).expect("reads"), Vec::<String>::new());

    let report = Migrator::new(&DIAMOND).one_transaction(true).upgrade(db.url(), "head").expect("upgrades");
    assert_eq!(report.steps.len(), 5);
    assert_eq!(report.steps[0].direction, Direction::Upgrade);

    let refused =
        Migrator::new(&CRM).one_transaction(true).upgrade(database().url(), "head").expect_err("refused");
    assert!(matches!(&refused, Error::NotTransactional { rev, .. } if rev == LINKEDIN), "{refused}");
}

#[test]
fn the_lock_is_waited_for_then_given_up() {
    let db = database();
    let mut holder = db.connect().expect("connects");
    holder
        .batch_execute(&format!("SELECT pg_advisory_lock({})", TableNames::default().lock_key_sql()))
        .expect("locks");
    let start = Instant::now();
    let error = Migrator::new(&DIAMOND)
        .lock_wait(Duration::from_millis(300))
        .upgrade(db.url(), "head")
        .expect_err("waits");
    assert!(matches!(error, Error::LockTimeout { .. }), "{error}");
    assert!(start.elapsed() >= Duration::from_millis(300));
    drop(holder);
    Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect("the lock is free again");
}

#[test]
fn targets_and_stamps() {
    let db = database();
    let migrator = Migrator::new(&DIAMOND);
    assert_eq!(migrator.upgrade(db.url(), "+1").expect("one step").after, [A]);
    let error = migrator.upgrade(db.url(), "+1").expect_err("a fork");
    assert!(error.report().contains("steps up through a fork"), "{error}");
    assert_eq!(migrator.upgrade(db.url(), "cccc").expect("a prefix").after, [C]);
    let below = migrator.upgrade(db.url(), A).expect_err("below");
    assert!(matches!(below, Error::BelowCurrent { .. }), "{below}");
    assert_eq!(migrator.upgrade(db.url(), "heads").expect("the rest").after, [E]);
    assert_eq!(migrator.downgrade(db.url(), "-1").expect("one down").after, [D]);
    // Right after the merge, one step down reverts it to its parents; from two rows, a further
    // step has no single answer.
    assert_eq!(migrator.downgrade(db.url(), "-1").expect("reverts the merge").after, [B, C]);
    let error = migrator.downgrade(db.url(), "-1").expect_err("two rows");
    assert!(error.report().contains("the database is at 2 heads"), "{error}");

    migrator.stamp(db.url(), &["base"], false).expect("stamps base");
    assert_eq!(migrator.current(db.url()).expect("reads"), Vec::<String>::new());
    migrator.stamp(db.url(), &[B, C], false).expect("stamps two arms");
    assert_eq!(migrator.current(db.url()).expect("reads"), [B, C]);
    let stamps = rows("SELECT revision FROM migrate_history WHERE direction = 'stamp' ORDER BY id", &db);
    assert_eq!(stamps, ["base", B, C]);
}

fn psql() -> std::path::PathBuf {
    let output = Command::new("pg_config").arg("--bindir").output().expect("pg_config runs");
    std::path::Path::new(String::from_utf8_lossy(&output.stdout).trim()).join("psql")
}

fn run_script(database: &TestDatabase, script: &str) {
    let path = std::env::temp_dir().join(format!("{}.sql", database.name()));
    std::fs::write(&path, script).expect("writes the script");
    let output = Command::new(psql())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database.url(), "-f"])
        .arg(&path)
        .output()
        .expect("psql runs");
    let _ = std::fs::remove_file(&path);
    assert!(output.status.success(), "psql failed: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn offline_sql_reaches_what_an_online_run_reaches() {
    let migrator = Migrator::new(&CRM);
    let (online, offline) = (database(), database());
    migrator.upgrade(online.url(), "head").expect("upgrades online");
    run_script(&offline, &migrator.upgrade_sql("base", "head").expect("renders"));
    assert_eq!(
        offline.schema(&migrator).expect("reads the schema"),
        online.schema(&migrator).expect("reads the schema")
    );
    assert_eq!(
        migrator.current(offline.url()).expect("reads"),
        migrator.current(online.url()).expect("reads")
    );

    migrator.downgrade(online.url(), LINKEDIN).expect("downgrades online");
    let head = CRM.heads()[0].rev;
    run_script(&offline, &migrator.downgrade_sql(head, LINKEDIN).expect("renders"));
    assert_eq!(
        offline.schema(&migrator).expect("reads the schema"),
        online.schema(&migrator).expect("reads the schema")
    );
    assert_eq!(migrator.current(offline.url()).expect("reads"), [LINKEDIN]);
    // The offline run is recorded as the online one is, so the next online run goes on from it.
    assert!(migrator.upgrade(offline.url(), "head").expect("upgrades").steps.len() == 4);
}

#[test]
fn the_stairway_passes_on_the_crm_history() {
    let report = testkit::stairway(&Migrator::new(&CRM)).expect("runs");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.checked.len(), CRM.len() - 1);
    assert_eq!(report.irreversible.iter().map(|(rev, _)| rev.as_str()).collect::<Vec<_>>(), [LINKEDIN]);
}

#[test]
fn the_stairway_names_every_broken_downgrade() {
    let report = testkit::stairway(&Migrator::new(&BROKEN)).expect("runs");
    let failed: Vec<&str> = report.failures.iter().map(|f| f.rev.as_str()).collect();
    assert_eq!(failed, [B, D, E, "ffff00000006"], "{report}");
    assert!(report.failures[0].problem.contains("+ column `phone` of `public.people`"), "{report}");
    assert!(report.failures[1].problem.contains("downgrade failed"), "{report}");
    assert!(report.failures[2].problem.contains("+ column `tagged` of `public.people`"), "{report}");
    assert!(
        report.failures[3].problem.starts_with("downgrade recorded no operation while upgrade recorded 1"),
        "{report}"
    );
    // Named without being run: not among the checked ones.
    assert_eq!(report.checked.len(), 5);
}

#[test]
fn migrated_databases_come_from_one_template() {
    let migrator = Migrator::new(&CRM);
    let (first, second) = (
        TestDatabase::migrated(&migrator).expect("clones"),
        TestDatabase::migrated(&migrator).expect("clones"),
    );
    for db in [&first, &second] {
        assert!(migrator.is_at_heads(db.url()).expect("reads"));
    }
    assert_ne!(first.name(), second.name());
}

#[test]
fn offline_sql_in_one_transaction_reaches_what_an_online_run_reaches() {
    let migrator = Migrator::new(&DIAMOND).one_transaction(true);
    let (online, offline) = (database(), database());
    migrator.upgrade(online.url(), "heads").expect("upgrades online");
    let script = migrator.upgrade_sql("base", "heads").expect("renders");
    assert_eq!(script.matches("BEGIN;").count(), 1, "{script}");
    run_script(&offline, &script);
    assert_eq!(
        offline.schema(&migrator).expect("reads the schema"),
        online.schema(&migrator).expect("reads the schema")
    );
    assert_eq!(migrator.current(offline.url()).expect("reads"), [E]);
    let recorded = "SELECT revision, direction, success FROM migrate_history ORDER BY id";
    assert_eq!(rows(recorded, &offline), rows(recorded, &online));
}

static FORCED: Chain = migrate_runtime::embed_migrations!("forced");
static VACUUMED: Chain = migrate_runtime::embed_migrations!("vacuumed");
static INSERTED_BEFORE: Chain = migrate_runtime::embed_migrations!("inserted_before");
static INSERTED_AFTER: Chain = migrate_runtime::embed_migrations!("inserted_after");

/// What the runner said on its own, for the tests that check it.
static NOTES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn remember(note: &str) {
    NOTES.lock().expect("notes").push(note.to_owned());
}

fn notes_about(word: &str) -> Vec<String> {
    NOTES.lock().expect("notes").iter().filter(|n| n.contains(word)).cloned().collect()
}

fn exists(table: &str, db: &TestDatabase) -> bool {
    rows(&format!("SELECT to_regclass('{table}') IS NOT NULL"), db) == ["t"]
}

#[test]
fn a_migration_marked_transactional_runs_in_one_transaction_and_fails_once() {
    let db = database();
    let migrator = Migrator::new(&FORCED);
    let error = migrator.upgrade(db.url(), "head").expect_err("fails");
    let Error::MigrationFailed(failure) = &error else { panic!("unexpected error: {error}") };
    assert_eq!(
        (failure.rev.as_str(), failure.transactional, failure.statement_index),
        (B, true, Some((2, 3)))
    );
    assert_eq!(failure.statement.as_deref(), Some("SELECT 1 / 0"));
    // Inside its transaction, its first statement was rolled back with the rest.
    assert_eq!(rows("SELECT string_agg(enumlabel, ',') FROM pg_enum", &db), ["calm"]);
    // Its statements ran once: the sequence, which no rollback resets, counted one run.
    assert_eq!(rows("SELECT last_value FROM attempts", &db), ["1"]);
    // Nothing half-done: the next run tries it again instead of refusing it.
    let again = migrator.upgrade(db.url(), "head").expect_err("fails again");
    assert!(matches!(&again, Error::MigrationFailed(f) if f.statement_index == Some((2, 3))), "{again}");
    assert_eq!(rows("SELECT last_value FROM attempts", &db), ["2"]);
}

#[test]
fn a_migration_added_below_an_applied_one_is_refused_with_the_way_out() {
    let db = database();
    Migrator::new(&INSERTED_BEFORE).upgrade(db.url(), "head").expect("upgrades");
    let history = rows("SELECT count(*) FROM migrate_history", &db);
    let later = Migrator::new(&INSERTED_AFTER);
    let error = later.upgrade(db.url(), "head").expect_err("refused");
    let Error::Unrecorded { migrations, rows: current } = &error else { panic!("unexpected error: {error}") };
    assert_eq!(migrations.iter().map(|m| m.rev.as_str()).collect::<Vec<_>>(), [B]);
    assert_eq!(current, &[C]);
    let text = error.report();
    assert!(text.contains("give it a down_revision after the current head"), "{text}");
    assert!(text.contains(&format!("`stamp {C}`")), "{text}");
    assert_eq!(rows("SELECT count(*) FROM migrate_history", &db), history, "nothing changed");
    assert!(!exists("notes", &db));
    // The way out for a migration applied by hand: stamp records it.
    later.stamp(db.url(), &[C], false).expect("stamps");
    assert!(later.upgrade(db.url(), "head").expect("runs").steps.is_empty());
}

#[test]
fn overlapping_version_rows_are_refused_before_anything_changes() {
    let db = database();
    let migrator = Migrator::new(&DIAMOND);
    migrator.upgrade(db.url(), B).expect("upgrades");
    db.connect()
        .expect("connects")
        .batch_execute(&format!("INSERT INTO alembic_version VALUES ('{A}')"))
        .expect("inserts");
    let error = migrator.upgrade(db.url(), "head").expect_err("refused");
    assert!(
        matches!(&error, Error::OverlappingRows { row, ancestor } if row == B && ancestor == A),
        "{error}"
    );
    assert!(error.report().contains("stamp --purge"), "{error}");
    assert_eq!(rows("SELECT version_num FROM alembic_version ORDER BY 1", &db), [A, B]);
    assert!(!exists("tags", &db));
}

#[test]
fn a_refused_command_creates_nothing_and_a_failed_run_in_one_transaction_leaves_nothing() {
    let db = database();
    let error = Migrator::new(&DIAMOND).upgrade(db.url(), "ffff").expect_err("refused");
    assert!(matches!(error, Error::Target(_)), "{error}");
    assert!(!exists("alembic_version", &db) && !exists("migrate_history", &db));

    let error = Migrator::new(&FAILING).one_transaction(true).upgrade(db.url(), "head").expect_err("fails");
    assert!(matches!(error, Error::MigrationFailed(_)), "{error}");
    assert!(
        !exists("alembic_version", &db) && !exists("migrate_history", &db),
        "the tables went with the run"
    );
    assert!(!exists("people", &db));
}

#[test]
fn an_invalid_index_left_by_a_failed_concurrent_build_is_dropped_before_the_retry() {
    let db = database();
    let migrator = Migrator::new(&SLOW).on_note(remember);
    migrator.upgrade(db.url(), A).expect("upgrades");
    let mut client = db.connect().expect("connects");
    client
        .batch_execute("INSERT INTO people (email) VALUES ('a@example.com'), ('a@example.com')")
        .expect("inserts");
    // A unique build over duplicates fails and leaves its index behind, INVALID.
    let failed = client.batch_execute("CREATE UNIQUE INDEX CONCURRENTLY idx_people_email ON people (email)");
    assert!(failed.is_err());
    assert_eq!(
        rows("SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_people_email'::regclass", &db),
        ["f"]
    );

    migrator.upgrade(db.url(), "head").expect("builds the index again");
    assert_eq!(
        rows("SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_people_email'::regclass", &db),
        ["t"]
    );
    let said = notes_about("idx_people_email");
    assert!(said.iter().any(|n| n.contains("left INVALID by an earlier build")), "{said:?}");
}

#[test]
fn a_waiting_runner_says_who_holds_the_lock() {
    let db = database();
    let mut holder = db.connect().expect("connects");
    let key = TableNames::default().lock_key_sql();
    holder.batch_execute(&format!("SELECT pg_advisory_lock({key})")).expect("locks");
    let url = db.url().to_owned();
    let waiter = std::thread::spawn(move || {
        Migrator::new(&DIAMOND)
            .lock_wait(Duration::from_secs(30))
            .on_note(remember)
            .upgrade(&url, "head")
            .map_err(|e| e.report())
    });
    std::thread::sleep(Duration::from_millis(5_800));
    holder.batch_execute(&format!("SELECT pg_advisory_unlock({key})")).expect("unlocks");
    let report = waiter.join().expect("joins").expect("upgrades once the lock is free");
    assert_eq!(report.after, [E]);
    let said = notes_about("waiting for the migration lock");
    assert!(said.iter().any(|n| n.contains("held by pid") && n.contains("connected since")), "{said:?}");
}

#[test]
fn an_interrupted_run_stops_and_says_what_it_left() {
    let db = database();
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let setter = std::sync::Arc::clone(&flag);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        setter.store(2, std::sync::atomic::Ordering::SeqCst);
    });
    let start = Instant::now();
    let error = Migrator::new(&SLOW).interrupt_on(flag).upgrade(db.url(), "head").expect_err("interrupted");
    assert!(start.elapsed() < Duration::from_secs(3), "the slow statement was cancelled, not waited for");
    let Error::Interrupted { signal, rev, left } = &error else { panic!("unexpected error: {error}") };
    assert_eq!((*signal, rev.as_deref()), (2, Some(B)));
    assert!(left.contains("stopped at its statement 1 of 2"), "{error}");
    let next = Migrator::new(&SLOW).upgrade(db.url(), "head").expect_err("refused");
    assert!(matches!(&next, Error::Dirty(d) if d.rev == B), "{next}");
}

#[test]
fn the_command_line_ends_quietly_when_its_reader_goes_away() {
    let mut child = racer()
        .args(["cli", "upgrade", "--sql", "head"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // The reader is gone before the first byte is written.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("reaps");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn sigterm_stops_the_command_line_and_it_says_what_it_left() {
    let db = database();
    let child = racer()
        .args(["cli-slow", "--database-url", db.url(), "upgrade", "head"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let started = "SELECT 1 WHERE to_regclass('migrate_history') IS NOT NULL AND (SELECT count(*) \
                   FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(3)%') > 0";
    let start = Instant::now();
    while rows(started, &db).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "the slow migration never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("signals");
    let output = child.wait_with_output().expect("reaps");
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{text}");
    assert!(text.contains(&format!("interrupted (signal 15) while running {B}")), "{text}");
    assert!(text.contains("stopped at its statement 1 of 2"), "{text}");
}

#[test]
fn a_claim_that_times_out_leaves_no_mark_and_stamps_and_accepts_refuse_what_would_corrupt() {
    let db = database();
    let migrator = Migrator::new(&SLOW).lock_timeout(Duration::from_millis(300));
    migrator.upgrade(db.url(), A).expect("upgrades");
    // Another session writes to the version table: the claim of the step outside a
    // transaction cannot lock it in time.
    let mut writer = db.connect().expect("connects");
    writer.batch_execute("BEGIN; LOCK TABLE alembic_version IN ROW EXCLUSIVE MODE").expect("locks");
    let error = migrator.upgrade(db.url(), "head").expect_err("times out");
    let Error::MigrationFailed(failure) = &error else { panic!("unexpected error: {error}") };
    assert_eq!((failure.rev.as_str(), failure.code.as_deref()), (B, Some("55P03")));
    writer.batch_execute("ROLLBACK").expect("releases");
    // Nothing of it ran, so nothing marks it: the next run applies it.
    assert_eq!(migrator.upgrade(db.url(), "head").expect("runs").after, [B]);

    // Two targets on one line would be overlapping rows; accept needs an applied revision.
    let diamond = database();
    let migrator = Migrator::new(&DIAMOND);
    let error = migrator.stamp(diamond.url(), &[A, B], false).expect_err("refused");
    assert!(matches!(&error, Error::OverlappingRows { .. }), "{error}");
    assert!(!exists("alembic_version", &diamond));
    migrator.upgrade(diamond.url(), B).expect("upgrades");
    let error = migrator.accept_checksums(diamond.url(), &[E]).expect_err("refused");
    assert!(matches!(&error, Error::NotApplied { rev } if rev == E), "{error}");
}

#[test]
fn an_interrupt_ends_the_wait_for_the_lock() {
    let db = database();
    let mut holder = db.connect().expect("connects");
    let key = TableNames::default().lock_key_sql();
    holder.batch_execute(&format!("SELECT pg_advisory_lock({key})")).expect("locks");
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let setter = std::sync::Arc::clone(&flag);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        setter.store(15, std::sync::atomic::Ordering::SeqCst);
    });
    let start = Instant::now();
    let error =
        Migrator::new(&DIAMOND).interrupt_on(flag).upgrade(db.url(), "head").expect_err("interrupted");
    assert!(start.elapsed() < Duration::from_secs(5), "waited {:?}", start.elapsed());
    assert!(matches!(&error, Error::Interrupted { signal: 15, rev: None, .. }), "{error}");
    assert!(error.report().contains("waiting for the migration lock: nothing ran"), "{error}");
}

#[test]
fn the_synchronous_api_works_inside_a_tokio_runtime() {
    let db = database();
    let url = db.url().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    // As `#[tokio::main] async fn main` calls it at start-up, success and failure alike.
    let report = runtime.block_on(async { Migrator::new(&DIAMOND).upgrade(&url, "head") }).expect("upgrades");
    assert_eq!(report.after, [E]);
    let refused = runtime.block_on(async { Migrator::new(&SHORT).upgrade(&url, "head") });
    assert!(matches!(refused, Err(Error::UnknownRevision { .. })), "{refused:?}");
    let unreachable =
        runtime.block_on(async { Migrator::new(&DIAMOND).current("postgres://nobody@127.0.0.1:1/x") });
    assert!(matches!(unreachable, Err(Error::Connect { .. })), "{unreachable:?}");
}

/// Runs `chain` (A, then B outside a transaction) to A, then to head while another session
/// holds the version table once B is claimed, so that B's statements run and the record of
/// its end times out; returns the migrator and the run's error.
fn end_not_recorded(chain: &'static Chain, db: &TestDatabase) -> (Migrator, String) {
    let migrator = Migrator::new(chain).lock_timeout(Duration::from_millis(500));
    migrator.upgrade(db.url(), A).expect("upgrades");
    let url = db.url().to_owned();
    let run = std::thread::spawn(move || {
        Migrator::new(chain)
            .lock_timeout(Duration::from_millis(500))
            .upgrade(&url, "head")
            .map_err(|e| e.report())
    });
    // Once the step is claimed, another session holds the version table until its end
    // cannot be recorded in time.
    let claimed = format!("SELECT 1 FROM migrate_history WHERE revision = '{B}' AND success IS NULL");
    let start = Instant::now();
    while rows(&claimed, db).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "never claimed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut holder = db.connect().expect("connects");
    holder.batch_execute("BEGIN; LOCK TABLE alembic_version IN SHARE MODE").expect("locks");
    let error = run.join().expect("joins").expect_err("the end times out");
    holder.batch_execute("ROLLBACK").expect("releases");
    (migrator, error)
}

#[test]
fn when_only_the_end_of_a_step_outside_a_transaction_fails_the_way_out_records_it() {
    let db = database();
    let (migrator, error) = end_not_recorded(&SLOW, &db);
    assert!(
        error.contains("every statement ran (outside a transaction); only the record of its end failed"),
        "{error}"
    );
    assert!(error.contains("from the record of its end"), "{error}");
    // The next run knows every statement ran, and says to record it, not to run it again.
    let refused = migrator.upgrade(db.url(), "head").expect_err("refused");
    let Error::Dirty(unfinished) = &refused else { panic!("unexpected error: {refused}") };
    assert!(unfinished.finished && unfinished.way_out() == [B], "{refused}");
    assert!(
        refused.report().contains(&format!("record that the upgrade is done with `stamp {B}`")),
        "{refused}"
    );
    migrator.stamp(db.url(), &[B], false).expect("stamps");
    assert!(migrator.upgrade(db.url(), "head").expect("runs").steps.is_empty());
    assert_eq!(
        rows("SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_people_email'::regclass", &db),
        ["t"]
    );
}

#[test]
fn a_stamp_does_not_accept_an_edit_and_a_missing_version_table_is_refused() {
    let db = database();
    Migrator::new(&EDITED_BEFORE).upgrade(db.url(), "head").expect("upgrades");
    let edited = Migrator::new(&EDITED_AFTER);
    edited.stamp(db.url(), &["head"], false).expect("stamps");
    let error = edited.upgrade(db.url(), "head").expect_err("still refused");
    assert!(matches!(error, Error::ChecksumMismatch(_)), "{error}");

    let diamond = database();
    let migrator = Migrator::new(&DIAMOND);
    migrator.upgrade(diamond.url(), "head").expect("upgrades");
    diamond.connect().expect("connects").batch_execute("DROP TABLE alembic_version").expect("drops");
    let error = migrator.upgrade(diamond.url(), "head").expect_err("refused");
    assert!(matches!(error, Error::MissingVersionTable), "{error}");
    assert!(!exists("alembic_version", &diamond), "nothing was changed");
    migrator.stamp(diamond.url(), &["head"], false).expect("stamps");
    assert!(migrator.upgrade(diamond.url(), "head").expect("runs").steps.is_empty());
}

#[test]
fn a_connection_string_typed_in_the_wrong_place_is_not_shown() {
    for args in [
        &["cli", "postgres://app:Hunter2secret@db.example/crm", "current"][..],
        &["cli", "current", "postgres://app:Hunter2secret@db.example/crm"],
        &["cli", "show", "postgres://app:Hunter2secret@db.example/crm"],
    ] {
        let output = racer().args(args).output().expect("runs");
        let text =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(!output.status.success(), "{args:?}");
        assert!(!text.contains("Hunter2secret"), "{args:?}: {text}");
        assert!(text.contains("(a connection string, not shown)"), "{args:?}: {text}");
    }
}

#[test]
fn when_only_the_end_failed_the_history_tells_what_the_catalog_cannot() {
    let db = database();
    let (migrator, error) = end_not_recorded(&VACUUMED, &db);
    assert!(error.contains("only the record of its end failed"), "{error}");
    // VACUUM leaves nothing the catalog shows: the failure row alone says the step is done.
    let refused = migrator.upgrade(db.url(), "head").expect_err("refused");
    let Error::Dirty(unfinished) = &refused else { panic!("unexpected error: {refused}") };
    assert!(unfinished.left.is_empty() && unfinished.finished && unfinished.way_out() == [B], "{refused}");
}

/// The version rows of `db`, sorted.
fn current(migrator: &Migrator, db: &TestDatabase) -> Vec<String> {
    let mut rows = migrator.current(db.url()).expect("reads");
    rows.sort();
    rows
}

#[test]
fn a_database_before_a_revision_has_its_ancestors_applied_and_nothing_else() {
    let migrator = Migrator::new(&DIAMOND);
    let before = |rev: &str| TestDatabase::before(&migrator, rev).expect("clones");
    // Before the merge: both arms, not the merge.
    assert_eq!(current(&migrator, &before(D)), [B, C]);
    // Before one arm: the base alone, not the other arm.
    let before_b = before(B);
    assert_eq!(current(&migrator, &before_b), [A]);
    assert_eq!(rows("SELECT to_regclass('tags') IS NULL, to_regclass('people') IS NULL", &before_b), ["t f"]);
    assert_eq!(current(&migrator, &before(E)), [D]);
    assert_eq!(current(&migrator, &before(A)), Vec::<String>::new());
    // A prefix names a revision as the runner's targets do; an unknown one is named.
    assert_eq!(current(&migrator, &before("dddd")), [B, C]);
    let error = TestDatabase::before(&migrator, "ffff0000").expect_err("unknown");
    assert!(error.to_string().contains("unknown revision `ffff0000`"), "{error}");
}

#[test]
fn databases_before_a_revision_come_from_one_template_per_revision() {
    let migrator = Migrator::new(&DIAMOND);
    let first = TestDatabase::before(&migrator, D).expect("clones");
    let second = TestDatabase::before(&migrator, D).expect("clones");
    let other = TestDatabase::before(&migrator, E).expect("clones");
    assert_ne!(first.name(), second.name());
    let names = format!("'{}', '{}'", first.name(), second.name());
    assert_eq!(rows(&format!("SELECT count(*) FROM pg_database WHERE datname IN ({names})"), &first), ["2"]);
    // A clone keeps its template's history to the microsecond; a replay would not.
    let history = "SELECT revision, started_at, finished_at FROM migrate_history ORDER BY id";
    assert_eq!(rows(history, &first).len(), 3);
    assert_eq!(rows(history, &first), rows(history, &second));
    // Another revision, another template: migrated on its own, and one step further.
    let other_history = rows(history, &other);
    assert_eq!(other_history.len(), 4);
    assert_ne!(other_history[..3], rows(history, &first)[..]);
}

#[test]
fn apply_runs_one_step_and_refuses_a_database_further_behind_and_revert_restores() {
    let migrator = Migrator::new(&DIAMOND);
    let db = TestDatabase::before(&migrator, D).expect("clones");
    // Two steps behind the last revision: refused, naming the step it would also run, and
    // nothing runs.
    let error = db.apply(&migrator, E).expect_err("two steps behind");
    assert!(error.to_string().contains(&format!("would also apply {D}")), "{error}");
    assert_eq!(current(&migrator, &db), [B, C]);

    db.apply(&migrator, D).expect("applies the merge");
    assert_eq!(current(&migrator, &db), [D]);
    let error = db.apply(&migrator, D).expect_err("applied already");
    assert!(error.to_string().contains("applied already"), "{error}");

    let before = db.schema(&migrator).expect("reads the schema");
    db.apply(&migrator, E).expect("applies");
    assert_eq!(current(&migrator, &db), [E]);
    assert_ne!(db.schema(&migrator).expect("reads the schema"), before);
    // Only a version row can be reverted alone.
    let error = db.revert(&migrator, D).expect_err("E grows from D");
    assert!(error.to_string().contains("not a version row"), "{error}");
    db.revert(&migrator, E).expect("reverts");
    assert_eq!(current(&migrator, &db), [D]);
    assert_eq!(db.schema(&migrator).expect("reads the schema"), before);
    // The downgrade ran as the runner runs it: recorded in the history.
    let directions = rows("SELECT revision, direction FROM migrate_history ORDER BY id DESC LIMIT 2", &db);
    assert_eq!(directions, [format!("{E} downgrade"), format!("{E} upgrade")]);
}

/// What Diesel's first run leaves: its table, its version rows, and the schema they stand for.
const DIESEL_DATABASE: &str = "CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY, \
     run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP);
     INSERT INTO __diesel_schema_migrations (version) VALUES ('20240101000000'), ('20240102000000');
     CREATE TABLE legacy_people (id bigint PRIMARY KEY)";

#[test]
fn a_database_another_tool_migrated_is_refused_before_anything_changes() {
    let db = database();
    db.connect().expect("connects").batch_execute(DIESEL_DATABASE).expect("creates");
    let nothing_changed = |error: &Error| {
        assert!(!exists("alembic_version", &db) && !exists("migrate_history", &db), "{error}");
        assert!(!exists("people", &db), "no migration ran: {error}");
    };
    let error = Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect_err("refused");
    let Error::ExistingSchema { tools, objects, count, .. } = &error else {
        panic!("unexpected error: {error}")
    };
    assert_eq!(tools, &[("Diesel".to_owned(), "public.__diesel_schema_migrations".to_owned())]);
    assert_eq!((objects.as_slice(), *count), (&["table public.legacy_people".to_owned()][..], 1));
    assert_eq!(
        error.to_string(),
        "the database has no version table public.alembic_version but already has the Diesel table \
         public.__diesel_schema_migrations and 1 object no migration recorded (table public.legacy_people): applying \
         from the first migration would run again what is already there"
    );
    let help = error.help().unwrap_or_default();
    assert!(
        help.starts_with(
            "if the migrations were imported from Diesel (`cargo migrate import`), run `cargo migrate adopt`"
        ),
        "{help}"
    );
    assert!(
        help.contains("run `stamp base` once (it creates the empty version table), then upgrade"),
        "{help}"
    );
    nothing_changed(&error);

    // Every way of starting from base: in one transaction, one step, asynchronously.
    let error = Migrator::new(&DIAMOND).one_transaction(true).upgrade(db.url(), "+1").expect_err("refused");
    assert!(matches!(error, Error::ExistingSchema { .. }), "{error}");
    nothing_changed(&error);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let error =
        runtime.block_on(Migrator::new(&DIAMOND).upgrade_async(db.url(), "head")).expect_err("refused");
    assert!(matches!(error, Error::ExistingSchema { .. }), "{error}");
    nothing_changed(&error);
    // What does not apply from base is not refused.
    assert_eq!(Migrator::new(&DIAMOND).current(db.url()).expect("reads"), Vec::<String>::new());
    assert!(Migrator::new(&DIAMOND).downgrade(db.url(), "base").expect("nothing to do").steps.is_empty());
    nothing_changed(&error);
}

#[test]
fn user_objects_alone_are_refused_and_an_empty_version_table_says_start_from_base() {
    let db = database();
    db.connect()
        .expect("connects")
        .batch_execute(
            "CREATE EXTENSION citext;
             CREATE TYPE mood AS ENUM ('ok');
             CREATE TABLE orders (id serial PRIMARY KEY, note citext);
             CREATE VIEW recent_orders AS SELECT * FROM orders;
             CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS 'SELECT 42';
             CREATE SCHEMA billing;
             CREATE TABLE billing.invoices (id int);
             CREATE DOMAIN billing.cents AS bigint;
             CREATE TYPE billing.money_range AS RANGE (subtype = numeric)",
        )
        .expect("creates");
    let error = Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect_err("refused");
    let Error::ExistingSchema { tools, objects, count, .. } = &error else {
        panic!("unexpected error: {error}")
    };
    assert!(tools.is_empty(), "{error}");
    // The extension's type and functions are not the database's own; orders' sequence is its
    // table's, the range's multirange its range's.
    assert_eq!(*count, 7, "{error}");
    assert_eq!(
        objects,
        &[
            "table billing.invoices",
            "table public.orders",
            "view public.recent_orders",
            "domain billing.cents",
            "type billing.money_range",
        ]
    );
    assert!(
        error.to_string().contains("7 objects no migration recorded (table billing.invoices, "),
        "{error}"
    );
    assert!(error.to_string().contains("type billing.money_range, …)"), "{error}");
    let help = error.help().unwrap_or_default();
    assert!(help.starts_with("record the revision the database is at with `stamp <revision>`"), "{help}");
    assert!(!exists("alembic_version", &db) && !exists("people", &db));

    // `stamp base` creates the empty version table: the database starts from base here.
    Migrator::new(&DIAMOND).stamp(db.url(), &["base"], false).expect("stamps base");
    let report = Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect("upgrades");
    assert_eq!(report.steps.len(), 5);
}

#[test]
fn an_extension_alone_is_no_schema_of_the_database() {
    let db = database();
    db.connect()
        .expect("connects")
        .batch_execute("CREATE EXTENSION citext; CREATE EXTENSION hstore")
        .expect("creates");
    assert_eq!(Migrator::new(&DIAMOND).upgrade(db.url(), "head").expect("upgrades").steps.len(), 5);
}
