/// A new enum value, outside a transaction.
#[migration(rev = "fd0000000004", down_revision = "fc0000000003", transactional = false)]
mod add_tense_mood {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'tense'");
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("an enum value cannot be removed");
    }
}
