//! What a run will do, decided without a database: the refusals, then the steps and the
//! version rows they leave. Everything here is pure, so that it is tested without a server.

use std::collections::BTreeMap;

use migrate_core::chain::{Chain, Migration};
use migrate_core::graph::{Graph, NodeId};
use migrate_core::op::{Op, Statement};
use migrate_core::script::Step;
use migrate_core::version::{Direction, RowChange, Undo};

use crate::error::{Error, Mismatch, Unfinished, Unrecorded};
use crate::session::Rows;

/// The state a run reads before acting.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    pub(crate) version_table: bool,
    pub(crate) history_table: bool,
    pub(crate) rows: Vec<String>,
    /// The checksum each revision last ran, was accepted or was stamped with: a revision
    /// missing here was never recorded as applied.
    pub(crate) checksums: BTreeMap<String, String>,
    /// The last history row: revision, success, direction.
    pub(crate) last: Option<(String, Option<bool>, String)>,
    /// Whether the history has rows though the version table is missing.
    pub(crate) orphan_history: bool,
    /// Whether the last history row records a step outside a transaction whose statements
    /// all ran, only the record of its end having failed.
    pub(crate) ended: bool,
    /// Without the version table: what the database already holds.
    pub(crate) found: Found,
    /// Whether the history table lacks the columns that store downgrades (made by a version
    /// before they were stored): the setup adds them before the first step.
    pub(crate) old_history: bool,
}

/// What a database without the version table already holds, from
/// [`migrate_core::version::Tables::found_sql`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Found {
    /// Other tools' version tables: the tool, and the table, schema-qualified.
    pub(crate) tools: Vec<(String, String)>,
    /// The first few other objects, each with its kind (`table public.people`).
    pub(crate) objects: Vec<String>,
    /// How many other objects in all.
    pub(crate) count: usize,
}

impl Found {
    /// From the rows of [`migrate_core::version::Tables::found_sql`]'s two queries.
    pub(crate) fn read(tools: &Rows, objects: &Rows) -> Found {
        let mut found = Found::default();
        for row in tools {
            if let [Some(name), Some(table)] = row.as_slice()
                && let Some((_, tool)) = migrate_core::version::OTHER_TOOLS.iter().find(|(t, _)| t == name)
            {
                found.tools.push(((*tool).to_owned(), table.clone()));
            }
        }
        for row in objects {
            if let [Some(kind), Some(name), count] = row.as_slice() {
                found.objects.push(format!("{kind} {name}"));
                found.count = count.as_deref().and_then(|c| c.parse().ok()).unwrap_or(found.objects.len());
            }
        }
        found
    }
}

impl State {
    /// Whether both the version and the history tables exist.
    pub(crate) fn has_tables(&self) -> bool {
        self.version_table && self.history_table
    }

    /// Refuses to apply from base on a database that has no version table (`table`, named as
    /// messages show it) but holds another tool's version table or other objects: the
    /// migrations would run again what is already there. A version table, even empty, says
    /// the database starts where its rows say.
    pub(crate) fn check_fresh(&self, table: &str) -> Result<(), Error> {
        if self.version_table || (self.found.tools.is_empty() && self.found.count == 0) {
            return Ok(());
        }
        Err(Error::ExistingSchema {
            table: table.to_owned(),
            tools: self.found.tools.clone(),
            objects: self.found.objects.clone(),
            count: self.found.count,
        })
    }

    /// The state from the rows of [`migrate_core::version::Tables::state_sql`]'s three
    /// queries.
    pub(crate) fn read(rows: &Rows, checksums: &Rows, last: &Rows) -> State {
        let mut state = State { version_table: true, history_table: true, ..State::default() };
        state.rows = rows.iter().filter_map(|r| r.first().cloned().flatten()).collect();
        for row in checksums {
            if let [Some(rev), Some(sum)] = row.as_slice() {
                state.checksums.insert(rev.clone(), sum.clone());
            }
        }
        state.last = last.first().and_then(|row| match row.as_slice() {
            [Some(rev), success, Some(direction), ..] => {
                Some((rev.clone(), success.as_deref().map(|s| s == "true"), direction.clone()))
            }
            _ => None,
        });
        state.ended = last
            .first()
            .and_then(|row| row.get(3).cloned().flatten())
            .is_some_and(|error| error.starts_with(migrate_core::version::ENDED));
        state
    }
}

/// The steps of a run, and the version rows they leave.
pub(crate) struct Plan {
    pub(crate) steps: Vec<Planned>,
    pub(crate) rows: Vec<NodeId>,
}

/// A step planned, with its SQL.
pub(crate) struct Planned {
    pub(crate) migration: &'static Migration,
    /// Whether it runs inside a transaction, its version row committed with it
    /// ([`Planner::transactional`]).
    pub(crate) transactional: bool,
    pub(crate) direction: Direction,
    pub(crate) statements: Vec<Statement>,
    pub(crate) settings: Vec<(&'static str, String)>,
    pub(crate) checksum: String,
    /// The version rows before the step, which its bookkeeping checks.
    pub(crate) rows: Vec<String>,
    pub(crate) changes: Vec<RowChange>,
    /// Why the operations cannot be undone, when they say so.
    pub(crate) irreversible: Option<String>,
    /// For an upgrade, what reverting it takes, stored with its history row.
    pub(crate) undo: Option<Undo>,
    /// Whether it reverts a revision the chain does not have, with the downgrade the
    /// history stored.
    pub(crate) stored: bool,
}

impl Planned {
    /// The refusal to run a downgrade declared irreversible.
    pub(crate) fn refused(&self) -> Option<Error> {
        self.irreversible.as_ref().map(|reason| Error::Irreversible {
            rev: self.migration.rev.to_owned(),
            slug: self.migration.slug.to_owned(),
            reason: reason.clone(),
        })
    }

    /// The step, as the SQL of a run sees it. Whether it runs inside a transaction is the
    /// migration's own flag, decided once at build time.
    pub(crate) fn step(&self) -> Step<'_> {
        Step {
            rev: self.migration.rev,
            slug: self.migration.slug,
            direction: self.direction,
            transactional: self.transactional,
            statements: &self.statements,
            settings: &self.settings,
            checksum: Some(&self.checksum),
            rows: &self.rows,
            changes: &self.changes,
            undo: self.undo.as_ref(),
        }
    }
}

/// A downgrade the history stored, as a step runs it: statements, settings (the two a
/// migration may set; anything else in the row is not one of this runtime's), and why it
/// cannot be done.
fn stored_downgrade(undo: &Undo) -> (Vec<Statement>, Vec<(&'static str, String)>, Option<String>) {
    let statements = undo
        .statements
        .iter()
        .map(|sql| Statement { sql: sql.clone(), op: "stored downgrade".to_owned() })
        .collect();
    let settings = undo
        .settings
        .iter()
        .filter_map(|(name, value)| match name.as_str() {
            "lock_timeout" => Some(("lock_timeout", value.clone())),
            "statement_timeout" => Some(("statement_timeout", value.clone())),
            _ => None,
        })
        .collect();
    (statements, settings, undo.irreversible.clone())
}

/// Plans over a chain, its graph and its compiled checksums.
pub(crate) struct Planner<'a> {
    pub(crate) chain: &'a Chain,
    pub(crate) graph: &'a Graph,
    /// Every migration's checksum, by node.
    pub(crate) compiled: &'a [String],
    /// Whether the server commits a migration's statements atomically with its version row
    /// in one transaction (the engine's profile; PostgreSQL does).
    pub(crate) transactional_ddl: bool,
    /// The downgrades the history stored of revisions the chain does not have, by node of
    /// `graph` (which then extends the chain's own graph with them): empty but when
    /// reverting revisions a newer release applied.
    pub(crate) stored: &'a BTreeMap<NodeId, Undo>,
    /// The chain's own graph, which resolves targets, when `graph` extends it.
    pub(crate) own: Option<&'a Graph>,
}

/// No stored downgrades.
pub(crate) static NONE_STORED: BTreeMap<NodeId, Undo> = BTreeMap::new();

impl Planner<'_> {
    fn migration(&self, node: NodeId) -> &'static Migration {
        self.chain.migrations()[node]
    }

    /// Whether `migration` runs inside a transaction with its version row: when it asks to
    /// (`transactional`, the default) and the server's transactions hold DDL atomically; else
    /// it runs as a step outside a transaction, between the runner's marks.
    pub(crate) fn transactional(&self, migration: &Migration) -> bool {
        migration.transactional && self.transactional_ddl
    }

    pub(crate) fn revs(&self, nodes: &[NodeId]) -> Vec<String> {
        self.graph.revs_of(nodes).into_iter().map(str::to_owned).collect()
    }

    /// The nodes of version rows; unknown revisions and rows on one line (one implies the
    /// other) are refused.
    pub(crate) fn nodes(&self, rows: &[String]) -> Result<Vec<NodeId>, Error> {
        let unknown: Vec<String> = rows.iter().filter(|r| self.graph.node(r).is_none()).cloned().collect();
        if !unknown.is_empty() {
            return Err(Error::UnknownRevision { revisions: unknown });
        }
        let nodes: Vec<NodeId> = rows.iter().filter_map(|r| self.graph.node(r)).collect();
        for &row in &nodes {
            let below = self.graph.ancestors(&[row]);
            if let Some(&other) = nodes.iter().find(|&&o| o != row && below[o]) {
                return Err(Error::OverlappingRows {
                    row: self.graph.rev(row).to_owned(),
                    ancestor: self.graph.rev(other).to_owned(),
                });
            }
        }
        Ok(nodes)
    }

    /// The refusals every run checks first: unknown or overlapping version rows, a step
    /// outside a transaction interrupted or failed, applied migrations never recorded as
    /// applied (added or moved below the database's revision), edited migrations (line
    /// endings aside: a history recorded from a CRLF checkout before they stopped counting
    /// still matches).
    pub(crate) fn verify(&self, state: &State) -> Result<Vec<NodeId>, Error> {
        if state.orphan_history {
            return Err(Error::MissingVersionTable);
        }
        let current = self.nodes(&state.rows)?;
        self.dirty(state)?;
        let applied = self.graph.ancestors(&current);
        let mut mismatches = Vec::new();
        let mut unrecorded = Vec::new();
        for node in self.graph.linear().iter().copied().filter(|&n| applied[n]) {
            let migration = self.migration(node);
            match state.checksums.get(migration.rev) {
                Some(recorded)
                    if *recorded != self.compiled[node]
                        && !self.recorded_raw(migration, recorded)
                        && migration.squashes != Some(recorded.as_str()) =>
                {
                    mismatches.push(Mismatch {
                        rev: migration.rev.to_owned(),
                        file: migration.file.to_owned(),
                        recorded: recorded.clone(),
                        compiled: self.compiled[node].clone(),
                    })
                }
                Some(_) => {}
                // A database adopted from another tool has no history yet: the setup of its
                // first run records what it has.
                None if state.history_table => unrecorded
                    .push(Unrecorded { rev: migration.rev.to_owned(), file: migration.file.to_owned() }),
                None => {}
            }
        }
        if !unrecorded.is_empty() {
            return Err(Error::Unrecorded { migrations: unrecorded, rows: state.rows.clone() });
        }
        if !mismatches.is_empty() {
            return Err(Error::ChecksumMismatch(mismatches));
        }
        Ok(current)
    }

    /// Whether `recorded` is the checksum of `migration`'s SQL with its line endings as
    /// written: what a history recorded before `\r\n` counted as `\n`, for the same SQL.
    fn recorded_raw(&self, migration: &Migration, recorded: &str) -> bool {
        crate::runner::raw_checksum(&migration.upgrade_ops().statements()).is_some_and(|raw| raw == recorded)
    }

    /// Plans applying (`upgrade`) or reverting `node` from the version rows `rows`, which
    /// become the rows after it.
    pub(crate) fn step(&self, node: NodeId, rows: &mut Vec<NodeId>, upgrade: bool) -> Planned {
        let migration = self.migration(node);
        let stored = self.stored.get(&node).filter(|_| !upgrade);
        let (statements, settings, irreversible) = match stored {
            Some(undo) => stored_downgrade(undo),
            None => {
                let op: Op = if upgrade { migration.upgrade_ops() } else { migration.downgrade_ops() };
                (op.statements(), op.settings(), op.irreversible_reason().map(str::to_owned))
            }
        };
        let undo = upgrade.then(|| self.undo(node));
        let before = self.revs(rows);
        let (changes, after) = self.graph.row_changes(rows, node, upgrade);
        *rows = after;
        Planned {
            migration,
            transactional: self.transactional(migration),
            direction: if upgrade { Direction::Upgrade } else { Direction::Downgrade },
            checksum: crate::runner::checksum(&statements),
            statements,
            settings,
            rows: before,
            changes,
            irreversible,
            undo,
            stored: stored.is_some(),
        }
    }

    /// What reverting `node` takes, stored with the history row of its upgrade: its place in
    /// the graph (dependencies as revisions, labels resolved) and its downgrade's SQL.
    fn undo(&self, node: NodeId) -> Undo {
        let migration = self.migration(node);
        let op = migration.downgrade_ops();
        let parents: Vec<NodeId> = self.graph.parents(node).to_vec();
        let depends_on: Vec<NodeId> =
            self.graph.requires(node).into_iter().filter(|r| !parents.contains(r)).collect();
        Undo {
            parents: migration.parents.iter().map(|p| (*p).to_owned()).collect(),
            depends_on: self.revs(&depends_on),
            transactional: migration.transactional,
            statements: op.statements().into_iter().map(|s| s.sql).collect(),
            settings: op.settings().into_iter().map(|(name, value)| (name.to_owned(), value)).collect(),
            irreversible: op.irreversible_reason().map(str::to_owned),
        }
    }

    /// Refuses a database whose last history row is a step outside a transaction that was
    /// interrupted (no end recorded) or failed: its schema may be half-changed.
    pub(crate) fn dirty(&self, state: &State) -> Result<(), Error> {
        let Some((rev, success, direction)) = &state.last else { return Ok(()) };
        let Some(node) = self.graph.node(rev) else {
            if success.is_none() {
                return Err(Error::UnknownRevision { revisions: vec![rev.clone()] });
            }
            return Ok(());
        };
        let migration = self.migration(node);
        if success.is_some() && (*success == Some(true) || self.transactional(migration)) {
            return Ok(());
        }
        let done = self.interrupted(state).map(|(_, after)| after).unwrap_or_default();
        Err(Error::Dirty(Box::new(Unfinished {
            rev: rev.clone(),
            slug: migration.slug.to_owned(),
            file: migration.file.to_owned(),
            direction: direction.clone(),
            interrupted: success.is_none(),
            left: Vec::new(),
            finished: state.ended,
            retry: state.rows.clone(),
            done,
        })))
    }

    /// The step a refusal as dirty is about, from the last history row: what it ran, and
    /// the version rows it would have left.
    pub(crate) fn interrupted(&self, state: &State) -> Option<(Planned, Vec<String>)> {
        let (rev, _, direction) = state.last.as_ref()?;
        let node = self.graph.node(rev)?;
        let current: Vec<NodeId> = state.rows.iter().filter_map(|r| self.graph.node(r)).collect();
        let mut rows = current;
        let planned = self.step(node, &mut rows, direction != "downgrade");
        Some((planned, self.revs(&rows)))
    }

    /// The steps applying every node of `path` in order, from `current`.
    pub(crate) fn upgrades(&self, current: &[NodeId], path: Vec<NodeId>) -> Plan {
        let mut rows = current.to_vec();
        let steps = path.into_iter().map(|n| self.step(n, &mut rows, true)).collect();
        Plan { steps, rows }
    }

    pub(crate) fn upgrade(&self, current: &[NodeId], target: &str) -> Result<Plan, Error> {
        let targets = self.graph.resolve_str(target, current)?;
        let applied = self.graph.ancestors(current);
        let below = targets.iter().all(|&t| applied[t]) && !targets.iter().all(|t| current.contains(t));
        if (targets.is_empty() && !current.is_empty()) || (!targets.is_empty() && below) {
            return Err(Error::BelowCurrent { target: self.revs(&targets), current: self.revs(current) });
        }
        Ok(self.upgrades(current, self.graph.upgrade_path(current, &targets)))
    }

    pub(crate) fn downgrade(&self, current: &[NodeId], target: &str) -> Result<Plan, Error> {
        // Beside revisions a newer release applied, a target names the chain's own (its
        // `head` is not theirs); one relative to the database (`-1`) counts theirs too. The
        // own graph's nodes are the extended graph's first ones.
        let resolved = match self.own.map(|own| own.resolve_str_in(target, &[])) {
            Some(Ok(resolved)) => resolved,
            _ => self.graph.resolve_str_in(target, current)?,
        };
        let targets = resolved.nodes;
        let applied = self.graph.ancestors(current);
        if targets.iter().any(|&t| !applied[t]) {
            return Err(Error::NotBelow { target: self.revs(&targets), current: self.revs(current) });
        }
        let path = match resolved.branch {
            None => self.graph.downgrade_path(current, &targets),
            // `label@…`: only that branch goes, from its base or from above the target.
            Some(branch) => {
                let lineage = self.graph.lineage(branch);
                let roots: Vec<NodeId> = if targets.is_empty() {
                    vec![self.graph.branch_root(branch)]
                } else {
                    targets.iter().flat_map(|&t| self.graph.children(t)).filter(|&c| lineage[c]).collect()
                };
                self.graph.remove_path(current, &roots, &targets)
            }
        };
        // Revisions a newer release applied all go, newest first, down to the target: a line
        // of theirs that does not grow from it (a fork below it, a base of their own) too.
        let path = if self.stored.is_empty() {
            path
        } else {
            let stored: Vec<NodeId> = self.stored.keys().copied().collect();
            let mut remove = vec![false; self.graph.len()];
            for node in path.into_iter().chain(self.graph.remove_path(current, &stored, &targets)) {
                remove[node] = true;
            }
            self.graph.linear().iter().rev().copied().filter(|&node| remove[node]).collect()
        };
        let mut rows = current.to_vec();
        let steps: Vec<Planned> = path.into_iter().map(|n| self.step(n, &mut rows, false)).collect();
        if let Some(refused) = steps.iter().find_map(Planned::refused) {
            return Err(refused);
        }
        Ok(Plan { steps, rows })
    }

    /// Refuses a run in one transaction holding a migration that cannot run in one.
    pub(crate) fn check_one_transaction(&self, steps: &[Planned]) -> Result<(), Error> {
        match steps.iter().find(|s| !s.transactional) {
            Some(step) => Err(Error::NotTransactional {
                rev: step.migration.rev.to_owned(),
                slug: step.migration.slug.to_owned(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use migrate_core::chain::Body;

    fn table(op: &mut Op) {
        op.execute("CREATE TABLE t (id int)");
    }

    fn index(op: &mut Op) {
        op.execute("CREATE INDEX CONCURRENTLY i ON t (id)");
    }

    fn nothing(_: &mut Op) {}

    const fn migration(
        rev: &'static str,
        parents: &'static [&'static str],
        transactional: bool,
    ) -> Migration {
        Migration {
            rev,
            parents,
            branch_labels: &[],
            depends_on: &[],
            slug: "step",
            file: "migrations/step.rs",
            why: "",
            transactional,
            squashes: None,
            upgrade: Body::Code(if transactional { table } else { index }),
            downgrade: Body::Code(nothing),
        }
    }

    static A: Migration = migration("a", &[], true);
    static B: Migration = migration("b", &["a"], true);
    static C: Migration = migration("c", &["b"], true);
    /// Marked transactional though its SQL alone would run outside a transaction.
    static D: Migration = Migration { upgrade: Body::Code(index), ..migration("d", &["c"], true) };
    static E: Migration = migration("e", &["d"], false);
    static CHAIN: Chain = Chain::new(&[&A, &B, &C, &D, &E]);

    fn planned<T>(test: impl FnOnce(&Planner<'_>) -> T) -> T {
        let graph = CHAIN.graph();
        let compiled: Vec<String> =
            CHAIN.iter().map(|m| crate::runner::checksum(&m.upgrade_ops().statements())).collect();
        test(&Planner {
            chain: &CHAIN,
            graph: &graph,
            compiled: &compiled,
            transactional_ddl: true,
            stored: &NONE_STORED,
            own: None,
        })
    }

    /// A database at `rows` whose history records `recorded` with this chain's checksums.
    fn state(planner: &Planner<'_>, rows: &[&str], recorded: &[&str]) -> State {
        let mut state = State {
            version_table: true,
            history_table: true,
            rows: rows.iter().map(|r| (*r).to_owned()).collect(),
            ..State::default()
        };
        for rev in recorded {
            let node = planner.graph.node(rev).expect("known");
            state.checksums.insert((*rev).to_owned(), planner.compiled[node].clone());
        }
        state
    }

    fn crlf_table(op: &mut Op) {
        op.execute("CREATE TABLE t (\r\n    id int\r\n)");
    }

    fn lf_table(op: &mut Op) {
        op.execute("CREATE TABLE t (\n    id int\n)");
    }

    fn other_table(op: &mut Op) {
        op.execute("CREATE TABLE t (\r\n    id bigint\r\n)");
    }

    /// The chain of one migration whose SQL came from a CRLF checkout.
    static CRLF: Migration = Migration { upgrade: Body::Code(crlf_table), ..migration("f", &[], true) };
    static CRLF_CHAIN: Chain = Chain::new(&[&CRLF]);

    /// Verifies the CRLF chain at its head against a history that recorded `recorded` for it.
    fn verify_crlf(recorded: String) -> Result<Vec<NodeId>, Error> {
        let graph = CRLF_CHAIN.graph();
        let compiled = [crate::runner::checksum(&CRLF.upgrade_ops().statements())];
        let planner = Planner {
            chain: &CRLF_CHAIN,
            graph: &graph,
            compiled: &compiled,
            transactional_ddl: true,
            stored: &NONE_STORED,
            own: None,
        };
        let mut state = State {
            version_table: true,
            history_table: true,
            rows: vec!["f".to_owned()],
            ..State::default()
        };
        state.checksums.insert("f".to_owned(), recorded);
        planner.verify(&state)
    }

    fn statements(upgrade: fn(&mut Op)) -> Vec<Statement> {
        let mut op = Op::new();
        upgrade(&mut op);
        op.statements()
    }

    #[test]
    fn a_crlf_checkout_matches_a_history_recorded_from_lf_or_from_crlf_before_endings_stopped_counting() {
        let from_lf = crate::runner::checksum(&statements(lf_table));
        assert!(verify_crlf(from_lf).is_ok());
        let raw = crate::runner::raw_checksum(&statements(crlf_table)).expect("the SQL holds a \\r");
        assert!(verify_crlf(raw).is_ok());
    }

    #[test]
    fn other_sql_from_a_crlf_checkout_is_still_an_edit() {
        for recorded in [
            crate::runner::checksum(&statements(other_table)),
            crate::runner::raw_checksum(&statements(other_table)).expect("the SQL holds a \\r"),
        ] {
            let error = verify_crlf(recorded).expect_err("refused");
            assert!(
                matches!(&error, Error::ChecksumMismatch(m) if m.len() == 1 && m[0].rev == "f"),
                "{error}"
            );
        }
    }

    #[test]
    fn overlapping_rows_are_refused() {
        planned(|planner| {
            let error = planner.verify(&state(planner, &["a", "c"], &["a", "b", "c"])).expect_err("refused");
            assert!(
                matches!(&error, Error::OverlappingRows { row, ancestor } if row == "c" && ancestor == "a")
            );
        });
    }

    #[test]
    fn an_ancestor_never_recorded_is_refused_unless_the_database_has_no_history_yet() {
        planned(|planner| {
            let error = planner.verify(&state(planner, &["c"], &["a", "c"])).expect_err("refused");
            let Error::Unrecorded { migrations, rows } = &error else { panic!("{error}") };
            assert_eq!(
                (migrations.len(), migrations[0].rev.as_str(), rows.as_slice()),
                (1, "b", ["c".to_owned()].as_slice())
            );
            let adopted = State { history_table: false, ..state(planner, &["c"], &[]) };
            assert_eq!(planner.verify(&adopted).expect("adopted"), [planner.graph.node("c").expect("known")]);
        });
    }

    #[test]
    fn an_interrupted_step_outside_a_transaction_is_refused_with_the_rows_to_stamp() {
        planned(|planner| {
            let mut state = state(planner, &["d"], &["a", "b", "c", "d"]);
            state.last = Some(("e".to_owned(), None, "upgrade".to_owned()));
            let error = planner.verify(&state).expect_err("refused");
            assert!(
                matches!(&error, Error::Dirty(d) if d.rev == "e" && d.interrupted && d.retry == ["d"] && d.done == ["e"])
            );
            let (step, after) = planner.interrupted(&state).expect("the step");
            assert_eq!((step.migration.rev, after.as_slice()), ("e", ["e".to_owned()].as_slice()));
        });
    }

    /// a - b, then the `left` arm (w1 - w2) and the `right` arm (x1 - x2, x2 depending on the
    /// `left` label), merged by m.
    static LA: Migration = migration("a", &[], true);
    static LB: Migration = migration("b", &["a"], true);
    static LW1: Migration = Migration { branch_labels: &["left"], ..migration("w1", &["b"], true) };
    static LW2: Migration = migration("w2", &["w1"], true);
    static LX1: Migration = Migration { branch_labels: &["right"], ..migration("x1", &["b"], true) };
    static LX2: Migration = Migration { depends_on: &["left"], ..migration("x2", &["x1"], true) };
    static LM: Migration = migration("m", &["w2", "x2"], true);
    static ARMS: Chain = Chain::new(&[&LA, &LB, &LW1, &LW2, &LX1, &LX2]);
    static MERGED: Chain = Chain::new(&[&LA, &LB, &LW1, &LW2, &LX1, &LX2, &LM]);

    /// The revisions a plan steps through, and the rows it leaves.
    fn walk(
        chain: &Chain,
        rows: &[&str],
        target: &str,
        upgrade: bool,
    ) -> Result<(Vec<&'static str>, Vec<String>), String> {
        let graph = chain.graph();
        let compiled: Vec<String> =
            chain.iter().map(|m| crate::runner::checksum(&m.upgrade_ops().statements())).collect();
        let planner = Planner {
            chain,
            graph: &graph,
            compiled: &compiled,
            transactional_ddl: true,
            stored: &NONE_STORED,
            own: None,
        };
        let current: Vec<NodeId> = rows.iter().map(|r| graph.node(r).expect("known")).collect();
        let plan =
            if upgrade { planner.upgrade(&current, target) } else { planner.downgrade(&current, target) }
                .map_err(|e| e.to_string())?;
        Ok((plan.steps.iter().map(|s| s.migration.rev).collect(), planner.revs(&plan.rows)))
    }

    #[test]
    fn branches_are_upgraded_and_reverted_alone() {
        let revs = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
        assert_eq!(
            walk(&ARMS, &[], "heads", true),
            Ok((vec!["a", "b", "w1", "w2", "x1", "x2"], revs(&["w2", "x2"])))
        );
        // right@head needs the left label's revision first, not the rest of the left arm.
        assert_eq!(
            walk(&ARMS, &[], "right@head", true),
            Ok((vec!["a", "b", "w1", "x1", "x2"], revs(&["x2"])))
        );
        // Reverting the left branch reverts x2, which depends on it, and leaves x1 and b.
        assert_eq!(
            walk(&ARMS, &["w2", "x2"], "left@base", false),
            Ok((vec!["x2", "w2", "w1"], revs(&["x1"])))
        );
        assert_eq!(walk(&ARMS, &["w2", "x2"], "right@b", false), Ok((vec!["x2", "x1"], revs(&["w2"]))));
        // x2 depends on w1: its row stands for w1 once w2 is gone.
        assert_eq!(walk(&ARMS, &["w2", "x2"], "left@-1", false), Ok((vec!["w2"], revs(&["x2"]))));
        // Unscoped, going down to b takes both arms.
        assert_eq!(walk(&ARMS, &["w2", "x2"], "b", false), Ok((vec!["x2", "x1", "w2", "w1"], revs(&["b"]))));
    }

    #[test]
    fn downgrade_minus_one_from_a_merge_reverts_the_merge() {
        let revs = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
        assert_eq!(walk(&MERGED, &["m"], "-1", false), Ok((vec!["m"], revs(&["w2", "x2"]))));
        let error = walk(&MERGED, &["m"], "-2", false).expect_err("refused");
        assert!(error.contains("steps down through a merge: `m` merges `w2` and `x2`"), "{error}");
    }

    #[test]
    fn transactional_is_the_migrations_own_flag_and_each_step_knows_its_rows() {
        planned(|planner| {
            let plan = planner.upgrade(&[], "head").expect("plans");
            let flags: Vec<(&str, bool)> =
                plan.steps.iter().map(|s| (s.migration.rev, s.step().transactional)).collect();
            assert_eq!(flags, [("a", true), ("b", true), ("c", true), ("d", true), ("e", false)]);
            let before: Vec<Vec<String>> = plan.steps.iter().map(|s| s.rows.clone()).collect();
            assert_eq!(before[0], Vec::<String>::new());
            assert_eq!(before[4], ["d"]);
            assert!(planner.check_one_transaction(&plan.steps).is_err());
            assert!(planner.check_one_transaction(&plan.steps[..4]).is_ok());
        });
    }
}
