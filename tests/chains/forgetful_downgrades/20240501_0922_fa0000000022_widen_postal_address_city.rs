/// Cities of any length; the downgrade restores `city` as varchar(120), not varchar(100).
#[migration(rev = "fa0000000022", down_revision = "fa0000000021")]
mod widen_postal_address_city {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TYPE postal_address ALTER ATTRIBUTE city TYPE text");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TYPE postal_address ALTER ATTRIBUTE city TYPE varchar(120)");
    }
}
