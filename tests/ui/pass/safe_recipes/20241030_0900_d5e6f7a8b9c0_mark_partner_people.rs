/// The known partners are marked, now that the value is committed.
#[migration(rev = "d5e6f7a8b9c0", down_revision = "c4d5e6f7a8b9",
    allow(unchecked_sql = "the block only checks that PL/pgSQL is installed"))]
mod mark_partner_people {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("UPDATE people SET kind = 'partner' WHERE email LIKE '%@partner.example'");
        op.execute("DO $$ BEGIN PERFORM 1; END $$");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("UPDATE people SET kind = NULL WHERE kind = 'partner'");
    }
}
