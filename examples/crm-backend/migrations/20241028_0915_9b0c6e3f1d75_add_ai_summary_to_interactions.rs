/// Support reads a short AI summary instead of the whole interaction.
#[migration(rev = "9b0c6e3f1d75", down_revision = "3f2a9c1b7d4e")]
mod add_ai_summary_to_interactions {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_column("interactions", "ai_summary", Type::Text).comment("Résumé IA de l'interaction");
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("interactions", "ai_summary");
    }
}
