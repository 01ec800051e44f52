/// Scores start at zero for people who have none.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod backfill_people_scores {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        let sql = String::from("UPDATE people SET score = 0 WHERE score IS NULL");
        op.execute(&sql);
        op.execute("UPDATE people SET score = 0 WHERE score IS NULL AND");
    }

    pub fn downgrade(op: &mut Op) {
        op.irreversible("the old empty scores are not kept");
    }
}
