//! The Docker shell against a real engine: `cargo test --test docker`.
//!
//! The stand-in images come from `tests/local-images.sh` (Debian's
//! busybox-static). With no engine, or no way to build the stand-ins, each
//! test prints `SKIP: <why>` and passes, unless `SECLAB_REQUIRE_DOCKER=1`,
//! where that absence fails. Every test works under its own lab id and
//! removes what it made by that label, even when it fails.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListImagesOptionsBuilder, ListVolumesOptionsBuilder,
};
use seclab::shell::docker::{
    self, DemoEvent, DemoOutcome, Engine, EngineError, ImageMap, Started, container_name, labels,
};
use seclab_checkers::container::{
    ChangeKind, LiveService, Mount, MountKind, ProbeCommand, ProbeResult, RunConfig,
};
use serde_json::Value;

mod stand_ins;

const IMAGE: &str = "busybox:1.36";
const STAND_IN: &str = "seclab-local/busybox:1.36";
const DEFAULT_CAPS: &str = "00000000a80425fb";

use stand_ins::setup;

/// Runs `body` against the engine under lab id `t<pid>-<name>`, then
/// removes the lab's containers, volumes and images; or prints SKIP.
fn with_engine<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Engine, String, ImageMap) -> Fut,
    Fut: Future<Output = ()>,
{
    let map = match setup() {
        Ok(map) => map.clone(),
        Err(why) => {
            assert!(
                std::env::var("SECLAB_REQUIRE_DOCKER").as_deref() != Ok("1"),
                "Docker is required (SECLAB_REQUIRE_DOCKER=1): {why}"
            );
            println!("SKIP: {name}: {why}");
            return;
        }
    };
    let lab = format!("t{}-{name}", std::process::id());
    let _cleanup = Cleanup(lab.clone());
    let started = Instant::now();
    runtime().block_on(async {
        let engine = Engine::connect().await.expect("connect");
        body(engine.clone(), lab.clone(), map).await;
        // Nothing of the lab is left but cached stand-ins.
        engine.remove_lab(&lab).await.expect("remove_lab");
        engine
            .remove_lab_images(&lab)
            .await
            .expect("remove_lab_images");
        assert_lab_gone(&lab).await;
    });
    println!("{name}: {:.2} s", started.elapsed().as_secs_f64());
}

/// Lists the containers, volumes and images labelled with the lab: none
/// but `seclab.dev/cache=true` images may be there.
async fn assert_lab_gone(lab: &str) {
    let docker = bollard::Docker::connect_with_defaults().unwrap();
    let filter = HashMap::from([("label", vec![format!("{}={lab}", labels::LAB)])]);
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filter)
                .build(),
        ))
        .await
        .unwrap();
    assert!(
        containers.is_empty(),
        "{lab}: containers left: {containers:?}"
    );
    let volumes = docker
        .list_volumes(Some(
            ListVolumesOptionsBuilder::new().filters(&filter).build(),
        ))
        .await
        .unwrap()
        .volumes
        .unwrap_or_default();
    assert!(volumes.is_empty(), "{lab}: volumes left: {volumes:?}");
    let images = docker
        .list_images(Some(
            ListImagesOptionsBuilder::new().filters(&filter).build(),
        ))
        .await
        .unwrap();
    assert!(
        images
            .iter()
            .all(|i| i.labels.get(labels::CACHE).is_some_and(|v| v == "true")),
        "{lab}: images left: {images:?}"
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Removes a lab's objects by label when a test ends (passed or not).
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let lab = self.0.clone();
        runtime().block_on(async {
            if let Ok(engine) = Engine::connect().await {
                let _ = engine.remove_lab(&lab).await;
                let _ = engine.remove_lab_images(&lab).await;
            }
        });
    }
}

/// A service that stays up: `sleep 600` from the lab image.
fn service(name: &str) -> RunConfig {
    RunConfig {
        service: name.into(),
        image: IMAGE.into(),
        command: Some(vec!["sleep".into(), "600".into()]),
        ..RunConfig::default()
    }
}

fn sh(cmd: &str) -> ProbeCommand {
    ProbeCommand::Shell(cmd.into())
}

fn tmpfs(target: &str, options: &[&str]) -> Mount {
    Mount {
        kind: MountKind::Tmpfs,
        source: None,
        target: target.into(),
        read_only: false,
        options: options.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn bind(source: &str, target: &str, read_only: bool) -> Mount {
    Mount {
        kind: MountKind::Bind,
        source: Some(source.into()),
        target: target.into(),
        read_only,
        options: vec![],
    }
}

/// Starts `rc`; it must run.
async fn start(engine: &Engine, lab: &str, rc: &RunConfig, ws: &Path, map: &ImageMap) -> String {
    match engine.run_service(lab, "student", rc, ws, map).await {
        Ok(Started::Container(c)) => {
            assert!(c.running, "{} exited: {:?}", c.name, c.exit_code);
            c.name
        }
        other => panic!("{} did not start: {other:?}", rc.service),
    }
}

async fn probe(engine: &Engine, container: &str, cmd: &str, user: Option<&str>) -> ProbeResult {
    let r = engine.probe(container, "svc", &sh(cmd), user).await;
    assert_eq!(r.error, None, "{cmd}: {r:?}");
    r
}

/// The tests' stand-in for `container::inspect::run_config` (the checkers
/// crate's own is tested there): enough fields to see the mapping.
fn to_config(service: &str, inspect: &Value) -> RunConfig {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let hc = &inspect["HostConfig"];
    RunConfig {
        service: service.into(),
        image: inspect["Config"]["Labels"][labels::IMAGE]
            .as_str()
            .unwrap_or_default()
            .into(),
        user: inspect["Config"]["User"]
            .as_str()
            .filter(|u| !u.is_empty())
            .map(str::to_owned),
        privileged: hc["Privileged"].as_bool().unwrap_or(false),
        cap_add: strings(&hc["CapAdd"]),
        cap_drop: strings(&hc["CapDrop"]),
        read_only: hc["ReadonlyRootfs"].as_bool().unwrap_or(false),
        ..RunConfig::default()
    }
}

fn cap_eff(out: &str) -> &str {
    out.lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map_or("", str::trim)
}

#[test]
fn connect_checks_the_version_and_reads_the_facts() {
    if setup().is_err() {
        return with_engine("connect", |_, _, _| async {});
    }
    let started = Instant::now();
    // The sync path the CLI uses: one shared current-thread runtime.
    let engine = docker::block_on(Engine::connect()).unwrap().unwrap();
    let api = engine.api_version();
    let (major, minor) = api.split_once('.').unwrap();
    let v = (major.parse::<u32>().unwrap(), minor.parse::<u32>().unwrap());
    assert!(v >= docker::MIN_API, "{api}");
    assert!(!engine.version().is_empty());
    let facts = docker::block_on(engine.facts()).unwrap().unwrap();
    assert_eq!(facts.api_version, api);
    assert!(!facts.kernel.is_empty());
    assert!(
        ["1", "2"].contains(&facts.cgroup_version.as_str()),
        "{facts:?}"
    );
    // The engine is local here: its kernel is this machine's.
    let uname = Command::new("uname").arg("-r").output().unwrap();
    assert_eq!(facts.kernel, String::from_utf8_lossy(&uname.stdout).trim());
    println!("connect: {:.2} s", started.elapsed().as_secs_f64());
}

#[test]
fn create_exec_inspect_remove_with_labels() {
    with_engine("basics", |engine, lab, map| async move {
        let ws = tempfile::tempdir().unwrap();
        let mut rc = service("app");
        rc.command = Some(vec![
            "sh".into(),
            "-c".into(),
            "echo hello from app; exec sleep 600".into(),
        ]);
        let first = match engine
            .run_service(&lab, "student-1", &rc, ws.path(), &map)
            .await
        {
            Ok(Started::Container(c)) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(first.name, container_name(&lab, "app"));
        assert!(first.running);
        let l = &first.inspect["Config"]["Labels"];
        assert_eq!(l[labels::LAB], lab.as_str());
        assert_eq!(l[labels::STUDENT], "student-1");
        assert_eq!(l[labels::SERVICE], "app");
        assert_eq!(l[labels::IMAGE], IMAGE, "the unmapped reference");
        assert_eq!(
            first.inspect["Config"]["Image"], STAND_IN,
            "the mapped one runs"
        );
        assert_eq!(to_config("app", &first.inspect).image, IMAGE);

        // A probe's exit code, stdout and stderr, apart.
        let r = probe(&engine, &first.name, "id -u; echo oops >&2; exit 3", None).await;
        assert_eq!(r.exit, Some(3));
        assert_eq!(r.stdout, "0\n");
        assert_eq!(r.stderr, "oops\n");
        let r = probe(&engine, &first.name, "id -u", Some("65534")).await;
        assert_eq!((r.exit, r.stdout.as_str()), (Some(0), "65534\n"));
        let list = ProbeCommand::Exec(vec!["cat".into(), "/etc/hostname".into()]);
        let r = engine.probe(&first.name, "app", &list, None).await;
        assert_eq!(r.exit, Some(0));
        let missing = ProbeCommand::Exec(vec!["/no/such".into()]);
        let r = engine.probe(&first.name, "app", &missing, None).await;
        assert!(r.error.is_some() || r.exit != Some(0), "{r:?}");
        assert!(
            engine
                .logs(&first.name)
                .await
                .unwrap()
                .contains("hello from app")
        );

        // Streaming: lines arrive one by one, stdout and stderr told apart.
        let mut lines = Vec::new();
        let argv = sh("echo a; echo b >&2; printf c").argv();
        let out = engine
            .exec_streaming(&first.name, &argv, None, |l| lines.push(l))
            .await
            .unwrap();
        assert_eq!(out.exit, Some(0));
        let seen: Vec<(bool, &str)> = lines.iter().map(|l| (l.stderr, l.text.as_str())).collect();
        assert!(
            seen.contains(&(false, "a")) && seen.contains(&(true, "b")),
            "{seen:?}"
        );
        assert!(seen.contains(&(false, "c")), "{seen:?}");

        // Running it again replaces seclab's container of that name.
        let second = match engine
            .run_service(&lab, "student-1", &rc, ws.path(), &map)
            .await
        {
            Ok(Started::Container(c)) => c,
            other => panic!("{other:?}"),
        };
        assert_ne!(first.inspect["Id"], second.inspect["Id"]);

        // A container of that name that is not seclab's is never touched.
        let clash = service("clash");
        let clash_name = container_name(&lab, "clash");
        let made = Command::new("docker")
            .args(["create", "--name", &clash_name, STAND_IN, "true"])
            .output()
            .unwrap();
        assert!(made.status.success(), "{made:?}");
        let err = engine
            .run_service(&lab, "student-1", &clash, ws.path(), &map)
            .await
            .unwrap_err();
        assert!(matches!(err, EngineError::NameClash { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("is not seclab's: remove or rename it")
        );
        assert_eq!(engine.remove_lab(&lab).await.unwrap().containers, 1);
        assert!(
            engine.inspect(&clash_name).await.unwrap().is_some(),
            "not ours: kept"
        );
        // The test made it, so the test removes it (by its exact name).
        let rm = Command::new("docker")
            .args(["rm", "-f", &clash_name])
            .output()
            .unwrap();
        assert!(rm.status.success());
        assert!(engine.inspect(&second.name).await.unwrap().is_none());
    });
}

#[test]
fn capabilities_of_a_live_container() {
    with_engine("caps", |engine, lab, map| async move {
        let ws = tempfile::tempdir().unwrap();
        let default = start(&engine, &lab, &service("default"), ws.path(), &map).await;
        let r = probe(&engine, &default, "grep Cap /proc/self/status", None).await;
        assert_eq!(cap_eff(&r.stdout), DEFAULT_CAPS, "{}", r.stdout);

        let mut rc = service("dropped");
        rc.user = Some("65534".into());
        rc.cap_drop = vec!["ALL".into()];
        let dropped = start(&engine, &lab, &rc, ws.path(), &map).await;
        let r = probe(&engine, &dropped, "grep Cap /proc/self/status", None).await;
        assert_eq!(cap_eff(&r.stdout), "0000000000000000", "{}", r.stdout);
        let r = probe(&engine, &dropped, "id -u", None).await;
        assert_eq!(r.stdout.trim(), "65534");
    });
}

#[test]
fn net_admin_adds_an_address_and_sys_admin_does_not() {
    with_engine("netadmin", |engine, lab, map| async move {
        let ws = tempfile::tempdir().unwrap();
        let mut net = service("netadmin");
        net.cap_add = vec!["NET_ADMIN".into()];
        let mut sys = service("sysadmin");
        sys.cap_add = vec!["SYS_ADMIN".into()];
        let plain = service("plain");
        let add = sh("ip addr add 192.0.2.1/32 dev lo");
        let mut oneshot = service("oneshot");
        oneshot.command = Some(vec!["sh".into(), "-c".into(), "exit 4".into()]);
        let probes: Vec<docker::Probe> = ["netadmin", "sysadmin", "plain", "nosuch", "oneshot"]
            .iter()
            .map(|s| ((*s).to_owned(), add.clone(), None))
            .collect();
        let facts = engine
            .live_facts(
                &lab,
                "student",
                &[net, sys, plain, oneshot],
                &probes,
                ws.path(),
                &map,
                to_config,
            )
            .await
            .unwrap();
        assert_eq!(facts.probes.len(), 5);
        let exit = |i: usize| facts.probes[i].exit;
        assert_eq!(exit(0), Some(0), "{:?}", facts.probes[0]);
        assert_ne!(exit(1), Some(0), "{:?}", facts.probes[1]);
        assert!(facts.probes[1].stderr.contains("Operation not permitted"));
        assert_ne!(exit(2), Some(0), "{:?}", facts.probes[2]);
        assert_eq!(
            facts.probes[3].error.as_deref(),
            Some("there is no service nosuch")
        );
        assert_eq!(
            facts.probes[4].error.as_deref(),
            Some("the container of service oneshot is not running (it exited with code 4)")
        );
        match &facts.services["oneshot"] {
            LiveService::Running {
                running, exit_code, ..
            } => assert_eq!((*running, *exit_code), (false, Some(4))),
            other @ LiveService::Refused(_) => panic!("{other:?}"),
        }
        match &facts.services["netadmin"] {
            LiveService::Running {
                config, running, ..
            } => {
                assert!(running);
                assert_eq!(config.cap_add, ["NET_ADMIN"]);
                assert_eq!(config.image, IMAGE);
            }
            other @ LiveService::Refused(_) => panic!("{other:?}"),
        }
        assert!(!facts.engine.kernel.is_empty());
        // `check` leaves them running for the student to look at.
        let name = container_name(&lab, "sysadmin");
        assert!(engine.inspect(&name).await.unwrap().is_some());
    });
}

#[test]
fn privileged_is_refused_with_the_engines_message() {
    with_engine("privileged", |engine, lab, map| async move {
        let ws = tempfile::tempdir().unwrap();
        let facts = engine.facts().await.unwrap();
        let mut privileged = service("priv");
        privileged.privileged = true;
        let mut all = service("all");
        all.cap_add = vec!["ALL".into()];
        for rc in [&privileged, &all] {
            match engine
                .run_service(&lab, "student", rc, ws.path(), &map)
                .await
                .unwrap()
            {
                Started::Refused(msg) => {
                    println!("{}: refused: {msg}", rc.service);
                    assert!(msg.contains("operation not permitted"), "{msg}");
                    let name = container_name(&lab, &rc.service);
                    assert!(
                        engine.inspect(&name).await.unwrap().is_none(),
                        "half-made kept"
                    );
                }
                Started::Container(c) => {
                    // An engine that can (e.g. rootless, or a full host):
                    // then the container has every capability.
                    assert!(!c.inspect.is_null());
                    let r = probe(&engine, &c.name, "grep CapEff /proc/self/status", None).await;
                    assert_ne!(cap_eff(&r.stdout), DEFAULT_CAPS);
                    println!("{}: this engine runs privileged containers", rc.service);
                }
            }
        }
        let refusal = engine.privileged_refusal(&lab, STAND_IN).await.unwrap();
        if !facts.rootless {
            assert!(
                refusal.is_some(),
                "this engine accepted a privileged container"
            );
        }
        // In a check: the service is Refused, its probes say why.
        let probes = vec![("priv".to_owned(), sh("id -u"), None)];
        let live = engine
            .live_facts(
                &lab,
                "student",
                &[privileged],
                &probes,
                ws.path(),
                &map,
                to_config,
            )
            .await
            .unwrap();
        if let LiveService::Refused(msg) = &live.services["priv"] {
            assert_eq!(Some(msg.as_str()), refusal.as_deref());
            let why = live.probes[0].error.as_deref().unwrap_or_default();
            assert!(
                why.starts_with("the engine refused service priv: "),
                "{why}"
            );
        }
    });
}

#[test]
fn read_only_root_with_a_tmpfs() {
    with_engine("readonly", |engine, lab, map| async move {
        let ws = tempfile::tempdir().unwrap();
        let mut rc = service("app");
        rc.user = Some("65534".into());
        rc.cap_drop = vec!["ALL".into()];
        rc.security_opt = vec!["no-new-privileges".into()];
        rc.read_only = true;
        rc.mounts = vec![tmpfs("/tmp", &["size=16m"])];
        let c = start(&engine, &lab, &rc, ws.path(), &map).await;
        let r = probe(&engine, &c, "echo x > /x", None).await;
        assert_ne!(r.exit, Some(0));
        assert!(r.stderr.contains("Read-only file system"), "{}", r.stderr);
        let r = probe(&engine, &c, "echo x > /tmp/x && cat /tmp/x", None).await;
        assert_eq!((r.exit, r.stdout.as_str()), (Some(0), "x\n"));
        let r = probe(&engine, &c, "grep CapEff /proc/self/status", None).await;
        assert_eq!(cap_eff(&r.stdout), "0000000000000000");
        let r = probe(&engine, &c, "grep NoNewPrivs /proc/self/status", None).await;
        assert!(r.stdout.contains('1'), "{}", r.stdout);

        // Read-only without a writable /tmp: the write there fails too.
        let mut bare = rc.clone();
        bare.service = "bare".into();
        bare.mounts.clear();
        let c = start(&engine, &lab, &bare, ws.path(), &map).await;
        let r = probe(&engine, &c, "echo x > /tmp/x", None).await;
        assert_ne!(r.exit, Some(0));
    });
}

#[test]
fn host_folders_get_root_owned_files() {
    with_engine("hostdir", |engine, lab, map| async move {
        let ws = tempfile::tempdir().unwrap();
        let data = ws.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let secret = ws.path().join("host-secret");
        std::fs::create_dir(&secret).unwrap();
        std::fs::write(secret.join("shadow"), "decoy:$6$not-a-real-hash\n").unwrap();
        std::fs::set_permissions(
            secret.join("shadow"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();

        let mut root = service("root");
        root.mounts = vec![
            bind("./data", "/data", false),
            bind("host-secret", "/secret", true),
        ];
        let c = start(&engine, &lab, &root, ws.path(), &map).await;
        let r = probe(&engine, &c, "echo hi > /data/by-root", None).await;
        assert_eq!(r.exit, Some(0), "{r:?}");
        let meta = std::fs::metadata(data.join("by-root")).unwrap();
        assert_eq!(
            meta.uid(),
            0,
            "root in the container made a root-owned file"
        );
        // A read-only bind: root reads the root-only file, cannot change it.
        let r = probe(&engine, &c, "cat /secret/shadow", None).await;
        assert_eq!(r.stdout, "decoy:$6$not-a-real-hash\n");
        let r = probe(&engine, &c, "echo x >> /secret/shadow", None).await;
        assert_ne!(r.exit, Some(0));

        let mut nobody = service("nobody");
        nobody.user = Some("65534".into());
        nobody.mounts = vec![bind("./data", "/data", false)];
        let c = start(&engine, &lab, &nobody, ws.path(), &map).await;
        let r = probe(&engine, &c, "echo hi > /data/by-nobody", None).await;
        assert_ne!(r.exit, Some(0), "uid 65534 wrote a root-owned folder");
        assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
        assert!(!data.join("by-nobody").exists());
        // The host file the container made: remove it (root-owned, ours).
        std::fs::remove_file(data.join("by-root")).unwrap();
    });
}

#[test]
fn drift_shows_and_the_attack_fails_when_immutable() {
    with_engine("drift", |engine, lab, map| async move {
        let ws = tempfile::tempdir().unwrap();
        let c = start(&engine, &lab, &service("mutable"), ws.path(), &map).await;
        // busybox runs the applet its file is named after: drop it as `id`.
        let attack = "cp /bin/busybox /usr/local/bin/id && /usr/local/bin/id -u";
        let r = probe(&engine, &c, attack, None).await;
        assert_eq!(r.exit, Some(0), "{r:?}");
        let changes = engine.diff(&c).await.unwrap();
        assert!(
            changes
                .iter()
                .any(|ch| ch.kind == ChangeKind::Added && ch.path == "/usr/local/bin/id"),
            "{changes:?}"
        );

        let mut rc = service("immutable");
        rc.read_only = true;
        rc.mounts = vec![tmpfs("/tmp", &["noexec", "nosuid", "size=16m"])];
        let c = start(&engine, &lab, &rc, ws.path(), &map).await;
        let r = probe(&engine, &c, "cp /bin/busybox /tmp/id && /tmp/id -u", None).await;
        assert_ne!(r.exit, Some(0), "exec from a noexec tmpfs worked: {r:?}");
        assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);
        let r = probe(&engine, &c, attack, None).await;
        assert_ne!(r.exit, Some(0), "{r:?}");
        // noexec does not stop a shell reading a script.
        let r = probe(&engine, &c, "echo 'echo ran' > /tmp/x && sh /tmp/x", None).await;
        assert_eq!(r.stdout, "ran\n");
        let changes = engine.diff(&c).await.unwrap();
        assert!(
            !changes.iter().any(|ch| ch.path.starts_with("/usr/local")),
            "{changes:?}"
        );
    });
}

#[test]
fn builds_from_a_context_with_from_mapped() {
    with_engine("build", |engine, lab, map| async move {
        let ctx = tempfile::tempdir().unwrap();
        std::fs::write(
            ctx.path().join("Dockerfile"),
            "FROM busybox:1.36\nCOPY greeting /greeting\nRUN echo built > /built\n",
        )
        .unwrap();
        std::fs::write(ctx.path().join("greeting"), "hello\n").unwrap();
        let tag = format!("seclab-test/{lab}:1");
        let labels = BTreeMap::from([(labels::LAB.to_owned(), lab.clone())]);
        let mut lines = Vec::new();
        let id = engine
            .build(ctx.path(), &tag, &labels, &map, |l| lines.push(l))
            .await
            .unwrap();
        assert!(id.starts_with("sha256:"), "{id}");
        let text = lines.join("\n");
        assert!(text.contains("FROM seclab-local/busybox:1.36"), "{text}");
        let inspect = engine.image_inspect(&tag).await.unwrap().unwrap();
        assert_eq!(inspect["Config"]["Labels"][labels::LAB], lab.as_str());
        assert!(engine.image_exists(&tag).await.unwrap());
        assert!(!engine.image_exists("seclab-test/none:0").await.unwrap());
        let history = engine.image_history(&tag).await.unwrap();
        assert!(
            history
                .iter()
                .any(|h| h.created_by.contains("echo built > /built")),
            "{history:?}"
        );

        let mut rc = service("built");
        rc.image.clone_from(&tag);
        let c = start(&engine, &lab, &rc, ctx.path(), &ImageMap::new()).await;
        let r = probe(&engine, &c, "cat /built /greeting", None).await;
        assert_eq!(r.stdout, "built\nhello\n");

        // A broken build: the engine's message.
        std::fs::write(
            ctx.path().join("Dockerfile"),
            "FROM busybox:1.36\nRUN exit 7\n",
        )
        .unwrap();
        let err = engine
            .build(ctx.path(), &format!("{tag}-broken"), &labels, &map, |_| {})
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("returned a non-zero code: 7"),
            "{err}"
        );
    });
}

#[test]
fn demo_step_streams_and_cleans_up() {
    with_engine("demo", |engine, lab, map| async move {
        let ws = tempfile::tempdir().unwrap();
        let commands = [sh("grep Cap /proc/self/status"), sh("id -u")];
        let mut events = Vec::new();
        let outcome = engine
            .run_demo_step(
                &lab,
                "student",
                &service("show"),
                &commands,
                None,
                ws.path(),
                &map,
                |e| {
                    events.push(e);
                },
            )
            .await
            .unwrap();
        let DemoOutcome::Ran(results) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(cap_eff(&results[0].stdout), DEFAULT_CAPS);
        assert_eq!(results[1].stdout, "0\n");
        assert!(matches!(events[0], DemoEvent::Started { .. }), "{events:?}");
        assert!(events.contains(&DemoEvent::Line(docker::OutputLine {
            stderr: false,
            text: "0".into()
        })));
        assert_eq!(
            events
                .iter()
                .filter(|e| **e == DemoEvent::Exit(Some(0)))
                .count(),
            2
        );
        let name = container_name(&lab, "demo-show");
        assert!(
            engine.inspect(&name).await.unwrap().is_none(),
            "demo container kept"
        );

        let mut privileged = service("show");
        privileged.privileged = true;
        let facts = engine.facts().await.unwrap();
        let outcome = engine
            .run_demo_step(
                &lab,
                "student",
                &privileged,
                &commands,
                None,
                ws.path(),
                &map,
                |_| {},
            )
            .await
            .unwrap();
        if !facts.rootless {
            assert!(matches!(outcome, DemoOutcome::Refused(_)), "{outcome:?}");
        }
        assert!(engine.inspect(&name).await.unwrap().is_none());
    });
}

#[test]
fn cleanup_by_label_leaves_only_cache_images() {
    with_engine("cleanup", |engine, lab, map| async move {
        let ws = tempfile::tempdir().unwrap();
        let mut rc = service("app");
        rc.mounts = vec![
            Mount {
                kind: MountKind::Volume,
                source: Some("cache".into()),
                target: "/cache".into(),
                read_only: false,
                options: vec![],
            },
            Mount {
                kind: MountKind::Volume,
                source: None,
                target: "/anon".into(),
                read_only: false,
                options: vec![],
            },
        ];
        let c = match engine
            .run_service(&lab, "student", &rc, ws.path(), &map)
            .await
            .unwrap()
        {
            Started::Container(c) => c,
            Started::Refused(msg) => panic!("{msg}"),
        };
        let anonymous: Vec<String> = c.inspect["Mounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["Destination"] == "/anon")
            .filter_map(|m| m["Name"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(anonymous.len(), 1, "{}", c.inspect["Mounts"]);
        let ctx = tempfile::tempdir().unwrap();
        std::fs::write(
            ctx.path().join("Dockerfile"),
            "FROM busybox:1.36\nLABEL x=y\n",
        )
        .unwrap();
        let labels_ = BTreeMap::from([(labels::LAB.to_owned(), lab.clone())]);
        engine
            .build(
                ctx.path(),
                &format!("seclab-test/{lab}:1"),
                &labels_,
                &map,
                |_| {},
            )
            .await
            .unwrap();
        engine
            .run_service(&lab, "student", &service("other"), ws.path(), &map)
            .await
            .unwrap();

        let removed = engine.remove_lab(&lab).await.unwrap();
        assert_eq!((removed.containers, removed.volumes), (2, 1), "{removed:?}");
        assert_eq!(engine.remove_lab_images(&lab).await.unwrap(), 1);

        assert_lab_gone(&lab).await;
        let docker = bollard::Docker::connect_with_defaults().unwrap();
        let gone = docker.inspect_volume(&anonymous[0]).await;
        assert!(gone.is_err(), "the anonymous volume is left: {gone:?}");
        // The stand-in is kept.
        let cache = HashMap::from([("label", vec![labels::CACHE.to_owned()])]);
        let images = docker
            .list_images(Some(
                ListImagesOptionsBuilder::new().filters(&cache).build(),
            ))
            .await
            .unwrap();
        assert!(
            images
                .iter()
                .any(|i| i.repo_tags.iter().any(|t| t == STAND_IN))
        );
    });
}

#[test]
fn stand_in_matches_the_lab_image_facts() {
    // lab.yaml: `busybox:1.36: {user: 0, users: {root: 0, nobody: 65534}}`.
    with_engine("standin", |engine, lab, map| async move {
        assert_eq!(map.map(IMAGE), STAND_IN);
        let inspect = engine.image_inspect(STAND_IN).await.unwrap().unwrap();
        let user = inspect["Config"]["User"].as_str().unwrap_or_default();
        assert!(user.is_empty() || user == "0", "image user {user:?}");
        assert_eq!(inspect["Config"]["Cmd"], serde_json::json!(["sh"]));
        assert_eq!(inspect["Config"]["Labels"][labels::CACHE], "true");
        let ws = tempfile::tempdir().unwrap();
        let c = start(&engine, &lab, &service("facts"), ws.path(), &map).await;
        let r = probe(&engine, &c, "id -u; cut -d: -f1,3 /etc/passwd", None).await;
        assert_eq!(r.stdout, "0\nroot:0\nnobody:65534\n");
        let tools = "for t in sh ip id grep cp cat touch uname sleep; do which $t; done";
        let r = probe(&engine, &c, tools, None).await;
        assert_eq!(
            r.stdout,
            "/bin/sh\n/bin/ip\n/bin/id\n/bin/grep\n/bin/cp\n/bin/cat\n/bin/touch\n/bin/uname\n/bin/sleep\n"
        );
        let r = probe(&engine, &c, "stat -c %a /tmp; ls -d /usr/local/bin", None).await;
        assert_eq!(r.stdout, "1777\n/usr/local/bin\n");
    });
}

/// `seclab doctor` against the engine: the engine line, each Docker lab's
/// images present through the map, whether privileged containers run
/// (refused here, with the engine's message), nothing left behind; with
/// no engine at the address, a problem naming it and exit 1.
#[test]
fn doctor_reports_the_engine_the_images_and_privileged() {
    with_engine("doctor", |engine, _lab, map| async move {
        let bin = env!("CARGO_BIN_EXE_seclab");
        let spec: Vec<String> = map
            .pairs()
            .iter()
            .map(|(f, t)| format!("{f}={t}"))
            .collect();
        let spec = spec.join(",");
        let out = Command::new(bin)
            .args(["doctor", "--output", "json"])
            .env("SECLAB_IMAGE_MAP", &spec)
            .env_remove("DOCKER_HOST")
            .output()
            .expect("doctor runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<Value> = serde_json::from_str(&text).expect("json");
        let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
        assert!(messages[0].starts_with("Docker engine "), "{messages:?}");
        // The exit code is 1 exactly when some line is a problem (kind and
        // the cluster lines after the engine's may be, on this machine).
        let all_ok = lines.iter().all(|l| l["ok"] == true);
        assert_eq!(
            out.status.code(),
            Some(i32::from(!all_ok)),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The engine's part is all OK: up to the privileged line.
        let engine_part = lines
            .iter()
            .take_while(|l| {
                !l["message"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("privileged containers: ")
            })
            .filter(|l| {
                let m = l["message"].as_str().unwrap_or("");
                [
                    "container-privileges",
                    "container-internals",
                    "container-drift",
                    "Docker engine",
                    "the engine",
                ]
                .iter()
                .any(|p| m.starts_with(p))
            });
        for l in engine_part {
            assert_eq!(l["ok"], true, "{l}");
        }
        for lab in [
            "container-privileges",
            "container-internals",
            "container-drift",
        ] {
            assert!(
                messages
                    .iter()
                    .any(|m| m.starts_with(lab) && m.ends_with("is present")),
                "{lab}: {messages:?}"
            );
        }
        let facts = engine.facts().await.unwrap();
        let privileged = messages
            .iter()
            .find(|m| m.starts_with("privileged containers: "))
            .expect("a privileged line");
        if !facts.rootless {
            assert!(
                privileged.contains("refused by this engine (")
                    && privileged.contains("operation not permitted"),
                "{privileged}"
            );
        }
        let left = Command::new("docker")
            .args([
                "ps",
                "-aq",
                "--filter",
                "label=seclab.dev/lab=seclab-doctor",
            ])
            .output()
            .expect("docker ps");
        assert!(left.stdout.is_empty(), "doctor left a container");
        // No engine at the address: a problem that names it, exit 1.
        let out = Command::new(bin)
            .args(["doctor"])
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .output()
            .expect("doctor runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.contains("PROBLEM") && text.contains("/nonexistent/docker.sock"),
            "{text}"
        );
    });
}
