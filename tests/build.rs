//! Compiles every fixture folder of `ui/` (and `ui/pass/`) into this crate's OUT_DIR, where
//! the UI tests' `embed_migrations!("<name>")` and `#[migration]` find them.

fn main() {
    let mut build = migrate_build::Build::new();
    for parent in ["ui", "ui/pass"] {
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
    }
    println!("cargo:rerun-if-changed=ui");
    build.compile();
}
