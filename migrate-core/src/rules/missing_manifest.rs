//! `missing_manifest`: `embed_migrations!` or `#[migration]` used in a crate whose build.rs
//! does not run migrate-build.
//!
//! Why: the macro sees one migration; the chain rules need the whole folder, which only the
//! build script reads. Without it nothing would be checked, so the macro refuses to expand.
//! The macro reports this rule itself (there is no manifest to record it in); this module
//! holds its words.

/// The line to add to build.rs.
pub const BUILD_RS_LINE: &str = "fn main() { migrate_build::compile(); }";

/// The message and help when no manifest exists.
pub fn missing() -> (String, String) {
    (
        "no migration manifest: this crate's build.rs does not run migrate-build".to_owned(),
        format!(
            "add a build.rs containing `{BUILD_RS_LINE}`, and `migrate-build` under [build-dependencies]"
        ),
    )
}

/// The message and help when the manifest cannot be read.
pub fn unreadable(path: &str, error: &str) -> (String, String) {
    (
        format!("the migration manifest `{path}` cannot be read: {error}"),
        "run `cargo clean -p <this crate>` and build again; if it persists, the versions of migrate-build \
         and migrate-runtime differ: give them the same version"
            .to_owned(),
    )
}

/// The message and help when `embed_migrations!("name")` names a folder build.rs did not
/// compile.
pub fn unknown_folder(name: &str) -> (String, String) {
    (
        format!("build.rs compiled no migrations folder named `{name}`"),
        format!(
            "`embed_migrations!()` embeds the folder of [package.metadata.migrate]; another folder needs \
             `migrate_build::Build::new().folder(\"<path>\", \"{name}\").compile()` in build.rs"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_is_one_line_and_its_help_names_the_way_out() {
        let (message, help) = missing();
        assert_eq!(message, "no migration manifest: this crate's build.rs does not run migrate-build");
        assert!(help.contains(&format!("`{BUILD_RS_LINE}`")), "{help}");
        let (message, help) = unknown_folder("audit");
        assert_eq!(message, "build.rs compiled no migrations folder named `audit`");
        assert!(help.contains(r#"folder("<path>", "audit")"#), "{help}");
        let (message, help) = unreadable("target/manifest.json", "not UTF-8");
        assert_eq!(message, "the migration manifest `target/manifest.json` cannot be read: not UTF-8");
        assert!(help.contains("the same version"), "{help}");
        for text in
            [missing(), unknown_folder("audit"), unreadable("m", "e")].iter().flat_map(|(m, h)| [m, h])
        {
            assert!(!text.contains('\n'), "{text}");
        }
    }
}
