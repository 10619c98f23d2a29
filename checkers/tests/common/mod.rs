//! Shared by the conformance tests: where the upstream fixture data lives.
//!
//! `SECLAB_CONFORMANCE_DATA` names the folder; the default is
//! `../shared/testdata` resolved from the workspace root. When the folder is
//! absent the tests print a notice and skip, unless
//! `SECLAB_REQUIRE_CONFORMANCE=1`, which makes absence a failure.

use std::path::{Path, PathBuf};

/// The workspace root: the nearest folder up from the crate that holds the
/// workspace's `Cargo.lock` (this file is shared by the checkers crate and
/// the root package, so the crate folder alone does not say).
fn workspace_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .unwrap_or(crate_dir)
        .to_path_buf()
}

/// The conformance data sub-folder `sub` (e.g. `pss`), or `None` (after
/// printing why) when it is absent and not required.
///
/// # Panics
/// When the folder is absent and `SECLAB_REQUIRE_CONFORMANCE=1`.
#[allow(dead_code)]
pub fn conformance_dir(sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os("SECLAB_CONFORMANCE_DATA").map_or_else(
        || workspace_root().join("..").join("shared").join("testdata"),
        PathBuf::from,
    );
    let dir = base.join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    let required = std::env::var("SECLAB_REQUIRE_CONFORMANCE").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "conformance data {} is missing and SECLAB_REQUIRE_CONFORMANCE=1",
        dir.display()
    );
    eprintln!(
        "NOTICE: conformance data {} not found; skipping (set SECLAB_CONFORMANCE_DATA)",
        dir.display()
    );
    None
}

/// Every file under `dir` whose name ends with `suffix`, recursively,
/// sorted (the upstream fixtures: `*.json.golden` trivy reports, ...).
///
/// # Panics
/// When a folder cannot be read.
#[allow(dead_code)]
pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The Kubernetes objects of a multi-document YAML literal (empty
/// documents dropped), not tied to a file.
///
/// # Panics
/// When the YAML does not parse: a broken test literal.
#[allow(dead_code)]
pub fn objects(yaml: &str) -> Vec<seclab_checkers::KubeObject> {
    serde_saphyr::from_multiple::<serde_json::Value>(yaml)
        .unwrap_or_else(|e| panic!("test YAML: {e}"))
        .into_iter()
        .filter(|v| !v.is_null())
        .map(seclab_checkers::KubeObject::new)
        .collect()
}

/// One row of the netpol conformance data's `INDEX.tsv`.
#[allow(dead_code)]
#[derive(Debug)]
pub struct Scenario {
    /// The scenario folder.
    pub name: String,
    /// `core` or `non-core`.
    pub category: String,
    /// A tagged quirk of the analyzer (e.g. `owner-label-gap`), if any.
    pub quirk: Option<String>,
}

#[allow(dead_code)]
impl Scenario {
    /// A core scenario without a tagged quirk: part of the 100 % gate.
    pub fn gated(&self) -> bool {
        self.category == "core" && self.quirk.is_none()
    }
}

/// The scenarios listed in `<dir>/INDEX.tsv`.
///
/// # Panics
/// When INDEX.tsv is missing or lacks a needed column.
#[allow(dead_code)]
pub fn netpol_scenarios(dir: &Path) -> Vec<Scenario> {
    let index = std::fs::read_to_string(dir.join("INDEX.tsv")).expect("INDEX.tsv");
    let mut lines = index.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (c_scn, c_cat, c_quirk) = (col("scenario"), col("category"), col("quirks"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|row| {
            let cells: Vec<&str> = row.split('\t').collect();
            let get = |i: usize| cells.get(i).copied().unwrap_or("").to_string();
            let quirk = get(c_quirk);
            Scenario {
                name: get(c_scn),
                category: get(c_cat),
                quirk: (!matches!(quirk.as_str(), "-" | "")).then_some(quirk),
            }
        })
        .collect()
}
