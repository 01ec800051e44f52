//! UI tests: one compile-fail case per rule (`ui/<rule_id>.rs` with its fixture folder
//! `ui/<rule_id>/` and the pinned `ui/<rule_id>.stderr`), and pass cases that must keep
//! compiling and running (`ui/pass/`).
//!
//! The fixtures are compiled by this crate's build script; the test crates trybuild builds
//! find them through `OUT_DIR`, which is set here before trybuild runs. `missing_manifest`
//! runs apart, with an `OUT_DIR` that holds no manifest.
//!
//! Bless changed outputs with `TRYBUILD=overwrite cargo test -p migrate-tests --test ui`,
//! then read the diff.

fn set_out_dir(dir: &std::path::Path) {
    // SAFETY: called from `main` before trybuild starts any thread; no other thread exists.
    #[allow(unsafe_code, reason = "single-threaded at this point: see SAFETY")]
    unsafe {
        std::env::set_var("OUT_DIR", dir);
    }
}

fn main() {
    let empty = std::env::temp_dir().join(format!("migrate-tests-no-manifest-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&empty);
    set_out_dir(&empty);
    {
        let t = trybuild::TestCases::new();
        t.compile_fail("ui/missing_manifest.rs");
    }
    let _ = std::fs::remove_dir_all(&empty);

    set_out_dir(std::path::Path::new(env!("OUT_DIR")));
    let t = trybuild::TestCases::new();
    for entry in std::fs::read_dir("ui").into_iter().flatten().flatten() {
        let path = entry.path();
        let is_case = path.extension().is_some_and(|e| e == "rs");
        if is_case && path.file_stem().is_some_and(|s| s != "missing_manifest") {
            t.compile_fail(&path);
        }
    }
    t.pass("ui/pass/*.rs");
}
