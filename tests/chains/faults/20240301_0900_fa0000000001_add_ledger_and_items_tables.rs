/// A ledger each data migration writes its revision into, so a test can count how often each ran.
#[migration(rev = "fa0000000001", down_revision = None)]
mod add_ledger_and_items_tables {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE TABLE ledger (rev text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())");
        op.execute("CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL)");
        op.execute("CREATE TYPE mood AS ENUM ('calm')");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP TYPE mood");
        op.execute("DROP TABLE items");
        op.execute("DROP TABLE ledger");
    }
}
