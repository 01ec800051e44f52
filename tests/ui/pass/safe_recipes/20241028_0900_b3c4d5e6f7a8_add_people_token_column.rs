/// Each person gets a token for links: the column first, new rows get one by default.
#[migration(rev = "b3c4d5e6f7a8", down_revision = "a2b3c4d5e6f7")]
mod add_people_token_column {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_column("people", "token", Type::Uuid);
        op.alter_column("people", "token").set_default(sql("gen_random_uuid()"));
        op.add_column("people", "status", Type::Text).not_null().server_default("active");
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("people", "status");
        op.drop_column("people", "token");
    }
}
