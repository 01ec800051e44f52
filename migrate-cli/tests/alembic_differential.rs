//! The real Alembic against `cargo migrate`, command by command: the Alembic project of
//! `tests/alembic` imported once into a crate, then the same sequence of commands on two fresh
//! databases, one migrated by Alembic, one by `cargo migrate`, comparing after each command the
//! `alembic_version` rows (as a set) and the schema (the project's schema model, the runner's
//! own tables left out). The sequence takes every graph form of the compatibility table:
//! `<rev>`, `+1`, `<rev>+1`, `<label>@head`, `heads`, a `depends_on` pulled in from the other
//! tree, `<label>@base` and `<label>@<rev>` downgrades, `-1` right after the merge, a
//! downgrade across the merge into one arm, stamps, `downgrade base`. Where the README says
//! this project *exceeds* Alembic, our error is asserted and the database must be unchanged
//! (and Alembic's own behaviour is checked, where running it leaves its database as it was).
//! Where this project resolves a target Alembic refuses (`head` beside an effective head,
//! `-1` down a merge, `audit@head` in a downgrade) or does something else by design
//! (`downgrade orgs@base` reverts the branch from where it forks; `stamp audit@base` leaves
//! the rows that downgrade would), Alembic's behaviour is asserted, Alembic is taken to the
//! same place by other commands, and the two databases are compared again.
//!
//! The project's graph: `1a2b` (base) → `2b3c` → three arms, `3c4d` (labelled `orgs`),
//! `0004.idx_email` and `5e6f`, merged by `6f70` → `7081`, which depends on `audit`, the label
//! of the second base `a0c0`.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::Cell;
use std::path::PathBuf;
use std::process::Output;
use std::time::Instant;

use common::alembic::{alembic_output, import, project, schema, version_rows};
use common::{Fixture, stderr, stdout};
use migrate_runtime::catalog::{Change, Schema, differences};
use migrate_runtime::testkit::TestDatabase;

const A: &str = "1a2b3c4d5e6f";
const B: &str = "2b3c4d5e6f70";
const ORGS: &str = "3c4d5e6f7081";
const INDEX: &str = "0004.idx_email";
const NOTES: &str = "5e6f70819203";
const MERGE: &str = "6f7081920314";
const AUDITED: &str = "7081920314a5";
const AUDIT: &str = "a0c0ffee0001";

/// What Alembic does with a command where this project exceeds it.
enum Theirs {
    /// Exits 0 and changes nothing.
    NoOp,
    /// Fails, with this in its standard error, and changes nothing.
    Fails(&'static str),
    /// Not run: it would change its database (the README describes what it does).
    NotRun,
}

/// The imported crate and the two databases, Alembic's and ours.
struct Pair {
    project: PathBuf,
    fixture: Fixture,
    theirs: TestDatabase,
    ours: TestDatabase,
    /// Whether a table's columns may stand in another order: set by a command that applies
    /// independent arms adding columns to one table, cleared by the first comparison that
    /// finds the orders equal again (a column dropped and added again on both sides).
    column_order_differs: Cell<bool>,
}

/// A database's version rows (sorted) and schema.
fn state(db: &TestDatabase) -> (Vec<String>, Schema) {
    (version_rows(db.url()), schema(db.url()))
}

fn shown(output: &Output) -> String {
    format!("exit {:?}\n{}{}", output.status.code(), stdout(output), stderr(output))
}

impl Pair {
    fn alembic(&self, args: &[&str]) -> Output {
        alembic_output(&self.project, self.theirs.url(), args)
    }

    fn cargo_migrate(&self, args: &[&str]) -> Output {
        let mut all = vec!["--database-url", self.ours.url()];
        all.extend(args);
        self.fixture.run(&all)
    }

    /// Compares the two databases after `what`: the version rows as sets, and the schemas,
    /// where only a column order [`Pair::column_order_differs`] allows may differ. Returns
    /// the rows.
    fn compare(&self, what: &str, outputs: &str) -> Vec<String> {
        let ((their_rows, their_schema), (our_rows, our_schema)) = (state(&self.theirs), state(&self.ours));
        assert_eq!(their_rows, our_rows, "`{what}`: the version rows differ (left Alembic's){outputs}");
        let all = their_schema.diff(&our_schema);
        let order = |c: &Change| matches!(c, Change::Changed { attribute: "column order", .. });
        if !all.iter().any(order) {
            self.column_order_differs.set(false);
        }
        let changes: Vec<Change> =
            all.into_iter().filter(|c| !(self.column_order_differs.get() && order(c))).collect();
        assert!(
            changes.is_empty(),
            "`{what}`: the schemas differ (from Alembic's to ours):\n{}{outputs}",
            differences(&changes)
        );
        our_rows
    }

    /// Runs `args` with both tools: both succeed or both fail, and then the databases
    /// compare equal.
    fn same(&self, args: &[&str]) {
        let started = Instant::now();
        let theirs = self.alembic(args);
        let ours = self.cargo_migrate(args);
        let outputs = format!("\n--- Alembic: {}\n--- cargo migrate: {}", shown(&theirs), shown(&ours));
        assert_eq!(
            theirs.status.success(),
            ours.status.success(),
            "`{}`: Alembic and cargo migrate disagree on success{outputs}",
            args.join(" ")
        );
        let rows = self.compare(&args.join(" "), &outputs);
        eprintln!(
            "same    {:<28} {} rows {rows:?} ({:.1}s)",
            args.join(" "),
            if ours.status.success() { "ok    " } else { "failed" },
            started.elapsed().as_secs_f64()
        );
    }

    /// [`Pair::same`] for a command applying independent arms that add columns to one table:
    /// Alembic runs arms in the reverse order of the merge's parents, this project in the
    /// order of its linearised chain (both valid orders, as the Alembic notes' §4.3 leaves it
    /// to us), so the columns may come in another order, until they are dropped.
    fn same_but_column_order(&self, args: &[&str]) {
        self.column_order_differs.set(true);
        self.same(args);
    }

    /// Runs `args` where this project exceeds Alembic: ours fails with `error` in its message
    /// and leaves the database as it was; Alembic does what `theirs` says.
    fn exceeds(&self, args: &[&str], error: &str, theirs: Theirs) {
        let started = Instant::now();
        let before = state(&self.ours);
        let ours = self.cargo_migrate(args);
        assert_eq!(ours.status.code(), Some(3), "`{}`: {}", args.join(" "), shown(&ours));
        assert!(stderr(&ours).contains(error), "`{}`: {}", args.join(" "), shown(&ours));
        let after = state(&self.ours);
        assert_eq!(before.0, after.0, "`{}` changed the version rows", args.join(" "));
        assert!(before.1 == after.1, "`{}` changed the schema", args.join(" "));
        let their_before = state(&self.theirs);
        match theirs {
            Theirs::NotRun => {}
            Theirs::NoOp | Theirs::Fails(_) => {
                let output = self.alembic(args);
                if let Theirs::Fails(message) = theirs {
                    assert!(
                        !output.status.success() && shown(&output).contains(message),
                        "`alembic {}`: {}",
                        args.join(" "),
                        shown(&output)
                    );
                } else {
                    assert!(output.status.success(), "`alembic {}`: {}", args.join(" "), shown(&output));
                }
                let their_after = state(&self.theirs);
                assert_eq!(their_before.0, their_after.0, "`alembic {}` changed its rows", args.join(" "));
                assert!(their_before.1 == their_after.1, "`alembic {}` changed its schema", args.join(" "));
            }
        }
        eprintln!(
            "exceeds {:<28} refused rows {:?} ({:.1}s)",
            args.join(" "),
            after.0,
            started.elapsed().as_secs_f64()
        );
    }

    /// Runs `args` where Alembic refuses (with `their_error`, changing nothing) a target this
    /// project resolves: ours succeeds, Alembic reaches the same place with `their_way`
    /// (commands; none when ours changed nothing), and then the databases must compare equal.
    fn ours_resolves(&self, args: &[&str], their_error: &str, their_way: &[&[&str]]) {
        let started = Instant::now();
        let before = state(&self.theirs);
        let refused = self.alembic(args);
        assert!(
            !refused.status.success() && shown(&refused).contains(their_error),
            "`alembic {}`: {}",
            args.join(" "),
            shown(&refused)
        );
        let after = state(&self.theirs);
        assert!(
            before.0 == after.0 && before.1 == after.1,
            "`alembic {}` changed its database",
            args.join(" ")
        );
        let ours = self.cargo_migrate(args);
        assert!(ours.status.success(), "`{}`: {}", args.join(" "), shown(&ours));
        for step in their_way {
            let output = self.alembic(step);
            assert!(output.status.success(), "`alembic {}`: {}", step.join(" "), shown(&output));
        }
        let their_way: Vec<String> = their_way.iter().map(|step| step.join(" ")).collect();
        let their_way = their_way.join(", ");
        let our_rows = self.compare(&format!("{}` against Alembic's `{their_way}", args.join(" ")), "");
        eprintln!(
            "ours    {:<28} ok     rows {:?}, Alembic: {} ({:.1}s)",
            args.join(" "),
            our_rows,
            their_way,
            started.elapsed().as_secs_f64()
        );
    }

    /// Runs `args` where Alembic does something else than this project by design (each use
    /// says what and why): both succeed, Alembic leaves `their_rows`, and then `their_way` (commands) takes
    /// Alembic's database where ours is, the version rows and the schemas compared as in
    /// [`Pair::same`].
    fn alembic_differs(&self, args: &[&str], their_rows: &[&str], their_way: &[&[&str]]) {
        let started = Instant::now();
        let theirs = self.alembic(args);
        assert!(theirs.status.success(), "`alembic {}`: {}", args.join(" "), shown(&theirs));
        let mut expected: Vec<String> = their_rows.iter().map(|r| (*r).to_owned()).collect();
        expected.sort();
        assert_eq!(
            version_rows(self.theirs.url()),
            expected,
            "`alembic {}`: {}",
            args.join(" "),
            shown(&theirs)
        );
        let ours = self.cargo_migrate(args);
        assert!(ours.status.success(), "`{}`: {}", args.join(" "), shown(&ours));
        for step in their_way {
            let output = self.alembic(step);
            assert!(output.status.success(), "`alembic {}`: {}", step.join(" "), shown(&output));
        }
        let our_rows = self.compare(&format!("{}` and Alembic's way to the same place", args.join(" ")), "");
        eprintln!(
            "differs {:<28} ok     rows {:?}, Alembic: {:?} ({:.1}s)",
            args.join(" "),
            our_rows,
            expected,
            started.elapsed().as_secs_f64()
        );
    }

    /// Both databases have these version rows.
    fn rows(&self, expected: &[&str]) {
        let mut expected: Vec<String> = expected.iter().map(|r| (*r).to_owned()).collect();
        expected.sort();
        assert_eq!(version_rows(self.ours.url()), expected);
        assert_eq!(version_rows(self.theirs.url()), expected);
    }
}

#[test]
fn every_graph_form_leaves_the_rows_and_schema_alembic_leaves() {
    let started = Instant::now();
    let project = project("differential", &[]);
    let fixture = Fixture::new("alembic-differential", &[]);
    let imported = import(&fixture, &project, &[]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let build = fixture.cargo(&["build", "--quiet"]);
    assert!(build.status.success(), "{}", stderr(&build));
    let pair = Pair {
        project,
        fixture,
        theirs: TestDatabase::new().expect("a test database"),
        ours: TestDatabase::new().expect("a test database"),
        column_order_differs: Cell::new(false),
    };
    eprintln!("imported and built ({:.1}s)", started.elapsed().as_secs_f64());

    // From nothing, in a forest: `+1` has two bases to start from.
    pair.same(&["upgrade", "+1"]);
    // A revision, then one step up a line.
    pair.same(&["upgrade", A]);
    pair.same(&["upgrade", "+1"]);
    pair.rows(&[B]);
    // One step up from a branch point.
    pair.same(&["upgrade", "+1"]);
    // The other tree by its label.
    pair.same(&["upgrade", "audit@head"]);
    pair.rows(&[B, AUDIT]);
    // `+1` from two rows.
    pair.same(&["upgrade", "+1"]);
    // An ancestor of the database: Alembic does nothing.
    pair.exceeds(&["upgrade", A], "is below the database's revision", Theirs::NoOp);
    // A range online.
    pair.exceeds(
        &["upgrade", &format!("{B}:heads")],
        "a range `FROM:TO` is only for `history -r`",
        Theirs::Fails("Range revision not allowed"),
    );
    // The three arms, the merge and the dependant: `people` gains `organisation_id` and
    // `notes` in either order.
    pair.same_but_column_order(&["upgrade", "heads"]);
    pair.rows(&[AUDITED]);
    // One step down from a revision with a dependency: its parent, and the dependency
    // becomes a row again.
    pair.same(&["downgrade", "-1"]);
    pair.rows(&[MERGE, AUDIT]);
    // `head` where a head is only an effective head (`a0c0`, which `7081` depends on): Alembic
    // counts it as a second head; here `head` is the one real head, as `heads` is.
    pair.ours_resolves(&["upgrade", "head"], "Multiple head revisions", &[&["upgrade", "heads"]]);
    pair.rows(&[AUDITED]);
    // Past the head: Alembic's bare assertion.
    pair.exceeds(&["upgrade", &format!("{AUDITED}+1")], "is out of range", Theirs::Fails("AssertionError"));

    // The depended-on tree goes, and its dependant with it.
    pair.same(&["downgrade", "audit@base"]);
    pair.rows(&[MERGE]);
    // One step down from the merge: its three parents. Alembic refuses the walk down a merge
    // (`Ambiguous walk`); downgrading to one of the arms does the same there.
    pair.ours_resolves(&["downgrade", "-1"], "Ambiguous walk", &[&["downgrade", ORGS]]);
    pair.rows(&[ORGS, INDEX, NOTES]);
    // One branch down to a revision.
    pair.same(&["downgrade", &format!("orgs@{B}")]);
    pair.rows(&[INDEX, NOTES]);
    // A revision whose dependency is another tree's: it comes first.
    pair.same(&["upgrade", AUDITED]);
    pair.rows(&[AUDITED]);
    // Across the merge into one arm.
    pair.same(&["downgrade", INDEX]);
    // `-1` from several rows: Alembic reverts whichever row comes first.
    pair.exceeds(
        &["downgrade", "-1"],
        "steps from the current revision, but the database is at 4 heads",
        Theirs::NotRun,
    );
    // `<rev>+1` within a line.
    pair.same(&["upgrade", &format!("{MERGE}+1")]);
    pair.rows(&[AUDITED]);
    // A branch from where it forks, then back by its label. Alembic reverts every base below
    // the label, here the whole first tree: the trunk and the other two arms go too.
    pair.alembic_differs(&["downgrade", "orgs@base"], &[AUDIT], &[&["upgrade", INDEX], &["upgrade", NOTES]]);
    pair.rows(&[INDEX, NOTES, AUDIT]);
    pair.same(&["upgrade", "orgs@head"]);
    pair.rows(&[AUDITED]);
    // Steps within a branch: `orgs` from its head, `audit` (whose dependant is not on it).
    pair.same(&["downgrade", "orgs@-1"]);
    pair.rows(&[MERGE, AUDIT]);
    pair.same(&["upgrade", "orgs@+1"]);
    pair.same(&["downgrade", "audit@-1"]);
    pair.rows(&[MERGE]);
    pair.same(&["upgrade", "audit@+1"]);
    pair.rows(&[MERGE, AUDIT]);
    pair.same(&["upgrade", "heads"]);
    // `audit@head` in a downgrade, with its dependant applied: Alembic's downgrade counts the
    // dependant as a second head of the branch (its upgrade and `show` do not); here it is
    // `a0c0`, already below the database: nothing to do.
    pair.ours_resolves(&["downgrade", "audit@head"], "Multiple head revisions", &[]);
    pair.rows(&[AUDITED]);

    // Stamps: down to an arm (the others forgotten), a branch added and taken off by its
    // label, back to the heads, a branch's base under a row that depends on it.
    pair.same(&["stamp", NOTES]);
    pair.same(&["stamp", "audit@head"]);
    pair.rows(&[NOTES, AUDIT]);
    pair.same(&["stamp", "audit@base"]);
    pair.rows(&[NOTES]);
    pair.same(&["stamp", "heads"]);
    pair.rows(&[AUDITED]);
    // Alembic deletes every row on a line with the branch, the dependant's too, forgetting the
    // first tree; here the rows are those `downgrade audit@base` would leave.
    pair.alembic_differs(&["stamp", "audit@base"], &[], &[&["stamp", MERGE]]);
    pair.rows(&[MERGE]);
    pair.same(&["stamp", "heads"]);
    pair.same(&["downgrade", "base"]);
    pair.rows(&[]);
    eprintln!("done ({:.1}s)", started.elapsed().as_secs_f64());
}
