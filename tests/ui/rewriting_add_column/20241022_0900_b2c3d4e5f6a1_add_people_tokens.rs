/// Each person gets a token for links and a sequence number for exports.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_people_tokens {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_column("people", "token", Type::Uuid).server_default(sql("gen_random_uuid()"));
        op.execute("ALTER TABLE people ADD COLUMN export_seq bigserial");
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("people", "export_seq");
        op.drop_column("people", "token");
    }
}
