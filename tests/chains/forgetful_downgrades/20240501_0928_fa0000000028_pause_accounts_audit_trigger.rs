/// No audit notices during the import; the downgrade enables the trigger for replicas only.
#[migration(rev = "fa0000000028", down_revision = "fa0000000027")]
mod pause_accounts_audit_trigger {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts DISABLE TRIGGER accounts_audit");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts ENABLE REPLICA TRIGGER accounts_audit");
    }
}
