//! Tests of the live side: a container's inspect output, probes, drift.

use super::*;

fn running(config: RunConfig, changes: Vec<Change>) -> LiveService {
    LiveService::Running {
        config,
        running: true,
        exit_code: None,
        changes,
    }
}

fn live(service: LiveService, probes: Vec<ProbeResult>) -> LiveFacts {
    LiveFacts {
        engine: EngineFacts {
            kernel: "5.10.0-28-amd64".into(),
            ..EngineFacts::default()
        },
        services: [("app".to_string(), service)].into(),
        probes,
        ..LiveFacts::default()
    }
}

#[test]
fn live_failures_not_found_offline_are_prefixed() {
    let objs = compose("services:\n  app:\n    image: busybox:1.36\n    user: \"0\"\n");
    let c = check("non_root: true, privileged: false");
    // Live differs from the file: privileged (not offline), root (also offline).
    let cfg = RunConfig {
        service: "app".into(),
        image: "busybox:1.36".into(),
        user: Some("0".into()),
        privileged: true,
        ..RunConfig::default()
    };
    let lf = live(running(cfg, vec![]), vec![]);
    let v = grade_container(&c, &objs, Some(&images()), Some(&lf));
    let e = errors(&v);
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].1.starts_with("the container runs as root"));
    assert!(
        e[1].1.starts_with("live container: `privileged: true`"),
        "{e:?}"
    );
    // Refused: still graded from the file; the refusal is an info.
    let lf = live(
        LiveService::Refused(
            "OCI runtime create failed: unable to apply caps: operation not permitted".into(),
        ),
        vec![],
    );
    let v = grade_container(&c, &objs, Some(&images()), Some(&lf));
    assert_eq!(errors(&v).len(), 1);
    assert!(
        v.findings
            .iter()
            .any(|f| f.severity == Severity::Info && f.message.contains("unable to apply caps"))
    );
}

fn probe(yaml: &str) -> ProbeCheck {
    serde_saphyr::from_str(yaml).expect("probe parses")
}

fn result(p: &ProbeCheck, exit: i64, stdout: &str, stderr: &str) -> ProbeResult {
    ProbeResult {
        service: p.service.clone(),
        run: p.run.clone(),
        user: p.user.clone(),
        exit: Some(exit),
        stdout: stdout.into(),
        stderr: stderr.into(),
        error: None,
    }
}

#[test]
fn probes_grade_exit_codes_and_output() {
    let objs = compose("services:\n  app:\n    image: busybox:1.36\n");
    let p = probe(
        "{service: app, says: adds an address on lo, run: ip addr add 192.0.2.1/32 dev lo, exit: 0}",
    );
    let v = grade_probe(&p, &objs, None);
    assert_eq!(v.status, Status::Skipped);
    assert_eq!(
        v.reason.as_deref(),
        Some("needs a Docker engine: adds an address on lo")
    );
    let rc = RunConfig::default();
    let ok = live(running(rc.clone(), vec![]), vec![result(&p, 0, "", "")]);
    assert!(grade_probe(&p, &objs, Some(&ok)).passed());
    let many = (1..=8)
        .map(|i| format!("line {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    let bad = live(
        running(rc.clone(), vec![]),
        vec![result(
            &p,
            2,
            "",
            &format!("ip: RTNETLINK answers: Operation not permitted\n{many}"),
        )],
    );
    let v = grade_probe(&p, &objs, Some(&bad));
    assert_eq!(v.status, Status::Fail);
    let m = &v.findings[0].message;
    assert!(
        m.contains("adds an address on lo")
            && m.contains("exited 2, not 0")
            && m.contains("Operation not permitted"),
        "{m}"
    );
    assert!(
        m.contains("line 4") && !m.contains("line 5") && m.contains("(4 more lines)"),
        "{m}"
    );
    // nonzero; a user given as a number.
    let p = probe("{service: app, says: cannot write /, run: touch /x, user: 0, exit: nonzero}");
    assert_eq!(p.user.as_deref(), Some("0"));
    let lf = live(
        running(rc.clone(), vec![]),
        vec![result(&p, 1, "", "Read-only file system")],
    );
    assert!(grade_probe(&p, &objs, Some(&lf)).passed());
    let lf = live(running(rc.clone(), vec![]), vec![result(&p, 0, "", "")]);
    assert!(
        grade_probe(&p, &objs, Some(&lf)).findings[0]
            .message
            .contains("it should fail")
    );
    // Same command, another user: not this probe's result.
    let other = ProbeResult {
        user: Some("65534".into()),
        ..result(&p, 1, "", "")
    };
    let lf = live(running(rc.clone(), vec![]), vec![other]);
    assert_eq!(grade_probe(&p, &objs, Some(&lf)).status, Status::Skipped);
    // stdout and stdout_not, with ${kernel}.
    let p = probe(
        "{service: app, says: shares the host kernel, run: [uname, -r], stdout: '^${kernel}$'}",
    );
    let lf = live(
        running(rc.clone(), vec![]),
        vec![result(&p, 0, "5.10.0-28-amd64\n", "")],
    );
    assert!(grade_probe(&p, &objs, Some(&lf)).passed());
    let lf = live(
        running(rc.clone(), vec![]),
        vec![result(&p, 0, "5.10.0x28-amd64\n", "")],
    );
    assert!(
        grade_probe(&p, &objs, Some(&lf)).findings[0]
            .message
            .contains("does not match `^5\\.10\\.0\\-28\\-amd64$`")
    );
    let p = probe(
        "{service: app, says: drops every capability, run: grep CapEff /proc/self/status, stdout_not: 'a80425fb'}",
    );
    let lf = live(
        running(rc.clone(), vec![]),
        vec![result(&p, 0, "CapEff:\t00000000a80425fb", "")],
    );
    assert!(
        grade_probe(&p, &objs, Some(&lf)).findings[0]
            .message
            .contains("matches `a80425fb`")
    );
    // Could not run at all.
    let lf = live(
        running(rc, vec![]),
        vec![ProbeResult {
            exit: None,
            error: Some("container is not running".into()),
            ..result(&p, 0, "", "")
        }],
    );
    assert!(
        grade_probe(&p, &objs, Some(&lf)).findings[0]
            .message
            .contains("could not run: container is not running")
    );
}

#[test]
fn a_refused_service_skips_its_probes_with_the_engines_message() {
    let msg = "OCI runtime create failed: unable to apply caps: operation not permitted";
    let p = probe("{service: app, says: sees every device, run: ls /dev/sda, exit: 0}");
    for fields in ["    privileged: true\n", "    cap_add: [ALL]\n"] {
        let objs = compose(&format!(
            "services:\n  app:\n    image: busybox:1.36\n{fields}"
        ));
        let v = grade_probe(
            &p,
            &objs,
            Some(&live(LiveService::Refused(msg.into()), vec![])),
        );
        assert_eq!(v.status, Status::Skipped);
        assert_eq!(
            v.reason,
            Some(format!(
                "this engine cannot run privileged containers: {msg}"
            ))
        );
    }
    let objs = compose("services:\n  app:\n    image: busybox:1.36\n");
    let v = grade_probe(
        &p,
        &objs,
        Some(&live(LiveService::Refused("no such image".into()), vec![])),
    );
    assert_eq!(
        v.reason.as_deref(),
        Some("the engine refused service app: no such image")
    );
    let d = DriftCheck {
        service: "app".into(),
        allow: vec![],
        file: DEFAULT_FILE.into(),
    };
    assert_eq!(
        grade_drift(
            &d,
            &objs,
            Some(&live(LiveService::Refused("x".into()), vec![]))
        )
        .status,
        Status::Skipped
    );
    // Not in the probes list: skipped.
    let v = grade_probe(
        &p,
        &objs,
        Some(&live(running(RunConfig::default(), vec![]), vec![])),
    );
    assert_eq!(
        v.reason.as_deref(),
        Some("the probe was not run: sees every device")
    );
}

#[test]
fn drift_outside_the_allow_list_fails() {
    let d: DriftCheck =
        serde_saphyr::from_str("{service: app, allow: [/tmp, /run/app]}").expect("drift");
    let ch = |k, p: &str| Change {
        kind: k,
        path: p.into(),
    };
    let ok = vec![
        ch(ChangeKind::Changed, "/tmp"),
        ch(ChangeKind::Added, "/tmp/x"),
        ch(ChangeKind::Changed, "/run"),
        ch(ChangeKind::Added, "/run/app/pid"),
    ];
    assert!(
        grade_drift(
            &d,
            &[],
            Some(&live(running(RunConfig::default(), ok), vec![]))
        )
        .passed()
    );
    let bad = vec![
        ch(ChangeKind::Changed, "/usr"),
        ch(ChangeKind::Changed, "/usr/local/bin"),
        ch(ChangeKind::Added, "/usr/local/bin/evil"),
        ch(ChangeKind::Added, "/tmpx"),
        ch(ChangeKind::Deleted, "/run/other"),
    ];
    let v = grade_drift(
        &d,
        &[],
        Some(&live(running(RunConfig::default(), bad), vec![])),
    );
    let m = &v.findings[0].message;
    assert!(
        m.contains("C /usr, C /usr/local/bin, A /usr/local/bin/evil, A /tmpx, D /run/other"),
        "{m}"
    );
    assert_eq!(
        grade_drift(&d, &[], None).reason.as_deref(),
        Some("needs a Docker engine: the changes of service app's container")
    );
}

#[test]
fn the_registry_knows_the_three_checkers() {
    let specs: Vec<CheckSpec> = serde_saphyr::from_str(
            "- container: {service: app, non_root: true, capabilities: {allowed: []}, host_paths: read_only, memory_limit: 64m}\n- probe: {service: app, says: runs as nobody, run: id -u, stdout: '^65534$'}\n- drift: {service: app, allow: [/tmp]}\n",
        )
        .expect("specs");
    let names: Vec<&str> = specs.iter().map(CheckSpec::name).collect();
    assert_eq!(names, ["container", "probe", "drift"]);
    assert_eq!(specs[0].needs(), [crate::Need::Workspace]);
    assert_eq!(specs[1].needs(), [crate::Need::Docker]);
    assert_eq!(specs[2].needs(), [crate::Need::Docker]);
    assert_eq!(
        specs[0].describe(),
        "service app in compose.yaml: runs as non-root, no capability, host paths read-only, memory limit at most 64m"
    );
    assert_eq!(specs[1].describe(), "service app: runs as nobody (`id -u`)");
    assert_eq!(specs[2].describe(), "service app: no change outside /tmp");
    // Unknown rule names are errors.
    assert!(
        serde_saphyr::from_str::<CheckSpec>("container: {service: app, nonroot: true}").is_err()
    );
    assert!(
        serde_saphyr::from_str::<CheckSpec>(
            "probe: {service: app, says: x, run: id, exit: sometimes}"
        )
        .is_err()
    );
    // Reads: the compose file only.
    let mut objs = compose(
        "services:\n  app:\n    image: busybox:1.36\n    user: \"65534\"\n    cap_drop: [ALL]\n    volumes: [\"./d:/d:ro\"]\n    mem_limit: 64m\n",
    );
    objs.push(KubeObject {
        source: Some("deploy.yaml".into()),
        doc: 0,
        value: serde_json::json!({"kind": "Pod"}),
    });
    let r = specs[0].reads(&objs);
    assert_eq!(r.objects.len(), 1);
    assert!(!r.every_file && !r.answers);
    assert!(specs[0].reads(&objs[1..]).every_file);
    assert_eq!(specs[1].reads(&objs), crate::Reads::default());
    // Graded through the registry with the compose evidence.
    let imgs = images();
    let ev = Evidence {
        compose: &objs[..1],
        images: Some(&imgs),
        ..Evidence::default()
    };
    assert!(specs[0].grade(&ev).passed(), "{:?}", specs[0].grade(&ev));
    assert!(crate::fields::grade(&specs[0], &ev).passed());
    assert_eq!(specs[1].grade(&ev).status, Status::Skipped);
    // Lab validation.
    assert!(specs[1].clone().grade(&ev).reason.is_some());
    let bad = probe("{service: app, says: x, run: id, stdout: '(('}");
    assert!(bad.problem().is_some_and(|p| p.contains("is not a regex")));
    assert!(
        probe("{service: app, says: x, run: id}")
            .problem()
            .is_some_and(|p| p.contains("checks nothing"))
    );
    assert!(
        check("capabilities: {allowed: [NET_ADMINS]}, memory_limit: lots")
            .problem()
            .is_some_and(|p| p.contains("NET_ADMINS") && p.contains("lots"))
    );
    assert_eq!(
        check("capabilities: {allowed: [ALL, cap_chown]}, memory_limit: 1g").problem(),
        None
    );
}
