//! Tests of the Compose reader.

use super::*;
use crate::Severity::{Info, Warning};

/// A mount as (kind, source, target, read-only, options).
type MountRow<'a> = (MountKind, Option<&'a str>, &'a str, bool, Vec<&'a str>);

fn file(yaml: &str) -> KubeObject {
    let value: Value = serde_saphyr::from_str(yaml).expect("test YAML parses");
    KubeObject {
        source: Some("compose.yaml".into()),
        doc: 0,
        value,
    }
}

fn errors(cf: &ComposeFile) -> Vec<(String, String)> {
    cf.findings
        .iter()
        .filter(|f| f.severity == crate::Severity::Error)
        .map(|f| {
            (
                f.paths.first().cloned().unwrap_or_default(),
                f.message.clone(),
            )
        })
        .collect()
}

#[test]
fn a_full_service_reads_every_supported_field() {
    let cf = parse(&file(
        r#"
name: lab
services:
  app:
    image: busybox:1.36
    user: 65534
    command: sh -c 'echo "hi there"; sleep 600'
    entrypoint: ["/bin/busybox"]
    environment: {MODE: prod, N: 3, EMPTY: null}
    working_dir: /work
    cap_drop: [ALL]
    cap_add: [CAP_NET_ADMIN, net_raw]
    security_opt: [no-new-privileges:true]
    read_only: true
    tmpfs: ["/tmp:noexec,size=16m", /run]
    volumes:
      - ./data:/data:ro
      - cache:/cache
      - /anon
      - {type: tmpfs, target: /scratch, tmpfs: {size: 1m}}
      - {type: bind, source: ./in, target: /in, read_only: true}
    pid: host
    network_mode: none
    ipc: private
    devices: ["/dev/fuse:/dev/fuse:rwm"]
    mem_limit: 64m
volumes:
  cache:
"#,
    ));
    assert!(cf.findings.is_empty(), "{:?}", cf.findings);
    assert_eq!(cf.name.as_deref(), Some("lab"));
    let rc = cf.service("app").expect("app");
    assert_eq!(rc.user.as_deref(), Some("65534"));
    assert_eq!(
        rc.command.as_deref(),
        Some(
            &[
                "sh".to_string(),
                "-c".into(),
                "echo \"hi there\"; sleep 600".into()
            ][..]
        )
    );
    assert_eq!(
        rc.entrypoint.as_deref(),
        Some(&["/bin/busybox".to_string()][..])
    );
    let mut env = rc.environment.clone();
    env.sort();
    assert_eq!(env, ["EMPTY=", "MODE=prod", "N=3"]);
    assert_eq!(rc.cap_add, ["CAP_NET_ADMIN", "net_raw"]);
    assert_eq!(rc.memory, Some(64 << 20));
    assert_eq!(rc.pid.as_deref(), Some("host"));
    assert!(rc.read_only);
    let mounts: Vec<MountRow<'_>> = rc
        .mounts
        .iter()
        .map(|m| {
            (
                m.kind,
                m.source.as_deref(),
                m.target.as_str(),
                m.read_only,
                m.options.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        mounts,
        [
            (
                MountKind::Tmpfs,
                None,
                "/tmp",
                false,
                vec!["noexec", "size=16m"]
            ),
            (MountKind::Tmpfs, None, "/run", false, vec![]),
            (MountKind::Bind, Some("./data"), "/data", true, vec![]),
            (MountKind::Volume, Some("cache"), "/cache", false, vec![]),
            (MountKind::Volume, None, "/anon", false, vec![]),
            (MountKind::Tmpfs, None, "/scratch", false, vec!["size=1m"]),
            (MountKind::Bind, Some("./in"), "/in", true, vec![]),
        ]
    );
    assert_eq!(rc.paths["user"], "services.app.user");
    assert_eq!(rc.paths["volumes[1]"], "services.app.volumes[1]");
    assert_eq!(rc.paths["mounts[0]"], "services.app.tmpfs[0]");
    assert_eq!(rc.paths["mounts[3]"], "services.app.volumes[1]");
    assert_eq!(rc.paths["cap_add[0]"], "services.app.cap_add[0]");
    assert_eq!(rc.paths["memory"], "services.app.mem_limit");
    assert_eq!(field_path(rc, "privileged"), "services.app.privileged");
}

#[test]
fn user_0_and_quoted_0_read_alike() {
    for (y, want) in [
        ("0", Some("0")),
        ("\"0\"", Some("0")),
        ("root:root", Some("root:root")),
        ("\"1000:1000\"", Some("1000:1000")),
        ("", None),
    ] {
        let cf = parse(&file(&format!(
            "services:\n  app:\n    image: x\n    user: {y}\n"
        )));
        assert!(errors(&cf).is_empty(), "{y}: {:?}", cf.findings);
        assert_eq!(cf.services[0].user.as_deref(), want, "{y}");
    }
}

#[test]
fn malformed_files_are_errors_at_their_paths() {
    let cases: &[(&str, &str, &str)] = &[
        ("[1, 2]", "", "a Compose file is a mapping"),
        ("name: x\n", "", "has no `services:`"),
        (
            "services: [app]\n",
            "services",
            "must be a mapping of service names",
        ),
        ("services: {}\n", "services", "`services` is empty"),
        (
            "services:\n  app: busybox\n",
            "services.app",
            "must be a mapping with at least `image:`",
        ),
        (
            "services:\n  app: {user: 1}\n",
            "services.app",
            "has no `image`",
        ),
        (
            "services:\n  app: {build: .}\n",
            "services.app",
            "`build:` is not supported",
        ),
        (
            "services:\n  app: {image: x, user: [1]}\n",
            "services.app.user",
            "must be a user name or uid",
        ),
        (
            "services:\n  app: {image: x, user: -1}\n",
            "services.app.user",
            "negative",
        ),
        (
            "services:\n  app: {image: x, privileged: \"yes\"}\n",
            "services.app.privileged",
            "true or false",
        ),
        (
            "services:\n  app: {image: x, cap_add: NET_ADMIN}\n",
            "services.app.cap_add",
            "must be a list",
        ),
        (
            "services:\n  app: {image: x, cap_add: [NET_ADMINS]}\n",
            "services.app.cap_add[0]",
            "not a Linux capability",
        ),
        (
            "services:\n  app: {image: x, cap_drop: [1]}\n",
            "services.app.cap_drop[0]",
            "must be a string",
        ),
        (
            "services:\n  app: {image: x, command: [sleep, 600]}\n",
            "services.app.command[1]",
            "quote it (\"600\")",
        ),
        (
            "services:\n  app: {image: x, command: \"sh -c 'oops\"}\n",
            "services.app.command",
            "unterminated single quote",
        ),
        (
            "services:\n  app: {image: x, volumes: ./a:/a}\n",
            "services.app.volumes",
            "must be a list",
        ),
        (
            "services:\n  app: {image: x, volumes: [\"a:b:c:d\"]}\n",
            "services.app.volumes[0]",
            "too many `:`",
        ),
        (
            "services:\n  app: {image: x, volumes: [\"./a:data\"]}\n",
            "services.app.volumes[0]",
            "not an absolute path",
        ),
        (
            "services:\n  app: {image: x, volumes: [\"./a:/a:readonly\"]}\n",
            "services.app.volumes[0]",
            "not a volume mode",
        ),
        (
            "services:\n  app: {image: x, volumes: [\"da ta:/a\"]}\n",
            "services.app.volumes[0]",
            "neither a host path",
        ),
        (
            "services:\n  app: {image: x, volumes: [{source: ./a, target: /a}]}\n",
            "services.app.volumes[0]",
            "needs `type:`",
        ),
        (
            "services:\n  app: {image: x, volumes: [{type: bind, target: /a}]}\n",
            "services.app.volumes[0]",
            "needs `source:`",
        ),
        (
            "services:\n  app: {image: x, volumes: [{type: npipe, target: /a}]}\n",
            "services.app.volumes[0]",
            "not supported",
        ),
        (
            "services:\n  app: {image: x, volumes: [7]}\n",
            "services.app.volumes[0]",
            "not a number",
        ),
        (
            "services:\n  app: {image: x, volumes: [data:/data]}\n",
            "services.app.volumes[0]",
            "not declared",
        ),
        (
            "services:\n  app: {image: x, tmpfs: [tmp]}\n",
            "services.app.tmpfs[0]",
            "not an absolute path",
        ),
        (
            "services:\n  app: {image: x, mem_limit: lots}\n",
            "services.app.mem_limit",
            "`lots` is not a memory size",
        ),
        (
            "services:\n  app: {image: x, mem_limit: 1k}\n",
            "services.app.mem_limit",
            "below Docker's minimum",
        ),
        (
            "services:\n  app: {image: x, mem_limit: 1.5}\n",
            "services.app.mem_limit",
            "not a memory size",
        ),
        (
            "services:\n  app: {image: x, mem_limit: 64m, deploy: {resources: {limits: {memory: 128m}}}}\n",
            "services.app.mem_limit",
            "differ",
        ),
        (
            "services:\n  app: {image: x, deploy: {resources: {limits: {memory: [1]}}}}\n",
            "services.app.deploy.resources.limits.memory",
            "a memory size is",
        ),
        (
            "services:\n  app: {image: x, environment: 3}\n",
            "services.app.environment",
            "mapping (KEY: value) or a list",
        ),
        (
            "services:\n  \"-bad\": {image: x}\n",
            "services.-bad",
            "not valid",
        ),
        (
            "services:\n  app: {image: [x]}\n",
            "services.app.image",
            "must be a string",
        ),
    ];
    for (yaml, path, msg) in cases {
        let cf = parse(&file(yaml));
        let errs = errors(&cf);
        assert!(
            errs.iter().any(|(p, m)| p == path && m.contains(msg)),
            "{yaml}: want `{msg}` at `{path}`, got {errs:?}"
        );
        assert!(
            cf.findings
                .iter()
                .all(|f| f.source.as_deref() == Some("compose.yaml"))
        );
    }
}

#[test]
fn any_value_in_any_field_is_a_finding_never_a_panic() {
    let values = [
        serde_json::json!(null),
        serde_json::json!(true),
        serde_json::json!(-3.5),
        serde_json::json!(u64::MAX),
        serde_json::json!(""),
        serde_json::json!(":::"),
        serde_json::json!("\u{e9}\u{301}:/\u{1F600}:ro"),
        serde_json::json!([null, [], {}]),
        serde_json::json!({"type": "tmpfs", "target": 1, "tmpfs": {"size": "x", "mode": "y"}}),
        serde_json::json!({"resources": {"limits": {"memory": "1.5.5g"}}}),
    ];
    for field in SUPPORTED
        .iter()
        .map(|f| f.split('.').next().unwrap_or(f))
        .chain(["container_name", "restart", "x"])
    {
        for v in &values {
            let obj =
                KubeObject::new(serde_json::json!({"services": {"app": {"image": "x", field: v}}}));
            let cf = parse(&obj);
            assert!(cf.findings.iter().all(|f| !f.message.is_empty()));
            let list = KubeObject::new(
                serde_json::json!({"services": {"app": {"image": "x", field: [v]}}}),
            );
            let _ = parse(&list);
        }
    }
    for v in &values {
        let _ = parse(&KubeObject::new(v.clone()));
        let _ = parse(&KubeObject::new(
            serde_json::json!({"services": v, "volumes": v, "name": v}),
        ));
    }
}

#[test]
fn unsupported_fields_are_warnings_named_by_path() {
    let cf = parse(&file(
        "version: \"3.8\"\nx-common: &c {a: 1}\nnetworks: {front: {}}\nservices:\n  app:\n    image: x\n    healthcheck: {test: [CMD, true]}\n    container_name: mine\n    restart: always\n    deploy: {replicas: 2, resources: {limits: {cpus: \"0.5\", memory: 64m}}}\n",
    ));
    let msgs: Vec<(crate::Severity, &str)> = cf
        .findings
        .iter()
        .map(|f| (f.severity, f.message.as_str()))
        .collect();
    assert!(
        msgs.contains(&(
            Warning,
            "`services.app.healthcheck` is not supported by seclab; it is ignored"
        )),
        "{msgs:?}"
    );
    assert!(msgs.contains(&(
        Warning,
        "`networks` is not supported by seclab; it is ignored"
    )));
    assert!(msgs.contains(&(
        Warning,
        "`services.app.deploy.replicas` is not supported by seclab; it is ignored"
    )));
    assert!(msgs.contains(&(
        Warning,
        "`services.app.deploy.resources.limits.cpus` is not supported by seclab; it is ignored"
    )));
    assert!(msgs.iter().any(|(s, m)| *s == Warning
        && m.contains("container_name")
        && m.contains("names its containers itself")));
    assert!(
        msgs.iter()
            .any(|(s, m)| *s == Info && m.contains("restart"))
    );
    assert!(
        msgs.iter()
            .any(|(s, m)| *s == Info && m.starts_with("`version` is obsolete"))
    );
    assert!(!msgs.iter().any(|(_, m)| m.contains("x-common")));
    assert!(!cf.has_errors());
    assert_eq!(cf.services[0].memory, Some(64 << 20));
    assert_eq!(
        cf.services[0].paths["memory"],
        "services.app.deploy.resources.limits.memory"
    );
}

#[test]
fn memory_sizes_as_docker_reads_them() {
    for (v, want) in [
        (serde_json::json!("64m"), 64u64 << 20),
        (serde_json::json!("64M"), 64 << 20),
        (serde_json::json!("64MB"), 64 << 20),
        (serde_json::json!("64MiB"), 64 << 20),
        (serde_json::json!("64 m"), 64 << 20),
        (serde_json::json!("1g"), 1 << 30),
        (serde_json::json!("1.5g"), 3 << 29),
        (serde_json::json!("8192k"), 8 << 20),
        (serde_json::json!(67_108_864), 64 << 20),
        (serde_json::json!("67108864"), 64 << 20),
    ] {
        assert_eq!(parse_memory(&v), Ok(want), "{v}");
    }
    for bad in ["", "m", "64x", "64mm", "1..5g", ".5g", "-64m", "64 mb b"] {
        assert!(parse_memory(&serde_json::json!(bad)).is_err(), "{bad}");
    }
    assert_eq!(format_bytes(64 << 20), "64m");
    assert_eq!(format_bytes(1 << 30), "1g");
    assert_eq!(format_bytes(1000), "1000");
}

#[test]
fn words_split_like_a_shell_without_one() {
    assert_eq!(
        split_words("ip addr add 192.0.2.1/32 dev lo")
            .expect("ok")
            .len(),
        6
    );
    assert_eq!(
        split_words(r#"sh -c "echo \"a b\" \$HOME" 'x y'\ z"#).expect("ok"),
        ["sh", "-c", "echo \"a b\" $HOME", "x y z"]
    );
    assert_eq!(split_words("  ").expect("ok"), Vec::<String>::new());
    assert_eq!(split_words("''").expect("ok"), [""]);
    assert!(split_words("a \"b").is_err());
    assert!(split_words("a \\").is_err());
}

#[test]
fn docker_run_lists_flags_in_a_stable_order() {
    let cf = parse(&file(
        "services:\n  app:\n    image: busybox:1.36\n    user: \"65534\"\n    cap_drop: [ALL]\n    cap_add: [NET_ADMIN]\n    security_opt: [no-new-privileges]\n    read_only: true\n    tmpfs: [\"/tmp:noexec\"]\n    volumes: [\"./data:/data:ro\"]\n    mem_limit: 64m\n    environment: [\"GREETING=hello world\"]\n    command: [sleep, \"600\"]\n",
    ));
    assert_eq!(
        docker_run(&cf.services[0]),
        "docker run --rm --user 65534 --cap-drop ALL --cap-add NET_ADMIN --security-opt no-new-privileges --read-only --tmpfs /tmp:noexec -v ./data:/data:ro --memory 64m -e 'GREETING=hello world' busybox:1.36 sleep 600"
    );
    let priv_ = RunConfig {
        image: "busybox:1.36".into(),
        privileged: true,
        pid: Some("host".into()),
        entrypoint: Some(vec!["sh".into(), "-c".into()]),
        command: Some(vec!["echo it's".into()]),
        ..RunConfig::default()
    };
    assert_eq!(
        docker_run(&priv_),
        r"docker run --rm --privileged --pid host --entrypoint sh busybox:1.36 -c 'echo it'\''s'"
    );
}

#[test]
fn a_demo_step_service_reads_at_its_own_path() {
    let v = serde_json::json!({"image": "busybox:1.36", "user": [0]});
    let (rc, f) = parse_service("demo", &v, "tasks[0].demo[1].run");
    assert!(rc.is_some());
    assert_eq!(f[0].paths, ["tasks[0].demo[1].run.user"]);
}
