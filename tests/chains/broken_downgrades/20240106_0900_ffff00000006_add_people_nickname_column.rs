/// Nicknames; the downgrade records its operation only behind a condition that never holds,
/// which the build cannot see and the stairway can.
#[migration(rev = "ffff00000006", down_revision = "eeee00000005")]
mod add_people_nickname_column {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_column("people", "nickname", Type::Text);
    }

    pub fn downgrade(op: &mut Op) {
        if !op.is_empty() {
            op.drop_column("people", "nickname");
        }
    }
}
