//! Writing the model out as SQL: the committed schema snapshot, read by reviewers and
//! runnable on an empty database (a test replays it and reads back the same model).

use migrate_core::sql::quote_literal;

use super::{Key, Kind, Object, Schema};

/// The order statements are written in: what others are built on first; indexes and
/// triggers after the materialized views they may be on.
const ORDER: [Kind; 15] = [
    Kind::Schema,
    Kind::Extension,
    Kind::Enum,
    Kind::Domain,
    Kind::Composite,
    Kind::Range,
    Kind::Sequence,
    Kind::Function,
    Kind::Table,
    Kind::Constraint,
    Kind::View,
    Kind::MaterializedView,
    Kind::Index,
    Kind::Trigger,
    Kind::Policy,
];

/// The words of `COMMENT ON` for an object.
fn comment_target(schema: &Schema, key: &Key, object: &Object) -> String {
    let table = || {
        let table = Key {
            kind: Kind::Table,
            schema: key.schema.clone(),
            table: None,
            name: key.table.clone().unwrap_or_default(),
        };
        schema.get(&table).map(|t| t.sql_name.clone()).unwrap_or_default()
    };
    let name = &object.sql_name;
    match key.kind {
        Kind::Schema => format!("SCHEMA {name}"),
        Kind::Extension => format!("EXTENSION {name}"),
        Kind::Enum | Kind::Composite | Kind::Range => format!("TYPE {name}"),
        Kind::Domain => format!("DOMAIN {name}"),
        Kind::Sequence => format!("SEQUENCE {name}"),
        Kind::Function if object.get("kind") == Some("procedure") => format!("PROCEDURE {name}"),
        Kind::Function => format!("FUNCTION {name}"),
        Kind::Table if object.get("foreign").is_some() => format!("FOREIGN TABLE {name}"),
        Kind::Table => format!("TABLE {name}"),
        Kind::Column => format!("COLUMN {}.{name}", table()),
        Kind::Constraint => format!("CONSTRAINT {name} ON {}", table()),
        Kind::Index => format!("INDEX {name}"),
        Kind::View => format!("VIEW {name}"),
        Kind::MaterializedView => format!("MATERIALIZED VIEW {name}"),
        Kind::Trigger => format!("TRIGGER {name} ON {}", table()),
        Kind::Policy => format!("POLICY {name} ON {}", table()),
    }
}

/// `CREATE TABLE` with its columns in order.
fn create_table(schema: &Schema, key: &Key, table: &Object) -> String {
    let name = &table.sql_name;
    if table.get("foreign").is_some() {
        return format!("-- {name} is a foreign table: its server and options are not written out.");
    }
    if let (Some(parent), Some(bound)) = (table.get("partition of"), table.get("bound")) {
        let mut sql = format!("CREATE TABLE {name} PARTITION OF {parent} {bound}");
        if let Some(by) = table.get("partitioned by") {
            sql.push_str(&format!(" PARTITION BY {by}"));
        }
        return format!("{sql};");
    }
    let columns: Vec<String> = table
        .columns
        .iter()
        .filter_map(|column| {
            let key = Key {
                kind: Kind::Column,
                schema: key.schema.clone(),
                table: Some(key.name.clone()),
                name: column.clone(),
            };
            let object = schema.get(&key)?;
            let mut line = format!("    {} {}", object.sql_name, object.get("type").unwrap_or_default());
            if let Some(collation) = object.get("collation") {
                line.push_str(&format!(" COLLATE {collation}"));
            }
            if let Some(expression) = object.get("generated") {
                line.push_str(&format!(" GENERATED ALWAYS AS ({expression}) STORED"));
            }
            if let Some(identity) = object.get("identity") {
                line.push_str(&format!(" GENERATED {identity} AS IDENTITY"));
                if let Some(sequence) = object.get("identity sequence") {
                    line.push_str(&format!(" ({sequence})"));
                }
            }
            if let Some(default) = object.get("default") {
                line.push_str(&format!(" DEFAULT {default}"));
            }
            if object.get("not null").is_some() {
                line.push_str(" NOT NULL");
            }
            Some(line)
        })
        .collect();
    let unlogged = if table.get("persistence") == Some("unlogged") { "UNLOGGED " } else { "" };
    let mut sql = if columns.is_empty() {
        format!("CREATE {unlogged}TABLE {name} ()")
    } else {
        format!("CREATE {unlogged}TABLE {name} (\n{}\n)", columns.join(",\n"))
    };
    if let Some(parents) = table.get("inherits") {
        sql.push_str(&format!(" INHERITS ({parents})"));
    }
    if let Some(by) = table.get("partitioned by") {
        sql.push_str(&format!(" PARTITION BY {by}"));
    }
    if let Some(options) = table.get("options") {
        sql.push_str(&format!(" WITH ({options})"));
    }
    sql.push(';');
    match table.get("row level security") {
        Some("enabled") => sql.push_str(&format!("\nALTER TABLE {name} ENABLE ROW LEVEL SECURITY;")),
        Some("forced (not enabled)") => {
            sql.push_str(&format!("\nALTER TABLE {name} FORCE ROW LEVEL SECURITY;"))
        }
        Some(_) => sql.push_str(&format!(
            "\nALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {name} FORCE ROW LEVEL SECURITY;"
        )),
        None => {}
    }
    sql
}

/// The statement that creates an object (`None` for what comes with every database or is
/// built with another object: the public schema, a column, a partition's copy of its parent's
/// index).
pub(super) fn statement(schema: &Schema, key: &Key, object: &Object) -> Option<String> {
    match key.kind {
        Kind::Schema if key.name == "public" => None,
        Kind::Schema => Some(format!("CREATE SCHEMA {};", object.sql_name)),
        Kind::Table => Some(create_table(schema, key, object)),
        Kind::Column => None,
        _ => object.sql.clone(),
    }
}

/// `COMMENT ON … IS …;` for an object's comment, if it has one.
pub(super) fn comment_statement(schema: &Schema, key: &Key, object: &Object) -> Option<String> {
    let comment = object.get("comment")?;
    Some(format!("COMMENT ON {} IS {};", comment_target(schema, key, object), quote_literal(comment)))
}

/// The whole script.
pub(super) fn script(schema: &Schema) -> String {
    let mut out = String::from(
        "-- Function bodies are checked when they run, so that the order of this file need not\n\
         -- follow what they read.\nSET check_function_bodies = off;\n",
    );
    for kind in ORDER {
        let mut objects: Vec<(&Key, &Object)> = schema.objects().filter(|(k, _)| k.kind == kind).collect();
        objects.sort_by_key(|(key, object)| (object.depth, *key));
        let statements: Vec<String> =
            objects.into_iter().filter_map(|(key, object)| statement(schema, key, object)).collect();
        if !statements.is_empty() {
            out.push('\n');
            out.push_str(&statements.join("\n\n"));
            out.push('\n');
        }
    }
    let mut tail = Vec::new();
    for (key, object) in schema.objects() {
        if key.kind == Kind::Sequence
            && let Some(owner) = object.get("owned by")
        {
            tail.push(format!("ALTER SEQUENCE {} OWNED BY {owner};", object.sql_name));
        }
    }
    tail.extend(schema.objects().filter_map(|(key, object)| comment_statement(schema, key, object)));
    for (key, object) in schema.objects() {
        let (owner, privileges) = (object.get("owner"), object.get("privileges"));
        if owner.is_some() || privileges.is_some() {
            tail.push(format!(
                "-- {key}: owner {}, privileges {}",
                owner.unwrap_or("(not read)"),
                privileges.unwrap_or("(not read)")
            ));
        }
    }
    if !tail.is_empty() {
        out.push('\n');
        out.push_str(&tail.join("\n"));
        out.push('\n');
    }
    out
}
