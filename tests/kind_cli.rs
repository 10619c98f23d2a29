//! `seclab::shell::kind` against fake `kind` and `docker` scripts: each test
//! writes the scripts into its own temporary folder and hands that folder
//! as `PATH` to `Kind::find_in` (no process-wide environment is changed).
//! The scripts record every call (`calls.log`), print what kind v0.33.0
//! prints, and fail when a control file next to them says so.

#![cfg(unix)]

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use seclab::shell::kind::{CLUSTER_LABEL, Kind, KindError, LoadMethod, NodeContainer};

const FAKE_KIND: &str = r#"#!/bin/sh
dir=$(dirname "$0")
printf '%s\n' "kind $*" >> "$dir/calls.log"
case "$1 $2" in
  "version "*)
    echo "kind v0.33.0 go1.25.3 linux/amd64" ;;
  "get clusters")
    if [ -f "$dir/fail-docker" ]; then
      echo "ERROR: failed to list clusters: command \"docker ps -a --filter label=io.x-k8s.kind.cluster --format '{{.Label \"io.x-k8s.kind.cluster\"}}'\" failed with error: exit status 1" >&2
      exit 1
    fi
    if [ -f "$dir/clusters" ]; then cat "$dir/clusters"; else echo "No kind clusters found." >&2; fi ;;
  "get kubeconfig")
    if [ ! -f "$dir/clusters" ]; then
      echo "ERROR: could not locate any control plane nodes for cluster named '$4'. Use the --name option to select a different cluster" >&2
      exit 1
    fi
    cat <<EOF
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTg==
    server: https://127.0.0.1:41234
  name: kind-$4
contexts:
- context:
    cluster: kind-$4
    user: kind-$4
  name: kind-$4
current-context: kind-$4
kind: Config
users:
- name: kind-$4
  user:
    client-certificate-data: LS0tLS1CRUdJTg==
    client-key-data: LS0tLS1CRUdJTg==
EOF
    ;;
  "create cluster")
    if [ ! -f "$6" ]; then echo "ERROR: failed to create cluster: error reading file: open $6: no such file or directory" >&2; exit 1; fi
    if [ -f "$dir/fail-create" ]; then
      printf 'Creating cluster "%s" ...\n' "$4" >&2
      echo "ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"$4\"" >&2
      exit 1
    fi
    printf 'Creating cluster "%s" ...\n' "$4" >&2
    printf ' • Ensuring node image (kindest/node:v1.37.0) 🖼  ...\r ✓ Ensuring node image (kindest/node:v1.37.0) 🖼\n' >&2
    printf ' ✓ Preparing nodes 📦\n ✓ Writing configuration 📜\n ✓ Starting control-plane 🕹️\n ✓ Installing CNI 🔌\n ✓ Installing StorageClass 💾\n' >&2
    printf 'Set kubectl context to "kind-%s"\nYou can now use your cluster with:\n\n' "$4" >&2
    printf 'kubectl cluster-info --context kind-%s\n' "$4" ;;
  "delete cluster")
    printf 'Deleting cluster "%s" ...\n' "$4" >&2
    printf 'Deleted nodes: ["%s-control-plane"]\n' "$4" >&2 ;;
  "load docker-image")
    if [ -f "$dir/fail-docker-image" ]; then
      echo 'ERROR: failed to load image: command "docker exec --privileged -i seclab-control-plane ctr --namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs -" failed with error: exit status 1' >&2
      echo 'Command Output: ctr: content digest sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741: not found' >&2
      exit 1
    fi
    printf 'Image: "%s" with ID "sha256:65ad0d468eb1" not yet present on node "%s-control-plane", loading...\n' "$5" "$4" ;;
  "load image-archive")
    if [ ! -f "$5" ]; then echo "ERROR: failed to load image: open $5: no such file or directory" >&2; exit 1; fi
    if [ -f "$dir/fail-archive" ]; then echo "ERROR: failed to load image: archive is broken" >&2; exit 1; fi
    cp "$5" "$dir/loaded-archive" ;;
  *)
    echo "ERROR: unknown command \"$1\" for \"kind\"" >&2; exit 1 ;;
esac
"#;

const FAKE_DOCKER: &str = r#"#!/bin/sh
dir=$(dirname "$0")
printf '%s\n' "docker $*" >> "$dir/calls.log"
case "$1" in
  save)
    if [ -f "$dir/fail-save" ]; then echo "Error response from daemon: reference does not exist" >&2; exit 1; fi
    printf 'image tar of %s' "$4" > "$3" ;;
  ps)
    cat "$dir/ps.out" 2>/dev/null ;;
  *) exit 1 ;;
esac
"#;

/// A folder with the fake tools; its path is the `PATH` given to kind.
struct Fakes {
    dir: tempfile::TempDir,
}

impl Fakes {
    fn new() -> Self {
        let f = Fakes::bare();
        f.script("kind", FAKE_KIND);
        f.script("docker", FAKE_DOCKER);
        f
    }

    /// No tools at all.
    fn bare() -> Self {
        Fakes {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn script(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn path(&self) -> &OsStr {
        self.dir.path().as_os_str()
    }

    fn kind(&self) -> Kind {
        Kind::find_in(None, Some(self.path())).expect("the fake kind is found")
    }

    fn set(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join(file), text).unwrap();
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn config(&self) -> PathBuf {
        let p = self.dir.path().join("cluster.yaml");
        std::fs::write(&p, "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n").unwrap();
        p
    }
}

#[test]
fn missing_kind_names_kind_and_how_to_install_the_pinned_release() {
    let f = Fakes::bare();
    f.script("docker", FAKE_DOCKER); // docker alone is not kind
    let err = Kind::find_in(None, Some(f.path())).unwrap_err();
    assert!(matches!(err, KindError::NotFound { .. }), "{err:?}");
    let msg = err.to_string();
    for want in [
        "kind is not installed",
        "no `kind` on PATH",
        "go install sigs.k8s.io/kind@v0.33.0",
        "https://kind.sigs.k8s.io/dl/v0.33.0/kind-linux-amd64",
        "SECLAB_KIND",
    ] {
        assert!(msg.contains(want), "{want:?} missing from: {msg}");
    }
    // No PATH at all is the same.
    assert!(matches!(
        Kind::find_in(None, None),
        Err(KindError::NotFound { .. })
    ));
}

#[test]
fn a_non_executable_kind_is_not_found() {
    let f = Fakes::bare();
    let p = f.dir.path().join("kind");
    std::fs::write(&p, FAKE_KIND).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(
        Kind::find_in(None, Some(f.path())),
        Err(KindError::NotFound { .. })
    ));
}

#[test]
fn seclab_kind_names_the_binary_by_path_or_by_name() {
    let f = Fakes::bare();
    let other = f.script("kind-0.33", FAKE_KIND);
    // A path: used as is, wherever PATH points.
    let k = Kind::find_in(Some(other.as_os_str()), None).unwrap();
    assert_eq!(k.bin(), other);
    // A name: looked up on PATH.
    let k = Kind::find_in(Some(OsStr::new("kind-0.33")), Some(f.path())).unwrap();
    assert_eq!(k.bin(), other);
    // A path that is not there: an error naming the variable.
    let err = Kind::find_in(Some(OsStr::new("/nowhere/kind")), Some(f.path())).unwrap_err();
    assert!(
        err.to_string().contains("SECLAB_KIND=/nowhere/kind"),
        "{err}"
    );
    // A name that is not on PATH, even though `kind` is not either.
    let err = Kind::find_in(Some(OsStr::new("kind-9")), Some(f.path())).unwrap_err();
    assert!(err.to_string().contains("SECLAB_KIND=kind-9"), "{err}");
}

#[test]
fn version_is_kinds_line() {
    let f = Fakes::new();
    assert_eq!(
        f.kind().version().unwrap(),
        "kind v0.33.0 go1.25.3 linux/amd64"
    );
    assert_eq!(f.calls(), ["kind version"]);
}

#[test]
fn no_clusters_is_an_empty_list_not_an_error() {
    let f = Fakes::new();
    assert_eq!(f.kind().clusters().unwrap(), Vec::<String>::new());
    f.set("clusters", "kind\nseclab\n");
    assert_eq!(f.kind().clusters().unwrap(), ["kind", "seclab"]);
    assert_eq!(f.calls(), ["kind get clusters", "kind get clusters"]);
}

#[test]
fn a_failing_get_clusters_carries_the_command_and_its_stderr() {
    let f = Fakes::new();
    f.set("fail-docker", "");
    let err = f.kind().clusters().unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`kind get clusters` failed (exit 1)"), "{msg}");
    assert!(msg.contains("ERROR: failed to list clusters"), "{msg}");
}

#[test]
fn create_streams_kinds_lines_as_they_come() {
    let f = Fakes::new();
    let config = f.config();
    let mut lines = Vec::new();
    f.kind()
        .create("seclab", &config, None, &mut |l| lines.push(l.to_string()))
        .unwrap();
    assert_eq!(
        f.calls(),
        [format!(
            "kind create cluster --name seclab --config {}",
            config.display()
        )]
    );
    // kind's status lines, the spinner's `\r` redraw split into two lines,
    // in kind's order (stderr), with stdout's line too.
    let expected_in_order = [
        "Creating cluster \"seclab\" ...",
        " • Ensuring node image (kindest/node:v1.37.0) 🖼  ...",
        " ✓ Ensuring node image (kindest/node:v1.37.0) 🖼",
        " ✓ Preparing nodes 📦",
        " ✓ Starting control-plane 🕹️",
        " ✓ Installing StorageClass 💾",
        "Set kubectl context to \"kind-seclab\"",
    ];
    let mut at = 0;
    for want in expected_in_order {
        let found = lines[at..]
            .iter()
            .position(|l| l == want)
            .unwrap_or_else(|| panic!("{want:?} not after line {at} in {lines:#?}"));
        at += found + 1;
    }
    assert!(
        lines
            .iter()
            .any(|l| l == "kubectl cluster-info --context kind-seclab")
    );
    assert!(lines.iter().all(|l| !l.trim().is_empty()), "no blank lines");
}

#[test]
fn create_passes_the_image_when_given() {
    let f = Fakes::new();
    let config = f.config();
    f.kind()
        .create("seclab", &config, Some("kindest/node:v1.37.0"), &mut |_| {})
        .unwrap();
    assert_eq!(
        f.calls(),
        [format!(
            "kind create cluster --name seclab --config {} --image kindest/node:v1.37.0",
            config.display()
        )]
    );
}

#[test]
fn a_failed_create_is_an_error_with_the_command_and_kinds_message() {
    let f = Fakes::new();
    f.set("fail-create", "");
    let config = f.config();
    let mut lines = Vec::new();
    let err = f
        .kind()
        .create("seclab", &config, None, &mut |l| lines.push(l.to_string()))
        .unwrap_err();
    match &err {
        KindError::Failed {
            command,
            status,
            stderr,
        } => {
            assert!(
                command.starts_with("kind create cluster --name seclab --config "),
                "{command}"
            );
            assert_eq!(status, "exit 1");
            assert!(
                stderr.contains("node(s) already exist for a cluster with the name \"seclab\""),
                "{stderr}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ERROR: failed to create cluster")),
        "streamed too"
    );
}

#[test]
fn delete_and_kubeconfig_name_the_cluster() {
    let f = Fakes::new();
    f.kind().delete("seclab").unwrap();
    let err = f.kind().kubeconfig("seclab").unwrap_err();
    assert!(
        err.to_string()
            .contains("could not locate any control plane nodes"),
        "{err}"
    );
    f.set("clusters", "seclab\n");
    let kc = f.kind().kubeconfig("seclab").unwrap();
    let parsed = kube::config::Kubeconfig::from_yaml(&kc).expect("a kubeconfig");
    assert_eq!(parsed.contexts[0].name, "kind-seclab");
    assert_eq!(
        f.calls(),
        [
            "kind delete cluster --name seclab",
            "kind get kubeconfig --name seclab",
            "kind get kubeconfig --name seclab",
        ]
    );
}

#[test]
fn images_load_directly_when_kind_can() {
    let f = Fakes::new();
    let images = vec!["busybox:1.36".to_string(), "nginx:1.27".to_string()];
    let mut lines = Vec::new();
    let loaded = f
        .kind()
        .load_images("seclab", &images, &mut |l| lines.push(l.to_string()))
        .unwrap();
    assert!(loaded.iter().all(|l| l.method == LoadMethod::DockerImage));
    assert_eq!(
        loaded.iter().map(|l| l.image.as_str()).collect::<Vec<_>>(),
        ["busybox:1.36", "nginx:1.27"]
    );
    assert_eq!(
        f.calls(),
        [
            "kind load docker-image --name seclab busybox:1.36",
            "kind load docker-image --name seclab nginx:1.27",
        ]
    );
    assert!(!lines.iter().any(|l| l.contains("falling back")));
}

#[test]
fn a_failed_docker_image_load_falls_back_to_docker_save_and_image_archive() {
    let f = Fakes::new();
    f.set("fail-docker-image", "");
    let mut lines = Vec::new();
    let loaded = f
        .kind()
        .load_images("seclab", &["busybox:1.36".to_string()], &mut |l| {
            lines.push(l.to_string());
        })
        .unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].method, LoadMethod::Archive);
    let calls = f.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert_eq!(
        calls[0],
        "kind load docker-image --name seclab busybox:1.36"
    );
    let tar = calls[1]
        .strip_prefix("docker save -o ")
        .and_then(|rest| rest.strip_suffix(" busybox:1.36"))
        .unwrap_or_else(|| panic!("docker save -o <tar> busybox:1.36: {}", calls[1]));
    assert_eq!(
        calls[2],
        format!("kind load image-archive --name seclab {tar}")
    );
    // kind got the archive docker wrote, and it is gone afterwards.
    assert_eq!(
        std::fs::read_to_string(f.dir.path().join("loaded-archive")).unwrap(),
        "image tar of busybox:1.36"
    );
    assert!(
        !Path::new(tar).exists(),
        "the temporary tar {tar} is removed"
    );
    assert!(!Path::new(tar).parent().unwrap().exists(), "and its folder");
    assert!(
        lines.iter().any(|l| l.contains("falling back")),
        "{lines:#?}"
    );
}

#[test]
fn both_ways_failing_is_one_error_with_both_messages() {
    let f = Fakes::new();
    f.set("fail-docker-image", "");
    f.set("fail-save", "");
    let err = f
        .kind()
        .load_images(
            "seclab",
            &["app:1".to_string(), "never:1".to_string()],
            &mut |_| {},
        )
        .unwrap_err();
    assert!(
        matches!(err, KindError::Load { ref image, .. } if image == "app:1"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("ctr: content digest"), "kind's error: {msg}");
    assert!(
        msg.contains("docker save -o"),
        "the fallback's command: {msg}"
    );
    assert!(
        msg.contains("reference does not exist"),
        "docker's error: {msg}"
    );
    assert!(
        !f.calls().iter().any(|c| c.contains("never:1")),
        "stops at the first image that cannot be loaded"
    );
}

#[test]
fn the_fallback_without_docker_says_docker_is_missing() {
    let f = Fakes::bare();
    f.script("kind", FAKE_KIND);
    f.set("fail-docker-image", "");
    let err = f
        .kind()
        .load_images("seclab", &["app:1".to_string()], &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("docker is not on PATH"), "{err}");
}

#[test]
fn node_containers_come_from_docker_ps_by_kinds_cluster_label() {
    let f = Fakes::new();
    f.set(
        "ps.out",
        "3f2a1b9c0d11\tseclab-control-plane\trunning\tcontrol-plane\n7e7e7e7e7e7e\tseclab-worker\texited\tworker\n",
    );
    let nodes = f.kind().node_containers("seclab").unwrap();
    assert_eq!(
        nodes,
        [
            NodeContainer {
                id: "3f2a1b9c0d11".into(),
                name: "seclab-control-plane".into(),
                state: "running".into(),
                role: "control-plane".into(),
            },
            NodeContainer {
                id: "7e7e7e7e7e7e".into(),
                name: "seclab-worker".into(),
                state: "exited".into(),
                role: "worker".into(),
            },
        ]
    );
    let calls = f.calls();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0].starts_with(&format!(
            "docker ps -a --filter label={CLUSTER_LABEL}=seclab --format "
        )),
        "{}",
        calls[0]
    );
    // No node container: an empty list.
    f.set("ps.out", "");
    assert!(f.kind().node_containers("seclab").unwrap().is_empty());
    // Output that is not docker's: an error, not a guess.
    f.set("ps.out", "garbage\n");
    assert!(matches!(
        f.kind().node_containers("seclab"),
        Err(KindError::Output { .. })
    ));
}

#[test]
fn written_cluster_files_are_what_kind_reads() {
    let f = Fakes::bare();
    let dir = f.dir.path().join("state").join("kind");
    let cluster = seclab::shell::kind::write_cluster_files(&dir).unwrap();
    assert_eq!(cluster, dir.join("cluster.yaml"));
    let text = std::fs::read_to_string(&cluster).unwrap();
    assert!(
        text.contains(&format!("hostPath: \"{}\"", dir.display())),
        "{text}"
    );
    assert!(
        !text.contains("{{") && !text.contains("{#"),
        "fully rendered: {text}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("audit-policy.yaml")).unwrap(),
        seclab::shell::kind::AUDIT_POLICY
    );
    let enc = std::fs::read_to_string(dir.join("encryption-config.yaml")).unwrap();
    assert!(!enc.contains("{{") && !enc.contains("{#"), "{enc}");
    // A new cluster gets a new key (and identity first again).
    seclab::shell::kind::write_cluster_files(&dir).unwrap();
    let again = std::fs::read_to_string(dir.join("encryption-config.yaml")).unwrap();
    assert_ne!(again, enc, "a fresh random key");
    assert!(again.find("identity").unwrap() < again.find("aescbc").unwrap());
}
