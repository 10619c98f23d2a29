//! Tests of the `container` checker's rules.

use super::rules::holds;
use super::*;
use crate::container::{Change, EngineFacts};
use crate::container::{ChangeKind, ProbeResult, RunConfig};
use crate::{CheckSpec, Evidence, Status};
use serde_json::Value;

fn compose(yaml: &str) -> Vec<KubeObject> {
    let value: Value = serde_saphyr::from_str(yaml).expect("test YAML parses");
    vec![KubeObject {
        source: Some("compose.yaml".into()),
        doc: 0,
        value,
    }]
}

fn images() -> Images {
    serde_saphyr::from_str(
            "busybox:1.36: {user: 0, users: {root: 0, nobody: 65534}, writable_paths: [/tmp]}\nnamed:1: {user: app, users: {app: 1000}}\n",
        )
        .expect("facts")
}

fn check(rules: &str) -> ContainerCheck {
    serde_saphyr::from_str(&format!("{{service: app, {rules}}}")).expect("check parses")
}

/// Grades `rules` against service `app` with `fields`.
fn grade(rules: &str, fields: &str) -> Verdict {
    let objs = compose(&format!(
        "services:\n  app:\n    image: busybox:1.36\n{fields}"
    ));
    grade_container(&check(rules), &objs, Some(&images()), None)
}

fn errors(v: &Verdict) -> Vec<(String, String)> {
    v.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| {
            (
                f.paths.first().cloned().unwrap_or_default(),
                f.message.clone(),
            )
        })
        .collect()
}

fn passes(rules: &str, fields: &str) {
    let v = grade(rules, fields);
    assert!(v.passed(), "{rules} / {fields}: {:?}", errors(&v));
}

fn fails(rules: &str, fields: &str, path: &str, msg: &str) {
    let v = grade(rules, fields);
    let e = errors(&v);
    assert_eq!(e.len(), 1, "{rules} / {fields}: one error, got {e:?}");
    assert!(
        e[0].0 == path && e[0].1.contains(msg),
        "{rules} / {fields}: want `{msg}` at {path}, got {e:?}"
    );
}

#[test]
fn every_spelling_of_root_is_root() {
    for user in [
        "    user: 0\n",
        "    user: \"0\"\n",
        "    user: root\n",
        "    user: root:root\n",
        "    user: \"0:0\"\n",
    ] {
        fails(
            "non_root: true",
            user,
            "services.app.user",
            "runs as root (uid 0",
        );
    }
    // Unset on a root image: the image's user, root.
    fails(
        "non_root: true",
        "",
        "services.app.user",
        "`user` unset: busybox:1.36's own user, uid 0",
    );
    for user in [
        "    user: 65534\n",
        "    user: nobody\n",
        "    user: \"nobody:nogroup\"\n",
        "    user: \"1000:1000\"\n",
    ] {
        passes("non_root: true", user);
    }
    fails(
        "non_root: true",
        "    user: www\n",
        "services.app.user",
        "image busybox:1.36 has no user www",
    );
    fails(
        "non_root: false",
        "    user: 65534\n",
        "services.app.user",
        "this task needs root",
    );
    passes("non_root: false", "");
}

#[test]
fn a_rule_that_needs_image_facts_names_the_image() {
    let objs = compose("services:\n  app:\n    image: unknown:1\n    read_only: true\n");
    for rule in ["non_root: true", "read_only_root: true"] {
        let v = grade_container(&check(rule), &objs, Some(&images()), None);
        let e = errors(&v);
        assert!(
            e.len() == 1 && e[0].1.contains("no `images:` facts for unknown:1"),
            "{e:?}"
        );
    }
    // A named image user resolved by the image's users.
    let objs = compose("services:\n  app:\n    image: named:1\n");
    assert!(grade_container(&check("non_root: true"), &objs, Some(&images()), None).passed());
    // A uid needs no facts.
    let objs = compose("services:\n  app:\n    image: unknown:1\n    user: \"10\"\n");
    assert!(grade_container(&check("non_root: true"), &objs, None, None).passed());
}

#[test]
fn capabilities_in_every_spelling() {
    let rule = "capabilities: {allowed: [NET_ADMIN], required: [net_admin]}";
    passes(rule, "    cap_drop: [ALL]\n    cap_add: [CAP_NET_ADMIN]\n");
    passes(rule, "    cap_drop: [all]\n    cap_add: [net_admin]\n");
    // Defaults kept: beyond what is allowed.
    fails(
        rule,
        "    cap_add: [NET_ADMIN]\n",
        "services.app.cap_drop",
        "`cap_drop: [ALL]` and `cap_add: [NET_ADMIN]`",
    );
    // ALL added.
    fails(
        rule,
        "    cap_drop: [ALL]\n    cap_add: [ALL]\n",
        "services.app.cap_add[0]",
        "do not add ALL",
    );
    // The wrong capability: SYS_ADMIN instead of NET_ADMIN.
    let v = grade(rule, "    cap_drop: [ALL]\n    cap_add: [SYS_ADMIN]\n");
    let e = errors(&v);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].1.contains("capability SYS_ADMIN")
            && e[0].1.contains("remove SYS_ADMIN from `cap_add`"),
        "{e:?}"
    );
    assert!(
        e[1].0 == "services.app.cap_add" && e[1].1.contains("lacks NET_ADMIN"),
        "{e:?}"
    );
    // Privileged has them all.
    fails(
        rule,
        "    privileged: true\n",
        "services.app.privileged",
        "remove `privileged: true`",
    );
    // No capability at all.
    passes("capabilities: {allowed: []}", "    cap_drop: [ALL]\n");
    fails(
        "capabilities: {allowed: []}",
        "",
        "services.app.cap_drop",
        "this task allows none; drop them all: `cap_drop: [ALL]`",
    );
    // Dropped explicitly, then required.
    fails(
        "capabilities: {required: [NET_RAW]}",
        "    cap_drop: [CAP_NET_RAW]\n",
        "services.app.cap_add",
        "your `cap_drop` removes NET_RAW",
    );
}

#[test]
fn privileged_and_no_new_privileges() {
    fails(
        "privileged: false",
        "    privileged: true\n",
        "services.app.privileged",
        "every capability and every host device",
    );
    passes("privileged: false", "    privileged: false\n");
    passes("privileged: false", "");
    passes("privileged: true", "    privileged: true\n");
    for opt in [
        "no-new-privileges",
        "no-new-privileges:true",
        "no-new-privileges=true",
        "NO-NEW-PRIVILEGES:TRUE",
    ] {
        passes(
            "no_new_privileges: true",
            &format!("    security_opt: [\"{opt}\"]\n"),
        );
    }
    for fields in [
        "",
        "    security_opt: [\"no-new-privileges:false\"]\n",
        "    security_opt: [\"no-new-privileges\", \"no-new-privileges=false\"]\n",
        "    security_opt: [seccomp=unconfined]\n",
    ] {
        fails(
            "no_new_privileges: true",
            fields,
            "services.app.security_opt",
            "security_opt: [\"no-new-privileges:true\"]",
        );
    }
}

#[test]
fn host_namespaces_each_fail() {
    for (field, value) in [
        ("pid", "host"),
        ("network_mode", "host"),
        ("ipc", "host"),
        ("uts", "host"),
        ("userns_mode", "host"),
    ] {
        fails(
            "host_namespaces: false",
            &format!("    {field}: {value}\n"),
            &format!("services.app.{field}"),
            &format!("`{field}: host`"),
        );
    }
    passes(
        "host_namespaces: false",
        "    ipc: private\n    network_mode: none\n",
    );
    let v = grade(
        "host_namespaces: false",
        "    pid: host\n    network_mode: host\n",
    );
    assert!(
        errors(&v)[0].1.contains("`pid: host`") && errors(&v)[0].1.contains("`network_mode: host`")
    );
    fails(
        "host_namespaces: true",
        "",
        "services.app.pid",
        "shares no namespace",
    );
}

#[test]
fn the_docker_socket_and_every_folder_holding_it() {
    for src in [
        "/var/run/docker.sock",
        "/run/docker.sock",
        "/",
        "/var",
        "/run",
        "/var/run",
        "/var/run/",
        "//var//run",
    ] {
        fails(
            "docker_socket: false",
            &format!("    volumes: [\"./ok:/ok\", \"{src}:/host:ro\"]\n"),
            "services.app.volumes[1]",
            "root on the host",
        );
    }
    for src in ["/var/lib/app", "./var/run", "/srv"] {
        passes(
            "docker_socket: false",
            &format!("    volumes: [\"{src}:/host\"]\n"),
        );
    }
    passes(
        "docker_socket: true",
        "    volumes: [\"/var/run/docker.sock:/var/run/docker.sock\"]\n",
    );
    fails(
        "docker_socket: true",
        "",
        "services.app.volumes",
        "is not mounted",
    );
}

#[test]
fn read_only_root_needs_the_written_paths_mounted() {
    passes(
        "read_only_root: true",
        "    read_only: true\n    tmpfs: [/tmp]\n",
    );
    passes(
        "read_only_root: true",
        "    read_only: true\n    volumes: [\"scratch:/tmp\"]\nvolumes: {scratch: }\n",
    );
    fails(
        "read_only_root: true",
        "    read_only: true\n",
        "services.app.read_only",
        "cannot write /tmp, and the app fails",
    );
    fails(
        "read_only_root: true",
        "    read_only: true\n    tmpfs: [\"/tmp:ro\"]\n",
        "services.app.tmpfs",
        "cannot write /tmp",
    );
    fails(
        "read_only_root: true",
        "    tmpfs: [/tmp]\n",
        "services.app.read_only",
        "set `read_only: true`",
    );
    fails(
        "read_only_root: false",
        "    read_only: true\n",
        "services.app.read_only",
        "needs it writable",
    );
}

#[test]
fn writable_mounts_must_be_noexec() {
    passes(
        "writable_noexec: true",
        "    tmpfs: [\"/tmp:noexec,size=16m\"]\n    volumes: [\"./in:/in:ro\"]\n",
    );
    // Docker mounts a tmpfs noexec unless it says `exec`.
    passes("writable_noexec: true", "    tmpfs: [/tmp, /run]\n");
    fails(
        "writable_noexec: true",
        "    tmpfs: [\"/tmp:noexec\", \"/run:exec\"]\n",
        "services.app.tmpfs[1]",
        "tmpfs /run: drop `exec`",
    );
    fails(
        "writable_noexec: true",
        "    volumes: [\"./data:/data\"]\n",
        "services.app.volumes[0]",
        "./data:/data: mount it read-only",
    );
    fails(
        "writable_noexec: false",
        "    read_only: true\n    tmpfs: [\"/tmp:noexec\"]\n",
        "services.app.tmpfs",
        "nothing writable allows exec",
    );
    fails(
        "writable_noexec: false",
        "    read_only: true\n    tmpfs: [/tmp]\n",
        "services.app.tmpfs",
        "nothing writable allows exec",
    );
    passes(
        "writable_noexec: false",
        "    read_only: true\n    tmpfs: [\"/tmp:exec\"]\n",
    );
}

#[test]
fn host_paths_modes_and_lists() {
    passes(
        "host_paths: read_only",
        "    volumes: [\"./data:/data:ro\", \"cache:/cache\"]\nvolumes: {cache: }\n",
    );
    fails(
        "host_paths: read_only",
        "    volumes: [\"./data:/data\"]\n",
        "services.app.volumes[0]",
        "append `:ro` (`./data:/data:ro`)",
    );
    fails(
        "host_paths: none",
        "    volumes: [\"./data:/data:ro\"]\n",
        "services.app.volumes[0]",
        "allows none",
    );
    passes("host_paths: none", "    volumes: [\"/anon\"]\n");
    passes("host_paths: any", "    volumes: [\"/:/host\"]\n");
    let rule = "host_paths: {read_only: [./secret], forbidden: [/etc/shadow]}";
    passes(
        rule,
        "    volumes: [\"./secret:/secret:ro\", \"./work:/work\"]\n",
    );
    fails(
        rule,
        "    volumes: [\"./secret:/secret\"]\n",
        "services.app.volumes[0]",
        "exposes ./secret writable",
    );
    fails(
        rule,
        "    volumes: [\"./secret/sub:/s\"]\n",
        "services.app.volumes[0]",
        "exposes ./secret writable",
    );
    fails(
        rule,
        "    volumes: [\"./:/ws\"]\n",
        "services.app.volumes[0]",
        "exposes ./secret writable",
    );
    fails(
        rule,
        "    volumes: [\"/etc:/etc2:ro\"]\n",
        "services.app.volumes[0]",
        "exposes /etc/shadow, which must not be mounted",
    );
    fails(
        "host_paths: {forbidden: [/]}",
        "    volumes: [\"/:/host:ro\"]\n",
        "services.app.volumes[0]",
        "must not be mounted",
    );
    passes(
        "host_paths: {forbidden: [/]}",
        "    volumes: [\"/srv:/srv\"]\n",
    );
    // A live source is absolute: a relative rule still matches it.
    assert!(holds("./secret", "/home/u/lab/secret/x"));
    assert!(!holds("./secret", "/home/u/lab/other"));
}

#[test]
fn memory_limit() {
    passes("memory_limit: 64m", "    mem_limit: 32m\n");
    passes(
        "memory_limit: 67108864",
        "    deploy: {resources: {limits: {memory: 64M}}}\n",
    );
    fails(
        "memory_limit: 64m",
        "",
        "services.app.mem_limit",
        "add `mem_limit: 64m`",
    );
    fails(
        "memory_limit: 64m",
        "    mem_limit: 1g\n",
        "services.app.mem_limit",
        "is 1g, above 64m",
    );
}

#[test]
fn compose_errors_fail_the_check_and_findings_point_into_the_file() {
    let objs =
        compose("services:\n  app:\n    image: busybox:1.36\n    user: [1]\n    healthcheck: {}\n");
    let v = grade_container(&check("privileged: false"), &objs, Some(&images()), None);
    assert_eq!(v.status, Status::Fail);
    let e = &v.findings[0];
    assert_eq!(e.source.as_deref(), Some("compose.yaml"));
    assert_eq!(e.object, None);
    assert!(v.findings.iter().any(|f| f.severity == Severity::Warning));
    // Another service, or none at all.
    let v = grade_container(
        &check("privileged: false"),
        &compose("services:\n  web: {image: x}\n"),
        None,
        None,
    );
    assert!(
        errors(&v)[0]
            .1
            .contains("has no service `app` (it has: web)"),
        "{:?}",
        errors(&v)
    );
    let v = grade_container(
        &check("privileged: false"),
        &compose("services:\n  app: {user: 1}\n"),
        None,
        None,
    );
    assert!(
        errors(&v)
            .iter()
            .any(|e| e.1.contains("cannot run as written")),
        "{:?}",
        errors(&v)
    );
    let v = grade_container(&check("privileged: false"), &[], None, None);
    assert!(errors(&v)[0].1.contains("there is no compose.yaml"));
}

mod live;
