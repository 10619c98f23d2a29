//! Tests of the parent module.

use super::*;

#[test]
fn base64_matches_known_vectors() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(&[0xff; 32]).len(), 44);
    assert!(base64(&[0xff; 32]).ends_with("//8="));
}

#[test]
fn versions_parse() {
    assert_eq!(
        parse_version("kind v0.33.0 go1.25.3 linux/amd64"),
        Some((0, 33, 0))
    );
    assert_eq!(
        parse_version("kind v0.34.0-alpha+abc go1.26 linux/arm64"),
        Some((0, 34, 0))
    );
    assert_eq!(parse_version("kind version unknown"), None);
    assert_eq!(parse_version(""), None);
}

#[test]
fn pinned_version_is_the_constants() {
    assert_eq!(
        parse_version(&format!("kind {KIND_VERSION}")),
        Some((0, 33, 0))
    );
    assert!(NODE_IMAGE.contains("@sha256:") && NODE_IMAGE.starts_with("kindest/node:v1.37.0@"));
}

fn doc(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).expect("the rendered file is YAML")
}

#[test]
fn cluster_config_renders_with_the_folder_the_image_and_the_patches() {
    let dir = Path::new("/home/s/.local/state/seclab/kind");
    let files = render_cluster_files(dir, &[7; 32]).unwrap();
    let c = doc(&files.cluster);
    assert_eq!(c["kind"], "Cluster");
    assert_eq!(c["apiVersion"], "kind.x-k8s.io/v1alpha4");
    let nodes = c["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "one node");
    let node = &nodes[0];
    assert_eq!(node["role"], "control-plane");
    assert_eq!(
        node["image"], NODE_IMAGE,
        "the image pinned by digest, as the constant"
    );
    assert_eq!(node["extraMounts"][0]["hostPath"], dir.to_str().unwrap());
    assert_eq!(
        node["extraMounts"][0]["containerPath"],
        "/etc/kubernetes/seclab"
    );

    let patches = node["kubeadmConfigPatches"].as_array().unwrap();
    assert_eq!(patches.len(), 1);
    let patch = doc(patches[0].as_str().unwrap());
    assert_eq!(patch["kind"], "ClusterConfiguration");
    assert!(
        patch.get("apiVersion").is_none(),
        "kind drops a patch whose apiVersion differs, silently: none at all"
    );
    let args: Vec<(String, String)> = patch["apiServer"]["extraArgs"]
        .as_array()
        .expect("extraArgs as v1beta4's name/value list")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().into(),
                a["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    let arg = |n: &str| args.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let policy = arg("audit-policy-file").expect("audit policy");
    let enc = arg("encryption-provider-config").expect("encryption config");
    assert!(arg("audit-log-path").is_some());
    // Each file the API server reads is in a volume of its pod, which is
    // the node folder the host folder is mounted on.
    let vols = patch["apiServer"]["extraVolumes"].as_array().unwrap();
    for file in [&policy, &enc] {
        assert!(
            vols.iter()
                .any(|v| file.starts_with(v["mountPath"].as_str().unwrap())
                    && v["hostPath"] == node["extraMounts"][0]["containerPath"]),
            "{file} is in a volume backed by the mounted folder"
        );
    }
    assert!(policy.ends_with(AUDIT_POLICY_FILE) && enc.ends_with(ENCRYPTION_FILE));
    let log = arg("audit-log-path").unwrap();
    assert!(
        vols.iter()
            .any(|v| log.starts_with(v["mountPath"].as_str().unwrap()) && v["readOnly"] == false),
        "the audit log is written to a writable volume"
    );
}

#[test]
fn audit_policy_logs_secrets_at_metadata_first() {
    let p = doc(AUDIT_POLICY);
    assert_eq!(p["kind"], "Policy");
    let rules = p["rules"].as_array().unwrap();
    // A rule can match a Secret request unless it is for non-resource
    // URLs or lists resources without core `secrets`. Its users, verbs
    // or namespaces only narrow it: the first candidate must have none.
    let can_match_secrets = |r: &serde_json::Value| {
        r.get("nonResourceURLs").is_none()
            && r.get("resources").is_none_or(|rs| {
                rs.as_array().unwrap().iter().any(|g| {
                    g.get("group").is_none_or(|x| x == "")
                        && g.get("resources").is_none_or(|n| {
                            n.as_array()
                                .unwrap()
                                .iter()
                                .any(|x| x == "secrets" || x == "*")
                        })
                })
            })
    };
    let first = rules
        .iter()
        .find(|r| can_match_secrets(r))
        .expect("a rule matches secrets");
    assert_eq!(
        first["level"], "Metadata",
        "Secret reads at Metadata, never their data"
    );
    for narrowing in ["users", "userGroups", "verbs", "namespaces"] {
        assert!(
            first.get(narrowing).is_none(),
            "the Secret rule applies to every {narrowing}"
        );
    }
    assert!(
        rules
            .last()
            .is_some_and(|r| r["level"] == "Metadata" && r.get("resources").is_none())
    );
}

#[test]
fn encryption_config_starts_with_identity_then_aescbc_with_the_key() {
    let files = render_cluster_files(Path::new("/x"), &[0; 32]).unwrap();
    let e = doc(&files.encryption);
    assert_eq!(e["kind"], "EncryptionConfiguration");
    let providers = e["resources"][0]["providers"].as_array().unwrap();
    assert!(
        providers[0].get("identity").is_some(),
        "identity first: plaintext"
    );
    assert_eq!(
        providers[1]["aescbc"]["keys"][0]["secret"],
        base64(&[0; 32]),
        "the key given"
    );
    assert_eq!(e["resources"][0]["resources"][0], "secrets");
}

#[test]
fn bad_config_folders_are_refused() {
    for p in ["relative/dir", "/a\"b", "/a\\b", "/a\nb"] {
        assert!(
            render_cluster_files(Path::new(p), &[0; 32]).is_err(),
            "{p:?}"
        );
    }
}

#[test]
fn command_lines_quote_what_needs_it() {
    let args: Vec<OsString> = ["load", "image-archive", "/tmp/a b.tar"]
        .map(OsString::from)
        .into();
    assert_eq!(
        command_line(Path::new("/usr/bin/kind"), &args),
        "kind load image-archive \"/tmp/a b.tar\""
    );
}
