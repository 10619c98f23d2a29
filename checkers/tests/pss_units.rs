//! Unit tests of the PSS grader for what the upstream fixtures do not cover:
//! ephemeral containers, the `appArmorProfile` field, `container_engine_t`
//! by version, the `hostUsers: false` relaxations, the Windows exemptions of
//! 1.25+, Job/CronJob templates, unknown-field warnings, malformed input,
//! and exact messages and paths (expected texts from upstream's
//! `policy/*_test.go`, as quoted in pss.md §5).

use seclab_checkers::pss::{
    Level, PssError, Version, evaluate, evaluate_with_warnings, grade, unknown_fields,
};
use seclab_checkers::{KubeObject, Status};
use serde_json::{Value, json};

const R: Level = Level::Restricted;
const B: Level = Level::Baseline;
const LATEST: Version = Version::Latest;

/// A pod that passes restricted at every version.
fn good_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "web", "image": "nginx", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
        }
    })
}

fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let slot = doc.pointer_mut(parent).expect("parent exists");
    if let Ok(i) = key.parse::<usize>()
        && let Some(a) = slot.as_array_mut()
    {
        if i < a.len() {
            a[i] = value;
        } else {
            a.push(value);
        }
        return;
    }
    slot[key] = value;
}

fn message(doc: &Value, level: Level, version: Version) -> String {
    evaluate(doc, level, version).expect("evaluates").message()
}

#[test]
fn good_pod_passes_every_version() {
    for n in 0..=40 {
        for level in [B, R] {
            let r = evaluate(&good_pod(), level, Version::V1(n)).expect("evaluates");
            assert!(r.allowed, "v1.{n} {level}: {}", r.message());
        }
    }
}

#[test]
fn aggregate_message_matches_real_apiserver_output() {
    let mut pod = good_pod();
    set(&mut pod, "/spec/securityContext", json!({}));
    set(
        &mut pod,
        "/spec/containers/0",
        json!({"name": "fleet-agent", "image": "x"}),
    );
    assert_eq!(
        message(&pod, R, LATEST),
        "allowPrivilegeEscalation != false (container \"fleet-agent\" must set securityContext.allowPrivilegeEscalation=false), \
         unrestricted capabilities (container \"fleet-agent\" must set securityContext.capabilities.drop=[\"ALL\"]), \
         runAsNonRoot != true (pod or container \"fleet-agent\" must set securityContext.runAsNonRoot=true), \
         seccompProfile (pod or container \"fleet-agent\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
}

#[test]
fn ephemeral_containers_are_visited_last() {
    let mut pod = good_pod();
    set(
        &mut pod,
        "/spec/ephemeralContainers",
        json!([{"name": "debug", "image": "busybox",
        "securityContext": {"privileged": true}}]),
    );
    set(
        &mut pod,
        "/spec/initContainers",
        json!([{"name": "init", "image": "busybox",
        "securityContext": {"privileged": true, "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}}}]),
    );
    let r = evaluate(&pod, R, LATEST).expect("evaluates");
    assert_eq!(
        r.message(),
        "privileged (containers \"init\", \"debug\" must not set securityContext.privileged=true), \
         allowPrivilegeEscalation != false (container \"debug\" must set securityContext.allowPrivilegeEscalation=false), \
         unrestricted capabilities (container \"debug\" must set securityContext.capabilities.drop=[\"ALL\"])"
    );
    assert_eq!(
        r.violations[0].paths,
        [
            "spec.initContainers[0].securityContext.privileged",
            "spec.ephemeralContainers[0].securityContext.privileged"
        ]
    );
}

#[test]
fn app_armor_profile_field_pod_and_container() {
    let mut pod = good_pod();
    set(
        &mut pod,
        "/spec/securityContext/appArmorProfile",
        json!({"type": "Unconfined"}),
    );
    assert_eq!(
        message(&pod, B, LATEST),
        "forbidden AppArmor profile (pod must not set AppArmor profile type to \"Unconfined\")"
    );
    set(
        &mut pod,
        "/spec/containers/0/securityContext/appArmorProfile",
        json!({"type": "Unconfined"}),
    );
    set(
        &mut pod,
        "/metadata/annotations",
        json!({
        "container.apparmor.security.beta.kubernetes.io/web": "unconfined"}),
    );
    let r = evaluate(&pod, B, Version::V1(0)).expect("evaluates");
    assert_eq!(
        r.message(),
        "forbidden AppArmor profiles (pod and container \"web\" and annotation must not set AppArmor profile type to \
         \"Unconfined\", \"container.apparmor.security.beta.kubernetes.io/web=\"unconfined\"\")"
    );
    assert_eq!(
        r.violations[0].paths,
        [
            "spec.securityContext.appArmorProfile.type",
            "spec.containers[0].securityContext.appArmorProfile.type",
            "metadata.annotations[container.apparmor.security.beta.kubernetes.io/web]"
        ]
    );
    for ok in ["RuntimeDefault", "Localhost"] {
        let mut pod = good_pod();
        set(
            &mut pod,
            "/spec/containers/0/securityContext/appArmorProfile",
            json!({"type": ok}),
        );
        assert!(evaluate(&pod, R, LATEST).expect("evaluates").allowed);
    }
}

#[test]
fn container_engine_t_allowed_from_1_31() {
    let mut pod = good_pod();
    set(
        &mut pod,
        "/spec/containers/0/securityContext/seLinuxOptions",
        json!({"type": "container_engine_t"}),
    );
    assert_eq!(
        message(&pod, B, Version::V1(30)),
        "seLinuxOptions (container \"web\" set forbidden securityContext.seLinuxOptions: type \"container_engine_t\")"
    );
    assert!(
        evaluate(&pod, B, Version::V1(31))
            .expect("evaluates")
            .allowed
    );
    assert!(evaluate(&pod, R, LATEST).expect("evaluates").allowed);
}

#[test]
fn selinux_message_lists_types_user_and_role() {
    let mut pod = good_pod();
    set(
        &mut pod,
        "/spec/securityContext/seLinuxOptions",
        json!({"type": "foo", "user": "u"}),
    );
    set(
        &mut pod,
        "/spec/containers/0/securityContext/seLinuxOptions",
        json!({"type": "bar", "role": "r"}),
    );
    assert_eq!(
        message(&pod, B, LATEST),
        "seLinuxOptions (pod and container \"web\" set forbidden securityContext.seLinuxOptions: \
         types \"bar\", \"foo\"; user may not be set; role may not be set)"
    );
}

#[test]
fn host_users_false_relaxes_from_1_35() {
    let mut pod = good_pod();
    set(
        &mut pod,
        "/spec/securityContext",
        json!({"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}),
    );
    set(&mut pod, "/spec/hostUsers", json!(false));
    assert_eq!(
        message(&pod, R, Version::V1(34)),
        "runAsNonRoot != true (pod or container \"web\" must set securityContext.runAsNonRoot=true), \
         runAsUser=0 (pod must not set runAsUser=0)"
    );
    assert!(
        evaluate(&pod, R, Version::V1(35))
            .expect("evaluates")
            .allowed
    );
    set(&mut pod, "/spec/hostUsers", json!(true));
    assert!(
        !evaluate(&pod, R, Version::V1(35))
            .expect("evaluates")
            .allowed
    );
}

#[test]
fn proc_mount_baseline_relaxed_restricted_not() {
    let mut pod = good_pod();
    set(&mut pod, "/spec/hostUsers", json!(false));
    set(
        &mut pod,
        "/spec/containers/0/securityContext/procMount",
        json!("Unmasked"),
    );
    let want =
        "procMount (container \"web\" must not set securityContext.procMount to \"Unmasked\")";
    assert_eq!(message(&pod, B, Version::V1(34)), want);
    assert!(
        evaluate(&pod, B, Version::V1(35))
            .expect("evaluates")
            .allowed
    );
    let r = evaluate(&pod, R, LATEST).expect("evaluates");
    assert_eq!(r.message(), want);
    assert_eq!(r.violations[0].check, "procMount_restricted");
}

#[test]
fn windows_exemptions_from_1_25() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w"},
        "spec": {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true},
            "containers": [{"name": "c", "image": "i"}]}});
    for n in 25..=28 {
        let r = evaluate(&pod, R, Version::V1(n)).expect("evaluates");
        assert!(r.allowed, "v1.{n}: {}", r.message());
    }
    assert!(evaluate(&pod, R, LATEST).expect("evaluates").allowed);
    assert_eq!(
        message(&pod, R, Version::V1(24)),
        "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), \
         unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), \
         seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
    // Linux pods get no exemption.
    let mut linux = pod.clone();
    set(&mut linux, "/spec/os/name", json!("linux"));
    assert!(
        !evaluate(&linux, R, Version::V1(26))
            .expect("evaluates")
            .allowed
    );
}

#[test]
fn job_and_cronjob_templates_with_paths() {
    let pod = good_pod();
    let mut spec = pod["spec"].clone();
    spec["containers"][0]["securityContext"]["privileged"] = json!(true);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": spec.clone()}}});
    let r = evaluate(&job, B, LATEST).expect("evaluates");
    assert_eq!(
        r.violations[0].paths,
        ["spec.template.spec.containers[0].securityContext.privileged"]
    );
    let cj = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {
            "metadata": {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}},
            "spec": spec}}}}});
    let r = evaluate(&cj, B, Version::V1(18)).expect("evaluates");
    assert_eq!(
        r.message(),
        "privileged (container \"web\" must not set securityContext.privileged=true), \
         seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")"
    );
    assert_eq!(
        r.violations[0].paths,
        ["spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged"]
    );
    assert_eq!(
        r.violations[1].paths,
        [
            "spec.jobTemplate.spec.template.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]"
        ]
    );
    // From 1.19 the annotation is ignored.
    assert_eq!(
        evaluate(&cj, B, Version::V1(19))
            .expect("evaluates")
            .violations
            .len(),
        1
    );
}

#[test]
fn overrides_and_volume_messages() {
    let mut pod = good_pod();
    set(
        &mut pod,
        "/spec/volumes",
        json!([
            {"name": "a", "hostPath": {"path": "/"}},
            {"name": "b", "nfs": {"server": "s", "path": "/"}},
            {"name": "implicit"},
            {"name": "ok", "configMap": {"name": "cm"}}
        ]),
    );
    assert_eq!(message(&pod, B, LATEST), "hostPath volumes (volume \"a\")");
    let r = evaluate(&pod, R, LATEST).expect("evaluates");
    assert_eq!(
        r.message(),
        "restricted volume types (volumes \"a\", \"b\" use restricted volume types \"hostPath\", \"nfs\")"
    );
    assert_eq!(
        r.violations[0].paths,
        ["spec.volumes[0].hostPath", "spec.volumes[1].nfs"]
    );
    // capabilities: baseline check before 1.22, restricted one after.
    let mut caps = good_pod();
    set(
        &mut caps,
        "/spec/containers/0/securityContext/capabilities",
        json!({"add": ["SYS_ADMIN", "CHOWN"]}),
    );
    assert_eq!(
        message(&caps, R, Version::V1(21)),
        "non-default capabilities (container \"web\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add)"
    );
    assert_eq!(
        message(&caps, R, Version::V1(22)),
        "unrestricted capabilities (container \"web\" must set securityContext.capabilities.drop=[\"ALL\"]; \
         container \"web\" must not include \"CHOWN\", \"SYS_ADMIN\" in securityContext.capabilities.add)"
    );
}

#[test]
fn host_ports_probes_sysctls_namespaces() {
    let mut pod = good_pod();
    set(&mut pod, "/spec/hostNetwork", json!(true));
    set(&mut pod, "/spec/hostIPC", json!(true));
    set(
        &mut pod,
        "/spec/containers/0/ports",
        json!([{"containerPort": 80, "hostPort": 20}, {"containerPort": 81, "hostPort": 10}]),
    );
    set(
        &mut pod,
        "/spec/containers/0/livenessProbe",
        json!({"httpGet": {"host": "localhost", "port": 80}}),
    );
    set(
        &mut pod,
        "/spec/securityContext/sysctls",
        json!([{"name": "net.ipv4.tcp_rmem", "value": "1"}]),
    );
    assert_eq!(
        message(&pod, B, Version::V1(31)),
        "host namespaces (hostNetwork=true, hostIPC=true), hostPort (container \"web\" uses hostPorts 10, 20), \
         forbidden sysctls (net.ipv4.tcp_rmem)"
    );
    assert_eq!(
        message(&pod, B, Version::V1(34)),
        "host namespaces (hostNetwork=true, hostIPC=true), hostPort (container \"web\" uses hostPorts 10, 20), \
         probe or lifecycle host (container \"web\" uses probe or lifecycle host \"localhost\")"
    );
}

#[test]
fn sysctl_allow_list_grows_with_version() {
    let mut pod = good_pod();
    set(
        &mut pod,
        "/spec/securityContext/sysctls",
        json!([{"name": "net.ipv4.tcp_notsent_lowat", "value": "1"}]),
    );
    assert!(
        !evaluate(&pod, B, Version::V1(36))
            .expect("evaluates")
            .allowed
    );
    assert!(
        evaluate(&pod, B, Version::V1(37))
            .expect("evaluates")
            .allowed
    );
    set(
        &mut pod,
        "/spec/securityContext/sysctls/0",
        json!({"name": "net.ipv4.ip_local_reserved_ports", "value": "1"}),
    );
    assert!(
        !evaluate(&pod, B, Version::V1(26))
            .expect("evaluates")
            .allowed
    );
    assert!(
        evaluate(&pod, B, Version::V1(27))
            .expect("evaluates")
            .allowed
    );
}

#[test]
fn unknown_field_warning_names_the_right_field() {
    let mut pod = good_pod();
    set(
        &mut pod,
        "/spec/containers/0/securityContext/runAsNonroot",
        json!(true),
    );
    let w = unknown_fields(&pod);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].path, "spec.containers[0].securityContext.runAsNonroot");
    assert_eq!(w[0].field, "runAsNonroot");
    assert_eq!(w[0].suggestion.as_deref(), Some("runAsNonRoot"));
    assert!(
        w[0].message.contains("did you mean \"runAsNonRoot\""),
        "{}",
        w[0].message
    );
    let r = evaluate_with_warnings(&pod, R, LATEST).expect("evaluates");
    assert!(r.allowed);
    assert_eq!(r.warnings, w);
    let v = grade(&KubeObject::new(pod), R, LATEST);
    assert_eq!(v.status, Status::Pass);
    assert_eq!(v.findings.len(), 1);
}

#[test]
fn unknown_fields_in_deployment_template() {
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "lables": {}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "template": {
            "metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"privilegd": true}}]}}}});
    let w = unknown_fields(&d);
    let paths: Vec<_> = w
        .iter()
        .map(|w| (w.path.as_str(), w.suggestion.as_deref()))
        .collect();
    assert_eq!(
        paths,
        [
            ("metadata.lables", Some("labels")),
            (
                "spec.template.spec.containers[0].securityContext.privilegd",
                Some("privileged")
            )
        ]
    );
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let cases = [
        (
            json!({"kind": "Pod", "spec": {"containers": {"name": "x"}}}),
            "invalid spec.containers: must be a list",
        ),
        (
            json!({"kind": "Pod", "spec": {"containers": ["x"]}}),
            "invalid spec.containers[0]: must be an object",
        ),
        (
            json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "a",
                "securityContext": {"privileged": "yes"}}]}}}}),
            "invalid spec.template.spec.containers[0].securityContext.privileged: must be a boolean",
        ),
        (
            json!({"kind": "Pod", "spec": []}),
            "invalid spec: must be an object",
        ),
        (
            json!({"kind": "Pod", "metadata": {"annotations": {"a": 1}}, "spec": {}}),
            "invalid metadata.annotations.a: must be a string",
        ),
        (
            json!({"kind": "Pod", "spec": {"containers": [{"name": "a", "ports": [{"hostPort": 1.5}]}]}}),
            "invalid spec.containers[0].ports[0].hostPort: must be an integer",
        ),
    ];
    for (doc, want) in cases {
        let err = evaluate(&doc, R, LATEST).expect_err("malformed");
        assert_eq!(err.to_string(), want);
        // The unknown-field scan reports instead of failing.
        let _ = unknown_fields(&doc);
    }
    assert!(matches!(
        evaluate(&json!({"kind": "Service"}), B, LATEST),
        Err(PssError::NotAWorkload { .. })
    ));
    assert!(evaluate(&json!(null), B, LATEST).is_err());
    assert!(evaluate(&json!([1, 2]), B, LATEST).is_err());
    // No spec at all: nothing to forbid.
    assert!(
        evaluate(&json!({"kind": "Pod"}), R, LATEST)
            .expect("evaluates")
            .allowed
    );
    let w = unknown_fields(
        &json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a", "ports": "x"}]}}),
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].path, "spec.containers[0].ports");
}

#[test]
fn verdict_carries_paths_per_violation() {
    let mut pod = good_pod();
    set(
        &mut pod,
        "/spec/containers/0/securityContext/allowPrivilegeEscalation",
        json!(true),
    );
    let v = grade(&KubeObject::new(pod), R, LATEST);
    assert_eq!(v.status, Status::Fail);
    assert_eq!(v.findings.len(), 1);
    assert_eq!(
        v.findings[0].message,
        "allowPrivilegeEscalation != false (container \"web\" must set securityContext.allowPrivilegeEscalation=false)"
    );
    assert_eq!(
        v.findings[0].paths,
        ["spec.containers[0].securityContext.allowPrivilegeEscalation"]
    );
    assert_eq!(v.findings[0].object.as_deref(), Some("Pod/p"));
}
