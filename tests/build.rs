//! Compiles every fixture folder into this crate's OUT_DIR, where `embed_migrations!("<name>")`
//! and `#[migration]` find them: the UI cases of `ui/` and `ui/pass/`, the runtime chains of
//! `chains/`, and the example backend's history as `crm`.

fn main() {
    let mut build = migrate_build::Build::new();
    for parent in ["ui", "ui/pass", "chains"] {
        let mut names: Vec<String> = std::fs::read_dir(parent)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != "pass")
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            build = build.folder(format!("{parent}/{name}"), &name);
        }
        println!("cargo:rerun-if-changed={parent}");
    }
    build.folder("../examples/crm-backend/migrations", "crm").compile();
}
