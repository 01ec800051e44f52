/// A last data migration that must run once.
#[migration(rev = "ff0000000006", down_revision = "fe0000000005")]
mod mark_items {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("INSERT INTO ledger (rev) VALUES ('ff0000000006')");
        op.execute("UPDATE items SET name = name || ' ✓'");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("UPDATE items SET name = rtrim(name, ' ✓')");
        op.execute("DELETE FROM ledger WHERE rev = 'ff0000000006'");
    }
}
