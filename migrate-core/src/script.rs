//! The SQL of a run, as the runner sends it and as `--sql` prints it: one sequence of
//! pieces for both, so that an offline script does what an online run does.
//!
//! Every transaction that changes version rows first locks the version table against other
//! writers, and changes them with the prepared `migrate_step`, which checks that the rows
//! are the ones the run planned from (see [`Tables::prepare_sql`]). A migration that runs
//! inside a transaction is one piece, `BEGIN; …; COMMIT;`: the lock, its settings, its
//! statements, its version row changes and its history row, sent in one round trip. A
//! migration PostgreSQL refuses inside a transaction is sent in pieces: a claim (a history
//! row saying it started, committed first, so that a crash leaves a trace and a second
//! runner is refused), its settings, each statement on its own, their reset, then its
//! version row changes and a history row saying it ended, together.

use crate::op::Statement;
use crate::sql::{Effect, effect};
use crate::version::{Direction, Record, RowChange, Tables, Undo};

/// One migration applied or reverted.
#[derive(Clone, Debug)]
pub struct Step<'a> {
    /// The revision.
    pub rev: &'a str,
    /// Its slug.
    pub slug: &'a str,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// Whether it runs inside a transaction: the migration's own flag, decided at build time.
    pub transactional: bool,
    /// Its statements.
    pub statements: &'a [Statement],
    /// Its settings (`lock_timeout`, `statement_timeout`), as parameter and value.
    pub settings: &'a [(&'static str, String)],
    /// The checksum recorded in history.
    pub checksum: Option<&'a str>,
    /// The version rows before it, which its bookkeeping checks.
    pub rows: &'a [String],
    /// Its version row changes.
    pub changes: &'a [RowChange],
    /// For an upgrade, what reverting it takes, stored with its history row.
    pub undo: Option<&'a Undo>,
}

impl Step<'_> {
    /// What its history rows say.
    pub fn record(&self) -> Record<'_> {
        Record {
            rev: self.rev,
            slug: self.slug,
            direction: self.direction,
            checksum: self.checksum,
            undo: self.undo,
        }
    }
}

/// A text sent in one round trip, with where each migration statement sits in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// The SQL.
    pub text: String,
    /// For each migration statement: its first character's 1-based position in `text` (as
    /// PostgreSQL counts error positions), its step's index in the run and its own index in
    /// the step.
    pub positions: Vec<(usize, usize, usize)>,
    /// For every statement of the text, in order: the step it belongs to and, for a
    /// migration statement, its index in the step; `None` for the runner's own (`BEGIN`,
    /// the lock, the setup).
    pub ordinals: Vec<Option<(usize, Option<usize>)>>,
}

impl Batch {
    fn push(&mut self, sql: &str) {
        self.ordinals.push(None);
        self.text.push_str(sql);
        self.text.push_str(";\n");
    }

    /// Pushes a statement of the `step`-th step that is not one of its own (its settings,
    /// its bookkeeping).
    fn push_for(&mut self, step: usize, sql: &str) {
        self.push(sql);
        if let Some(last) = self.ordinals.last_mut() {
            *last = Some((step, None));
        }
    }

    fn push_statement(&mut self, step: usize, index: usize, sql: &str) {
        self.positions.push((self.text.chars().count() + 1, step, index));
        self.push(sql);
        if let Some(last) = self.ordinals.last_mut() {
            *last = Some((step, Some(index)));
        }
    }

    /// The migration statement holding the 1-based character `position` of the batch: its
    /// step, its index in the step, and the position within the statement.
    pub fn statement_at(&self, position: usize) -> Option<(usize, usize, usize)> {
        self.positions
            .iter()
            .rev()
            .find(|(start, _, _)| *start <= position)
            .map(|(start, step, index)| (*step, *index, position - start + 1))
    }

    /// The step, and the migration statement when it is one, of the `number`-th (0-based)
    /// statement of the batch: the server completes statements in order, so the number of
    /// statements it completed before an error names the failing one.
    pub fn statement_numbered(&self, number: usize) -> Option<(usize, Option<usize>)> {
        self.ordinals.get(number).copied().flatten()
    }
}

/// A migration's own setting for the rest of its transaction.
pub fn set_local_sql(name: &str, value: &str) -> String {
    format!("SET LOCAL {name} = '{value}'")
}

/// A setting for the rest of the session.
pub fn set_sql(name: &str, value: &str) -> String {
    format!("SET {name} = '{value}'")
}

/// What every session of a run sets first: the quoting every literal of the runner assumes,
/// whatever the database's default; and what makes the server notice a dead client (a
/// backend whose client is gone stops its query within a second, PostgreSQL 14 and later,
/// instead of running it to the end; TCP keepalives find a silent network cut).
pub const SESSION_SQL: [&str; 3] = [
    "SET standard_conforming_strings = on",
    "SELECT set_config('client_connection_check_interval', '1000', false) \
     WHERE current_setting('server_version_num')::int >= 140000",
    "SELECT set_config('tcp_keepalives_idle', '30', false), set_config('tcp_keepalives_interval', '10', false), \
     set_config('tcp_keepalives_count', '3', false)",
];

/// Every setting a run may change on its session: [`SESSION_SQL`]'s, the timeouts a run or a
/// migration outside a transaction sets, and an engine's own (Citus's shard mode). A run on a session it borrowed puts them back.
pub const SESSION_SETTINGS: [&str; 9] = [
    "citus.multi_shard_modify_mode",
    "search_path",
    "standard_conforming_strings",
    "client_connection_check_interval",
    "tcp_keepalives_idle",
    "tcp_keepalives_interval",
    "tcp_keepalives_count",
    "lock_timeout",
    "statement_timeout",
];

/// What a run on a borrowed session resets first, so that its migrations run as on a session
/// of their own (the role's and database's defaults), whatever the lender had set.
pub const LENT_RESET: [&str; 3] = ["RESET search_path", "RESET lock_timeout", "RESET statement_timeout"];

/// One row: the value of each of [`SESSION_SETTINGS`] (null where the server has no such
/// setting).
pub fn saved_settings_sql() -> String {
    let values: Vec<String> =
        SESSION_SETTINGS.iter().map(|name| format!("current_setting('{name}', true)")).collect();
    format!("SELECT {}", values.join(", "))
}

/// Puts back the values [`saved_settings_sql`] read (none, when it read nothing).
pub fn restore_settings_sql(values: &[Option<String>]) -> Option<String> {
    let restore: Vec<String> = SESSION_SETTINGS
        .iter()
        .zip(values)
        .filter_map(|(name, value)| {
            let value = value.as_deref()?;
            Some(format!("set_config('{name}', {}, false)", crate::sql::quote_literal(value)))
        })
        .collect();
    (!restore.is_empty()).then(|| format!("SELECT {}", restore.join(", ")))
}

/// What a run prepares before its first step.
#[derive(Clone, Debug, Default)]
pub struct Setup<'a> {
    /// Create the version and history tables (`IF NOT EXISTS`).
    pub create_tables: bool,
    /// Prepare the bookkeeping statements (not yet prepared in the session).
    pub prepare: bool,
    /// Add to the history table the columns that store downgrades
    /// ([`Tables::history_columns_sql`]), before preparing the statements that write them.
    pub add_columns: bool,
    /// History rows that record, as stamped, the revisions a database adopted from another
    /// tool already has: its version rows and their ancestors.
    pub adopt: Vec<Record<'a>>,
    /// The run's own settings (`lock_timeout`, `statement_timeout`), which a step outside a
    /// transaction restores after setting its own.
    pub settings: Vec<(&'static str, String)>,
}

impl Setup<'_> {
    /// Whether it has a round trip of its own to make.
    fn is_empty(&self) -> bool {
        !self.create_tables && !self.add_columns && !self.prepare && self.adopt.is_empty()
    }
}

/// What a piece of a run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The tables, the prepared statements, the adopted revisions.
    Setup,
    /// A whole step inside a transaction (or, in one-transaction mode, the whole run).
    Step,
    /// The started row of a step outside a transaction.
    Claim,
    /// The settings of a step outside a transaction, for the session.
    Settings,
    /// One statement of a step outside a transaction.
    Statement(usize),
    /// The reset of those settings.
    Reset,
    /// The version row changes and history row that end a step outside a transaction.
    End,
}

/// One round trip of a run.
#[derive(Clone, Debug)]
pub struct Piece {
    /// The step it belongs to (none for the setup and the one-transaction run).
    pub step: Option<usize>,
    /// What it does.
    pub part: Part,
    /// Its SQL.
    pub batch: Batch,
}

impl Tables {
    fn append_setup(&self, batch: &mut Batch, setup: &Setup<'_>) {
        if setup.create_tables {
            for statement in self.create_statements() {
                batch.push(&statement);
            }
        }
        if setup.add_columns {
            batch.push(&self.history_columns_sql());
        }
        if setup.prepare {
            for statement in self.prepare_sql() {
                batch.push(&statement);
            }
        }
        for record in &setup.adopt {
            batch.push(&self.history_done_sql(record));
        }
    }

    /// Appends the `number`-th step inside a transaction: its settings and statements, then
    /// its version row changes and history row.
    fn append_step(&self, batch: &mut Batch, number: usize, step: &Step<'_>) {
        for (name, value) in step.settings {
            batch.push_for(number, &set_local_sql(name, value));
        }
        for (index, statement) in step.statements.iter().enumerate() {
            batch.push_statement(number, index, &statement.sql);
        }
        batch.push_for(number, &self.step_sql(step.changes, &step.record(), false));
    }

    /// `BEGIN`, the version table's lock, `parts`, `COMMIT`.
    fn locked(&self, parts: impl FnOnce(&mut Batch)) -> Batch {
        let mut batch = Batch::default();
        batch.push("BEGIN");
        batch.push(&self.lock_table_sql());
        parts(&mut batch);
        batch.push("COMMIT");
        batch
    }

    /// The round trips of a run, in order: the setup when there is one, then each step
    /// (a step inside a transaction in one, a step outside in several), or with
    /// `one_transaction` the setup and every step in one transaction (all steps must then be
    /// transactional).
    pub fn program(&self, steps: &[Step<'_>], setup: &Setup<'_>, one_transaction: bool) -> Vec<Piece> {
        if one_transaction {
            let mut batch = Batch::default();
            batch.push("BEGIN");
            self.append_setup(&mut batch, setup);
            batch.push(&self.lock_table_sql());
            if let Some(first) = steps.first() {
                batch.push_for(0, &self.check_sql(first.rows));
            }
            for (number, step) in steps.iter().enumerate() {
                self.append_step(&mut batch, number, step);
            }
            batch.push("COMMIT");
            return vec![Piece { step: None, part: Part::Step, batch }];
        }
        let mut pieces = Vec::new();
        if !setup.is_empty() {
            let mut batch = Batch::default();
            self.append_setup(&mut batch, setup);
            pieces.push(Piece { step: None, part: Part::Setup, batch });
        }
        for (number, step) in steps.iter().enumerate() {
            let mut piece = |part, batch| pieces.push(Piece { step: Some(number), part, batch });
            if step.transactional {
                piece(
                    Part::Step,
                    self.locked(|b| {
                        b.push_for(number, &self.check_sql(step.rows));
                        self.append_step(b, number, step);
                    }),
                );
                continue;
            }
            piece(
                Part::Claim,
                self.locked(|b| b.push_for(number, &self.claim_sql(step.rows, &step.record()))),
            );
            let mut settings = Batch::default();
            let mut reset = Batch::default();
            for (name, value) in step.settings {
                settings.push_for(number, &set_sql(name, value));
                match setup.settings.iter().find(|(run, _)| run == name) {
                    Some((_, value)) => reset.push_for(number, &set_sql(name, value)),
                    None => reset.push_for(number, &format!("RESET {name}")),
                }
            }
            if !step.settings.is_empty() {
                piece(Part::Settings, settings);
            }
            for (index, statement) in step.statements.iter().enumerate() {
                let mut batch = Batch::default();
                batch.push_statement(number, index, &statement.sql);
                piece(Part::Statement(index), batch);
            }
            if !step.settings.is_empty() {
                piece(Part::Reset, reset);
            }
            piece(
                Part::End,
                self.locked(|b| b.push_for(number, &self.step_sql(step.changes, &step.record(), true))),
            );
        }
        pieces
    }

    /// The script of a whole run, for `--sql`: the pieces of [`Tables::program`], in order,
    /// each step announced by a comment ([`script_of`]).
    pub fn script(&self, steps: &[Step<'_>], setup: &Setup<'_>, one_transaction: bool) -> String {
        script_of(steps, &self.program(steps, setup, one_transaction))
    }
}

/// The script of `pieces`, for `--sql`: each piece's SQL, in order, each step announced by a
/// comment (and a concurrent index build by what to do with an index an earlier attempt left
/// INVALID). The runner writes the pieces it sends with it too.
pub fn script_of(steps: &[Step<'_>], pieces: &[Piece]) -> String {
    let mut text = String::new();
    for piece in pieces {
        if let Some(step) = piece.step.and_then(|n| steps.get(n)) {
            match piece.part {
                Part::Step | Part::Claim => {
                    let verb = match step.direction {
                        Direction::Downgrade => "downgrade",
                        _ => "upgrade",
                    };
                    text.push_str(&format!("\n-- Running {verb} {} ({})\n", step.rev, step.slug));
                    if piece.part == Part::Claim {
                        text.push_str("-- outside a transaction\n");
                    }
                }
                Part::Statement(index) => {
                    if let Some(Effect::Index { table, name }) =
                        step.statements.get(index).and_then(|s| effect(&s.sql))
                    {
                        text.push_str(&format!(
                            "-- if an earlier attempt left the index {name} on {table} INVALID, drop it first: \
                             DROP INDEX CONCURRENTLY <its schema>.{name};\n"
                        ));
                    }
                }
                _ => {}
            }
        }
        text.push_str(&piece.batch.text);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::{Op, Type};

    fn statements() -> Vec<Statement> {
        let mut op = Op::new();
        op.create_table("people", |t| {
            t.column("id", Type::BigInt).primary_key();
        });
        op.execute("CREATE INDEX people_é ON people (id)");
        op.statements()
    }

    fn step<'a>(
        statements: &'a [Statement],
        changes: &'a [RowChange],
        settings: &'a [(&'static str, String)],
        transactional: bool,
    ) -> Step<'a> {
        Step {
            rev: "a1b2c3d4e5f6",
            slug: "add_people_table",
            direction: Direction::Upgrade,
            transactional,
            statements,
            settings,
            checksum: Some("abc"),
            rows: &[],
            changes,
            undo: None,
        }
    }

    #[test]
    fn a_transactional_step_is_one_locked_checked_batch() {
        let statements = statements();
        let changes = [RowChange::Insert("a1b2c3d4e5f6".into())];
        let settings = [("lock_timeout", "5000ms".to_owned())];
        let pieces = Tables::default().program(
            &[step(&statements, &changes, &settings, true)],
            &Setup::default(),
            false,
        );
        assert_eq!(pieces.len(), 1);
        let batch = &pieces[0].batch;
        let lines: Vec<&str> = batch.text.lines().collect();
        assert_eq!(lines[0], "BEGIN;");
        assert_eq!(lines[1], "LOCK TABLE \"public\".\"alembic_version\" IN SHARE ROW EXCLUSIVE MODE;");
        assert_eq!(lines[2], "EXECUTE migrate_check('{}'::text[]);");
        assert_eq!(lines[3], "SET LOCAL lock_timeout = '5000ms';");
        assert!(lines[4].starts_with("CREATE TABLE \"people\""));
        assert!(batch.text.contains(
            "EXECUTE migrate_step('{}'::text[], ARRAY['a1b2c3d4e5f6']::text[], 'a1b2c3d4e5f6', 'add_people_table', 'upgrade', 'abc', \
             NULL, NULL, NULL, NULL, NULL, NULL);\nCOMMIT;\n"
        ), "{}", batch.text);
        // Error positions map back to statements, in characters.
        let index_start = batch.text.find("CREATE INDEX").expect("present");
        let chars_before = batch.text[..index_start].chars().count();
        assert_eq!(batch.statement_at(chars_before + 1), Some((0, 1, 1)));
        assert_eq!(batch.statement_at(chars_before + 16), Some((0, 1, 16)));
        assert_eq!(batch.statement_at(1), None);
        // So do statement numbers: BEGIN, LOCK, the check, SET LOCAL, then the migration's.
        assert_eq!(batch.statement_numbered(1), None);
        assert_eq!(batch.statement_numbered(2), Some((0, None)));
        assert_eq!(batch.statement_numbered(5), Some((0, Some(1))));
        assert_eq!(batch.statement_numbered(6), Some((0, None)));
        assert_eq!(batch.statement_numbered(7), None);
    }

    #[test]
    fn a_step_outside_a_transaction_claims_then_runs_each_statement_then_ends() {
        let statements = statements();
        let changes = [RowChange::Insert("a1b2c3d4e5f6".into())];
        let step = step(&statements, &changes, &[], false);
        let setup = Setup { create_tables: true, prepare: true, ..Setup::default() };
        let pieces = Tables::default().program(std::slice::from_ref(&step), &setup, false);
        let parts: Vec<Part> = pieces.iter().map(|p| p.part).collect();
        assert_eq!(parts, [Part::Setup, Part::Claim, Part::Statement(0), Part::Statement(1), Part::End]);
        assert!(
            pieces[0].batch.text.starts_with("CREATE TABLE IF NOT EXISTS \"public\".\"alembic_version\"")
        );
        assert!(pieces[0].batch.text.contains("PREPARE migrate_claim"));
        assert!(pieces[1].batch.text.contains("EXECUTE migrate_claim('{}'::text[], 'a1b2c3d4e5f6'"));
        assert!(pieces[4].batch.text.contains("EXECUTE migrate_end("));
        // The script is the same pieces, in the same order.
        let script = Tables::default().script(&[step], &setup, false);
        let joined: String = pieces.iter().map(|p| p.batch.text.as_str()).collect();
        let stripped: String = script
            .lines()
            .filter(|l| !l.starts_with("--") && !l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(stripped, joined);
    }

    #[test]
    fn one_transaction_holds_the_setup_and_every_step() {
        let statements = statements();
        let changes = [RowChange::Insert("a1b2c3d4e5f6".into())];
        let setup = Setup { create_tables: true, prepare: true, ..Setup::default() };
        let pieces = Tables::default().program(&[step(&statements, &changes, &[], true)], &setup, true);
        assert_eq!(pieces.len(), 1);
        let text = &pieces[0].batch.text;
        assert!(text.starts_with("BEGIN;\nCREATE TABLE IF NOT EXISTS"), "{text}");
        assert!(text.ends_with("COMMIT;\n"));
        assert!(text.find("PREPARE migrate_step") < text.find("LOCK TABLE"));
    }
}
