//! `seclab doctor`'s cluster section: kind (and its version against the
//! pinned release), kubectl (optional; its client version against the
//! node image's Kubernetes), trivy (binary or image), free disk under the
//! Docker root and the state dir, inotify limits, and the kubeconfig
//! context seclab would use. Each line is OK, or a problem with its fix.
//!
//! Nothing here sends a request to any cluster: the kubeconfig is read as
//! a file, `kubectl` runs only as `kubectl version --client`, and the
//! current-context is named, never used. The local Docker engine is asked
//! through its CLI (`docker info`, `docker image inspect`) only.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::shell::kind::{self, KIND_VERSION, Kind, NODE_IMAGE, retry_busy};

/// kind's known issues: fewer inotify watches than this breaks pods
/// ("too many open files").
pub const MIN_INOTIFY_WATCHES: u64 = 524_288;
/// kind's known issues: fewer inotify instances than this breaks pods.
pub const MIN_INOTIFY_INSTANCES: u64 = 512;
/// Free space the Docker root needs for the node image and the labs'
/// images (KiB).
pub const MIN_DOCKER_FREE_KIB: u64 = 5 * 1024 * 1024;
/// Free space the state dir needs (KiB).
pub const MIN_STATE_FREE_KIB: u64 = 100 * 1024;

/// What the checks read from the machine; [`Probe::from_env`] for the real
/// one, a made-up one in tests.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// `PATH`: where kind, kubectl, trivy and docker are looked up.
    pub path: Option<OsString>,
    /// `SECLAB_KIND`.
    pub kind_env: Option<OsString>,
    /// `KUBECONFIG`.
    pub kubeconfig: Option<OsString>,
    /// The home folder (`~/.kube/config` when `KUBECONFIG` names none).
    pub home: Option<PathBuf>,
    /// `/proc/sys` (the inotify limits below it).
    pub proc_sys: PathBuf,
    /// seclab's state dir, if known.
    pub state_dir: Option<PathBuf>,
    /// The trivy image looked for on the engine.
    pub trivy_image: String,
}

impl Probe {
    /// This machine: the process's environment, `/proc/sys`, the state dir.
    pub fn from_env() -> Self {
        Probe {
            path: std::env::var_os("PATH"),
            kind_env: std::env::var_os(kind::KIND_ENV),
            kubeconfig: std::env::var_os("KUBECONFIG"),
            home: std::env::home_dir(),
            proc_sys: PathBuf::from("/proc/sys"),
            state_dir: crate::config::state_dir().ok(),
            trivy_image: crate::shell::trivy::trivy_image(),
        }
    }

    fn tool(&self, name: &str) -> Option<PathBuf> {
        kind::find_on_path(OsStr::new(name), self.path.as_deref())
    }
}

/// The section's lines for `context` (`kind-seclab` unless `--context`),
/// on this machine.
pub fn lines(context: &str) -> Vec<(bool, String)> {
    lines_with(context, &Probe::from_env())
}

/// [`lines`] with the machine described by `probe`.
pub fn lines_with(context: &str, probe: &Probe) -> Vec<(bool, String)> {
    let mut out = vec![kind_line(probe), kubectl_line(probe), trivy_line(probe)];
    out.extend(disk_lines(probe));
    out.extend(inotify_lines(&probe.proc_sys));
    out.extend(context_lines(context, probe));
    out
}

fn kind_line(probe: &Probe) -> (bool, String) {
    let k = match Kind::find_in(probe.kind_env.as_deref(), probe.path.as_deref()) {
        Ok(k) => k,
        Err(e) => return (false, e.to_string()),
    };
    let bin = k.bin().display().to_string();
    let line = match k.version() {
        Ok(l) => l,
        Err(e) => {
            return (
                false,
                format!("kind at {bin} does not answer `kind version`: {e}"),
            );
        }
    };
    let pinned = kind::parse_version(KIND_VERSION);
    match kind::parse_version(&line) {
        Some(v) if Some(v) == pinned => (true, format!("kind: {line} ({bin})")),
        Some(v) if Some(v) > pinned => (
            true,
            format!(
                "kind: {line} ({bin}); seclab pins {KIND_VERSION}, a newer release usually works"
            ),
        ),
        Some(_) => (
            false,
            format!(
                "kind: {line} ({bin}) is older than {KIND_VERSION}, which seclab pins (its node image {NODE_IMAGE} needs it)\n  fix: {}",
                kind::install_hint()
            ),
        ),
        None => (
            false,
            format!(
                "kind at {bin}: `kind version` printed {line:?}, not a version\n  fix: {}",
                kind::install_hint()
            ),
        ),
    }
}

/// `v1.37.0` → 37 (the minor of a Kubernetes version).
fn kube_minor(text: &str) -> Option<u64> {
    let v = text.split_whitespace().find_map(|w| w.strip_prefix('v'))?;
    let mut parts = v.split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}

/// The node image's Kubernetes minor (`kindest/node:v1.37.0@...` → 37).
fn node_minor() -> Option<u64> {
    let tag = NODE_IMAGE.split('@').next()?.rsplit(':').next()?;
    kube_minor(tag)
}

fn kubectl_line(probe: &Probe) -> (bool, String) {
    let install = "install kubectl (https://kubernetes.io/docs/tasks/tools/), the same minor version as the cluster's";
    let Some(bin) = probe.tool("kubectl") else {
        return (
            false,
            format!(
                "kubectl: not on PATH (optional: seclab does not need it; hints use `kubectl --context kind-seclab ...`)\n  fix: {install}"
            ),
        );
    };
    // `--client`: kubectl asks no cluster (without it, it would ask the
    // current-context's).
    let out = retry_busy(|| {
        Command::new(&bin)
            .args(["version", "--client"])
            .stdin(Stdio::null())
            .output()
    });
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            return (
                false,
                format!(
                    "kubectl at {}: `kubectl version --client` failed: {}\n  fix: {install}",
                    bin.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
            );
        }
        Err(e) => {
            return (
                false,
                format!("kubectl at {}: cannot run: {e}", bin.display()),
            );
        }
    };
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string();
    match (kube_minor(&first), node_minor()) {
        (Some(client), Some(node)) if client.abs_diff(node) > 1 => (
            false,
            format!(
                "kubectl: {first} ({}) is {} minor versions from the cluster's v1.{node} (kubectl supports one either way)\n  fix: {install} (v1.{node})",
                bin.display(),
                client.abs_diff(node)
            ),
        ),
        (Some(_), _) => (true, format!("kubectl: {first} ({})", bin.display())),
        (None, _) => (
            false,
            format!(
                "kubectl at {}: `kubectl version --client` printed {first:?}, not a version\n  fix: {install}",
                bin.display()
            ),
        ),
    }
}

fn trivy_line(probe: &Probe) -> (bool, String) {
    if let Some(bin) = probe.tool("trivy") {
        let version = retry_busy(|| {
            Command::new(&bin)
                .arg("--version")
                .stdin(Stdio::null())
                .output()
        })
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_string())
        });
        return match version {
            Some(v) => (true, format!("trivy: {v} ({})", bin.display())),
            None => (
                false,
                format!(
                    "trivy at {}: `trivy --version` failed\n  fix: reinstall trivy",
                    bin.display()
                ),
            ),
        };
    }
    let image = &probe.trivy_image;
    let present = probe.tool("docker").is_some_and(|docker| {
        Command::new(docker)
            .args(["image", "inspect", "--format", "{{.Id}}", image])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if present {
        (
            true,
            format!(
                "trivy: no binary on PATH; the engine has the {image} image, which `seclab scan-image` runs"
            ),
        )
    } else {
        (
            false,
            format!(
                "trivy: no binary on PATH and no {image} image on the engine (the trivy-scan lab needs one)\n  fix: install trivy (Aqua's apt repository, or a release binary) or `docker pull {image}`"
            ),
        )
    }
}

/// Available KiB in `df -Pk` output (the line after the header; the field
/// before the `NN%` one, so a filesystem name with spaces does not shift
/// it), with the mount point.
pub fn parse_df(output: &str) -> Option<(u64, String)> {
    let line = output.lines().nth(1)?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let pct = fields
        .iter()
        .rposition(|f| f.ends_with('%') && f[..f.len() - 1].parse::<u64>().is_ok())?;
    let avail = fields.get(pct.checked_sub(1)?)?.parse().ok()?;
    let mount = fields[pct + 1..].join(" ");
    Some((avail, mount))
}

fn human(kib: u64) -> String {
    let gib = kib as f64 / (1024.0 * 1024.0);
    if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{:.0} MiB", kib as f64 / 1024.0)
    }
}

/// The nearest existing folder at or above `p` (a state dir not made yet).
fn existing_ancestor(p: &Path) -> Option<&Path> {
    p.ancestors().find(|a| a.is_dir())
}

fn free_line(probe: &Probe, what: &str, dir: &Path, min_kib: u64) -> (bool, String) {
    let Some(at) = existing_ancestor(dir) else {
        return (
            false,
            format!("free disk of the {what} {}: no such folder", dir.display()),
        );
    };
    let Some(df) = probe.tool("df") else {
        return (
            true,
            format!(
                "free disk of the {what} {}: not checked (no `df` on PATH)",
                dir.display()
            ),
        );
    };
    let out = Command::new(df)
        .arg("-Pk")
        .arg(at)
        .stdin(Stdio::null())
        .output();
    let parsed = out
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| parse_df(&String::from_utf8_lossy(&o.stdout)));
    match parsed {
        Some((avail, mount)) if avail >= min_kib => (
            true,
            format!(
                "free disk of the {what} {}: {} on {mount}",
                dir.display(),
                human(avail)
            ),
        ),
        Some((avail, mount)) => (
            false,
            format!(
                "free disk of the {what} {}: only {} on {mount}, seclab needs {}\n  fix: free space there (`docker system prune` removes unused images and containers)",
                dir.display(),
                human(avail),
                human(min_kib)
            ),
        ),
        None => (
            false,
            format!(
                "free disk of the {what} {}: `df -Pk {}` gave no answer",
                dir.display(),
                at.display()
            ),
        ),
    }
}

fn disk_lines(probe: &Probe) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let docker_root = probe.tool("docker").and_then(|docker| {
        Command::new(docker)
            .args(["info", "--format", "{{.DockerRootDir}}"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    });
    match docker_root {
        Some(root) if Path::new(&root).is_dir() => {
            out.push(free_line(probe, "Docker root", Path::new(&root), MIN_DOCKER_FREE_KIB));
        }
        Some(root) => out.push((
            true,
            format!("free disk of the Docker root {root}: not checked (not on this machine: the engine runs elsewhere, e.g. in Docker Desktop's VM)"),
        )),
        None => out.push((
            true,
            "free disk of the Docker root: not checked (no engine answered `docker info`; see the engine line)".to_string(),
        )),
    }
    if let Some(state) = &probe.state_dir {
        out.push(free_line(probe, "state dir", state, MIN_STATE_FREE_KIB));
    }
    out
}

fn read_number(p: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(p).map_err(|e| e.to_string())?;
    text.trim()
        .parse()
        .map_err(|_| format!("{:?} is not a number", text.trim()))
}

/// The inotify limits under `proc_sys` against kind's known-issues minimums.
pub fn inotify_lines(proc_sys: &Path) -> Vec<(bool, String)> {
    let dir = proc_sys.join("fs/inotify");
    if !dir.is_dir() {
        return vec![(
            true,
            format!(
                "inotify limits: not checked ({} is not here: not Linux? kind then runs in a VM with its own limits)",
                dir.display()
            ),
        )];
    }
    let fix = format!(
        "  fix: `sudo sysctl -w fs.inotify.max_user_watches={MIN_INOTIFY_WATCHES} fs.inotify.max_user_instances={MIN_INOTIFY_INSTANCES}`, and to keep it after a reboot put both settings in /etc/sysctl.d/99-kind.conf"
    );
    [("max_user_watches", MIN_INOTIFY_WATCHES), ("max_user_instances", MIN_INOTIFY_INSTANCES)]
        .into_iter()
        .map(|(name, min)| match read_number(&dir.join(name)) {
            Ok(n) if n >= min => (true, format!("inotify: fs.inotify.{name} = {n} (kind needs {min})")),
            Ok(n) => (
                false,
                format!("inotify: fs.inotify.{name} = {n}, kind needs {min} (pods fail with \"too many open files\")\n{fix}"),
            ),
            Err(e) => (false, format!("inotify: cannot read {}: {e}", dir.join(name).display())),
        })
        .collect()
}

/// The kubeconfig files seclab (kube-rs) would read: each non-empty entry
/// of `KUBECONFIG`, else `~/.kube/config`; and whether `KUBECONFIG` named
/// them.
fn kubeconfig_paths(probe: &Probe) -> (Vec<PathBuf>, bool) {
    if let Some(v) = &probe.kubeconfig {
        let paths: Vec<PathBuf> = std::env::split_paths(v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return (paths, true);
        }
    }
    (
        probe
            .home
            .iter()
            .map(|h| h.join(".kube").join("config"))
            .collect(),
        false,
    )
}

fn context_lines(context: &str, probe: &Probe) -> Vec<(bool, String)> {
    let create = if context == format!("kind-{}", kind::CLUSTER_NAME) {
        format!(
            "`seclab up` creates it (for a kind cluster `{}` made without seclab: `kind export kubeconfig --name {}`)",
            kind::CLUSTER_NAME,
            kind::CLUSTER_NAME
        )
    } else {
        "add it to the kubeconfig, or name another with --context / SECLAB_CONTEXT".to_string()
    };
    let (paths, from_env) = kubeconfig_paths(probe);
    if paths.is_empty() {
        return vec![(
            false,
            format!(
                "kubeconfig: no KUBECONFIG and no home folder, so no context {context}\n  fix: set KUBECONFIG"
            ),
        )];
    }
    let shown = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut merged = kube::config::Kubeconfig::default();
    for p in &paths {
        if !p.exists() {
            if from_env {
                return vec![(
                    false,
                    format!(
                        "kubeconfig {} (in KUBECONFIG): no such file\n  fix: remove it from KUBECONFIG, or create it",
                        p.display()
                    ),
                )];
            }
            return vec![(
                false,
                format!(
                    "kubeconfig: {} does not exist, so no context {context} yet\n  fix: {create}",
                    p.display()
                ),
            )];
        }
        match kube::config::Kubeconfig::read_from(p).and_then(|k| merged.clone().merge(k)) {
            Ok(m) => merged = m,
            Err(e) => {
                return vec![(
                    false,
                    format!(
                        "kubeconfig {}: cannot be read: {e}\n  fix: repair or move the file",
                        p.display()
                    ),
                )];
            }
        }
    }
    let mut out = Vec::new();
    match merged.contexts.iter().find(|c| c.name == context) {
        Some(named) => {
            let cluster_name = named
                .context
                .as_ref()
                .map(|c| c.cluster.clone())
                .unwrap_or_default();
            let server = merged
                .clusters
                .iter()
                .find(|c| c.name == cluster_name)
                .and_then(|c| c.cluster.as_ref())
                .and_then(|c| c.server.clone());
            match server {
                Some(server) => out.push((
                    true,
                    format!("context {context}: cluster {cluster_name} at {server} (kubeconfig {shown}); seclab uses it for every request"),
                )),
                None => out.push((
                    false,
                    format!("context {context} names cluster {cluster_name:?}, which has no server in the kubeconfig ({shown})\n  fix: {create}"),
                )),
            }
        }
        None => {
            let mut others: Vec<&str> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
            others.sort_unstable();
            let there = if others.is_empty() {
                "it has no contexts".to_string()
            } else {
                format!("it has {}", others.join(", "))
            };
            out.push((
                false,
                format!(
                    "context {context} is not in the kubeconfig ({shown}; {there})\n  fix: {create}"
                ),
            ));
        }
    }
    out.push((
        true,
        match merged.current_context.as_deref().filter(|c| !c.is_empty()) {
            Some(cur) if cur == context => format!(
                "current-context: {cur}, the same as seclab's; seclab still names {context} in every request and never uses the current-context"
            ),
            Some(cur) => format!(
                "current-context: {cur}: never used by seclab, which names {context} in every request ({cur} gets none)"
            ),
            None => format!("current-context: none set; seclab never uses it (it names {context} in every request)"),
        },
    ));
    out
}

#[cfg(test)]
mod tests;
