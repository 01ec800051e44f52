/// Phone numbers; the downgrade forgets the column.
#[migration(rev = "bbbb00000002", down_revision = "aaaa00000001")]
mod add_people_phone_column {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_column("people", "phone", Type::Text);
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("SELECT 1");
    }
}
