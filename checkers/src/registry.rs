//! The check registry: every checker a lab can name in `checks:`, the
//! evidence each one needs, and the one function that grades a check
//! against the evidence at hand.
//!
//! `CheckSpec` is an externally tagged enum (`- manifest: {...}`), so a
//! misspelt checker name is a parse error that lists the valid names.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::container::LiveFacts;
use crate::flag::FlagCheck;
use crate::manifest::{ManifestCheck, Source};
use crate::netpol::check::NetpolCheck;
use crate::pss::check::{PssCheck, PssNamespaceCheck};
use crate::quiz::QuizCheck;
use crate::runs::{Images, RunsCheck};
use crate::{Finding, KubeObject, Verdict};

/// One check of a task, as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckSpec {
    /// A structured assertion about one field of one object.
    Manifest(ManifestCheck),
    /// A single- or multiple-choice question, or a short answer.
    Quiz(QuizCheck),
    /// A per-student flag found in the live lab and submitted as an answer.
    Flag(FlagCheck),
    /// An RBAC question over the workspace's Role/Binding objects: may a
    /// subject do something, expected allowed or denied.
    Rbac(crate::rbac::RbacCheck),
    /// Whether a workload's pod gets a service-account token mounted.
    ServiceAccountToken(crate::rbac::TokenCheck),
    /// A workload passes a Pod Security Standards level at a version.
    Pss(PssCheck),
    /// A namespace enforces, warns and audits a Pod Security level through
    /// its `pod-security.kubernetes.io/*` labels.
    PssNamespace(PssNamespaceCheck),
    /// A workload's pod would start and run, given the lab's `images:` facts.
    Runs(RunsCheck),
    /// The connections the workspace's NetworkPolicies allow, compared
    /// with an expected connection list (optionally within a scope).
    Netpol(NetpolCheck),
    /// A workload's app reads a Secret's key from a file mounted from that
    /// Secret, and no container gets the Secret from its environment.
    SecretFile(crate::secret_file::SecretFileCheck),
    /// How a Compose service's container runs (user, capabilities,
    /// privileged, read-only root, mounts, namespaces, memory): graded
    /// from the Compose file offline, and from the live container too.
    Container(crate::container::grade::ContainerCheck),
    /// A command exec'd in a service's live container, with the exit code
    /// and output expected (needs a Docker engine).
    Probe(crate::container::grade::ProbeCheck),
    /// A service's container changes no path outside those allowed
    /// (`docker diff`; needs a Docker engine).
    Drift(crate::container::grade::DriftCheck),
    /// An image seclab built from the workspace: non-root, no secret in
    /// any layer, smaller than the original, no shell, no package manager
    /// (needs a Docker engine).
    Image(crate::image::grade::ImageCheck),
    /// The student's saved trivy JSON report is of the image seclab built
    /// (schema version 2, `Metadata.ImageID` equal to the engine's image
    /// ID) and has OS and language results.
    TrivyReport(crate::trivy::check::TrivyReportCheck),
    /// A question about the student's trivy report whose right answer is
    /// computed from that report (critical_count, package_of_cve,
    /// fixed_high_critical, layer_most_findings).
    ReportQuestion(crate::trivy::check::ReportQuestionCheck),
    /// The workspace's Dockerfile: no rule the lab denies fires, and the
    /// final image has the properties the lab requires (non-root,
    /// multi-stage, minimal and pinned base, no secret in a layer, ...).
    Dockerfile(crate::dockerfile::check::DockerfileCheck),
    /// An image seclab built ships nothing a scanner cannot see: the
    /// inventory of its layers has no blind spot (Docker).
    Inventory(crate::image::packages::check::InventoryCheck),
    /// Images pinned by digest, not by a moving tag: a workload, a Compose
    /// service or a Dockerfile's FROM lines (workspace).
    ImagesPinned(crate::supply::ImagesPinnedCheck),
    /// A request of the student's own found in the live cluster's audit
    /// log, answered with its auditID, source IP or time.
    AuditEvent(crate::audit::trail::AuditEventCheck),
    /// The workspace's admission policies (ValidatingAdmissionPolicy +
    /// binding, or Kyverno) against a battery of admission requests, each
    /// to be admitted or rejected.
    AdmissionPolicy(crate::admission::check::AdmissionPolicyCheck),
    /// The workspace's audit policy: requests logged at exactly or at least
    /// a level, stages omitted, over a whole space of requests.
    AuditPolicy(crate::audit::grade::AuditPolicyCheck),
    /// An `EncryptionConfiguration` kube-apiserver would load, writing the
    /// lab's resources encrypted by the providers allowed.
    EncryptionConfig(crate::secrets_at_rest::EncryptionConfigCheck),
    /// A question about the student's own generated audit log (who, from
    /// where, which Secret, which pod, when, which host path).
    AuditQuestion(crate::audit::forensics::AuditQuestionCheck),
}

/// Evidence a checker needs to be graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// Files in the student's workspace.
    Workspace,
    /// The student's answers (`answers.yaml`).
    Answers,
    /// A running Docker engine.
    Docker,
    /// The lab's running cluster.
    Cluster,
}

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Need::Workspace => "workspace",
            Need::Answers => "answers",
            Need::Docker => "docker",
            Need::Cluster => "cluster",
        })
    }
}

/// Everything a grader may look at, gathered by the shell beforehand.
/// `Default` is no evidence at all, so callers can name only what they have
/// (`Evidence { workspace, ..Evidence::default() }`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence<'a> {
    /// The objects parsed from the workspace files.
    pub workspace: &'a [KubeObject],
    /// The student's answers for this task (a map from question id to the
    /// answer), if any.
    pub answers: Option<&'a Value>,
    /// The live objects of the lab's cluster, when a cluster is at hand.
    pub cluster: Option<&'a [KubeObject]>,
    /// The lab's image facts (lab.yaml `images:`), when it has any.
    pub images: Option<&'a Images>,
    /// The workspace's Compose files (each parsed YAML document as an
    /// object, its `source` the file name); empty when there are none.
    pub compose: &'a [KubeObject],
    /// What the Docker engine ran (and built) for this workspace, when it
    /// did.
    pub live: Option<&'a LiveFacts>,
    /// Every UTF-8 text file of the workspace but the answers file (a
    /// Dockerfile, a saved scanner report), by workspace-relative path.
    pub texts: &'a [crate::TextFile],
    /// Who the lab's own flags are derived for (`flag: {seed: ...}`).
    pub seed: Option<crate::flag::Seed<'a>>,
    /// The student's seed, for questions that pick something per student
    /// (`report_question: package_of_cve`); empty when no student is known.
    pub question_seed: &'a str,
    /// What the shell gathered from the lab's live Kubernetes cluster
    /// (live objects, settle observations, admission trials, connection
    /// probes, SubjectAccessReviews); `None` offline. With it, the
    /// `pss_namespace`, `netpol` and `rbac` graders add the cluster's own
    /// answers to their static verdicts, and `flag`/`manifest` checks on
    /// the cluster read its objects.
    pub kube: Option<&'a crate::cluster::ClusterFacts>,
}

impl<'a> Evidence<'a> {
    /// The live cluster objects: [`Evidence::cluster`], or else the objects
    /// of [`Evidence::kube`].
    pub fn cluster_objects(&self) -> Option<&'a [KubeObject]> {
        self.cluster.or(self.kube.map(|k| k.objects.as_slice()))
    }
}

impl CheckSpec {
    /// The checker's name as written in lab.yaml.
    pub fn name(&self) -> &'static str {
        match self {
            CheckSpec::Manifest(_) => "manifest",
            CheckSpec::Quiz(_) => "quiz",
            CheckSpec::Flag(_) => "flag",
            CheckSpec::Rbac(_) => "rbac",
            CheckSpec::ServiceAccountToken(_) => "service_account_token",
            CheckSpec::Pss(_) => "pss",
            CheckSpec::PssNamespace(_) => "pss_namespace",
            CheckSpec::Runs(_) => "runs",
            CheckSpec::Netpol(_) => "netpol",
            CheckSpec::SecretFile(_) => "secret_file",
            CheckSpec::Container(_) => "container",
            CheckSpec::Probe(_) => "probe",
            CheckSpec::Drift(_) => "drift",
            CheckSpec::Image(_) => "image",
            CheckSpec::TrivyReport(_) => "trivy_report",
            CheckSpec::ReportQuestion(_) => "report_question",
            CheckSpec::Dockerfile(_) => "dockerfile",
            CheckSpec::Inventory(_) => "inventory",
            CheckSpec::ImagesPinned(_) => "images_pinned",
            CheckSpec::AuditEvent(_) => "audit_event",
            CheckSpec::AdmissionPolicy(_) => "admission_policy",
            CheckSpec::AuditPolicy(_) => "audit_policy",
            CheckSpec::EncryptionConfig(_) => "encryption_config",
            CheckSpec::AuditQuestion(_) => "audit_question",
        }
    }

    /// The evidence this check needs.
    pub fn needs(&self) -> Vec<Need> {
        match self {
            CheckSpec::Manifest(m) => match m.source {
                Source::Workspace => vec![Need::Workspace],
                Source::Cluster => vec![Need::Cluster],
            },
            CheckSpec::Quiz(_) | CheckSpec::AuditQuestion(_) => vec![Need::Answers],
            CheckSpec::Flag(f) if f.seed.is_some() => vec![Need::Answers],
            CheckSpec::Flag(_) | CheckSpec::AuditEvent(_) => vec![Need::Answers, Need::Cluster],
            CheckSpec::Rbac(_)
            | CheckSpec::ServiceAccountToken(_)
            | CheckSpec::Pss(_)
            | CheckSpec::PssNamespace(_)
            | CheckSpec::Runs(_)
            | CheckSpec::Netpol(_)
            | CheckSpec::SecretFile(_)
            | CheckSpec::Container(_)
            | CheckSpec::Dockerfile(_)
            | CheckSpec::ImagesPinned(_)
            | CheckSpec::AdmissionPolicy(_)
            | CheckSpec::AuditPolicy(_)
            | CheckSpec::EncryptionConfig(_) => vec![Need::Workspace],
            CheckSpec::Probe(_)
            | CheckSpec::Drift(_)
            | CheckSpec::Image(_)
            | CheckSpec::Inventory(_) => vec![Need::Docker],
            CheckSpec::TrivyReport(_) => vec![Need::Workspace, Need::Docker],
            CheckSpec::ReportQuestion(_) => vec![Need::Workspace, Need::Answers],
        }
    }

    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        match self {
            CheckSpec::Manifest(m) => {
                // The whole assertion, value included: `... equals true`.
                let value = m
                    .value
                    .as_ref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default();
                format!(
                    "{}: {} {}{value}",
                    m.target,
                    m.path,
                    format!("{:?}", m.op).to_lowercase()
                )
            }
            CheckSpec::Quiz(q) => format!("question `{}`", q.id),
            CheckSpec::Flag(f) => format!("flag `{}`", f.id),
            CheckSpec::Rbac(r) => r.describe(),
            CheckSpec::ServiceAccountToken(t) => format!(
                "{}: service-account token {}",
                t.target,
                if t.mounted { "mounted" } else { "not mounted" }
            ),
            CheckSpec::Pss(p) => format!("{} passes pss {}:{}", p.target, p.level, p.version),
            CheckSpec::PssNamespace(n) => {
                let modes: Vec<&str> = n.modes.iter().map(|m| m.as_str()).collect();
                format!(
                    "{} labels pss {} {}{}",
                    n.target,
                    modes.join("/"),
                    n.level,
                    n.min_version
                        .map_or(String::new(), |v| format!(" (version latest or >= {v})"))
                )
            }
            CheckSpec::Runs(r) => format!(
                "{} would start and run{}",
                r.target,
                if r.read_only_root {
                    ", every container with a read-only root filesystem"
                } else {
                    ""
                }
            ),
            CheckSpec::Netpol(n) => n.describe(),
            CheckSpec::SecretFile(f) => format!(
                "{}: {} is Secret {} key {}, and no container has the Secret in its environment",
                f.target, f.path, f.secret, f.key
            ),
            CheckSpec::Container(c) => c.describe(),
            CheckSpec::Probe(p) => p.describe(),
            CheckSpec::Drift(d) => d.describe(),
            CheckSpec::Image(i) => i.describe(),
            CheckSpec::TrivyReport(t) => t.describe(),
            CheckSpec::ReportQuestion(q) => q.describe(),
            CheckSpec::Dockerfile(d) => d.describe(),
            CheckSpec::Inventory(i) => i.describe(),
            CheckSpec::ImagesPinned(p) => p.describe(),
            CheckSpec::AuditEvent(a) => a.describe(),
            CheckSpec::AdmissionPolicy(a) => a.describe(),
            CheckSpec::AuditPolicy(a) => a.describe(),
            CheckSpec::EncryptionConfig(e) => e.describe(),
            CheckSpec::AuditQuestion(q) => q.describe(),
        }
    }

    /// Grades the check; skipped with the reason when the evidence it needs
    /// is not at hand.
    pub fn grade(&self, ev: &Evidence<'_>) -> Verdict {
        let answer = |id: &str| ev.answers.and_then(|a| a.get(id)).filter(|v| !v.is_null());
        match self {
            CheckSpec::Manifest(m) => match m.source {
                Source::Workspace => crate::manifest::grade(m, ev.workspace),
                Source::Cluster => match ev.cluster_objects() {
                    Some(objs) => crate::manifest::grade(m, objs),
                    None => Verdict::skipped(NO_CLUSTER),
                },
            },
            CheckSpec::Quiz(q) => crate::quiz::grade(q, answer(&q.id)),
            CheckSpec::Rbac(r) => {
                let v = crate::rbac::grade(r, ev.workspace);
                match ev.kube {
                    Some(k) => with_live(v, crate::cluster::reviews::findings(r, ev.workspace, k)),
                    None => v,
                }
            }
            CheckSpec::ServiceAccountToken(t) => crate::rbac::token::grade(t, ev.workspace),
            CheckSpec::Netpol(n) => {
                let v = crate::netpol::check::grade(n, ev.workspace);
                let Some(k) = ev.kube else { return v };
                let (findings, live) = crate::cluster::probes::findings(n, ev.workspace, k);
                let mut v = with_live(v, findings);
                if !live.is_null() {
                    match &mut v.detail {
                        Some(serde_json::Value::Object(d)) => {
                            d.insert("live".to_owned(), live);
                        }
                        _ => v.detail = Some(serde_json::json!({ "live": live })),
                    }
                }
                v
            }
            CheckSpec::Flag(f) if f.secret.is_none() => {
                match ev.seed.and_then(|who| who.truth(f)) {
                    Some(truth) => {
                        crate::flag::grade(f, &truth, answer(&f.id).and_then(Value::as_str))
                    }
                    None => Verdict::skipped("needs the student's seed to know the flag"),
                }
            }
            CheckSpec::Flag(f) => {
                let Some(objs) = ev.cluster_objects() else {
                    return Verdict::skipped(NO_CLUSTER);
                };
                match secret_value(objs, f) {
                    Some(truth) => {
                        crate::flag::grade(f, &truth, answer(&f.id).and_then(Value::as_str))
                    }
                    None => Verdict::fail(format!("{} is not in the cluster", f.source())),
                }
            }
            CheckSpec::Pss(p) => crate::pss::check::grade_pss(p, ev.workspace),
            CheckSpec::PssNamespace(n) => {
                let v = crate::pss::check::grade_namespace(n, ev.workspace);
                match ev.kube {
                    Some(k) => with_live(v, crate::cluster::admission::findings(n, &k.admission)),
                    None => v,
                }
            }
            CheckSpec::Runs(r) => crate::runs::grade(r, ev.workspace, ev.images),
            CheckSpec::SecretFile(f) => crate::secret_file::grade(f, ev.workspace),
            CheckSpec::Container(c) => {
                crate::container::grade::grade_container(c, ev.compose, ev.images, ev.live)
            }
            CheckSpec::Probe(p) => crate::container::grade::grade_probe(p, ev.compose, ev.live),
            CheckSpec::Drift(d) => crate::container::grade::grade_drift(d, ev.compose, ev.live),
            CheckSpec::Image(i) => crate::image::grade::grade_image(i, ev.live.map(|l| &l.images)),
            CheckSpec::TrivyReport(t) => crate::trivy::check::grade_report(t, ev.texts, ev.live),
            CheckSpec::ReportQuestion(q) => {
                crate::trivy::check::grade_question(q, ev.texts, ev.question_seed, answer(&q.id))
            }
            CheckSpec::Dockerfile(d) => crate::dockerfile::check::grade(d, ev.texts),
            CheckSpec::Inventory(i) => {
                crate::image::packages::check::grade(i, ev.live.map(|l| &l.images))
            }
            CheckSpec::ImagesPinned(p) => {
                crate::supply::grade(p, ev.workspace, ev.compose, ev.texts, ev.live)
            }
            CheckSpec::AuditEvent(a) => crate::audit::trail::grade(
                a,
                ev.kube.map(|k| k.audit_events.as_slice()),
                answer(&a.id).and_then(Value::as_str),
            ),
            CheckSpec::AdmissionPolicy(a) => {
                let v = crate::admission::check::grade(a, ev.workspace);
                match ev.kube {
                    // Rules only the cluster can decide: the live trials
                    // alone grade them.
                    Some(k) if crate::admission::check::live_only(&v) => {
                        let live = crate::cluster::policies::findings(a, None, &k.policies);
                        let mut out = Verdict::from_findings(live);
                        let undecided = crate::cluster::policies::undecided(a, &k.policies);
                        // A pass needs every request decided by the
                        // cluster: nothing else can vouch for these rules.
                        if out.passed() && !undecided.is_empty() {
                            out = Verdict::skipped(format!(
                                "{}; the cluster did not decide {} of the {} requests ({}), so they cannot be graded",
                                v.reason.as_deref().unwrap_or_default(),
                                undecided.len(),
                                a.requests.len(),
                                undecided.join("; ")
                            ));
                        }
                        out.detail = v.detail;
                        out
                    }
                    Some(k) => {
                        let live =
                            crate::cluster::policies::findings(a, v.detail.as_ref(), &k.policies);
                        with_live(v, live)
                    }
                    None => v,
                }
            }
            CheckSpec::AuditPolicy(a) => crate::audit::grade::grade(a, ev.workspace),
            CheckSpec::EncryptionConfig(e) => crate::secrets_at_rest::grade(e, ev.workspace),
            CheckSpec::AuditQuestion(q) => match ev.seed {
                Some(who) => {
                    let seed =
                        crate::audit::forensics::student_seed(who.seed, who.student, &q.incident);
                    let story = crate::audit::forensics::story(&seed);
                    crate::audit::forensics::grade(q, &story, answer(&q.id).and_then(Value::as_str))
                }
                None => Verdict::skipped("needs the student's seed to know their audit log"),
            },
        }
    }
}

/// What a check reads of the student's files: the answers, some workspace
/// objects, and whether an object it needs may be missing from them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reads<'a> {
    /// It reads `answers.yaml`.
    pub answers: bool,
    /// The workspace objects it reads (their fields must be what
    /// `kubectl apply` accepts; see [`crate::fields::grade`]).
    pub objects: Vec<&'a KubeObject>,
    /// Its outcome depends on objects that are not all at hand by name:
    /// it reads every object of some kinds (netpol, rbac), or an object it
    /// looks up by name is not among the workspace objects. When a
    /// workspace file does not parse, such a check cannot be graded: the
    /// objects it needs may be in that file.
    pub every_file: bool,
}

/// The kinds an `rbac:` check reads.
const RBAC_KINDS: &[&str] = &[
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ServiceAccount",
];

impl CheckSpec {
    /// What this check reads, given the workspace objects (those of the
    /// files that parsed). The rule, per checker:
    /// - `quiz`, `flag`: `answers.yaml` only (a flag also the cluster).
    /// - `report_question`: `answers.yaml`, and its report (a text file it
    ///   parses itself, reporting its own errors: no manifest objects).
    /// - `trivy_report`: its report only (likewise).
    /// - `manifest` from the workspace, `pss`, `runs`, `secret_file`: the
    ///   objects that are the target; none found means `every_file` (the
    ///   target may be in a file that did not parse). `pss_namespace`: the first such object.
    /// - `service_account_token`: the target, and the ServiceAccount each
    ///   target's pod runs as; a target or an account not found means
    ///   `every_file`.
    /// - `netpol`, `rbac`: every object of the kinds they read, and always
    ///   `every_file`.
    /// - `manifest` from the cluster: nothing of the student's files.
    /// - `container`: its Compose file, found among the objects given by
    ///   source (see [`crate::container::grade::find_compose`]); not found
    ///   means `every_file`. `probe`, `drift`: nothing of the student's
    ///   files (the engine ran them). `dockerfile`: no object (it reads
    ///   its Dockerfile from the evidence's text files).
    pub fn reads<'a>(&self, workspace: &'a [KubeObject]) -> Reads<'a> {
        let targets = |found: Vec<&'a KubeObject>| Reads {
            every_file: found.is_empty(),
            objects: found,
            answers: false,
        };
        let every = |reads_kind: &dyn Fn(&str) -> bool| Reads {
            objects: workspace.iter().filter(|o| reads_kind(o.kind())).collect(),
            every_file: true,
            answers: false,
        };
        match self {
            CheckSpec::Manifest(m) => match m.source {
                Source::Workspace => targets(m.target.find_in(m.namespace.as_deref(), workspace)),
                Source::Cluster => Reads::default(),
            },
            CheckSpec::Quiz(_)
            | CheckSpec::Flag(_)
            | CheckSpec::ReportQuestion(_)
            | CheckSpec::AuditEvent(_)
            | CheckSpec::AuditQuestion(_) => Reads {
                answers: true,
                ..Reads::default()
            },
            CheckSpec::AuditPolicy(a) => targets(crate::audit::grade::targets(a, workspace)),
            CheckSpec::EncryptionConfig(e) => {
                targets(crate::secrets_at_rest::targets(e, workspace))
            }
            CheckSpec::Pss(p) => targets(p.target.find_in(p.namespace.as_deref(), workspace)),
            CheckSpec::PssNamespace(n) => targets(
                n.target
                    .find_in(None, workspace)
                    .into_iter()
                    .take(1)
                    .collect(),
            ),
            CheckSpec::Runs(r) => targets(r.target.find_in(r.namespace.as_deref(), workspace)),
            CheckSpec::SecretFile(f) => {
                targets(f.target.find_in(f.namespace.as_deref(), workspace))
            }
            CheckSpec::ServiceAccountToken(t) => {
                let mut reads = targets(t.target.find_in(t.namespace.as_deref(), workspace));
                for obj in reads.objects.clone() {
                    // A pod template with a non-boolean automount fails the
                    // check on that field, whatever the account says.
                    let Some(Ok(mount)) = crate::rbac::token::token_mount(obj, workspace) else {
                        continue;
                    };
                    let (ns, name) = &mount.account;
                    let sa = workspace.iter().find(|o| {
                        o.kind() == "ServiceAccount"
                            && o.name() == name
                            && o.namespace().unwrap_or("default") == ns
                    });
                    match sa {
                        Some(sa) if !reads.objects.iter().any(|o| std::ptr::eq(*o, sa)) => {
                            reads.objects.push(sa);
                        }
                        Some(_) => {}
                        None => reads.every_file = true,
                    }
                }
                reads
            }
            CheckSpec::Netpol(_) => every(&crate::netpol::reads_kind),
            CheckSpec::AdmissionPolicy(a) => every(&|k| a.reads_kind(k)),
            CheckSpec::Rbac(_) => every(&|k| RBAC_KINDS.contains(&k)),
            CheckSpec::Container(c) => {
                let suffix = format!("/{}", c.file);
                targets(
                    workspace
                        .iter()
                        .filter(|o| {
                            o.source
                                .as_deref()
                                .is_some_and(|s| s == c.file || s.ends_with(&suffix))
                        })
                        .collect(),
                )
            }
            CheckSpec::Probe(_)
            | CheckSpec::Drift(_)
            | CheckSpec::Image(_)
            | CheckSpec::Inventory(_)
            | CheckSpec::ImagesPinned(_)
            | CheckSpec::TrivyReport(_)
            | CheckSpec::Dockerfile(_) => Reads::default(),
        }
    }
}

/// A static verdict with the live findings added: it fails when any
/// finding (static or live) is an error; its detail is kept.
fn with_live(v: Verdict, live: Vec<Finding>) -> Verdict {
    if v.status == crate::Status::Skipped {
        return v;
    }
    let mut findings = v.findings;
    findings.extend(live);
    let detail = v.detail;
    let mut out = Verdict::from_findings(findings);
    out.detail = detail;
    out
}

/// The reason cluster checks give when graded offline.
pub const NO_CLUSTER: &str = "needs the lab's running cluster; offline it cannot be graded";

/// The value of a Secret key (from `stringData`, or `data` decoded; a live
/// Secret has only `data`).
fn secret_value(objs: &[KubeObject], f: &FlagCheck) -> Option<String> {
    use base64::Engine as _;
    let key = f.secret.as_ref()?;
    let secret = objs.iter().find(|o| {
        o.kind() == "Secret"
            && o.name() == key.name
            && o.namespace() == Some(key.namespace.as_str())
    })?;
    if let Some(s) = secret
        .value
        .pointer(&format!("/stringData/{}", key.key))
        .and_then(Value::as_str)
    {
        return Some(s.to_string());
    }
    let encoded = secret
        .value
        .pointer(&format!("/data/{}", key.key))?
        .as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_manifest_description_states_the_whole_assertion() {
        let spec: CheckSpec = serde_json::from_value(json!({"manifest": {
            "target": "deployment/web",
            "path": "spec.template.spec.containers[*].securityContext.readOnlyRootFilesystem",
            "op": "equals", "value": true}}))
        .expect("valid");
        assert_eq!(
            spec.describe(),
            "Deployment/web: spec.template.spec.containers[*].securityContext.readOnlyRootFilesystem equals true"
        );
        let spec: CheckSpec = serde_json::from_value(json!({"manifest": {
            "target": "deployment/web", "path": "spec.replicas", "op": "exists"}}))
        .expect("valid");
        assert_eq!(spec.describe(), "Deployment/web: spec.replicas exists");
    }

    #[test]
    fn misspelt_checker_lists_valid_names() {
        let err = serde_json::from_value::<CheckSpec>(json!({"manifset": {}})).expect_err("typo");
        let msg = err.to_string();
        assert!(msg.contains("manifest") && msg.contains("quiz"), "{msg}");
    }

    #[test]
    fn cluster_checks_skip_offline_with_the_reason() {
        let spec: CheckSpec = serde_json::from_value(json!({"flag": {
            "id": "password", "question": "?",
            "secret": {"namespace": "n", "name": "db", "key": "password"}}}))
        .expect("valid");
        let v = spec.grade(&Evidence::default());
        assert_eq!(v.status, crate::Status::Skipped);
        assert_eq!(v.reason.as_deref(), Some(NO_CLUSTER));
        let secret = KubeObject::new(json!({"kind": "Secret",
            "metadata": {"name": "db", "namespace": "n"}, "data": {"password": "czNjcjN0"}}));
        let answers = json!({"password": "s3cr3t"});
        let live = [secret];
        let ev = Evidence {
            answers: Some(&answers),
            cluster: Some(&live),
            ..Evidence::default()
        };
        assert!(spec.grade(&ev).passed());
        // The same Secret read from the live cluster's facts (`data` only,
        // as the API returns it): right and wrong answers.
        let facts = crate::cluster::ClusterFacts {
            objects: live.to_vec(),
            ..crate::cluster::ClusterFacts::default()
        };
        let ev = Evidence {
            answers: Some(&answers),
            kube: Some(&facts),
            ..Evidence::default()
        };
        assert!(spec.grade(&ev).passed());
        let wrong = json!({"password": "s3cr3"});
        let ev = Evidence {
            answers: Some(&wrong),
            ..ev
        };
        assert_eq!(spec.grade(&ev).status, crate::Status::Fail);
        let elsewhere = crate::cluster::ClusterFacts::default();
        let ev = Evidence {
            kube: Some(&elsewhere),
            ..ev
        };
        assert!(
            spec.grade(&ev).findings[0]
                .message
                .contains("is not in the cluster")
        );
    }
}
