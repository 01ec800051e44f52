//! Writing the model out as SQL: the committed schema snapshot, read by reviewers and
//! runnable on an empty database (a test replays it and reads back the same model).

use migrate_core::sql::{quote_ident, quote_literal};
use migrate_core::text::on_one_line;

use super::{Key, Kind, Object, Schema};

/// How SQL names an object after `COMMENT ON` or `DROP`.
pub(super) fn comment_target(schema: &Schema, key: &Key, object: &Object) -> String {
    let table = || match object.relation() {
        Some(relation) => relation.to_owned(),
        None => {
            let table = Key {
                kind: Kind::Table,
                schema: key.schema.clone(),
                table: None,
                name: key.table.clone().unwrap_or_default(),
            };
            schema.get(&table).map(|t| t.sql_name.clone()).unwrap_or_default()
        }
    };
    let name = &object.sql_name;
    match key.kind {
        Kind::Schema => format!("SCHEMA {name}"),
        Kind::Extension => format!("EXTENSION {name}"),
        Kind::Collation => format!("COLLATION {name}"),
        Kind::Enum | Kind::Composite | Kind::Range => format!("TYPE {name}"),
        Kind::Domain => format!("DOMAIN {name}"),
        Kind::Sequence => format!("SEQUENCE {name}"),
        Kind::Procedure => format!("PROCEDURE {name}"),
        Kind::Function => format!("FUNCTION {name}"),
        Kind::Aggregate => format!("AGGREGATE {name}"),
        Kind::Table if object.get("foreign").is_some() => format!("FOREIGN TABLE {name}"),
        Kind::Table => format!("TABLE {name}"),
        Kind::Column => format!("COLUMN {}.{name}", table()),
        Kind::Constraint => format!("CONSTRAINT {name} ON {}", table()),
        Kind::Index => format!("INDEX {name}"),
        Kind::View => format!("VIEW {name}"),
        Kind::MaterializedView => format!("MATERIALIZED VIEW {name}"),
        Kind::Trigger => format!("TRIGGER {name} ON {}", table()),
        Kind::Policy => format!("POLICY {name} ON {}", table()),
        Kind::Rule => format!("RULE {name} ON {}", table()),
        Kind::Statistics => format!("STATISTICS {name}"),
    }
}

/// `CREATE TABLE` with its columns in order, and what a column or the table holds beyond what
/// `CREATE TABLE` says: a partition's or a typed table's own defaults and NOT NULLs, storage,
/// compression, statistics targets, row-level security.
fn create_table(schema: &Schema, key: &Key, table: &Object) -> String {
    let name = &table.sql_name;
    if table.get("foreign").is_some() {
        return format!("-- {name} is a foreign table: its server and options are not written out.");
    }
    let columns: Vec<&Object> = table
        .columns
        .iter()
        .filter_map(|column| {
            schema.get(&Key {
                kind: Kind::Column,
                schema: key.schema.clone(),
                table: Some(key.name.clone()),
                name: column.clone(),
            })
        })
        .collect();
    // A partition and a typed table take their columns from their parent or type.
    let borrowed = table.get("partition of").is_some() || table.get("of type").is_some();
    let mut after = Vec::new();
    for column in &columns {
        let alter = format!("ALTER TABLE {name} ALTER COLUMN {}", column.sql_name);
        if borrowed {
            if let Some(default) = column.get("default") {
                after.push(format!("{alter} SET DEFAULT {default};"));
            }
            if column.get("not null").is_some() {
                after.push(format!("{alter} SET NOT NULL;"));
            }
        }
        for (attribute, clause) in
            [("storage", "SET STORAGE"), ("compression", "SET COMPRESSION"), ("statistics", "SET STATISTICS")]
        {
            if let Some(value) = column.get(attribute) {
                after.push(format!("{alter} {clause} {value};"));
            }
        }
        if let Some(options) = column.get("options") {
            after.push(format!("{alter} SET ({options});"));
        }
    }
    let unlogged = if table.get("persistence") == Some("unlogged") { "UNLOGGED " } else { "" };
    let mut sql = if let (Some(parent), Some(bound)) = (table.get("partition of"), table.get("bound")) {
        format!("CREATE {unlogged}TABLE {name} PARTITION OF {parent} {bound}")
    } else if let Some(of) = table.get("of type") {
        format!("CREATE {unlogged}TABLE {name} OF {of}")
    } else {
        let lines: Vec<String> =
            columns.iter().map(|column| format!("    {}", column.column_definition())).collect();
        if lines.is_empty() {
            format!("CREATE {unlogged}TABLE {name} ()")
        } else {
            format!("CREATE {unlogged}TABLE {name} (\n{}\n)", lines.join(",\n"))
        }
    };
    for (attribute, clause) in [
        ("inherits", "INHERITS ("),
        ("partitioned by", "PARTITION BY "),
        ("access method", "USING "),
        ("options", "WITH ("),
        ("tablespace", "TABLESPACE "),
    ] {
        if let Some(value) = table.get(attribute) {
            let close = if clause.ends_with('(') { ")" } else { "" };
            sql.push_str(&format!(" {clause}{value}{close}"));
        }
    }
    sql.push(';');
    match table.get("row level security") {
        Some("enabled") => after.push(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;")),
        Some("forced (not enabled)") => after.push(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")),
        Some(_) => {
            after.push(format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;"));
            after.push(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;"));
        }
        None => {}
    }
    for line in after {
        sql.push('\n');
        sql.push_str(&line);
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

/// Whether the script leaves `key` out: the model cannot write a foreign table (its server and
/// options are not read) nor an ordered-set aggregate, nor what is on them.
pub(super) fn unwritten(schema: &Schema, key: &Key) -> bool {
    let foreign = |table: &str| {
        let key = Key { kind: Kind::Table, schema: key.schema.clone(), table: None, name: table.to_owned() };
        schema.get(&key).is_some_and(|t| t.get("foreign").is_some())
    };
    match (&key.table, key.kind) {
        (Some(table), _) => foreign(table),
        (None, Kind::Table) => foreign(&key.name),
        (None, Kind::Aggregate) => schema.get(key).is_some_and(|a| a.get("kind").is_some()),
        _ => false,
    }
}

/// The whole script.
pub(super) fn script(schema: &Schema) -> String {
    let mut out = String::from(
        "-- Function bodies are checked when they run, so that the order of this file need not\n\
         -- follow what they read.\nSET check_function_bodies = off;\n",
    );
    let left_out: Vec<String> = schema
        .objects()
        .filter(|(key, _)| key.kind != Kind::Column && unwritten(schema, key))
        .map(|(key, _)| format!("--   {key}"))
        .collect();
    if !left_out.is_empty() {
        out.push_str(&format!(
            "-- Not written out (the schema model cannot write them), nor what is on them:\n{}\n",
            left_out.join("\n")
        ));
    }
    let statements: Vec<String> = schema
        .creation_order()
        .into_iter()
        .filter(|key| !unwritten(schema, key))
        .filter_map(|key| statement(schema, key, schema.get(key)?))
        .collect();
    if !statements.is_empty() {
        out.push('\n');
        out.push_str(&statements.join("\n\n"));
        out.push('\n');
    }
    let left_out_tables: Vec<&str> = schema
        .objects()
        .filter(|(key, _)| key.kind == Kind::Table && unwritten(schema, key))
        .map(|(_, table)| table.sql_name.as_str())
        .collect();
    let mut tail = Vec::new();
    for (key, object) in schema.objects().filter(|(key, _)| !unwritten(schema, key)) {
        // After every index: a replica identity may name one.
        if key.kind == Kind::Table
            && let Some(identity) = object.get("replica identity")
        {
            tail.push(format!("ALTER TABLE {} REPLICA IDENTITY {identity};", object.sql_name));
        }
        // The index behind a key is the key's own: its options and comment come here.
        if key.kind == Kind::Constraint {
            let index = format!("{}.{}", quote_ident(&key.schema), object.sql_name);
            if let Some(options) = object.get("index options") {
                tail.push(format!("ALTER INDEX {index} SET ({options});"));
            }
            if let Some(comment) = object.get("index comment") {
                tail.push(format!("COMMENT ON INDEX {index} IS {};", quote_literal(comment)));
            }
        }
        if key.kind == Kind::Index
            && let Some(tablespace) = object.get("tablespace")
        {
            tail.push(format!("ALTER INDEX {} SET TABLESPACE {tablespace};", object.sql_name));
        }
    }
    for (key, object) in schema.objects() {
        if key.kind == Kind::Sequence
            && let Some(owner) = object.get("owned by")
            && !left_out_tables.iter().any(|table| owner.starts_with(&format!("{table}.")))
        {
            tail.push(format!("ALTER SEQUENCE {} OWNED BY {owner};", object.sql_name));
        }
    }
    tail.extend(
        schema
            .objects()
            .filter(|(key, _)| !unwritten(schema, key))
            .filter_map(|(key, object)| comment_statement(schema, key, object)),
    );
    for (key, object) in schema.objects() {
        let (owner, privileges) = (object.get("owner"), object.get("privileges"));
        if owner.is_some() || privileges.is_some() {
            tail.push(format!(
                "-- {key}: owner {}, privileges {}",
                on_one_line(owner.unwrap_or("(not read)")),
                on_one_line(privileges.unwrap_or("(not read)"))
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
