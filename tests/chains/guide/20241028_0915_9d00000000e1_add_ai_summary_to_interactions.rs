/// The guide's example 1 (a simple field): support reads a short AI summary instead of the
/// whole interaction. Optional, as interactions logged before it have none.
#[migration(rev = "9d00000000e1", down_revision = "9d0000000005")]
mod add_ai_summary_to_interactions {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_column("interactions", "ai_summary", Type::Text);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("interactions", "ai_summary");
    }
}
