/// Semantic search over emails.
#[migration(rev = "5e6f1a2b3c4d", down_revision = "4d5e6f1a2b3c")]
mod add_embeddings_to_emails {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("embeddings_to_emails", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("embeddings_to_emails");
    }
}
