//! `seclab validate`: every lab loads, its ids are sane and unique, the
//! files it names exist, every template renders, every manifest parses,
//! hints are non-empty, answer hashes are well formed and every `wrong/`
//! case says what it expects. Problems are collected, not stopped at.

use std::collections::BTreeSet;

use seclab_checkers::CheckSpec;
use seclab_checkers::manifest::{Op, parse_path};
use seclab_checkers::object::WORKLOAD_KINDS;
use seclab_checkers::quiz::parse_hash;

use crate::error::InputError;
use crate::grade::{ANSWERS_FILE, Snapshot};
use crate::lab::load::subtree;
use crate::lab::model::{AlternativeAbout, WrongExpect};
use crate::lab::template::render_tree_with;
use crate::lab::{Lab, LabFiles, Student};
use crate::yaml;

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// Every problem with one lab.
pub fn validate_lab(lab: &Lab) -> Vec<InputError> {
    let mut out = Vec::new();
    let yaml_name = lab.file_name("lab.yaml");
    let err = |m: String| InputError::new(&yaml_name, m);
    if !valid_id(&lab.spec.id) {
        out.push(err(format!(
            "lab id `{}` must be lower-case letters, digits and `-`",
            lab.spec.id
        )));
    }
    if lab.spec.tasks.is_empty() {
        out.push(err("a lab needs at least one task".into()));
    }
    let student = Student::test();
    let ids = offline_image_ids(lab);
    let start = match render_tree_with(
        &lab.tree("start/"),
        &student,
        &lab.file_name("start/"),
        &ids,
    ) {
        Ok(t) => t,
        Err(e) => {
            out.push(e);
            LabFiles::new()
        }
    };
    if !lab.files.keys().any(|k| k.starts_with("start/")) {
        out.push(err(
            "no start/ folder: the student's workspace needs at least one file".into(),
        ));
    }
    for key in lab.spec.images.keys() {
        if let Some(p) = seclab_checkers::runs::image_key_problem(key) {
            out.push(err(format!("images: {p}")));
        }
    }
    let mut task_ids = BTreeSet::new();
    for task in &lab.spec.tasks {
        let tname = |m: String| err(format!("task `{}`: {m}", task.id));
        if !valid_id(&task.id) {
            out.push(tname(
                "task id must be lower-case letters, digits and `-`".into(),
            ));
        }
        if !task_ids.insert(task.id.clone()) {
            out.push(tname("duplicate task id".into()));
        }
        if !lab.files.contains_key(&task.instructions) {
            out.push(tname(format!(
                "instructions file {} does not exist",
                lab.file_name(&task.instructions)
            )));
        }
        if task.hints.is_empty() {
            out.push(tname("needs at least one hint".into()));
        }
        if task.hints.iter().any(|h| h.trim().is_empty()) {
            out.push(tname("has an empty hint".into()));
        }
        if task.checks.is_empty() {
            out.push(tname("needs at least one check".into()));
        }
        for f in &task.files {
            if !start.contains_key(f) {
                out.push(tname(format!("file `{f}` is not in start/")));
            }
        }
        let mut question_ids = BTreeSet::new();
        if lab.spec.images.is_empty() && task.checks.iter().any(|c| matches!(c, CheckSpec::Runs(_)))
        {
            out.push(tname(
                "has a runs check, but lab.yaml lists no images: (the facts it grades with)".into(),
            ));
        }
        for check in &task.checks {
            out.extend(
                validate_check(check, &mut question_ids)
                    .into_iter()
                    .map(&tname),
            );
        }
    }
    // Every tree renders and its manifests parse.
    let mut trees = vec![
        ("start/".to_string(), lab.tree("start/")),
        ("solution/".to_string(), lab.tree("solution/")),
    ];
    for name in lab.wrong_cases() {
        let dir = format!("wrong/{name}/");
        trees.push((dir.clone(), lab.tree(&dir)));
        match lab.files.get(&format!("{dir}expect.yaml")) {
            None => out.push(InputError::new(
                lab.file_name(&format!("{dir}expect.yaml")),
                "missing",
            )),
            Some(bytes) => {
                match parse_expect(&lab.file_name(&format!("{dir}expect.yaml")), bytes) {
                    Ok(expect) => {
                        for t in &expect.fail {
                            if lab.spec.task(t).is_none() {
                                out.push(InputError::new(
                                    lab.file_name(&format!("{dir}expect.yaml")),
                                    format!("task `{t}` does not exist"),
                                ));
                            }
                        }
                        if expect.fail.is_empty() {
                            out.push(InputError::new(
                                lab.file_name(&format!("{dir}expect.yaml")),
                                "`fail` names no task: a wrong case must fail at least one",
                            ));
                        }
                    }
                    Err(e) => out.push(e),
                }
            }
        }
    }
    for name in lab.alternative_cases() {
        let dir = format!("alternatives/{name}/");
        trees.push((dir.clone(), lab.tree(&dir)));
        if let Some(bytes) = lab.files.get(&format!("{dir}{ABOUT_FILE}"))
            && let Err(e) = parse_about(&lab.file_name(&format!("{dir}{ABOUT_FILE}")), bytes)
        {
            out.push(e);
        }
    }
    if lab.tree("solution/").is_empty() {
        out.push(err(
            "no solution/ folder: every lab ships its solution".into()
        ));
    }
    trees.push(("manifests/".to_string(), lab.manifests.clone()));
    for (dir, tree) in trees {
        let prefix = if dir == "manifests/" {
            format!("manifests/{}/", lab.spec.id)
        } else {
            lab.file_name(&dir)
        };
        match render_tree_with(&tree, &student, &prefix, &ids) {
            Ok(rendered) => {
                let snap = Snapshot::from_files(
                    &rendered
                        .into_iter()
                        .filter(|(p, _)| {
                            !(p == "expect.yaml"
                                || (dir.starts_with("alternatives/") && p == ABOUT_FILE))
                        })
                        .collect(),
                );
                out.extend(snap.problems.into_iter().map(|mut p| {
                    p.path = format!("{prefix}{}", p.path);
                    p
                }));
            }
            Err(e) => out.push(e),
        }
    }
    if let Some(bytes) = lab.tree("solution/").get(&format!("{ANSWERS_FILE}.tera"))
        && std::str::from_utf8(bytes).is_err()
    {
        out.push(InputError::new(
            lab.file_name("solution/answers.yaml.tera"),
            "not UTF-8",
        ));
    }
    out
}

fn validate_check(check: &CheckSpec, question_ids: &mut BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    match check {
        CheckSpec::Manifest(m) => {
            if let Err(e) = parse_path(&m.path) {
                out.push(e.to_string());
            }
            match (m.op, &m.value) {
                (Op::Equals, None) => out.push(format!(
                    "manifest check on {}: op equals needs a value",
                    m.path
                )),
                (Op::In, v) if !v.as_ref().is_some_and(serde_json::Value::is_array) => {
                    out.push(format!(
                        "manifest check on {}: op in needs a list value",
                        m.path
                    ));
                }
                _ => {}
            }
        }
        CheckSpec::Quiz(q) => {
            if !question_ids.insert(q.id.clone()) {
                out.push(format!("duplicate question id `{}`", q.id));
            }
            for h in q.hashes() {
                if let Err(e) = parse_hash(h) {
                    out.push(format!("question `{}`: {e}", q.id));
                }
            }
            if !q.accept.is_empty() && !q.choices.is_empty() {
                out.push(format!(
                    "question `{}`: accept lists other forms of a short answer; a choice question has one answer",
                    q.id
                ));
            }
            if q.choices.len() > 26 {
                out.push(format!("question `{}`: more than 26 choices", q.id));
            }
            if q.choices.len() == 1 {
                out.push(format!("question `{}`: one choice is no choice", q.id));
            }
            if q.multiple && q.choices.is_empty() {
                out.push(format!("question `{}`: multiple needs choices", q.id));
            }
        }
        CheckSpec::Flag(f) => {
            if !question_ids.insert(f.id.clone()) {
                out.push(format!("duplicate question id `{}`", f.id));
            }
            out.extend(f.problem());
        }
        CheckSpec::Image(i) => out.extend(i.problem()),
        CheckSpec::Inventory(i) => out.extend(i.problem()),
        CheckSpec::ImagesPinned(p) => out.extend(p.problem()),
        CheckSpec::AdmissionPolicy(a) => out.extend(a.problems()),
        CheckSpec::Rbac(r) => {
            if let Err(e) = r.request() {
                out.push(format!("rbac check: {e}"));
            }
        }
        CheckSpec::ServiceAccountToken(_) | CheckSpec::Drift(_) => {}
        CheckSpec::Pss(p) => {
            if !WORKLOAD_KINDS.contains(&p.target.kind) {
                out.push(format!(
                    "pss check on {}: not a workload (Pod Security applies to {})",
                    p.target,
                    WORKLOAD_KINDS.join(", ")
                ));
            }
        }
        CheckSpec::PssNamespace(n) => {
            if n.target.kind != "Namespace" {
                out.push(format!(
                    "pss_namespace check on {}: the target must be namespace/<name>",
                    n.target
                ));
            }
            if n.modes.is_empty() {
                out.push(format!(
                    "pss_namespace check on {}: modes is empty",
                    n.target
                ));
            }
        }
        CheckSpec::Runs(r) => {
            if !WORKLOAD_KINDS.contains(&r.target.kind) {
                out.push(format!("runs check on {}: not a workload", r.target));
            }
        }
        CheckSpec::Netpol(n) => {
            if let Err(e) = n.expectation() {
                out.push(format!("netpol check: {e}"));
            }
        }
        CheckSpec::SecretFile(f) => {
            if !WORKLOAD_KINDS.contains(&f.target.kind) {
                out.push(format!("secret_file check on {}: not a workload", f.target));
            }
            if let Some(p) = seclab_checkers::secret_file::check_problem(f) {
                out.push(p);
            }
        }
        CheckSpec::Container(c) => out.extend(c.problem()),
        CheckSpec::Probe(p) => out.extend(p.problem()),
        CheckSpec::TrivyReport(t) => out.extend(t.problem()),
        CheckSpec::ReportQuestion(q) => {
            if !question_ids.insert(q.id.clone()) {
                out.push(format!("duplicate question id `{}`", q.id));
            }
            out.extend(q.problem());
        }
        CheckSpec::Dockerfile(d) => out.extend(d.problems()),
        CheckSpec::AuditEvent(a) => {
            if !question_ids.insert(a.id.clone()) {
                out.push(format!("duplicate question id `{}`", a.id));
            }
        }
        CheckSpec::AuditQuestion(q) => {
            if !question_ids.insert(q.id.clone()) {
                out.push(format!("duplicate question id `{}`", q.id));
            }
        }
        CheckSpec::AuditPolicy(a) => out.extend(a.problems()),
        CheckSpec::EncryptionConfig(e) => out.extend(e.problems()),
    }
    out
}

/// Parses a `wrong/<name>/expect.yaml`.
pub fn parse_expect(name: &str, bytes: &[u8]) -> Result<WrongExpect, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| InputError::new(name, "not UTF-8"))?;
    serde_saphyr::from_str(text).map_err(|e| yaml::saphyr_error(name, &e))
}

/// Parses `alternatives/<name>/about.yaml`.
pub fn parse_about(name: &str, bytes: &[u8]) -> Result<AlternativeAbout, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| InputError::new(name, "not UTF-8"))?;
    serde_saphyr::from_str(text).map_err(|e| yaml::saphyr_error(name, &e))
}

/// The file an alternative case describes itself in (optional).
pub const ABOUT_FILE: &str = "about.yaml";

/// The files of `dir/` in a lab, rendered.
pub fn rendered(lab: &Lab, dir: &str, student: &Student) -> Result<LabFiles, InputError> {
    rendered_with(lab, dir, student, &offline_image_ids(lab))
}

/// [`rendered`] with `image_id(name=...)` giving `ids` (the engine's IDs of
/// the images seclab built for the lab).
pub fn rendered_with(
    lab: &Lab,
    dir: &str,
    student: &Student,
    ids: &crate::lab::template::ImageIds,
) -> Result<LabFiles, InputError> {
    render_tree_with(&subtree(&lab.files, dir), student, &lab.file_name(dir), ids)
}

/// What `image_id(name=...)` gives before anything is built (validation,
/// `seclab test --offline`): for each image the lab builds, an ID of the
/// right shape that no image has (`sha256:` and 64 zeros), so a report
/// bound to it never passes a live `trivy_report` check.
pub fn offline_image_ids(lab: &Lab) -> crate::lab::template::ImageIds {
    lab.spec
        .build
        .iter()
        .flat_map(|b| {
            let none = format!("sha256:{}", "0".repeat(64));
            let mut ids = vec![(b.name.clone(), none.clone())];
            if b.original {
                ids.push((format!("{}:original", b.name), none));
            }
            ids
        })
        .collect()
}
