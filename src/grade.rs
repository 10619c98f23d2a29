//! Grading a task: the workspace files become a [`Snapshot`] (objects with
//! positions, answers, parse problems), each check of the task is graded by
//! the pure registry in `seclab-checkers`, and findings get their
//! `file:line:col` back from the snapshot.
//!
//! A file that does not parse fails exactly the tasks that read it, and
//! each of those with one finding per such file (its `file:line:col` and
//! the parser's message) and nothing else; every other task is graded as
//! usual. What a check reads is [`CheckSpec::reads`]:
//! - a `quiz` or `flag` check reads `answers.yaml` only, so a broken
//!   answers file fails only tasks with such checks, and a broken manifest
//!   fails no quiz;
//! - a check with a target (`manifest`, `pss`, `pss_namespace`, `runs`,
//!   `service_account_token`) reads its target, found among the objects of
//!   the files that parsed: when it is found (and, for
//!   `service_account_token`, the pod's ServiceAccount too), the check is
//!   graded normally, since kubectl never applies a file that does not
//!   parse and the objects graded are all there is; when something it
//!   looks up is not found and a manifest file is broken, it may be in
//!   that file, so the task fails with the broken file's finding instead of
//!   a misleading "not found";
//! - `netpol` and `rbac` read every object of their kinds, so any broken
//!   manifest file fails them (a connection matrix without that file's
//!   policies would list wrong differences);
//! - a `manifest` check with `source: cluster` reads no file.
//!
//! Checks that do read intact objects are graded through
//! [`seclab_checkers::fields::grade`]: a field `kubectl apply` rejects in an
//! object the check reads (an unknown field, a wrong type) fails the check
//! with an error at that key's `line:col`.

use std::collections::HashMap;

use seclab_checkers::container::LiveFacts;
use seclab_checkers::runs::Images;
use seclab_checkers::{CheckSpec, Evidence, Finding, KubeObject, Status, Verdict};
use serde::Serialize;
use serde_json::Value;

use crate::error::InputError;
use crate::lab::{LabFiles, TaskSpec};
use crate::yaml::{self, Document};

/// The answers file in a workspace (and in `solution/`).
pub const ANSWERS_FILE: &str = "answers.yaml";

/// What a workspace holds, parsed.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every Kubernetes object in the workspace's YAML/JSON files (items of
    /// `List` kinds flattened).
    pub objects: Vec<KubeObject>,
    /// `answers.yaml`: task id → question id → answer.
    pub answers: Value,
    /// Compose files (`compose.yaml` and its other names), one object per
    /// document: not Kubernetes objects, read by the `container` checks.
    pub compose: Vec<KubeObject>,
    /// Every UTF-8 text file but the answers file, for the graders that
    /// read files rather than manifests (Dockerfiles, scanner reports).
    pub texts: Vec<seclab_checkers::TextFile>,
    /// The student's seed, for checks that pick something per student
    /// (set by the caller that knows the student; empty otherwise).
    pub seed: String,
    /// Files that did not parse, located.
    pub problems: Vec<InputError>,
    /// Whether `answers.yaml` is the answers file (a workspace), not a
    /// manifest (files named on a command line).
    workspace: bool,
    docs: HashMap<(String, usize), Document>,
    /// For objects that are items of a list: (source, doc, name) → path prefix.
    prefixes: HashMap<(String, usize, String), String>,
}

/// The names Docker Compose looks for, in its order.
pub const COMPOSE_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// Whether a workspace file is a Compose file (by its name).
pub fn is_compose(path: &str) -> bool {
    COMPOSE_FILES.contains(&path)
}

/// Whether a workspace file is read as manifests.
fn is_manifest(path: &str) -> bool {
    path != ANSWERS_FILE
        && !path.split('/').any(|c| c.starts_with('.'))
        && [".yaml", ".yml", ".json"].iter().any(|e| path.ends_with(e))
}

impl Snapshot {
    /// Parses a workspace's files. Nothing here fails: problems are kept
    /// and reported by the checks that need the workspace.
    pub fn from_files(files: &LabFiles) -> Self {
        Self::build(files, true)
    }

    /// Parses files that are all manifests, whatever their names (files
    /// named on a command line); no answers file.
    pub fn from_manifest_files(files: &LabFiles) -> Self {
        Self::build(files, false)
    }

    fn build(files: &LabFiles, workspace: bool) -> Self {
        let is_manifest = |p: &str| !workspace || is_manifest(p);
        let is_answers = |p: &str| workspace && p == ANSWERS_FILE;
        let mut snap = Snapshot {
            answers: Value::Null,
            workspace,
            ..Snapshot::default()
        };
        for (path, bytes) in files {
            let text = match std::str::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) if is_manifest(path) || is_answers(path) => {
                    snap.problems.push(InputError::new(path, "not UTF-8 text"));
                    continue;
                }
                Err(_) => continue,
            };
            if is_answers(path) {
                match yaml::parse_documents(path, text) {
                    Ok(mut docs) if docs.len() <= 1 => {
                        snap.answers = docs.pop().map_or(Value::Null, |d| d.value);
                    }
                    Ok(_) => snap
                        .problems
                        .push(InputError::new(path, "holds more than one YAML document")),
                    Err(e) => snap.problems.push(e),
                }
                continue;
            }
            if workspace {
                snap.texts.push(seclab_checkers::TextFile {
                    path: path.clone(),
                    text: text.to_string(),
                });
            }
            if !is_manifest(path) {
                continue;
            }
            match yaml::parse_documents(path, text) {
                Ok(docs) => {
                    for (i, doc) in docs.into_iter().enumerate() {
                        snap.add_document(path, i, doc);
                    }
                }
                Err(e) => snap.problems.push(e),
            }
        }
        snap
    }

    fn add_document(&mut self, path: &str, doc: usize, d: Document) {
        let is_list = d
            .value
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && d.value.get("items").is_some_and(Value::is_array);
        if is_list {
            // Items of a typed list (`PodList`, `NetworkPolicyList`) may
            // leave out `kind`: it is the list's kind without `List`.
            let item_kind = d
                .value
                .get("kind")
                .and_then(Value::as_str)
                .and_then(|k| k.strip_suffix("List"))
                .filter(|k| !k.is_empty())
                .map(str::to_owned);
            if let Some(items) = d.value.get("items").and_then(Value::as_array) {
                for (i, item) in items.iter().enumerate() {
                    let mut value = item.clone();
                    if let (Some(k), Some(map)) = (&item_kind, value.as_object_mut()) {
                        map.entry("kind").or_insert_with(|| Value::from(k.as_str()));
                    }
                    let obj = KubeObject {
                        source: Some(path.to_string()),
                        doc,
                        value,
                    };
                    self.prefixes.insert(
                        (path.to_string(), doc, obj.display_name()),
                        format!("items[{i}]."),
                    );
                    self.objects.push(obj);
                }
            }
        } else if self.workspace && is_compose(path) {
            self.compose.push(KubeObject {
                source: Some(path.to_string()),
                doc,
                value: d.value.clone(),
            });
        } else if d.value.is_object() {
            self.objects.push(KubeObject {
                source: Some(path.to_string()),
                doc,
                value: d.value.clone(),
            });
        }
        self.docs.insert((path.to_string(), doc), d);
    }

    /// The problems of the answers file (at most one).
    pub fn answers_problems(&self) -> impl Iterator<Item = &InputError> {
        self.problems
            .iter()
            .filter(|p| self.workspace && p.path == ANSWERS_FILE)
    }

    /// The problems of manifest files: every file that did not parse but
    /// the answers file.
    pub fn manifest_problems(&self) -> impl Iterator<Item = &InputError> {
        self.problems
            .iter()
            .filter(|p| !(self.workspace && p.path == ANSWERS_FILE))
    }

    /// The broken files `spec` depends on (see the module docs): the
    /// answers file's problem when it reads the answers, every manifest
    /// problem when an object it needs may be in a file that did not parse.
    pub fn broken_for(&self, spec: &CheckSpec) -> Vec<&InputError> {
        let reads = spec.reads(&self.objects);
        let mut out: Vec<&InputError> = Vec::new();
        if reads.answers {
            out.extend(self.answers_problems());
        }
        if reads.every_file {
            out.extend(self.manifest_problems());
        }
        out
    }

    /// The answers of one task (question id → answer).
    pub fn task_answers(&self, task: &str) -> Option<&Value> {
        self.answers.get(task)
    }

    /// Where `path` (a field path inside `obj`) sits in the file `obj`
    /// came from; the nearest existing parent when the field is absent.
    pub fn position(&self, obj: &KubeObject, path: &str) -> Option<crate::yaml::Pos> {
        let (d, prefix) = self.doc_of(obj)?;
        d.locate(&format!("{prefix}{path}"))
            .or_else(|| d.locate(prefix.trim_end_matches('.')))
    }

    /// The document `obj` came from, and the path prefix of `obj` inside
    /// it (`items[i].` for an item of a list, else empty).
    fn doc_of(&self, obj: &KubeObject) -> Option<(&Document, &str)> {
        let src = obj.source.as_ref()?;
        let d = self.docs.get(&(src.clone(), obj.doc))?;
        let prefix = self
            .prefixes
            .get(&(src.clone(), obj.doc, obj.display_name()))
            .map_or("", String::as_str);
        Some((d, prefix))
    }

    /// Where the *key* of field `path` inside `obj` sits (for findings about
    /// the field's name, such as an unknown field); like [`Self::position`]
    /// when the field is not a mapping entry.
    pub fn key_position(&self, obj: &KubeObject, path: &str) -> Option<crate::yaml::Pos> {
        let (d, prefix) = self.doc_of(obj)?;
        d.locate_key(&format!("{prefix}{path}"))
            .or_else(|| d.locate(prefix.trim_end_matches('.')))
    }

    /// Fills in `line`/`col` of findings from the positions of their
    /// first path.
    pub fn locate(&self, verdict: &mut Verdict) {
        for f in &mut verdict.findings {
            let (Some(src), Some(doc)) = (&f.source, f.doc) else {
                continue;
            };
            let Some(d) = self.docs.get(&(src.clone(), doc)) else {
                continue;
            };
            let prefix = f
                .object
                .as_ref()
                .and_then(|o| self.prefixes.get(&(src.clone(), doc, o.clone())))
                .map_or("", String::as_str);
            // A finding about a field's name (an unknown field; warnings
            // are such too) points at the key; others at the value.
            let at_key = f.at_key || f.severity == seclab_checkers::Severity::Warning;
            let pos = f
                .paths
                .first()
                .and_then(|p| {
                    let full = format!("{prefix}{p}");
                    if at_key {
                        d.locate_key(&full)
                    } else {
                        d.locate(&full)
                    }
                })
                .or_else(|| d.locate(prefix.trim_end_matches('.')))
                .or_else(|| d.locate("kind"));
            if let Some(pos) = pos {
                f.line = Some(pos.line);
                f.col = Some(pos.col);
            }
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The checker (`manifest`, `quiz`, ...).
    pub checker: String,
    /// What it checks, in one line.
    pub description: String,
    /// Its verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// One task's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct TaskResult {
    /// The task id.
    pub task: String,
    /// Fail if any check failed; else skipped if any was skipped; else pass.
    pub status: Status,
    /// Every check, in lab order.
    pub checks: Vec<CheckResult>,
}

impl TaskResult {
    /// The reasons of skipped checks, de-duplicated.
    pub fn skip_reasons(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.checks {
            if let Some(r) = &c.verdict.reason
                && !out.contains(r)
            {
                out.push(r.clone());
            }
        }
        out
    }
}

/// Combines check statuses: any fail fails; else any skip skips.
pub fn combine(statuses: impl IntoIterator<Item = Status>) -> Status {
    let mut out = Status::Pass;
    for s in statuses {
        match s {
            Status::Fail => return Status::Fail,
            Status::Skipped => out = Status::Skipped,
            Status::Pass => {}
        }
    }
    out
}

/// Grades one task against a snapshot (and the cluster's objects, when a
/// cluster is at hand), without image facts.
pub fn grade_task(task: &TaskSpec, snap: &Snapshot, cluster: Option<&[KubeObject]>) -> TaskResult {
    grade_task_with_images(task, snap, cluster, None)
}

/// [`grade_task`] with the lab's image facts (lab.yaml `images:`), which
/// the `runs:` checker needs.
pub fn grade_task_with_images(
    task: &TaskSpec,
    snap: &Snapshot,
    cluster: Option<&[KubeObject]>,
    images: Option<&Images>,
) -> TaskResult {
    grade_task_live(task, snap, images, cluster, None, None, None)
}

/// [`grade_task_with_images`] with what the Docker shell found live for the
/// workspace (containers' inspect output, probe results, changes), which
/// the `probe` and `drift` checkers need and the `container` checker
/// grades besides the Compose file. `seed`: who the lab's own flags are
/// derived for (`flag: {seed: ...}` checks).
pub fn grade_task_live(
    task: &TaskSpec,
    snap: &Snapshot,
    images: Option<&Images>,
    cluster: Option<&[KubeObject]>,
    docker: Option<&LiveFacts>,
    seed: Option<seclab_checkers::flag::Seed<'_>>,
    kube: Option<&seclab_checkers::cluster::ClusterFacts>,
) -> TaskResult {
    let ev = Evidence {
        seed,
        workspace: &snap.objects,
        answers: snap.task_answers(&task.id),
        cluster,
        images,
        compose: &snap.compose,
        live: docker,
        texts: &snap.texts,
        question_seed: &snap.seed,
        kube,
    };
    // A task that reads a broken file is that file's error, nothing else.
    let mut broken: Vec<&InputError> = Vec::new();
    for spec in &task.checks {
        for p in snap.broken_for(spec) {
            if !broken.iter().any(|b| std::ptr::eq(*b, p)) {
                broken.push(p);
            }
        }
    }
    if !broken.is_empty() {
        let findings = broken.iter().map(|p| broken_file(p)).collect();
        return TaskResult {
            task: task.id.clone(),
            status: Status::Fail,
            checks: vec![CheckResult {
                checker: "files".into(),
                description: "the files this task reads parse".into(),
                verdict: Verdict::from_findings(findings),
            }],
        };
    }
    let mut checks = Vec::new();
    // A warning about the files (a binding's unset subject namespace, a
    // redefined built-in role) is told once per task, by the first check
    // that reads it, not by every check of the task.
    let mut warned: Vec<WarningKey> = Vec::new();
    for spec in &task.checks {
        let mut verdict = seclab_checkers::fields::grade(spec, &ev);
        snap.locate(&mut verdict);
        verdict.findings.retain(|f| {
            if f.severity != seclab_checkers::Severity::Warning {
                return true;
            }
            let key = (f.message.clone(), f.source.clone(), f.line, f.col);
            if warned.contains(&key) {
                return false;
            }
            warned.push(key);
            true
        });
        checks.push(CheckResult {
            checker: spec.name().to_string(),
            description: spec.describe(),
            verdict,
        });
    }
    // Live on a cluster, a task that reads files or the cluster passes
    // only when the lab's pods stayed Ready and unchanged for the settle
    // period: nothing passes while pods are starting or restarting.
    if let Some(k) = kube {
        let needs = task.needs();
        let reads_state = needs.contains(&seclab_checkers::Need::Workspace)
            || needs.contains(&seclab_checkers::Need::Cluster);
        // Pods the cluster could not create (admission refused them) are
        // the files' checks' business; the settle window judges the pods
        // there are.
        if reads_state && (!k.pods_first.is_empty() || !k.pods_last.is_empty()) {
            checks.push(CheckResult {
                checker: "settle".into(),
                description: format!(
                    "the lab's pods on {} are Ready and unchanged for {}s",
                    k.context, k.settle_seconds
                ),
                verdict: seclab_checkers::cluster::settle::grade(
                    &k.pods_first,
                    &k.pods_last,
                    k.settle_seconds,
                ),
            });
        }
    }
    TaskResult {
        task: task.id.clone(),
        status: combine(checks.iter().map(|c| c.verdict.status)),
        checks,
    }
}

/// What makes two warnings the same: message and place.
type WarningKey = (String, Option<String>, Option<usize>, Option<usize>);

/// The one finding of a file that did not parse: where, and the parser's
/// message.
fn broken_file(p: &InputError) -> Finding {
    let mut f = Finding::error(p.message.clone());
    f.source = Some(p.path.clone());
    f.line = p.line;
    f.col = p.col;
    f
}

/// The check specs of a task, for listings.
pub fn describe_checks(task: &TaskSpec) -> Vec<String> {
    task.checks.iter().map(CheckSpec::describe).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> LabFiles {
        list.iter()
            .map(|(p, t)| ((*p).to_string(), t.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn lists_flatten_and_positions_follow_items() {
        let snap = Snapshot::from_files(&files(&[(
            "all.yaml",
            "kind: List\nitems:\n- kind: Pod\n  metadata:\n    name: a\n  spec:\n    hostPID: true\n",
        )]));
        assert_eq!(snap.objects.len(), 1);
        let obj = &snap.objects[0];
        let mut v = Verdict::from_findings(vec![
            seclab_checkers::Finding::error("x")
                .about(obj)
                .at("spec.hostPID"),
        ]);
        snap.locate(&mut v);
        assert_eq!((v.findings[0].line, v.findings[0].col), (Some(7), Some(14)));
    }

    // np-guard's fixtures write PodList/NetworkPolicyList items without
    // `kind`; a typed list gives its items their kind.
    #[test]
    fn typed_list_items_get_the_list_kind() {
        let snap = Snapshot::from_files(&files(&[(
            "pods.yaml",
            "kind: PodList\nitems:\n- metadata: {name: a}\n- kind: Service\n  metadata: {name: s}\n",
        )]));
        let kinds: Vec<&str> = snap.objects.iter().map(KubeObject::kind).collect();
        assert_eq!(kinds, ["Pod", "Service"]);
    }

    #[test]
    fn broken_files_become_problems_not_errors() {
        let snap = Snapshot::from_files(&files(&[
            ("ok.yaml", "kind: Pod\nmetadata: {name: a}\n"),
            ("bad.yaml", "kind: [\n"),
            ("notes.md", "# not yaml: [\n"),
            ("answers.yaml", "t1: {q: a}\n"),
        ]));
        assert_eq!(snap.objects.len(), 1);
        assert_eq!(snap.problems.len(), 1);
        assert_eq!(snap.problems[0].path, "bad.yaml");
        assert_eq!(
            snap.task_answers("t1").and_then(|a| a.get("q")),
            Some(&Value::from("a"))
        );
    }

    fn task(checks: &str) -> TaskSpec {
        serde_saphyr::from_str(&format!(
            "id: t\ntitle: T\ninstructions: t.md\nchecks:\n{checks}"
        ))
        .expect("a valid task")
    }

    const QUIZ: &str = "- quiz: {id: q, question: '?', answer: 'sha256:s:00'}\n";
    const REPLICAS: &str =
        "- manifest: {target: deployment/web, path: spec.replicas, op: equals, value: 2}\n";
    const WEB: &str =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n";

    fn only_finding(r: &TaskResult) -> &seclab_checkers::Finding {
        assert_eq!(r.status, Status::Fail, "{r:?}");
        let all: Vec<_> = r.checks.iter().flat_map(|c| &c.verdict.findings).collect();
        assert_eq!(all.len(), 1, "{r:?}");
        all[0]
    }

    #[test]
    fn a_broken_manifest_fails_no_quiz_and_no_found_target() {
        let snap = Snapshot::from_files(&files(&[
            ("web.yaml", WEB),
            ("bad.yaml", "a: 1\nb: [\n"),
            ("answers.yaml", "t: {q: a}\n"),
        ]));
        assert_eq!(snap.manifest_problems().count(), 1);
        assert_eq!(snap.answers_problems().count(), 0);
        // The quiz reads only the answers; it fails for its own reason.
        let quiz = grade_task(&task(QUIZ), &snap, None);
        assert_eq!(quiz.checks.len(), 1);
        assert_eq!(quiz.checks[0].checker, "quiz");
        // The target is in an intact file: graded normally.
        assert_eq!(
            grade_task(&task(REPLICAS), &snap, None).status,
            Status::Pass
        );
        // A target that is not found may be in the broken file.
        let other = task("- manifest: {target: deployment/db, path: spec, op: exists}\n");
        let r = grade_task(&other, &snap, None);
        let f = only_finding(&r);
        assert_eq!(r.checks[0].checker, "files");
        assert_eq!(f.source.as_deref(), Some("bad.yaml"));
        assert!(f.line.is_some() && f.col.is_some(), "{f:?}");
        assert!(!f.message.contains("not found"), "{f:?}");
        // A check of the cluster reads no file.
        let live =
            task("- manifest: {target: deployment/db, path: spec, op: exists, source: cluster}\n");
        assert_eq!(grade_task(&live, &snap, None).status, Status::Skipped);
        // Checks that read every object of their kinds read every file:
        // one finding, no connection differences.
        let np = task("- netpol: {expect: ''}\n");
        assert_eq!(
            only_finding(&grade_task(&np, &snap, None))
                .source
                .as_deref(),
            Some("bad.yaml")
        );
        let rbac = task(
            "- rbac: {subject: alice, verb: get, resource: pods, namespace: x, expect: denied}\n",
        );
        assert_eq!(
            only_finding(&grade_task(&rbac, &snap, None))
                .source
                .as_deref(),
            Some("bad.yaml")
        );
        // A task mixing both: the broken file is its only finding.
        let mixed = task(&format!("{QUIZ}{REPLICAS}- netpol: {{expect: ''}}\n"));
        let r = grade_task(&mixed, &snap, None);
        only_finding(&r);
        assert_eq!(r.checks.len(), 1);
    }

    #[test]
    fn a_broken_answers_file_fails_only_answer_checks() {
        let snap =
            Snapshot::from_files(&files(&[("web.yaml", WEB), ("answers.yaml", "t: {q: [\n")]));
        assert_eq!(snap.answers_problems().count(), 1);
        assert_eq!(snap.manifest_problems().count(), 0);
        let f = only_finding(&grade_task(&task(QUIZ), &snap, None)).clone();
        assert_eq!(f.source.as_deref(), Some(ANSWERS_FILE));
        assert_eq!(
            grade_task(&task(REPLICAS), &snap, None).status,
            Status::Pass
        );
        // Named on a command line, answers.yaml is just a manifest.
        let cli = Snapshot::from_manifest_files(&files(&[("answers.yaml", "t: {q: [\n")]));
        assert_eq!(cli.answers_problems().count(), 0);
        assert_eq!(cli.manifest_problems().count(), 1);
    }

    #[test]
    fn two_broken_files_are_two_findings_of_one_check() {
        let snap = Snapshot::from_files(&files(&[("a.yaml", "x: [\n"), ("b.json", "{\n")]));
        let r = grade_task(
            &task("- netpol: {expect: ''}\n- netpol: {expect: ''}\n"),
            &snap,
            None,
        );
        assert_eq!(r.checks.len(), 1);
        let sources: Vec<_> = r.checks[0]
            .verdict
            .findings
            .iter()
            .map(|f| f.source.as_deref())
            .collect();
        assert_eq!(sources, [Some("a.yaml"), Some("b.json")]);
    }

    #[test]
    fn unknown_fields_point_at_the_key() {
        let snap = Snapshot::from_files(&files(&[(
            "web.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  replica: 3\n",
        )]));
        let r = grade_task(&task(REPLICAS), &snap, None);
        let f = only_finding(&r);
        assert!(f.message.contains("did you mean `replicas`"), "{f:?}");
        assert_eq!((f.line, f.col), (Some(6), Some(3)));
    }

    #[test]
    fn combine_statuses() {
        assert_eq!(combine([Status::Pass, Status::Skipped]), Status::Skipped);
        assert_eq!(combine([Status::Skipped, Status::Fail]), Status::Fail);
        assert_eq!(combine([]), Status::Pass);
    }
}
