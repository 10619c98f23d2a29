//! Running trivy for the student (`seclab scan-image`): the image seclab
//! built is saved from the engine as a `docker save` tar and scanned with
//! `trivy image --input`, never through the Docker socket.
//!
//! Two ways, in order:
//! 1. the local `trivy` binary, when one is on `PATH`: `trivy image --input
//!    <tar> --format json -o <workspace>/report.json`;
//! 2. else the `aquasec/trivy` image, when the engine has it: a container
//!    labelled like seclab's others gets the tar uploaded into it (an
//!    archive put into `/tmp`, no bind mount, no socket), keeps trivy's
//!    database in the labelled named volume [`CACHE_VOLUME`] (a classroom
//!    downloads it once), writes the report inside, which seclab copies
//!    out; the container is removed afterwards, whatever happened.
//!
//! With neither, the error says so and how to fix it (exit 2).
//! `--skip-db-update` is passed through in both ways.
//!
//! This file decides what to run (argv, container config), so tests can
//! check it without trivy; `docker/trivy.rs` talks to the engine.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use bollard::models::{ContainerCreateBody, HostConfig};

use super::docker::{Engine, EngineError, labels};

/// The image the container way runs (its entrypoint is `trivy`);
/// `SECLAB_TRIVY_IMAGE` names another (a pinned tag, a local mirror).
pub const TRIVY_IMAGE: &str = "aquasec/trivy";
/// The named volume that keeps trivy's database between scans.
pub const CACHE_VOLUME: &str = "seclab-trivy-cache";
/// Where the cache volume is mounted in the container.
pub const CACHE_DIR: &str = "/cache";
/// The folder of the container the tar is uploaded into and the report
/// written to (it exists in the image).
pub const SCAN_DIR: &str = "/tmp";
/// The image tar's name in [`SCAN_DIR`].
pub const TAR_NAME: &str = "seclab-image.tar";
/// The report's name in [`SCAN_DIR`].
pub const REPORT_NAME: &str = "seclab-report.json";
/// The label naming the tool a container or volume is for.
pub const TOOL_LABEL: &str = "seclab.dev/tool";
/// The lab label's value on the shared cache volume: no lab's, so
/// `seclab stop <lab>` keeps it; a cleanup of everything removes it.
pub const SHARED: &str = "_shared";

/// One scan to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest {
    /// The lab id (labels, the container name).
    pub lab: String,
    /// The student id (labels).
    pub student: String,
    /// The image to scan, as the engine names it.
    pub image: String,
    /// Where the report goes (`<workspace>/report.json`).
    pub output: PathBuf,
    /// Pass `--skip-db-update` to trivy.
    pub skip_db_update: bool,
}

/// How a scan was run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// The local binary at this path.
    Local(PathBuf),
    /// The trivy image, by this reference.
    Container(String),
}

/// The trivy image to run: `SECLAB_TRIVY_IMAGE`, else [`TRIVY_IMAGE`].
pub fn trivy_image() -> String {
    std::env::var("SECLAB_TRIVY_IMAGE")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| TRIVY_IMAGE.to_string())
}

/// The first executable `trivy` on `path` (a `PATH` value).
pub fn find_on_path(path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    crate::shell::kind::find_on_path(std::ffi::OsStr::new("trivy"), path)
}

/// The arguments of the local binary.
pub fn local_argv(tar: &Path, output: &Path, skip_db_update: bool) -> Vec<OsString> {
    let mut argv: Vec<OsString> = ["image", "--input"].map(OsString::from).into();
    argv.push(tar.into());
    argv.extend(["--format", "json", "-o"].map(OsString::from));
    argv.push(output.into());
    if skip_db_update {
        argv.push("--skip-db-update".into());
    }
    argv
}

/// The command of the trivy container (after its `trivy` entrypoint).
pub fn container_cmd(skip_db_update: bool) -> Vec<String> {
    let mut cmd: Vec<String> = vec![
        "image".into(),
        "--input".into(),
        format!("{SCAN_DIR}/{TAR_NAME}"),
        "--format".into(),
        "json".into(),
        "-o".into(),
        format!("{SCAN_DIR}/{REPORT_NAME}"),
        "--cache-dir".into(),
        CACHE_DIR.into(),
    ];
    if skip_db_update {
        cmd.push("--skip-db-update".into());
    }
    cmd
}

/// The name of the trivy container of a lab.
pub fn container_name(lab: &str) -> String {
    format!("seclab-{lab}-trivy")
}

/// The labels of the trivy container.
pub fn container_labels(req: &ScanRequest) -> HashMap<String, String> {
    HashMap::from([
        (labels::LAB.to_string(), req.lab.clone()),
        (labels::STUDENT.to_string(), req.student.clone()),
        (labels::IMAGE.to_string(), req.image.clone()),
        (TOOL_LABEL.to_string(), "trivy".to_string()),
    ])
}

/// The labels of the cache volume.
pub fn volume_labels() -> HashMap<String, String> {
    HashMap::from([
        (labels::LAB.to_string(), SHARED.to_string()),
        (labels::CACHE.to_string(), "true".to_string()),
        (TOOL_LABEL.to_string(), "trivy".to_string()),
    ])
}

/// The trivy container's config: the image's entrypoint with
/// [`container_cmd`], seclab's labels, the cache volume at [`CACHE_DIR`]
/// and nothing else of the host — no Docker socket, no bind mount.
pub fn container_body(req: &ScanRequest, image: &str) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(container_cmd(req.skip_db_update)),
        labels: Some(container_labels(req)),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{CACHE_VOLUME}:{CACHE_DIR}")]),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    }
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Neither way is at hand.
    #[error(
        "no trivy to run: no `trivy` binary on PATH, and the Docker engine has no {image} image\n  fix: install trivy (Debian/Ubuntu: Aqua's apt repository; or a release binary from the trivy project) so that `trivy --version` works, or load the image into this engine (`docker pull {image}`, or `docker load -i trivy.tar` where there is no registry); or run trivy yourself and save `--format json` as the report"
    )]
    NoTrivy {
        /// The image looked for.
        image: String,
    },
    /// The image to scan is not on the engine.
    #[error("the Docker engine has no image {0}: build it first")]
    NoImage(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A local file could not be written or read.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// trivy ran and failed.
    #[error("trivy failed (exit {code}): {output}")]
    Failed {
        /// Its exit code.
        code: i64,
        /// The end of its output.
        output: String,
    },
}

fn io(path: &Path, e: &std::io::Error) -> ScanError {
    ScanError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The last lines of a tool's output, for an error message.
pub fn tail(output: &str, lines: usize) -> String {
    let all: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n  ")
}

/// Runs the scan: the local binary when on `PATH`, else the trivy image
/// on `engine`. Returns how it ran.
///
/// # Errors
/// No way to run trivy, the image is missing, the engine or trivy failed.
pub async fn scan(engine: &Engine, req: &ScanRequest) -> Result<Runner, ScanError> {
    if !engine.image_exists(&req.image).await? {
        return Err(ScanError::NoImage(req.image.clone()));
    }
    if let Some(bin) = find_on_path(std::env::var_os("PATH").as_deref()) {
        scan_local(engine, req, &bin).await?;
        return Ok(Runner::Local(bin));
    }
    let image = trivy_image();
    if !engine.image_exists(&image).await? {
        return Err(ScanError::NoTrivy { image });
    }
    let tar = engine.save_image(&req.image).await?;
    let report = engine.run_trivy(req, &image, tar).await?;
    std::fs::write(&req.output, report).map_err(|e| io(&req.output, &e))?;
    Ok(Runner::Container(image))
}

async fn scan_local(engine: &Engine, req: &ScanRequest, bin: &Path) -> Result<(), ScanError> {
    let tar_path = std::env::temp_dir().join(format!(
        "seclab-{}-{}-image.tar",
        req.lab,
        std::process::id()
    ));
    let tar = engine.save_image(&req.image).await?;
    std::fs::write(&tar_path, tar).map_err(|e| io(&tar_path, &e))?;
    // The CLI's runtime runs nothing else meanwhile: a blocking wait is fine.
    let out = std::process::Command::new(bin)
        .args(local_argv(&tar_path, &req.output, req.skip_db_update))
        .output();
    let _ = std::fs::remove_file(&tar_path);
    let out = out.map_err(|e| io(bin, &e))?;
    if out.status.success() {
        return Ok(());
    }
    Err(ScanError::Failed {
        code: i64::from(out.status.code().unwrap_or(-1)),
        output: tail(&String::from_utf8_lossy(&out.stderr), 5),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(skip: bool) -> ScanRequest {
        ScanRequest {
            lab: "trivy-scan".into(),
            student: "alice".into(),
            image: "seclab/trivy-scan-menu-aggregator:latest".into(),
            output: PathBuf::from("/ws/report.json"),
            skip_db_update: skip,
        }
    }

    #[test]
    fn the_local_argv_scans_the_tar_into_the_workspace() {
        let argv = local_argv(Path::new("/tmp/i.tar"), Path::new("/ws/report.json"), false);
        let want: Vec<OsString> = [
            "image",
            "--input",
            "/tmp/i.tar",
            "--format",
            "json",
            "-o",
            "/ws/report.json",
        ]
        .map(OsString::from)
        .into();
        assert_eq!(argv, want);
        let argv = local_argv(Path::new("/tmp/i.tar"), Path::new("/ws/report.json"), true);
        assert_eq!(argv.last(), Some(&OsString::from("--skip-db-update")));
    }

    #[test]
    fn the_container_reads_the_uploaded_tar_and_keeps_its_db_in_the_volume() {
        let body = container_body(&req(true), TRIVY_IMAGE);
        assert_eq!(body.image.as_deref(), Some("aquasec/trivy"));
        let cmd = body.cmd.clone().expect("cmd");
        let at = |flag: &str| {
            cmd.iter()
                .position(|a| a == flag)
                .and_then(|i| cmd.get(i + 1))
                .cloned()
        };
        assert_eq!(cmd[0], "image");
        assert_eq!(at("--input").as_deref(), Some("/tmp/seclab-image.tar"));
        assert_eq!(at("--format").as_deref(), Some("json"));
        assert_eq!(at("-o").as_deref(), Some("/tmp/seclab-report.json"));
        assert_eq!(at("--cache-dir").as_deref(), Some("/cache"));
        assert!(cmd.contains(&"--skip-db-update".to_string()));
        assert!(!container_cmd(false).contains(&"--skip-db-update".to_string()));
        let host = body.host_config.clone().expect("host config");
        assert_eq!(
            host.binds,
            Some(vec!["seclab-trivy-cache:/cache".to_string()])
        );
        assert_eq!(host.mounts, None);
        assert_ne!(host.privileged, Some(true));
        // Nothing of the host's Docker socket reaches the container.
        let json = serde_json::to_string(&body).expect("json");
        assert!(!json.contains("docker.sock"), "{json}");
        let labels = body.labels.expect("labels");
        assert_eq!(
            labels.get(labels::LAB).map(String::as_str),
            Some("trivy-scan")
        );
        assert_eq!(
            labels.get(labels::STUDENT).map(String::as_str),
            Some("alice")
        );
        assert_eq!(labels.get(TOOL_LABEL).map(String::as_str), Some("trivy"));
    }

    #[test]
    fn the_cache_volume_is_seclabs_and_survives_a_lab_stop() {
        let l = volume_labels();
        assert_eq!(l.get(labels::LAB).map(String::as_str), Some(SHARED));
        assert_eq!(l.get(labels::CACHE).map(String::as_str), Some("true"));
        assert_eq!(container_name("trivy-scan"), "seclab-trivy-scan-trivy");
    }

    #[test]
    fn trivy_is_found_only_as_an_executable_on_path() {
        let dir = std::env::temp_dir().join(format!("seclab-trivy-path-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let bin = dir.join("trivy");
        assert_eq!(find_on_path(Some(dir.as_os_str())), None);
        std::fs::write(&bin, "#!/bin/sh\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(find_on_path(Some(dir.as_os_str())), None, "not executable");
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        assert_eq!(find_on_path(Some(dir.as_os_str())), Some(bin));
        assert_eq!(find_on_path(None), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_trivy_says_how_to_fix_it() {
        let msg = ScanError::NoTrivy {
            image: TRIVY_IMAGE.into(),
        }
        .to_string();
        assert!(msg.contains("no `trivy` binary on PATH"), "{msg}");
        assert!(
            msg.contains("aquasec/trivy") && msg.contains("fix:"),
            "{msg}"
        );
    }

    #[test]
    fn tails_keep_the_last_lines() {
        assert_eq!(tail("a\n\nb\nc\nd\n", 2), "c\n  d");
        assert_eq!(tail("", 3), "");
    }
}
