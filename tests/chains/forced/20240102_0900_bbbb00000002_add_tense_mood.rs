/// Marked transactional as the tool it was imported from ran it, though its first statement
/// alone would run outside a transaction; its last statement fails.
#[migration(rev = "bbbb00000002", down_revision = "aaaa00000001", transactional = true)]
mod add_tense_mood {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TYPE mood ADD VALUE 'tense'");
        op.execute("SELECT nextval('attempts')");
        op.execute("SELECT 1 / 0");
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("an enum value cannot be removed");
    }
}
