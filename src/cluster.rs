//! Labs on a Kubernetes cluster: what `start`, `apply`, `reset`, `stop`
//! and live grading do with a lab's manifests and the student's workspace,
//! through the guarded kube shell (`shell::kube`).
//!
//! A cluster lab is one with Kubernetes objects under `manifests/<id>/`.
//! Its namespaces are the Namespace objects there; seclab writes only into
//! those (each labelled `seclab.dev/lab=<id>`), and cluster-scoped objects
//! only when they are new or already the lab's. No request leaves seclab
//! unless the state dir stores a cluster id for the context (`seclab up`
//! wrote it): without one, nothing is sent anywhere.

use std::collections::BTreeMap;
use std::time::Duration;

use seclab_checkers::KubeObject;
use serde_json::Value;

use crate::grade::Snapshot;
use crate::lab::{Lab, LabFiles, Student};
use crate::shell::docker::ImageMap;
use crate::shell::kube::guard::{self, Known, Owned};
use crate::shell::kube::{Cluster, ClusterError, LAB_LABEL, Target, read, resources};

/// How long a namespace may take to go away on reset or stop.
pub const NAMESPACE_TIMEOUT: Duration = Duration::from_secs(120);

/// How long `seclab test` waits for a variant's pods to start.
pub const POD_START_TIMEOUT: Duration = Duration::from_secs(90);

/// Whether a Deployment is done rolling out: its ready replicas reach
/// its replicas (1 when unset; 0 or paused is done at once), or its
/// controller reports that it cannot create pods (`ReplicaFailure`, e.g.
/// Pod Security admission refused them).
fn deployment_done(d: &KubeObject) -> bool {
    let want = d
        .value
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let paused = d.value.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let ready = d
        .value
        .pointer("/status/readyReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let failing = d
        .value
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("ReplicaFailure")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        });
    want == 0 || paused || ready >= want || failing
}

/// Waits until the lab's Deployments are rolled out (or cannot be) and
/// its pods are all Ready, or `timeout` passes: then it returns, and the
/// settle check says which pod is not ready.
pub async fn wait_pods(cluster: &Cluster, lab: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let objects = read::snapshot(cluster, lab).await?;
        let pods_ready = objects
            .iter()
            .filter(|o| o.kind() == "Pod")
            .all(|p| seclab_checkers::cluster::settle::is_settled(&p.value));
        let rolled_out = objects
            .iter()
            .filter(|o| o.kind() == "Deployment")
            .all(deployment_done);
        if (pods_ready && rolled_out) || tokio::time::Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Whether the lab runs on a cluster: it has Kubernetes objects to apply.
pub fn is_cluster_lab(lab: &Lab) -> bool {
    lab.manifests
        .keys()
        .any(|p| is_manifest(p.strip_suffix(".tera").unwrap_or(p)))
}

/// A YAML or JSON file by its name.
fn is_manifest(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| {
            ["yaml", "yml", "json"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        })
}

/// The lab's manifests rendered for `student` and parsed.
pub fn lab_objects(
    lab: &Lab,
    student: &Student,
    map: &ImageMap,
) -> anyhow::Result<Vec<KubeObject>> {
    let prefix = format!("manifests/{}/", lab.spec.id);
    let rendered = crate::lab::template::render_tree(&lab.manifests, student, &prefix)?;
    let yaml: LabFiles = rendered
        .into_iter()
        .filter(|(p, _)| is_manifest(p))
        .map(|(p, b)| (format!("{prefix}{p}"), b))
        .collect();
    let mut snap = Snapshot::from_manifest_files(&yaml);
    if !snap.problems.is_empty() {
        return Err(snap.problems.swap_remove(0).into());
    }
    for o in &mut snap.objects {
        map_images(&mut o.value, map);
    }
    Ok(snap.objects)
}

/// The lab's namespaces (Namespace objects of its manifests), each with the
/// labels the manifests give it.
pub fn lab_namespaces(objects: &[KubeObject]) -> Vec<(String, BTreeMap<String, String>)> {
    objects
        .iter()
        .filter(|o| o.kind() == "Namespace")
        .map(|o| {
            let labels = o
                .value
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            (read::name_of(o).to_string(), labels)
        })
        .collect()
}

/// Rewrites container images by the image map (`--image-map`), wherever a
/// pod template or pod lists containers.
pub fn map_images(v: &mut Value, map: &ImageMap) {
    match v {
        Value::Object(m) => {
            for key in ["containers", "initContainers", "ephemeralContainers"] {
                if let Some(Value::Array(cs)) = m.get_mut(key) {
                    for c in cs {
                        if let Some(Value::String(image)) = c.get_mut("image") {
                            *image = map.map(image);
                        }
                    }
                }
            }
            for (_, child) in m.iter_mut() {
                map_images(child, map);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| map_images(c, map)),
        _ => {}
    }
}

/// The deliberately insecure settings of the lab's start state, as
/// sentences: what `start` warns about before it applies them.
pub fn insecure_settings(objects: &[KubeObject]) -> Vec<String> {
    let mut out = Vec::new();
    for o in objects {
        let Some(spec) = o
            .value
            .pointer("/spec/template/spec")
            .or_else(|| (o.kind() == "Pod").then(|| o.value.get("spec")).flatten())
        else {
            continue;
        };
        let who = format!("{} {}", o.kind(), read::name_of(o));
        let mut what = Vec::new();
        for key in ["hostPID", "hostNetwork", "hostIPC"] {
            if spec.get(key).and_then(Value::as_bool) == Some(true) {
                what.push(key.to_string());
            }
        }
        let containers = ["containers", "initContainers"]
            .iter()
            .filter_map(|k| spec.get(*k).and_then(Value::as_array))
            .flatten();
        for c in containers {
            if c.pointer("/securityContext/privileged")
                .and_then(Value::as_bool)
                == Some(true)
            {
                what.push("privileged".into());
            }
        }
        for v in spec
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(p) = v.pointer("/hostPath/path").and_then(Value::as_str) {
                what.push(format!("hostPath {p}"));
            }
        }
        what.dedup();
        if !what.is_empty() {
            out.push(format!("{who}: {}", what.join(", ")));
        }
    }
    out
}

/// The warning `start` prints before it applies an insecure state.
pub fn insecure_warning(settings: &[String]) -> Option<String> {
    if settings.is_empty() {
        return None;
    }
    Some(format!(
        "warning: this lab starts deliberately insecure workloads ({}). On kind, a privileged pod or a hostPath / mount is root on the kind node container, which is itself a privileged container: root on this machine. Run it only on a machine you may break.",
        settings.join("; ")
    ))
}

/// Why there is no cluster to talk to, decided without any request: the
/// state dir stores no cluster id for the context.
pub fn no_cluster_reason(target: &Target, known: &Known) -> Option<String> {
    if known.clusters.contains_key(&target.context) {
        return None;
    }
    Some(if target.context == crate::shell::kube::DEFAULT_CONTEXT {
        "no seclab cluster: run `seclab up` to create the kind cluster (nothing was sent to any cluster)".to_string()
    } else {
        format!(
            "context {} is not a cluster seclab created or adopted (no cluster id stored for it); nothing was sent to it",
            target.context
        )
    })
}

/// Connects to `target` and checks its marker: the writable handle. With no
/// cluster id stored for the context, no request is sent and the error
/// says so; a missing or different marker is refused after one GET.
pub async fn connect_owned(target: &Target, state: &std::path::Path) -> anyhow::Result<Owned> {
    let known = Known::load(state)?;
    if let Some(why) = no_cluster_reason(target, &known) {
        return Err(ClusterError::NotOurs {
            context: target.context.clone(),
            server: target
                .server()
                .unwrap_or_else(|| "no server in the kubeconfig".into()),
            why,
        }
        .into());
    }
    let cluster = Cluster::connect(target).await?;
    Ok(guard::own(cluster, &known).await?)
}

/// The seclab cluster to grade `lab` live on: `None` for a lab without a
/// cluster part, or when no cluster id is stored for the context (then
/// nothing is sent, and the cluster's checks skip with the reason); the
/// owned handle when the marker matches; an error (exit 2) when a stored
/// cluster is unreachable or its marker does not match.
pub fn cluster_for(lab: &Lab, target: &Target) -> anyhow::Result<Option<Owned>> {
    if !is_cluster_lab(lab) {
        return Ok(None);
    }
    let st = crate::config::state_dir()?;
    let known = Known::load(&st)?;
    if no_cluster_reason(target, &known).is_some() {
        return Ok(None);
    }
    Ok(Some(crate::shell::kube::block_on(connect_owned(
        target, &st,
    ))??))
}

/// What applying a set of objects did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `Kind namespace/name` of each object applied.
    pub applied: Vec<String>,
    /// Objects not applied, with the reason (another namespace, a built-in
    /// cluster object).
    pub skipped: Vec<String>,
}

fn shown(o: &KubeObject) -> String {
    let ns = o
        .value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    match ns {
        Some(ns) => format!("{} {ns}/{}", o.kind(), read::name_of(o)),
        None => format!("{} {}", o.kind(), read::name_of(o)),
    }
}

/// Applies `objects` for `lab`: namespaced ones only into the lab's
/// namespaces (a missing namespace is `default`, which is not one: such an
/// object is skipped with the reason), Namespaces only the lab's, and
/// cluster-scoped objects only when new or already the lab's. Namespaces
/// go first, so the rest has somewhere to land.
pub async fn apply_objects(
    owned: &Owned,
    lab: &str,
    namespaces: &[String],
    objects: &[KubeObject],
) -> anyhow::Result<Applied> {
    let mut out = Applied::default();
    let mut ordered: Vec<&KubeObject> = objects.iter().collect();
    ordered.sort_by_key(|o| u8::from(o.kind() != "Namespace"));
    for o in ordered {
        let kind = o.kind().to_string();
        let name = read::name_of(o).to_string();
        let res = match resources::resolve(owned.cluster(), o.api_version(), &kind).await {
            Ok(r) => r,
            Err(ClusterError::Other { message, .. })
                if o.api_version().starts_with("kyverno.io/") =>
            {
                out.skipped.push(format!(
                    "{kind} {name}: Kyverno is not installed on this cluster ({message}); `seclab up --with kyverno` installs it"
                ));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if kind == "Namespace" {
            if !namespaces.contains(&name) {
                out.skipped.push(format!(
                    "Namespace {name}: not one of the lab's namespaces ({})",
                    namespaces.join(", ")
                ));
                continue;
            }
        } else if res.namespaced {
            let ns = o
                .value
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default");
            if !namespaces.iter().any(|n| n == ns) {
                out.skipped.push(format!(
                    "{kind} {ns}/{name}: namespace {ns} is not one of the lab's ({}); seclab applies only into those{}",
                    namespaces.join(", "),
                    if o.value.pointer("/metadata/namespace").is_none() {
                        " (it has no metadata.namespace)"
                    } else {
                        ""
                    }
                ));
                continue;
            }
        } else if let Some(existing) = get_cluster_scoped(owned.cluster(), &res, &name).await? {
            let theirs = existing
                .pointer("/metadata/labels")
                .and_then(|l| l.get(LAB_LABEL))
                .and_then(Value::as_str);
            if theirs != Some(lab) {
                out.skipped.push(format!(
                    "{kind} {name}: exists in the cluster and is not this lab's; seclab does not change it"
                ));
                continue;
            }
        }
        owned.apply(lab, &o.value, None).await?;
        out.applied.push(shown(o));
    }
    Ok(out)
}

async fn get_cluster_scoped(
    cluster: &Cluster,
    res: &resources::Resource,
    name: &str,
) -> anyhow::Result<Option<Value>> {
    use kube::api::{Api, DynamicObject};
    let api: Api<DynamicObject> = Api::all_with(cluster.client(), &res.api);
    let got = api.get_opt(name).await.map_err(|e| cluster.error(e))?;
    Ok(got.map(|o| serde_json::to_value(o).unwrap_or(Value::Null)))
}

/// `seclab apply` and the TUI's apply: the workspace at `root` (its
/// manifests, images mapped) into the lab's namespaces on `target`'s
/// cluster, through the guard.
pub fn apply_workspace_at(
    lab: &Lab,
    target: &Target,
    map: &ImageMap,
    root: &std::path::Path,
) -> anyhow::Result<Applied> {
    if !is_cluster_lab(lab) {
        anyhow::bail!("{} has no cluster part: nothing to apply", lab.spec.id);
    }
    let st = crate::config::state_dir()?;
    let (_, student) = crate::session::load_progress(&st)?;
    let ws = crate::shell::files::read_workspace(root)?;
    let mut snap = Snapshot::from_files(&ws);
    if let Some(e) = snap.manifest_problems().next() {
        return Err(e.clone().into());
    }
    for o in &mut snap.objects {
        map_images(&mut o.value, map);
    }
    let objects = lab_objects(lab, &student, map)?;
    crate::shell::kube::block_on(async {
        let owned = connect_owned(target, &st).await?;
        apply_workspace(&owned, lab, &objects, &snap.objects).await
    })?
}

/// Sets the lab up: its namespaces (labelled), then its manifests.
pub async fn setup(owned: &Owned, lab: &Lab, objects: &[KubeObject]) -> anyhow::Result<Applied> {
    let namespaces = lab_namespaces(objects);
    let names: Vec<String> = namespaces.iter().map(|(n, _)| n.clone()).collect();
    for (ns, labels) in &namespaces {
        owned.ensure_namespace(&lab.spec.id, ns, labels).await?;
    }
    apply_objects(owned, &lab.spec.id, &names, objects).await
}

/// Removes the lab from the cluster: every namespace labelled with its id
/// (waiting until they are gone) and its labelled cluster-scoped objects.
pub async fn teardown(owned: &Owned, lab: &str) -> anyhow::Result<Vec<String>> {
    let mut gone = Vec::new();
    for ns in read::lab_namespaces(owned.cluster(), lab).await? {
        let name = read::name_of(&ns).to_string();
        owned
            .delete_namespace(lab, &name, NAMESPACE_TIMEOUT)
            .await?;
        gone.push(format!("namespace {name}"));
    }
    gone.extend(owned.delete_cluster_scoped(lab).await?);
    Ok(gone)
}

/// Applies the workspace's objects (the files the student edits) for the
/// lab. Only the lab's namespaces receive anything.
pub async fn apply_workspace(
    owned: &Owned,
    lab: &Lab,
    lab_objects: &[KubeObject],
    workspace: &[KubeObject],
) -> anyhow::Result<Applied> {
    let names: Vec<String> = lab_namespaces(lab_objects)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let (policies, objects): (Vec<KubeObject>, Vec<KubeObject>) =
        workspace.iter().cloned().partition(is_audit_policy);
    let (encryption, objects): (Vec<KubeObject>, Vec<KubeObject>) = objects
        .into_iter()
        .partition(seclab_checkers::secrets_at_rest::is_encryption_config);
    let mut out = apply_objects(owned, &lab.spec.id, &names, &objects).await?;
    for e in &encryption {
        // Installing it into the kind node is not done yet (issue 17, live part).
        out.skipped.push(format!(
            "EncryptionConfiguration in {}: a file kube-apiserver reads when it starts (--encryption-provider-config), not an API object; seclab does not install it into the cluster yet",
            e.source.as_deref().unwrap_or("the workspace")
        ));
    }
    for p in &policies {
        install_audit_policy(owned, lab, p, &mut out).await?;
    }
    Ok(out)
}

/// Whether `o` is an audit policy (`audit.k8s.io`): a file the API server
/// reads at start, not an object of its API.
pub fn is_audit_policy(o: &KubeObject) -> bool {
    o.api_version().starts_with("audit.k8s.io/")
}

/// Installs the workspace's audit policy `p` into the API server when the
/// lab names its file (lab.yaml `audit_policy:`); any other audit policy
/// is skipped with the reason.
async fn install_audit_policy(
    owned: &Owned,
    lab: &Lab,
    p: &KubeObject,
    out: &mut Applied,
) -> anyhow::Result<()> {
    use crate::shell::kind::audit;
    let file = p.source.as_deref().unwrap_or("");
    if lab.spec.audit_policy.as_deref() != Some(file) || file.is_empty() {
        out.skipped.push(format!(
            "audit Policy in {}: an audit policy is a file kube-apiserver reads when it starts, not an API object; {}",
            if file.is_empty() { "the workspace" } else { file },
            match &lab.spec.audit_policy {
                Some(f) => format!("this lab installs only {f}"),
                None => "this lab does not install one".to_string(),
            }
        ));
        return Ok(());
    }
    let engine = crate::shell::docker::Engine::connect().await.map_err(|e| {
        anyhow::anyhow!("installing {file} into the kind node needs the Docker engine: {e}")
    })?;
    let cp = audit::control_plane(&engine).await?;
    // JSON is YAML: the API server reads the policy as the student wrote it.
    let text = serde_json::to_string_pretty(&p.value)?;
    let done =
        audit::install_policy(owned, &engine, &cp, file, &text, audit::RESTART_TIMEOUT).await?;
    out.applied.push(match done {
        audit::Installed::Unchanged => {
            format!("audit policy {file} (the API server already has it)")
        }
        audit::Installed::Restarted => {
            format!("audit policy {file} (kube-apiserver restarted with it and is ready)")
        }
    });
    Ok(())
}

/// Puts seclab's own audit policy back into the API server when `lab`
/// installs one (lab.yaml `audit_policy:`); nothing otherwise.
pub async fn restore_audit_policy(owned: &Owned, lab: &Lab) -> anyhow::Result<Option<String>> {
    use crate::shell::kind::audit;
    if lab.spec.audit_policy.is_none() {
        return Ok(None);
    }
    let engine = crate::shell::docker::Engine::connect().await.map_err(|e| {
        anyhow::anyhow!("putting seclab's audit policy back needs the Docker engine: {e}")
    })?;
    let cp = audit::control_plane(&engine).await?;
    Ok(
        match audit::restore_default(owned, &engine, &cp, audit::RESTART_TIMEOUT).await? {
            audit::Installed::Unchanged => None,
            audit::Installed::Restarted => {
                Some("seclab's audit policy (kube-apiserver restarted with it)".to_string())
            }
        },
    )
}

/// The command a probe runs in the source pod: a TCP connection to the
/// destination with a one-second timeout (busybox `nc -z`, with `wget` as
/// the fallback for an `nc` built without `-z`).
pub fn probe_command(ip: &str, port: u16) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!(
            "nc -z -w 1 {ip} {port} 2>/dev/null || wget -q -T 1 -O /dev/null http://{ip}:{port}/"
        ),
    ]
}

/// The SubjectAccessReview spec (API JSON) for a planned review.
pub fn review_spec(r: &seclab_checkers::cluster::AccessReviewSpec) -> Value {
    let mut spec = serde_json::json!({"user": r.user, "groups": r.groups});
    if let Some(path) = &r.path {
        spec["nonResourceAttributes"] = serde_json::json!({"path": path, "verb": r.verb});
    } else {
        let mut attrs =
            serde_json::json!({"verb": r.verb, "group": r.group, "resource": r.resource});
        if let Some(s) = &r.subresource {
            attrs["subresource"] = Value::String(s.clone());
        }
        if let Some(n) = &r.namespace {
            attrs["namespace"] = Value::String(n.clone());
        }
        if let Some(n) = &r.name {
            attrs["name"] = Value::String(n.clone());
        }
        spec["resourceAttributes"] = attrs;
    }
    spec
}

/// How long a policy trial that disagrees with its `expect` is retried:
/// a ValidatingAdmissionPolicy takes effect only once the API server's
/// policy cache has it (about a second after it is applied).
pub const POLICY_SETTLE: Duration = Duration::from_secs(3);

/// The namespace Kyverno's install manifest uses.
pub const KYVERNO_NAMESPACE: &str = "kyverno";
/// Kyverno's admission controller Deployment.
pub const KYVERNO_CONTROLLER: &str = "kyverno-admission-controller";
/// The owner label value (`seclab.dev/lab`) of what `seclab up --with
/// kyverno` installs.
pub const KYVERNO_OWNER: &str = "seclab-kyverno";

/// Whether a Deployment has at least one available replica.
fn available(d: &Value) -> bool {
    d.pointer("/status/availableReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        > 0
}

async fn kyverno_controller(cluster: &Cluster) -> anyhow::Result<Option<Value>> {
    use kube::api::{Api, DynamicObject};
    let res = resources::builtin("apps/v1", "Deployment")
        .ok_or_else(|| anyhow::anyhow!("Deployment is built in"))?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client(), KYVERNO_NAMESPACE, &res.api);
    let got = api
        .get_opt(KYVERNO_CONTROLLER)
        .await
        .map_err(|e| cluster.error(e))?;
    Ok(got.map(|o| serde_json::to_value(o).unwrap_or(Value::Null)))
}

/// Waits until Kyverno's admission controller is available, or `timeout`.
pub async fn wait_kyverno(cluster: &Cluster, timeout: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if kyverno_controller(cluster)
            .await?
            .is_some_and(|d| available(&d))
        {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "{KYVERNO_NAMESPACE}/{KYVERNO_CONTROLLER} is not available after {}s: `kubectl --context {} -n {KYVERNO_NAMESPACE} get pods` shows why",
                timeout.as_secs(),
                cluster.context
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Whether Kyverno is installed, for `status`: its CRD served and its
/// admission controller available.
pub async fn kyverno_state(cluster: &Cluster) -> String {
    let crd = kyverno_installed(cluster).await;
    match kyverno_controller(cluster).await {
        Ok(Some(d)) if crd && available(&d) => {
            "installed (admission controller available)".to_string()
        }
        Ok(Some(_)) if crd => {
            "installed, but its admission controller is not available".to_string()
        }
        Ok(_) if crd => "its CRDs are installed, but not its admission controller".to_string(),
        Ok(_) => "not installed (`seclab up --with kyverno` installs it)".to_string(),
        Err(e) => format!("unknown: {e:#}"),
    }
}

/// Whether the cluster serves Kyverno's ClusterPolicy (its CRD installed).
pub async fn kyverno_installed(cluster: &Cluster) -> bool {
    resources::resolve(cluster, "kyverno.io/v1", "ClusterPolicy")
        .await
        .is_ok()
}

async fn send_policy_trial(
    owned: &Owned,
    t: &seclab_checkers::cluster::PolicyTrialSpec,
) -> seclab_checkers::cluster::PolicyOutcome {
    use seclab_checkers::cluster::PolicyOutcome;
    use seclab_checkers::cluster::policies::Send;
    let r = match &t.send {
        Send::Skip { reason } => {
            return PolicyOutcome::Skipped {
                reason: reason.clone(),
            };
        }
        Send::Create { object } => owned.dry_run_create(&t.namespace, object).await,
        Send::EphemeralContainers { pod, containers } => {
            owned.dry_run_ephemeral(&t.namespace, pod, containers).await
        }
    };
    match r {
        Ok(guard::DryRun::Admitted) => PolicyOutcome::Admitted {
            warnings: Vec::new(),
        },
        Ok(guard::DryRun::Rejected(message)) => PolicyOutcome::Rejected { message },
        Err(e) => PolicyOutcome::Error {
            message: e.to_string(),
        },
    }
}

/// Sends the planned `admission_policy` trials as dry runs. Kyverno's
/// trials are skipped when Kyverno is not installed. A trial whose answer
/// differs from its `expect` is sent again (all such together, every half
/// second, up to [`POLICY_SETTLE`]): a policy applied a moment ago may not
/// be in the API server's cache yet.
async fn policy_trials(
    owned: &Owned,
    wanted: Vec<seclab_checkers::cluster::PolicyTrialSpec>,
) -> Vec<seclab_checkers::cluster::PolicyTrial> {
    use seclab_checkers::admission::check::{Engine, Expect};
    use seclab_checkers::cluster::policies::Send;
    use seclab_checkers::cluster::{PolicyOutcome, PolicyTrial};
    let agrees = |t: &seclab_checkers::cluster::PolicyTrialSpec, o: &PolicyOutcome| match o {
        PolicyOutcome::Admitted { .. } => t.expect == Expect::Admit,
        PolicyOutcome::Rejected { .. } => t.expect == Expect::Reject,
        PolicyOutcome::Error { .. } | PolicyOutcome::Skipped { .. } => true,
    };
    let kyverno = if wanted.iter().any(|t| t.engine == Engine::Kyverno) {
        kyverno_installed(owned.cluster()).await
    } else {
        false
    };
    let mut outcomes = Vec::with_capacity(wanted.len());
    for t in &wanted {
        let o = if t.engine == Engine::Kyverno && !kyverno && !matches!(t.send, Send::Skip { .. }) {
            PolicyOutcome::Skipped {
                reason: "Kyverno is not installed on the cluster (`seclab up --with kyverno` installs it)".into(),
            }
        } else {
            send_policy_trial(owned, t).await
        };
        outcomes.push(o);
    }
    let deadline = tokio::time::Instant::now() + POLICY_SETTLE;
    while wanted.iter().zip(&outcomes).any(|(t, o)| !agrees(t, o))
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        for (t, o) in wanted.iter().zip(outcomes.iter_mut()) {
            if !agrees(t, o) {
                *o = send_policy_trial(owned, t).await;
            }
        }
    }
    wanted
        .into_iter()
        .zip(outcomes)
        .map(|(t, outcome)| PolicyTrial {
            engine: t.engine,
            request: t.request,
            outcome,
        })
        .collect()
}

/// Gathers the live facts the lab's `checks` need: the lab's objects, its
/// pods at the start and end of the settle window, and the admission
/// trials, connection probes and access reviews the checks plan.
pub async fn gather<E: crate::shell::kube::exec::Exec>(
    owned: &Owned,
    lab: &Lab,
    checks: &[&seclab_checkers::CheckSpec],
    exec: &E,
) -> anyhow::Result<seclab_checkers::cluster::ClusterFacts> {
    use seclab_checkers::cluster::{
        AccessReviewResult, AdmissionOutcome, AdmissionTrial, ClusterFacts, ProbeResult, plan,
    };
    let c = owned.cluster();
    let id = &lab.spec.id;
    let settle = lab
        .spec
        .settle_seconds
        .unwrap_or(crate::lab::model::DEFAULT_SETTLE_SECONDS);
    let pods_first = read::pods(c, id).await?;
    tokio::time::sleep(Duration::from_secs(settle)).await;
    let objects = read::snapshot(c, id).await?;
    let pods_last: Vec<KubeObject> = objects
        .iter()
        .filter(|o| o.kind() == "Pod")
        .cloned()
        .collect();
    let wanted = plan(checks.iter().copied(), &objects);
    let mut facts = ClusterFacts {
        context: c.context.clone(),
        objects,
        pods_first,
        pods_last,
        settle_seconds: settle,
        ..ClusterFacts::default()
    };
    for t in wanted.admission {
        let outcome = match owned.dry_run_pod(&t.namespace, &t.pod).await {
            Ok(guard::DryRun::Admitted) => AdmissionOutcome::Admitted {
                warnings: Vec::new(),
            },
            Ok(guard::DryRun::Rejected(message)) => AdmissionOutcome::Rejected { message },
            Err(e) => AdmissionOutcome::Error {
                message: e.to_string(),
            },
        };
        facts.admission.push(AdmissionTrial {
            namespace: t.namespace,
            level: t.level,
            outcome,
        });
    }
    facts.policies = policy_trials(owned, wanted.policies).await;
    for p in wanted.probes {
        let cmd = probe_command(&p.to_ip, p.port);
        let (connected, detail) = match exec
            .exec(
                &p.from_ns,
                &p.from_pod,
                &p.container,
                &cmd,
                Duration::from_secs(10),
            )
            .await
        {
            Ok(out) if out.exit == Some(0) => (true, "connected".to_string()),
            Ok(out) => (
                false,
                format!(
                    "no connection within 1s (exit {}){}",
                    out.exit.map_or_else(|| "unknown".into(), |e| e.to_string()),
                    if out.stderr.trim().is_empty() {
                        String::new()
                    } else {
                        format!(": {}", out.stderr.trim())
                    }
                ),
            ),
            Err(e) => (false, format!("the probe could not run: {e}")),
        };
        facts.probes.push(ProbeResult {
            spec: p,
            connected,
            detail,
        });
    }
    for r in wanted.reviews {
        let (allowed, reason) = owned.access_review(&review_spec(&r)).await?;
        facts.reviews.push(AccessReviewResult {
            spec: r,
            allowed,
            reason,
        });
    }
    if !wanted.audit_events.is_empty() {
        use crate::shell::kind::audit;
        let engine = crate::shell::docker::Engine::connect().await.map_err(|e| {
            anyhow::anyhow!("reading the audit log from the kind node needs the Docker engine: {e}")
        })?;
        let cp = audit::control_plane(&engine).await?;
        let log = audit::read_log(&engine, &cp).await?;
        let wanted: Vec<&_> = wanted.audit_events.iter().collect();
        facts.audit_events = seclab_checkers::audit::trail::keep(&log, &wanted);
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objs(yaml: &str) -> Vec<KubeObject> {
        let mut files = LabFiles::new();
        files.insert("x.yaml".into(), yaml.as_bytes().to_vec());
        Snapshot::from_manifest_files(&files).objects
    }

    #[test]
    fn insecure_settings_name_the_workload_and_what_is_open() {
        let o = objs(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: scissors, namespace: scissors}\nspec:\n  template:\n    spec:\n      hostPID: true\n      containers: [{name: web, image: nginx, securityContext: {privileged: true}}]\n      volumes: [{name: host, hostPath: {path: /}}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: calm}\nspec: {containers: [{name: c, image: busybox}]}\n",
        );
        let s = insecure_settings(&o);
        assert_eq!(s, ["Deployment scissors: hostPID, privileged, hostPath /"]);
        assert!(
            insecure_warning(&s)
                .unwrap()
                .contains("root on this machine")
        );
        assert!(insecure_warning(&[]).is_none());
    }

    #[test]
    fn images_are_mapped_in_every_pod_spec() {
        let mut o = objs(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  initContainers: [{name: i, image: 'busybox:1.36.1'}]\n  containers: [{name: c, image: 'busybox:1.36.1'}, {name: d, image: nginx}]\n",
        );
        let map = ImageMap::parse("busybox:1.36.1=seclab-local/busybox:1.36").unwrap();
        map_images(&mut o[0].value, &map);
        assert_eq!(
            o[0].value.pointer("/spec/initContainers/0/image").unwrap(),
            "seclab-local/busybox:1.36"
        );
        assert_eq!(
            o[0].value.pointer("/spec/containers/0/image").unwrap(),
            "seclab-local/busybox:1.36"
        );
        assert_eq!(
            o[0].value.pointer("/spec/containers/1/image").unwrap(),
            "nginx"
        );
    }

    #[test]
    fn no_stored_id_means_no_cluster_and_no_request() {
        let t = Target {
            context: "kind-seclab".into(),
            kubeconfig: None,
        };
        let mut known = Known::default();
        assert!(no_cluster_reason(&t, &known).unwrap().contains("seclab up"));
        let other = Target {
            context: "prod".into(),
            kubeconfig: None,
        };
        assert!(
            no_cluster_reason(&other, &known)
                .unwrap()
                .contains("context prod")
        );
        known.clusters.insert("kind-seclab".into(), "abc".into());
        assert!(no_cluster_reason(&t, &known).is_none());
        assert!(no_cluster_reason(&other, &known).is_some());
    }

    #[test]
    fn built_in_labs_with_manifests_are_cluster_labs() {
        let catalog = crate::lab::Catalog::load(None).unwrap();
        let cluster: Vec<&str> = catalog
            .labs
            .iter()
            .filter(|l| is_cluster_lab(l))
            .map(|l| l.spec.id.as_str())
            .collect();
        assert_eq!(
            cluster,
            [
                "pss-scissors",
                "sa-token",
                "netpol-three-pods",
                "audit-logs",
                "policy-as-code"
            ]
        );
        let sa = catalog.get("sa-token").unwrap();
        let objects = lab_objects(sa, &Student::test(), &ImageMap::default()).unwrap();
        let ns = lab_namespaces(&objects);
        assert_eq!(
            ns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["sa-token"]
        );
        // The flag is rendered per student into the Secret.
        let secret = objects.iter().find(|o| o.kind() == "Secret").unwrap();
        let pw = secret
            .value
            .pointer("/stringData/password")
            .unwrap()
            .as_str()
            .unwrap();
        assert_eq!(pw, Student::test().flag("db-credentials"));
    }
}
