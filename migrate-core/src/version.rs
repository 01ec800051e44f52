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
use crate::sql::{join_statements, quote_ident, quote_literal_always as quote_literal, stored_name};

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

/// The version tables of other migration tools, with the tool's name as messages say it: a
/// database holding one was migrated by that tool, and applying from base would run again what
/// it applied.
pub const OTHER_TOOLS: &[(&str, &str)] = &[
    ("__diesel_schema_migrations", "Diesel"),
    ("_sqlx_migrations", "sqlx"),
    ("refinery_schema_history", "refinery"),
    ("flyway_schema_history", "Flyway"),
    ("schema_migrations", "golang-migrate, dbmate or Rails"),
    ("goose_db_version", "goose"),
];

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
#[non_exhaustive]
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
    /// applied revision last ran, was accepted or was stamped with, without sorting the
    /// whole history.
    pub fn create_sql(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {version} (\n    version_num varchar(32) NOT NULL,\n    CONSTRAINT {pk} PRIMARY KEY (version_num)\n);\n\
             CREATE TABLE IF NOT EXISTS {history} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    revision varchar(32) NOT NULL,\n    slug text NOT NULL,\n    direction text NOT NULL,\n    checksum text,\n    started_at timestamptz NOT NULL DEFAULT statement_timestamp(),\n    finished_at timestamptz,\n    duration_ms double precision,\n    success boolean,\n    executed_by text NOT NULL DEFAULT current_user,\n    error text,\n    {undo}\n);\n\
             CREATE INDEX IF NOT EXISTS {checksums} ON {history} (revision, id DESC) INCLUDE (checksum)\n    \
             WHERE success AND checksum IS NOT NULL AND direction IN ('upgrade', 'accept', 'stamp');\n",
            version = self.version_table(),
            pk = quote_ident(&format!("{}_pkc", self.version)),
            history = self.history_table(),
            checksums = quote_ident(&format!("{}_checksums", self.history)),
            undo = UNDO_COLUMNS
                .iter()
                .map(|(name, kind)| format!("{name} {kind}"))
                .collect::<Vec<_>>()
                .join(",\n    "),
        )
    }

    /// Adds to a history table made before downgrades were stored the columns that store
    /// them ([`UNDO_COLUMNS`]): sent, under the migration lock, by the first run of this
    /// version that has a step to make, before it prepares the statements that write them.
    pub fn history_columns_sql(&self) -> String {
        let add: Vec<String> = UNDO_COLUMNS
            .iter()
            .map(|(name, kind)| format!("ADD COLUMN IF NOT EXISTS {name} {kind}"))
            .collect();
        format!("ALTER TABLE {} {}", self.history_table(), add.join(", "))
    }

    /// What the history stored to revert every applied revision not in `known`: for the last
    /// successful upgrade of each, rows of (revision, what, position, value), sorted, where
    /// what is `id` (the history row's, which orders them as they were applied), `slug`,
    /// `checksum`, `stored` (`true` when the row holds a downgrade: rows written before
    /// downgrades were stored hold none), `transactional`, `irreversible`, then one row per
    /// `parent`, `depends_on`, `statement` and `setting` (`name=value`), by position.
    pub fn stored_sql(&self, known: &[&str]) -> String {
        let known: Vec<String> = known.iter().map(|rev| (*rev).to_owned()).collect();
        format!(
            "WITH last AS (SELECT DISTINCT ON (revision) * FROM {history} WHERE success AND direction = 'upgrade' \
             AND revision <> ALL ({known}) ORDER BY revision, id DESC) \
             SELECT revision, 'id', 0::bigint, id::text FROM last \
             UNION ALL SELECT revision, 'slug', 0, slug FROM last \
             UNION ALL SELECT revision, 'checksum', 0, checksum FROM last \
             UNION ALL SELECT revision, 'stored', 0, (downgrade IS NOT NULL)::text FROM last \
             UNION ALL SELECT revision, 'transactional', 0, transactional::text FROM last \
             UNION ALL SELECT revision, 'irreversible', 0, irreversible FROM last \
             UNION ALL SELECT l.revision, 'parent', u.n, u.v FROM last l, unnest(l.parents) WITH ORDINALITY u(v, n) \
             UNION ALL SELECT l.revision, 'depends_on', u.n, u.v FROM last l, unnest(l.depends_on) WITH ORDINALITY u(v, n) \
             UNION ALL SELECT l.revision, 'statement', u.n, u.v FROM last l, unnest(l.downgrade) WITH ORDINALITY u(v, n) \
             UNION ALL SELECT l.revision, 'setting', u.n, u.v FROM last l, unnest(l.downgrade_settings) WITH ORDINALITY u(v, n) \
             ORDER BY 1, 2, 3",
            history = self.history_table(),
            known = text_array(&known),
        )
    }

    /// [`Tables::create_sql`], one statement each.
    pub fn create_statements(&self) -> Vec<String> {
        self.create_sql().split(";\n").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }

    /// The queries that read a database's state, in order: its version rows; for each
    /// revision, the checksum it last ran, was accepted or was stamped with (a revision with
    /// none was never recorded as applied); the last history row (revision, success (NULL
    /// while a step outside a transaction runs or after it was interrupted), direction, error).
    pub fn state_sql(&self) -> [String; 3] {
        let (version, history) = (self.version_table(), self.history_table());
        [
            format!("SELECT version_num FROM {version}"),
            format!(
                "SELECT DISTINCT ON (revision) revision, checksum FROM {history} \
                 WHERE success AND checksum IS NOT NULL AND direction IN ('upgrade', 'accept', 'stamp') \
                 ORDER BY revision, id DESC"
            ),
            format!(
                "SELECT revision, success::text, direction, error FROM {history} ORDER BY id DESC LIMIT 1"
            ),
        ]
    }

    /// Whether each table exists: one row, two booleans.
    pub fn exist_sql(&self) -> String {
        format!(
            "SELECT to_regclass({}) IS NOT NULL, to_regclass({}) IS NOT NULL",
            quote_literal(&self.version_table()),
            quote_literal(&self.history_table())
        )
    }

    /// An expression for the advisory lock key: per database and version table, so that
    /// runners of other databases or other tables never wait for each other.
    pub fn lock_key_sql(&self) -> String {
        let name = format!("migrate:{}.{}", self.schema, self.version);
        format!("hashtextextended(current_database() || {}, 0)", quote_literal(&format!(":{name}")))
    }

    /// Takes the migration lock if it is free: one row, `t` or `f`.
    pub fn try_lock_sql(&self) -> String {
        format!("SELECT pg_try_advisory_lock({})", self.lock_key_sql())
    }

    /// Releases the migration lock this session holds.
    pub fn unlock_sql(&self) -> String {
        format!("SELECT pg_advisory_unlock({})", self.lock_key_sql())
    }

    /// The table of the lease lock, beside the version table (`<schema>.<version>_lease`):
    /// one row per version table whose lock is held, naming its holder.
    pub fn lease_table(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.lease_name()))
    }

    /// The lease table's own name: the version table's, then `_lease` (`alembic_version_lease`).
    pub fn lease_name(&self) -> String {
        format!("{}_lease", self.version)
    }

    /// The lease's row key: the version table, as [`Tables::lock_key_sql`] keys the advisory
    /// lock.
    fn lease_key(&self) -> String {
        quote_literal(&format!("{}.{}", self.schema, self.version))
    }

    /// Creates the lease table if it is missing.
    pub fn lease_create_sql(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    name text PRIMARY KEY,\n    holder text NOT NULL,\n    pid integer,\n    \
             usesysid oid,\n    backend_start timestamptz,\n    application text,\n    client inet,\n    \
             acquired_at timestamptz NOT NULL DEFAULT now(),\n    expires_at timestamptz NOT NULL\n)",
            self.lease_table()
        )
    }

    /// Takes the lease for `holder` (a token of the run) if it is free: one row, `t` or `f`.
    /// A lease is free when nobody holds it, when it expired (`ttl` after it was taken or
    /// last renewed), or, with `liveness`, as soon as the session that took it is gone from
    /// `pg_stat_activity` (its server process and start time; a session whose start time this
    /// role may not see counts as alive): as an advisory lock is released when its session
    /// ends, so a killed runner's lease is free at once (a session of another role on the
    /// dead holder's pid does not keep it). Without `liveness`, only the expiry frees it.
    pub fn lease_try_sql(&self, holder: &str, ttl_ms: u128, liveness: bool) -> String {
        let lease = self.lease_table();
        let free = if liveness {
            "NOT EXISTS (SELECT FROM pg_catalog.pg_stat_activity a WHERE a.pid = l.pid \
             AND a.usesysid IS NOT DISTINCT FROM l.usesysid \
             AND (a.backend_start = l.backend_start OR a.backend_start IS NULL))"
                .to_owned()
        } else {
            "l.expires_at < now()".to_owned()
        };
        format!(
            "WITH taken AS (INSERT INTO {lease} AS l (name, holder, pid, usesysid, backend_start, application, client, \
             expires_at) SELECT {key}, {holder}, a.pid, a.usesysid, a.backend_start, a.application_name, a.client_addr, \
             now() + interval '{ttl_ms} milliseconds' FROM (SELECT pg_backend_pid() AS pid) me \
             LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = me.pid \
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, pid = EXCLUDED.pid, usesysid = EXCLUDED.usesysid, \
             backend_start = EXCLUDED.backend_start, application = EXCLUDED.application, client = EXCLUDED.client, \
             acquired_at = now(), expires_at = EXCLUDED.expires_at WHERE {free} RETURNING 1) \
             SELECT count(*) > 0 FROM taken",
            key = self.lease_key(),
            holder = quote_literal(holder),
        )
    }

    /// Whether the lease table exists: one row, `t` or `f`.
    pub fn lease_exists_sql(&self) -> String {
        format!("SELECT to_regclass({}) IS NOT NULL", quote_literal(&self.lease_table()))
    }

    /// Whether another session holds the lease, alive (as [`Tables::lease_try_sql`] sees a
    /// holder with `liveness`): one row, `t` or `f`. For a runner holding the advisory lock,
    /// which must not run beside a runner holding the lease.
    pub fn lease_live_sql(&self) -> String {
        format!(
            "SELECT EXISTS (SELECT FROM {} l WHERE l.name = {} AND l.pid IS DISTINCT FROM pg_backend_pid() \
             AND EXISTS (SELECT FROM pg_catalog.pg_stat_activity a WHERE a.pid = l.pid \
             AND a.usesysid IS NOT DISTINCT FROM l.usesysid \
             AND (a.backend_start = l.backend_start OR a.backend_start IS NULL)))",
            self.lease_table(),
            self.lease_key()
        )
    }

    /// Whether another session holds the advisory lock: one row, `t` or `f`. For a runner
    /// holding the lease, which must not run beside a runner holding the advisory lock.
    pub fn advisory_held_elsewhere_sql(&self) -> String {
        format!(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory' AND l.granted \
             AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = {} \
             AND l.pid <> pg_backend_pid())",
            self.lock_key_sql()
        )
    }

    /// Who holds the lease, as [`Tables::lock_holder_sql`] says who holds the advisory lock:
    /// pid, since when its session is connected, application, client address.
    pub fn lease_holder_sql(&self) -> String {
        format!(
            "SELECT pid::text, date_trunc('second', backend_start)::text, application, host(client) FROM {} \
             WHERE name = {}",
            self.lease_table(),
            self.lease_key()
        )
    }

    /// Renews the lease `holder` holds for `ttl_ms` more: one row, how many rows it renewed
    /// (0 when the lease was taken over or released).
    pub fn lease_renew_sql(&self, holder: &str, ttl_ms: u128) -> String {
        format!(
            "WITH renewed AS (UPDATE {} SET expires_at = now() + interval '{ttl_ms} milliseconds' \
             WHERE name = {} AND holder = {} RETURNING 1) SELECT count(*) FROM renewed",
            self.lease_table(),
            self.lease_key(),
            quote_literal(holder)
        )
    }

    /// Releases the lease `holder` holds (nothing when another holds it).
    pub fn lease_release_sql(&self, holder: &str) -> String {
        format!(
            "DELETE FROM {} WHERE name = {} AND holder = {}",
            self.lease_table(),
            self.lease_key(),
            quote_literal(holder)
        )
    }

    /// Drops the statements [`Tables::prepare_sql`] prepared.
    pub fn deallocate_sql(&self) -> [&'static str; 4] {
        [
            "DEALLOCATE migrate_check",
            "DEALLOCATE migrate_step",
            "DEALLOCATE migrate_end",
            "DEALLOCATE migrate_claim",
        ]
    }

    /// The session holding the migration lock: pid, since when, application, client address.
    pub fn lock_holder_sql(&self) -> String {
        format!(
            "SELECT a.pid::text, date_trunc('second', a.backend_start)::text, a.application_name, host(a.client_addr) \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND ((l.classid::bigint << 32) | l.objid::bigint) = {}",
            self.lock_key_sql()
        )
    }

    /// How many rows the history holds: one row, one number.
    pub fn history_count_sql(&self) -> String {
        format!("SELECT count(*) FROM {}", self.history_table())
    }

    /// What a database without the version table already holds, read with
    /// [`Tables::exist_sql`] in one round trip, both queries empty when the version table
    /// exists: first the version tables of other tools ([`OTHER_TOOLS`], by name in any
    /// schema outside the system's; rows: name, schema-qualified name); then the first five
    /// other objects outside the system's schemas (rows: kind, schema-qualified name, how many
    /// in all), which are the relations (tables, views, materialized views, sequences not
    /// owned by a column, foreign tables), the types (enums, domains, ranges, composite types)
    /// and the functions and procedures, leaving out the members of extensions (PostGIS's
    /// `spatial_ref_sys`), the parts of other objects (a range's constructors), the version
    /// and history tables themselves and the other tools' version tables. A system schema is
    /// `pg_catalog`, `information_schema` or one whose name starts with `pg_` (`pg_toast`,
    /// other sessions' `pg_temp_N`). With `only`, both look in that schema alone (a
    /// schema-per-tenant target's, whose neighbours hold the other tenants' tables).
    pub fn found_sql(&self, only: Option<&str>) -> [String; 2] {
        let absent = format!("to_regclass({}) IS NULL", quote_literal(&self.version_table()));
        let tools = OTHER_TOOLS.iter().map(|(table, _)| quote_literal(table)).collect::<Vec<_>>().join(", ");
        let user = match only {
            Some(schema) => format!("n.nspname = {}", quote_literal(stored_name(schema))),
            None => "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
                .to_owned(),
        };
        // A member of an extension (`e`), or a part of another object (`i`: a range's
        // constructors, an identity's sequence).
        let member = |catalog: &str, oid: &str| {
            format!(
                "EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.{catalog}'::regclass \
                 AND d.objid = {oid} AND d.deptype IN ('e', 'i'))"
            )
        };
        [
            format!(
                "SELECT c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname) \
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE {absent} AND c.relkind IN ('r', 'p') AND c.relname IN ({tools}) AND {user} ORDER BY 2"
            ),
            format!(
                "SELECT kind, quote_ident(nspname) || '.' || quote_ident(name), count(*) OVER () FROM (\
                 SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' \
                 WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind, \
                 n.nspname, c.relname AS name, 1 AS rank \
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE {absent} AND {user} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') \
                 AND c.oid IS DISTINCT FROM to_regclass({history})::oid AND c.oid IS DISTINCT FROM to_regclass({lease})::oid \
                 AND NOT (c.relkind IN ('r', 'p') AND c.relname IN ({tools})) AND NOT {class_member} \
                 AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_catalog.pg_depend d \
                 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid \
                 AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'a')) \
                 UNION ALL \
                 SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, n.nspname, t.typname, 2 \
                 FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
                 WHERE {absent} AND {user} AND (t.typtype IN ('d', 'e', 'r') OR (t.typtype = 'c' AND \
                 (SELECT r.relkind FROM pg_catalog.pg_class r WHERE r.oid = t.typrelid) = 'c')) \
                 AND NOT {type_member} AND NOT {composite_member} \
                 UNION ALL \
                 SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, n.nspname, p.proname, 3 \
                 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
                 WHERE {absent} AND {user} AND NOT {proc_member}\
                 ) found ORDER BY rank, nspname, name LIMIT 5",
                history = quote_literal(&self.history_table()),
                lease = quote_literal(&self.lease_table()),
                class_member = member("pg_class", "c.oid"),
                type_member = member("pg_type", "t.oid"),
                composite_member = member("pg_class", "t.typrelid"),
                proc_member = member("pg_proc", "p.oid"),
            ),
        ]
    }

    /// `statements` in one transaction that holds the version table's lock, after creating
    /// the tables when `create_tables`: what a stamp or an accepted checksum sends.
    pub fn locked_transaction_sql(&self, create_tables: bool, statements: &[String]) -> String {
        let mut sql = if create_tables { self.create_statements() } else { Vec::new() };
        sql.push("BEGIN".to_owned());
        sql.push(self.lock_table_sql());
        sql.extend(statements.iter().cloned());
        sql.push("COMMIT".to_owned());
        join_statements(&sql)
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

    /// Locks the version table against every other writer until the transaction ends: the
    /// first statement of every transaction that changes version rows, so that the rows a
    /// step checks cannot change before it commits.
    pub fn lock_table_sql(&self) -> String {
        format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", self.version_table())
    }

    /// The statements every run prepares once per session, before its first step (on a
    /// history table made before downgrades were stored, after
    /// [`Tables::history_columns_sql`]):
    ///
    /// - `migrate_check(rows)`, the first statement of every step's transaction after the
    ///   version table's lock: it fails unless the version rows are exactly `rows`, the ones
    ///   the step was planned from, and no step outside a transaction is in progress. Under
    ///   the lock, nobody else can change them before the transaction ends.
    /// - `migrate_step`, a step's version row changes and its history row: each row it
    ///   deletes must exist (the count is checked), each row it inserts must not (the key).
    ///   `migrate_end` is the same for a step outside a transaction, timed from its claim.
    /// - `migrate_claim`, the history row that says a step outside a transaction started,
    ///   checked as `migrate_check` checks.
    ///
    /// A failed check raises an error whose message starts with [`CONFLICT`], which aborts
    /// the transaction, the step's statements with it. A cast of the message to `boolean`
    /// raises it: the one way a plain SQL statement can fail on a computed condition, and the
    /// message depends on the rows read, so the planner cannot fold it. Prepared, the
    /// statements are planned once instead of once per step.
    pub fn prepare_sql(&self) -> [String; 4] {
        let (version, history) = (self.version_table(), self.history_table());
        let found = format!(
            "(SELECT coalesce(array_agg(version_num::text ORDER BY version_num COLLATE \"C\"), '{{}}') AS found FROM {version}) AS version,\n     \
             (SELECT coalesce((SELECT success IS NULL FROM {history} ORDER BY id DESC LIMIT 1), false) AS pending) AS last"
        );
        let conflict = "('{CONFLICT}: expected {' || array_to_string($1, ', ') || '}, found {' || array_to_string(found, ', ') || '}' \
             || CASE WHEN pending THEN ' and a migration outside a transaction in progress' ELSE '' END)::boolean"
            .replace("{CONFLICT}", CONFLICT);
        let check = format!(
            "PREPARE migrate_check(text[]) AS\n\
             SELECT CASE WHEN found = $1 AND NOT pending THEN true ELSE {conflict} END\n\
             FROM {found}"
        );
        let finished = |name: &str, started: &str| {
            format!(
                "PREPARE {name}(text[], text[], text, text, text, text, text[], text[], boolean, text[], text[], text) AS\n\
                 WITH deleted AS (DELETE FROM {version} WHERE version_num = ANY ($1) RETURNING 1),\n     \
                 inserted AS (INSERT INTO {version} (version_num) SELECT unnest($2))\n\
                 INSERT INTO {history} (revision, slug, direction, checksum, started_at, finished_at, duration_ms, success, \
                 parents, depends_on, transactional, downgrade, downgrade_settings, irreversible)\n\
                 SELECT $3, $4, $5, $6, started, clock_timestamp(), 1000 * extract(epoch FROM clock_timestamp() - started),\n       \
                 CASE WHEN deleted = cardinality($1) THEN true \
                 ELSE ('{CONFLICT}: ' || cardinality($1) - deleted || ' of the rows {{' || array_to_string($1, ', ') || '}} are gone')::boolean END,\n       \
                 $7, $8, $9, $10, $11, $12\n\
                 FROM (SELECT count(*) AS deleted FROM deleted) AS gone, (SELECT {started} AS started) AS start"
            )
        };
        // A step in a transaction started when its batch reached the server; a step outside
        // one, when its claim was written.
        let step = finished("migrate_step", "statement_timestamp()");
        let end = finished("migrate_end", &self.claim_started_sql("$3"));
        let claim = format!(
            "PREPARE migrate_claim(text[], text, text, text, text) AS\n\
             INSERT INTO {history} (revision, slug, direction, checksum, success)\n\
             SELECT $2, $3, $4, $5, CASE WHEN found = $1 AND NOT pending THEN NULL ELSE {conflict} END\n\
             FROM {found}"
        );
        [check, step, end, claim]
    }

    /// Executes the prepared `migrate_check`: the version rows must be `rows`.
    pub fn check_sql(&self, rows: &[String]) -> String {
        format!("EXECUTE migrate_check({})", text_array(&sorted(rows)))
    }

    /// Executes the prepared `migrate_step` (or, with `outside`, `migrate_end`): applies
    /// `changes` and records a finished step.
    pub fn step_sql(&self, changes: &[RowChange], record: &Record<'_>, outside: bool) -> String {
        let mut deleted = Vec::new();
        let mut inserted = Vec::new();
        for change in changes {
            match change {
                RowChange::Insert(rev) => inserted.push(rev.clone()),
                RowChange::Delete(rev) => deleted.push(rev.clone()),
                RowChange::Update { from, to } => {
                    deleted.push(from.clone());
                    inserted.push(to.clone());
                }
            }
        }
        format!(
            "EXECUTE {}({}, {}, {}, {})",
            if outside { "migrate_end" } else { "migrate_step" },
            text_array(&deleted),
            text_array(&inserted),
            record.values(),
            record.undo_values()
        )
    }

    /// Executes the prepared `migrate_claim`: records that a step outside a transaction
    /// starts from the version rows `rows`.
    pub fn claim_sql(&self, rows: &[String], record: &Record<'_>) -> String {
        format!("EXECUTE migrate_claim({}, {})", text_array(&sorted(rows)), record.values())
    }

    /// A history row recording a finished step without version rows to check (a stamp, an
    /// accepted checksum): started when the command message reached the server, finished
    /// now.
    pub fn history_done_sql(&self, record: &Record<'_>) -> String {
        format!(
            "INSERT INTO {} (revision, slug, direction, checksum, started_at, finished_at, duration_ms, success) \
             VALUES ({}, statement_timestamp(), clock_timestamp(), \
             1000 * extract(epoch FROM clock_timestamp() - statement_timestamp()), true)",
            self.history_table(),
            record.values(),
        )
    }

    /// When the step `rev` (an SQL expression) started: from its claim when the last history
    /// row is that claim (a step outside a transaction), else when this statement arrived.
    fn claim_started_sql(&self, rev: &str) -> String {
        let history = self.history_table();
        format!(
            "coalesce((SELECT started_at FROM {history} WHERE id = (SELECT max(id) FROM {history}) \
             AND success IS NULL AND revision = {rev}), statement_timestamp())"
        )
    }

    /// A history row recording that a step failed with `error` (timed from its started
    /// row when it ran outside a transaction): written after the step's transaction rolled
    /// back, so it changes no version row.
    pub fn failed_sql(&self, record: &Record<'_>, error: &str) -> String {
        let table = self.history_table();
        let started = self.claim_started_sql(&quote_literal(record.rev));
        format!(
            "INSERT INTO {table} (revision, slug, direction, checksum, started_at, finished_at, duration_ms, success, error) \
             SELECT {values}, started, clock_timestamp(), 1000 * extract(epoch FROM clock_timestamp() - started), false, {error} \
             FROM (SELECT {started} AS started) AS start",
            values = record.values(),
            error = quote_literal(error),
        )
    }
}

/// The start of the error a history row records when every statement of a step outside a
/// transaction ran and only the record of its end failed: the next refusal then knows the
/// step is done.
pub const ENDED: &str = "every statement ran; recording its end failed: ";

/// The start of the message of a step refused by its own bookkeeping statement, because
/// the version rows are not the ones it was planned from: another runner changed them.
pub const CONFLICT: &str = "migrate: the version rows changed under this run";

/// What a history row says of a step: which migration, which way, with which checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The revision.
    pub rev: &'a str,
    /// Its slug.
    pub slug: &'a str,
    /// Which way.
    pub direction: Direction,
    /// The checksum of the SQL it ran, when it ran some.
    pub checksum: Option<&'a str>,
    /// For an upgrade, what reverting it takes, stored with its history row.
    pub undo: Option<&'a Undo>,
}

/// The history's columns that store how to revert an upgrade ([`Undo`]), with their types.
pub const UNDO_COLUMNS: [(&str, &str); 6] = [
    ("parents", "text[]"),
    ("depends_on", "text[]"),
    ("transactional", "boolean"),
    ("downgrade", "text[]"),
    ("downgrade_settings", "text[]"),
    ("irreversible", "text"),
];

/// What reverting an applied migration takes, stored with the history row of its upgrade,
/// so that a binary built without the migration (an older release, after a rollback of the
/// code) can still revert it: its place in the graph and its downgrade as SQL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Undo {
    /// Its parents.
    pub parents: Vec<String>,
    /// The revisions it depends on (labels resolved to revisions).
    pub depends_on: Vec<String>,
    /// Whether it runs inside a transaction.
    pub transactional: bool,
    /// The downgrade's statements, rendered.
    pub statements: Vec<String>,
    /// The downgrade's settings (`lock_timeout`, `statement_timeout`), as parameter and value.
    pub settings: Vec<(String, String)>,
    /// Why the downgrade cannot be done, when it says so.
    pub irreversible: Option<String>,
}

impl Record<'_> {
    /// What it stores to revert it, as six SQL values (`NULL`s without): parents,
    /// dependencies, transactional, statements, settings, irreversible.
    fn undo_values(&self) -> String {
        let Some(undo) = self.undo else {
            return "NULL, NULL, NULL, NULL, NULL, NULL".to_owned();
        };
        let settings: Vec<String> =
            undo.settings.iter().map(|(name, value)| format!("{name}={value}")).collect();
        format!(
            "{}, {}, {}, {}, {}, {}",
            text_array(&undo.parents),
            text_array(&undo.depends_on),
            undo.transactional,
            text_array(&undo.statements),
            text_array(&settings),
            undo.irreversible.as_deref().map_or("NULL".to_owned(), quote_literal)
        )
    }

    /// The record as four SQL values: revision, slug, direction and checksum.
    fn values(&self) -> String {
        format!(
            "{}, {}, {}, {}",
            quote_literal(self.rev),
            quote_literal(self.slug),
            quote_literal(self.direction.as_str()),
            self.checksum.map_or("NULL".to_owned(), quote_literal)
        )
    }
}

/// Revisions in byte order, the order `COLLATE "C"` gives them in the prepared checks.
fn sorted(rows: &[String]) -> Vec<String> {
    let mut rows = rows.to_vec();
    rows.sort();
    rows
}

/// A `text[]` literal.
fn text_array(values: &[String]) -> String {
    if values.is_empty() {
        return "'{}'::text[]".to_owned();
    }
    let items: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
    format!("ARRAY[{}]::text[]", items.join(", "))
}

impl Graph {
    /// The version row changes of applying (`upgrade`) or reverting `node` while `rows` are
    /// the version rows, with the rows afterwards.
    pub fn row_changes(&self, rows: &[NodeId], node: NodeId, upgrade: bool) -> (Vec<RowChange>, Vec<NodeId>) {
        let rev = |n: NodeId| self.rev(n).to_owned();
        let mut after: Vec<NodeId> = rows.to_vec();
        let mut changes = Vec::new();
        if upgrade {
            // Parents, then dependencies: a dependency's row is taken in by its dependant.
            let present: Vec<NodeId> = self.requires(node).into_iter().filter(|p| rows.contains(p)).collect();
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
            let candidates: Vec<NodeId> = self.requires(node).into_iter().filter(|&p| !implied[p]).collect();
            // Only the topmost come back as rows: a dependency below a parent is implied by it.
            let parents: Vec<NodeId> = candidates
                .iter()
                .copied()
                .filter(|&p| !candidates.iter().any(|&o| o != p && self.ancestors(&[o])[p]))
                .collect();
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
    fn a_step_names_the_rows_it_expects_and_changes() {
        let tables = Tables::default();
        let changes = [RowChange::Delete("a".into()), RowChange::Update { from: "b".into(), to: "m".into() }];
        let record =
            Record { rev: "m", slug: "merge", direction: Direction::Upgrade, checksum: None, undo: None };
        assert_eq!(
            tables.step_sql(&changes, &record, false),
            "EXECUTE migrate_step(ARRAY['a', 'b']::text[], ARRAY['m']::text[], 'm', 'merge', 'upgrade', NULL, \
             NULL, NULL, NULL, NULL, NULL, NULL)"
        );
        let undo = Undo {
            parents: vec!["a".into(), "b".into()],
            depends_on: Vec::new(),
            transactional: true,
            statements: vec!["DROP TABLE \"t\"".into(), "SELECT 'x'".into()],
            settings: vec![("lock_timeout".into(), "5000ms".into())],
            irreversible: None,
        };
        let stored = Record { undo: Some(&undo), ..record };
        assert_eq!(
            tables.step_sql(&[], &stored, false),
            "EXECUTE migrate_step('{}'::text[], '{}'::text[], 'm', 'merge', 'upgrade', NULL, ARRAY['a', 'b']::text[], \
             '{}'::text[], true, ARRAY['DROP TABLE \"t\"', 'SELECT ''x''']::text[], ARRAY['lock_timeout=5000ms']::text[], NULL)"
        );
        assert_eq!(
            tables.check_sql(&["b".into(), "a".into()]),
            "EXECUTE migrate_check(ARRAY['a', 'b']::text[])"
        );
        assert_eq!(
            tables.claim_sql(&[], &record),
            "EXECUTE migrate_claim('{}'::text[], 'm', 'merge', 'upgrade', NULL)"
        );
        let [check, step, end, claim] = tables.prepare_sql();
        assert!(
            tables.history_columns_sql().contains("ADD COLUMN IF NOT EXISTS downgrade text[]"),
            "{}",
            tables.history_columns_sql()
        );
        assert!(end.contains("AND success IS NULL AND revision = $3"), "{end}");
        assert!(!step.contains("success IS NULL"), "{step}");
        assert!(
            check.contains(
                "CASE WHEN found = $1 AND NOT pending THEN true ELSE ('migrate: the version rows changed"
            ),
            "{check}"
        );
        assert!(step.contains("CASE WHEN deleted = cardinality($1) THEN true"), "{step}");
        assert!(claim.contains("found = $1 AND NOT pending"), "{claim}");
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
