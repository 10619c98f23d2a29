//! Where seclab keeps state, and who the student is.
//!
//! State dir: `SECLAB_STATE_DIR`, else the platform's state dir
//! (`~/.local/state/seclab` on Linux), else its data-local dir (macOS,
//! Windows). Student id: `SECLAB_STUDENT`, else `config.json` in the state
//! dir, else the OS user. Seed: `SECLAB_SEED`, else `config.json` (an
//! instructor hands one out for a class), else a random one made on first
//! use and stored there for a self-paced learner.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::lab::Student;
use crate::progress::write_atomic;

/// The state directory.
pub fn state_dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = std::env::var_os("SECLAB_STATE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    let dirs = directories::ProjectDirs::from("", "", "seclab")
        .context("no home directory found; set SECLAB_STATE_DIR")?;
    Ok(dirs
        .state_dir()
        .map_or_else(|| dirs.data_local_dir().to_path_buf(), Path::to_path_buf))
}

/// `config.json` in the state dir.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The student id, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
    /// The seed, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
}

fn config_path(state: &Path) -> PathBuf {
    state.join("config.json")
}

/// Reads `config.json` (absent = empty).
pub fn load_config(state: &Path) -> anyhow::Result<Config> {
    let p = config_path(state);
    match std::fs::read_to_string(&p) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid seclab config", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("{}: cannot read", p.display())),
    }
}

fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "student".into())
}

/// The current student: id and seed, making and storing a random seed on
/// first use when none is configured.
pub fn student(state: &Path) -> anyhow::Result<Student> {
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    let mut cfg = load_config(state)?;
    let id = env("SECLAB_STUDENT")
        .or_else(|| cfg.student.clone())
        .unwrap_or_else(os_user);
    let seed = match env("SECLAB_SEED").or_else(|| cfg.seed.clone()) {
        Some(s) => s,
        None => {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes)
                .map_err(|e| anyhow::anyhow!("no randomness for a seed: {e}"))?;
            let seed = hex::encode(bytes);
            cfg.seed = Some(seed.clone());
            std::fs::create_dir_all(state)
                .with_context(|| format!("{}: cannot create", state.display()))?;
            write_atomic(
                &config_path(state),
                serde_json::to_string_pretty(&cfg)?.as_bytes(),
            )?;
            seed
        }
    };
    Ok(Student { id, seed })
}
