//! Tests of the parent module.

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
    p.kubeconfig = Some(std::env::join_paths([good.as_path(), &tmp.path().join("gone")]).unwrap());
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
