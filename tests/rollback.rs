//! A rollback of the code: a binary built without the newest migrations meets a database a
//! newer release migrated, and reverts them with the downgrades their history stored when
//! they were applied; and a squashed baseline accepted by databases past it.

mod support;

use std::time::Duration;

use migrate_runtime::op::Op;
use migrate_runtime::prelude::Type;
use migrate_runtime::testkit::TestDatabase;
use migrate_runtime::{Chain, Error, Migration, Migrator};
use support::{database, execute, migration, rows};

fn create_people(op: &mut Op) {
    op.create_table("people", |t| {
        t.column("id", Type::BigInt).primary_key();
        t.column("name", Type::Text);
    });
}

fn drop_people(op: &mut Op) {
    op.drop_table("people");
}

fn add_email(op: &mut Op) {
    op.add_column("people", "email", Type::Text);
}

fn drop_email(op: &mut Op) {
    op.drop_column("people", "email");
}

fn create_notes(op: &mut Op) {
    op.create_table("notes", |t| {
        t.column("id", Type::BigInt).primary_key();
        t.column("body", Type::Text);
    });
    op.execute("INSERT INTO notes VALUES (1, 'kept')");
}

/// Leaves a trace of its run with a value no quoting may change, then drops the table.
fn drop_notes(op: &mut Op) {
    op.lock_timeout(Duration::from_secs(7));
    op.execute("INSERT INTO people (id, name) VALUES (99, E'it''s \\\\ \"odd\" é $$ ;')");
    op.drop_table("notes");
}

fn index_email(op: &mut Op) {
    op.create_index("people_email", "people", &["email"]).concurrently();
}

fn drop_index_email(op: &mut Op) {
    op.drop_index("people_email").concurrently();
}

fn enum_value(op: &mut Op) {
    op.execute("CREATE TYPE mood AS ENUM ('calm')");
}

fn cannot_undo(op: &mut Op) {
    op.irreversible("PostgreSQL cannot drop an enum value");
}

const A: &str = "a00000000001";
const B: &str = "b00000000002";
const C: &str = "c00000000003";
const D: &str = "d00000000004";
const E: &str = "e00000000005";

static MA: Migration =
    migration(A, &[], ("create_people", "migrations/a.rs"), true, create_people, drop_people);
static MB: Migration = migration(B, &[A], ("add_email", "migrations/b.rs"), true, add_email, drop_email);
static MC: Migration =
    migration(C, &[B], ("create_notes", "migrations/c.rs"), true, create_notes, drop_notes);
static MD: Migration =
    migration(D, &[C], ("index_email", "migrations/d.rs"), false, index_email, drop_index_email);
static ME: Migration = migration(E, &[C], ("add_mood", "migrations/e.rs"), true, enum_value, cannot_undo);

const F: &str = "f00000000006";
const M: &str = "f00000000007";

static MF: Migration =
    migration(F, &[A], ("create_notes_beside", "migrations/f.rs"), true, create_notes, drop_notes);
static MM: Migration = migration(M, &[B, F], ("merge_notes", "migrations/m.rs"), true, nothing, nothing);

fn nothing(_: &mut Op) {}

/// A newer release that forked below the older one's head, then merged.
static FORKED: Chain = Chain::new(&[&MA, &MB, &MF, &MM]);

/// The older release: two migrations.
static OLD: Chain = Chain::new(&[&MA, &MB]);
/// The newer one: two more, the last outside a transaction.
static NEW: Chain = Chain::new(&[&MA, &MB, &MC, &MD]);
/// A newer one whose last migration cannot be undone.
static IRREVERSIBLE: Chain = Chain::new(&[&MA, &MB, &MC, &ME]);

fn tables(db: &TestDatabase) -> Vec<String> {
    rows(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i') \
         AND relname NOT LIKE 'alembic%' AND relname NOT LIKE 'migrate%' ORDER BY 1",
        db,
    )
}

#[test]
fn an_older_binary_shows_then_reverts_what_a_newer_one_applied() {
    let db = database();
    Migrator::new(&NEW).upgrade(db.url(), "head").expect("the newer release migrates");
    let before = tables(&db);
    assert!(
        before.contains(&"people_email".to_owned()) && before.contains(&"notes".to_owned()),
        "{before:?}"
    );

    // Without being told, it refuses, showing the SQL it would run, newest first.
    let error = Migrator::new(&OLD).downgrade(db.url(), "head").expect_err("refused without the flag");
    let Error::Newer { revisions, shown } = &error else { panic!("{error:?}") };
    assert_eq!(revisions, &[D.to_owned()]);
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown[0].starts_with(&format!("{D} (index_email)")) && shown[0].contains("DROP INDEX CONCURRENTLY")
    );
    assert!(
        shown[1].starts_with(&format!("{C} (create_notes)")) && shown[1].contains("DROP TABLE \"notes\"")
    );
    let report = error.report();
    assert!(report.contains("--revert-newer") && report.contains("would revert"), "{report}");
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [D]);
    assert_eq!(tables(&db), before, "a refusal changes nothing");

    // Told, it runs the stored downgrades, then stops at its own head.
    let report = Migrator::new(&OLD)
        .revert_newer(true)
        .downgrade(db.url(), "head")
        .expect("the older release reverts");
    assert_eq!(report.steps.iter().map(|s| s.rev).collect::<Vec<_>>(), [D, C]);
    assert_eq!(report.after, [B]);
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [B]);
    assert_eq!(tables(&db), ["people", "people_pkey"]);
    // The stored statements ran as written: quotes, a backslash, dollars, a semicolon.
    assert_eq!(rows("SELECT name FROM people WHERE id = 99", &db), ["it's \\ \"odd\" é $$ ;"]);
    assert_eq!(
        rows(
            "SELECT revision || ' ' || direction || ' ' || success FROM migrate_history WHERE direction = 'downgrade' AND success \
             ORDER BY id",
            &db
        ),
        [format!("{D} downgrade true"), format!("{C} downgrade true")]
    );
    // The older release is at its head; the newer one applies its migrations again.
    Migrator::new(&OLD).upgrade(db.url(), "head").expect("nothing to do");
    Migrator::new(&NEW).upgrade(db.url(), "head").expect("the newer release migrates again");
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [D]);
}

#[test]
fn a_target_relative_to_the_database_counts_the_revisions_it_does_not_know() {
    let db = database();
    Migrator::new(&NEW).upgrade(db.url(), "head").expect("migrates");
    let old = Migrator::new(&OLD).revert_newer(true);
    old.downgrade(db.url(), "-1").expect("one step down");
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [C]);
    // Past its own head: the stored downgrades, then its own.
    old.downgrade(db.url(), "base").expect("to base");
    assert_eq!(rows("SELECT count(*) FROM alembic_version", &db), ["0"]);
    assert!(tables(&db).is_empty(), "{:?}", tables(&db));
}

#[test]
fn an_irreversible_migration_stays_irreversible_for_an_older_binary() {
    let db = database();
    Migrator::new(&IRREVERSIBLE).upgrade(db.url(), "head").expect("migrates");
    let error = Migrator::new(&OLD).revert_newer(true).downgrade(db.url(), "head").expect_err("irreversible");
    assert!(
        matches!(&error, Error::Irreversible { rev, reason, .. } if rev == E && reason.contains("enum value")),
        "{error:?}"
    );
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [E]);
    assert_eq!(rows("SELECT count(*) FROM notes", &db), ["1"], "nothing was reverted");
}

#[test]
fn a_revision_whose_history_stored_no_downgrade_is_refused_by_name() {
    let db = database();
    Migrator::new(&NEW).upgrade(db.url(), "head").expect("migrates");
    // As a release that did not store downgrades would have recorded it.
    execute(db.url(), &format!("UPDATE migrate_history SET downgrade = NULL WHERE revision = '{C}'"));
    let error = Migrator::new(&OLD).revert_newer(true).downgrade(db.url(), "head").expect_err("refused");
    assert!(matches!(&error, Error::NotStored { revisions } if revisions == &[C.to_owned()]), "{error:?}");
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [D], "nothing was reverted");

    // A stamped revision stored nothing either.
    let db = database();
    Migrator::new(&NEW).stamp(db.url(), &["head"], false).expect("stamps");
    let error = Migrator::new(&OLD).revert_newer(true).downgrade(db.url(), "head").expect_err("refused");
    assert!(
        matches!(&error, Error::NotStored { revisions } if revisions.contains(&D.to_owned())),
        "{error:?}"
    );
}

#[test]
fn a_history_table_made_before_downgrades_were_stored_gets_its_columns() {
    let db = database();
    Migrator::new(&OLD).upgrade(db.url(), "head").expect("migrates");
    execute(
        db.url(),
        "ALTER TABLE migrate_history DROP COLUMN parents, DROP COLUMN depends_on, DROP COLUMN transactional, \
         DROP COLUMN downgrade, DROP COLUMN downgrade_settings, DROP COLUMN irreversible",
    );
    Migrator::new(&NEW).upgrade(db.url(), "head").expect("the newer release migrates the old table");
    assert_eq!(
        rows(&format!("SELECT array_length(downgrade, 1) FROM migrate_history WHERE revision = '{C}'"), &db),
        ["2"]
    );
    Migrator::new(&OLD).revert_newer(true).downgrade(db.url(), "head").expect("reverts");
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [B]);
    // Reading a database (a standby's, say) sends no change.
    assert_eq!(Migrator::new(&OLD).current(db.url()).expect("reads"), [B]);
}

/// The baseline of a squash of `A` and `B`: it keeps `B`'s id and builds what both built.
fn baseline(op: &mut Op) {
    create_people(op);
    add_email(op);
}

#[test]
fn a_squashed_baseline_is_accepted_where_its_revision_was_applied() {
    let db = database();
    Migrator::new(&OLD).upgrade(db.url(), "head").expect("migrates");
    let recorded = rows(&format!("SELECT checksum FROM migrate_history WHERE revision = '{B}'"), &db);
    let recorded: &'static str = String::leak(recorded[0].clone());
    let squashed = |squashes: Option<&'static str>| -> &'static Migration {
        Box::leak(Box::new(Migration {
            squashes,
            ..migration(B, &[], ("squash_of_people", "migrations/b.rs"), true, baseline, cannot_undo)
        }))
    };
    let chain = |baseline: &'static Migration| Chain::new(Vec::leak(vec![baseline, &MC]));
    // Without the recorded checksum, the edited revision is refused.
    let error = Migrator::new(&chain(squashed(None))).upgrade(db.url(), "head").expect_err("an edit");
    assert!(matches!(error, Error::ChecksumMismatch(_)), "{error:?}");
    // With it, the database runs nothing of the baseline and goes on.
    let report = Migrator::new(&chain(squashed(Some(recorded)))).upgrade(db.url(), "head").expect("goes on");
    assert_eq!(report.steps.iter().map(|s| s.rev).collect::<Vec<_>>(), [C]);
    // Another checksum does not pass.
    let other: &'static str = String::leak("0".repeat(64));
    let db = database();
    Migrator::new(&OLD).upgrade(db.url(), "head").expect("migrates");
    let error = Migrator::new(&chain(squashed(Some(other)))).upgrade(db.url(), "head").expect_err("an edit");
    assert!(matches!(error, Error::ChecksumMismatch(_)), "{error:?}");
    // A fresh database runs the baseline.
    let db = database();
    Migrator::new(&chain(squashed(Some(recorded)))).upgrade(db.url(), "head").expect("from empty");
    assert_eq!(rows("SELECT count(*) FROM notes", &db), ["1"]);
}

#[test]
fn older_binaries_reverting_at_once_revert_each_revision_once() {
    let db = database();
    Migrator::new(&NEW).upgrade(db.url(), "head").expect("migrates");
    let url = db.url().to_owned();
    let runners: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || Migrator::new(&OLD).revert_newer(true).downgrade(url.as_str(), "head"))
        })
        .collect();
    let mut reverted = 0;
    for runner in runners {
        let report = runner.join().expect("joins").expect("each ends well: reverts, or finds nothing to do");
        reverted += report.steps.len();
    }
    assert_eq!(reverted, 2, "two revisions, each reverted once");
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [B]);
    assert_eq!(
        rows("SELECT count(*) FROM migrate_history WHERE direction = 'downgrade' AND success", &db),
        ["2"]
    );
    assert_eq!(
        rows("SELECT count(*) FROM people WHERE id = 99", &db),
        ["1"],
        "the stored downgrade ran once"
    );
}

#[test]
fn a_line_of_the_newer_release_forked_below_the_older_head_is_reverted_too() {
    let db = database();
    Migrator::new(&FORKED).upgrade(db.url(), "heads").expect("the newer release migrates");
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [M]);
    let report = Migrator::new(&OLD).revert_newer(true).downgrade(db.url(), "head").expect("reverts");
    assert_eq!(report.steps.iter().map(|s| s.rev).collect::<Vec<_>>(), [M, F]);
    assert_eq!(rows("SELECT version_num FROM alembic_version", &db), [B]);
    assert!(!tables(&db).contains(&"notes".to_owned()), "{:?}", tables(&db));
    assert!(Migrator::new(&OLD).is_at_heads(db.url()).expect("reads"));
}

#[test]
fn what_an_upgrade_stores_is_the_downgrade_whole_also_in_a_script() {
    let db = database();
    Migrator::new(&NEW).upgrade(db.url(), "head").expect("migrates");
    assert_eq!(
        rows(
            &format!(
                "SELECT array_to_string(parents, ',') || ' ' || array_to_string(downgrade_settings, ',') || ' ' \
                 || transactional FROM migrate_history WHERE revision = '{C}' AND direction = 'upgrade'"
            ),
            &db
        ),
        [format!("{B} lock_timeout=7000ms true")]
    );
    assert_eq!(
        rows(&format!("SELECT transactional FROM migrate_history WHERE revision = '{D}' AND success"), &db),
        ["f"]
    );
    let script = Migrator::new(&NEW).upgrade_sql("base", "head").expect("a script");
    assert!(script.contains("'DROP TABLE \"notes\"'"), "{script}");
    assert!(script.contains("'lock_timeout=7000ms'"), "{script}");
    let from_b = Migrator::new(&NEW).upgrade_sql(B, "head").expect("a script");
    assert!(from_b.contains("ADD COLUMN IF NOT EXISTS downgrade text[]"), "{from_b}");
}

#[test]
fn an_old_history_table_changes_only_when_a_run_has_a_step_to_make() {
    let db = database();
    Migrator::new(&OLD).upgrade(db.url(), "head").expect("migrates");
    let drop_columns = "ALTER TABLE migrate_history DROP COLUMN parents, DROP COLUMN depends_on, \
         DROP COLUMN transactional, DROP COLUMN downgrade, DROP COLUMN downgrade_settings, DROP COLUMN irreversible";
    execute(db.url(), drop_columns);
    let columns = "SELECT count(*) FROM pg_attribute WHERE attrelid = 'migrate_history'::regclass AND attname = 'downgrade'";
    // Nothing to do: nothing changes.
    Migrator::new(&OLD).upgrade(db.url(), "head").expect("nothing to do");
    assert_eq!(rows(columns, &db), ["0"]);
    // Read-only: refused as such, not as an unreadable table.
    execute(db.url(), &format!("ALTER DATABASE {} SET default_transaction_read_only = on", db.name()));
    let error = Migrator::new(&NEW).upgrade(db.url(), "head").expect_err("read-only");
    assert!(matches!(error, Error::ReadOnly { .. }), "{error:?}");
    execute(
        db.url(),
        &format!(
            "BEGIN READ WRITE; ALTER DATABASE {} RESET default_transaction_read_only; COMMIT",
            db.name()
        ),
    );
    // A refused run (an unknown revision) changes nothing either.
    execute(db.url(), "UPDATE alembic_version SET version_num = 'ffff00000000'");
    let error = Migrator::new(&OLD).upgrade(db.url(), "head").expect_err("unknown");
    assert!(matches!(error, Error::UnknownRevision { .. }), "{error:?}");
    assert_eq!(rows(columns, &db), ["0"]);
    execute(db.url(), &format!("UPDATE alembic_version SET version_num = '{B}'"));
    // A run with steps adds them first, under the lock.
    Migrator::new(&NEW).upgrade(db.url(), "head").expect("migrates");
    assert_eq!(rows(columns, &db), ["1"]);
}
