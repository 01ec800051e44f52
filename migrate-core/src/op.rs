//! The operations a migration records, as plain values, and their SQL.
//!
//! A migration's `upgrade` and `downgrade` functions call methods of [`Op`]; each call
//! records an [`Operation`]. Nothing touches a database: [`Op::statements`] renders the SQL,
//! which is what the runtime executes and what `--sql` prints. Identifiers are always quoted
//! and values always rendered as literals; only arguments documented as SQL (a `where`
//! predicate, a `USING` or `CHECK` expression, [`sql`] defaults and [`Op::execute`]) are
//! written as given.

use std::time::Duration;

use crate::sql::{no_transaction_reason, quote_ident, quote_literal, quote_qualified, split_statements};

/// A column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `smallint`
    SmallInt,
    /// `integer`
    Integer,
    /// `bigint`
    BigInt,
    /// `serial` (prefer an identity column: [`Column::identity`])
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
    /// A named type, such as an enum made by [`Op::create_enum`]; quoted as an identifier.
    Named(&'static str),
    /// A type written as SQL, for what the list above lacks (`vector(1536)`).
    Sql(&'static str),
}

impl Type {
    /// The type as PostgreSQL reads it.
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
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `NULL`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string, quoted as a literal.
    Text(String),
    /// An SQL expression, written as given (`now()`, `gen_random_uuid()`).
    Sql(String),
}

impl Value {
    /// The value as SQL.
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

/// An SQL expression to write as given, for a default: `server_default(sql("now()"))`.
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

/// What happens to referencing rows when the referenced row is deleted or updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `NO ACTION` (PostgreSQL's default)
    NoAction,
    /// `RESTRICT`
    Restrict,
    /// `CASCADE`
    Cascade,
    /// `SET NULL`
    SetNull,
    /// `SET DEFAULT`
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

/// A column of [`Op::create_table`] or [`Op::add_column`].
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

    /// `NOT NULL`.
    pub fn not_null(&mut self) -> &mut Self {
        self.not_null = true;
        self
    }

    /// `PRIMARY KEY` on this column alone.
    pub fn primary_key(&mut self) -> &mut Self {
        self.primary_key = true;
        self
    }

    /// `UNIQUE` on this column alone.
    pub fn unique(&mut self) -> &mut Self {
        self.unique = true;
        self
    }

    /// `GENERATED BY DEFAULT AS IDENTITY`.
    pub fn identity(&mut self) -> &mut Self {
        self.identity = true;
        self
    }

    /// `DEFAULT …`: a literal (`"0"`, `42`, `false`) or an SQL expression ([`sql`]).
    pub fn server_default(&mut self, value: impl Into<Value>) -> &mut Self {
        self.default = Some(value.into());
        self
    }

    /// `REFERENCES table (column)`.
    pub fn references(&mut self, table: &str, column: &str) -> &mut Self {
        self.references = Some(Reference {
            table: table.to_owned(),
            column: column.to_owned(),
            on_delete: None,
            on_update: None,
        });
        self
    }

    /// `ON DELETE …` for the reference.
    pub fn on_delete(&mut self, action: Action) -> &mut Self {
        if let Some(r) = &mut self.references {
            r.on_delete = Some(action);
        }
        self
    }

    /// `ON UPDATE …` for the reference.
    pub fn on_update(&mut self, action: Action) -> &mut Self {
        if let Some(r) = &mut self.references {
            r.on_update = Some(action);
        }
        self
    }

    /// `COMMENT ON COLUMN …`.
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

/// The table of [`Op::create_table`].
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    name: String,
    if_not_exists: bool,
    columns: Vec<Column>,
    constraints: Vec<String>,
    comment: Option<String>,
}

impl Table {
    /// Adds a column.
    pub fn column(&mut self, name: &str, ty: Type) -> &mut Column {
        self.columns.push(Column::new(name, ty));
        let last = self.columns.len() - 1;
        &mut self.columns[last]
    }

    /// A primary key over several columns.
    pub fn primary_key(&mut self, columns: &[&str]) -> &mut Self {
        self.constraints.push(format!("PRIMARY KEY ({})", idents(columns)));
        self
    }

    /// A named unique constraint over several columns.
    pub fn unique(&mut self, name: &str, columns: &[&str]) -> &mut Self {
        self.constraints.push(format!("CONSTRAINT {} UNIQUE ({})", quote_ident(name), idents(columns)));
        self
    }

    /// A named check constraint; `condition` is SQL.
    pub fn check(&mut self, name: &str, condition: &str) -> &mut Self {
        self.constraints.push(format!("CONSTRAINT {} CHECK ({condition})", quote_ident(name)));
        self
    }

    /// `COMMENT ON TABLE …`.
    pub fn comment(&mut self, text: &str) -> &mut Self {
        self.comment = Some(text.to_owned());
        self
    }

    /// `CREATE TABLE IF NOT EXISTS`.
    pub fn if_not_exists(&mut self) -> &mut Self {
        self.if_not_exists = true;
        self
    }
}

/// An index of [`Op::create_index`].
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
    /// `CREATE UNIQUE INDEX`.
    pub fn unique(&mut self) -> &mut Self {
        self.unique = true;
        self
    }

    /// `CONCURRENTLY`: builds without blocking writes; the migration then runs outside a
    /// transaction.
    pub fn concurrently(&mut self) -> &mut Self {
        self.concurrently = true;
        self
    }

    /// `IF NOT EXISTS`.
    pub fn if_not_exists(&mut self) -> &mut Self {
        self.if_not_exists = true;
        self
    }

    /// `USING method` (`gin`, `gist`, `brin`, `hnsw`, …).
    pub fn using(&mut self, method: &str) -> &mut Self {
        self.method = Some(method.to_owned());
        self
    }

    /// A partial index: `WHERE predicate`, written as SQL.
    pub fn where_sql(&mut self, predicate: &str) -> &mut Self {
        self.predicate = Some(predicate.to_owned());
        self
    }
}

/// A change of column of [`Op::alter_column`]; each setter adds one clause.
#[derive(Clone, Debug, PartialEq)]
pub struct AlterColumn {
    table: String,
    column: String,
    clauses: Vec<String>,
    rename: Option<String>,
}

impl AlterColumn {
    /// `TYPE …`, without conversion.
    pub fn set_type(&mut self, ty: Type) -> &mut Self {
        self.clauses.push(format!("TYPE {}", ty.to_sql()));
        self
    }

    /// `TYPE … USING expression`, the expression written as SQL.
    pub fn set_type_using(&mut self, ty: Type, using: &str) -> &mut Self {
        self.clauses.push(format!("TYPE {} USING {using}", ty.to_sql()));
        self
    }

    /// `SET NOT NULL`.
    pub fn set_not_null(&mut self) -> &mut Self {
        self.clauses.push("SET NOT NULL".into());
        self
    }

    /// `DROP NOT NULL`.
    pub fn drop_not_null(&mut self) -> &mut Self {
        self.clauses.push("DROP NOT NULL".into());
        self
    }

    /// `SET DEFAULT …`.
    pub fn set_default(&mut self, value: impl Into<Value>) -> &mut Self {
        self.clauses.push(format!("SET DEFAULT {}", value.into().to_sql()));
        self
    }

    /// `DROP DEFAULT`.
    pub fn drop_default(&mut self) -> &mut Self {
        self.clauses.push("DROP DEFAULT".into());
        self
    }

    /// Renames the column, after the other changes.
    pub fn rename_to(&mut self, name: &str) -> &mut Self {
        self.rename = Some(name.to_owned());
        self
    }
}

/// A foreign key of [`Op::create_foreign_key`].
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
    /// `ON DELETE …`.
    pub fn on_delete(&mut self, action: Action) -> &mut Self {
        self.on_delete = Some(action);
        self
    }

    /// `ON UPDATE …`.
    pub fn on_update(&mut self, action: Action) -> &mut Self {
        self.on_update = Some(action);
        self
    }

    /// `NOT VALID`: existing rows are not checked now (see [`Op::validate_constraint`]).
    pub fn not_valid(&mut self) -> &mut Self {
        self.not_valid = true;
        self
    }
}

/// A value added to an enum by [`Op::add_enum_value`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumValue {
    enum_name: String,
    value: String,
    if_not_exists: bool,
    position: Option<(bool, String)>,
}

impl EnumValue {
    /// `IF NOT EXISTS`.
    pub fn if_not_exists(&mut self) -> &mut Self {
        self.if_not_exists = true;
        self
    }

    /// `BEFORE value`.
    pub fn before(&mut self, value: &str) -> &mut Self {
        self.position = Some((true, value.to_owned()));
        self
    }

    /// `AFTER value`.
    pub fn after(&mut self, value: &str) -> &mut Self {
        self.position = Some((false, value.to_owned()));
        self
    }
}

/// A `DROP` of a table, index, enum, column or constraint.
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

    /// `IF EXISTS`.
    pub fn if_exists(&mut self) -> &mut Self {
        self.if_exists = true;
        self
    }

    /// `CASCADE`.
    pub fn cascade(&mut self) -> &mut Self {
        self.cascade = true;
        self
    }

    /// `CONCURRENTLY` (indexes only); the migration then runs outside a transaction.
    pub fn concurrently(&mut self) -> &mut Self {
        self.concurrently = true;
        self
    }
}

/// One recorded operation.
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
    /// `ALTER TABLE … ADD CONSTRAINT … UNIQUE / CHECK`.
    AddConstraint {
        /// The table.
        table: String,
        /// The constraint's name.
        name: String,
        /// The constraint's definition, rendered.
        definition: String,
    },
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
    /// SQL written as given.
    Execute(String),
    /// The change cannot be undone.
    Irreversible(String),
}

/// One SQL statement of a migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The SQL, without a terminating semicolon.
    pub sql: String,
    /// The operation it comes from, as written: `create_table("lead_scores")`.
    pub op: String,
}

impl Statement {
    /// Why PostgreSQL refuses it inside a transaction block, if it does. Worked out on
    /// demand: a run that only checks checksums never needs it.
    pub fn no_transaction(&self) -> Option<&'static str> {
        no_transaction_reason(&self.sql)
    }
}

/// The recorder a migration's functions receive: `pub fn upgrade(op: &mut Op)`.
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
    /// An empty recorder.
    pub fn new() -> Op {
        Op::default()
    }

    /// The operations recorded, in order.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// The reason given to [`Op::irreversible`], if it was called.
    pub fn irreversible_reason(&self) -> Option<&str> {
        self.operations.iter().find_map(|o| match o {
            Operation::Irreversible(reason) => Some(reason.as_str()),
            _ => None,
        })
    }

    /// `CREATE TABLE name (…)`, its columns and constraints added by `build`.
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

    /// `DROP TABLE name`.
    pub fn drop_table(&mut self, name: &str) -> &mut DropObject {
        self.drop(DropKind::Table(name.to_owned()))
    }

    /// `ALTER TABLE from RENAME TO to`.
    pub fn rename_table(&mut self, from: &str, to: &str) {
        self.operations.push(Operation::RenameTable { from: from.to_owned(), to: to.to_owned() });
    }

    /// `ALTER TABLE table ADD COLUMN name type`.
    pub fn add_column(&mut self, table: &str, name: &str, ty: Type) -> &mut Column {
        self.operations.push(Operation::AddColumn { table: table.to_owned(), column: Column::new(name, ty) });
        match self.operations.last_mut() {
            Some(Operation::AddColumn { column, .. }) => column,
            _ => unreachable!("the operation was pushed just above"),
        }
    }

    /// `ALTER TABLE table DROP COLUMN name`.
    pub fn drop_column(&mut self, table: &str, name: &str) -> &mut DropObject {
        self.drop(DropKind::Column { table: table.to_owned(), column: name.to_owned() })
    }

    /// `ALTER TABLE table ALTER COLUMN name …`: type, nullability, default, name.
    pub fn alter_column(&mut self, table: &str, name: &str) -> &mut AlterColumn {
        self.operations.push(Operation::AlterColumn(AlterColumn {
            table: table.to_owned(),
            column: name.to_owned(),
            clauses: Vec::new(),
            rename: None,
        }));
        last_as!(self, AlterColumn)
    }

    /// `ALTER TABLE table RENAME COLUMN from TO to`.
    pub fn rename_column(&mut self, table: &str, from: &str, to: &str) {
        self.alter_column(table, from).rename_to(to);
    }

    /// `CREATE INDEX name ON table (columns)`.
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

    /// `DROP INDEX name`.
    pub fn drop_index(&mut self, name: &str) -> &mut DropObject {
        self.drop(DropKind::Index(name.to_owned()))
    }

    /// `ALTER TABLE table ADD CONSTRAINT name UNIQUE (columns)`.
    pub fn create_unique_constraint(&mut self, name: &str, table: &str, columns: &[&str]) {
        self.operations.push(Operation::AddConstraint {
            table: table.to_owned(),
            name: name.to_owned(),
            definition: format!("UNIQUE ({})", idents(columns)),
        });
    }

    /// `ALTER TABLE table ADD CONSTRAINT name CHECK (condition)`; `condition` is SQL.
    pub fn create_check_constraint(&mut self, name: &str, table: &str, condition: &str) {
        self.operations.push(Operation::AddConstraint {
            table: table.to_owned(),
            name: name.to_owned(),
            definition: format!("CHECK ({condition})"),
        });
    }

    /// `ALTER TABLE table ADD CONSTRAINT name FOREIGN KEY (columns) REFERENCES …`.
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

    /// `ALTER TABLE table VALIDATE CONSTRAINT name`.
    pub fn validate_constraint(&mut self, table: &str, name: &str) {
        self.operations
            .push(Operation::ValidateConstraint { table: table.to_owned(), name: name.to_owned() });
    }

    /// `ALTER TABLE table DROP CONSTRAINT name`.
    pub fn drop_constraint(&mut self, table: &str, name: &str) -> &mut DropObject {
        self.drop(DropKind::Constraint { table: table.to_owned(), name: name.to_owned() })
    }

    /// `CREATE TYPE name AS ENUM (values)`.
    pub fn create_enum(&mut self, name: &str, values: &[&str]) {
        self.operations.push(Operation::CreateEnum { name: name.to_owned(), values: owned(values) });
    }

    /// `DROP TYPE name`.
    pub fn drop_enum(&mut self, name: &str) -> &mut DropObject {
        self.drop(DropKind::Enum(name.to_owned()))
    }

    /// `ALTER TYPE name ADD VALUE value`. The migration then runs outside a transaction:
    /// PostgreSQL does not let a transaction use an enum value it added.
    pub fn add_enum_value(&mut self, name: &str, value: &str) -> &mut EnumValue {
        self.operations.push(Operation::AddEnumValue(EnumValue {
            enum_name: name.to_owned(),
            value: value.to_owned(),
            if_not_exists: false,
            position: None,
        }));
        last_as!(self, AddEnumValue)
    }

    /// `COMMENT ON TABLE table IS …` (`None` removes the comment).
    pub fn comment_on_table(&mut self, table: &str, text: Option<&str>) {
        self.operations.push(Operation::Comment {
            table: table.to_owned(),
            column: None,
            text: text.map(str::to_owned),
        });
    }

    /// `COMMENT ON COLUMN table.column IS …` (`None` removes the comment).
    pub fn comment_on_column(&mut self, table: &str, column: &str, text: Option<&str>) {
        self.operations.push(Operation::Comment {
            table: table.to_owned(),
            column: Some(column.to_owned()),
            text: text.map(str::to_owned),
        });
    }

    /// `INSERT INTO table (columns) VALUES …` of literal rows.
    pub fn bulk_insert(&mut self, table: &str, columns: &[&str], rows: Vec<Vec<Value>>) {
        self.operations.push(Operation::BulkInsert {
            table: table.to_owned(),
            columns: owned(columns),
            rows,
        });
    }

    /// Runs SQL as written: one statement or several, such as a sibling file's
    /// `include_str!("sql/backfill.sql")`.
    pub fn execute(&mut self, sql: &str) {
        self.operations.push(Operation::Execute(sql.to_owned()));
    }

    /// Declares that this step cannot be undone, and why: a downgrade through it is refused.
    pub fn irreversible(&mut self, reason: &str) {
        self.operations.push(Operation::Irreversible(reason.to_owned()));
    }

    fn drop(&mut self, kind: DropKind) -> &mut DropObject {
        self.operations.push(Operation::Drop(DropObject::new(kind)));
        last_as!(self, Drop)
    }

    /// The SQL statements of the recorded operations, in order.
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

    /// `lock_timeout` for this migration: how long a statement may wait for a lock before
    /// failing, so that a migration queued behind a long transaction does not block every
    /// query queued behind it.
    pub fn lock_timeout(&mut self, timeout: Duration) {
        self.lock_timeout = Some(timeout);
    }

    /// `statement_timeout` for this migration.
    pub fn statement_timeout(&mut self, timeout: Duration) {
        self.statement_timeout = Some(timeout);
    }

    /// The settings this migration asked for, as PostgreSQL parameters and values:
    /// `[("lock_timeout", "5000ms")]`.
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
    /// `create_table("lead_scores")`.
    pub fn describe(&self) -> String {
        let call = |name: &str, argument: &str| format!("{name}({argument:?})");
        match self {
            Operation::CreateTable(t) => call("create_table", &t.name),
            Operation::RenameTable { from, .. } => call("rename_table", from),
            Operation::AddColumn { table, .. } => call("add_column", table),
            Operation::AlterColumn(a) => call("alter_column", &a.table),
            Operation::CreateIndex(i) => call("create_index", &i.name),
            Operation::AddConstraint { name, .. } => call("create_constraint", name),
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
        Operation::AddConstraint { table, name, definition } => {
            push(
                out,
                format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {definition}",
                    quote_qualified(table),
                    quote_ident(name)
                ),
            );
        }
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
    fn no_transaction_operations_are_marked() {
        let mut op = Op::new();
        op.create_index("idx_a", "t", &["a"]).concurrently();
        op.add_enum_value("interaction_type", "linkedin_message").if_not_exists();
        op.execute("VACUUM t; SELECT 1");
        let marks: Vec<bool> = op.statements().iter().map(|s| s.no_transaction().is_some()).collect();
        assert_eq!(marks, [true, true, true, false]);
    }
}
