/// Sales want to call people back.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_people_phone_column {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("SET LOCAL lock_timeout = 0");
        op.add_column("people", "phone", Type::Text);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("people", "phone");
    }
}
