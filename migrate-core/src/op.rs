//! The operations a migration records, as plain values, and their SQL.
//!
//! A migration's `upgrade` and `downgrade` functions call methods of [`Op`]; each call
//! records an [`Operation`]. Nothing touches a database: [`Op::statements`] renders the SQL,
//! which is what the runtime executes and what `--sql` prints. Identifiers are always quoted
//! and values always rendered as literals; only arguments documented as SQL (a `where`
//! predicate, a `USING` or `CHECK` expression, [`sql`] values, [`Type::Sql`] and
//! [`Op::execute`]) are written as given.
//!
//! # In a migration
//!
//! A migration file holds one module: its doc comment says why it exists, its only import is
//! `migrate_runtime::prelude::*` (which re-exports [`Op`], [`Type`], [`Value`], [`Action`],
//! [`sql`] and `std::time::Duration`), and its two functions record operations:
//!
//! ```ignore
//! /// Support reads a short AI summary instead of the whole interaction.
//! #[migration(rev = "9b0c6e3f1d75", down_revision = "3f2a9c1b7d4e")]
//! mod add_ai_summary_to_interactions {
//!     use migrate_runtime::prelude::*;
//!
//!     pub fn upgrade(op: &mut Op) {
//!         op.add_column("interactions", "ai_summary", Type::Text);
//!     }
//!
//!     pub fn downgrade(op: &mut Op) {
//!         op.drop_column("interactions", "ai_summary");
//!     }
//! }
//! ```
//!
//! (That block needs `#[migration]` and a build script, so it is not compiled here; the guide's
//! examples are compiled as such migrations and applied to PostgreSQL by the workspace's
//! `tests/guide.rs`, from `tests/chains/guide/`.)
//!
//! The runtime calls each function on a fresh [`Op`] whenever it needs the migration's SQL: to
//! apply or revert it, to print it (`--sql`), and to compare it with the SHA-256 recorded when
//! the migration was applied. So a function must record the same operations every time: it
//! reads no clock, no environment and no file but its `include_str!`s. Called outside a
//! migration, the same function shows its SQL:
//!
//! ```
//! use migrate_core::op::{Op, Type};
//!
//! fn upgrade(op: &mut Op) {
//!     op.add_column("interactions", "ai_summary", Type::Text);
//! }
//!
//! let mut op = Op::new();
//! upgrade(&mut op);
//! let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
//! assert_eq!(rendered, [r#"ALTER TABLE "interactions" ADD COLUMN "ai_summary" text"#]);
//! ```
//!
//! Every example below checks its SQL that way, so an example that stops matching the rendering
//! fails `cargo test --doc`.
//!
//! Names of tables, indexes and types may be schema-qualified (`"crm.people"` renders
//! `"crm"."people"`: a dot always separates schema and name); names of columns, constraints and
//! a new name given to [`Op::rename_table`] are single identifiers. Quoting keeps case:
//! `"People"` and `"people"` are two tables.
//!
//! # Transactions
//!
//! A migration runs in one transaction with its version row and its history row, sent in one
//! round trip: when one of its statements fails, nothing of it remains. Its
//! [`Op::lock_timeout`] and [`Op::statement_timeout`] are `SET LOCAL` in that transaction.
//!
//! A migration runs outside a transaction when its source calls `.concurrently()`
//! ([`Index::concurrently`], [`Key::concurrently`], [`DropObject::concurrently`]) or
//! [`Op::add_enum_value`], or when its SQL, literal or `include_str!`'d, holds a statement
//! PostgreSQL refuses in a transaction block (`CREATE INDEX CONCURRENTLY`, `DROP INDEX
//! CONCURRENTLY`, `REINDEX … CONCURRENTLY`, `VACUUM`, `CREATE DATABASE`, a `DO` block that
//! commits, …; [`Statement::no_transaction`] gives the reason for one statement). The build
//! decides once per migration, from the source of both functions, so its downgrade runs outside
//! a transaction too; `transactional = true` or `false` in `#[migration(…)]` overrides the
//! inference. [`AlterColumn::set_not_null_through_check`] and [`Op::backfill`] must run outside
//! one as well (their statements say so, and [`crate::sql::no_transaction_call`] lists the
//! calls); until the build reads these two calls as it reads `.concurrently()`, a migration that
//! makes them says `transactional = false`.
//!
//! An enum value is always added outside a transaction, whatever the server's version: before
//! PostgreSQL 12 a transaction block refuses `ALTER TYPE … ADD VALUE`, and from 12 on the new
//! value cannot be used before the transaction that added it commits.
//!
//! Outside a transaction, the runtime commits a "started" history row, runs the statements one
//! per round trip (each commits on its own, with the migration's timeouts `SET` for the step and
//! reset after it), then records the end with the version rows. A failure part-way leaves the
//! earlier statements applied, and the next run refuses to go on before it is told what
//! happened (the error says what the catalog shows and which `stamp` fits). So such a migration
//! is best one statement, or statements that can run again ([`Index::if_not_exists`],
//! [`EnumValue::if_not_exists`], [`DropObject::if_exists`]). A concurrent index build that failed
//! leaves an INVALID index; the runtime drops it before building the index again. A run in one
//! transaction (`Migrator::one_transaction`) refuses a migration that runs outside one.

use std::time::Duration;

use crate::sql::{
    no_transaction_call, no_transaction_reason, quote_ident, quote_literal, quote_qualified, split_statements,
};

/// A column type, written by [`Type::to_sql`] where a column or a conversion names one.
///
/// ```
/// use migrate_core::op::{Op, Type};
///
/// let mut op = Op::new();
/// op.add_column("lead_scores", "history", Type::Array(&Type::Integer));
/// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [r#"ALTER TABLE "lead_scores" ADD COLUMN "history" integer[]"#]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `smallint`
    SmallInt,
    /// `integer`
    Integer,
    /// `bigint`
    BigInt,
    /// `serial`: an `integer` with a sequence as its default (prefer an identity column:
    /// [`Column::identity`]).
    Serial,
    /// `bigserial`
    BigSerial,
    /// `boolean`
    Boolean,
    /// `real`
    Real,
    /// `double precision`
    Double,
    /// `numeric(precision, scale)`
    Numeric(u32, u32),
    /// `text`
    Text,
    /// `varchar(n)`
    Varchar(u32),
    /// `char(n)`
    Char(u32),
    /// `date`
    Date,
    /// `time`
    Time,
    /// `timestamp` (without time zone)
    Timestamp,
    /// `timestamptz`
    TimestampTz,
    /// `interval`
    Interval,
    /// `uuid`
    Uuid,
    /// `json`
    Json,
    /// `jsonb`
    Jsonb,
    /// `bytea`
    Bytea,
    /// `inet`
    Inet,
    /// An array of the inner type.
    Array(&'static Type),
    /// A named type, such as an enum made by [`Op::create_enum`]: quoted as an identifier (so
    /// case-sensitive) and schema-qualified when it holds a dot.
    Named(&'static str),
    /// A type written as SQL, as given, for what the list above lacks (`vector(1536)`, `citext`).
    Sql(&'static str),
}

impl Type {
    /// The type as PostgreSQL reads it.
    ///
    /// ```
    /// use migrate_core::op::Type;
    ///
    /// assert_eq!(Type::Double.to_sql(), "double precision");
    /// assert_eq!(Type::Numeric(10, 2).to_sql(), "numeric(10, 2)");
    /// assert_eq!(Type::Varchar(50).to_sql(), "varchar(50)");
    /// assert_eq!(Type::TimestampTz.to_sql(), "timestamptz");
    /// assert_eq!(Type::Array(&Type::Text).to_sql(), "text[]");
    /// assert_eq!(Type::Named("interaction_type").to_sql(), r#""interaction_type""#);
    /// assert_eq!(Type::Named("crm.interaction_type").to_sql(), r#""crm"."interaction_type""#);
    /// assert_eq!(Type::Sql("vector(1536)").to_sql(), "vector(1536)");
    /// ```
    pub fn to_sql(&self) -> String {
        match self {
            Type::SmallInt => "smallint".into(),
            Type::Integer => "integer".into(),
            Type::BigInt => "bigint".into(),
            Type::Serial => "serial".into(),
            Type::BigSerial => "bigserial".into(),
            Type::Boolean => "boolean".into(),
            Type::Real => "real".into(),
            Type::Double => "double precision".into(),
            Type::Numeric(p, s) => format!("numeric({p}, {s})"),
            Type::Text => "text".into(),
            Type::Varchar(n) => format!("varchar({n})"),
            Type::Char(n) => format!("char({n})"),
            Type::Date => "date".into(),
            Type::Time => "time".into(),
            Type::Timestamp => "timestamp".into(),
            Type::TimestampTz => "timestamptz".into(),
            Type::Interval => "interval".into(),
            Type::Uuid => "uuid".into(),
            Type::Json => "json".into(),
            Type::Jsonb => "jsonb".into(),
            Type::Bytea => "bytea".into(),
            Type::Inet => "inet".into(),
            Type::Array(inner) => format!("{}[]", inner.to_sql()),
            Type::Named(name) => quote_qualified(name),
            Type::Sql(sql) => (*sql).to_owned(),
        }
    }
}

/// A value for a default or a row: rendered as a literal, or written as SQL.
///
/// Rust values convert into it (`&str`, `String`, `i32`, `i64`, `bool`, `f64`, and `Option` of
/// those, `None` being `NULL`), so a default or a row takes them directly; [`sql`] makes an
/// expression.
///
/// ```
/// use migrate_core::op::{Op, Type, Value};
///
/// let mut op = Op::new();
/// op.bulk_insert(
///     "lead_scores",
///     &["person_id", "score", "last_activity_at"],
///     vec![vec![1.into(), 10.into(), Value::Null], vec![2.into(), 0.into(), Value::Sql("now()".into())]],
/// );
/// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [r#"INSERT INTO "lead_scores" ("person_id", "score", "last_activity_at") VALUES
///     (1, 10, NULL),
///     (2, 0, now())"#]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `NULL`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number; a non-finite one as the string `'NaN'`, `'inf'` or `'-inf'`.
    Float(f64),
    /// A string, quoted as a literal (embedded quotes doubled).
    Text(String),
    /// An SQL expression, written as given (`now()`, `gen_random_uuid()`).
    Sql(String),
}

impl Value {
    /// The value as SQL: a literal, or [`Value::Sql`] as written.
    ///
    /// ```
    /// use migrate_core::op::{Value, sql};
    ///
    /// assert_eq!(Value::from("it's").to_sql(), "'it''s'");
    /// assert_eq!(Value::from(42).to_sql(), "42");
    /// assert_eq!(Value::from(0.5).to_sql(), "0.5");
    /// assert_eq!(Value::from(1.0).to_sql(), "1.0");
    /// assert_eq!(Value::from(f64::NAN).to_sql(), "'NaN'");
    /// assert_eq!(Value::from(false).to_sql(), "false");
    /// assert_eq!(Value::from(None::<i64>).to_sql(), "NULL");
    /// assert_eq!(Value::from(Some("pending")).to_sql(), "'pending'");
    /// assert_eq!(sql("now()").to_sql(), "now()");
    /// ```
    pub fn to_sql(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Bool(b) => if *b { "true" } else { "false" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) if f.is_finite() => format!("{f:?}"),
            Value::Float(f) => quote_literal(&f.to_string()),
            Value::Text(s) => quote_literal(s),
            Value::Sql(s) => s.clone(),
        }
    }
}

/// An SQL expression to write as given, for a default or a row: `server_default(sql("now()"))`.
/// A plain string would be quoted as a literal instead.
///
/// ```
/// use migrate_core::op::{Op, Type, sql};
///
/// let mut op = Op::new();
/// op.add_column("interactions", "created_at", Type::TimestampTz).not_null().server_default(sql("now()"));
/// op.add_column("interactions", "channel", Type::Text).server_default("now()");
/// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [
///     r#"ALTER TABLE "interactions" ADD COLUMN "created_at" timestamptz NOT NULL DEFAULT now()"#,
///     r#"ALTER TABLE "interactions" ADD COLUMN "channel" text DEFAULT 'now()'"#,
/// ]);
/// ```
pub fn sql(expression: &str) -> Value {
    Value::Sql(expression.to_owned())
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// What happens to referencing rows when the referenced row is deleted or updated: the argument
/// of [`Column::on_delete`], [`Column::on_update`], [`ForeignKey::on_delete`] and
/// [`ForeignKey::on_update`].
///
/// ```
/// use migrate_core::op::{Action, Op};
///
/// let mut op = Op::new();
/// op.create_foreign_key("fk_lead_scores_person", "lead_scores", "people", &["person_id"], &["id"])
///     .on_delete(Action::Cascade)
///     .on_update(Action::Restrict);
/// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [
///     r#"ALTER TABLE "lead_scores" ADD CONSTRAINT "fk_lead_scores_person" FOREIGN KEY ("person_id") REFERENCES "people" ("id") ON DELETE CASCADE ON UPDATE RESTRICT"#,
/// ]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `NO ACTION` (PostgreSQL's default: the change fails if referencing rows remain at the end
    /// of the statement)
    NoAction,
    /// `RESTRICT` (the change fails at once if referencing rows exist)
    Restrict,
    /// `CASCADE` (referencing rows are deleted, or their keys updated, with it)
    Cascade,
    /// `SET NULL` (referencing columns become `NULL`)
    SetNull,
    /// `SET DEFAULT` (referencing columns take their default)
    SetDefault,
}

impl Action {
    fn to_sql(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }
}

/// A column of [`Op::create_table`] ([`Table::column`]) or [`Op::add_column`]: its name and
/// type, then the options its methods add, each written once and in this order whatever the
/// order of the calls: `GENERATED BY DEFAULT AS IDENTITY`, `NOT NULL`, `DEFAULT`,
/// `PRIMARY KEY`, `UNIQUE`, `REFERENCES … ON DELETE … ON UPDATE …`. A comment is a statement of
/// its own, after the one that makes the column.
///
/// A column is nullable and without default unless told otherwise.
///
/// ```
/// use migrate_core::op::{Action, Op, Type};
///
/// let mut op = Op::new();
/// op.add_column("interactions", "assignee_id", Type::BigInt)
///     .references("users", "id")
///     .on_delete(Action::SetNull)
///     .comment("The user who handles it");
/// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [
///     r#"ALTER TABLE "interactions" ADD COLUMN "assignee_id" bigint REFERENCES "users" ("id") ON DELETE SET NULL"#,
///     r#"COMMENT ON COLUMN "interactions"."assignee_id" IS 'The user who handles it'"#,
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    name: String,
    ty: Type,
    not_null: bool,
    primary_key: bool,
    unique: bool,
    identity: bool,
    default: Option<Value>,
    references: Option<Reference>,
    comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct Reference {
    table: String,
    column: String,
    on_delete: Option<Action>,
    on_update: Option<Action>,
}

impl Column {
    fn new(name: &str, ty: Type) -> Column {
        Column {
            name: name.to_owned(),
            ty,
            not_null: false,
            primary_key: false,
            unique: false,
            identity: false,
            default: None,
            references: None,
            comment: None,
        }
    }

    /// `NOT NULL`. Added to a table that has rows, the column needs a default too, or PostgreSQL
    /// refuses it; otherwise add it nullable, fill it, then [`AlterColumn::set_not_null`].
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.add_column("interactions", "priority", Type::SmallInt).not_null().server_default(0);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "interactions" ADD COLUMN "priority" smallint NOT NULL DEFAULT 0"#]);
    /// ```
    pub fn not_null(&mut self) -> &mut Self {
        self.not_null = true;
        self
    }

    /// `PRIMARY KEY` on this column alone (over several: [`Table::primary_key`]); PostgreSQL names
    /// the constraint `<table>_pkey`.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("users", |t| {
    ///     t.column("id", Type::BigInt).primary_key();
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TABLE "users" (
    ///     "id" bigint PRIMARY KEY
    /// )"#]);
    /// ```
    pub fn primary_key(&mut self) -> &mut Self {
        self.primary_key = true;
        self
    }

    /// `UNIQUE` on this column alone; PostgreSQL names the constraint `<table>_<column>_key`. For a
    /// name of your own, or several columns: [`Table::unique`] or [`Op::create_unique_constraint`].
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.add_column("people", "email", Type::Text).unique();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "people" ADD COLUMN "email" text UNIQUE"#]);
    /// ```
    pub fn unique(&mut self) -> &mut Self {
        self.unique = true;
        self
    }

    /// `GENERATED BY DEFAULT AS IDENTITY`: the column takes the next number of its own sequence
    /// when a row gives none. For an integer type ([`Type::SmallInt`], [`Type::Integer`],
    /// [`Type::BigInt`]).
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("people", |t| {
    ///     t.column("id", Type::BigInt).identity().primary_key();
    ///     t.column("email", Type::Text).not_null().unique();
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TABLE "people" (
    ///     "id" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    ///     "email" text NOT NULL UNIQUE
    /// )"#]);
    /// ```
    pub fn identity(&mut self) -> &mut Self {
        self.identity = true;
        self
    }

    /// `DEFAULT …`, the server's default: a literal (`"pending"`, `42`, `false`: see [`Value`]) or
    /// an SQL expression ([`sql`]). A string is always a quoted literal, even for a number
    /// (`"0"` is `'0'`, which PostgreSQL reads as the column's type).
    ///
    /// ```
    /// use migrate_core::op::{Op, Type, sql};
    ///
    /// let mut op = Op::new();
    /// op.create_table("lead_scores", |t| {
    ///     t.column("score", Type::Integer).not_null().server_default(0);
    ///     t.column("status", Type::Text).server_default("new");
    ///     t.column("updated_at", Type::TimestampTz).server_default(sql("now()"));
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TABLE "lead_scores" (
    ///     "score" integer NOT NULL DEFAULT 0,
    ///     "status" text DEFAULT 'new',
    ///     "updated_at" timestamptz DEFAULT now()
    /// )"#]);
    /// ```
    pub fn server_default(&mut self, value: impl Into<Value>) -> &mut Self {
        self.default = Some(value.into());
        self
    }

    /// `REFERENCES table (column)`: a foreign key on this column, which PostgreSQL names
    /// `<table>_<column>_fkey`. For a name of your own, or several columns:
    /// [`Op::create_foreign_key`].
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("lead_scores", |t| {
    ///     t.column("person_id", Type::BigInt).not_null().references("people", "id");
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TABLE "lead_scores" (
    ///     "person_id" bigint NOT NULL REFERENCES "people" ("id")
    /// )"#]);
    /// ```
    pub fn references(&mut self, table: &str, column: &str) -> &mut Self {
        self.references = Some(Reference {
            table: table.to_owned(),
            column: column.to_owned(),
            on_delete: None,
            on_update: None,
        });
        self
    }

    /// `ON DELETE …` for the reference of [`Column::references`], which must come first: without a
    /// reference this does nothing.
    ///
    /// ```
    /// use migrate_core::op::{Action, Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.add_column("people", "organisation_id", Type::BigInt)
    ///     .references("organisations", "id")
    ///     .on_delete(Action::Cascade);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "people" ADD COLUMN "organisation_id" bigint REFERENCES "organisations" ("id") ON DELETE CASCADE"#,
    /// ]);
    /// ```
    pub fn on_delete(&mut self, action: Action) -> &mut Self {
        if let Some(r) = &mut self.references {
            r.on_delete = Some(action);
        }
        self
    }

    /// `ON UPDATE …` for the reference of [`Column::references`], which must come first: without a
    /// reference this does nothing.
    ///
    /// ```
    /// use migrate_core::op::{Action, Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.add_column("people", "organisation_id", Type::BigInt)
    ///     .references("organisations", "id")
    ///     .on_update(Action::Cascade);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "people" ADD COLUMN "organisation_id" bigint REFERENCES "organisations" ("id") ON UPDATE CASCADE"#,
    /// ]);
    /// ```
    pub fn on_update(&mut self, action: Action) -> &mut Self {
        if let Some(r) = &mut self.references {
            r.on_update = Some(action);
        }
        self
    }

    /// `COMMENT ON COLUMN …`: a statement after the one that makes the column.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.add_column("interactions", "ai_summary", Type::Text).comment("Résumé IA de l'interaction");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" ADD COLUMN "ai_summary" text"#,
    ///     r#"COMMENT ON COLUMN "interactions"."ai_summary" IS 'Résumé IA de l''interaction'"#,
    /// ]);
    /// ```
    pub fn comment(&mut self, text: &str) -> &mut Self {
        self.comment = Some(text.to_owned());
        self
    }

    fn to_sql(&self) -> String {
        let mut sql = format!("{} {}", quote_ident(&self.name), self.ty.to_sql());
        if self.identity {
            sql.push_str(" GENERATED BY DEFAULT AS IDENTITY");
        }
        if self.not_null {
            sql.push_str(" NOT NULL");
        }
        if let Some(default) = &self.default {
            sql.push_str(" DEFAULT ");
            sql.push_str(&default.to_sql());
        }
        if self.primary_key {
            sql.push_str(" PRIMARY KEY");
        }
        if self.unique {
            sql.push_str(" UNIQUE");
        }
        if let Some(r) = &self.references {
            sql.push_str(&format!(" REFERENCES {} ({})", quote_qualified(&r.table), quote_ident(&r.column)));
            if let Some(a) = r.on_delete {
                sql.push_str(" ON DELETE ");
                sql.push_str(a.to_sql());
            }
            if let Some(a) = r.on_update {
                sql.push_str(" ON UPDATE ");
                sql.push_str(a.to_sql());
            }
        }
        sql
    }
}

/// The table of [`Op::create_table`]: its columns in the order of [`Table::column`]'s calls,
/// then its table constraints in the order of theirs. Comments follow the `CREATE TABLE` as
/// statements of their own, the table's first.
///
/// ```
/// use migrate_core::op::{Op, Type};
///
/// let mut op = Op::new();
/// op.create_table("lead_scores", |t| {
///     t.column("person_id", Type::BigInt).not_null().comment("Who is scored");
///     t.column("campaign_id", Type::BigInt).not_null();
///     t.column("score", Type::Integer).not_null();
///     t.primary_key(&["person_id", "campaign_id"]);
///     t.check("ck_lead_scores_score", "score BETWEEN 0 AND 100");
///     t.comment("Marketing's score per person and campaign");
/// });
/// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [
///     r#"CREATE TABLE "lead_scores" (
///     "person_id" bigint NOT NULL,
///     "campaign_id" bigint NOT NULL,
///     "score" integer NOT NULL,
///     PRIMARY KEY ("person_id", "campaign_id"),
///     CONSTRAINT "ck_lead_scores_score" CHECK (score BETWEEN 0 AND 100)
/// )"#,
///     r#"COMMENT ON TABLE "lead_scores" IS 'Marketing''s score per person and campaign'"#,
///     r#"COMMENT ON COLUMN "lead_scores"."person_id" IS 'Who is scored'"#,
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    name: String,
    if_not_exists: bool,
    columns: Vec<Column>,
    constraints: Vec<String>,
    comment: Option<String>,
}

impl Table {
    /// Adds a column, and returns it for its options ([`Column`]).
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("tags", |t| {
    ///     t.column("id", Type::Integer).identity().primary_key();
    ///     t.column("label", Type::Varchar(40)).not_null();
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TABLE "tags" (
    ///     "id" integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    ///     "label" varchar(40) NOT NULL
    /// )"#]);
    /// ```
    pub fn column(&mut self, name: &str, ty: Type) -> &mut Column {
        self.columns.push(Column::new(name, ty));
        let last = self.columns.len() - 1;
        &mut self.columns[last]
    }

    /// `PRIMARY KEY (columns)`: a primary key over several columns (over one:
    /// [`Column::primary_key`]).
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("people_tags", |t| {
    ///     t.column("person_id", Type::BigInt).references("people", "id");
    ///     t.column("tag_id", Type::Integer).references("tags", "id");
    ///     t.primary_key(&["person_id", "tag_id"]);
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TABLE "people_tags" (
    ///     "person_id" bigint REFERENCES "people" ("id"),
    ///     "tag_id" integer REFERENCES "tags" ("id"),
    ///     PRIMARY KEY ("person_id", "tag_id")
    /// )"#]);
    /// ```
    pub fn primary_key(&mut self, columns: &[&str]) -> &mut Self {
        self.constraints.push(format!("PRIMARY KEY ({})", idents(columns)));
        self
    }

    /// `CONSTRAINT name UNIQUE (columns)`: a named unique constraint over one column or several.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("email_campaigns", |t| {
    ///     t.column("name", Type::Text).not_null();
    ///     t.unique("uq_email_campaign_name", &["name"]);
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TABLE "email_campaigns" (
    ///     "name" text NOT NULL,
    ///     CONSTRAINT "uq_email_campaign_name" UNIQUE ("name")
    /// )"#]);
    /// ```
    pub fn unique(&mut self, name: &str, columns: &[&str]) -> &mut Self {
        self.constraints.push(format!("CONSTRAINT {} UNIQUE ({})", quote_ident(name), idents(columns)));
        self
    }

    /// `CONSTRAINT name CHECK (condition)`: a named check constraint; `condition` is SQL, written as
    /// given.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("lead_scores", |t| {
    ///     t.column("score", Type::Integer).not_null();
    ///     t.check("ck_lead_scores_score", "score >= 0");
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TABLE "lead_scores" (
    ///     "score" integer NOT NULL,
    ///     CONSTRAINT "ck_lead_scores_score" CHECK (score >= 0)
    /// )"#]);
    /// ```
    pub fn check(&mut self, name: &str, condition: &str) -> &mut Self {
        self.constraints.push(format!("CONSTRAINT {} CHECK ({condition})", quote_ident(name)));
        self
    }

    /// `COMMENT ON TABLE …`: a statement after the `CREATE TABLE`.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("tags", |t| {
    ///     t.column("label", Type::Text);
    ///     t.comment("Free labels sales put on people");
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     "CREATE TABLE \"tags\" (\n    \"label\" text\n)",
    ///     r#"COMMENT ON TABLE "tags" IS 'Free labels sales put on people'"#,
    /// ]);
    /// ```
    pub fn comment(&mut self, text: &str) -> &mut Self {
        self.comment = Some(text.to_owned());
        self
    }

    /// `CREATE TABLE IF NOT EXISTS`: PostgreSQL skips the statement, with a notice, when a
    /// relation of that name exists (whatever its columns). Also callable on what [`Op::create_table`] returns.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("tags", |t| {
    ///     t.column("label", Type::Text);
    /// })
    /// .if_not_exists();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, ["CREATE TABLE IF NOT EXISTS \"tags\" (\n    \"label\" text\n)"]);
    /// ```
    pub fn if_not_exists(&mut self) -> &mut Self {
        self.if_not_exists = true;
        self
    }
}

/// An index of [`Op::create_index`]: `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] name
/// ON table [USING method] (columns) [WHERE predicate]`. The columns are names, quoted; an index
/// on expressions, with `INCLUDE` or with a sort order is written with [`Op::execute`].
///
/// ```
/// use migrate_core::op::Op;
///
/// let mut op = Op::new();
/// op.create_index("uq_people_email_active", "people", &["email"])
///     .unique()
///     .concurrently()
///     .if_not_exists()
///     .using("btree")
///     .where_sql("deleted_at IS NULL");
/// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [
///     r#"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "uq_people_email_active" ON "people" USING "btree" ("email") WHERE deleted_at IS NULL"#,
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    name: String,
    table: String,
    columns: Vec<String>,
    unique: bool,
    concurrently: bool,
    if_not_exists: bool,
    method: Option<String>,
    predicate: Option<String>,
}

impl Index {
    /// `CREATE UNIQUE INDEX`: rows may not share the indexed values (rows with a `NULL` among them
    /// do not count).
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_index("uq_users_email", "users", &["email"]).unique();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE UNIQUE INDEX "uq_users_email" ON "users" ("email")"#]);
    /// ```
    pub fn unique(&mut self) -> &mut Self {
        self.unique = true;
        self
    }

    /// `CONCURRENTLY`: builds the index without blocking writes to the table. The migration then
    /// runs outside a transaction (see [the module](self#transactions)); a build that failed leaves
    /// an INVALID index, which the runtime drops before building it again.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_index("idx_interactions_person", "interactions", &["person_id"]).concurrently();
    /// let statements = op.statements();
    /// assert_eq!(statements[0].sql, r#"CREATE INDEX CONCURRENTLY "idx_interactions_person" ON "interactions" ("person_id")"#);
    /// assert!(statements[0].no_transaction().is_some());
    /// ```
    pub fn concurrently(&mut self) -> &mut Self {
        self.concurrently = true;
        self
    }

    /// `IF NOT EXISTS`: PostgreSQL skips the statement, with a notice, when a relation of that name
    /// exists (whatever its definition).
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_index("idx_interactions_person", "interactions", &["person_id"]).if_not_exists();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE INDEX IF NOT EXISTS "idx_interactions_person" ON "interactions" ("person_id")"#]);
    /// ```
    pub fn if_not_exists(&mut self) -> &mut Self {
        self.if_not_exists = true;
        self
    }

    /// `USING method`: the index type (`btree`, PostgreSQL's default, `hash`, `gin`, `gist`,
    /// `brin`, or an extension's such as `hnsw`), quoted as an identifier.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_index("idx_interactions_tags", "interactions", &["tags"]).using("gin");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE INDEX "idx_interactions_tags" ON "interactions" USING "gin" ("tags")"#]);
    /// ```
    pub fn using(&mut self, method: &str) -> &mut Self {
        self.method = Some(method.to_owned());
        self
    }

    /// `WHERE predicate`: a partial index, over the rows the predicate holds for; the predicate is
    /// SQL, written as given.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_index("idx_interactions_open", "interactions", &["assignee_id"])
    ///     .where_sql("completed_at IS NULL");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"CREATE INDEX "idx_interactions_open" ON "interactions" ("assignee_id") WHERE completed_at IS NULL"#,
    /// ]);
    /// ```
    pub fn where_sql(&mut self, predicate: &str) -> &mut Self {
        self.predicate = Some(predicate.to_owned());
        self
    }
}

/// A change of column of [`Op::alter_column`]. Each setter adds one clause; the clauses make one
/// `ALTER TABLE` statement, in the order of the calls, and a rename follows as a statement of
/// its own. With no setter called, nothing is rendered.
///
/// ```
/// use migrate_core::op::{Op, Type};
///
/// let mut op = Op::new();
/// op.alter_column("lead_scores", "score").set_type(Type::BigInt).set_default(0).set_not_null().rename_to("points");
/// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [
///     r#"ALTER TABLE "lead_scores" ALTER COLUMN "score" TYPE bigint, ALTER COLUMN "score" SET DEFAULT 0, ALTER COLUMN "score" SET NOT NULL"#,
///     r#"ALTER TABLE "lead_scores" RENAME COLUMN "score" TO "points""#,
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AlterColumn {
    table: String,
    column: String,
    clauses: Vec<String>,
    not_null_through_check: bool,
    rename: Option<String>,
}

impl AlterColumn {
    /// `TYPE …`: changes the column's type, converting its values by PostgreSQL's implicit or
    /// assignment cast (which rewrites the table unless the change is binary-compatible, such as
    /// widening a `varchar`); when there is none, [`AlterColumn::set_type_using`].
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.alter_column("interactions", "status").set_type(Type::Varchar(100));
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "interactions" ALTER COLUMN "status" TYPE varchar(100)"#]);
    /// ```
    pub fn set_type(&mut self, ty: Type) -> &mut Self {
        self.clauses.push(format!("TYPE {}", ty.to_sql()));
        self
    }

    /// `TYPE … USING expression`: changes the column's type, computing each new value with the
    /// expression, which is SQL written as given.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.alter_column("interactions", "status")
    ///     .set_type_using(Type::Named("interaction_status"), "status::interaction_status");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" ALTER COLUMN "status" TYPE "interaction_status" USING status::interaction_status"#,
    /// ]);
    /// ```
    pub fn set_type_using(&mut self, ty: Type, using: &str) -> &mut Self {
        self.clauses.push(format!("TYPE {} USING {using}", ty.to_sql()));
        self
    }

    /// `SET NOT NULL`: fails while a row holds `NULL` there, so fill those rows first (the guide's
    /// data migration: [`Op::execute`] an `UPDATE`, then this).
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.execute("UPDATE interactions SET status = 'pending' WHERE status IS NULL");
    /// op.alter_column("interactions", "status").set_not_null();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     "UPDATE interactions SET status = 'pending' WHERE status IS NULL",
    ///     r#"ALTER TABLE "interactions" ALTER COLUMN "status" SET NOT NULL"#,
    /// ]);
    /// ```
    pub fn set_not_null(&mut self) -> &mut Self {
        self.clauses.push("SET NOT NULL".into());
        self
    }

    /// `SET NOT NULL` without holding, while the table is scanned, the lock that blocks reads and
    /// writes: through a helper `CHECK ("column" IS NOT NULL)`, added `NOT VALID` and validated
    /// (a scan under a lock that lets reads and writes go on), which `SET NOT NULL` then takes as
    /// proof instead of scanning (PostgreSQL 12 and later). Five statements, after the other
    /// clauses and before a rename:
    ///
    /// 1. `ALTER TABLE table DROP CONSTRAINT IF EXISTS "<table>_<column>_not_null_check"`, so that a run
    ///    again after a failure starts clean;
    /// 2. `ALTER TABLE table ADD CONSTRAINT "<table>_<column>_not_null_check" CHECK ("column" IS NOT NULL) NOT VALID`;
    /// 3. `ALTER TABLE table VALIDATE CONSTRAINT "<table>_<column>_not_null_check"`, which fails while a
    ///    row holds `NULL` there;
    /// 4. `ALTER TABLE table ALTER COLUMN "column" SET NOT NULL`;
    /// 5. `ALTER TABLE table DROP CONSTRAINT "<table>_<column>_not_null_check"`.
    ///
    /// The helper's name is the table's (without its schema) and the column's; one longer than
    /// PostgreSQL's 63 bytes is cut, with 8 hexadecimal digits of a hash of the whole so that it
    /// stays distinct. Each statement must commit on its own, or the lock of the `ADD CONSTRAINT`
    /// would last through the validation: the migration runs outside a transaction (see
    /// [the module](self#transactions)), and is best alone in it. Named for how it works, as
    /// its SQL shows it, rather than for a promise such as "online": `SET NOT NULL` itself still
    /// takes its lock for a moment.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.alter_column("interactions", "status").set_not_null_through_check();
    /// let statements = op.statements();
    /// let rendered: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" DROP CONSTRAINT IF EXISTS "interactions_status_not_null_check""#,
    ///     r#"ALTER TABLE "interactions" ADD CONSTRAINT "interactions_status_not_null_check" CHECK ("status" IS NOT NULL) NOT VALID"#,
    ///     r#"ALTER TABLE "interactions" VALIDATE CONSTRAINT "interactions_status_not_null_check""#,
    ///     r#"ALTER TABLE "interactions" ALTER COLUMN "status" SET NOT NULL"#,
    ///     r#"ALTER TABLE "interactions" DROP CONSTRAINT "interactions_status_not_null_check""#,
    /// ]);
    /// assert!(statements.iter().all(|s| s.no_transaction().is_some()));
    /// ```
    pub fn set_not_null_through_check(&mut self) -> &mut Self {
        self.not_null_through_check = true;
        self
    }

    /// `DROP NOT NULL`: the column accepts `NULL` again.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.alter_column("interactions", "status").drop_not_null();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "interactions" ALTER COLUMN "status" DROP NOT NULL"#]);
    /// ```
    pub fn drop_not_null(&mut self) -> &mut Self {
        self.clauses.push("DROP NOT NULL".into());
        self
    }

    /// `SET DEFAULT …`: a literal or an SQL expression ([`sql`]), as for
    /// [`Column::server_default`]. Rows already there keep their values.
    ///
    /// ```
    /// use migrate_core::op::{Op, sql};
    ///
    /// let mut op = Op::new();
    /// op.alter_column("interactions", "status").set_default("pending");
    /// op.alter_column("interactions", "created_at").set_default(sql("now()"));
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" ALTER COLUMN "status" SET DEFAULT 'pending'"#,
    ///     r#"ALTER TABLE "interactions" ALTER COLUMN "created_at" SET DEFAULT now()"#,
    /// ]);
    /// ```
    pub fn set_default(&mut self, value: impl Into<Value>) -> &mut Self {
        self.clauses.push(format!("SET DEFAULT {}", value.into().to_sql()));
        self
    }

    /// `DROP DEFAULT`.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.alter_column("interactions", "status").drop_default();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "interactions" ALTER COLUMN "status" DROP DEFAULT"#]);
    /// ```
    pub fn drop_default(&mut self) -> &mut Self {
        self.clauses.push("DROP DEFAULT".into());
        self
    }

    /// `RENAME COLUMN … TO name`, as a statement after the other changes (alone:
    /// [`Op::rename_column`]).
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.alter_column("interactions", "body").drop_not_null().rename_to("description");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" ALTER COLUMN "body" DROP NOT NULL"#,
    ///     r#"ALTER TABLE "interactions" RENAME COLUMN "body" TO "description""#,
    /// ]);
    /// ```
    pub fn rename_to(&mut self, name: &str) -> &mut Self {
        self.rename = Some(name.to_owned());
        self
    }
}

/// A foreign key of [`Op::create_foreign_key`]: `ALTER TABLE table ADD CONSTRAINT name FOREIGN
/// KEY (columns) REFERENCES referred_table (referred_columns) [ON DELETE …] [ON UPDATE …]
/// [NOT VALID]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    name: String,
    table: String,
    columns: Vec<String>,
    referred_table: String,
    referred_columns: Vec<String>,
    on_delete: Option<Action>,
    on_update: Option<Action>,
    not_valid: bool,
}

impl ForeignKey {
    /// `ON DELETE …`: what a delete of the referenced row does to the referencing rows.
    ///
    /// ```
    /// use migrate_core::op::{Action, Op};
    ///
    /// let mut op = Op::new();
    /// op.create_foreign_key("fk_interaction_assignee", "interactions", "users", &["assignee_id"], &["id"])
    ///     .on_delete(Action::SetNull);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" ADD CONSTRAINT "fk_interaction_assignee" FOREIGN KEY ("assignee_id") REFERENCES "users" ("id") ON DELETE SET NULL"#,
    /// ]);
    /// ```
    pub fn on_delete(&mut self, action: Action) -> &mut Self {
        self.on_delete = Some(action);
        self
    }

    /// `ON UPDATE …`: what a change of the referenced key does to the referencing rows.
    ///
    /// ```
    /// use migrate_core::op::{Action, Op};
    ///
    /// let mut op = Op::new();
    /// op.create_foreign_key("fk_interaction_assignee", "interactions", "users", &["assignee_id"], &["id"])
    ///     .on_update(Action::Cascade);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" ADD CONSTRAINT "fk_interaction_assignee" FOREIGN KEY ("assignee_id") REFERENCES "users" ("id") ON UPDATE CASCADE"#,
    /// ]);
    /// ```
    pub fn on_update(&mut self, action: Action) -> &mut Self {
        self.on_update = Some(action);
        self
    }

    /// `NOT VALID`: new and updated rows are checked at once, existing rows only by a later
    /// [`Op::validate_constraint`], which takes a weaker lock; so a large table is not locked
    /// against writes while all of it is scanned.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_foreign_key("fk_interaction_assignee", "interactions", "users", &["assignee_id"], &["id"])
    ///     .not_valid();
    /// op.validate_constraint("interactions", "fk_interaction_assignee");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" ADD CONSTRAINT "fk_interaction_assignee" FOREIGN KEY ("assignee_id") REFERENCES "users" ("id") NOT VALID"#,
    ///     r#"ALTER TABLE "interactions" VALIDATE CONSTRAINT "fk_interaction_assignee""#,
    /// ]);
    /// ```
    pub fn not_valid(&mut self) -> &mut Self {
        self.not_valid = true;
        self
    }
}

/// A check constraint of [`Op::create_check_constraint`]: `ALTER TABLE table ADD CONSTRAINT name
/// CHECK (condition) [NOT VALID]`, the condition written as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    name: String,
    table: String,
    condition: String,
    not_valid: bool,
}

impl Check {
    /// `NOT VALID`: new and updated rows are checked at once, existing rows only by a later
    /// [`Op::validate_constraint`]. Adding the constraint then takes its `ACCESS EXCLUSIVE` lock
    /// only for a moment instead of for a scan of the table; the validation scans under a lock
    /// that lets reads and writes go on. So that this lock is all the scan holds, the validation
    /// belongs in a migration of its own, or in one outside a transaction (in the same transaction
    /// as the `ADD CONSTRAINT`, the strong lock lasts until the end, scan included).
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_check_constraint("ck_lead_scores_score", "lead_scores", "score >= 0").not_valid();
    /// op.validate_constraint("lead_scores", "ck_lead_scores_score");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "lead_scores" ADD CONSTRAINT "ck_lead_scores_score" CHECK (score >= 0) NOT VALID"#,
    ///     r#"ALTER TABLE "lead_scores" VALIDATE CONSTRAINT "ck_lead_scores_score""#,
    /// ]);
    /// ```
    pub fn not_valid(&mut self) -> &mut Self {
        self.not_valid = true;
        self
    }
}

/// A unique constraint of [`Op::create_unique_constraint`] or a primary key of
/// [`Op::create_primary_key`]: `ALTER TABLE table ADD CONSTRAINT name UNIQUE (columns)` (or
/// `PRIMARY KEY (columns)`), which builds its index under a lock that blocks writes; or, with
/// [`Key::concurrently`], the index built first without blocking them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    name: String,
    table: String,
    columns: Vec<String>,
    primary: bool,
    concurrently: bool,
}

impl Key {
    /// Builds the constraint's index without blocking writes, then makes it the constraint: two
    /// statements, `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS name ON table (columns)` and
    /// `ALTER TABLE table ADD CONSTRAINT name UNIQUE USING INDEX name` (`PRIMARY KEY USING INDEX`
    /// for a primary key), the second taking its lock only for a moment. The index has the
    /// constraint's name, a single identifier in the table's schema.
    ///
    /// The migration then runs outside a transaction (see [the module](self#transactions)). Over
    /// duplicate rows the build fails and leaves an INVALID index, which the runtime drops before
    /// the next run builds it again (`IF NOT EXISTS` keeps a valid index a failed run left, so the
    /// run goes on to the `ADD CONSTRAINT`).
    ///
    /// For a primary key, `PRIMARY KEY USING INDEX` runs `SET NOT NULL` on the columns that are
    /// nullable, which scans the table under a lock that blocks reads and writes: make them
    /// `NOT NULL` first, without that lock, by [`AlterColumn::set_not_null_through_check`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_unique_constraint("uq_people_email", "people", &["email"]).concurrently();
    /// op.create_primary_key("people_pkey", "people", &["id"]).concurrently();
    /// let statements = op.statements();
    /// let rendered: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
    /// assert_eq!(rendered, [
    ///     r#"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "uq_people_email" ON "people" ("email")"#,
    ///     r#"ALTER TABLE "people" ADD CONSTRAINT "uq_people_email" UNIQUE USING INDEX "uq_people_email""#,
    ///     r#"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "people_pkey" ON "people" ("id")"#,
    ///     r#"ALTER TABLE "people" ADD CONSTRAINT "people_pkey" PRIMARY KEY USING INDEX "people_pkey""#,
    /// ]);
    /// assert!(statements[0].no_transaction().is_some());
    /// ```
    pub fn concurrently(&mut self) -> &mut Self {
        self.concurrently = true;
        self
    }
}

/// The batch size of a [`Backfill`] unless [`Backfill::batch_size`] says otherwise.
const BACKFILL_BATCH: u32 = 10_000;

/// An `UPDATE` in batches of [`Op::backfill`], each committing on its own: one `DO` block that
/// updates at most [`Backfill::batch_size`] rows matching the condition, commits, and starts
/// again until no row matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backfill {
    table: String,
    set: String,
    condition: String,
    batch_size: u32,
}

impl Backfill {
    /// How many rows each batch updates, and so how many rows' locks a batch holds and how much
    /// one transaction writes; 10 000 unless set, at least 1.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.backfill("interactions", "status = 'pending'", "status IS NULL").batch_size(500);
    /// assert!(op.statements()[0].sql.contains("WHERE (status IS NULL) LIMIT 500"));
    /// ```
    pub fn batch_size(&mut self, rows: u32) -> &mut Self {
        self.batch_size = rows.max(1);
        self
    }

    /// A dollar-quote tag that occurs in none of the SQL given, so it cannot end the body early.
    fn tag(&self) -> String {
        let mut tag = "$backfill$".to_owned();
        let mut n = 0;
        while self.set.contains(&tag) || self.condition.contains(&tag) {
            n += 1;
            tag = format!("$backfill_{n}$");
        }
        tag
    }

    fn to_sql(&self) -> String {
        let table = quote_qualified(&self.table);
        let tag = self.tag();
        format!(
            "DO {tag}\nBEGIN\n    LOOP\n        UPDATE {table} SET {} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {table} WHERE ({}) LIMIT {}));\n        EXIT WHEN NOT FOUND;\n        COMMIT;\n    END LOOP;\nEND\n{tag}",
            self.set, self.condition, self.batch_size
        )
    }
}

/// The name of the helper `CHECK` of [`AlterColumn::set_not_null_through_check`]:
/// `<table>_<column>_not_null_check`, the table without its schema (not `…_not_null`, the
/// name PostgreSQL 18 gives a NOT NULL constraint of its own); when that exceeds PostgreSQL's 63
/// bytes, `<table>_<column>` is cut to fit and followed by 8 hexadecimal digits of its SHA-256,
/// so that two long names cut alike still differ.
fn not_null_check_name(table: &str, column: &str) -> String {
    const MAX: usize = 63;
    const SUFFIX: &str = "_not_null_check";
    let table = table.rsplit('.').next().unwrap_or(table);
    let base = format!("{table}_{column}");
    if base.len() + SUFFIX.len() <= MAX {
        return format!("{base}{SUFFIX}");
    }
    let digest = <sha2::Sha256 as sha2::Digest>::digest(base.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let mut cut = MAX - SUFFIX.len() - 1 - hash.len();
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}{SUFFIX}", &base[..cut])
}

/// A value added to an enum by [`Op::add_enum_value`]: `ALTER TYPE name ADD VALUE [IF NOT
/// EXISTS] 'value' [BEFORE | AFTER 'other']`, last in the type's order unless placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumValue {
    enum_name: String,
    value: String,
    if_not_exists: bool,
    position: Option<(bool, String)>,
}

impl EnumValue {
    /// `IF NOT EXISTS`: PostgreSQL skips the statement, with a notice, when the type has the value;
    /// so the step can run again after an interruption.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.add_enum_value("interaction_type", "linkedin_message").if_not_exists();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TYPE "interaction_type" ADD VALUE IF NOT EXISTS 'linkedin_message'"#]);
    /// ```
    pub fn if_not_exists(&mut self) -> &mut Self {
        self.if_not_exists = true;
        self
    }

    /// `BEFORE value`: places the new value just before an existing one in the type's order (the
    /// order `<` and `ORDER BY` use). Replaces an earlier [`EnumValue::after`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.add_enum_value("interaction_type", "video_call").before("meeting");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TYPE "interaction_type" ADD VALUE 'video_call' BEFORE 'meeting'"#]);
    /// ```
    pub fn before(&mut self, value: &str) -> &mut Self {
        self.position = Some((true, value.to_owned()));
        self
    }

    /// `AFTER value`: places the new value just after an existing one in the type's order.
    /// Replaces an earlier [`EnumValue::before`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.add_enum_value("interaction_type", "video_call").after("call");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TYPE "interaction_type" ADD VALUE 'video_call' AFTER 'call'"#]);
    /// ```
    pub fn after(&mut self, value: &str) -> &mut Self {
        self.position = Some((false, value.to_owned()));
        self
    }
}

/// A `DROP` of a table, an index, an enum, a column or a constraint, by [`Op::drop_table`],
/// [`Op::drop_index`], [`Op::drop_enum`], [`Op::drop_column`] or [`Op::drop_constraint`].
/// Without [`DropObject::cascade`], PostgreSQL refuses to drop what other objects depend on
/// (`RESTRICT`, its default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropObject {
    kind: DropKind,
    if_exists: bool,
    cascade: bool,
    concurrently: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum DropKind {
    Table(String),
    Index(String),
    Enum(String),
    Column { table: String, column: String },
    Constraint { table: String, name: String },
}

impl DropObject {
    fn new(kind: DropKind) -> DropObject {
        DropObject { kind, if_exists: false, cascade: false, concurrently: false }
    }

    /// `IF EXISTS`: PostgreSQL skips the statement, with a notice, when there is nothing to drop.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.drop_table("lead_scores").if_exists();
    /// op.drop_column("interactions", "ai_summary").if_exists();
    /// op.drop_constraint("email_campaigns", "uq_email_campaign_name").if_exists();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"DROP TABLE IF EXISTS "lead_scores""#,
    ///     r#"ALTER TABLE "interactions" DROP COLUMN IF EXISTS "ai_summary""#,
    ///     r#"ALTER TABLE "email_campaigns" DROP CONSTRAINT IF EXISTS "uq_email_campaign_name""#,
    /// ]);
    /// ```
    pub fn if_exists(&mut self) -> &mut Self {
        self.if_exists = true;
        self
    }

    /// `CASCADE`: drops what depends on the object too (views, foreign keys, columns of the enum's
    /// type…), which the catalog alone knows: prefer dropping them by name first.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.drop_enum("interaction_type").cascade();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"DROP TYPE "interaction_type" CASCADE"#]);
    /// ```
    pub fn cascade(&mut self) -> &mut Self {
        self.cascade = true;
        self
    }

    /// `CONCURRENTLY`, for an index only (elsewhere it does nothing): drops the index without
    /// blocking queries on its table. The migration then runs outside a transaction (see
    /// [the module](self#transactions)); PostgreSQL refuses it with [`DropObject::cascade`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.drop_index("idx_interactions_person").concurrently().if_exists();
    /// let statements = op.statements();
    /// assert_eq!(statements[0].sql, r#"DROP INDEX CONCURRENTLY IF EXISTS "idx_interactions_person""#);
    /// assert!(statements[0].no_transaction().is_some());
    /// ```
    pub fn concurrently(&mut self) -> &mut Self {
        self.concurrently = true;
        self
    }
}

/// One recorded operation, as [`Op::operations`] lists them. The variants hold the arguments
/// as given; the SQL is rendered by [`Op::statements`].
///
/// ```
/// use migrate_core::op::{Op, Operation};
///
/// let mut op = Op::new();
/// op.rename_table("leads", "lead_scores");
/// op.validate_constraint("interactions", "fk_interaction_assignee");
/// assert_eq!(op.operations(), [
///     Operation::RenameTable { from: "leads".into(), to: "lead_scores".into() },
///     Operation::ValidateConstraint { table: "interactions".into(), name: "fk_interaction_assignee".into() },
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    /// `CREATE TABLE`.
    CreateTable(Table),
    /// `ALTER TABLE … RENAME TO`.
    RenameTable {
        /// The current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ALTER TABLE … ADD COLUMN`.
    AddColumn {
        /// The table.
        table: String,
        /// The column.
        column: Column,
    },
    /// `ALTER TABLE … ALTER COLUMN`.
    AlterColumn(AlterColumn),
    /// `CREATE INDEX`.
    CreateIndex(Index),
    /// `ALTER TABLE … ADD CONSTRAINT … CHECK`.
    CreateCheck(Check),
    /// `ALTER TABLE … ADD CONSTRAINT … UNIQUE / PRIMARY KEY`, its index built first when
    /// [`Key::concurrently`].
    CreateKey(Key),
    /// `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY`.
    CreateForeignKey(ForeignKey),
    /// `ALTER TABLE … VALIDATE CONSTRAINT`.
    ValidateConstraint {
        /// The table.
        table: String,
        /// The constraint.
        name: String,
    },
    /// `CREATE TYPE … AS ENUM`.
    CreateEnum {
        /// The type's name.
        name: String,
        /// Its values, in order.
        values: Vec<String>,
    },
    /// `ALTER TYPE … ADD VALUE`.
    AddEnumValue(EnumValue),
    /// `COMMENT ON TABLE` / `COMMENT ON COLUMN`.
    Comment {
        /// The table.
        table: String,
        /// The column, for a column comment.
        column: Option<String>,
        /// The comment, or `None` to remove it.
        text: Option<String>,
    },
    /// A `DROP`.
    Drop(DropObject),
    /// `INSERT` of literal rows.
    BulkInsert {
        /// The table.
        table: String,
        /// The columns.
        columns: Vec<String>,
        /// The rows, one value per column.
        rows: Vec<Vec<Value>>,
    },
    /// An `UPDATE` in batches, each committing on its own.
    Backfill(Backfill),
    /// SQL written as given.
    Execute(String),
    /// The change cannot be undone.
    Irreversible(String),
}

/// One SQL statement of a migration, with the operation it comes from (which a failure's error
/// names).
///
/// ```
/// use migrate_core::op::{Op, Type};
///
/// let mut op = Op::new();
/// op.add_column("interactions", "ai_summary", Type::Text).comment("AI summary");
/// let statements = op.statements();
/// assert_eq!(statements.len(), 2);
/// assert_eq!(statements[1].sql, r#"COMMENT ON COLUMN "interactions"."ai_summary" IS 'AI summary'"#);
/// assert_eq!(statements[1].op, r#"add_column("interactions")"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The SQL, without a terminating semicolon.
    pub sql: String,
    /// The operation it comes from, as written: `create_table("lead_scores")`.
    pub op: String,
}

impl Statement {
    /// Why PostgreSQL refuses it inside a transaction block (or, for an enum value, why it must
    /// commit before it is used), if it does. Worked out on demand from the SQL: a run that only
    /// checks checksums never needs it.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_index("idx_people_email", "people", &["email"]).concurrently();
    /// op.execute("VACUUM people; ANALYZE people");
    /// let reasons: Vec<Option<&str>> = op.statements().iter().map(|s| s.no_transaction()).collect();
    /// assert_eq!(reasons, [
    ///     Some("CREATE INDEX CONCURRENTLY cannot run inside a transaction block"),
    ///     Some("VACUUM cannot run inside a transaction block"),
    ///     None,
    /// ]);
    /// ```
    ///
    /// The statements of [`AlterColumn::set_not_null_through_check`] are accepted in a
    /// transaction block, but must each commit on their own: they are marked by the call they
    /// come from, which [`Statement::op`] names (`alter_column("t").set_not_null_through_check()`).
    /// Both the SQL and the calls are judged by [`crate::sql`] alone: [`no_transaction_reason`]
    /// and [`no_transaction_call`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.alter_column("people", "email").set_not_null_through_check();
    /// let statements = op.statements();
    /// assert_eq!(statements[3].sql, r#"ALTER TABLE "people" ALTER COLUMN "email" SET NOT NULL"#);
    /// assert_eq!(statements[3].op, r#"alter_column("people").set_not_null_through_check()"#);
    /// assert!(statements[3].no_transaction().is_some());
    /// ```
    pub fn no_transaction(&self) -> Option<&'static str> {
        no_transaction_reason(&self.sql).or_else(|| {
            // A call chained on the operation: `alter_column("t").set_not_null_through_check()`.
            // A described argument ends with its closing quote, so it never reads as one.
            let (_, chained) = self.op.rsplit_once(").")?;
            no_transaction_call(chained.strip_suffix("()")?)
        })
    }
}

/// The recorder a migration's functions receive: `pub fn upgrade(op: &mut Op)`. Each method
/// records one operation, in order; those that take options return a builder for them
/// ([`Table`], [`Column`], [`AlterColumn`], [`Index`], [`Key`], [`Check`], [`ForeignKey`],
/// [`EnumValue`], [`DropObject`], [`Backfill`]).
///
/// ```
/// use migrate_core::op::{Op, Type};
///
/// fn upgrade(op: &mut Op) {
///     op.create_enum("interaction_type", &["call", "email", "meeting"]);
///     op.add_column("interactions", "type", Type::Named("interaction_type")).not_null().server_default("call");
/// }
///
/// fn downgrade(op: &mut Op) {
///     op.drop_column("interactions", "type");
///     op.drop_enum("interaction_type");
/// }
///
/// let mut up = Op::new();
/// upgrade(&mut up);
/// let rendered: Vec<String> = up.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [
///     r#"CREATE TYPE "interaction_type" AS ENUM ('call', 'email', 'meeting')"#,
///     r#"ALTER TABLE "interactions" ADD COLUMN "type" "interaction_type" NOT NULL DEFAULT 'call'"#,
/// ]);
/// let mut down = Op::new();
/// downgrade(&mut down);
/// let rendered: Vec<String> = down.statements().into_iter().map(|s| s.sql).collect();
/// assert_eq!(rendered, [r#"ALTER TABLE "interactions" DROP COLUMN "type""#, r#"DROP TYPE "interaction_type""#]);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Op {
    operations: Vec<Operation>,
    lock_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
}

fn idents<S: AsRef<str>>(names: &[S]) -> String {
    names.iter().map(|n| quote_ident(n.as_ref())).collect::<Vec<_>>().join(", ")
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

macro_rules! last_as {
    ($self:ident, $variant:ident) => {
        match $self.operations.last_mut() {
            Some(Operation::$variant(inner)) => inner,
            _ => unreachable!("the operation was pushed just above"),
        }
    };
}

impl Op {
    /// An empty recorder: what the runtime passes to a migration's function.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let op = Op::new();
    /// assert!(op.is_empty());
    /// assert!(op.statements().is_empty());
    /// ```
    pub fn new() -> Op {
        Op::default()
    }

    /// The operations recorded, in order.
    ///
    /// ```
    /// use migrate_core::op::{Op, Operation};
    ///
    /// let mut op = Op::new();
    /// op.execute("UPDATE interactions SET status = 'done' WHERE completed_at IS NOT NULL");
    /// assert!(matches!(op.operations(), [Operation::Execute(sql)] if sql.starts_with("UPDATE")));
    /// ```
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// Whether nothing was recorded: the function did nothing ([`Op::irreversible`] counts as
    /// something).
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// assert!(op.is_empty());
    /// op.irreversible("PostgreSQL cannot drop an enum value");
    /// assert!(!op.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The reason given to [`Op::irreversible`], if it was called.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// assert_eq!(op.irreversible_reason(), None);
    /// op.irreversible("PostgreSQL cannot drop an enum value");
    /// assert_eq!(op.irreversible_reason(), Some("PostgreSQL cannot drop an enum value"));
    /// ```
    pub fn irreversible_reason(&self) -> Option<&str> {
        self.operations.iter().find_map(|o| match o {
            Operation::Irreversible(reason) => Some(reason.as_str()),
            _ => None,
        })
    }

    /// `CREATE TABLE name (…)`, its columns and constraints added by `build` ([`Table`]); then a
    /// `COMMENT` statement for each comment. Returns the table, for [`Table::if_not_exists`].
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("lead_scores", |t| {
    ///     t.column("id", Type::BigInt).identity().primary_key();
    ///     t.column("person_id", Type::BigInt).not_null().references("people", "id");
    ///     t.column("score", Type::Integer).not_null().server_default(0);
    ///     t.column("last_activity_at", Type::TimestampTz);
    /// });
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TABLE "lead_scores" (
    ///     "id" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    ///     "person_id" bigint NOT NULL REFERENCES "people" ("id"),
    ///     "score" integer NOT NULL DEFAULT 0,
    ///     "last_activity_at" timestamptz
    /// )"#]);
    /// ```
    pub fn create_table(&mut self, name: &str, build: impl FnOnce(&mut Table)) -> &mut Table {
        let mut build = Some(build);
        self.create_table_dyn(name, &mut |table| {
            if let Some(build) = build.take() {
                build(table);
            }
        })
    }

    /// The body of [`Op::create_table`], compiled once instead of once per migration: with
    /// a thousand migrations, the copies of a generic body cost a release build a sixth of
    /// its time.
    #[inline(never)]
    fn create_table_dyn(&mut self, name: &str, build: &mut dyn FnMut(&mut Table)) -> &mut Table {
        let mut table = Table {
            name: name.to_owned(),
            if_not_exists: false,
            columns: Vec::new(),
            constraints: Vec::new(),
            comment: None,
        };
        build(&mut table);
        self.operations.push(Operation::CreateTable(table));
        last_as!(self, CreateTable)
    }

    /// `DROP TABLE name`, with its indexes, constraints, triggers and comments; what other objects
    /// hold on it (a view, another table's foreign key) needs [`DropObject::cascade`]. Options on
    /// [`DropObject`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.drop_table("lead_scores");
    /// op.drop_table("crm.tags").if_exists().cascade();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"DROP TABLE "lead_scores""#, r#"DROP TABLE IF EXISTS "crm"."tags" CASCADE"#]);
    /// ```
    pub fn drop_table(&mut self, name: &str) -> &mut DropObject {
        self.drop(DropKind::Table(name.to_owned()))
    }

    /// `ALTER TABLE from RENAME TO to`. The new name is a single identifier (a table stays in its
    /// schema); indexes, constraints and sequences keep their names.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.rename_table("leads", "lead_scores");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "leads" RENAME TO "lead_scores""#]);
    /// ```
    pub fn rename_table(&mut self, from: &str, to: &str) {
        self.operations.push(Operation::RenameTable { from: from.to_owned(), to: to.to_owned() });
    }

    /// `ALTER TABLE table ADD COLUMN name type`, nullable and without default unless its
    /// [`Column`] options say otherwise; a comment follows as a statement of its own.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.add_column("interactions", "ai_summary", Type::Text);
    /// op.add_column("interactions", "status", Type::Varchar(50)).not_null().server_default("pending");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" ADD COLUMN "ai_summary" text"#,
    ///     r#"ALTER TABLE "interactions" ADD COLUMN "status" varchar(50) NOT NULL DEFAULT 'pending'"#,
    /// ]);
    /// ```
    pub fn add_column(&mut self, table: &str, name: &str, ty: Type) -> &mut Column {
        self.operations.push(Operation::AddColumn { table: table.to_owned(), column: Column::new(name, ty) });
        match self.operations.last_mut() {
            Some(Operation::AddColumn { column, .. }) => column,
            _ => unreachable!("the operation was pushed just above"),
        }
    }

    /// `ALTER TABLE table DROP COLUMN name`, with the indexes and table constraints that involve
    /// it; what other objects hold on it (a view, another table's foreign key) needs
    /// [`DropObject::cascade`]. Options on [`DropObject`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.drop_column("interactions", "ai_summary");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "interactions" DROP COLUMN "ai_summary""#]);
    /// ```
    pub fn drop_column(&mut self, table: &str, name: &str) -> &mut DropObject {
        self.drop(DropKind::Column { table: table.to_owned(), column: name.to_owned() })
    }

    /// `ALTER TABLE table ALTER COLUMN name …`: type, nullability, default and name, by the
    /// setters of [`AlterColumn`] (one statement for the clauses, one for a rename).
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.alter_column("interactions", "status").set_not_null();
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "interactions" ALTER COLUMN "status" SET NOT NULL"#]);
    /// ```
    pub fn alter_column(&mut self, table: &str, name: &str) -> &mut AlterColumn {
        self.operations.push(Operation::AlterColumn(AlterColumn {
            table: table.to_owned(),
            column: name.to_owned(),
            clauses: Vec::new(),
            not_null_through_check: false,
            rename: None,
        }));
        last_as!(self, AlterColumn)
    }

    /// `ALTER TABLE table RENAME COLUMN from TO to`: the same as
    /// `alter_column(table, from).rename_to(to)`. Indexes and constraints follow the column; SQL
    /// that names it (views aside, which PostgreSQL updates) must change with it.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.rename_column("interactions", "body", "description");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "interactions" RENAME COLUMN "body" TO "description""#]);
    /// ```
    pub fn rename_column(&mut self, table: &str, from: &str, to: &str) {
        self.alter_column(table, from).rename_to(to);
    }

    /// `CREATE INDEX name ON table (columns)`; options on [`Index`]. The name is a single
    /// identifier: the index goes in its table's schema.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_index("idx_interactions_org_created", "interactions", &["organisation_id", "created_at"]);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"CREATE INDEX "idx_interactions_org_created" ON "interactions" ("organisation_id", "created_at")"#,
    /// ]);
    /// ```
    pub fn create_index(&mut self, name: &str, table: &str, columns: &[&str]) -> &mut Index {
        self.operations.push(Operation::CreateIndex(Index {
            name: name.to_owned(),
            table: table.to_owned(),
            columns: owned(columns),
            unique: false,
            concurrently: false,
            if_not_exists: false,
            method: None,
            predicate: None,
        }));
        last_as!(self, CreateIndex)
    }

    /// `DROP INDEX name` (schema-qualified when the index is not in the search path); options on
    /// [`DropObject`]. An index that backs a constraint goes with [`Op::drop_constraint`] instead.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.drop_index("idx_interactions_org_created");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"DROP INDEX "idx_interactions_org_created""#]);
    /// ```
    pub fn drop_index(&mut self, name: &str) -> &mut DropObject {
        self.drop(DropKind::Index(name.to_owned()))
    }

    /// `ALTER TABLE table ADD CONSTRAINT name UNIQUE (columns)`, which builds a unique index of the
    /// same name (holding a lock that blocks writes while it does; without it:
    /// [`Key::concurrently`]). Undone by [`Op::drop_constraint`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_unique_constraint("uq_email_campaign_name", "email_campaigns", &["name"]);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "email_campaigns" ADD CONSTRAINT "uq_email_campaign_name" UNIQUE ("name")"#,
    /// ]);
    /// ```
    pub fn create_unique_constraint(&mut self, name: &str, table: &str, columns: &[&str]) -> &mut Key {
        self.key(name, table, columns, false)
    }

    /// `ALTER TABLE table ADD CONSTRAINT name PRIMARY KEY (columns)`, for a table made without
    /// one: builds a unique index of the same name and makes the columns `NOT NULL`, under a lock
    /// that blocks reads and writes while it does (without it: [`Key::concurrently`]). Undone by
    /// [`Op::drop_constraint`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_primary_key("people_tags_pkey", "people_tags", &["person_id", "label"]);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "people_tags" ADD CONSTRAINT "people_tags_pkey" PRIMARY KEY ("person_id", "label")"#,
    /// ]);
    /// ```
    pub fn create_primary_key(&mut self, name: &str, table: &str, columns: &[&str]) -> &mut Key {
        self.key(name, table, columns, true)
    }

    fn key(&mut self, name: &str, table: &str, columns: &[&str], primary: bool) -> &mut Key {
        self.operations.push(Operation::CreateKey(Key {
            name: name.to_owned(),
            table: table.to_owned(),
            columns: owned(columns),
            primary,
            concurrently: false,
        }));
        last_as!(self, CreateKey)
    }

    /// `ALTER TABLE table ADD CONSTRAINT name CHECK (condition)`; `condition` is SQL, written as
    /// given. Options on [`Check`] ([`Check::not_valid`]). Undone by [`Op::drop_constraint`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_check_constraint("ck_lead_scores_score", "lead_scores", "score >= 0");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "lead_scores" ADD CONSTRAINT "ck_lead_scores_score" CHECK (score >= 0)"#]);
    /// ```
    pub fn create_check_constraint(&mut self, name: &str, table: &str, condition: &str) -> &mut Check {
        self.operations.push(Operation::CreateCheck(Check {
            name: name.to_owned(),
            table: table.to_owned(),
            condition: condition.to_owned(),
            not_valid: false,
        }));
        last_as!(self, CreateCheck)
    }

    /// `ALTER TABLE table ADD CONSTRAINT name FOREIGN KEY (columns) REFERENCES referred_table
    /// (referred_columns)`, in Alembic's argument order; options on [`ForeignKey`]. Undone by
    /// [`Op::drop_constraint`].
    ///
    /// ```
    /// use migrate_core::op::{Action, Op};
    ///
    /// let mut op = Op::new();
    /// op.create_foreign_key("fk_interaction_assignee", "interactions", "users", &["assignee_id"], &["id"])
    ///     .on_delete(Action::SetNull);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"ALTER TABLE "interactions" ADD CONSTRAINT "fk_interaction_assignee" FOREIGN KEY ("assignee_id") REFERENCES "users" ("id") ON DELETE SET NULL"#,
    /// ]);
    /// ```
    pub fn create_foreign_key(
        &mut self,
        name: &str,
        table: &str,
        referred_table: &str,
        columns: &[&str],
        referred_columns: &[&str],
    ) -> &mut ForeignKey {
        self.operations.push(Operation::CreateForeignKey(ForeignKey {
            name: name.to_owned(),
            table: table.to_owned(),
            columns: owned(columns),
            referred_table: referred_table.to_owned(),
            referred_columns: owned(referred_columns),
            on_delete: None,
            on_update: None,
            not_valid: false,
        }));
        last_as!(self, CreateForeignKey)
    }

    /// `ALTER TABLE table VALIDATE CONSTRAINT name`: checks the existing rows against a constraint
    /// added [`ForeignKey::not_valid`], without blocking writes.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.validate_constraint("interactions", "fk_interaction_assignee");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "interactions" VALIDATE CONSTRAINT "fk_interaction_assignee""#]);
    /// ```
    pub fn validate_constraint(&mut self, table: &str, name: &str) {
        self.operations
            .push(Operation::ValidateConstraint { table: table.to_owned(), name: name.to_owned() });
    }

    /// `ALTER TABLE table DROP CONSTRAINT name`: a unique, check, foreign key or primary key
    /// constraint, with the index that backs it; options on [`DropObject`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.drop_constraint("email_campaigns", "uq_email_campaign_name");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"ALTER TABLE "email_campaigns" DROP CONSTRAINT "uq_email_campaign_name""#]);
    /// ```
    pub fn drop_constraint(&mut self, table: &str, name: &str) -> &mut DropObject {
        self.drop(DropKind::Constraint { table: table.to_owned(), name: name.to_owned() })
    }

    /// `CREATE TYPE name AS ENUM (values)`, the values in their order; a column names the type with
    /// [`Type::Named`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.create_enum("interaction_type", &["call", "email", "meeting"]);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"CREATE TYPE "interaction_type" AS ENUM ('call', 'email', 'meeting')"#]);
    /// ```
    pub fn create_enum(&mut self, name: &str, values: &[&str]) {
        self.operations.push(Operation::CreateEnum { name: name.to_owned(), values: owned(values) });
    }

    /// `DROP TYPE name`, refused while a column uses it (drop the column first, or
    /// [`DropObject::cascade`]).
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.drop_enum("interaction_type");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [r#"DROP TYPE "interaction_type""#]);
    /// ```
    pub fn drop_enum(&mut self, name: &str) -> &mut DropObject {
        self.drop(DropKind::Enum(name.to_owned()))
    }

    /// `ALTER TYPE name ADD VALUE 'value'`; options on [`EnumValue`]. The migration then runs
    /// outside a transaction: PostgreSQL does not let a transaction use an enum value it added
    /// (and before version 12 refuses to add one in a transaction). PostgreSQL cannot drop an enum
    /// value either, so the downgrade is usually [`Op::irreversible`].
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.add_enum_value("interaction_type", "linkedin_message").if_not_exists();
    /// let statements = op.statements();
    /// assert_eq!(statements[0].sql, r#"ALTER TYPE "interaction_type" ADD VALUE IF NOT EXISTS 'linkedin_message'"#);
    /// assert!(statements[0].no_transaction().is_some());
    /// ```
    pub fn add_enum_value(&mut self, name: &str, value: &str) -> &mut EnumValue {
        self.operations.push(Operation::AddEnumValue(EnumValue {
            enum_name: name.to_owned(),
            value: value.to_owned(),
            if_not_exists: false,
            position: None,
        }));
        last_as!(self, AddEnumValue)
    }

    /// `COMMENT ON TABLE table IS …`; `None` removes the comment.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.comment_on_table("lead_scores", Some("Marketing's lead ranking"));
    /// op.comment_on_table("lead_scores", None);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"COMMENT ON TABLE "lead_scores" IS 'Marketing''s lead ranking'"#,
    ///     r#"COMMENT ON TABLE "lead_scores" IS NULL"#,
    /// ]);
    /// ```
    pub fn comment_on_table(&mut self, table: &str, text: Option<&str>) {
        self.operations.push(Operation::Comment {
            table: table.to_owned(),
            column: None,
            text: text.map(str::to_owned),
        });
    }

    /// `COMMENT ON COLUMN table.column IS …`; `None` removes the comment.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.comment_on_column("interactions", "ai_summary", Some("Generated by the summariser"));
    /// op.comment_on_column("interactions", "ai_summary", None);
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     r#"COMMENT ON COLUMN "interactions"."ai_summary" IS 'Generated by the summariser'"#,
    ///     r#"COMMENT ON COLUMN "interactions"."ai_summary" IS NULL"#,
    /// ]);
    /// ```
    pub fn comment_on_column(&mut self, table: &str, column: &str, text: Option<&str>) {
        self.operations.push(Operation::Comment {
            table: table.to_owned(),
            column: Some(column.to_owned()),
            text: text.map(str::to_owned),
        });
    }

    /// `INSERT INTO table (columns) VALUES …` of literal rows, one [`Value`] per column, in one
    /// statement; no rows, no statement. For reference data a migration owns, never secrets (the
    /// `hardcoded_secret` rule looks for them in every string literal).
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.bulk_insert("tags", &["label", "rank"], vec![vec!["vip".into(), 1.into()], vec!["cold".into(), None::<i64>.into()]]);
    /// op.bulk_insert("tags", &["label"], Vec::new());
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, ["INSERT INTO \"tags\" (\"label\", \"rank\") VALUES\n    ('vip', 1),\n    ('cold', NULL)"]);
    /// ```
    pub fn bulk_insert(&mut self, table: &str, columns: &[&str], rows: Vec<Vec<Value>>) {
        self.operations.push(Operation::BulkInsert {
            table: table.to_owned(),
            columns: owned(columns),
            rows,
        });
    }

    /// Runs SQL as written: one statement or several, such as a sibling file's
    /// `include_str!("sql/backfill.sql")`. It is split into statements at the semicolons that end
    /// them (not those in quotes, comments, dollar-quoted bodies or `BEGIN ATOMIC` bodies), each a
    /// [`Statement`] of its own; a statement PostgreSQL refuses in a transaction (`VACUUM`, …) makes
    /// the migration run outside one.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.execute("UPDATE interactions SET status = 'done' WHERE completed_at IS NOT NULL;
    ///             UPDATE interactions SET status = 'pending' WHERE status IS NULL;");
    /// let rendered: Vec<String> = op.statements().into_iter().map(|s| s.sql).collect();
    /// assert_eq!(rendered, [
    ///     "UPDATE interactions SET status = 'done' WHERE completed_at IS NOT NULL",
    ///     "UPDATE interactions SET status = 'pending' WHERE status IS NULL",
    /// ]);
    /// ```
    pub fn execute(&mut self, sql: &str) {
        self.operations.push(Operation::Execute(sql.to_owned()));
    }

    /// `UPDATE table SET set_sql WHERE where_sql` in batches, each committing on its own, so that
    /// no transaction holds the locks of every row nor writes the whole table: one `DO` block
    /// (PostgreSQL 11 and later) that updates at most [`Backfill::batch_size`] rows (10 000 unless
    /// set) matching `where_sql`, picked by `ctid`, commits, and goes on until no row matches.
    /// `set_sql` and `where_sql` are SQL, written as given, about the table's columns.
    ///
    /// `where_sql` must stop matching a row once it is updated (`status IS NULL` for
    /// `status = 'pending'`): it is what says which rows are left, so a backfill whose
    /// condition still matches updated rows never ends. Thanks to it a backfill can be resumed:
    /// stopped part-way (a failing row, a cancel, `statement_timeout`, which counts the whole
    /// block), the batches before stay committed, and a run again updates only the rows left.
    ///
    /// The block commits, so it cannot run inside a transaction block: the migration runs
    /// outside a transaction (see [the module](self#transactions)), and is best alone in it.
    /// For a plain table: in a partitioned one, a `ctid` names rows of several partitions.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.backfill("interactions", "status = 'pending'", "status IS NULL").batch_size(5000);
    /// let statements = op.statements();
    /// assert_eq!(statements[0].sql, r#"DO $backfill$
    /// BEGIN
    ///     LOOP
    ///         UPDATE "interactions" SET status = 'pending' WHERE ctid = ANY (ARRAY(SELECT ctid FROM "interactions" WHERE (status IS NULL) LIMIT 5000));
    ///         EXIT WHEN NOT FOUND;
    ///         COMMIT;
    ///     END LOOP;
    /// END
    /// $backfill$"#);
    /// assert!(statements[0].no_transaction().is_some());
    /// ```
    pub fn backfill(&mut self, table: &str, set_sql: &str, where_sql: &str) -> &mut Backfill {
        self.operations.push(Operation::Backfill(Backfill {
            table: table.to_owned(),
            set: set_sql.to_owned(),
            condition: where_sql.to_owned(),
            batch_size: BACKFILL_BATCH,
        }));
        last_as!(self, Backfill)
    }

    /// Declares that this step cannot be undone, and why; it renders no SQL. Called in a
    /// downgrade, the runtime refuses to downgrade through the migration, giving the reason, and the
    /// stairway check lists it apart; the `empty_downgrade` rule asks for it where a downgrade would
    /// otherwise do nothing.
    ///
    /// ```
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.irreversible("PostgreSQL cannot drop an enum value; recreate the type to remove it");
    /// assert!(op.statements().is_empty());
    /// assert!(op.irreversible_reason().is_some());
    /// ```
    pub fn irreversible(&mut self, reason: &str) {
        self.operations.push(Operation::Irreversible(reason.to_owned()));
    }

    fn drop(&mut self, kind: DropKind) -> &mut DropObject {
        self.operations.push(Operation::Drop(DropObject::new(kind)));
        last_as!(self, Drop)
    }

    /// The SQL statements of the recorded operations, in order, each without its terminating
    /// semicolon and with the operation it comes from: what a run sends, what `--sql` prints, and
    /// what the checksum of an applied migration covers.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.add_column("interactions", "status", Type::Varchar(50));
    /// op.execute("UPDATE interactions SET status = 'pending'");
    /// let statements = op.statements();
    /// let pairs: Vec<(&str, &str)> = statements.iter().map(|s| (s.op.as_str(), s.sql.as_str())).collect();
    /// assert_eq!(pairs, [
    ///     (r#"add_column("interactions")"#, r#"ALTER TABLE "interactions" ADD COLUMN "status" varchar(50)"#),
    ///     ("execute(…)", "UPDATE interactions SET status = 'pending'"),
    /// ]);
    /// ```
    pub fn statements(&self) -> Vec<Statement> {
        let mut out = Vec::new();
        for operation in &self.operations {
            let first = out.len();
            render(operation, &mut out);
            let described = operation.describe();
            for statement in &mut out[first..] {
                statement.op.clone_from(&described);
            }
        }
        out
    }

    /// `lock_timeout` for this migration: how long a statement may wait for a lock before failing,
    /// so that a migration queued behind a long transaction does not block every query queued
    /// behind it. Not a statement: the runtime sets it for the migration (`SET LOCAL` in its
    /// transaction), in milliseconds, at least 1 (a zero [`Duration`] does not turn the timeout
    /// off). See [`Op::settings`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.lock_timeout(Duration::from_secs(5));
    /// assert!(op.statements().is_empty());
    /// assert_eq!(op.settings(), [("lock_timeout", "5000ms".to_owned())]);
    /// ```
    pub fn lock_timeout(&mut self, timeout: Duration) {
        self.lock_timeout = Some(timeout);
    }

    /// `statement_timeout` for this migration: how long one of its statements may run before it is
    /// cancelled (the migration then fails and, in a transaction, is rolled back). Set like
    /// [`Op::lock_timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.statement_timeout(Duration::from_secs(60));
    /// assert_eq!(op.settings(), [("statement_timeout", "60000ms".to_owned())]);
    /// ```
    pub fn statement_timeout(&mut self, timeout: Duration) {
        self.statement_timeout = Some(timeout);
    }

    /// The settings this migration asked for, as PostgreSQL parameters and values, `lock_timeout`
    /// first: what the runtime sets before the migration's statements (`SET LOCAL lock_timeout =
    /// '5000ms'` in a transaction).
    ///
    /// ```
    /// use std::time::Duration;
    /// use migrate_core::op::Op;
    ///
    /// let mut op = Op::new();
    /// op.statement_timeout(Duration::from_millis(1500));
    /// op.lock_timeout(Duration::from_secs(5));
    /// assert_eq!(op.settings(), [("lock_timeout", "5000ms".to_owned()), ("statement_timeout", "1500ms".to_owned())]);
    /// ```
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
        let mut settings = Vec::new();
        settings.extend(self.lock_timeout.map(|d| ("lock_timeout", ms(d))));
        settings.extend(self.statement_timeout.map(|d| ("statement_timeout", ms(d))));
        settings
    }
}

impl Operation {
    /// The operation as a migration writes it, with its first argument:
    /// `create_table("lead_scores")`. [`Statement::op`] holds it for each statement.
    ///
    /// ```
    /// use migrate_core::op::{Op, Type};
    ///
    /// let mut op = Op::new();
    /// op.create_table("lead_scores", |t| {
    ///     t.column("score", Type::Integer);
    /// });
    /// op.drop_index("idx_interactions_org_created");
    /// let described: Vec<String> = op.operations().iter().map(|o| o.describe()).collect();
    /// assert_eq!(described, [r#"create_table("lead_scores")"#, r#"drop_index("idx_interactions_org_created")"#]);
    /// ```
    pub fn describe(&self) -> String {
        let call = |name: &str, argument: &str| format!("{name}({argument:?})");
        match self {
            Operation::CreateTable(t) => call("create_table", &t.name),
            Operation::RenameTable { from, .. } => call("rename_table", from),
            Operation::AddColumn { table, .. } => call("add_column", table),
            Operation::AlterColumn(a) if a.not_null_through_check => {
                format!("{}.set_not_null_through_check()", call("alter_column", &a.table))
            }
            Operation::AlterColumn(a) => call("alter_column", &a.table),
            Operation::CreateIndex(i) => call("create_index", &i.name),
            Operation::CreateCheck(c) => call("create_check_constraint", &c.name),
            Operation::CreateKey(k) if k.primary => call("create_primary_key", &k.name),
            Operation::CreateKey(k) => call("create_unique_constraint", &k.name),
            Operation::Backfill(b) => call("backfill", &b.table),
            Operation::CreateForeignKey(fk) => call("create_foreign_key", &fk.name),
            Operation::ValidateConstraint { table, .. } => call("validate_constraint", table),
            Operation::CreateEnum { name, .. } => call("create_enum", name),
            Operation::AddEnumValue(v) => call("add_enum_value", &v.enum_name),
            Operation::Comment { table, column: None, .. } => call("comment_on_table", table),
            Operation::Comment { table, .. } => call("comment_on_column", table),
            Operation::Drop(d) => match &d.kind {
                DropKind::Table(name) => call("drop_table", name),
                DropKind::Index(name) => call("drop_index", name),
                DropKind::Enum(name) => call("drop_enum", name),
                DropKind::Column { table, .. } => call("drop_column", table),
                DropKind::Constraint { table, .. } => call("drop_constraint", table),
            },
            Operation::BulkInsert { table, .. } => call("bulk_insert", table),
            Operation::Execute(_) => "execute(…)".to_owned(),
            Operation::Irreversible(reason) => call("irreversible", reason),
        }
    }
}

fn push(out: &mut Vec<Statement>, sql: String) {
    out.push(Statement { sql, op: String::new() });
}

/// The target of a comment on `column` of the (quoted) table.
fn column_target(table: &str, column: &str) -> String {
    format!("COLUMN {table}.{}", quote_ident(column))
}

fn comment_sql(target: &str, text: Option<&str>) -> String {
    format!("COMMENT ON {target} IS {}", text.map_or("NULL".to_owned(), quote_literal))
}

fn render(operation: &Operation, out: &mut Vec<Statement>) {
    match operation {
        Operation::CreateTable(table) => {
            let mut parts: Vec<String> = table.columns.iter().map(Column::to_sql).collect();
            parts.extend(table.constraints.iter().cloned());
            let name = quote_qualified(&table.name);
            let exists = if table.if_not_exists { "IF NOT EXISTS " } else { "" };
            push(out, format!("CREATE TABLE {exists}{name} (\n    {}\n)", parts.join(",\n    ")));
            if let Some(text) = &table.comment {
                push(out, comment_sql(&format!("TABLE {name}"), Some(text)));
            }
            for column in &table.columns {
                if let Some(text) = &column.comment {
                    push(out, comment_sql(&column_target(&name, &column.name), Some(text)));
                }
            }
        }
        Operation::RenameTable { from, to } => {
            push(out, format!("ALTER TABLE {} RENAME TO {}", quote_qualified(from), quote_ident(to)));
        }
        Operation::AddColumn { table, column } => {
            let name = quote_qualified(table);
            push(out, format!("ALTER TABLE {name} ADD COLUMN {}", column.to_sql()));
            if let Some(text) = &column.comment {
                push(out, comment_sql(&column_target(&name, &column.name), Some(text)));
            }
        }
        Operation::AlterColumn(alter) => {
            let table = quote_qualified(&alter.table);
            let column = quote_ident(&alter.column);
            if !alter.clauses.is_empty() {
                let clauses: Vec<String> =
                    alter.clauses.iter().map(|c| format!("ALTER COLUMN {column} {c}")).collect();
                push(out, format!("ALTER TABLE {table} {}", clauses.join(", ")));
            }
            if alter.not_null_through_check {
                let check = quote_ident(&not_null_check_name(&alter.table, &alter.column));
                push(out, format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}"));
                push(
                    out,
                    format!(
                        "ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID"
                    ),
                );
                push(out, format!("ALTER TABLE {table} VALIDATE CONSTRAINT {check}"));
                push(out, format!("ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL"));
                push(out, format!("ALTER TABLE {table} DROP CONSTRAINT {check}"));
            }
            if let Some(to) = &alter.rename {
                push(out, format!("ALTER TABLE {table} RENAME COLUMN {column} TO {}", quote_ident(to)));
            }
        }
        Operation::CreateIndex(index) => {
            let mut sql = String::from("CREATE ");
            if index.unique {
                sql.push_str("UNIQUE ");
            }
            sql.push_str("INDEX ");
            if index.concurrently {
                sql.push_str("CONCURRENTLY ");
            }
            if index.if_not_exists {
                sql.push_str("IF NOT EXISTS ");
            }
            sql.push_str(&format!("{} ON {}", quote_ident(&index.name), quote_qualified(&index.table)));
            if let Some(method) = &index.method {
                sql.push_str(&format!(" USING {}", quote_ident(method)));
            }
            sql.push_str(&format!(" ({})", idents(&index.columns)));
            if let Some(predicate) = &index.predicate {
                sql.push_str(&format!(" WHERE {predicate}"));
            }
            push(out, sql);
        }
        Operation::CreateCheck(check) => {
            let not_valid = if check.not_valid { " NOT VALID" } else { "" };
            push(
                out,
                format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}){not_valid}",
                    quote_qualified(&check.table),
                    quote_ident(&check.name),
                    check.condition
                ),
            );
        }
        Operation::CreateKey(key) => {
            let table = quote_qualified(&key.table);
            let name = quote_ident(&key.name);
            let kind = if key.primary { "PRIMARY KEY" } else { "UNIQUE" };
            if key.concurrently {
                let columns = idents(&key.columns);
                push(
                    out,
                    format!("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} ({columns})"),
                );
                push(out, format!("ALTER TABLE {table} ADD CONSTRAINT {name} {kind} USING INDEX {name}"));
            } else {
                push(
                    out,
                    format!("ALTER TABLE {table} ADD CONSTRAINT {name} {kind} ({})", idents(&key.columns)),
                );
            }
        }
        Operation::Backfill(backfill) => push(out, backfill.to_sql()),
        Operation::CreateForeignKey(fk) => {
            let mut sql = format!(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
                quote_qualified(&fk.table),
                quote_ident(&fk.name),
                idents(&fk.columns),
                quote_qualified(&fk.referred_table),
                idents(&fk.referred_columns)
            );
            if let Some(a) = fk.on_delete {
                sql.push_str(&format!(" ON DELETE {}", a.to_sql()));
            }
            if let Some(a) = fk.on_update {
                sql.push_str(&format!(" ON UPDATE {}", a.to_sql()));
            }
            if fk.not_valid {
                sql.push_str(" NOT VALID");
            }
            push(out, sql);
        }
        Operation::ValidateConstraint { table, name } => {
            push(
                out,
                format!("ALTER TABLE {} VALIDATE CONSTRAINT {}", quote_qualified(table), quote_ident(name)),
            );
        }
        Operation::CreateEnum { name, values } => {
            let values: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
            push(out, format!("CREATE TYPE {} AS ENUM ({})", quote_qualified(name), values.join(", ")));
        }
        Operation::AddEnumValue(v) => {
            let mut sql = format!("ALTER TYPE {} ADD VALUE ", quote_qualified(&v.enum_name));
            if v.if_not_exists {
                sql.push_str("IF NOT EXISTS ");
            }
            sql.push_str(&quote_literal(&v.value));
            if let Some((before, other)) = &v.position {
                sql.push_str(if *before { " BEFORE " } else { " AFTER " });
                sql.push_str(&quote_literal(other));
            }
            push(out, sql);
        }
        Operation::Comment { table, column, text } => {
            let target = match column {
                Some(c) => column_target(&quote_qualified(table), c),
                None => format!("TABLE {}", quote_qualified(table)),
            };
            push(out, comment_sql(&target, text.as_deref()));
        }
        Operation::Drop(drop) => {
            let exists = if drop.if_exists { "IF EXISTS " } else { "" };
            let cascade = if drop.cascade { " CASCADE" } else { "" };
            let sql = match &drop.kind {
                DropKind::Table(name) => {
                    format!("DROP TABLE {exists}{}{cascade}", quote_qualified(name))
                }
                DropKind::Index(name) => {
                    let concurrently = if drop.concurrently { "CONCURRENTLY " } else { "" };
                    format!("DROP INDEX {concurrently}{exists}{}{cascade}", quote_qualified(name))
                }
                DropKind::Enum(name) => {
                    format!("DROP TYPE {exists}{}{cascade}", quote_qualified(name))
                }
                DropKind::Column { table, column } => {
                    format!(
                        "ALTER TABLE {} DROP COLUMN {exists}{}{cascade}",
                        quote_qualified(table),
                        quote_ident(column)
                    )
                }
                DropKind::Constraint { table, name } => {
                    format!(
                        "ALTER TABLE {} DROP CONSTRAINT {exists}{}{cascade}",
                        quote_qualified(table),
                        quote_ident(name)
                    )
                }
            };
            push(out, sql);
        }
        Operation::BulkInsert { table, columns, rows } => {
            if rows.is_empty() {
                return;
            }
            let rows: Vec<String> = rows
                .iter()
                .map(|row| format!("({})", row.iter().map(Value::to_sql).collect::<Vec<_>>().join(", ")))
                .collect();
            push(
                out,
                format!(
                    "INSERT INTO {} ({}) VALUES\n    {}",
                    quote_qualified(table),
                    idents(columns),
                    rows.join(",\n    ")
                ),
            );
        }
        Operation::Execute(sql) => {
            for statement in split_statements(sql) {
                push(out, statement.to_owned());
            }
        }
        Operation::Irreversible(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(op: &Op) -> Vec<String> {
        op.statements().into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn the_design_example_renders() {
        let mut op = Op::new();
        op.create_table("lead_scores", |t| {
            t.column("id", Type::BigSerial).primary_key();
            t.column("person_id", Type::Integer).not_null().references("people", "id");
            t.column("score", Type::Integer).not_null().server_default("0");
            t.column("last_activity_at", Type::TimestampTz);
        });
        assert_eq!(
            sql(&op),
            [
                "CREATE TABLE \"lead_scores\" (\n    \"id\" bigserial PRIMARY KEY,\n    \"person_id\" integer NOT NULL REFERENCES \"people\" (\"id\"),\n    \"score\" integer NOT NULL DEFAULT '0',\n    \"last_activity_at\" timestamptz\n)"
            ]
        );
    }

    #[test]
    fn identifiers_are_always_quoted() {
        let mut op = Op::new();
        op.add_column("Order", "select", Type::Text).server_default("it's");
        op.rename_column("we\"ird", "a", "B");
        assert_eq!(
            sql(&op),
            [
                "ALTER TABLE \"Order\" ADD COLUMN \"select\" text DEFAULT 'it''s'",
                "ALTER TABLE \"we\"\"ird\" RENAME COLUMN \"a\" TO \"B\""
            ]
        );
    }

    #[test]
    fn statements_name_their_operation_and_settings_are_kept_apart() {
        let mut op = Op::new();
        op.create_table("people", |t| {
            t.column("id", Type::BigInt).comment("the key");
        });
        op.execute("SELECT 1; SELECT 2");
        op.lock_timeout(Duration::from_secs(5));
        let ops: Vec<String> = op.statements().into_iter().map(|s| s.op).collect();
        assert_eq!(ops, ["create_table(\"people\")", "create_table(\"people\")", "execute(…)", "execute(…)"]);
        assert_eq!(op.settings(), [("lock_timeout", "5000ms".to_owned())]);
    }

    #[test]
    fn the_helper_check_of_not_null_fits_in_63_bytes() {
        assert_eq!(not_null_check_name("crm.people", "email"), "people_email_not_null_check");
        let long = "a".repeat(34);
        let name = not_null_check_name(&long, &"b".repeat(30));
        assert_eq!(name.len(), 63, "{name}");
        assert!(name.starts_with(&format!("{long}_bbbb")) && name.ends_with("_not_null_check"), "{name}");
        // Cut alike, yet distinct; and the same every time.
        let other = not_null_check_name(&long, &format!("{}c", "b".repeat(30)));
        assert_ne!(name, other);
        assert_eq!(name, not_null_check_name(&long, &"b".repeat(30)));
        // A cut never splits a character.
        let name = not_null_check_name(&"é".repeat(40), "x");
        assert!(name.len() <= 63 && name.ends_with("_not_null_check"), "{name}");
        let exact = format!("{}_t_not_null_check", "t".repeat(46));
        assert_eq!(not_null_check_name(&"t".repeat(46), "t"), exact, "63 bytes fit as they are");
    }

    #[test]
    fn a_backfill_quotes_its_body_with_a_tag_the_sql_does_not_hold() {
        let mut op = Op::new();
        op.backfill("t", "a = $backfill$x$backfill$", "a IS NULL AND b <> $backfill_1$y$backfill_1$")
            .batch_size(0);
        let sql = &op.statements()[0].sql;
        assert!(sql.starts_with("DO $backfill_2$\n") && sql.ends_with("\n$backfill_2$"), "{sql}");
        assert!(sql.contains("LIMIT 1)"), "a batch is at least one row: {sql}");
        assert_eq!(split_statements(sql), [sql.as_str()], "one statement");
        assert!(op.statements()[0].no_transaction().is_some());
    }

    #[test]
    fn a_described_argument_never_reads_as_a_chained_call() {
        let mut op = Op::new();
        op.create_index("x).concurrently()", "t", &["a"]);
        op.alter_column("t).set_not_null_through_check()", "a").set_not_null();
        op.alter_column("t", "a").set_type(Type::Text).set_not_null_through_check().rename_to("b");
        let statements = op.statements();
        let marks: Vec<bool> = statements.iter().map(|s| s.no_transaction().is_some()).collect();
        assert_eq!(marks, [false, false, true, true, true, true, true, true, true]);
        assert_eq!(statements[2].sql, r#"ALTER TABLE "t" ALTER COLUMN "a" TYPE text"#);
        assert_eq!(statements[8].sql, r#"ALTER TABLE "t" RENAME COLUMN "a" TO "b""#);
    }

    #[test]
    fn no_transaction_operations_are_marked() {
        let mut op = Op::new();
        op.create_index("idx_a", "t", &["a"]).concurrently();
        op.add_enum_value("interaction_type", "linkedin_message").if_not_exists();
        op.execute("VACUUM t; SELECT 1");
        let marks: Vec<bool> = op.statements().iter().map(|s| s.no_transaction().is_some()).collect();
        assert_eq!(marks, [true, true, true, false]);
    }
}
