/// Notes on accounts, deleted with them; the downgrade is right.
#[migration(rev = "fa0000000015", down_revision = "fa0000000014")]
mod add_account_notes_table {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.create_table("account_notes", |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column("account_id", Type::BigInt)
                .not_null()
                .references("accounts", "id")
                .on_delete(Action::Cascade);
            t.column("body", Type::Text).not_null();
        });
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("account_notes");
    }
}
