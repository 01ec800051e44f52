//! The SQL every operation renders, pinned by snapshots (`cargo insta review` after a change).
//! Identifiers are always quoted; values are literals; only what the API documents as SQL
//! (predicates, `USING` and `CHECK` expressions, `sql(…)` defaults, `execute`) is written as
//! given.

use std::time::Duration;

use migrate_core::op::{Action, Op, Type, sql};

fn render(build: impl FnOnce(&mut Op)) -> String {
    let mut op = Op::new();
    build(&mut op);
    op.statements()
        .into_iter()
        .map(|s| {
            let mark = if s.no_transaction().is_some() { "  -- outside a transaction" } else { "" };
            format!("-- {}\n{};{mark}", s.op, s.sql)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn tables() {
    insta::assert_snapshot!(render(|op| {
        op.create_table("lead_scores", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("person_id", Type::BigInt)
                .not_null()
                .references("people", "id")
                .on_delete(Action::Cascade);
            t.column("score", Type::Integer).not_null().server_default(0);
            t.column("label", Type::Varchar(50)).server_default("it's new").unique();
            t.column("created_at", Type::TimestampTz).not_null().server_default(sql("now()"));
            t.column("tags", Type::Array(&Type::Text)).comment("free-form tags");
            t.column("amount", Type::Numeric(12, 2));
            t.check("ck_score_positive", "score >= 0");
            t.unique("uq_person_label", &["person_id", "label"]);
            t.comment("Marketing's lead scores");
        });
        op.create_table("crm.Order", |t| {
            t.column("select", Type::Serial);
            t.column("we\"ird", Type::Named("crm.order_status"));
            t.column("embedding", Type::Sql("vector(1536)"));
            t.primary_key(&["select"]);
        })
        .if_not_exists();
        op.rename_table("lead_scores", "scores");
        op.drop_table("scores").if_exists().cascade();
    }));
}

#[test]
fn columns() {
    insta::assert_snapshot!(render(|op| {
        op.add_column("interactions", "status", Type::Varchar(50)).not_null().server_default("pending");
        op.add_column("interactions", "ai_summary", Type::Text).comment("Résumé IA de l'interaction");
        op.alter_column("interactions", "status")
            .set_type_using(Type::Text, "status::text")
            .set_not_null()
            .set_default("open")
            .rename_to("state");
        op.alter_column("interactions", "body").drop_not_null().drop_default().set_type(Type::Text);
        op.rename_column("interactions", "body", "description");
        op.drop_column("interactions", "legacy").if_exists();
    }));
}

#[test]
fn indexes_and_constraints() {
    insta::assert_snapshot!(render(|op| {
        op.create_index("idx_interactions_org_created", "interactions", &["organisation_id", "created_at"]);
        op.create_index("idx_open", "interactions", &["status"])
            .unique()
            .where_sql("status <> 'done'")
            .if_not_exists();
        op.create_index("idx_emails_embedding", "emails", &["embedding"]).using("hnsw").concurrently();
        op.drop_index("idx_open").concurrently().if_exists();
        op.create_unique_constraint("uq_email_campaign_name", "email_campaigns", &["name"]);
        op.create_check_constraint("ck_status", "interactions", "status IN ('pending', 'done')");
        op.create_foreign_key("fk_interaction_assignee", "interactions", "users", &["assignee_id"], &["id"])
            .on_delete(Action::SetNull)
            .on_update(Action::Cascade)
            .not_valid();
        op.validate_constraint("interactions", "fk_interaction_assignee");
        op.drop_constraint("interactions", "ck_status");
    }));
}

#[test]
fn enums_comments_data_and_sql() {
    insta::assert_snapshot!(render(|op| {
        op.create_enum("interaction_type", &["call", "email", "it's"]);
        op.add_enum_value("interaction_type", "linkedin_message").if_not_exists().after("email");
        op.add_enum_value("interaction_type", "sms").before("call");
        op.drop_enum("old_type").if_exists();
        op.comment_on_table("people", Some("Everyone the CRM tracks"));
        op.comment_on_column("people", "email", None);
        op.bulk_insert(
            "settings",
            &["key", "value", "enabled", "weight"],
            vec![
                vec!["theme".into(), "dark".into(), true.into(), 1.5.into()],
                vec!["locale".into(), Option::<&str>::None.into(), false.into(), 2.into()],
            ],
        );
        op.execute("UPDATE interactions SET status = 'pending' WHERE status IS NULL; VACUUM interactions");
        op.irreversible("nothing to render");
        op.lock_timeout(Duration::from_secs(5));
    }));
}
