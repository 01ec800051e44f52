/// Sales now log LinkedIn messages.
#[migration(rev = "9c4d5e6f1a2b", down_revision = "8b3c4d5e6f1a")]
mod add_linkedin_message_type {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_enum_value("interaction_type", "linkedin_message").if_not_exists();
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("PostgreSQL cannot drop an enum value");
    }
}
