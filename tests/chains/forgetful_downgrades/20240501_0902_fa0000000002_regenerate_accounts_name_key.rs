/// Name keys trimmed; the downgrade restores the generated column with `btrim(lower(name))`, not
/// `lower(name)`.
#[migration(
    rev = "fa0000000002",
    down_revision = "fa0000000001",
    allow(
        destructive_change = "a test chain: the generated column holds nothing of its own",
        rewriting_add_column = "a test chain: the table is empty when it runs"
    )
)]
mod regenerate_accounts_name_key {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts DROP COLUMN name_key");
        op.execute(
            "ALTER TABLE accounts ADD COLUMN name_key text GENERATED ALWAYS AS (lower(btrim(name))) STORED",
        );
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("ALTER TABLE accounts DROP COLUMN name_key");
        op.execute(
            "ALTER TABLE accounts ADD COLUMN name_key text GENERATED ALWAYS AS (btrim(lower(name))) STORED",
        );
    }
}
