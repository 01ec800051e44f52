/// Statements outside a transaction whose effect the catalog cannot show: only the history
/// can tell that they all ran.
#[migration(rev = "bbbb00000002", down_revision = "aaaa00000001", transactional = false)]
mod vacuum_people {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("SELECT pg_sleep(1)");
        op.execute("VACUUM people");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("VACUUM people");
    }
}
