//! `seclab test`: content CI for labs. For every lab it builds three kinds
//! of workspace in memory — `start` (as the student gets it), `solution`
//! (start with solution/ laid over it) and `wrong/<name>` (start+solution
//! with the case laid over it and its `remove` paths taken out) — grades
//! every task, and compares with the expectation: start fails, solution
//! passes, a wrong case fails exactly the tasks its `expect.yaml` lists,
//! and an `alternatives/<name>` case (a right answer written differently,
//! laid over start+solution after its `about.yaml` `remove` paths) passes
//! every task.
//! One test case per (lab, variant, task), named `lab/variant/task`.

use seclab_checkers::Status;
use serde::Serialize;

use crate::error::InputError;
use crate::grade::{Snapshot, TaskResult};
use crate::lab::validate::{
    ABOUT_FILE, offline_image_ids, parse_about, parse_expect, rendered_with,
};
use crate::lab::{Lab, LabFiles, Student};

/// What a test case came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "lowercase")]
pub enum CaseOutcome {
    /// The task did what was expected.
    Passed,
    /// It did not; why.
    Failed(String),
    /// It could not be decided here; why.
    Skipped(String),
}

/// One test case.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// `lab/variant/task`.
    pub name: String,
    /// The lab id.
    pub lab: String,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: CaseOutcome,
}

/// A variant: its name, its files and the tasks expected to fail.
struct Variant {
    name: String,
    files: LabFiles,
    must_fail: Vec<String>,
    all_fail: bool,
}

fn overlay(base: &LabFiles, top: &LabFiles) -> LabFiles {
    let mut out = base.clone();
    out.extend(top.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

fn variants(
    lab: &Lab,
    student: &Student,
    ids: &crate::lab::template::ImageIds,
) -> Result<Vec<Variant>, InputError> {
    let rendered = |lab: &Lab, dir: &str, student: &Student| rendered_with(lab, dir, student, ids);
    let start = rendered(lab, "start/", student)?;
    let solution = overlay(&start, &rendered(lab, "solution/", student)?);
    let mut out = vec![
        Variant {
            name: "start".into(),
            files: start,
            must_fail: Vec::new(),
            all_fail: true,
        },
        Variant {
            name: "solution".into(),
            files: solution.clone(),
            must_fail: Vec::new(),
            all_fail: false,
        },
    ];
    for case in lab.wrong_cases() {
        let dir = format!("wrong/{case}/");
        let expect_name = lab.file_name(&format!("{dir}expect.yaml"));
        let bytes = lab
            .files
            .get(&format!("{dir}expect.yaml"))
            .ok_or_else(|| InputError::new(&expect_name, "missing"))?;
        let expect = parse_expect(&expect_name, bytes)?;
        let mut top = rendered(lab, &dir, student)?;
        top.remove("expect.yaml");
        let mut files = overlay(&solution, &top);
        for r in &expect.remove {
            if files.remove(r).is_none() {
                return Err(InputError::new(
                    &expect_name,
                    format!("remove: `{r}` is not a file of start/ + solution/"),
                ));
            }
        }
        out.push(Variant {
            name: format!("wrong/{case}"),
            files,
            must_fail: expect.fail,
            all_fail: false,
        });
    }
    for case in lab.alternative_cases() {
        let dir = format!("alternatives/{case}/");
        let mut top = rendered(lab, &dir, student)?;
        let about = match top.remove(ABOUT_FILE) {
            Some(bytes) => parse_about(&lab.file_name(&format!("{dir}{ABOUT_FILE}")), &bytes)?,
            None => crate::lab::AlternativeAbout::default(),
        };
        let mut files = solution.clone();
        for r in &about.remove {
            if files.remove(r).is_none() {
                return Err(InputError::new(
                    lab.file_name(&format!("{dir}{ABOUT_FILE}")),
                    format!("remove: `{r}` is not a file of start/ + solution/"),
                ));
            }
        }
        out.push(Variant {
            name: format!("alternatives/{case}"),
            files: overlay(&files, &top),
            must_fail: Vec::new(),
            all_fail: false,
        });
    }
    Ok(out)
}

/// A short account of why a task failed: its first error findings.
pub fn failure_summary(r: &TaskResult) -> String {
    let mut lines: Vec<String> = Vec::new();
    for c in &r.checks {
        if c.verdict.status != Status::Fail {
            continue;
        }
        for f in c
            .verdict
            .findings
            .iter()
            .filter(|f| f.severity == seclab_checkers::Severity::Error)
            .take(3)
        {
            let at = match (&f.source, f.line, f.col) {
                (Some(s), Some(l), Some(c)) => format!("{s}:{l}:{c}: "),
                (Some(s), _, _) => format!("{s}: "),
                _ => String::new(),
            };
            lines.push(format!("{}: {at}{}", c.checker, f.message));
        }
    }
    lines.join("; ")
}

/// How `seclab test` runs a lab's live tasks.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'a> {
    /// Files only; live tasks are skipped with the reason.
    Offline,
    /// Offline plus the Docker engine at hand (when there is one); with
    /// `required`, a task that cannot run live is a failure, not a skip.
    Live {
        /// The engine, if one answers.
        docker: Option<&'a crate::live::Docker>,
        /// Why there is none, when there is none.
        why_not: &'a str,
        /// `--live`.
        required: bool,
        /// seclab's cluster, when one is set up and its marker matches.
        cluster: Option<&'a crate::shell::kube::guard::Owned>,
        /// Why there is none, when there is none.
        cluster_why_not: &'a str,
    },
}

/// Runs every case of one lab. An error means the lab's content is broken
/// (a template or expect.yaml), reported as input error.
pub fn run_lab(lab: &Lab) -> Result<Vec<Case>, InputError> {
    run_lab_in(lab, Mode::Offline)
}

/// Grades one variant live: its files written to a scratch workspace, its
/// services run on the engine, then removed.
fn live_facts(
    d: &crate::live::Docker,
    lab: &Lab,
    v: &Variant,
    snap: &Snapshot,
) -> Result<seclab_checkers::container::LiveFacts, String> {
    let dir = std::env::temp_dir().join(format!(
        "seclab-test-{}-{}-{}",
        std::process::id(),
        lab.spec.id,
        v.name.replace('/', "-")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, bytes) in &v.files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    let facts = crate::live::run(d, lab, &Student::test(), snap, &dir).map_err(|e| e.to_string());
    // The built images stay for the next variant's build cache; they go
    // when the lab is done.
    let stopped = crate::live::stop_containers(d, &lab.spec.id).map_err(|e| e.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    stopped?;
    facts
}

/// Runs one variant on the cluster: the lab's namespaces deleted and set
/// up again, the variant's files applied, its pods given time to start,
/// then the live facts gathered (settle window included).
fn cluster_facts(
    owned: &crate::shell::kube::guard::Owned,
    lab: &Lab,
    snap: &Snapshot,
) -> Result<seclab_checkers::cluster::ClusterFacts, String> {
    let student = Student::test();
    let map = crate::shell::docker::ImageMap::from_env().map_err(|e| e.clone())?;
    let objects = crate::cluster::lab_objects(lab, &student, &map).map_err(|e| format!("{e:#}"))?;
    let mut workspace = snap.objects.clone();
    for o in &mut workspace {
        crate::cluster::map_images(&mut o.value, &map);
    }
    let checks: Vec<&seclab_checkers::CheckSpec> =
        lab.spec.tasks.iter().flat_map(|t| &t.checks).collect();
    crate::shell::kube::block_on(async {
        crate::cluster::teardown(owned, &lab.spec.id).await?;
        crate::cluster::setup(owned, lab, &objects).await?;
        crate::cluster::apply_workspace(owned, lab, &objects, &workspace).await?;
        crate::cluster::wait_pods(
            owned.cluster(),
            &lab.spec.id,
            crate::cluster::POD_START_TIMEOUT,
        )
        .await?;
        let exec = crate::shell::kube::exec::KubeExec { owned };
        crate::cluster::gather(owned, lab, &checks, &exec).await
    })
    .map_err(|e| format!("{e:#}"))?
    .map_err(|e| format!("{e:#}"))
}

/// [`run_lab`] in a mode.
pub fn run_lab_in(lab: &Lab, mode: Mode<'_>) -> Result<Vec<Case>, InputError> {
    let student = Student::test();
    let mut cases = Vec::new();
    let live_lab = crate::live::needs_docker(lab);
    // Variants that differ only in answers.yaml (wrong quiz answers) run
    // the same containers: run each set of files once.
    let mut ran: Vec<(LabFiles, seclab_checkers::container::LiveFacts)> = Vec::new();
    let cluster_lab = crate::cluster::is_cluster_lab(lab);
    let mut ran_cluster: Vec<(LabFiles, seclab_checkers::cluster::ClusterFacts)> = Vec::new();
    for v in variants(lab, &student, &offline_image_ids(lab))? {
        let mut snap = Snapshot::from_files(&v.files);
        snap.seed = student.pick_key();
        let mut key = v.files.clone();
        key.remove(crate::grade::ANSWERS_FILE);
        let (facts, live_problem) = match mode {
            Mode::Live {
                docker: Some(d), ..
            } if live_lab => match ran.iter().find(|(k, _)| *k == key) {
                Some((_, f)) => (Some(f.clone()), None),
                None => match live_facts(d, lab, &v, &snap) {
                    Ok(f) => {
                        ran.push((key.clone(), f.clone()));
                        (Some(f), None)
                    }
                    Err(e) => (
                        None,
                        Some(format!("could not run it on the Docker engine: {e}")),
                    ),
                },
            },
            Mode::Live {
                docker: None,
                why_not,
                ..
            } if live_lab => (None, Some(why_not.to_string())),
            _ => (None, None),
        };
        // Files that name a built image's ID (`image_id(name=...)`, e.g. the
        // lab's fixture trivy report) are rendered again with the IDs of
        // the images this run built.
        if let Some(f) = facts.as_ref().filter(|f| !f.images.is_empty()) {
            let ids = crate::live::image_ids(&f.images);
            if let Some(live) = variants(lab, &student, &ids)?
                .into_iter()
                .find(|w| w.name == v.name)
            {
                snap = Snapshot::from_files(&live.files);
                snap.seed = student.pick_key();
            }
        }
        // The cluster refused the variant's files (an audit policy the API
        // server would not load): a known-wrong attempt expected to fail
        // there has failed, as it should.
        let mut refused_live = false;
        let (kube, cluster_problem) = match mode {
            Mode::Live {
                cluster: Some(owned),
                ..
            } if cluster_lab => match ran_cluster.iter().find(|(k, _)| *k == key) {
                Some((_, f)) => (Some(f.clone()), None),
                None => match cluster_facts(owned, lab, &snap) {
                    Ok(f) => {
                        ran_cluster.push((key.clone(), f.clone()));
                        (Some(f), None)
                    }
                    Err(e) => {
                        refused_live = true;
                        (None, Some(format!("could not run it on the cluster: {e}")))
                    }
                },
            },
            Mode::Live {
                cluster: None,
                cluster_why_not,
                ..
            } if cluster_lab => (None, Some(cluster_why_not.to_string())),
            _ => (None, None),
        };
        let required = matches!(mode, Mode::Live { required: true, .. });
        for task in &lab.spec.tasks {
            let result = crate::grade::grade_task_live(
                task,
                &snap,
                Some(&lab.spec.images),
                None,
                facts.as_ref(),
                Some(seclab_checkers::flag::Seed {
                    seed: &student.seed,
                    student: &student.id,
                }),
                kube.as_ref(),
            );
            let want_fail = v.all_fail || v.must_fail.contains(&task.id);
            // A cluster lab's task that reads files or the cluster must run
            // on the cluster under --live.
            let on_cluster = cluster_lab && {
                let n = task.needs();
                n.contains(&seclab_checkers::Need::Cluster)
                    || n.contains(&seclab_checkers::Need::Workspace)
            };
            let outcome = match (result.status, want_fail) {
                (Status::Fail | Status::Skipped, true) if on_cluster && refused_live => {
                    CaseOutcome::Passed
                }
                _ if required && on_cluster && kube.is_none() => CaseOutcome::Failed(format!(
                    "cannot run live (--live): {}",
                    cluster_problem
                        .clone()
                        .unwrap_or_else(|| "no cluster".into())
                )),
                (Status::Fail, true) | (Status::Pass, false) => CaseOutcome::Passed,
                (Status::Skipped, _)
                    if required && task.needs().contains(&seclab_checkers::Need::Docker) =>
                {
                    CaseOutcome::Failed(format!(
                        "cannot run live (--live): {}",
                        live_problem
                            .clone()
                            .unwrap_or_else(|| result.skip_reasons().join("; "))
                    ))
                }
                // Why there is no engine says more than "needs a Docker
                // engine" (the connect error and its fix).
                (Status::Skipped, _) => CaseOutcome::Skipped(match &live_problem {
                    Some(p) if task.needs().contains(&seclab_checkers::Need::Docker) => p.clone(),
                    _ if task.needs().contains(&seclab_checkers::Need::Cluster)
                        && cluster_problem.is_some() =>
                    {
                        cluster_problem.clone().unwrap_or_default()
                    }
                    _ => result.skip_reasons().join("; "),
                }),
                (Status::Pass, true) => CaseOutcome::Failed(if v.all_fail {
                    "passes in its start state: the student would get it for free".into()
                } else {
                    "passes, but this known-wrong attempt must fail it".into()
                }),
                (Status::Fail, false) => CaseOutcome::Failed(format!(
                    "fails but must pass: {}",
                    failure_summary(&result)
                )),
            };
            cases.push(Case {
                name: format!("{}/{}/{}", lab.spec.id, v.name, task.id),
                lab: lab.spec.id.clone(),
                outcome,
            });
        }
    }
    // The last variant's state goes: the lab is reset off the cluster.
    if let Mode::Live {
        cluster: Some(owned),
        ..
    } = mode
        && cluster_lab
        && let Err(e) = crate::shell::kube::block_on(async {
            crate::cluster::teardown(owned, &lab.spec.id).await?;
            crate::cluster::restore_audit_policy(owned, lab).await
        })
        .and_then(|r| r)
    {
        cases.push(Case {
            name: format!("{}/cleanup", lab.spec.id),
            lab: lab.spec.id.clone(),
            outcome: CaseOutcome::Failed(format!("removing the lab from the cluster: {e:#}")),
        });
    }
    if let Mode::Live {
        docker: Some(d), ..
    } = mode
        && live_lab
        && !lab.spec.build.is_empty()
        && let Err(e) = crate::live::stop(d, &lab.spec.id)
    {
        cases.push(Case {
            name: format!("{}/cleanup", lab.spec.id),
            lab: lab.spec.id.clone(),
            outcome: CaseOutcome::Failed(format!("removing the lab's images: {e}")),
        });
    }
    Ok(cases)
}

/// Counts of passed, failed and skipped cases.
pub fn counts(cases: &[Case]) -> (usize, usize, usize) {
    let mut c = (0, 0, 0);
    for case in cases {
        match case.outcome {
            CaseOutcome::Passed => c.0 += 1,
            CaseOutcome::Failed(_) => c.1 += 1,
            CaseOutcome::Skipped(_) => c.2 += 1,
        }
    }
    c
}
