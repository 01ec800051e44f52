/// Sales now log LinkedIn messages.
#[migration(rev = "c3d4e5f6a1b2", down_revision = "b2c3d4e5f6a1")]
mod add_linkedin_message_type {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_enum_value("interaction_type", "linkedin_message");
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("PostgreSQL cannot drop an enum value");
    }
}
