//! The SQL of a run, as the runner sends it and as `--sql` prints it: one text for both, so
//! that an offline script reaches what an online run reaches.
//!
//! A migration that runs inside a transaction is one batch, `BEGIN; …; COMMIT;`: its
//! settings, its statements, its version row changes and its history row, sent in one round
//! trip. A migration PostgreSQL refuses inside a transaction is sent in pieces: a history
//! row saying it started (committed first, so that a crash leaves a trace), each statement on
//! its own, then its version row changes and a history row saying it ended, together.

use crate::op::Statement;
use crate::version::{Direction, RowChange, Tables};

/// One migration applied or reverted.
#[derive(Clone, Debug)]
pub struct Step<'a> {
    /// The revision.
    pub rev: &'a str,
    /// Its slug.
    pub slug: &'a str,
    /// Upgrade or downgrade.
    pub direction: Direction,
    /// Whether it runs inside a transaction.
    pub transactional: bool,
    /// Its statements.
    pub statements: &'a [Statement],
    /// Its settings (`lock_timeout`, `statement_timeout`), as parameter and value.
    pub settings: &'a [(&'static str, String)],
    /// The checksum recorded in history.
    pub checksum: Option<&'a str>,
    /// Its version row changes.
    pub changes: &'a [RowChange],
}

/// A text sent in one round trip, with where each migration statement sits in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// The SQL.
    pub text: String,
    /// For each migration statement: its first character's 1-based position in `text` (as
    /// PostgreSQL counts error positions), its step's index in the batch and its own index in
    /// the step.
    pub positions: Vec<(usize, usize, usize)>,
}

impl Batch {
    fn push(&mut self, sql: &str) {
        self.text.push_str(sql);
        self.text.push_str(";\n");
    }

    fn push_statement(&mut self, step: usize, index: usize, sql: &str) {
        self.positions.push((self.text.chars().count() + 1, step, index));
        self.push(sql);
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
}

/// A migration's own setting for the rest of its transaction.
pub fn set_local_sql(name: &str, value: &str) -> String {
    format!("SET LOCAL {name} = '{value}'")
}

/// Appends the `number`-th step's settings and statements, inside a transaction.
fn append_body(batch: &mut Batch, number: usize, step: &Step<'_>) {
    for (name, value) in step.settings {
        batch.push(&set_local_sql(name, value));
    }
    for (index, statement) in step.statements.iter().enumerate() {
        batch.push_statement(number, index, &statement.sql);
    }
}

impl Tables {
    /// A step that runs inside a transaction, as one batch. With `wrap`, the batch begins and
    /// commits its own transaction; without, it is a part of a larger one.
    pub fn transactional_batch(&self, step: &Step<'_>, wrap: bool) -> Batch {
        let mut batch = Batch::default();
        if wrap {
            batch.push("BEGIN");
        }
        self.append_step(&mut batch, 0, step);
        if wrap {
            batch.push("COMMIT");
        }
        batch
    }

    /// Appends a transactional step (the `number`-th of the batch): its settings,
    /// statements, row changes and history row.
    pub fn append_step(&self, batch: &mut Batch, number: usize, step: &Step<'_>) {
        append_body(batch, number, step);
        self.append_end(batch, step, None);
    }

    /// Every step of a run inside one transaction, as one batch: the steps' settings and
    /// statements, then the run's version row changes (`changes`: from the rows before to the
    /// rows after, not step by step) and one history insert for all the steps.
    pub fn one_transaction_batch(&self, steps: &[Step<'_>], changes: &[RowChange]) -> Batch {
        let mut batch = Batch::default();
        batch.push("BEGIN");
        for (number, step) in steps.iter().enumerate() {
            append_body(&mut batch, number, step);
        }
        if !steps.is_empty() {
            let rows: Vec<(&str, &str, Direction, Option<&str>)> =
                steps.iter().map(|s| (s.rev, s.slug, s.direction, s.checksum)).collect();
            batch.push(&self.with_row_changes(changes, &self.history_done_many_sql(&rows)));
        }
        batch.push("COMMIT");
        batch
    }

    /// The row changes and the history row that end a step (with the error that stopped a
    /// step outside a transaction).
    /// One statement: the version row changes as data-modifying `WITH` parts of the history
    /// insert, so that the server plans and runs one statement instead of two or three.
    fn append_end(&self, batch: &mut Batch, step: &Step<'_>, error: Option<&str>) {
        let history = if step.transactional {
            self.history_done_sql(step.rev, step.slug, step.direction, step.checksum)
        } else {
            self.history_ended_sql(step.rev, step.slug, step.direction, step.checksum, error)
        };
        batch.push(&self.with_row_changes(step.changes, &history));
    }

    /// The end of a step that ran outside a transaction: its row changes and history row,
    /// committed together.
    pub fn end_batch(&self, step: &Step<'_>) -> Batch {
        let mut batch = Batch::default();
        batch.push("BEGIN");
        self.append_end(&mut batch, step, None);
        batch.push("COMMIT");
        batch
    }

    /// The settings of a step outside a transaction, for the session, and their reset.
    pub fn session_settings(step: &Step<'_>) -> (Vec<String>, Vec<String>) {
        step.settings
            .iter()
            .map(|(name, value)| (format!("SET {name} = '{value}'"), format!("RESET {name}")))
            .unzip()
    }

    /// The script of a whole run, for `--sql`: the tables' creation when `create_tables`,
    /// then every step. With `one_transaction` (the run's version row `changes` then given),
    /// the batch [`Tables::one_transaction_batch`] sends (all steps must be transactional).
    pub fn script(
        &self,
        steps: &[Step<'_>],
        create_tables: bool,
        one_transaction: Option<&[RowChange]>,
    ) -> String {
        let mut text = String::new();
        if create_tables {
            text.push_str(&self.create_sql());
            text.push('\n');
        }
        if let Some(changes) = one_transaction {
            text.push_str(&self.one_transaction_batch(steps, changes).text);
            return text;
        }
        for step in steps {
            let verb = match step.direction {
                Direction::Downgrade => "downgrade",
                _ => "upgrade",
            };
            text.push_str(&format!("-- Running {verb} {} ({})\n", step.rev, step.slug));
            if step.transactional {
                text.push_str(&self.transactional_batch(step, true).text);
            } else {
                text.push_str("-- outside a transaction\n");
                let (set, reset) = Tables::session_settings(step);
                let mut pieces =
                    vec![self.history_started_sql(step.rev, step.slug, step.direction, step.checksum)];
                pieces.extend(set);
                pieces.extend(step.statements.iter().map(|s| s.sql.clone()));
                pieces.extend(reset);
                for piece in pieces {
                    text.push_str(&piece);
                    text.push_str(";\n");
                }
                text.push_str(&self.end_batch(step).text);
            }
            text.push('\n');
        }
        text
    }
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

    #[test]
    fn a_transactional_step_is_one_batch() {
        let statements = statements();
        let changes = [RowChange::Insert("a1b2c3d4e5f6".into())];
        let settings = [("lock_timeout", "5000ms".to_owned())];
        let step = Step {
            rev: "a1b2c3d4e5f6",
            slug: "add_people_table",
            direction: Direction::Upgrade,
            transactional: true,
            statements: &statements,
            settings: &settings,
            checksum: Some("abc"),
            changes: &changes,
        };
        let batch = Tables::default().transactional_batch(&step, true);
        let lines: Vec<&str> = batch.text.lines().collect();
        assert_eq!(lines[0], "BEGIN;");
        assert_eq!(lines[1], "SET LOCAL lock_timeout = '5000ms';");
        assert!(lines[2].starts_with("CREATE TABLE \"people\""));
        assert!(batch.text.contains(
            "WITH version_0 AS (INSERT INTO \"public\".\"alembic_version\" (version_num) VALUES ('a1b2c3d4e5f6'))\nINSERT INTO \"public\".\"migrate_history\""
        ));
        assert!(batch.text.contains("'upgrade', 'abc', statement_timestamp()"));
        assert!(batch.text.ends_with("COMMIT;\n"));
        // Error positions map back to statements, in characters.
        let index_start = batch.text.find("CREATE INDEX").expect("present");
        let chars_before = batch.text[..index_start].chars().count();
        assert_eq!(batch.statement_at(chars_before + 1), Some((0, 1, 1)));
        assert_eq!(batch.statement_at(chars_before + 16), Some((0, 1, 16)));
        assert_eq!(batch.statement_at(1), None);
    }

    #[test]
    fn a_script_marks_steps_outside_a_transaction() {
        let statements = statements();
        let changes = [RowChange::Insert("a1b2c3d4e5f6".into())];
        let step = Step {
            rev: "a1b2c3d4e5f6",
            slug: "add_people_index",
            direction: Direction::Upgrade,
            transactional: false,
            statements: &statements,
            settings: &[],
            checksum: None,
            changes: &changes,
        };
        let script = Tables::default().script(&[step], true, None);
        assert!(script.starts_with("CREATE TABLE IF NOT EXISTS \"public\".\"alembic_version\""));
        let started = script
            .find("success) VALUES ('a1b2c3d4e5f6', 'add_people_index', 'upgrade', NULL, NULL)")
            .expect("a started row");
        let statement = script.find("CREATE INDEX people_").expect("the statement");
        let begin = script.rfind("BEGIN;").expect("the end batch");
        assert!(started < statement && statement < begin, "{script}");
    }
}
