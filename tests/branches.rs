//! Branch labels, `depends_on` and merges against a real PostgreSQL: the migrations run in an
//! order their SQL needs (a failing order fails the test), and the version rows are Alembic's:
//! one per head, a dependant's row standing for what it depends on.

use migrate_runtime::op::Op;
use migrate_runtime::{Chain, Migration, Migrator};

mod support;
use support::{database, migration, rows};

/// The upgrade and downgrade functions of one migration of the forest.
macro_rules! bodies {
    ($up:ident, $down:ident, $up_sql:literal, $down_sql:literal) => {
        fn $up(op: &mut Op) {
            op.execute($up_sql);
        }
        fn $down(op: &mut Op) {
            op.execute($down_sql);
        }
    };
}

bodies!(c1_up, c1_down, "CREATE TABLE core_people (id int PRIMARY KEY)", "DROP TABLE core_people");
bodies!(c2_up, c2_down, "ALTER TABLE core_people ADD email text", "ALTER TABLE core_people DROP email");
bodies!(
    c3_up,
    c3_down,
    "CREATE INDEX core_people_email ON core_people (email)",
    "DROP INDEX core_people_email"
);
bodies!(k1_up, k1_down, "CREATE TABLE lib_items (id int PRIMARY KEY)", "DROP TABLE lib_items");
bodies!(k2_up, k2_down, "ALTER TABLE lib_items ADD name text", "ALTER TABLE lib_items DROP name");
bodies!(
    n1_up,
    n1_down,
    "CREATE TABLE net_links (item int REFERENCES lib_items (id))",
    "DROP TABLE net_links"
);
bodies!(n2_up, n2_down, "CREATE VIEW net_people AS SELECT email FROM core_people", "DROP VIEW net_people");

const fn forest(
    rev: &'static str,
    parents: &'static [&'static str],
    up: fn(&mut Op),
    down: fn(&mut Op),
) -> Migration {
    migration(rev, parents, ("forest", "forest.rs"), true, up, down)
}

/// Three trees: core (c1 - c2 - c3); lib (k1 - k2, labelled `lib` at its tip); net (n1 - n2,
/// labelled `net`), where n1 depends on the `lib` label (its table references lib's) and n2 on
/// c2 (its view reads c2's column). Listed net first, so that only the dependencies put lib
/// and core's c2 before it.
static N1: Migration =
    Migration { branch_labels: &["net"], depends_on: &["lib"], ..forest("n1", &[], n1_up, n1_down) };
static N2: Migration = Migration { depends_on: &["c2"], ..forest("n2", &["n1"], n2_up, n2_down) };
static C1: Migration = forest("c1", &[], c1_up, c1_down);
static C2: Migration = forest("c2", &["c1"], c2_up, c2_down);
static C3: Migration = forest("c3", &["c2"], c3_up, c3_down);
static K1: Migration = forest("k1", &[], k1_up, k1_down);
static K2: Migration = Migration { branch_labels: &["lib"], ..forest("k2", &["k1"], k2_up, k2_down) };
static FOREST: Chain = Chain::new(&[&N1, &N2, &C1, &C2, &C3, &K1, &K2]);

static DIAMOND: Chain = migrate_runtime::embed_migrations!("diamond");

fn revs(report: &migrate_runtime::Report) -> Vec<&str> {
    report.steps.iter().map(|s| s.rev).collect()
}

/// The version table's rows, sorted: what Alembic reads.
fn version_rows(db: &migrate_runtime::testkit::TestDatabase) -> Vec<String> {
    rows("SELECT version_num FROM alembic_version ORDER BY 1", db)
}

#[test]
fn a_branch_pulls_in_what_it_depends_on_and_its_row_stands_for_it() {
    let db = database();
    let migrator = Migrator::new(&FOREST);
    // net@head needs lib (through n1's dependency on its label) and core up to c2, not c3.
    let report = migrator.upgrade(db.url(), "net@head").expect("upgrades the net branch");
    assert_eq!(revs(&report), ["c1", "c2", "k1", "k2", "n1", "n2"]);
    // One row: n2 stands for n1, for k2 (the `lib` label n1 depends on) and for c2.
    assert_eq!(version_rows(&db), ["n2"]);
    assert_eq!(migrator.current(db.url()).expect("reads"), ["n2"]);
    assert!(!migrator.is_at_heads(db.url()).expect("reads"));

    // heads are c3 and n2; k2 is an effective head, which n2's row stands for.
    let report = migrator.upgrade(db.url(), "heads").expect("upgrades the rest");
    assert_eq!(revs(&report), ["c3"]);
    assert_eq!(version_rows(&db), ["c3", "n2"]);
    assert!(migrator.is_at_heads(db.url()).expect("reads"));
    assert!(migrator.upgrade(db.url(), "heads").expect("nothing to do").steps.is_empty());
}

#[test]
fn reverting_a_branch_reverts_what_depends_on_it_and_leaves_the_rest() {
    let db = database();
    let migrator = Migrator::new(&FOREST);
    migrator.upgrade(db.url(), "heads").expect("upgrades");
    let report = migrator.downgrade(db.url(), "lib@base").expect("reverts lib");
    // net depends on lib: it goes first; core stays.
    assert_eq!(revs(&report), ["n2", "n1", "k2", "k1"]);
    assert_eq!(version_rows(&db), ["c3"]);
    let tables = rows(
        "SELECT relname FROM pg_class WHERE relname IN ('core_people', 'lib_items', 'net_links', 'net_people') ORDER BY 1",
        &db,
    );
    assert_eq!(tables, ["core_people"]);
    // Up again to the net branch: lib comes back first.
    assert_eq!(revs(&migrator.upgrade(db.url(), "net@head").expect("upgrades")), ["k1", "k2", "n1", "n2"]);
    assert_eq!(version_rows(&db), ["c3", "n2"]);
    // One step down within the net branch: n1's row and c3's stand for everything left.
    assert_eq!(revs(&migrator.downgrade(db.url(), "net@-1").expect("one step")), ["n2"]);
    assert_eq!(version_rows(&db), ["c3", "n1"]);
    // A revision of another branch is refused with the branch's name.
    let error = migrator.downgrade(db.url(), "net@c2").expect_err("not on the branch").to_string();
    assert!(error.contains("revision `c2` is not on branch `net`"), "{error}");
    assert_eq!(version_rows(&db), ["c3", "n1"]);
}

#[test]
fn stamping_a_branch_to_its_base_keeps_the_other_rows() {
    let db = database();
    let migrator = Migrator::new(&FOREST);
    migrator.upgrade(db.url(), "heads").expect("upgrades");
    let report = migrator.stamp(db.url(), &["net@base"], false).expect("stamps");
    assert_eq!(report.after, ["c3", "k2"]);
    assert_eq!(version_rows(&db), ["c3", "k2"]);
}

#[test]
fn downgrade_minus_one_right_after_a_merge_reverts_the_merge() {
    let db = database();
    let migrator = Migrator::new(&DIAMOND);
    migrator.upgrade(db.url(), "dddd00000004").expect("upgrades to the merge");
    assert_eq!(version_rows(&db), ["dddd00000004"]);
    let report = migrator.downgrade(db.url(), "-1").expect("reverts the merge");
    assert_eq!(revs(&report), ["dddd00000004"]);
    assert_eq!(version_rows(&db), ["bbbb00000002", "cccc00000003"]);
    // From two rows, -1 has no single answer.
    let error = migrator.downgrade(db.url(), "-1").expect_err("ambiguous").to_string();
    assert!(error.contains("the database is at 2 heads (`bbbb00000002` and `cccc00000003`)"), "{error}");
}
