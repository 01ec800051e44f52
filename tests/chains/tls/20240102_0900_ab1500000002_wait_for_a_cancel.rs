/// A long statement, for the test that cancels it over TLS.
#[migration(rev = "ab1500000002", down_revision = "ab1500000001")]
mod wait_for_a_cancel {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("SELECT pg_sleep(60)");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("SELECT 1");
    }
}
