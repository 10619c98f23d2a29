//! This machine's stand-in images, for the tests that run on the Docker
//! engine: `tests/local-images.sh` builds them (idempotent) and prints the
//! image map as its last line, `SECLAB_IMAGE_MAP=from=to,...`.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use seclab::shell::docker::{self, Engine, ImageMap};

/// The image map for the engine tests, built once per test binary; `Err`
/// says why they skip (no engine, or no way to build the stand-ins).
pub fn setup() -> &'static Result<ImageMap, String> {
    static SETUP: OnceLock<Result<ImageMap, String>> = OnceLock::new();
    SETUP.get_or_init(|| {
        if let Ok(Err(e)) = docker::block_on(Engine::connect()) {
            return Err(format!("no Docker engine: {e}"));
        }
        ImageMap::parse(&image_map_spec()?)
    })
}

/// The image map the script printed (without `SECLAB_IMAGE_MAP=`), or why
/// the stand-ins cannot be had here.
pub fn image_map_spec() -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/local-images.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "tests/local-images.sh cannot build the stand-ins: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    last.strip_prefix("SECLAB_IMAGE_MAP=")
        .map(str::to_string)
        .ok_or_else(|| format!("tests/local-images.sh printed no image map: {last:?}"))
}
