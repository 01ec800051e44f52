//! The guide's good names pass (`vague_slug`), each migration with its doc comment saying why
//! (`missing_why`), and an enum value runs outside a transaction.

static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!("guide_names");

fn main() {
    let slugs: Vec<&str> = MIGRATIONS.iter().map(|m| m.slug).collect();
    assert_eq!(
        slugs,
        [
            "add_interactions_v1",
            "add_status_to_interactions",
            "add_email_campaigns_table",
            "add_lead_scores_table",
            "add_embeddings_to_emails",
            "fix_interaction_statuses",
            "rename_body_to_description",
            "email_marketing_lite",
            "add_linkedin_message_type",
        ]
    );
    let enum_value = MIGRATIONS.get("9c4d5e6f1a2b").expect("compiled");
    assert!(!enum_value.transactional);
    assert_eq!(enum_value.downgrade_ops().irreversible_reason(), Some("PostgreSQL cannot drop an enum value"));
    assert!(MIGRATIONS.iter().filter(|m| m.rev != "9c4d5e6f1a2b").all(|m| m.transactional));
}
