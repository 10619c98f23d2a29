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
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn script(dir: &Path, name: &str, text: &str) {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A probe whose PATH is only `bin` (empty unless scripts are put
    /// there), no home, an empty /proc/sys, no state dir.
    fn probe(tmp: &Path) -> Probe {
        let bin = tmp.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        Probe {
            path: Some(bin.into_os_string()),
            kind_env: None,
            kubeconfig: None,
            home: None,
            proc_sys: tmp.join("proc-sys"),
            state_dir: None,
            trivy_image: "aquasec/trivy".into(),
        }
    }

    fn find<'a>(lines: &'a [(bool, String)], prefix: &str) -> &'a (bool, String) {
        lines
            .iter()
            .find(|(_, l)| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in {lines:#?}"))
    }

    const KUBECONFIG: &str = r"apiVersion: v1
kind: Config
clusters:
- name: kind-seclab
  cluster:
    server: https://127.0.0.1:40403
- name: prod
  cluster:
    server: https://prod.example.invalid:6443
contexts:
- name: kind-seclab
  context:
    cluster: kind-seclab
    user: kind-seclab
- name: prod-admin
  context:
    cluster: prod
    user: admin
current-context: prod-admin
users:
- name: kind-seclab
  user: {}
- name: admin
  user: {}
";

    #[test]
    fn nothing_installed_is_a_problem_with_a_fix_for_kind_kubectl_and_trivy() {
        let tmp = tempfile::tempdir().unwrap();
        let lines = lines_with("kind-seclab", &probe(tmp.path()));
        let (ok, kind) = find(&lines, "kind is not installed");
        assert!(!ok);
        assert!(
            kind.contains("go install sigs.k8s.io/kind@v0.33.0"),
            "{kind}"
        );
        let (ok, kubectl) = find(&lines, "kubectl: not on PATH");
        assert!(!ok && kubectl.contains("fix:") && kubectl.contains("optional"));
        let (ok, trivy) = find(&lines, "trivy: no binary on PATH");
        assert!(
            !ok && trivy.contains("docker pull aquasec/trivy"),
            "{trivy}"
        );
    }

    #[test]
    fn found_tools_show_their_versions_and_a_skewed_kubectl_is_a_problem() {
        let tmp = tempfile::tempdir().unwrap();
        let p = probe(tmp.path());
        let bin = tmp.path().join("bin");
        script(
            &bin,
            "kind",
            "#!/bin/sh\necho 'kind v0.33.0 go1.25.3 linux/amd64'\n",
        );
        script(
            &bin,
            "kubectl",
            "#!/bin/sh\n[ \"$*\" = 'version --client' ] || exit 9\nprintf 'Client Version: v1.37.1\\nKustomize Version: v5.7.1\\n'\n",
        );
        script(&bin, "trivy", "#!/bin/sh\necho 'Version: 0.64.1'\n");
        let lines = lines_with("kind-seclab", &p);
        assert_eq!(
            find(&lines, "kind: ").clone(),
            (
                true,
                format!(
                    "kind: kind v0.33.0 go1.25.3 linux/amd64 ({})",
                    bin.join("kind").display()
                )
            )
        );
        let (ok, kubectl) = find(&lines, "kubectl: ");
        assert!(ok, "{kubectl}");
        assert!(
            kubectl.starts_with("kubectl: Client Version: v1.37.1"),
            "{kubectl}"
        );
        assert!(find(&lines, "trivy: Version: 0.64.1").0);

        // Five minors away from the node image's v1.37.
        script(
            &bin,
            "kubectl",
            "#!/bin/sh\nprintf 'Client Version: v1.32.4\\n'\n",
        );
        let lines = lines_with("kind-seclab", &p);
        let (ok, kubectl) = find(&lines, "kubectl: ");
        assert!(!ok, "{kubectl}");
        assert!(
            kubectl.contains("5 minor versions") && kubectl.contains("v1.37"),
            "{kubectl}"
        );
    }

    #[test]
    fn an_older_kind_is_a_problem_a_newer_one_is_fine() {
        let tmp = tempfile::tempdir().unwrap();
        let p = probe(tmp.path());
        let bin = tmp.path().join("bin");
        script(
            &bin,
            "kind",
            "#!/bin/sh\necho 'kind v0.29.0 go1.24.2 linux/amd64'\n",
        );
        let (ok, l) = find(&lines_with("kind-seclab", &p), "kind: ").clone();
        assert!(
            !ok && l.contains("older than v0.33.0") && l.contains("fix:"),
            "{l}"
        );
        script(
            &bin,
            "kind",
            "#!/bin/sh\necho 'kind v0.34.1 go1.26 linux/amd64'\n",
        );
        let (ok, l) = find(&lines_with("kind-seclab", &p), "kind: ").clone();
        assert!(ok, "{l}");
        script(&bin, "kind", "#!/bin/sh\necho 'something else'\n");
        assert!(!find(&lines_with("kind-seclab", &p), "kind at ").0);
    }

    #[test]
    fn inotify_limits_below_kinds_needs_are_problems_with_the_sysctl_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("fs/inotify");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("max_user_watches"), "192530\n").unwrap();
        std::fs::write(dir.join("max_user_instances"), "512\n").unwrap();
        let lines = inotify_lines(tmp.path());
        assert_eq!(lines.len(), 2);
        let (ok, watches) = &lines[0];
        assert!(!ok);
        assert!(
            watches.contains("192530")
                && watches.contains("sudo sysctl -w fs.inotify.max_user_watches=524288"),
            "{watches}"
        );
        assert!(lines[1].0, "512 instances is enough: {}", lines[1].1);
        std::fs::write(dir.join("max_user_watches"), "1048576").unwrap();
        std::fs::write(dir.join("max_user_instances"), "128").unwrap();
        let lines = inotify_lines(tmp.path());
        assert!(lines[0].0 && !lines[1].0);
        std::fs::write(dir.join("max_user_instances"), "lots").unwrap();
        assert!(!inotify_lines(tmp.path())[1].0);
        // No /proc/sys/fs/inotify: not Linux, not checked.
        let none = inotify_lines(&tmp.path().join("nowhere"));
        assert!(none.len() == 1 && none[0].0 && none[0].1.contains("not checked"));
    }

    #[test]
    fn df_output_parses_even_with_spaces_in_names() {
        let out = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda         264212084 21154340  74131548      23% /var/lib/docker\n";
        assert_eq!(parse_df(out), Some((74_131_548, "/var/lib/docker".into())));
        let spaced = "Filesystem 1024-blocks Used Available Capacity Mounted on\nmy disk 100 50 50 50% /Volumes/My Disk\n";
        assert_eq!(parse_df(spaced), Some((50, "/Volumes/My Disk".into())));
        assert_eq!(parse_df("Filesystem\n"), None);
        assert_eq!(parse_df(""), None);
    }

    #[test]
    fn free_disk_of_the_state_dir_is_checked_with_df_and_the_threshold() {
        let tmp = tempfile::tempdir().unwrap();
        let mut p = probe(tmp.path());
        let bin = tmp.path().join("bin");
        p.state_dir = Some(tmp.path().join("state/not/made/yet"));
        script(
            &bin,
            "df",
            "#!/bin/sh\nprintf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/x 1000000 990000 10000 99%% /\\n'\n",
        );
        let lines = disk_lines(&p);
        let (ok, l) = find(&lines, "free disk of the state dir").clone();
        assert!(
            !ok && l.contains("only 10 MiB") && l.contains("fix:"),
            "{l}"
        );
        script(
            &bin,
            "df",
            "#!/bin/sh\nprintf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/x 100000000 10000000 90000000 10%% /\\n'\n",
        );
        let (ok, l) = find(&disk_lines(&p), "free disk of the state dir").clone();
        assert!(ok && l.contains("85.8 GiB on /"), "{l}");
        // No docker: the Docker root is not checked, and that is said.
        assert!(
            find(&disk_lines(&p), "free disk of the Docker root")
                .1
                .contains("not checked")
        );
    }

    #[test]
    fn the_context_is_found_with_its_server_and_the_current_context_is_named_never_used() {
        let tmp = tempfile::tempdir().unwrap();
        let mut p = probe(tmp.path());
        let kc = tmp.path().join("config");
        std::fs::write(&kc, KUBECONFIG).unwrap();
        p.kubeconfig = Some(kc.clone().into_os_string());
        let lines = context_lines("kind-seclab", &p);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[0].0);
        assert!(
            lines[0]
                .1
                .contains("cluster kind-seclab at https://127.0.0.1:40403"),
            "{}",
            lines[0].1
        );
        assert!(lines[1].0);
        assert!(
            lines[1]
                .1
                .starts_with("current-context: prod-admin: never used"),
            "{}",
            lines[1].1
        );
        assert!(
            !lines
                .iter()
                .any(|(_, l)| l.contains("prod.example.invalid")),
            "the foreign server is not what seclab uses"
        );

        // Another context asked for, which is not there: the problem names
        // what is there.
        let lines = context_lines("kind-other", &p);
        assert!(!lines[0].0);
        assert!(
            lines[0].1.contains("kind-seclab, prod-admin") && lines[0].1.contains("--context"),
            "{}",
            lines[0].1
        );
    }

    #[test]
    fn kubeconfig_from_home_missing_or_broken_is_a_problem_with_a_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let mut p = probe(tmp.path());
        p.home = Some(tmp.path().join("home"));
        let lines = context_lines("kind-seclab", &p);
        assert_eq!(lines.len(), 1);
        assert!(
            !lines[0].0
                && lines[0].1.contains(".kube/config does not exist")
                && lines[0].1.contains("seclab up"),
            "{}",
            lines[0].1
        );

        let dir = tmp.path().join("home/.kube");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config"), "clusters: [unclosed\n").unwrap();
        let lines = context_lines("kind-seclab", &p);
        assert!(
            !lines[0].0 && lines[0].1.contains("cannot be read"),
            "{}",
            lines[0].1
        );

        // KUBECONFIG naming a missing file, next to a good one.
        let good = tmp.path().join("good");
        std::fs::write(&good, KUBECONFIG).unwrap();
        p.kubeconfig =
            Some(std::env::join_paths([good.as_path(), &tmp.path().join("gone")]).unwrap());
        let lines = context_lines("kind-seclab", &p);
        assert!(
            !lines[0].0 && lines[0].1.contains("(in KUBECONFIG): no such file"),
            "{}",
            lines[0].1
        );

        // KUBECONFIG merging two files: the first file's current-context wins.
        let second = tmp.path().join("second");
        std::fs::write(&second, "apiVersion: v1\nkind: Config\ncurrent-context: other\ncontexts: []\nclusters: []\nusers: []\n").unwrap();
        p.kubeconfig = Some(std::env::join_paths([second.as_path(), good.as_path()]).unwrap());
        let lines = context_lines("kind-seclab", &p);
        assert!(lines[0].0, "{}", lines[0].1);
        assert!(
            lines[1].1.starts_with("current-context: other:"),
            "{}",
            lines[1].1
        );
    }
}
