//! One test per NetworkPolicy rule of the engine, each with an allowed and a
//! denied case, plus malformed policies (clear errors, no panic), the
//! expectation parser, grading and the 80-column matrix.

mod common;

use std::fmt::Write as _;

use seclab_checkers::netpol::{self, Cluster, NetpolError, matrix, parse_connlist};
use seclab_checkers::{KubeObject, Status};

/// Namespace `lab` with deployments a, b, c (`app: <name>`); b has the
/// named ports `http` (TCP 8080) and `dns` (UDP 53).
const BASE: &str = r"
apiVersion: v1
kind: Namespace
metadata: {name: lab, labels: {team: red}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: lab}
spec:
  template:
    metadata: {labels: {app: a, tier: web}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: lab}
spec:
  template:
    metadata: {labels: {app: b}}
    spec:
      containers:
      - name: c
        image: x
        ports:
        - {name: http, containerPort: 8080}
        - {name: dns, containerPort: 53, protocol: UDP}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: c, namespace: lab}
spec:
  template:
    metadata: {labels: {app: c}}
    spec: {containers: [{name: c, image: x}]}
";

fn try_run(policies: &str) -> Result<String, NetpolError> {
    let (cluster, _) = Cluster::from_objects(&common::objects(&format!("{BASE}---\n{policies}")))?;
    Ok(cluster.connections().to_connlist_text())
}

fn run(policies: &str) -> String {
    try_run(policies).expect("valid manifests")
}

/// The allowed set from `src` to `dst` (`lab/x[Deployment]` short names),
/// `-` when denied.
fn conn(text: &str, src: &str, dst: &str) -> String {
    let name = |s: &str| {
        if s == "ext" {
            "0.0.0.0-255.255.255.255[External]".to_owned()
        } else {
            format!("lab/{s}[Deployment]")
        }
    };
    let prefix = format!("{} => {} : ", name(src), name(dst));
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or("-")
        .to_owned()
}

fn policy(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: lab}}\nspec:\n{spec}\n"
    )
}

#[test]
fn no_policy_allows_everything() {
    let t = run("");
    assert_eq!(conn(&t, "a", "b"), "All Connections");
    assert_eq!(conn(&t, "ext", "c"), "All Connections");
    assert_eq!(conn(&t, "c", "ext"), "All Connections");
    assert_eq!(t.lines().count(), 6 + 3 + 3);
}

#[test]
fn default_deny_ingress_isolates_only_ingress() {
    let t = run(&policy(
        "deny",
        "  podSelector: {}\n  policyTypes: [Ingress]",
    ));
    assert_eq!(conn(&t, "a", "b"), "-");
    assert_eq!(conn(&t, "ext", "a"), "-");
    assert_eq!(conn(&t, "a", "ext"), "All Connections");
}

#[test]
fn policy_only_isolates_selected_pods() {
    let t = run(&policy(
        "deny-b",
        "  podSelector: {matchLabels: {app: b}}\n  policyTypes: [Ingress]",
    ));
    assert_eq!(conn(&t, "a", "b"), "-");
    assert_eq!(conn(&t, "a", "c"), "All Connections");
}

#[test]
fn policy_types_inferred_from_egress_rules() {
    // No policyTypes, no egress rules: ingress only.
    let t = run(&policy("p", "  podSelector: {matchLabels: {app: a}}"));
    assert_eq!(conn(&t, "a", "b"), "All Connections");
    assert_eq!(conn(&t, "b", "a"), "-");
    // No policyTypes, an egress rule: egress too.
    let t = run(&policy(
        "p",
        "  podSelector: {matchLabels: {app: a}}\n  egress:\n  - to: [{podSelector: {matchLabels: {app: b}}}]",
    ));
    assert_eq!(conn(&t, "a", "b"), "All Connections");
    assert_eq!(conn(&t, "a", "c"), "-");
    assert_eq!(conn(&t, "a", "ext"), "-");
}

#[test]
fn empty_egress_list_with_explicit_type_denies() {
    let t = run(&policy(
        "p",
        "  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]\n  egress: []",
    ));
    assert_eq!(conn(&t, "a", "b"), "-");
    assert_eq!(conn(&t, "b", "a"), "All Connections");
}

#[test]
fn connection_needs_egress_and_ingress() {
    let allow_b_from_a = policy(
        "b-in",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: a}}}]",
    );
    let deny_a_out = policy(
        "a-out",
        "  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]",
    );
    let t = run(&allow_b_from_a);
    assert_eq!(conn(&t, "a", "b"), "All Connections");
    assert_eq!(conn(&t, "c", "b"), "-");
    let t = run(&format!("{allow_b_from_a}---\n{deny_a_out}"));
    assert_eq!(conn(&t, "a", "b"), "-");
}

#[test]
fn policies_are_unioned() {
    let p1 = policy(
        "p1",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: a}}}]\n    ports: [{port: 80}]",
    );
    let p2 = policy(
        "p2",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: a}}}]\n    ports: [{port: 443}, {port: 53, protocol: UDP}]",
    );
    let t = run(&format!("{p1}---\n{p2}"));
    assert_eq!(conn(&t, "a", "b"), "TCP 80,443,UDP 53");
    assert_eq!(conn(&t, "c", "b"), "-");
}

#[test]
fn namespace_and_pod_selector_in_one_peer_is_and() {
    let other = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: other, labels: {app: a}}\nspec: {containers: [{name: c, image: x}]}\n";
    let and = policy(
        "p",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: red}}\n      podSelector: {matchLabels: {app: a}}",
    );
    let t = run(&format!("{and}{other}"));
    assert_eq!(conn(&t, "a", "b"), "All Connections");
    assert!(!t.contains("other/x[Pod] => lab/b[Deployment]"));
    // Two peers: OR. `namespaceSelector: {}` is every namespace.
    let or = policy(
        "p",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: blue}}\n    - namespaceSelector: {}\n      podSelector: {matchLabels: {app: a}}",
    );
    let t = run(&format!("{or}{other}"));
    assert!(t.contains("other/x[Pod] => lab/b[Deployment] : All Connections"));
    assert_eq!(conn(&t, "c", "b"), "-");
}

#[test]
fn implicit_namespace_name_label() {
    let p = policy(
        "p",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: lab}}}]",
    );
    let t = run(&p);
    assert_eq!(conn(&t, "a", "b"), "All Connections");
    assert_eq!(conn(&t, "ext", "b"), "-");
}

#[test]
fn match_expressions() {
    let p = policy(
        "p",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from:\n    - podSelector:\n        matchExpressions:\n        - {key: app, operator: NotIn, values: [c]}\n        - {key: tier, operator: Exists}",
    );
    let t = run(&p);
    assert_eq!(conn(&t, "a", "b"), "All Connections");
    assert_eq!(conn(&t, "c", "b"), "-");
    let p = policy(
        "p",
        "  podSelector: {matchExpressions: [{key: tier, operator: DoesNotExist}]}\n  policyTypes: [Ingress]",
    );
    let t = run(&p);
    assert_eq!(conn(&t, "a", "c"), "-");
    assert_eq!(conn(&t, "c", "a"), "All Connections");
}

#[test]
fn named_ports_resolve_on_destination_with_protocol() {
    let p = policy(
        "p",
        "  podSelector: {}\n  ingress:\n  - ports: [{port: http}, {port: dns, protocol: UDP}, {port: http, protocol: UDP}]",
    );
    let t = run(&p);
    assert_eq!(conn(&t, "a", "b"), "TCP 8080,UDP 53");
    assert_eq!(conn(&t, "b", "a"), "-");
    // In an egress rule the name resolves on the peer pod too.
    let p = policy(
        "p",
        "  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{port: http}]",
    );
    let t = run(&p);
    assert_eq!(conn(&t, "a", "b"), "TCP 8080");
    assert_eq!(conn(&t, "a", "c"), "-");
    assert_eq!(conn(&t, "a", "ext"), "-");
}

#[test]
fn end_port_ranges_and_protocols() {
    let p = policy(
        "p",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - ports: [{port: 8000, endPort: 8099}, {protocol: SCTP}]",
    );
    assert_eq!(conn(&run(&p), "a", "b"), "SCTP 1-65535,TCP 8000-8099");
    let p = policy(
        "p",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - ports:\n    - {port: 1, endPort: 65535}\n    - {port: 1, endPort: 65535, protocol: UDP}\n    - {port: 1, endPort: 65535, protocol: SCTP}",
    );
    assert_eq!(conn(&run(&p), "a", "b"), "All Connections");
}

#[test]
fn ip_block_except_cuts_atoms() {
    let p = policy(
        "p",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.10.0.0/16]}}]\n    ports: [{port: 443}]",
    );
    let t = run(&p);
    let to_b: Vec<&str> = t
        .lines()
        .filter(|l| l.contains("[External] => lab/b"))
        .collect();
    assert_eq!(
        to_b,
        [
            "10.0.0.0-10.9.255.255[External] => lab/b[Deployment] : TCP 443",
            "10.11.0.0-10.255.255.255[External] => lab/b[Deployment] : TCP 443",
        ]
    );
    // Pods never match an ipBlock.
    assert_eq!(conn(&t, "a", "b"), "-");
    assert!(
        t.contains("11.0.0.0-255.255.255.255[External] => lab/a[Deployment] : All Connections")
    );
}

#[test]
fn ports_only_rule_allows_any_peer() {
    let p = policy(
        "p",
        "  podSelector: {matchLabels: {app: b}}\n  ingress:\n  - ports: [{port: 80}]",
    );
    let t = run(&p);
    assert_eq!(conn(&t, "a", "b"), "TCP 80");
    assert_eq!(conn(&t, "ext", "b"), "TCP 80");
}

#[test]
fn owned_pods_fold_into_owner_and_lists_expand() {
    let yaml = r"
kind: PodList
apiVersion: v1
items:
- metadata:
    name: web-1
    labels: {app: web}
    ownerReferences: [{kind: ReplicaSet, name: web-5d9, controller: true}]
- metadata:
    name: web-2
    labels: {app: web}
    ownerReferences: [{kind: ReplicaSet, name: web-5d9, controller: true}]
- metadata: {name: solo}
---
kind: List
items:
- {kind: Service, metadata: {name: svc}}
";
    let (cluster, notes) = Cluster::from_objects(&common::objects(yaml)).expect("valid");
    let names: Vec<String> = cluster.workloads().map(ToString::to_string).collect();
    assert_eq!(names, ["default/web-5d9[ReplicaSet]", "default/solo[Pod]"]);
    assert!(notes.iter().any(|n| n.object == "Service default/svc"));
}

fn error_of(spec: &str) -> String {
    match try_run(&policy("bad", spec)) {
        Err(e) => e.to_string(),
        Ok(t) => panic!("expected an error, got\n{t}"),
    }
}

#[test]
fn malformed_policies_are_clear_errors() {
    assert_eq!(
        error_of(
            "  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {}\n    - ipBlock: {cidr: 10.0.0.0/33}"
        ),
        "NetworkPolicy lab/bad: bad CIDR \"10.0.0.0/33\" (prefix length above 32) in spec.ingress[0].from[1].ipBlock.cidr"
    );
    assert_eq!(
        error_of("  podSelector: {matchExpressions: [{key: app, operator: Like, values: [a]}]}"),
        "NetworkPolicy lab/bad: unknown operator \"Like\" (want In, NotIn, Exists or DoesNotExist) in spec.podSelector.matchExpressions[0].operator"
    );
    assert_eq!(
        error_of("  podSelector: {}\n  ingress:\n  - ports: [{port: 0}]"),
        "NetworkPolicy lab/bad: port 0 is outside 1-65535 in spec.ingress[0].ports[0].port"
    );
    assert_eq!(
        error_of("  podSelector: {}\n  egress:\n  - ports: [{port: 80, endPort: 70000}]"),
        "NetworkPolicy lab/bad: port 70000 is outside 1-65535 in spec.egress[0].ports[0].endPort"
    );
    assert_eq!(
        error_of("  podSelector: {}\n  ingress:\n  - ports: [{port: 90, endPort: 80}]"),
        "NetworkPolicy lab/bad: endPort 80 is below port 90 in spec.ingress[0].ports[0].endPort"
    );
    assert!(
        error_of("  podSelector: {}\n  ingress:\n  - ports: [{port: http, endPort: 80}]")
            .contains("named port")
    );
    assert!(error_of("  podSelector: {}\n  ingress:\n  - from: [{}]").contains("empty peer"));
    assert!(
        error_of("  podSelector: {}\n  ingress:\n  - ports: [{port: 80, protocol: ICMP}]")
            .contains("spec.ingress[0].ports[0].protocol")
    );
    assert!(error_of("  podSelector: {}\n  policyTypes: [Both]").contains("spec.policyTypes[0]"));
}

/// `port` is an IntOrString: a string is a port *name*. The API server
/// rejects `port: "8080"` (a name needs a letter), so it is an input error
/// with the hint to write the number — never read as 8080, which would
/// grade a policy that cannot exist.
#[test]
fn quoted_port_numbers_are_port_names_and_rejected() {
    for (dir, peers) in [("ingress", "from"), ("egress", "to")] {
        for quoted in ["'8080'", "\"53\"", "'1'", "'65535'", "'0'", "'70000'"] {
            let number = quoted.trim_matches(['\'', '"']);
            let e = error_of(&format!(
                "  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n  {dir}:\n  - {peers}: [{{podSelector: {{}}}}]\n    ports: [{{protocol: TCP, port: {quoted}}}]"
            ));
            assert_eq!(
                e,
                format!(
                    "NetworkPolicy lab/bad: port \"{number}\" is a string, so a port name, and the API server rejects it (a port name must contain at least one letter (a-z)); write the number unquoted: `port: {number}` in spec.{dir}[0].ports[0].port"
                )
            );
        }
    }
    // With endPort the name is still the first problem named.
    assert!(
        error_of("  podSelector: {}\n  ingress:\n  - ports: [{port: '80', endPort: 90}]")
            .contains("write the number unquoted")
    );
}

#[test]
fn policy_port_names_follow_iana_svc_name() {
    for (name, why) in [
        ("HTTP", "only lowercase letters"),
        ("web_ui", "only lowercase letters"),
        ("a-very-long-name-x", "at most 15 characters"),
        ("dns--tcp", "may not contain \"--\""),
        ("-http", "may not begin or end with '-'"),
        ("http-", "may not begin or end with '-'"),
        ("''", "may not be empty"),
    ] {
        let e = error_of(&format!(
            "  podSelector: {{}}\n  ingress:\n  - ports: [{{port: {name}}}]"
        ));
        assert!(
            e.starts_with("NetworkPolicy lab/bad: bad port name ")
                && e.contains(why)
                && e.ends_with(" in spec.ingress[0].ports[0].port"),
            "{name}: {e}"
        );
    }
    // Valid names still resolve (b names 8080 `http`); a valid name no pod
    // declares opens nothing.
    let p = policy(
        "p",
        "  podSelector: {}\n  ingress:\n  - ports: [{port: http}, {port: metrics-9153}]",
    );
    assert_eq!(conn(&run(&p), "a", "b"), "TCP 8080");
}

/// The model reads container port names to resolve named ports, so it
/// checks them by the same rule, and rejects a name twice in a container.
#[test]
fn container_port_names_are_validated() {
    let workload = |ports: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w, namespace: lab}}\nspec:\n  template:\n    metadata: {{labels: {{app: w}}}}\n    spec:\n      containers:\n      - name: one\n        image: x\n      - name: two\n        image: x\n        ports: {ports}\n"
        )
    };
    let err_of = |ports: &str| match try_run(&workload(ports)) {
        Err(e) => e.to_string(),
        Ok(t) => panic!("expected an error for {ports}, got\n{t}"),
    };
    assert_eq!(
        err_of("[{name: Http, containerPort: 80}]"),
        "Deployment lab/w: bad port name \"Http\" (a port name may contain only lowercase letters (a-z), digits (0-9) and '-') in spec.template.spec.containers[1].ports[0].name"
    );
    assert!(err_of("[{name: '8080', containerPort: 8080}]").contains("at least one letter"));
    assert!(
        err_of("[{name: 8080, containerPort: 8080}]").contains("port name 8080 is not a string")
    );
    assert_eq!(
        err_of("[{name: http, containerPort: 80}, {name: http, containerPort: 81, protocol: UDP}]"),
        "Deployment lab/w: duplicate port name \"http\" in one container in spec.template.spec.containers[1].ports[1].name"
    );
    // A bare pod is located under `spec`.
    let pod = "kind: Pod\nmetadata: {name: p, namespace: lab}\nspec: {containers: [{name: c, ports: [{name: Web, containerPort: 80}]}]}\n";
    let e = try_run(pod).expect_err("bad name");
    assert!(
        e.to_string()
            .ends_with("in spec.containers[0].ports[0].name"),
        "{e}"
    );
    // Valid: no name, an empty name, the same name in two containers, and a
    // named port without a containerPort (skipped, as np-guard does).
    let (cluster, _) = Cluster::from_objects(&common::objects(&workload(
        "[{containerPort: 1}, {name: '', containerPort: 2}, {name: web, containerport: 3}]",
    )))
    .expect("valid");
    assert_eq!(cluster.workloads().count(), 1);
    let two = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: lab}\nspec:\n  containers:\n  - {name: a, ports: [{name: web, containerPort: 80}]}\n  - {name: b, ports: [{name: web, containerPort: 81}]}\n";
    assert!(Cluster::from_objects(&common::objects(two)).is_ok());
}

#[test]
fn odd_shapes_never_panic() {
    let shapes = [
        "spec: 3",
        "spec: {podSelector: []}",
        "spec: {podSelector: {matchLabels: [1]}, ingress: {}}",
        "spec: {ingress: [3, {from: 7}]}",
        "spec: {ingress: [{from: [{ipBlock: {}}]}]}",
        "spec: {egress: [{to: [{ipBlock: {cidr: 1}}], ports: [{port: -1}]}]}",
        "spec: {egress: [{ports: [{port: 1.5}, {port: [1]}]}]}",
        "spec: {podSelector: {matchExpressions: [{key: a, operator: In}]}}",
        "spec: {ingress: [{from: [{ipBlock: {cidr: '::/0', except: [x]}}]}]}",
    ];
    for s in shapes {
        let yaml = format!("kind: NetworkPolicy\nmetadata: {{name: odd}}\n{s}\n");
        let r = Cluster::from_objects(&common::objects(&yaml));
        if let Err(e) = r {
            assert!(
                e.to_string().starts_with("NetworkPolicy default/odd: "),
                "{e}"
            );
        }
    }
    let junk = [
        serde_json::json!(null),
        serde_json::json!([1, 2]),
        serde_json::json!({"kind": 5}),
    ];
    for j in junk {
        let _ = Cluster::from_objects(&[KubeObject::new(j)]);
    }
}

const LAB: &str = "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: lab}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-to-b, namespace: lab}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: http}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-out, namespace: lab}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: b}}}]}, {ports: [{port: 53, protocol: UDP}]}]
";

const EXPECTED: &str = "
# a may reach b on 8080, nothing else
lab/a[Deployment] => lab/b[Deployment] : TCP 8080
lab/b[Deployment] => lab/c[Deployment] : TCP 5432
";

#[test]
fn grade_names_each_differing_pair() {
    let objs = common::objects(&format!("{BASE}---\n{LAB}"));
    let exp = parse_connlist(EXPECTED).expect("valid expectation");
    let v = netpol::grade(&objs, &exp);
    assert_eq!(v.status, Status::Fail);
    let errors: Vec<&str> = v
        .findings
        .iter()
        .filter(|f| f.severity == seclab_checkers::Severity::Error)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        errors,
        [
            "lab/a[Deployment] => 0.0.0.0-255.255.255.255[External]: expected no connection, got UDP 53",
            "lab/b[Deployment] => lab/c[Deployment]: expected TCP 5432, got no connection",
        ]
    );
    let exact = parse_connlist(
        "lab/a[Deployment] => lab/b[Deployment] : TCP 8080\nlab/a[Deployment] => 0.0.0.0-255.255.255.255[External] : UDP 53\n",
    )
    .expect("valid");
    assert_eq!(netpol::grade(&objs, &exact).status, Status::Pass);
}

#[test]
fn connlist_parse_errors_name_the_line() {
    let e = parse_connlist("lab/a[Deployment] => lab/b[Deployment] : TCP 80\nnonsense\n")
        .expect_err("bad");
    assert_eq!(
        e.to_string(),
        "connlist line 2: expected `SRC => DST : CONNS`, got \"nonsense\""
    );
    assert!(parse_connlist("lab/a => lab/b[Deployment] : TCP 80").is_err());
    assert!(parse_connlist("lab/a[Deployment] => lab/b[Deployment] : TCP 99999").is_err());
}

#[test]
fn matrix_at_80_columns_marks_differences() {
    let objs = common::objects(&format!("{BASE}---\n{LAB}"));
    let (cluster, _) = Cluster::from_objects(&objs).expect("valid");
    let list = cluster.connections();
    let exp = parse_connlist(EXPECTED).expect("valid expectation");
    let m = matrix::build(&list, Some(&exp));
    assert_eq!(m.differing, 2);
    let text = matrix::render(&m, 80);
    let expected = "\
from\\to      1      2      3    ext
1            .  T8080      -   U53!
2            -      .     -!      -
3            -      -      .      -
ext          -      -      -

Rows are sources, columns destinations. all = every protocol and port,
- = denied, . = self (not analysed), T/U/S = TCP/UDP/SCTP ports (T* = all
of TCP), ~ = only part of the external IPs, *N = see note N,
! = differs from the expectation.
  1 = lab/a[Deployment]
  2 = lab/b[Deployment]
  3 = lab/c[Deployment]
ext = IPs outside the cluster
2 cells differ from the expectation:
  1 -> ext: expected -, got U53
  2 -> 3: expected T5432, got -
";
    assert_eq!(text, expected);
    assert!(text.lines().all(|l| l.chars().count() <= 80));
    let json = serde_json::to_value(matrix::Report::new(&list, Some(&exp))).expect("serializes");
    assert_eq!(json["workloads"][0]["name"], "a");
    assert_eq!(json["connections"][0]["conns"], "UDP 53");
    assert_eq!(json["diff"][1]["expected"], "TCP 5432");
}

#[test]
fn matrix_of_twelve_workloads_fits_80_columns() {
    let mut yaml = String::new();
    for i in 0..12 {
        let _ = writeln!(
            yaml,
            "---\nkind: Pod\nmetadata: {{name: a-rather-long-workload-name-{i}, namespace: lab, labels: {{app: w{i}}}}}"
        );
    }
    yaml.push_str("---\n");
    yaml.push_str(&policy(
        "p",
        "  podSelector: {matchLabels: {app: w0}}\n  ingress:\n  - ports: [{port: 8080}, {port: 8443}, {port: 53, protocol: UDP}]",
    ));
    let (cluster, _) = Cluster::from_objects(&common::objects(&yaml)).expect("valid");
    let m = matrix::build(&cluster.connections(), None);
    assert_eq!((m.rows.len(), m.cols.len()), (13, 13));
    let text = matrix::render(&m, 80);
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    assert!(text.contains("*1 = T8080,8443 U53"), "{text}");
    assert!(
        text.contains(" 12 = lab/a-rather-long-workload-name-9[Pod]"),
        "{text}"
    );
}
