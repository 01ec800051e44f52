/// Sales call people back by phone.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_people_phone_column {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        // Record the change, such as: op.add_column("people", "phone", Type::Text);
        let _ = op;
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("people", "phone");
    }
}
