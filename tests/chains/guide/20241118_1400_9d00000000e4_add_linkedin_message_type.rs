/// The guide's example 4 (an enum value): sales now log LinkedIn messages as interactions.
/// PostgreSQL cannot use a new enum value in the transaction that adds it, so this migration
/// runs outside one; and it cannot drop an enum value, so the downgrade says so instead of
/// doing nothing (removing it means recreating the type and converting every column of it).
#[migration(rev = "9d00000000e4", down_revision = "9d00000000a3")]
mod add_linkedin_message_type {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_enum_value("interaction_type", "linkedin_message").if_not_exists();
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("PostgreSQL cannot drop an enum value; recreate the type to remove it");
    }
}
