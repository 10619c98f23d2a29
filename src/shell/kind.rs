//! The kind CLI, wrapped: finding the binary, the cluster's life cycle
//! (`kind create/delete cluster`, `kind get clusters/kubeconfig`), loading
//! images into the nodes, the node containers of a cluster, and rendering
//! the cluster's config files (`manifests/kind/`) into a host folder.
//!
//! Plain `std::process::Command`: kind is a short-lived CLI, no async is
//! needed. Every error carries the command line and what the command wrote
//! on stderr. Nothing here talks to Kubernetes; the kube-rs shell does.
//!
//! Loading images: `kind load docker-image` fails under Docker's containerd
//! image store (the exported archive lacks layers the node's `ctr import`
//! wants), so a failed load falls back to `docker save -o <tar>` plus `kind
//! load image-archive <tar>`.

pub mod audit;

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

/// The kind release seclab pins (the workflow and `doctor` name the same).
pub const KIND_VERSION: &str = "v0.33.0";
/// The node image of [`KIND_VERSION`]'s release notes, pinned by digest
/// (also in `manifests/kind/cluster.yaml.tera`).
pub const NODE_IMAGE: &str =
    "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5";
/// The kind cluster seclab creates.
pub const CLUSTER_NAME: &str = "seclab";
/// kind's label on every node container: the cluster's name.
pub const CLUSTER_LABEL: &str = "io.x-k8s.kind.cluster";
/// kind's label on every node container: its role (`control-plane`, `worker`).
pub const ROLE_LABEL: &str = "io.x-k8s.kind.role";
/// The environment variable that names another kind binary (a path, or a
/// name looked up on `PATH`).
pub const KIND_ENV: &str = "SECLAB_KIND";
/// What kind prints on stderr when there is no cluster at all.
pub const NO_CLUSTERS: &str = "No kind clusters found.";

/// The cluster config template (`{{ config_dir }}`: the host folder).
pub const CLUSTER_TEMPLATE: &str = include_str!("../../manifests/kind/cluster.yaml.tera");
/// The API server's audit policy.
pub const AUDIT_POLICY: &str = include_str!("../../manifests/kind/audit-policy.yaml");
/// The EncryptionConfiguration template (`{{ aescbc_key }}`).
pub const ENCRYPTION_TEMPLATE: &str =
    include_str!("../../manifests/kind/encryption-config.yaml.tera");
/// The audit policy's file name in the config folder.
pub const AUDIT_POLICY_FILE: &str = "audit-policy.yaml";
/// The EncryptionConfiguration's file name in the config folder.
pub const ENCRYPTION_FILE: &str = "encryption-config.yaml";
/// The rendered cluster config's file name in the config folder.
pub const CLUSTER_FILE: &str = "cluster.yaml";

/// How to install the pinned kind, for messages.
pub fn install_hint() -> String {
    format!(
        "install kind {KIND_VERSION}: `go install sigs.k8s.io/kind@{KIND_VERSION}`, or the release binary: `curl -fLo kind https://kind.sigs.k8s.io/dl/{KIND_VERSION}/kind-linux-amd64 && chmod +x kind && sudo mv kind /usr/local/bin/` (kind-darwin-arm64, kind-linux-arm64, ... for other systems); or set {KIND_ENV} to a kind binary"
    )
}

/// Why a kind operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KindError {
    /// No kind binary (the caller exits 2).
    #[error("kind is not installed: {looked}\n  fix: {}", install_hint())]
    NotFound {
        /// Where it was looked for.
        looked: String,
    },
    /// A tool kind's fallback needs is missing.
    #[error("{tool} is not on PATH: {why}")]
    ToolMissing {
        /// The tool (`docker`).
        tool: String,
        /// What it was needed for.
        why: String,
    },
    /// A command could not be started.
    #[error("`{command}` could not run: {message}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        message: String,
    },
    /// A command ran and failed.
    #[error("`{command}` failed ({status}){}", stderr_suffix(.stderr))]
    Failed {
        /// The command line.
        command: String,
        /// `exit 1`, `killed by a signal`.
        status: String,
        /// What it wrote on stderr (trimmed).
        stderr: String,
    },
    /// A command's output is not what kind prints.
    #[error("`{command}`: unexpected output: {message}")]
    Output {
        /// The command line.
        command: String,
        /// What is wrong with it.
        message: String,
    },
    /// Loading an image failed both ways.
    #[error(
        "cannot load {image} into the kind cluster:\n  {direct}\n  and the fallback (docker save + kind load image-archive): {fallback}"
    )]
    Load {
        /// The image.
        image: String,
        /// The `kind load docker-image` failure.
        direct: Box<KindError>,
        /// The fallback's failure.
        fallback: Box<KindError>,
    },
    /// A local file or folder could not be written.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(":\n{stderr}")
    }
}

/// How an image got into the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMethod {
    /// `kind load docker-image`.
    DockerImage,
    /// The fallback: `docker save` + `kind load image-archive`.
    Archive,
}

/// One image loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLoad {
    /// The image reference.
    pub image: String,
    /// How.
    pub method: LoadMethod,
}

/// A node container of a kind cluster (from `docker ps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeContainer {
    /// The container id (short).
    pub id: String,
    /// The container name (`seclab-control-plane`).
    pub name: String,
    /// Its state (`running`, `exited`).
    pub state: String,
    /// kind's role label (`control-plane`, `worker`; empty when unset).
    pub role: String,
}

/// The kind CLI at a known path.
#[derive(Debug, Clone)]
pub struct Kind {
    bin: PathBuf,
    /// The `PATH` used to find kind, also used to find `docker`.
    path: Option<OsString>,
}

impl Kind {
    /// Finds kind: `SECLAB_KIND` (a path, or a name on `PATH`), else `kind`
    /// on `PATH`. Missing: [`KindError::NotFound`], whose message names kind
    /// and how to install the pinned release.
    pub fn find() -> Result<Kind, KindError> {
        Self::find_in(
            std::env::var_os(KIND_ENV).as_deref(),
            std::env::var_os("PATH").as_deref(),
        )
    }

    /// [`Kind::find`] with the two variables given (tests, `doctor`).
    pub fn find_in(kind_env: Option<&OsStr>, path: Option<&OsStr>) -> Result<Kind, KindError> {
        let path_owned = path.map(OsStr::to_os_string);
        let wanted = kind_env.filter(|v| !v.is_empty());
        let bin = match wanted {
            Some(v) if Path::new(v).components().count() > 1 || Path::new(v).is_absolute() => {
                let p = PathBuf::from(v);
                if is_executable(&p) {
                    p
                } else {
                    return Err(KindError::NotFound {
                        looked: format!("{KIND_ENV}={} is not an executable file", p.display()),
                    });
                }
            }
            Some(name) => find_on_path(name, path).ok_or_else(|| KindError::NotFound {
                looked: format!(
                    "{KIND_ENV}={} names no executable on PATH",
                    name.to_string_lossy()
                ),
            })?,
            None => find_on_path(OsStr::new("kind"), path).ok_or_else(|| KindError::NotFound {
                looked: "no `kind` on PATH".to_string(),
            })?,
        };
        Ok(Kind {
            bin,
            path: path_owned,
        })
    }

    /// The binary that runs.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// `kind version`: its line, e.g. `kind v0.33.0 go1.25.3 linux/amd64`.
    pub fn version(&self) -> Result<String, KindError> {
        let out = self.run(&["version"])?;
        let line = out.stdout.lines().next().unwrap_or("").trim().to_string();
        if line.is_empty() {
            return Err(KindError::Output {
                command: self.command_line(&["version"]),
                message: "printed nothing".into(),
            });
        }
        Ok(line)
    }

    /// `kind get clusters`: the names of the kind clusters on the engine
    /// (none: kind says [`NO_CLUSTERS`] on stderr and prints nothing).
    pub fn clusters(&self) -> Result<Vec<String>, KindError> {
        let out = self.run(&["get", "clusters"])?;
        Ok(out
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != NO_CLUSTERS)
            .map(str::to_string)
            .collect())
    }

    /// `kind create cluster --name <name> --config <config> [--image
    /// <image>]`, each line kind prints (stdout and stderr) handed to
    /// `progress` as it comes.
    pub fn create(
        &self,
        name: &str,
        config: &Path,
        image: Option<&str>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), KindError> {
        let mut args: Vec<OsString> = ["create", "cluster", "--name", name, "--config"]
            .map(OsString::from)
            .into();
        args.push(config.into());
        if let Some(image) = image {
            args.push("--image".into());
            args.push(image.into());
        }
        self.run_streaming(&args, progress)
    }

    /// `kind delete cluster --name <name>` (kind succeeds when there is no
    /// such cluster).
    pub fn delete(&self, name: &str) -> Result<(), KindError> {
        self.run(&["delete", "cluster", "--name", name]).map(|_| ())
    }

    /// `kind get kubeconfig --name <name>`: the cluster's kubeconfig (YAML).
    pub fn kubeconfig(&self, name: &str) -> Result<String, KindError> {
        let args = ["get", "kubeconfig", "--name", name];
        let out = self.run(&args)?;
        if !out.stdout.contains("clusters:") {
            return Err(KindError::Output {
                command: self.command_line(&args),
                message: "no kubeconfig printed".into(),
            });
        }
        Ok(out.stdout)
    }

    /// Loads each image into the cluster's nodes: `kind load docker-image`,
    /// and when that fails, `docker save -o <tmp tar>` + `kind load
    /// image-archive <tar>` (the tar is removed afterwards). `progress`
    /// gets a line per image and one per fallback.
    pub fn load_images(
        &self,
        name: &str,
        images: &[String],
        progress: &mut dyn FnMut(&str),
    ) -> Result<Vec<ImageLoad>, KindError> {
        let mut loaded = Vec::with_capacity(images.len());
        for image in images {
            progress(&format!("loading {image} into kind cluster {name}"));
            let Err(direct) = self.run(&["load", "docker-image", "--name", name, image]) else {
                loaded.push(ImageLoad {
                    image: image.clone(),
                    method: LoadMethod::DockerImage,
                });
                continue;
            };
            progress(&format!(
                "`kind load docker-image` failed for {image} (Docker's containerd image store?): falling back to docker save + kind load image-archive"
            ));
            match self.load_via_archive(name, image) {
                Ok(()) => loaded.push(ImageLoad {
                    image: image.clone(),
                    method: LoadMethod::Archive,
                }),
                Err(fallback) => {
                    return Err(KindError::Load {
                        image: image.clone(),
                        direct: Box::new(direct),
                        fallback: Box::new(fallback),
                    });
                }
            }
        }
        Ok(loaded)
    }

    fn load_via_archive(&self, name: &str, image: &str) -> Result<(), KindError> {
        let docker = find_on_path(OsStr::new("docker"), self.path.as_deref()).ok_or_else(|| {
            KindError::ToolMissing {
                tool: "docker".into(),
                why: format!(
                    "`docker save` is how seclab loads {image} when `kind load docker-image` fails"
                ),
            }
        })?;
        let dir = TempDir::new()?;
        let tar = dir.0.join("image.tar");
        let mut save: Vec<OsString> = vec!["save".into(), "-o".into(), tar.clone().into()];
        save.push(image.into());
        run_command(&docker, &save)?;
        let mut load: Vec<OsString> = ["load", "image-archive", "--name", name]
            .map(OsString::from)
            .into();
        load.push(tar.into());
        run_command(&self.bin, &load).map(|_| ())
    }

    /// The node containers of kind cluster `name`, running or not: `docker
    /// ps -a --filter label=io.x-k8s.kind.cluster=<name>` (kind's own
    /// label), for `seclab up --adopt`.
    pub fn node_containers(&self, name: &str) -> Result<Vec<NodeContainer>, KindError> {
        let docker = find_on_path(OsStr::new("docker"), self.path.as_deref()).ok_or_else(|| {
            KindError::ToolMissing {
                tool: "docker".into(),
                why: "seclab lists kind's node containers with `docker ps`".into(),
            }
        })?;
        let args: Vec<OsString> = vec![
            "ps".into(),
            "-a".into(),
            "--filter".into(),
            format!("label={CLUSTER_LABEL}={name}").into(),
            "--format".into(),
            format!("{{{{.ID}}}}\t{{{{.Names}}}}\t{{{{.State}}}}\t{{{{.Label \"{ROLE_LABEL}\"}}}}")
                .into(),
        ];
        let out = run_command(&docker, &args)?;
        out.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut f = l.split('\t');
                match (f.next(), f.next(), f.next()) {
                    (Some(id), Some(name), Some(state)) if !id.is_empty() && !name.is_empty() => {
                        Ok(NodeContainer {
                            id: id.trim().into(),
                            name: name.trim().into(),
                            state: state.trim().into(),
                            role: f.next().unwrap_or("").trim().into(),
                        })
                    }
                    _ => Err(KindError::Output {
                        command: command_line(&docker, &args),
                        message: format!("a line that is not id, name, state, role: {l:?}"),
                    }),
                }
            })
            .collect()
    }

    fn command_line(&self, args: &[&str]) -> String {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        command_line(&self.bin, &args)
    }

    fn run(&self, args: &[&str]) -> Result<Captured, KindError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        run_command(&self.bin, &args)
    }

    fn run_streaming(
        &self,
        args: &[OsString],
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), KindError> {
        let command = command_line(&self.bin, args);
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = retry_busy(|| cmd.spawn()).map_err(|e| KindError::Spawn {
            command: command.clone(),
            message: e.to_string(),
        })?;
        let (tx, rx) = mpsc::channel::<(bool, String)>();
        let readers = [
            child
                .stdout
                .take()
                .map(|s| spawn_lines(s, false, tx.clone())),
            child
                .stderr
                .take()
                .map(|s| spawn_lines(s, true, tx.clone())),
        ];
        drop(tx);
        let mut stderr = String::new();
        for (is_err, line) in rx {
            if is_err {
                stderr.push_str(&line);
                stderr.push('\n');
            }
            progress(&line);
        }
        for r in readers.into_iter().flatten() {
            let _ = r.join();
        }
        let status = child.wait().map_err(|e| KindError::Spawn {
            command: command.clone(),
            message: e.to_string(),
        })?;
        if status.success() {
            Ok(())
        } else {
            Err(KindError::Failed {
                command,
                status: describe_status(status),
                stderr: stderr.trim().to_string(),
            })
        }
    }
}

/// Reads `r` line by line (`\n` or `\r`, kind's spinner redraws with
/// `\r`), sending the non-empty lines.
fn spawn_lines<R: Read + Send + 'static>(
    r: R,
    is_err: bool,
    tx: mpsc::Sender<(bool, String)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&buf);
                    for part in text.split(['\r', '\n']) {
                        let part = part.trim_end();
                        if !part.trim().is_empty() && tx.send((is_err, part.to_string())).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    })
}

/// What a finished command printed.
#[derive(Debug)]
struct Captured {
    stdout: String,
}

fn run_command(bin: &Path, args: &[OsString]) -> Result<Captured, KindError> {
    let command = command_line(bin, args);
    let mut cmd = Command::new(bin);
    cmd.args(args).stdin(Stdio::null());
    let out = retry_busy(|| cmd.output()).map_err(|e| KindError::Spawn {
        command: command.clone(),
        message: e.to_string(),
    })?;
    if out.status.success() {
        Ok(Captured {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        })
    } else {
        Err(KindError::Failed {
            command,
            status: describe_status(out.status),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Runs `f` again while it fails with "text file busy" (`ETXTBSY`): a
/// binary just written (an installer that finished, a test's script) can
/// still be open for writing in a child another thread forked and has not
/// exec'd yet. A few tries, then the error as it is.
pub(crate) fn retry_busy<T>(mut f: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match f() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 20 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

fn describe_status(status: std::process::ExitStatus) -> String {
    status
        .code()
        .map_or_else(|| "killed by a signal".to_string(), |c| format!("exit {c}"))
}

/// The command line as a user would type it (arguments with spaces or
/// quotes shown quoted).
fn command_line(bin: &Path, args: &[OsString]) -> String {
    let name = bin.file_name().map_or_else(
        || bin.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut s = name;
    for a in args {
        let a = a.to_string_lossy();
        s.push(' ');
        if a.is_empty() || a.contains([' ', '\t', '"', '\'', '\n']) {
            let _ = write!(s, "{a:?}");
        } else {
            s.push_str(&a);
        }
    }
    s
}

/// The first executable `name` on `path` (a `PATH` value).
pub fn find_on_path(name: &OsStr, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// A private temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, KindError> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| KindError::Io {
            path: std::env::temp_dir(),
            message: format!("no randomness for a temporary name: {e}"),
        })?;
        let dir = std::env::temp_dir().join(format!("seclab-kind-{}", hex::encode(bytes)));
        std::fs::create_dir(&dir).map_err(|e| KindError::Io {
            path: dir.clone(),
            message: format!("cannot create: {e}"),
        })?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The files of the cluster's config, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterFiles {
    /// `cluster.yaml`: what `kind create cluster --config` reads.
    pub cluster: String,
    /// `audit-policy.yaml`.
    pub audit_policy: String,
    /// `encryption-config.yaml`.
    pub encryption: String,
}

/// Renders `manifests/kind/` for the host folder `config_dir` (absolute;
/// kind resolves extraMounts' hostPath on the host) and a 32-byte aescbc
/// key. A folder name YAML's double quotes cannot hold as is (`"`, `\`,
/// control characters) or one that is not absolute or not UTF-8 is an
/// error.
pub fn render_cluster_files(
    config_dir: &Path,
    aescbc_key: &[u8; 32],
) -> Result<ClusterFiles, KindError> {
    let bad = |message: &str| KindError::Io {
        path: config_dir.to_path_buf(),
        message: message.to_string(),
    };
    if !config_dir.is_absolute() {
        return Err(bad(
            "the kind config folder must be an absolute path (kind mounts it from the host)",
        ));
    }
    let dir = config_dir
        .to_str()
        .ok_or_else(|| bad("the kind config folder's path is not UTF-8"))?;
    if dir.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
        return Err(bad(
            "the kind config folder's path holds a quote, a backslash or a control character: choose another state dir (SECLAB_STATE_DIR)",
        ));
    }
    let mut ctx = tera::Context::new();
    ctx.insert("config_dir", dir);
    ctx.insert("aescbc_key", &base64(aescbc_key));
    let render = |name: &str, text: &str| {
        tera::Tera::one_off(text, &ctx, false).map_err(|e| KindError::Io {
            path: PathBuf::from(format!("manifests/kind/{name}")),
            message: format!("does not render: {e}"),
        })
    };
    Ok(ClusterFiles {
        cluster: render("cluster.yaml.tera", CLUSTER_TEMPLATE)?,
        audit_policy: AUDIT_POLICY.to_string(),
        encryption: render("encryption-config.yaml.tera", ENCRYPTION_TEMPLATE)?,
    })
}

/// Writes the cluster's config into `config_dir` (created if missing):
/// `audit-policy.yaml`, `encryption-config.yaml` (identity first, a new
/// random aescbc key) and `cluster.yaml`, each replaced atomically. Returns
/// the path of `cluster.yaml`, for [`Kind::create`].
///
/// For a cluster about to be created only: the running cluster's API server
/// reads these files (a new key or a reset provider order under a live
/// cluster whose Secrets a lab encrypted would make them unreadable).
pub fn write_cluster_files(config_dir: &Path) -> Result<PathBuf, KindError> {
    let io = |path: &Path, e: &dyn std::fmt::Display| KindError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(config_dir).map_err(|e| io(config_dir, &e))?;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| io(config_dir, &e))?;
    let files = render_cluster_files(config_dir, &key)?;
    let write = |name: &str, text: &str| -> Result<PathBuf, KindError> {
        let path = config_dir.join(name);
        crate::progress::write_atomic(&path, text.as_bytes()).map_err(|e| io(&path, &e))?;
        Ok(path)
    };
    write(AUDIT_POLICY_FILE, &files.audit_policy)?;
    write(ENCRYPTION_FILE, &files.encryption)?;
    write(CLUSTER_FILE, &files.cluster)
}

/// Standard base64 with padding (the EncryptionConfiguration's key format).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The version of a `kind version` line (`kind v0.33.0 go1.25 linux/amd64`
/// → `(0, 33, 0)`), pre-release and build suffixes ignored.
pub fn parse_version(line: &str) -> Option<(u64, u64, u64)> {
    let v = line
        .split_whitespace()
        .find(|w| w.starts_with('v') && w[1..].starts_with(|c: char| c.is_ascii_digit()))?;
    let core = v[1..].split(['-', '+']).next()?;
    let mut parts = core.split('.').map(str::parse::<u64>);
    let (major, minor) = (parts.next()?.ok()?, parts.next()?.ok()?);
    let patch = parts.next().and_then(Result::ok).unwrap_or(0);
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests;
