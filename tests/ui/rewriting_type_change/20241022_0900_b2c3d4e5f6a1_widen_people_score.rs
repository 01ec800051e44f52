/// Scores outgrew 32 bits.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod widen_people_score {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.alter_column("people", "score").set_type(Type::BigInt);
    }

    pub fn downgrade(op: &mut Op) {
        op.alter_column("people", "score").set_type(Type::Integer);
    }
}
