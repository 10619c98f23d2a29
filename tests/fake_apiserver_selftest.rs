//! Proves the in-test API server (tests/fake_apiserver) with kube-rs itself:
//! a kube `Client` built from the kubeconfig it writes, with an explicit
//! context, gets the answers a real kube-apiserver gives (404/403/409/422
//! Status errors, server-side apply 201/200, label-selected lists, namespace
//! deletion, Pod Security admission, SubjectAccessReview, watches, exec).

mod fake_apiserver;

use fake_apiserver::{Canned, FakeApiServer, fixtures, status};
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret};
use kube::api::{
    Api, AttachParams, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, ResourceExt};
use serde_json::{Value, json};

/// A client for context `kind-seclab` of a kubeconfig whose current-context
/// is `foreign` (another server): the explicit context must win.
async fn client_with_foreign(server: &FakeApiServer, foreign: &FakeApiServer) -> Client {
    let yaml = fake_apiserver::kubeconfig(
        &[
            ("kind-other", &foreign.url()),
            ("kind-seclab", &server.url()),
        ],
        "kind-other",
    );
    let kubeconfig = Kubeconfig::from_yaml(&yaml).expect("kubeconfig parses");
    let options = KubeConfigOptions {
        context: Some("kind-seclab".to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

async fn client(server: &FakeApiServer) -> Client {
    let yaml = fake_apiserver::kubeconfig(&[("kind-seclab", &server.url())], "kind-seclab");
    let kubeconfig = Kubeconfig::from_yaml(&yaml).expect("kubeconfig parses");
    let options = KubeConfigOptions {
        context: Some("kind-seclab".to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

/// The Status of a kube API error (panics on any other outcome).
fn api_error<T: std::fmt::Debug>(r: kube::Result<T>) -> kube::core::Status {
    match r {
        Err(kube::Error::Api(s)) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn cm(name: &str, data: Value) -> Value {
    let mut v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    v["data"] = data;
    v
}

#[tokio::test]
async fn missing_object_is_a_404_status_and_only_the_chosen_context_is_asked() {
    let server = FakeApiServer::start();
    let foreign = FakeApiServer::start();
    let client = client_with_foreign(&server, &foreign).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");

    let s = api_error(api.get("nope").await);
    assert_eq!(s.code, 404);
    assert_eq!(s.reason, "NotFound");
    assert_eq!(s.message, "configmaps \"nope\" not found");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].path, "/api/v1/namespaces/default/configmaps/nope");
    assert_eq!(reqs[0].status, 404);
    let token = fake_apiserver::token_for("kind-seclab");
    assert_eq!(
        reqs[0].authorization.as_deref(),
        Some(format!("Bearer {token}").as_str())
    );
    assert!(
        foreign.requests().is_empty(),
        "the kubeconfig's current-context got {:?}",
        foreign.requests()
    );
}

#[tokio::test]
async fn discovery_and_version_look_like_kubernetes_1_37() {
    let server = FakeApiServer::start();
    let client = client(&server).await;
    let info = client.apiserver_version().await.expect("version");
    assert_eq!(info.git_version, "v1.37.0");

    for discovery in [
        kube::Discovery::new(client.clone())
            .run()
            .await
            .expect("discovery"),
        kube::Discovery::new(client.clone())
            .run_aggregated()
            .await
            .expect("aggregated discovery"),
    ] {
        for (group, kind, namespaced) in [
            ("", "ConfigMap", true),
            ("", "Namespace", false),
            ("apps", "Deployment", true),
            ("networking.k8s.io", "NetworkPolicy", true),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding", false),
        ] {
            let g = discovery
                .get(group)
                .unwrap_or_else(|| panic!("group {group:?} discovered"));
            let (ar, caps) = g
                .recommended_kind(kind)
                .unwrap_or_else(|| panic!("{kind} discovered"));
            assert_eq!(
                caps.scope == kube::discovery::Scope::Namespaced,
                namespaced,
                "{kind}"
            );
            assert!(
                caps.supports_operation(kube::discovery::verbs::WATCH),
                "{kind} watchable"
            );
            assert_eq!(ar.kind, kind);
        }
    }
    assert!(server.writes().is_empty());
}

#[tokio::test]
async fn server_side_apply_creates_201_then_updates_200_and_detects_conflicts() {
    let server = FakeApiServer::start();
    let client = client(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let pp = PatchParams::apply("seclab");

    let created = api
        .patch("lab", &pp, &Patch::Apply(cm("lab", json!({"a": "1"}))))
        .await
        .expect("apply");
    let again = api
        .patch("lab", &pp, &Patch::Apply(cm("lab", json!({"a": "2"}))))
        .await
        .expect("re-apply");
    let same = api
        .patch("lab", &pp, &Patch::Apply(cm("lab", json!({"a": "2"}))))
        .await
        .expect("no-op apply");

    let applies: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(
        applies.iter().map(|r| r.status).collect::<Vec<_>>(),
        [201, 200, 200]
    );
    assert_eq!(
        applies[0].content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    assert_eq!(applies[0].param("fieldManager").as_deref(), Some("seclab"));
    assert_eq!(created.uid(), again.uid());
    assert_ne!(created.resource_version(), again.resource_version());
    assert_eq!(
        again.resource_version(),
        same.resource_version(),
        "an unchanged apply is a no-op"
    );
    assert_eq!(
        again
            .data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(String::as_str),
        Some("2")
    );
    let managers: Vec<_> = again
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert_eq!(managers, ["seclab"]);
    let stored = server
        .get("ConfigMap", Some("default"), "lab")
        .expect("stored");
    assert_eq!(stored["data"]["a"], "2");

    // Sole manager: a key left out of the applied config is removed.
    let both = api
        .patch(
            "lab",
            &pp,
            &Patch::Apply(cm("lab", json!({"a": "2", "b": "x"}))),
        )
        .await
        .expect("apply");
    assert!(both.data.as_ref().is_some_and(|d| d.contains_key("b")));
    let dropped = api
        .patch("lab", &pp, &Patch::Apply(cm("lab", json!({"a": "2"}))))
        .await
        .expect("apply");
    assert!(
        dropped.data.as_ref().is_some_and(|d| !d.contains_key("b")),
        "{:?}",
        dropped.data
    );
    // An object seclab never applied (seeded, no managedFields): applying merges into it.
    server.insert(fixtures::config_map(
        "default",
        "seeded",
        &[("keep", "yes")],
    ));
    let merged = api
        .patch(
            "seeded",
            &pp,
            &Patch::Apply(cm("seeded", json!({"new": "1"}))),
        )
        .await
        .expect("apply");
    let keys: Vec<&String> = merged
        .data
        .as_ref()
        .map(|d| d.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["keep", "new"]);

    // Another manager owns data.a now: seclab's apply conflicts unless forced.
    let kubectl = PatchParams::apply("kubectl");
    api.patch("lab", &kubectl, &Patch::Apply(cm("lab", json!({"a": "3"}))))
        .await
        .expect_err("kubectl conflicts too");
    api.patch(
        "lab",
        &kubectl.clone().force(),
        &Patch::Apply(cm("lab", json!({"a": "3"}))),
    )
    .await
    .expect("forced apply");
    let s = api_error(
        api.patch("lab", &pp, &Patch::Apply(cm("lab", json!({"a": "4"}))))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Apply failed with 1 conflict: conflict with \"kubectl\" using v1: .data.a"
    );
    api.patch(
        "lab",
        &pp.clone().force(),
        &Patch::Apply(cm("lab", json!({"a": "4"}))),
    )
    .await
    .expect("forced");
    assert_eq!(
        server
            .get("ConfigMap", Some("default"), "lab")
            .expect("stored")["data"]["a"],
        "4"
    );
}

#[tokio::test]
async fn create_conflicts_validation_and_secret_string_data() {
    let server = FakeApiServer::start();
    let client = client(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let pp = PostParams::default();
    let one: ConfigMap = serde_json::from_value(cm("one", json!({}))).expect("typed");
    api.create(&pp, &one).await.expect("create");
    let s = api_error(api.create(&pp, &one).await);
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(s.message, "configmaps \"one\" already exists");

    let bad: ConfigMap = serde_json::from_value(cm("Bad_Name", json!({}))).expect("typed");
    let s = api_error(api.create(&pp, &bad).await);
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(
        s.message
            .starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value"),
        "{}",
        s.message
    );

    let elsewhere: Api<ConfigMap> = Api::namespaced(client.clone(), "no-such-ns");
    let s = api_error(elsewhere.create(&pp, &one).await);
    assert_eq!(
        (s.code, s.message.as_str()),
        (404, "namespaces \"no-such-ns\" not found")
    );

    let secrets: Api<Secret> = Api::namespaced(client, "default");
    let secret: Secret =
        serde_json::from_value(fixtures::secret("default", "flag", &[("flag", "FLAG{x}")]))
            .expect("typed");
    let made = secrets.create(&pp, &secret).await.expect("secret");
    assert!(made.string_data.is_none(), "stringData never comes back");
    let value = made.data.expect("data")["flag"].0.clone();
    assert_eq!(value, b"FLAG{x}");
}

#[tokio::test]
async fn list_with_label_selector() {
    let server = FakeApiServer::start();
    for (ns, name, lab) in [
        ("default", "a", "pss"),
        ("default", "b", "netpol"),
        ("kube-system", "c", "pss"),
    ] {
        server.insert(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns, "labels": {"seclab.dev/lab": lab}}
        }));
    }
    let client = client(&server).await;
    let all: Api<ConfigMap> = Api::all(client.clone());
    let names = |l: &kube::core::ObjectList<ConfigMap>| {
        l.items
            .iter()
            .map(ResourceExt::name_any)
            .collect::<Vec<_>>()
    };

    let pss = all
        .list(&ListParams::default().labels("seclab.dev/lab=pss"))
        .await
        .expect("list");
    assert_eq!(names(&pss), ["a", "c"]);
    assert_eq!(
        pss.metadata.resource_version,
        Some(server.resource_version().to_string())
    );
    let not = all
        .list(&ListParams::default().labels("seclab.dev/lab!=pss"))
        .await
        .expect("list");
    assert_eq!(names(&not), ["b"]);
    let set = all
        .list(&ListParams::default().labels("seclab.dev/lab in (netpol, other)"))
        .await
        .expect("list");
    assert_eq!(names(&set), ["b"]);
    let in_default: Api<ConfigMap> = Api::namespaced(client, "default");
    let both = in_default
        .list(&ListParams::default().labels("seclab.dev/lab"))
        .await
        .expect("list");
    assert_eq!(names(&both), ["a", "b"]);
    assert_eq!(
        server.requests()[0].param("labelSelector").as_deref(),
        Some("seclab.dev/lab=pss")
    );
}

#[tokio::test]
async fn deleting_a_namespace_removes_everything_in_it() {
    let server = FakeApiServer::start();
    let client = client(&server).await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(fixtures::namespace("lab-pss", &[("seclab.dev/lab", "pss")]))
            .expect("typed");
    let made = namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
    assert_eq!(
        made.labels()
            .get("kubernetes.io/metadata.name")
            .map(String::as_str),
        Some("lab-pss")
    );
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "lab-pss");
    cms.patch(
        "x",
        &PatchParams::apply("seclab"),
        &Patch::Apply(cm("x", json!({}))),
    )
    .await
    .expect("apply");
    server.insert(fixtures::config_map("default", "keep", &[]));

    let gone = namespaces
        .delete("lab-pss", &DeleteParams::default())
        .await
        .expect("delete");
    let terminating = gone
        .left()
        .expect("a namespace delete answers with the namespace");
    assert_eq!(
        terminating.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );

    assert_eq!(api_error(namespaces.get("lab-pss").await).code, 404);
    assert_eq!(api_error(cms.get("x").await).code, 404);
    assert!(
        server.get("ConfigMap", Some("default"), "keep").is_some(),
        "other namespaces keep their objects"
    );
    let s = api_error(namespaces.delete("lab-pss", &DeleteParams::default()).await);
    assert_eq!(s.message, "namespaces \"lab-pss\" not found");
}

fn pod(name: &str, security_context: Value) -> Pod {
    let mut v = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]}
    });
    v["spec"]["containers"][0]["securityContext"] = security_context;
    serde_json::from_value(v).expect("typed pod")
}

#[tokio::test]
async fn pod_security_admission_refuses_like_the_real_api_server() {
    let server = FakeApiServer::start();
    server.insert(fixtures::namespace(
        "strict",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    ));
    server.insert(fixtures::namespace(
        "base",
        &[("pod-security.kubernetes.io/enforce", "baseline")],
    ));
    let client = client(&server).await;
    let strict: Api<Pod> = Api::namespaced(client.clone(), "strict");
    let base: Api<Pod> = Api::namespaced(client, "base");
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };

    let s = api_error(
        strict
            .create(&dry, &pod("probe", json!({"privileged": true})))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert!(
        s.message.starts_with(
            "pods \"probe\" is forbidden: violates PodSecurity \"restricted:latest\": privileged (container \"app\" must not set securityContext.privileged=true), allowPrivilegeEscalation != false"
        ),
        "{}",
        s.message
    );
    assert!(s.message.contains(
        "runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true)"
    ));

    // Baseline-clean but not restricted: refused by restricted, admitted by baseline.
    let plain = pod("plain", json!({}));
    let s = api_error(strict.create(&dry, &plain).await);
    assert!(!s.message.contains("privileged ("), "{}", s.message);
    assert!(s.message.contains("seccompProfile"), "{}", s.message);
    let admitted = base.create(&dry, &plain).await.expect("baseline admits it");
    assert_eq!(admitted.name_any(), "plain");
    assert!(
        admitted.resource_version().is_none(),
        "a dry-run object has no resourceVersion"
    );

    let restricted_ok = pod(
        "good",
        json!({"allowPrivilegeEscalation": false, "runAsNonRoot": true,
               "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}),
    );
    strict
        .create(&dry, &restricted_ok)
        .await
        .expect("restricted admits a restricted pod");
    let s = api_error(
        base.create(&dry, &pod("root", json!({"privileged": true})))
            .await,
    );
    assert!(
        s.message
            .contains("violates PodSecurity \"baseline:latest\": privileged"),
        "{}",
        s.message
    );

    // Server-side apply is admitted the same way; nothing dry was stored.
    let mut applied =
        serde_json::to_value(pod("probe", json!({"privileged": true}))).expect("json");
    applied["metadata"]["namespace"] = json!("strict");
    let s = api_error(
        strict
            .patch(
                "probe",
                &PatchParams::apply("seclab"),
                &Patch::Apply(applied),
            )
            .await,
    );
    assert_eq!(s.code, 403);
    assert!(server.list("Pod").is_empty(), "{:?}", server.list("Pod"));
    let dry_runs = server
        .requests()
        .iter()
        .filter(|r| r.param("dryRun").as_deref() == Some("All"))
        .count();
    assert_eq!(dry_runs, 5);
}

#[tokio::test]
async fn subject_access_review_is_answered_by_the_closure() {
    let server = FakeApiServer::start();
    server.set_access_review(|spec| {
        let user = spec["user"].as_str().unwrap_or("");
        let verb = spec.pointer("/resourceAttributes/verb").and_then(Value::as_str).unwrap_or("");
        let resource = spec.pointer("/resourceAttributes/resource").and_then(Value::as_str).unwrap_or("");
        if user == "system:serviceaccount:lab:reader" && verb == "get" && resource == "pods" {
            (true, "RBAC: allowed by RoleBinding \"read/lab\" of Role \"read\" to ServiceAccount \"reader/lab\"".to_owned())
        } else {
            (false, String::new())
        }
    });
    let client = client(&server).await;
    let api: Api<SubjectAccessReview> = Api::all(client);
    let review = |verb: &str, resource: &str| SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some("system:serviceaccount:lab:reader".to_owned()),
            groups: Some(vec!["system:serviceaccounts".to_owned()]),
            resource_attributes: Some(ResourceAttributes {
                namespace: Some("lab".to_owned()),
                verb: Some(verb.to_owned()),
                resource: Some(resource.to_owned()),
                ..ResourceAttributes::default()
            }),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    let yes = api
        .create(&PostParams::default(), &review("get", "pods"))
        .await
        .expect("review");
    let status = yes.status.expect("status");
    assert!(status.allowed);
    assert!(
        status
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("RBAC: allowed by RoleBinding"))
    );
    assert_eq!(
        yes.spec
            .resource_attributes
            .and_then(|a| a.resource)
            .as_deref(),
        Some("pods"),
        "the spec is echoed"
    );

    let no = api
        .create(&PostParams::default(), &review("get", "secrets"))
        .await
        .expect("review");
    assert!(!no.status.expect("status").allowed);
    let r = &server.requests()[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews")
    );
    assert!(
        server.list("SubjectAccessReview").is_empty(),
        "reviews are not stored"
    );
}

#[tokio::test]
async fn watch_sees_existing_objects_then_live_changes() {
    let server = FakeApiServer::start();
    server.insert(fixtures::config_map("default", "first", &[("v", "1")]));
    let client = client(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let mut events = api
        .watch(&WatchParams::default().timeout(30), "0")
        .await
        .expect("watch")
        .boxed();

    let first = events
        .try_next()
        .await
        .expect("event")
        .expect("stream open");
    let WatchEvent::Added(obj) = first else {
        panic!("expected ADDED, got {first:?}")
    };
    assert_eq!(obj.name_any(), "first");
    // The watch is registered (its first event arrived): changes now stream live.
    server.insert(fixtures::config_map("default", "first", &[("v", "2")]));
    server.insert(fixtures::config_map("kube-system", "elsewhere", &[]));
    server.remove("ConfigMap", Some("default"), "first");
    let next = events
        .try_next()
        .await
        .expect("event")
        .expect("stream open");
    let WatchEvent::Modified(obj) = next else {
        panic!("expected MODIFIED, got {next:?}")
    };
    assert_eq!(
        obj.data.and_then(|d| d.get("v").cloned()).as_deref(),
        Some("2")
    );
    let last = events
        .try_next()
        .await
        .expect("event")
        .expect("stream open");
    assert!(
        matches!(last, WatchEvent::Deleted(ref o) if o.name_any() == "first"),
        "{last:?}"
    );
    let w = &server.requests()[0];
    assert_eq!((w.param("watch").as_deref(), w.status), (Some("true"), 200));
}

#[tokio::test]
async fn watch_from_a_resource_version_replays_later_changes_and_ends_at_its_timeout() {
    let server = FakeApiServer::start();
    server.insert(fixtures::config_map("default", "old", &[]));
    let since = server.resource_version().to_string();
    server.insert(fixtures::config_map("default", "new", &[]));
    let client = client(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let events: Vec<_> = api
        .watch(&WatchParams::default().timeout(1), &since)
        .await
        .expect("watch")
        .collect::<Vec<_>>()
        .await;
    let names: Vec<String> = events
        .into_iter()
        .map(|e| match e.expect("event") {
            WatchEvent::Added(o) => o.name_any(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        ["new"],
        "only what changed after resourceVersion {since}, then the stream ends"
    );
}

#[tokio::test]
async fn exec_gets_the_canned_error_and_does_not_hang() {
    let server = FakeApiServer::start();
    server.insert(fixtures::namespace("lab", &[]));
    server.insert(fixtures::running_pod(
        "lab",
        "client",
        &[("app", "client")],
        "10.244.0.5",
        0,
    ));
    server.set_exec_response(Canned::status(status::forbidden(
        "system:serviceaccount:lab:probe",
        "create",
        "",
        "pods/exec",
        Some("lab"),
        Some("client"),
    )));
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client, "lab");
    let ap = AttachParams::default()
        .container("app")
        .stdout(true)
        .stderr(true);
    let run = pods.exec("client", ["nc", "-z", "-w", "1", "10.244.0.6", "8080"], &ap);
    let result = tokio::time::timeout(std::time::Duration::from_secs(30), run)
        .await
        .expect("exec must not hang");
    let s = api_error(result.map(|_| ()));
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert!(
        s.message.contains("cannot create resource \"pods/exec\""),
        "{}",
        s.message
    );

    let r = server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/exec"))
        .expect("exec request");
    assert_eq!(r.path, "/api/v1/namespaces/lab/pods/client/exec");
    assert_eq!(
        r.param_all("command"),
        ["nc", "-z", "-w", "1", "10.244.0.6", "8080"]
    );
    assert_eq!(r.param("container").as_deref(), Some("app"));

    let missing = pods.exec("ghost", ["true"], &ap);
    let result = tokio::time::timeout(std::time::Duration::from_secs(30), missing)
        .await
        .expect("no hang");
    assert_eq!(
        api_error(result.map(|_| ())).message,
        "pods \"ghost\" not found"
    );
}

#[tokio::test]
async fn overrides_answer_before_routing() {
    let server = FakeApiServer::start();
    server.insert(fixtures::namespace("seclab-system", &[]));
    server.insert(fixtures::marker("abc123"));
    let forbidden = status::forbidden(
        "alice",
        "get",
        "",
        "configmaps",
        Some("seclab-system"),
        Some("seclab-marker"),
    );
    server.fail_next(
        "GET",
        "/api/v1/namespaces/seclab-system/configmaps",
        403,
        forbidden,
    );
    let client = client(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "seclab-system");
    let s = api_error(api.get("seclab-marker").await);
    assert_eq!(
        s.message,
        "configmaps \"seclab-marker\" is forbidden: User \"alice\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"seclab-system\""
    );
    let marker = api
        .get("seclab-marker")
        .await
        .expect("fail_next answers once");
    assert_eq!(
        marker
            .data
            .and_then(|d| d.get("cluster-id").cloned())
            .as_deref(),
        Some("abc123")
    );

    server.respond(
        |r| r.method == "PATCH",
        Canned::status(status::invalid(
            "",
            "ConfigMap",
            "x",
            "data",
            "FieldValueInvalid",
            "Invalid value: \"x\": nope",
        )),
    );
    let s = api_error(
        api.patch(
            "x",
            &PatchParams::apply("seclab"),
            &Patch::Apply(cm("x", json!({}))),
        )
        .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(
        server
            .get("ConfigMap", Some("seclab-system"), "x")
            .is_none()
    );
}

/// One HTTP/1.1 request over a plain TcpStream (no tokio in the test, as
/// when the `seclab` binary is the client): (status, headers, body).
fn raw(
    url: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (code, head.to_owned(), body.to_owned())
}

#[test]
fn serves_blocking_clients_and_warns_about_workload_templates() {
    let server = FakeApiServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = fake_apiserver::write_kubeconfig(
        dir.path(),
        &[("kind-seclab", &server.url())],
        "kind-seclab",
    );
    let kc = Kubeconfig::read_from(&path).expect("the written kubeconfig reads back");
    assert_eq!(kc.current_context.as_deref(), Some("kind-seclab"));
    assert_eq!(
        kc.clusters[0]
            .cluster
            .as_ref()
            .and_then(|c| c.server.clone()),
        Some(server.url())
    );

    let (code, _, body) = raw(
        &server.url(),
        "GET",
        "/api/v1/namespaces",
        "application/json",
        "",
    );
    assert_eq!(code, 200);
    let list: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(list["kind"], "NamespaceList");
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    assert!(
        list["items"][0].get("kind").is_none(),
        "list items carry no kind, as from a real server"
    );

    server.insert(fixtures::namespace(
        "strict",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    ));
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "securityContext": {"privileged": true}}]}}}
    });
    let (code, head, _) = raw(
        &server.url(),
        "POST",
        "/apis/apps/v1/namespaces/strict/deployments?fieldManager=kubectl-create",
        "application/json",
        &deployment.to_string(),
    );
    assert_eq!(code, 201, "a workload is admitted, only warned about");
    assert!(
        head.to_ascii_lowercase().contains(
            "warning: 299 - \"would violate podsecurity \\\"restricted:latest\\\": privileged"
        ),
        "{head}"
    );
    let stored = server
        .get("Deployment", Some("strict"), "web")
        .expect("stored");
    assert_eq!(
        stored["metadata"]["managedFields"][0]["manager"],
        "kubectl-create"
    );
    assert_eq!(stored["metadata"]["generation"], 1);

    let (code, _, body) = raw(
        &server.url(),
        "GET",
        "/apis/example.com/v1",
        "application/json",
        "",
    );
    assert_eq!((code, body.as_str()), (404, "404 page not found\n"));
}
