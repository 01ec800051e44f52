/// Every person keeps an id once the import is done.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod backfill_people_ids {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute(include_str!("sql/backfill.sql"));
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("the ids before the backfill are not kept");
    }
}
