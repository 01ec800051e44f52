/// Sales now log LinkedIn messages.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_linkedin_message_type {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_enum_value("interaction_type", "linkedin_message");
    }

    pub fn downgrade(_op: &mut Op) {}
}
