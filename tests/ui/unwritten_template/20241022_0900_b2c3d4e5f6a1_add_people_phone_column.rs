/// Sales call people back by phone.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_people_phone_column {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        // Record the change, such as: op.add_column("people", "phone", Type::Text);
        todo!("record the change on `op`")
    }

    pub fn downgrade(op: &mut Op) {
        // Undo it, such as: op.drop_column("people", "phone");
        // or, when nothing can undo it: op.irreversible("why");
        todo!("undo the change on `op`")
    }
}
