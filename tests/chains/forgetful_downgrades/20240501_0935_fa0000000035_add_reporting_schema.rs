/// A schema for reports; the downgrade drops `reports`, not `reporting`.
#[migration(rev = "fa0000000035", down_revision = "fa0000000034")]
mod add_reporting_schema {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE SCHEMA reporting");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP SCHEMA IF EXISTS reports");
    }
}
