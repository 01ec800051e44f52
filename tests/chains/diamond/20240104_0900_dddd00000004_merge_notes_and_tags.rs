/// Both branches shipped.
#[migration(rev = "dddd00000004", down_revision = ["bbbb00000002", "cccc00000003"])]
mod merge_notes_and_tags {
    use migrate_runtime::prelude::*;

    pub fn upgrade(_op: &mut Op) {}

    pub fn downgrade(_op: &mut Op) {}
}
