//! The version table (Alembic's `alembic_version`, one row per applied head) and the
//! append-only history table: their definitions, how each step changes the version rows, and
//! the SQL of those changes.
//!
//! The row rules are Alembic's, so a database it managed carries on unchanged:
//!
//! - applying a revision whose parents are not rows (a base, or a new branch from a revision
//!   another row already implies) inserts it;
//! - applying a merge whose parents are rows deletes all of them but the last and updates
//!   the last to the merge;
//! - otherwise the parent's row is updated to the revision;
//! - reverting a revision updates its row to its parents that no other row implies (the
//!   first one updated, the others inserted), or deletes the row when there is none.
//!
//! Where Alembic picks a parent arbitrarily (undoing a merge), the first one in declaration
//! order is updated, so the statements are deterministic.

use crate::graph::{Graph, NodeId};
use crate::sql::{quote_ident, quote_literal};

/// Where the runner keeps its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    /// The schema of both tables (default `public`).
    pub schema: String,
    /// The version table (default `alembic_version`).
    pub version: String,
    /// The history table (default `migrate_history`).
    pub history: String,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            schema: "public".into(),
            version: "alembic_version".into(),
            history: "migrate_history".into(),
        }
    }
}

/// One change of the version rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowChange {
    /// A new row.
    Insert(String),
    /// A row removed.
    Delete(String),
    /// A row changed from one revision to another.
    Update {
        /// The row's revision before.
        from: String,
        /// The row's revision after.
        to: String,
    },
}

/// What a history row records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// A migration applied.
    Upgrade,
    /// A migration reverted.
    Downgrade,
    /// The version rows set without running migrations.
    Stamp,
    /// A changed checksum accepted for an applied migration.
    Accept,
}

impl Direction {
    /// The word stored in the history table.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
            Direction::Stamp => "stamp",
            Direction::Accept => "accept",
        }
    }
}

impl Tables {
    /// The version table, schema-qualified and quoted.
    pub fn version_table(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.version))
    }

    /// The history table, schema-qualified and quoted.
    pub fn history_table(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.history))
    }

    /// Creates both tables when they do not exist; Alembic's exact version table. The
    /// history's partial index serves the one query every run makes, the checksum each
    /// applied revision last ran with, without sorting the whole history.
    pub fn create_sql(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {version} (\n    version_num varchar(32) NOT NULL,\n    CONSTRAINT {pk} PRIMARY KEY (version_num)\n);\n\
             CREATE TABLE IF NOT EXISTS {history} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    revision varchar(32) NOT NULL,\n    slug text NOT NULL,\n    direction text NOT NULL,\n    checksum text,\n    started_at timestamptz NOT NULL DEFAULT statement_timestamp(),\n    finished_at timestamptz,\n    duration_ms double precision,\n    success boolean,\n    executed_by text NOT NULL DEFAULT current_user,\n    error text\n);\n\
             CREATE INDEX IF NOT EXISTS {checksums} ON {history} (revision, id DESC) INCLUDE (checksum)\n    \
             WHERE success AND checksum IS NOT NULL AND direction IN ('upgrade', 'accept');\n",
            version = self.version_table(),
            pk = quote_ident(&format!("{}_pkc", self.version)),
            history = self.history_table(),
            checksums = quote_ident(&format!("{}_checksums", self.history)),
        )
    }

    /// An expression for the advisory lock key: per database and version table, so that
    /// runners of other databases or other tables never wait for each other.
    pub fn lock_key_sql(&self) -> String {
        let name = format!("migrate:{}.{}", self.schema, self.version);
        format!("hashtextextended(current_database() || {}, 0)", quote_literal(&format!(":{name}")))
    }

    /// The SQL of one row change.
    pub fn row_change_sql(&self, change: &RowChange) -> String {
        let table = self.version_table();
        match change {
            RowChange::Insert(rev) => {
                format!("INSERT INTO {table} (version_num) VALUES ({})", quote_literal(rev))
            }
            RowChange::Delete(rev) => {
                format!("DELETE FROM {table} WHERE version_num = {}", quote_literal(rev))
            }
            RowChange::Update { from, to } => format!(
                "UPDATE {table} SET version_num = {} WHERE version_num = {}",
                quote_literal(to),
                quote_literal(from)
            ),
        }
    }

    /// `statement` preceded by the row changes as data-modifying `WITH` parts: one statement
    /// for the server to plan and run.
    pub fn with_row_changes(&self, changes: &[RowChange], statement: &str) -> String {
        if changes.is_empty() {
            return statement.to_owned();
        }
        let parts: Vec<String> = changes
            .iter()
            .enumerate()
            .map(|(i, change)| format!("version_{i} AS ({})", self.row_change_sql(change)))
            .collect();
        format!("WITH {}\n{statement}", parts.join(",\n     "))
    }

    /// A history row recording a finished step: started when the command message reached
    /// the server (`statement_timestamp()`), finished now.
    pub fn history_done_sql(
        &self,
        rev: &str,
        slug: &str,
        direction: Direction,
        checksum: Option<&str>,
    ) -> String {
        format!(
            "INSERT INTO {} (revision, slug, direction, checksum, started_at, finished_at, duration_ms, success) \
             VALUES {}",
            self.history_table(),
            done_values(rev, slug, direction, checksum),
        )
    }

    /// History rows recording finished steps, in one statement.
    pub fn history_done_many_sql(&self, rows: &[(&str, &str, Direction, Option<&str>)]) -> String {
        let values: Vec<String> = rows
            .iter()
            .map(|&(rev, slug, direction, checksum)| done_values(rev, slug, direction, checksum))
            .collect();
        format!(
            "INSERT INTO {} (revision, slug, direction, checksum, started_at, finished_at, duration_ms, success) VALUES\n    {}",
            self.history_table(),
            values.join(",\n    ")
        )
    }

    /// A history row recording that a step outside a transaction started: its `success` is
    /// NULL until a later row says how it ended, which is how an interrupted run is seen.
    pub fn history_started_sql(
        &self,
        rev: &str,
        slug: &str,
        direction: Direction,
        checksum: Option<&str>,
    ) -> String {
        format!(
            "INSERT INTO {} (revision, slug, direction, checksum, success) VALUES ({}, {}, {}, {}, NULL)",
            self.history_table(),
            quote_literal(rev),
            quote_literal(slug),
            quote_literal(direction.as_str()),
            checksum.map_or("NULL".to_owned(), quote_literal),
        )
    }

    /// A history row recording how a step outside a transaction ended, timed from its
    /// started row.
    pub fn history_ended_sql(
        &self,
        rev: &str,
        slug: &str,
        direction: Direction,
        checksum: Option<&str>,
        error: Option<&str>,
    ) -> String {
        let table = self.history_table();
        let started = format!(
            "(SELECT max(started_at) FROM {table} WHERE revision = {} AND success IS NULL)",
            quote_literal(rev)
        );
        format!(
            "INSERT INTO {table} (revision, slug, direction, checksum, started_at, finished_at, duration_ms, success, error) \
             VALUES ({rev}, {slug}, {direction}, {checksum}, coalesce({started}, clock_timestamp()), clock_timestamp(), \
             1000 * extract(epoch FROM clock_timestamp() - coalesce({started}, clock_timestamp())), {success}, {error})",
            rev = quote_literal(rev),
            slug = quote_literal(slug),
            direction = quote_literal(direction.as_str()),
            checksum = checksum.map_or("NULL".to_owned(), quote_literal),
            success = if error.is_none() { "true" } else { "false" },
            error = error.map_or("NULL".to_owned(), quote_literal),
        )
    }
}

/// The values of a history row recording a finished step: started when the command message
/// reached the server (`statement_timestamp()`), finished now.
fn done_values(rev: &str, slug: &str, direction: Direction, checksum: Option<&str>) -> String {
    format!(
        "({}, {}, {}, {}, statement_timestamp(), clock_timestamp(), \
         1000 * extract(epoch FROM clock_timestamp() - statement_timestamp()), true)",
        quote_literal(rev),
        quote_literal(slug),
        quote_literal(direction.as_str()),
        checksum.map_or("NULL".to_owned(), quote_literal),
    )
}

impl Graph {
    /// The version row changes of applying (`upgrade`) or reverting `node` while `rows` are
    /// the version rows, with the rows afterwards.
    pub fn row_changes(&self, rows: &[NodeId], node: NodeId, upgrade: bool) -> (Vec<RowChange>, Vec<NodeId>) {
        let rev = |n: NodeId| self.rev(n).to_owned();
        let mut after: Vec<NodeId> = rows.to_vec();
        let mut changes = Vec::new();
        if upgrade {
            let present: Vec<NodeId> =
                self.parents(node).iter().copied().filter(|p| rows.contains(p)).collect();
            match present.split_last() {
                None => changes.push(RowChange::Insert(rev(node))),
                Some((last, others)) => {
                    for &other in others {
                        changes.push(RowChange::Delete(rev(other)));
                    }
                    changes.push(RowChange::Update { from: rev(*last), to: rev(node) });
                }
            }
            after.retain(|r| !present.contains(r));
            after.push(node);
        } else {
            after.retain(|&r| r != node);
            let implied = self.ancestors(&after);
            let parents: Vec<NodeId> = self.parents(node).iter().copied().filter(|&p| !implied[p]).collect();
            match parents.split_first() {
                None => changes.push(RowChange::Delete(rev(node))),
                Some((first, others)) => {
                    changes.push(RowChange::Update { from: rev(node), to: rev(*first) });
                    for &other in others {
                        changes.push(RowChange::Insert(rev(other)));
                    }
                }
            }
            after.extend(parents);
        }
        after.sort_by_key(|&n| self.position(n));
        (changes, after)
    }

    /// The version rows after stamping `targets` (empty: base) over `rows`: rows sharing a
    /// line with a target (its ancestors and descendants) give way to it; other lines keep
    /// their rows.
    pub fn stamp_rows(&self, rows: &[NodeId], targets: &[NodeId]) -> Vec<NodeId> {
        let related_to_any = |row: NodeId| {
            targets.is_empty()
                || targets.iter().any(|&t| self.ancestors(&[t])[row] || self.descendants(&[t])[row])
        };
        let mut after: Vec<NodeId> = rows.iter().copied().filter(|&r| !related_to_any(r)).collect();
        for &t in targets {
            if !after.contains(&t) {
                after.push(t);
            }
        }
        after.sort_by_key(|&n| self.position(n));
        after
    }
}

/// The changes turning the rows `before` into `after`: deletes, then inserts.
pub fn rows_diff(graph: &Graph, before: &[NodeId], after: &[NodeId]) -> Vec<RowChange> {
    let mut changes: Vec<RowChange> = before
        .iter()
        .filter(|r| !after.contains(r))
        .map(|&r| RowChange::Delete(graph.rev(r).to_owned()))
        .collect();
    changes.extend(
        after.iter().filter(|r| !before.contains(r)).map(|&r| RowChange::Insert(graph.rev(r).to_owned())),
    );
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Revision;

    /// a - b < c1 , d1 > m: a fork at b merged at m.
    fn diamond() -> Graph {
        let spec: &[(&str, &[&str])] =
            &[("a", &[]), ("b", &["a"]), ("c1", &["b"]), ("d1", &["b"]), ("m", &["c1", "d1"])];
        let revisions: Vec<Revision> =
            spec.iter().enumerate().map(|(i, (r, p))| Revision::new(*r, p, format!("{i}"))).collect();
        Graph::build(&revisions).0
    }

    fn nodes(graph: &Graph, revs: &[&str]) -> Vec<NodeId> {
        revs.iter().map(|r| graph.node(r).expect("known")).collect()
    }

    fn run(graph: &Graph, rows: &[&str], step: &str, upgrade: bool) -> (Vec<RowChange>, Vec<String>) {
        let (changes, after) = graph.row_changes(&nodes(graph, rows), nodes(graph, &[step])[0], upgrade);
        (changes, graph.revs_of(&after).into_iter().map(str::to_owned).collect())
    }

    #[test]
    fn upgrades_follow_alembic() {
        let g = diamond();
        let update = |from: &str, to: &str| RowChange::Update { from: from.into(), to: to.into() };
        assert_eq!(run(&g, &[], "a", true), (vec![RowChange::Insert("a".into())], vec!["a".to_owned()]));
        assert_eq!(run(&g, &["a"], "b", true), (vec![update("a", "b")], vec!["b".to_owned()]));
        assert_eq!(run(&g, &["b"], "c1", true), (vec![update("b", "c1")], vec!["c1".to_owned()]));
        // The second arm grows from b, which c1 already implies: a new row.
        assert_eq!(
            run(&g, &["c1"], "d1", true),
            (vec![RowChange::Insert("d1".into())], vec!["c1".to_owned(), "d1".to_owned()])
        );
        // The merge deletes all parents but the last and updates the last.
        assert_eq!(
            run(&g, &["c1", "d1"], "m", true),
            (vec![RowChange::Delete("c1".into()), update("d1", "m")], vec!["m".to_owned()])
        );
    }

    #[test]
    fn downgrades_follow_alembic() {
        let g = diamond();
        let update = |from: &str, to: &str| RowChange::Update { from: from.into(), to: to.into() };
        // Undoing the merge restores both arms: the first parent updated, the other inserted.
        assert_eq!(
            run(&g, &["m"], "m", false),
            (vec![update("m", "c1"), RowChange::Insert("d1".into())], vec!["c1".to_owned(), "d1".to_owned()])
        );
        // Reverting one arm while the other implies b: the row goes.
        assert_eq!(
            run(&g, &["c1", "d1"], "d1", false),
            (vec![RowChange::Delete("d1".into())], vec!["c1".to_owned()])
        );
        assert_eq!(run(&g, &["c1"], "c1", false), (vec![update("c1", "b")], vec!["b".to_owned()]));
        assert_eq!(run(&g, &["a"], "a", false), (vec![RowChange::Delete("a".into())], vec![]));
    }

    #[test]
    fn stamping() {
        let g = diamond();
        let stamp = |rows: &[&str], targets: &[&str]| {
            let after = g.stamp_rows(&nodes(&g, rows), &nodes(&g, targets));
            g.revs_of(&after).join(",")
        };
        assert_eq!(stamp(&[], &["m"]), "m");
        assert_eq!(stamp(&["m"], &["b"]), "b");
        assert_eq!(stamp(&["c1", "d1"], &["m"]), "m");
        // Unrelated lines keep their rows: the target starts a new one.
        assert_eq!(stamp(&["c1"], &["d1"]), "c1,d1");
        assert_eq!(stamp(&["m"], &[]), "");
        let before = nodes(&g, &["c1"]);
        let after = g.stamp_rows(&before, &nodes(&g, &["m"]));
        assert_eq!(
            rows_diff(&g, &before, &after),
            [RowChange::Delete("c1".into()), RowChange::Insert("m".into())]
        );
    }

    #[test]
    fn row_changes_ride_along_with_the_history_insert() {
        let tables = Tables::default();
        let changes = [RowChange::Delete("a".into()), RowChange::Update { from: "b".into(), to: "m".into() }];
        assert_eq!(
            tables.with_row_changes(&changes, "INSERT INTO h VALUES (1)"),
            "WITH version_0 AS (DELETE FROM \"public\".\"alembic_version\" WHERE version_num = 'a'),\n     \
             version_1 AS (UPDATE \"public\".\"alembic_version\" SET version_num = 'm' WHERE version_num = 'b')\n\
             INSERT INTO h VALUES (1)"
        );
        assert_eq!(tables.with_row_changes(&[], "SELECT 1"), "SELECT 1");
    }

    #[test]
    fn sql_quotes_names_and_values() {
        let tables = Tables { schema: "crm".into(), version: "Version".into(), history: "hist".into() };
        assert_eq!(
            tables.row_change_sql(&RowChange::Update { from: "a'b".into(), to: "c".into() }),
            "UPDATE \"crm\".\"Version\" SET version_num = 'c' WHERE version_num = 'a''b'"
        );
        assert!(tables.create_sql().contains("CONSTRAINT \"Version_pkc\" PRIMARY KEY (version_num)"));
        assert_eq!(
            tables.lock_key_sql(),
            "hashtextextended(current_database() || ':migrate:crm.Version', 0)"
        );
    }
}
