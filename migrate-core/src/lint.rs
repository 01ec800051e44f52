//! What each SQL statement of a migration does, read with a PostgreSQL parser, and the schema
//! the chain has built before it: what the lock rules (`blocking_index`, …) judge.
//!
//! Every statement a migration's `upgrade` records, whether an operation's rendering or the
//! SQL of `op.execute`, goes through [`read`] into [`Fact`]s, so the rules fire the same on an
//! operation as on the SQL it stands for. The rules judge `upgrade` only: a downgrade undoes
//! what its upgrade did (dropping what it added) and runs in a rollback, by a deliberate hand.

use std::collections::{HashMap, HashSet};

use squawk_syntax::ast::AstNode;
use squawk_syntax::{SourceFile, SyntaxKind, SyntaxNode};

/// What one statement does, as far as the lock rules care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `CREATE TABLE` (also `CREATE MATERIALIZED VIEW`, `CREATE TABLE … AS`, `SELECT … INTO`),
    /// with its columns (name, type as written, normalised).
    CreateTable {
        /// The table.
        table: String,
        /// Its columns.
        columns: Vec<(String, String)>,
        /// `IF NOT EXISTS`: the table may be one that exists and holds rows.
        if_not_exists: bool,
        /// `TEMP`: a table of the session's own, which shadows a table of the same name.
        temporary: bool,
    },
    /// `ALTER TABLE … DROP CONSTRAINT`.
    DropConstraint {
        /// The table.
        table: String,
        /// The constraint.
        name: String,
    },
    /// `ALTER TABLE … SET SCHEMA`: the table leaves the name code uses.
    SetSchema {
        /// The table.
        table: String,
    },
    /// `DROP TABLE`.
    DropTable {
        /// The tables.
        tables: Vec<String>,
    },
    /// `ALTER TABLE … RENAME TO`.
    RenameTable {
        /// The current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ALTER TABLE … ADD COLUMN`.
    AddColumn(NewColumn),
    /// `ALTER TABLE … DROP COLUMN`.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// `ALTER TABLE … RENAME COLUMN`.
    RenameColumn {
        /// The table.
        table: String,
        /// The current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ALTER TABLE … ALTER COLUMN … TYPE`.
    SetType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The new type, normalised.
        ty: String,
        /// Whether a `USING` expression converts the values.
        using: bool,
    },
    /// `ALTER TABLE … ALTER COLUMN … SET NOT NULL`.
    SetNotNull {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// `ALTER TABLE … ADD CONSTRAINT` (or a constraint of `ADD COLUMN` on its own table).
    AddConstraint {
        /// The table.
        table: String,
        /// The constraint's name, when it has one.
        name: Option<String>,
        /// What kind of constraint.
        kind: ConstraintKind,
        /// `NOT VALID`.
        not_valid: bool,
        /// `USING INDEX` (unique and primary key).
        using_index: bool,
        /// For a CHECK of the form `col IS NOT NULL`, the column.
        proves_not_null: Option<String>,
    },
    /// `ALTER TABLE … VALIDATE CONSTRAINT`.
    ValidateConstraint {
        /// The table.
        table: String,
        /// The constraint.
        name: String,
    },
    /// `CREATE INDEX`.
    CreateIndex {
        /// The index's name, when it has one.
        name: Option<String>,
        /// The table.
        table: String,
        /// `CONCURRENTLY`.
        concurrently: bool,
        /// `IF NOT EXISTS`: the name may be an index that exists, on another table.
        if_not_exists: bool,
    },
    /// `REINDEX`.
    Reindex {
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// The indexes.
        names: Vec<String>,
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `CREATE TYPE … AS ENUM`.
    CreateEnum {
        /// The type.
        name: String,
    },
    /// `ALTER TYPE … ADD VALUE`.
    AddEnumValue {
        /// The type.
        name: String,
        /// The value, as a quoted SQL literal.
        value: String,
    },
    /// `TRUNCATE`, with `CASCADE` or not.
    Truncate {
        /// `CASCADE`.
        cascade: bool,
    },
    /// `DROP SCHEMA`.
    DropSchema,
    /// `DROP DATABASE`.
    DropDatabase,
    /// A `DO` block: PL/pgSQL the rules do not read.
    Do,
    /// `SET lock_timeout` to 0 (or under a millisecond) or to the server's default, `RESET
    /// lock_timeout`, `RESET ALL`, `DISCARD ALL`, or `set_config('lock_timeout', …)`: the
    /// migration's statements may then wait for a lock for ever.
    LockTimeoutOff,
    /// What makes the rules' reading of names or transactions wrong from there on: `SET
    /// search_path`, transaction control (`BEGIN`, `COMMIT`, …), `CALL` of a procedure.
    Opaque {
        /// What it is, for the message.
        what: &'static str,
    },
    /// Anything else: no strong lock on an existing table the rules know of.
    Other,
}

/// The kinds of constraint [`Action::AddConstraint`] tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintKind {
    /// `FOREIGN KEY` / `REFERENCES`.
    ForeignKey,
    /// `CHECK`.
    Check,
    /// `UNIQUE`.
    Unique,
    /// `PRIMARY KEY`.
    PrimaryKey,
    /// `EXCLUDE`.
    Exclude,
    /// `NOT NULL col` as a table constraint (PostgreSQL 18), `NOT VALID` or not.
    NotNull,
}

/// A column added to an existing table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewColumn {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// Its type, normalised.
    pub ty: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// Its default expression, as written.
    pub default: Option<String>,
    /// Whether the default may differ from row to row (a function the rules do not know as
    /// stable or immutable), so PostgreSQL writes it into every row.
    pub volatile_default: bool,
    /// `GENERATED … AS IDENTITY`.
    pub identity: bool,
    /// `GENERATED ALWAYS AS (…) STORED`.
    pub stored: bool,
}

/// One statement: what it does and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    /// What it does.
    pub action: Action,
    /// The statement, whitespace collapsed.
    pub text: String,
}

impl Fact {
    /// The statement shortened for a message.
    pub fn short(&self) -> String {
        crate::text::shorten(self.text.trim_end_matches(';'), 80)
    }
}

/// SQL the parser cannot read: the first error, with its line in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// The parser's message.
    pub message: String,
    /// The 1-based line of the text where it is.
    pub line: usize,
}

/// Reads SQL text (one statement or several) into facts, one or more per statement (an
/// `ALTER TABLE` with several actions gives one per action).
pub fn read(sql: &str) -> Result<Vec<Fact>, Unreadable> {
    let parse = SourceFile::parse(sql);
    if let Some(error) = parse.errors().first() {
        let offset = usize::from(error.range().start()).min(sql.len());
        let line = sql[..offset].matches('\n').count() + 1;
        return Err(Unreadable { message: error.message().to_owned(), line });
    }
    let mut facts = Vec::new();
    for node in parse.tree().syntax().children() {
        let text = node.text().to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        for action in actions(&node) {
            facts.push(Fact { action, text: text.clone() });
        }
    }
    Ok(facts)
}

fn child(node: &SyntaxNode, kind: SyntaxKind) -> Option<SyntaxNode> {
    node.children().find(|c| c.kind() == kind)
}

fn has_token(node: &SyntaxNode, kind: SyntaxKind) -> bool {
    node.children_with_tokens().any(|c| c.kind() == kind)
}

fn has_descendant(node: &SyntaxNode, kind: SyntaxKind) -> bool {
    node.descendants().any(|c| c.kind() == kind)
}

/// An identifier as PostgreSQL folds it: unquoted names in lower case, quoted ones as
/// written.
pub fn ident(text: &str) -> String {
    let text = text.trim();
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => text.to_lowercase(),
    }
}

/// A possibly qualified name, `public.` left out: `"crm"."People"` gives `crm.People`.
fn name_of(node: &SyntaxNode) -> String {
    let mut segments = Vec::new();
    let mut current = String::new();
    for token in node.descendants_with_tokens().filter_map(|e| e.into_token()) {
        match token.kind() {
            SyntaxKind::DOT => segments.push(std::mem::take(&mut current)),
            SyntaxKind::WHITESPACE | SyntaxKind::COMMENT => {}
            SyntaxKind::ONLY_KW | SyntaxKind::STAR if current.is_empty() => {}
            _ => current.push_str(token.text()),
        }
    }
    segments.push(current);
    let segments: Vec<String> = segments.iter().map(|s| ident(s)).collect();
    match segments.as_slice() {
        [schema, name] if schema == "public" => name.clone(),
        _ => segments.join("."),
    }
}

/// Whether PostgreSQL changes a column of type `old` to `new` in place, without rewriting the
/// table (the judgement of the `rewriting_type_change` rule); types in any spelling
/// (`character varying(20)`, `varchar(20)`).
pub fn type_changes_in_place(old: &str, new: &str) -> bool {
    crate::rules::rewriting_type_change::in_place(&normal_type(old), &normal_type(new))
}

/// A type as written, in a canonical spelling: `character varying(20)` gives `varchar(20)`.
pub fn normal_type(text: &str) -> String {
    let mut lower: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Quoted names keep their case ("char" is another type than char); the rest folds.
    if !lower.contains('"') {
        lower = lower.to_lowercase();
    }
    let mut array = String::new();
    while let Some(rest) = lower.trim_end().strip_suffix("[]") {
        array.push_str("[]");
        lower = rest.trim_end().to_owned();
    }
    let (base, args) = match lower.find('(') {
        Some(at) => (lower[..at].trim().to_owned(), lower[at..].replace(' ', "")),
        None => (lower.trim().to_owned(), String::new()),
    };
    let base = match base.trim_start_matches("pg_catalog.") {
        "character varying" => "varchar",
        "character" | "char" | "bpchar" => "bpchar",
        "int" | "int4" | "integer" => "integer",
        "int8" | "bigint" => "bigint",
        "int2" | "smallint" => "smallint",
        "bool" | "boolean" => "boolean",
        "decimal" | "numeric" => "numeric",
        "float8" | "double precision" => "double precision",
        "float4" | "real" => "real",
        "timestamp without time zone" | "timestamp" => "timestamp",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "time without time zone" | "time" => "time",
        "time with time zone" | "timetz" => "timetz",
        "serial4" | "serial" => "serial",
        "serial8" | "bigserial" => "bigserial",
        "serial2" | "smallserial" => "smallserial",
        other => return format!("{}{args}{array}", ident_type(other)),
    };
    format!("{base}{args}{array}")
}

fn ident_type(text: &str) -> String {
    text.split('.').map(ident).collect::<Vec<_>>().join(".")
}

fn type_text(node: &SyntaxNode) -> Option<String> {
    node.children().find(|c| is_type(c.kind())).map(|t| normal_type(&t.text().to_string()))
}

fn is_type(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        SyntaxKind::PATH_TYPE
            | SyntaxKind::VARCHAR_TYPE
            | SyntaxKind::BIT_TYPE
            | SyntaxKind::CHARACTER_TYPE
            | SyntaxKind::TIMESTAMP_TYPE
            | SyntaxKind::BIT_VARYING_TYPE
            | SyntaxKind::DOUBLE_TYPE
            | SyntaxKind::TIME_TYPE
            | SyntaxKind::INTERVAL_TYPE
            | SyntaxKind::ARRAY_TYPE
            | SyntaxKind::PERCENT_TYPE
    )
}

fn table_of(node: &SyntaxNode) -> String {
    child(node, SyntaxKind::TABLE_RELATION_NAME)
        .or_else(|| child(node, SyntaxKind::TABLE_NAME))
        .map(|n| name_of(&n))
        .unwrap_or_default()
}

fn actions(node: &SyntaxNode) -> Vec<Action> {
    match node.kind() {
        SyntaxKind::CREATE_TABLE => {
            let table = table_of(node);
            let if_not_exists = child(node, SyntaxKind::IF_NOT_EXISTS).is_some();
            let temporary = child(node, SyntaxKind::TEMP).is_some()
                || node.children().any(|c| c.text().to_string().eq_ignore_ascii_case("temporary"));
            let columns = child(node, SyntaxKind::TABLE_ARG_LIST)
                .map(|list| {
                    list.children()
                        .filter(|c| c.kind() == SyntaxKind::COLUMN)
                        .filter_map(|c| {
                            let name = child(&c, SyntaxKind::COLUMN_NAME)?;
                            Some((ident(&name.text().to_string()), type_text(&c).unwrap_or_default()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            vec![Action::CreateTable { table, columns, if_not_exists, temporary }]
        }
        SyntaxKind::CREATE_TABLE_AS | SyntaxKind::CREATE_MATERIALIZED_VIEW | SyntaxKind::SELECT_INTO => {
            let name = node
                .descendants()
                .find(|n| matches!(n.kind(), SyntaxKind::TABLE_NAME | SyntaxKind::PATH))
                .map(|n| name_of(&n))
                .unwrap_or_default();
            vec![Action::CreateTable {
                table: name,
                columns: Vec::new(),
                if_not_exists: child(node, SyntaxKind::IF_NOT_EXISTS).is_some(),
                temporary: child(node, SyntaxKind::TEMP).is_some(),
            }]
        }
        SyntaxKind::DROP_TABLE => vec![Action::DropTable {
            tables: node
                .children()
                .filter(|c| c.kind() == SyntaxKind::TABLE_NAME_REF)
                .map(|c| name_of(&c))
                .collect(),
        }],
        SyntaxKind::ALTER_TABLE => alter_table(node),
        SyntaxKind::CREATE_INDEX => vec![Action::CreateIndex {
            name: child(node, SyntaxKind::INDEX).map(|n| name_of(&n)),
            table: table_of(node),
            concurrently: has_token(node, SyntaxKind::CONCURRENTLY_KW),
            if_not_exists: child(node, SyntaxKind::IF_NOT_EXISTS).is_some(),
        }],
        SyntaxKind::REINDEX => vec![Action::Reindex {
            concurrently: node.descendants_with_tokens().any(|t| t.kind() == SyntaxKind::CONCURRENTLY_KW),
        }],
        SyntaxKind::DROP_INDEX => vec![Action::DropIndex {
            names: node
                .children()
                .filter(|c| c.kind() == SyntaxKind::INDEX_REF)
                .map(|c| name_of(&c))
                .collect(),
            concurrently: has_token(node, SyntaxKind::CONCURRENTLY_KW),
        }],
        SyntaxKind::CREATE_TYPE if child(node, SyntaxKind::ENUM_TYPE).is_some() => vec![Action::CreateEnum {
            name: node
                .children()
                .find(|c| matches!(c.kind(), SyntaxKind::PATH | SyntaxKind::TYPE_NAME))
                .map(|n| name_of(&n))
                .unwrap_or_default(),
        }],
        SyntaxKind::ALTER_TYPE => match child(node, SyntaxKind::ADD_VALUE) {
            Some(add) => vec![Action::AddEnumValue {
                name: child(node, SyntaxKind::TYPE_NAME_REF).map(|n| name_of(&n)).unwrap_or_default(),
                value: child(&add, SyntaxKind::LITERAL).map(|l| l.text().to_string()).unwrap_or_default(),
            }],
            None => vec![Action::Other],
        },
        SyntaxKind::TRUNCATE => vec![Action::Truncate {
            cascade: has_token(node, SyntaxKind::CASCADE) || has_descendant(node, SyntaxKind::CASCADE),
        }],
        SyntaxKind::DROP_SCHEMA => vec![Action::DropSchema],
        SyntaxKind::DROP_DATABASE => vec![Action::DropDatabase],
        SyntaxKind::DO => vec![Action::Do],
        SyntaxKind::SET | SyntaxKind::RESET | SyntaxKind::DISCARD | SyntaxKind::SELECT
            if lifts_lock_timeout(node) =>
        {
            vec![Action::LockTimeoutOff]
        }
        SyntaxKind::SET if configures(node).as_deref() == Some("search_path") => {
            vec![Action::Opaque { what: "`SET search_path` changes which tables the names that follow name" }]
        }
        SyntaxKind::CALL => vec![Action::Opaque { what: "a procedure runs statements the rules do not see" }],
        _ if is_transaction_control(node) => vec![Action::Opaque {
            what: "transaction control escapes the transaction and the settings the runner gives the migration",
        }],
        _ => vec![Action::Other],
    }
}

/// The parameter a `SET` or `RESET` names.
fn configures(node: &SyntaxNode) -> Option<String> {
    node.descendants().find(|n| n.kind() == SyntaxKind::CONFIG_PARAMETER_REF).map(|p| name_of(&p))
}

/// Whether a statement turns `lock_timeout` off: `SET` to `DEFAULT` (the server's, 0 unless
/// configured) or to a value PostgreSQL reads as 0 (under a millisecond rounds to 0, and a
/// value the rules cannot read counts as 0), `RESET` of it, `RESET ALL`, `DISCARD ALL`, or a
/// `set_config('lock_timeout', …)` call.
fn lifts_lock_timeout(node: &SyntaxNode) -> bool {
    match node.kind() {
        SyntaxKind::RESET => {
            return child(node, SyntaxKind::ALL).is_some()
                || configures(node).as_deref() == Some("lock_timeout");
        }
        SyntaxKind::DISCARD => return child(node, SyntaxKind::DISCARD_ALL).is_some(),
        SyntaxKind::SELECT => {
            return node.descendants().filter(|n| n.kind() == SyntaxKind::CALL_EXPR).any(|call| {
                let text = call.text().to_string().to_ascii_lowercase();
                text.starts_with("set_config") && text.contains("lock_timeout")
            });
        }
        _ => {}
    }
    if configures(node).as_deref() != Some("lock_timeout") {
        return false;
    }
    let Some(value) = node.descendants().find(|n| n.kind() == SyntaxKind::TO_CONFIG_VALUE) else {
        return false;
    };
    if has_token(&value, SyntaxKind::DEFAULT_KW) {
        return true;
    }
    let text = value.children().map(|c| c.text().to_string()).collect::<String>();
    milliseconds(text.trim().trim_matches('\'').trim()).is_none_or(|ms| ms < 1.0)
}

/// A time setting in milliseconds, as PostgreSQL reads it (a bare number is milliseconds);
/// `None` when it is not a value the rules know.
fn milliseconds(text: &str) -> Option<f64> {
    let text = text.to_ascii_lowercase();
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex.trim(), 16).ok().map(|n| n as f64);
    }
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value = number.trim().parse::<f64>().ok()?;
    let scale = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    Some(value * scale)
}

/// `BEGIN`, `START TRANSACTION`, `COMMIT`, `END`, `ROLLBACK`, `ABORT`, `SAVEPOINT`, `RELEASE`.
fn is_transaction_control(node: &SyntaxNode) -> bool {
    let first = node
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| !matches!(t.kind(), SyntaxKind::WHITESPACE | SyntaxKind::COMMENT));
    first.is_some_and(|t| {
        ["begin", "start", "commit", "end", "rollback", "abort", "savepoint", "release"]
            .contains(&t.text().to_ascii_lowercase().as_str())
    })
}

fn alter_table(node: &SyntaxNode) -> Vec<Action> {
    let table = table_of(node);
    let mut out = Vec::new();
    for action in node.children() {
        match action.kind() {
            SyntaxKind::TABLE_RELATION_NAME => {}
            SyntaxKind::TABLE_RENAME_TO => out.push(Action::RenameTable {
                from: table.clone(),
                to: child(&action, SyntaxKind::TABLE_NAME).map(|n| name_of(&n)).unwrap_or_default(),
            }),
            SyntaxKind::RENAME_COLUMN => out.push(Action::RenameColumn {
                table: table.clone(),
                from: child(&action, SyntaxKind::COLUMN_NAME_REF).map(|n| name_of(&n)).unwrap_or_default(),
                to: child(&action, SyntaxKind::COLUMN_NAME).map(|n| name_of(&n)).unwrap_or_default(),
            }),
            SyntaxKind::DROP_COLUMN => out.push(Action::DropColumn {
                table: table.clone(),
                column: child(&action, SyntaxKind::COLUMN_NAME_REF).map(|n| name_of(&n)).unwrap_or_default(),
            }),
            SyntaxKind::DROP_CONSTRAINT => out.push(Action::DropConstraint {
                table: table.clone(),
                name: child(&action, SyntaxKind::CONSTRAINT_NAME_REF)
                    .map(|n| name_of(&n))
                    .unwrap_or_default(),
            }),
            SyntaxKind::SET_SCHEMA => out.push(Action::SetSchema { table: table.clone() }),
            SyntaxKind::VALIDATE_CONSTRAINT => out.push(Action::ValidateConstraint {
                table: table.clone(),
                name: child(&action, SyntaxKind::CONSTRAINT_NAME_REF)
                    .map(|n| name_of(&n))
                    .unwrap_or_default(),
            }),
            SyntaxKind::ALTER_COLUMN => {
                let column =
                    child(&action, SyntaxKind::COLUMN_NAME_REF).map(|n| name_of(&n)).unwrap_or_default();
                if let Some(set) = child(&action, SyntaxKind::SET_TYPE) {
                    out.push(Action::SetType {
                        table: table.clone(),
                        column,
                        ty: type_text(&set).unwrap_or_default(),
                        using: child(&set, SyntaxKind::USING_EXPR).is_some(),
                    });
                } else if child(&action, SyntaxKind::SET_NOT_NULL).is_some() {
                    out.push(Action::SetNotNull { table: table.clone(), column });
                } else {
                    out.push(Action::Other);
                }
            }
            SyntaxKind::ADD_COLUMN => add_column(&table, &action, &mut out),
            SyntaxKind::ADD_CONSTRAINT => {
                if let Some(constraint) = action.children().find(|c| constraint_kind(c.kind()).is_some()) {
                    out.push(constraint_action(
                        &table,
                        &constraint,
                        has_descendant(&action, SyntaxKind::NOT_VALID),
                    ));
                }
            }
            _ => out.push(Action::Other),
        }
    }
    out
}

fn constraint_kind(kind: SyntaxKind) -> Option<ConstraintKind> {
    Some(match kind {
        SyntaxKind::FOREIGN_KEY_CONSTRAINT | SyntaxKind::REFERENCES_CONSTRAINT => ConstraintKind::ForeignKey,
        SyntaxKind::CHECK_CONSTRAINT => ConstraintKind::Check,
        SyntaxKind::UNIQUE_CONSTRAINT => ConstraintKind::Unique,
        SyntaxKind::PRIMARY_KEY_CONSTRAINT => ConstraintKind::PrimaryKey,
        SyntaxKind::EXCLUDE_CONSTRAINT => ConstraintKind::Exclude,
        SyntaxKind::NOT_NULL_CONSTRAINT => ConstraintKind::NotNull,
        _ => return None,
    })
}

fn constraint_action(table: &str, constraint: &SyntaxNode, not_valid: bool) -> Action {
    let kind = constraint_kind(constraint.kind()).unwrap_or(ConstraintKind::Check);
    let named_column = child(constraint, SyntaxKind::COLUMN_NAME_REF).map(|c| name_of(&c));
    let proves_not_null = match kind {
        ConstraintKind::NotNull => named_column,
        _ => None,
    };
    let proves_not_null = proves_not_null.or_else(|| {
        (kind == ConstraintKind::Check)
            .then(|| {
                // `CHECK (col IS NOT NULL)`, the one form PostgreSQL 12+ reads as a proof.
                let text = constraint.text().to_string();
                let inner = text.split_once('(')?.1.rsplit_once(')')?.0.trim().to_owned();
                let column =
                    inner.strip_suffix("IS NOT NULL").or_else(|| inner.strip_suffix("is not null"))?;
                let column = column.trim().trim_start_matches('(').trim_end_matches(')');
                Some(ident(column))
            })
            .flatten()
    });
    Action::AddConstraint {
        table: table.to_owned(),
        name: child(constraint, SyntaxKind::CONSTRAINT_NAME_CLAUSE)
            .and_then(|c| child(&c, SyntaxKind::CONSTRAINT_NAME))
            .map(|n| name_of(&n)),
        kind,
        not_valid,
        using_index: child(constraint, SyntaxKind::USING_INDEX_NAME).is_some(),
        proves_not_null,
    }
}

fn add_column(table: &str, action: &SyntaxNode, out: &mut Vec<Action>) {
    let column = child(action, SyntaxKind::COLUMN_NAME).map(|n| name_of(&n)).unwrap_or_default();
    let ty = type_text(action).unwrap_or_default();
    let default = child(action, SyntaxKind::DEFAULT_CONSTRAINT);
    let generated = child(action, SyntaxKind::GENERATED_CONSTRAINT);
    let new = NewColumn {
        table: table.to_owned(),
        column,
        ty,
        not_null: has_descendant(action, SyntaxKind::NOT_NULL_CONSTRAINT)
            || has_descendant(action, SyntaxKind::PRIMARY_KEY_CONSTRAINT),
        default: default.as_ref().map(|d| {
            let text = d.text().to_string();
            text.trim_start_matches(|c: char| c.is_ascii_alphabetic()).trim().to_owned()
        }),
        volatile_default: default.as_ref().is_some_and(volatile),
        identity: generated.as_ref().is_some_and(|g| has_descendant(g, SyntaxKind::GENERATED_IDENTITY)),
        stored: generated.as_ref().is_some_and(|g| has_descendant(g, SyntaxKind::GENERATED_STORED)),
    };
    out.push(Action::AddColumn(new));
    for constraint in action.children() {
        // A new column's NOT NULL is judged with the column; its CHECK is checked on every row.
        if let Some(kind) = constraint_kind(constraint.kind())
            && kind != ConstraintKind::NotNull
        {
            out.push(constraint_action(table, &constraint, false));
        }
    }
}

/// The functions PostgreSQL marks stable or immutable that defaults commonly call: a default
/// calling only these is computed once and kept in the catalog (PostgreSQL 11+).
const NON_VOLATILE: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "transaction_timestamp",
    "statement_timestamp",
    "current_user",
    "session_user",
    "current_schema",
    "lower",
    "upper",
    "coalesce",
    "length",
    "concat",
    "to_jsonb",
    "jsonb_build_object",
    "json_build_object",
    "array",
];

/// Whether an expression calls a function not known to be stable or immutable.
fn volatile(expression: &SyntaxNode) -> bool {
    expression.descendants().any(|n| {
        n.kind() == SyntaxKind::CALL_EXPR
            && n.children()
                .find(|c| matches!(c.kind(), SyntaxKind::NAME_REF | SyntaxKind::FIELD_EXPR))
                .is_none_or(|name| {
                    let name = name_of(&name);
                    let name = name.rsplit('.').next().unwrap_or(&name).to_owned();
                    !NON_VOLATILE.contains(&name.as_str())
                })
    })
}

/// The schema the chain has built before a statement, as the rules need it: tables with
/// their columns' types, where each came from, and which CHECKs prove a column NOT NULL.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Tables by name: column name → type.
    pub tables: HashMap<String, HashMap<String, String>>,
    /// The table of each index the chain created.
    pub indexes: HashMap<String, String>,
    /// Constraints that prove a column NOT NULL (`CHECK (col IS NOT NULL)`, PostgreSQL 18's
    /// `NOT NULL col`): (table, constraint) → (column, validated). Dropping the constraint
    /// drops the proof.
    pub proofs: HashMap<(String, String), (String, bool)>,
}

impl Schema {
    /// Records what a statement did.
    pub fn apply(&mut self, action: &Action) {
        match action {
            // A session's own table is not the chain's; `IF NOT EXISTS` keeps a table that exists.
            Action::CreateTable { temporary: true, .. } => {}
            Action::CreateTable { table, columns, if_not_exists, .. } => {
                let columns = columns.iter().cloned().collect();
                if *if_not_exists {
                    self.tables.entry(table.clone()).or_insert(columns);
                } else {
                    self.tables.insert(table.clone(), columns);
                }
            }
            Action::DropTable { tables } => {
                for t in tables {
                    self.tables.remove(t);
                }
            }
            Action::RenameTable { from, to } => {
                if let Some(columns) = self.tables.remove(from) {
                    self.tables.insert(to.clone(), columns);
                }
            }
            Action::AddColumn(new) => {
                self.tables.entry(new.table.clone()).or_default().insert(new.column.clone(), new.ty.clone());
            }
            Action::DropColumn { table, column } => {
                if let Some(t) = self.tables.get_mut(table) {
                    t.remove(column);
                }
            }
            Action::RenameColumn { table, from, to } => {
                if let Some(t) = self.tables.get_mut(table)
                    && let Some(ty) = t.remove(from)
                {
                    t.insert(to.clone(), ty);
                }
            }
            Action::SetType { table, column, ty, .. } => {
                self.tables.entry(table.clone()).or_default().insert(column.clone(), ty.clone());
            }
            Action::AddConstraint { table, name, proves_not_null: Some(column), not_valid, .. } => {
                // An unnamed CHECK gets PostgreSQL's name for it.
                let name = name.clone().unwrap_or_else(|| {
                    format!("{}_{column}_check", table.rsplit('.').next().unwrap_or(table))
                });
                self.proofs.insert((table.clone(), name), (column.clone(), !not_valid));
            }
            Action::ValidateConstraint { table, name } => {
                if let Some(proof) = self.proofs.get_mut(&(table.clone(), name.clone())) {
                    proof.1 = true;
                }
            }
            Action::DropConstraint { table, name } => {
                self.proofs.remove(&(table.clone(), name.clone()));
            }
            // An index `IF NOT EXISTS` may be one that exists, on another table.
            Action::CreateIndex { name: Some(name), table, if_not_exists: false, .. } => {
                self.indexes.insert(name.clone(), table.clone());
            }
            _ => {}
        }
    }

    /// Whether a validated constraint proves `table.column` NOT NULL.
    pub fn proven_not_null(&self, table: &str, column: &str) -> bool {
        self.proofs.iter().any(|((t, _), (c, validated))| t == table && c == column && *validated)
    }

    /// The type of a column the chain created, normalised.
    pub fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        self.tables.get(table)?.get(column).map(String::as_str)
    }
}

/// Where a statement runs, as the rules judge it.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    /// The schema before the statement.
    pub schema: &'a Schema,
    /// Tables created earlier in the same migration: they hold no rows yet, so building on
    /// them blocks nobody.
    pub created_here: &'a HashSet<String>,
    /// Whether the migration runs in one transaction.
    pub transactional: bool,
    /// The PostgreSQL major version the chain targets (`postgres_version`).
    pub version: u32,
    /// The facts of the migration before this one, in order: a rule that depends on what
    /// happened earlier in the same transaction reads them.
    pub earlier: &'a [Fact],
}

impl Context<'_> {
    /// Whether a table exists with rows others use: not created in this migration. A table
    /// the chain never created (made by SQL the rules could not read, or before an adopted
    /// history) counts as existing.
    pub fn existing(&self, table: &str) -> bool {
        !self.created_here.contains(table)
    }
}

/// What a lock rule found: the message and the help, in the house words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What is wrong: the statement, the lock, the table.
    pub message: String,
    /// The safe way.
    pub help: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alter_table_gives_one_fact_per_action() {
        let facts = read(
            "ALTER TABLE \"Crm\".people ADD COLUMN age int NOT NULL DEFAULT random(), ALTER COLUMN name TYPE character varying(20), \
             ALTER name SET NOT NULL; CREATE INDEX CONCURRENTLY i ON ONLY public.people (age)",
        )
        .expect("reads");
        let actions: Vec<&Action> = facts.iter().map(|f| &f.action).collect();
        assert!(
            matches!(actions[0], Action::AddColumn(c) if c.table == "Crm.people" && c.not_null && c.volatile_default && c.ty == "integer")
        );
        assert_eq!(
            actions[1],
            &Action::SetType {
                table: "Crm.people".into(),
                column: "name".into(),
                ty: "varchar(20)".into(),
                using: false
            }
        );
        assert_eq!(actions[2], &Action::SetNotNull { table: "Crm.people".into(), column: "name".into() });
        assert_eq!(
            actions[3],
            &Action::CreateIndex {
                name: Some("i".into()),
                table: "people".into(),
                concurrently: true,
                if_not_exists: false
            }
        );
    }

    #[test]
    fn a_not_null_constraint_not_valid_proves_the_column_once_validated() {
        let mut schema = Schema::default();
        let facts = read("ALTER TABLE t ADD CONSTRAINT t_a_nn NOT NULL a NOT VALID").expect("reads");
        assert!(
            matches!(&facts[0].action, Action::AddConstraint { kind: ConstraintKind::NotNull, not_valid: true, proves_not_null: Some(c), .. } if c == "a")
        );
        schema.apply(&facts[0].action);
        assert!(!schema.proven_not_null("t", "a"));
        for fact in read("ALTER TABLE t VALIDATE CONSTRAINT t_a_nn").expect("reads") {
            schema.apply(&fact.action);
        }
        assert!(schema.proven_not_null("t", "a"));
    }

    #[test]
    fn unreadable_sql_names_its_line() {
        let error = read("SELECT 1;\nALTER TABLE t DROP CONSTRAINT c\nALTER TABLE t ADD COLUMN x int;")
            .expect_err("fails");
        // The statement left unterminated on line 2 is where the parser stops.
        assert_eq!(error.line, 2);
    }

    #[test]
    fn defaults_known_stable_are_not_volatile() {
        let facts = read("ALTER TABLE t ADD COLUMN a timestamptz DEFAULT now(), ADD COLUMN b uuid DEFAULT gen_random_uuid(), ADD COLUMN c int DEFAULT 0").expect("reads");
        let volatile: Vec<bool> = facts
            .iter()
            .filter_map(|f| match &f.action {
                Action::AddColumn(c) => Some(c.volatile_default),
                _ => None,
            })
            .collect();
        assert_eq!(volatile, [false, true, false]);
    }

    #[test]
    fn a_check_of_is_not_null_proves_the_column_once_validated() {
        let mut schema = Schema::default();
        for fact in
            read("ALTER TABLE t ADD CONSTRAINT t_a_nn CHECK (a IS NOT NULL) NOT VALID").expect("reads")
        {
            schema.apply(&fact.action);
        }
        assert!(!schema.proven_not_null("t", "a"));
        for fact in read("ALTER TABLE t VALIDATE CONSTRAINT t_a_nn").expect("reads") {
            schema.apply(&fact.action);
        }
        assert!(schema.proven_not_null("t", "a"));
    }
}
