/// Trigram similarity for searches; the downgrade drops citext instead of pg_trgm.
#[migration(rev = "fa0000000025", down_revision = "fa0000000024")]
mod add_trigram_extension {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP EXTENSION IF EXISTS citext");
    }
}
