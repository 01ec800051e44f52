/// A mood type, and a sequence that counts how often the next migration runs.
#[migration(rev = "aaaa00000001", down_revision = None)]
mod add_mood_type {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("CREATE TYPE mood AS ENUM ('calm')");
        op.execute("CREATE SEQUENCE attempts");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DROP SEQUENCE attempts");
        op.execute("DROP TYPE mood");
    }
}
