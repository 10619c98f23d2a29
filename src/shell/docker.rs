//! The Docker shell: seclab's only door to a Docker engine (bollard on
//! tokio). Connect and check the engine, create a lab's services from their
//! [`RunConfig`]s with seclab's labels, exec probes, read inspect output,
//! changes and logs, build images, run demo steps, and remove what seclab
//! made — by label only, never anything else on the engine.
//!
//! Every function is async; sync CLI code runs one with [`block_on`], the
//! TUI on its own tokio runtime. Inspect output stays JSON
//! ([`LiveContainer::inspect`]): the pure checkers crate turns it into a
//! [`RunConfig`] (the `to_config` argument of [`Engine::live_facts`]).

mod body;
mod build;
mod cleanup;
mod exec;
mod images;
mod lab;
mod layers;
mod map;
mod node;
mod trivy;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{ChangeType, ContainerInspectResponse, VolumeCreateRequest};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, ListContainersOptionsBuilder,
    ListImagesOptionsBuilder, ListVolumesOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder, RemoveVolumeOptions,
};
use futures_util::StreamExt;
use seclab_checkers::container::{
    Change, ChangeKind, EngineFacts, LiveFacts, LiveService, ProbeCommand, ProbeResult, RunConfig,
};
use serde_json::Value;

pub use images::built_tag;
pub use layers::{Saved, read_saved};
pub use map::ImageMap;
pub use node::KindNode;

use body::{Owner, create_body};

/// The labels seclab puts on what it creates.
pub mod labels {
    /// The lab id: every object seclab creates carries it.
    pub const LAB: &str = "seclab.dev/lab";
    /// The student id.
    pub const STUDENT: &str = "seclab.dev/student";
    /// The Compose service a container runs.
    pub const SERVICE: &str = "seclab.dev/service";
    /// The image reference as the lab wrote it (before the image map).
    pub const IMAGE: &str = "seclab.dev/image";
    /// A demo step's container.
    pub const DEMO: &str = "seclab.dev/demo";
    /// A cached stand-in image: kept by every cleanup.
    pub const CACHE: &str = "seclab.dev/cache";
}

/// The oldest engine API seclab works with.
pub const MIN_API: (u32, u32) = (1, 41);
/// How long the services get after starting before they are inspected.
pub const SETTLE: Duration = Duration::from_millis(300);
/// How long one exec may run before it counts as failed.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting (ping, version) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong talking to the engine (exit 2 at the CLI).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No engine answers at the address.
    #[error(
        "cannot reach the Docker engine at {host}: {detail}\n  fix: start Docker (e.g. `systemctl start docker`), or set DOCKER_HOST to an engine you can reach"
    )]
    Unreachable {
        /// `DOCKER_HOST=...` or the socket path.
        host: String,
        /// The client's error.
        detail: String,
    },
    /// The engine's API is older than [`MIN_API`].
    #[error("Docker engine API {found} is older than 1.41, which seclab needs: upgrade Docker")]
    TooOld {
        /// The engine's API version.
        found: String,
    },
    /// A container with seclab's name exists without seclab's labels.
    #[error("a container named {name} exists and is not seclab's: remove or rename it")]
    NameClash {
        /// The container name.
        name: String,
    },
    /// The engine answered an operation with an error.
    #[error("Docker engine: {what}: {message}")]
    Docker {
        /// The operation (`inspect container seclab-x-app`).
        what: String,
        /// The engine's message.
        message: String,
    },
    /// A local file (a build context) could not be read.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl EngineError {
    fn docker(what: impl Into<String>, err: &bollard::errors::Error) -> Self {
        Self::Docker {
            what: what.into(),
            message: engine_message(err),
        }
    }
}

/// The engine's own message for an error it answered; the client's text
/// otherwise.
fn engine_message(err: &bollard::errors::Error) -> String {
    match err {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        bollard::errors::Error::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

fn is_not_found(err: &bollard::errors::Error) -> bool {
    matches!(
        err,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Whether the engine itself answered (a refusal), as opposed to the
/// connection failing.
fn is_engine_answer(err: &bollard::errors::Error) -> bool {
    matches!(
        err,
        bollard::errors::Error::DockerResponseServerError { .. }
    )
}

/// Runs `fut` to completion from sync code, on one shared current-thread
/// runtime (every [`Engine`] made through it keeps using it). Not for use
/// inside a tokio runtime: there, `.await` the future.
pub fn block_on<F: Future>(fut: F) -> Result<F::Output, EngineError> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let rt = if let Some(rt) = RUNTIME.get() {
        rt
    } else {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| EngineError::Io {
                path: PathBuf::from("(tokio runtime)"),
                message: e.to_string(),
            })?;
        // A racing thread may have set one first: use whichever won.
        let _ = RUNTIME.set(rt);
        RUNTIME.get().ok_or_else(|| EngineError::Io {
            path: PathBuf::from("(tokio runtime)"),
            message: "no runtime".into(),
        })?
    };
    Ok(rt.block_on(fut))
}

/// Where the engine is, for messages: `DOCKER_HOST=...` or the socket.
pub fn engine_address() -> String {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => format!("DOCKER_HOST={h}"),
        _ => "unix:///var/run/docker.sock (DOCKER_HOST is not set)".into(),
    }
}

/// A connected, checked engine. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Engine {
    docker: Docker,
    version: String,
    api_version: String,
}

/// A container seclab started for a service, as the engine reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveContainer {
    /// The Compose service.
    pub service: String,
    /// The container name (`seclab-<lab>-<service>`).
    pub name: String,
    /// The engine's container inspect output (Docker's JSON field names).
    pub inspect: Value,
    /// Running after the settle period (`false`: it exited).
    pub running: bool,
    /// Its exit code when it exited.
    pub exit_code: Option<i64>,
    /// `docker diff` (filled in by [`Engine::live_facts`] after the probes).
    pub changes: Vec<Change>,
}

impl LiveContainer {
    /// As the checkers' [`LiveService::Running`], its config read from the
    /// inspect output by `to_config` (`container::inspect::run_config`).
    pub fn into_live(self, to_config: fn(&str, &Value) -> RunConfig) -> LiveService {
        LiveService::Running {
            config: to_config(&self.service, &self.inspect),
            running: self.running,
            exit_code: self.exit_code,
            changes: self.changes,
        }
    }
}

/// What became of a service seclab asked the engine to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    /// Created and started.
    Container(LiveContainer),
    /// The engine refused to create or start it: its message.
    Refused(String),
}

/// What one exec printed and returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Its exit code (`None`: unknown, e.g. timed out).
    pub exit: Option<i64>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// One line of output from an exec, as it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    /// From stderr (else stdout).
    pub stderr: bool,
    /// The line, without its newline.
    pub text: String,
}

/// Progress of a demo step, streamed to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoEvent {
    /// The step's container runs.
    Started {
        /// Its name.
        container: String,
    },
    /// The engine refused the step's container: its message.
    Refused(String),
    /// A command starts (its argv).
    Command(Vec<String>),
    /// A line of its output.
    Line(OutputLine),
    /// It ended (its exit code; `None` when it could not run).
    Exit(Option<i64>),
    /// An error running it (exec failed, timed out).
    Error(String),
}

/// The result of a demo step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoOutcome {
    /// The engine refused the container: its message.
    Refused(String),
    /// Each command's outcome, in order.
    Ran(Vec<ProbeResult>),
}

/// One layer of an image's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The instruction that made it (`/bin/sh -c #(nop) CMD ["sh"]`).
    pub created_by: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its comment.
    pub comment: String,
    /// The tags pointing at it.
    pub tags: Vec<String>,
}

/// What a cleanup removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    /// Containers.
    pub containers: usize,
    /// Volumes.
    pub volumes: usize,
    /// Images (never a `seclab.dev/cache` one).
    pub images: usize,
}

impl Removed {
    /// Everything removed.
    pub fn total(&self) -> usize {
        self.containers + self.volumes + self.images
    }
}

/// A probe to run: (service, command, exec user).
pub type Probe = (String, ProbeCommand, Option<String>);

/// The container name of a lab's service.
pub fn container_name(lab: &str, service: &str) -> String {
    format!("seclab-{lab}-{service}")
}

fn parse_api(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn label_filter(value: String) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![value])])
}

/// A cached stand-in (`seclab.dev/cache=true`): kept by every cleanup.
fn is_cache(labels: &HashMap<String, String>) -> bool {
    labels.get(labels::CACHE).is_some_and(|v| v == "true")
}

fn has_label(labels: Option<&HashMap<String, String>>, key: &str) -> bool {
    labels.is_some_and(|l| l.contains_key(key))
}

impl Engine {
    /// Connects to DOCKER_HOST or the local socket, pings it and checks
    /// that its API is at least 1.41.
    pub async fn connect() -> Result<Engine, EngineError> {
        let unreachable = |detail: String| EngineError::Unreachable {
            host: engine_address(),
            detail,
        };
        let docker = Docker::connect_with_defaults().map_err(|e| unreachable(e.to_string()))?;
        match tokio::time::timeout(CONNECT_TIMEOUT, docker.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => return Err(unreachable("no answer within 10 s".into())),
        }
        let version = match tokio::time::timeout(CONNECT_TIMEOUT, docker.version()).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => return Err(unreachable("no answer within 10 s".into())),
        };
        let api_version = version.api_version.clone().unwrap_or_default();
        check_api(&api_version)?;
        Ok(Engine {
            docker,
            version: version.version.unwrap_or_default(),
            api_version,
        })
    }

    /// The engine's version (`20.10.24+dfsg1`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The engine's API version (`1.41`).
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// What the engine is: version, kernel, cgroup version, rootless or
    /// user-namespace remapped (`privileged_refused` is left `None`: see
    /// [`Engine::privileged_refusal`]).
    pub async fn facts(&self) -> Result<EngineFacts, EngineError> {
        let info = self
            .docker
            .info()
            .await
            .map_err(|e| EngineError::docker("info", &e))?;
        let options = info.security_options.unwrap_or_default();
        let has = |name: &str| {
            options
                .iter()
                .any(|o| o.split(',').any(|part| part == format!("name={name}")))
        };
        Ok(EngineFacts {
            version: self.version.clone(),
            api_version: self.api_version.clone(),
            kernel: info.kernel_version.unwrap_or_default(),
            cgroup_version: info
                .cgroup_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
            rootless: has("rootless"),
            userns: has("userns"),
            privileged_refused: None,
        })
    }

    /// Tries a privileged container from `image` (labelled as lab `lab`,
    /// removed right after): `Some(message)` when the engine refuses it.
    pub async fn privileged_refusal(
        &self,
        lab: &str,
        image: &str,
    ) -> Result<Option<String>, EngineError> {
        let rc = RunConfig {
            service: "privileged-check".into(),
            image: image.into(),
            command: Some(vec!["true".into()]),
            privileged: true,
            ..RunConfig::default()
        };
        let started = self
            .run_service(lab, "seclab", &rc, Path::new("/"), &ImageMap::new())
            .await?;
        let name = container_name(lab, &rc.service);
        self.remove_owned(&name).await?;
        Ok(match started {
            Started::Refused(msg) => Some(msg),
            Started::Container(_) => None,
        })
    }

    /// Inspects a container; `None` when there is none by that name.
    pub async fn inspect(
        &self,
        name: &str,
    ) -> Result<Option<ContainerInspectResponse>, EngineError> {
        match self.docker.inspect_container(name, None).await {
            Ok(r) => Ok(Some(r)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(EngineError::docker(format!("inspect container {name}"), &e)),
        }
    }

    /// Removes container `name` if it carries seclab's lab label; a
    /// container of that name without it is a [`EngineError::NameClash`].
    async fn remove_owned(&self, name: &str) -> Result<(), EngineError> {
        let Some(found) = self.inspect(name).await? else {
            return Ok(());
        };
        let labels = found.config.as_ref().and_then(|c| c.labels.as_ref());
        if !has_label(labels, labels::LAB) {
            return Err(EngineError::NameClash { name: name.into() });
        }
        self.force_remove(name).await
    }

    async fn force_remove(&self, name: &str) -> Result<(), EngineError> {
        let opts = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(name, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(EngineError::docker(format!("remove container {name}"), &e)),
        }
    }

    /// Creates and starts the container of `rc` as `seclab-<lab>-<service>`
    /// with seclab's labels, waits the settle period and inspects it. A
    /// container of that name with seclab's labels is replaced. The engine
    /// refusing it (create or start) is [`Started::Refused`], the
    /// half-made container removed.
    pub async fn run_service(
        &self,
        lab: &str,
        student: &str,
        rc: &RunConfig,
        workspace: &Path,
        map: &ImageMap,
    ) -> Result<Started, EngineError> {
        let name = container_name(lab, &rc.service);
        if let Err(msg) = self
            .create_and_start(&name, lab, student, rc, workspace, map, &[])
            .await?
        {
            return Ok(Started::Refused(msg));
        }
        tokio::time::sleep(SETTLE).await;
        Ok(Started::Container(
            self.read_live(&rc.service, &name).await?,
        ))
    }

    /// Reads a started container back (inspect, running, exit code).
    async fn read_live(&self, service: &str, name: &str) -> Result<LiveContainer, EngineError> {
        let Some(found) = self.inspect(name).await? else {
            return Err(EngineError::Docker {
                what: format!("inspect container {name}"),
                message: "it is gone (removed while seclab was reading it)".into(),
            });
        };
        let state = found.state.clone().unwrap_or_default();
        let running = state.running.unwrap_or(false);
        let inspect = serde_json::to_value(&found).map_err(|e| EngineError::Docker {
            what: format!("inspect container {name}"),
            message: e.to_string(),
        })?;
        Ok(LiveContainer {
            service: service.into(),
            name: name.into(),
            inspect,
            running,
            exit_code: if running { None } else { state.exit_code },
            changes: Vec::new(),
        })
    }

    /// Creates and starts `name`; `Ok(Err(message))` when the engine
    /// refused it (the half-made container removed).
    #[allow(clippy::too_many_arguments)]
    async fn create_and_start(
        &self,
        name: &str,
        lab: &str,
        student: &str,
        rc: &RunConfig,
        workspace: &Path,
        map: &ImageMap,
        extra_labels: &[(&str, &str)],
    ) -> Result<Result<(), String>, EngineError> {
        self.remove_owned(name).await?;
        let owner = Owner { lab, student };
        self.create_volumes(&owner, rc).await?;
        let body = create_body(rc, &owner, workspace, map, extra_labels);
        let opts = CreateContainerOptionsBuilder::new().name(name).build();
        if let Err(e) = self.docker.create_container(Some(opts), body).await {
            if is_engine_answer(&e) {
                return Ok(Err(engine_message(&e)));
            }
            return Err(EngineError::docker(format!("create container {name}"), &e));
        }
        if let Err(e) = self.docker.start_container(name, None).await {
            self.force_remove(name).await?;
            if is_engine_answer(&e) {
                return Ok(Err(engine_message(&e)));
            }
            return Err(EngineError::docker(format!("start container {name}"), &e));
        }
        Ok(Ok(()))
    }

    /// Creates the lab's named volumes of `rc` with seclab's labels.
    async fn create_volumes(&self, owner: &Owner<'_>, rc: &RunConfig) -> Result<(), EngineError> {
        for m in &rc.mounts {
            let (seclab_checkers::container::MountKind::Volume, Some(source)) = (m.kind, &m.source)
            else {
                continue;
            };
            let name = owner.volume_name(source);
            let labels = HashMap::from([
                (labels::LAB.to_owned(), owner.lab.to_owned()),
                (labels::STUDENT.to_owned(), owner.student.to_owned()),
            ]);
            let req = VolumeCreateRequest {
                name: Some(name.clone()),
                labels: Some(labels),
                ..VolumeCreateRequest::default()
            };
            self.docker
                .create_volume(req)
                .await
                .map_err(|e| EngineError::docker(format!("create volume {name}"), &e))?;
        }
        Ok(())
    }
}

fn check_api(found: &str) -> Result<(), EngineError> {
    match parse_api(found) {
        Some(v) if v >= MIN_API => Ok(()),
        _ => Err(EngineError::TooOld {
            found: if found.is_empty() {
                "(unknown)".into()
            } else {
                found.into()
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::build::tar_context;
    use super::*;

    #[test]
    fn api_versions() {
        assert!(check_api("1.41").is_ok());
        assert!(check_api("1.52").is_ok());
        assert!(check_api("2.0").is_ok());
        let err = check_api("1.40").unwrap_err().to_string();
        assert_eq!(
            err,
            "Docker engine API 1.40 is older than 1.41, which seclab needs: upgrade Docker"
        );
        assert!(check_api("").unwrap_err().to_string().contains("(unknown)"));
        assert!(check_api("x.y").is_err());
    }

    #[test]
    fn unreachable_names_the_address_and_the_fix() {
        let err = EngineError::Unreachable {
            host: "unix:///var/run/docker.sock (DOCKER_HOST is not set)".into(),
            detail: "No such file or directory".into(),
        }
        .to_string();
        assert!(err.contains("/var/run/docker.sock"), "{err}");
        assert!(err.contains("start Docker"), "{err}");
        assert!(err.contains("DOCKER_HOST"), "{err}");
    }

    #[test]
    fn tars_the_context_with_from_mapped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM busybox:1.36\nCOPY a /a\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("a"), "x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), "y").unwrap();
        let map = ImageMap::parse("busybox:1.36=seclab-local/busybox:1.36").unwrap();
        let bytes = tar_context(dir.path(), &map).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut names = Vec::new();
        let mut dockerfile = String::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            if name == "Dockerfile" {
                std::io::Read::read_to_string(&mut entry, &mut dockerfile).unwrap();
            }
            names.push(name);
        }
        assert_eq!(names, ["a", "sub", "sub/b", "Dockerfile"]);
        assert_eq!(dockerfile, "FROM seclab-local/busybox:1.36\nCOPY a /a\n");
    }

    #[test]
    fn missing_dockerfile_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = tar_context(dir.path(), &ImageMap::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("Dockerfile"), "{err}");
    }
}
