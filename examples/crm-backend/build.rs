//! Checks `migrations/` and embeds its chain.

fn main() {
    migrate_build::compile();
}
