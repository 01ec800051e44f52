//! The guide's CRM backend. It embeds its migrations, checked at build time; this binary
//! prints the compiled chain with the SQL of each upgrade.

use migrate_runtime::Chain;

/// The CRM's schema history, checked and linearized at build time.
static MIGRATIONS: Chain = migrate_runtime::embed_migrations!();

fn main() {
    println!(
        "{} migrations, head {}",
        MIGRATIONS.len(),
        MIGRATIONS.heads().first().map_or("(none)", |m| m.rev)
    );
    for migration in &MIGRATIONS {
        let mode = if migration.transactional { "" } else { " (outside a transaction)" };
        println!("\n{} {}{mode}\n  why: {}", migration.rev, migration.slug, migration.why);
        for statement in migration.upgrade_ops().statements() {
            println!("  {};", statement.sql.replace('\n', "\n  "));
        }
    }
}
