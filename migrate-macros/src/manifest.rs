//! Finding and reading the manifest build-support wrote, once per compiler process.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use migrate_core::manifest::{DIR, FILE_NAME, Manifest};
use migrate_core::rules::missing_manifest;

/// What a failed load says: the message and the help of `missing_manifest`.
pub(crate) type LoadError = (String, String);

struct Cached {
    path: PathBuf,
    stamp: (SystemTime, u64),
    manifest: Arc<Manifest>,
}

/// One read per process, reread only when the file changes (a long-lived process such as
/// an IDE's macro server sees several builds).
static CACHE: Mutex<Option<Cached>> = Mutex::new(None);

/// The crate's `OUT_DIR`, set by cargo when the crate has a build script: the one place the
/// macros read the environment.
pub(crate) fn out_dir() -> Option<PathBuf> {
    std::env::var_os("OUT_DIR").map(PathBuf::from)
}

/// Loads `$OUT_DIR/migrate/manifest`.
pub(crate) fn load() -> Result<Arc<Manifest>, LoadError> {
    let Some(out_dir) = out_dir() else {
        return Err(missing_manifest::missing());
    };
    let path = out_dir.join(DIR).join(FILE_NAME);
    let metadata = std::fs::metadata(&path).map_err(|_| missing_manifest::missing())?;
    let stamp = (metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH), metadata.len());
    let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(cached) = cache.as_ref()
        && cached.path == path
        && cached.stamp == stamp
    {
        return Ok(cached.manifest.clone());
    }
    let display = path.display().to_string();
    let text =
        std::fs::read_to_string(&path).map_err(|e| missing_manifest::unreadable(&display, &e.to_string()))?;
    let manifest = Arc::new(Manifest::parse(&text).map_err(|e| missing_manifest::unreadable(&display, &e))?);
    *cache = Some(Cached { path, stamp, manifest: manifest.clone() });
    Ok(manifest)
}
