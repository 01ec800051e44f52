//! The README's table of operations is the rendering: each row is a call below, and its SQL
//! column is what that call renders. The table is generated here and must appear in README.md
//! as it is; when it does not, the test fails and prints the table to paste over the old one
//! (`cargo test -p migrate-core --test operations_table`).

use std::time::Duration;

use migrate_core::op::{Action, Op, Type, sql};
use migrate_core::script::set_local_sql;

/// One row of the table: what the call does, the call as written, and the call itself.
struct Row {
    what: &'static str,
    call: &'static str,
    record: fn(&mut Op),
}

/// A row whose call text is the very code that runs: `row!("add a column": op.add_column(…))`.
macro_rules! row {
    ($what:literal: $op:ident . $($call:tt)+) => {
        Row { what: $what, call: stringify!($op . $($call)+), record: |$op: &mut Op| { $op . $($call)+; } }
    };
}

fn rows() -> Vec<Row> {
    vec![
        row!("create a table": op.create_table("lead_scores", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("person_id", Type::BigInt).not_null().references("people", "id").on_delete(Action::Cascade);
            t.column("score", Type::Integer).not_null().server_default(0);
            t.column("last_activity_at", Type::TimestampTz);
        })),
        row!("… with constraints and comments": op.create_table("people_tags", |t| {
            t.column("person_id", Type::BigInt).not_null();
            t.column("label", Type::Text).not_null().comment("Shown on the person's page");
            t.primary_key(&["person_id", "label"]);
            t.check("ck_people_tags_label", "label <> ''");
            t.comment("Labels sales put on people");
        })),
        row!("drop a table": op.drop_table("lead_scores")),
        row!("… if it exists, with what depends on it": op.drop_table("lead_scores").if_exists().cascade()),
        row!("rename a table": op.rename_table("leads", "lead_scores")),
        row!("add a column": op.add_column("interactions", "ai_summary", Type::Text)),
        row!("… not null, with a default": op.add_column("interactions", "status", Type::Varchar(50))
            .not_null()
            .server_default("pending")),
        row!("… with an expression as default": op.add_column("interactions", "created_at", Type::TimestampTz)
            .server_default(sql("now()"))),
        row!("… with a foreign key": op.add_column("interactions", "person_id", Type::BigInt)
            .references("people", "id")
            .on_delete(Action::SetNull)),
        row!("… with a comment": op.add_column("interactions", "summary", Type::Text).comment("AI summary")),
        row!("drop a column": op.drop_column("interactions", "ai_summary")),
        row!("make a column NOT NULL": op.alter_column("interactions", "status").set_not_null()),
        row!("… without blocking writes while rows are checked": op.alter_column("interactions", "status")
            .set_not_null_through_check()),
        row!("let it hold NULL again": op.alter_column("interactions", "status").drop_not_null()),
        row!("change a column's type": op.alter_column("lead_scores", "score").set_type(Type::BigInt)),
        row!("… with a conversion": op.alter_column("interactions", "status")
            .set_type_using(Type::Named("interaction_status"), "status::interaction_status")),
        row!("set a column's default": op.alter_column("interactions", "status").set_default("pending")),
        row!("drop a column's default": op.alter_column("interactions", "status").drop_default()),
        row!("rename a column": op.rename_column("interactions", "body", "description")),
        row!("create an index": op.create_index(
            "idx_interactions_org_created",
            "interactions",
            &["organisation_id", "created_at"]
        )),
        row!("… unique, without blocking writes": op.create_index("uq_users_email", "users", &["email"])
            .unique()
            .concurrently()),
        row!("… partial, of another type": op.create_index("idx_interactions_open_tags", "interactions", &["tags"])
            .using("gin")
            .where_sql("completed_at IS NULL")),
        row!("drop an index": op.drop_index("idx_interactions_org_created")),
        row!("… without blocking queries": op.drop_index("uq_users_email").concurrently().if_exists()),
        row!("add a unique constraint": op.create_unique_constraint(
            "uq_email_campaign_name",
            "email_campaigns",
            &["name"]
        )),
        row!("… without blocking writes": op.create_unique_constraint(
            "uq_email_campaign_name",
            "email_campaigns",
            &["name"]
        )
        .concurrently()),
        row!("add a primary key": op.create_primary_key("people_tags_pkey", "people_tags", &["person_id", "label"])),
        row!("… without blocking writes": op.create_primary_key("people_tags_pkey", "people_tags", &["person_id", "label"])
            .concurrently()),
        row!("add a check constraint": op.create_check_constraint("ck_lead_scores_score", "lead_scores", "score >= 0")),
        row!("… checking existing rows later": op.create_check_constraint("ck_lead_scores_score", "lead_scores", "score >= 0")
            .not_valid()),
        row!("add a foreign key": op.create_foreign_key(
            "fk_interaction_assignee",
            "interactions",
            "users",
            &["assignee_id"],
            &["id"]
        )
        .on_delete(Action::SetNull)),
        row!("… checking existing rows later": op.create_foreign_key(
            "fk_interaction_assignee",
            "interactions",
            "users",
            &["assignee_id"],
            &["id"]
        )
        .not_valid()),
        row!("check them": op.validate_constraint("interactions", "fk_interaction_assignee")),
        row!("drop a constraint": op.drop_constraint("email_campaigns", "uq_email_campaign_name")),
        row!("create an enum": op.create_enum("interaction_type", &["call", "email", "meeting"])),
        row!("add a value to an enum": op.add_enum_value("interaction_type", "linkedin_message").if_not_exists()),
        row!("… at a given place": op.add_enum_value("interaction_type", "video_call").after("call")),
        row!("drop an enum": op.drop_enum("interaction_type")),
        row!("comment on a table": op.comment_on_table("lead_scores", Some("Marketing's lead ranking"))),
        row!("remove a column's comment": op.comment_on_column("interactions", "ai_summary", None)),
        row!("insert rows": op.bulk_insert(
            "tags",
            &["label", "rank"],
            vec![vec!["vip".into(), 1.into()], vec!["cold".into(), None::<i64>.into()]]
        )),
        row!("update rows in batches, each committing": op.backfill(
            "interactions",
            "status = 'pending'",
            "status IS NULL"
        )
        .batch_size(5000)),
        row!("run SQL (one statement or several)": op.execute(
            "UPDATE interactions SET status = 'pending' WHERE status IS NULL"
        )),
        row!("declare the downgrade impossible": op.irreversible("PostgreSQL cannot drop an enum value")),
        row!("bound the wait for locks": op.lock_timeout(Duration::from_secs(5))),
        row!("bound each statement's time": op.statement_timeout(Duration::from_secs(60))),
    ]
}

/// Runs of whitespace as one space: the table's cells are one line each.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A table cell: one line, its pipes escaped (GitHub's tables read `\|` even in code spans).
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// A statement on one line: a multi-line `CREATE TABLE` or `INSERT` loses its line breaks and
/// indentation, the rest of its spacing kept.
fn sql_line(sql: &str) -> String {
    sql.replace("(\n    ", "(").replace(",\n    ", ", ").replace("\n)", ")")
}

/// A code span holding `text`, with enough backticks around it.
fn code(text: &str) -> String {
    let fence = if text.contains('`') { "``" } else { "`" };
    format!("{fence}{}{fence}", cell(text))
}

/// The table as README.md holds it.
fn table() -> String {
    let mut out = String::from("| operation | call | SQL | outside a transaction |\n|---|---|---|---|\n");
    for row in rows() {
        let mut op = Op::new();
        (row.record)(&mut op);
        let statements = op.statements();
        let mut sql: Vec<String> = statements.iter().map(|s| code(&sql_line(&s.sql))).collect();
        sql.extend(op.settings().iter().map(|(name, value)| code(&set_local_sql(name, value))));
        let sql = if sql.is_empty() { "none".to_owned() } else { sql.join("<br>") };
        let outside = if statements.iter().any(|s| s.no_transaction().is_some()) { "yes" } else { "" };
        out.push_str(&format!("| {} | {} | {sql} | {outside} |\n", cell(row.what), code(row.call)));
    }
    out
}

#[test]
fn the_readme_table_is_the_rendering() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("reads README.md");
    let table = table();
    assert!(
        readme.contains(&table),
        "README.md's table of operations differs from the rendering; the table should read:\n\n{table}"
    );
}

#[test]
fn every_operation_of_op_has_a_row() {
    // The methods of `Op` that record an operation, as the table's calls name them.
    let operations = [
        "create_table",
        "drop_table",
        "rename_table",
        "add_column",
        "drop_column",
        "alter_column",
        "rename_column",
        "create_index",
        "drop_index",
        "create_unique_constraint",
        "create_primary_key",
        "create_check_constraint",
        "create_foreign_key",
        "validate_constraint",
        "drop_constraint",
        "create_enum",
        "drop_enum",
        "add_enum_value",
        "comment_on_table",
        "comment_on_column",
        "bulk_insert",
        "backfill",
        "execute",
        "irreversible",
        "lock_timeout",
        "statement_timeout",
    ];
    let rows = rows();
    for operation in operations {
        let call = format!("op.{operation}(");
        assert!(rows.iter().any(|r| r.call.starts_with(&call)), "no row calls `{operation}`");
    }
}

/// The safe recipes' SQL, pinned (`cargo insta review` after a change): each statement with the
/// call it comes from, and whether it runs outside a transaction.
#[test]
fn recipes() {
    let mut op = Op::new();
    op.create_check_constraint("ck_lead_scores_score", "lead_scores", "score >= 0").not_valid();
    op.validate_constraint("lead_scores", "ck_lead_scores_score");
    op.create_unique_constraint("uq_people_email", "crm.people", &["email", "organisation_id"])
        .concurrently();
    op.create_primary_key("people_pkey", "crm.people", &["id"]).concurrently();
    op.alter_column("crm.people", "email").set_not_null_through_check();
    op.alter_column("interactions_with_a_rather_long_name", "assigned_customer_success_manager_id")
        .set_not_null_through_check();
    op.backfill("crm.people", "email = lower(email), normalised = true", "NOT normalised");
    op.backfill("interactions", "status = 'pending'", "status IS NULL").batch_size(250);
    let rendered: Vec<String> = op
        .statements()
        .iter()
        .map(|s| {
            let mark = if s.no_transaction().is_some() { "  -- outside a transaction" } else { "" };
            format!("-- {}\n{};{mark}", s.op, s.sql)
        })
        .collect();
    insta::assert_snapshot!(rendered.join("\n"));
}
