/// Account numbers step by ten; the downgrade restores the increment but caches 20 values, not 1.
#[migration(rev = "fa0000000020", down_revision = "fa0000000019")]
mod step_account_numbers_by_ten {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER SEQUENCE account_number_seq INCREMENT BY 10");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER SEQUENCE account_number_seq INCREMENT BY 1 CACHE 20");
    }
}
