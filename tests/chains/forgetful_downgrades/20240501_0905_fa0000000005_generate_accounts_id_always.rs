/// Ids only from the identity; the downgrade turns the identity into a serial's sequence and
/// default.
#[migration(rev = "fa0000000005", down_revision = "fa0000000004")]
mod generate_accounts_id_always {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts ALTER COLUMN id SET GENERATED ALWAYS");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts ALTER COLUMN id DROP IDENTITY");
        op.execute("CREATE SEQUENCE accounts_id_seq OWNED BY accounts.id");
        op.execute("ALTER TABLE accounts ALTER COLUMN id SET DEFAULT nextval('accounts_id_seq')");
    }
}
