//! The TUI's runtime: sets the terminal up (and back, also on panic, via
//! `ratatui::init`), then runs one loop on a current-thread tokio runtime —
//! terminal events and effect results come in as [`Msg`]s, `app::update`
//! turns each into effects, the runtime performs them, the view draws.
//!
//! Nothing here blocks the loop: keys are read on their own thread; file
//! I/O and grading run one at a time (so progress writes never race) on
//! tokio's blocking pool; the engine probe and a demo run beside them (they
//! write no progress), a demo posting each line as it comes; the workspace
//! watcher (200 ms debounce, polling fallback) posts messages from its
//! thread. The loop sleeps until a message arrives; it ticks (for the
//! spinner) only while work is in flight.
//!
//! The Docker engine is connected once (at the probe, or at the first
//! grading that needs it, whichever comes first) and shared: labs with
//! Docker tasks are graded live, as `seclab check` grades them.
//!
//! seclab's cluster: the probe looks for it — no request at all unless a
//! cluster id is stored for the context (`seclab up` stored it), then one
//! GET of the marker. Applying a lab (`p`) runs on the worker, like
//! grading, with the steps of `seclab apply`. While a cluster lab is
//! watched, its objects on the cluster are polled every 2 s (a list per
//! kind per lab namespace, from a thread of their own; see
//! [`cluster_fingerprint`] for what counts as a change) and a settled
//! change re-grades it like a save does.

use std::collections::VecDeque;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use serde_json::Value;

use crate::app::{Availability, DemoEvent, Effect, Graded, Model, Msg, update};
use crate::cluster;
use crate::config;
use crate::error::{EXIT_OK, Outcome};
use crate::grade::{ANSWERS_FILE, Snapshot};
use crate::lab::{Catalog, LabFiles};
use crate::session::{
    absolute, grade_snapshot_live, load_progress, record, record_answer, reset_workspace,
    reveal_hint, start_workspace, workspace_of,
};
use crate::shell::docker::ImageMap;
use crate::shell::kube::guard::{self, Known, Owned};
use crate::shell::kube::{self as kube_shell, Cluster, ClusterError, Target, read};
use crate::shell::watch;

/// The cluster part's lines, or its failure as one line.
fn cluster_lines(r: anyhow::Result<Vec<String>>) -> Vec<String> {
    r.unwrap_or_else(|e| vec![format!("the cluster part failed: {e:#}")])
}

/// How often the spinner moves while work is in flight.
const TICK: Duration = Duration::from_millis(100);

/// Whether the TUI can run here: stdin and stdout are terminals.
pub fn is_interactive() -> bool {
    std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}

/// The model at start: the catalog, the student's progress, and the
/// environment (`SECLAB_WORKSPACE`, `NO_COLOR`).
pub fn initial_model(catalog: Arc<Catalog>) -> anyhow::Result<Model> {
    let st = config::state_dir()?;
    let (progress, student) = load_progress(&st)?;
    // Progress of another student id is re-owned (with a note) on load;
    // save that now, so the note is not printed over the screen later.
    let on_disk = crate::progress::load(&st, &student.id, crate::progress::now_unix())?;
    if crate::progress::progress_path(&st).is_file() && on_disk.student != student.id {
        crate::progress::save(&st, &progress)?;
    }
    let mut m = Model::new(catalog, progress);
    m.workspace_override = match std::env::var_os("SECLAB_WORKSPACE").filter(|w| !w.is_empty()) {
        Some(w) => Some(absolute(Path::new(&w))?),
        None => None,
    };
    m.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    m.home = std::env::var("HOME").ok().filter(|h| h.len() > 1);
    Ok(m)
}

/// What the effects act on: the labs, and the Docker engine once connected.
#[derive(Debug)]
pub struct Shell {
    /// The labs.
    pub catalog: Arc<Catalog>,
    /// Images to run instead of the ones labs name (`--image-map`).
    pub image_map: ImageMap,
    docker: Mutex<Option<crate::live::Docker>>,
}

impl Shell {
    /// A shell on `catalog`, not connected yet.
    pub fn new(catalog: Arc<Catalog>, image_map: ImageMap) -> Self {
        Self {
            catalog,
            image_map,
            docker: Mutex::new(None),
        }
    }

    /// The engine: connected on first use and kept; a failure is tried
    /// again next time (the student may start Docker meanwhile).
    pub fn docker(&self) -> Result<crate::live::Docker, String> {
        let mut slot = self
            .docker
            .lock()
            .map_err(|_| "internal error: the engine's lock is poisoned".to_string())?;
        if let Some(d) = slot.as_ref() {
            return Ok(d.clone());
        }
        let d = crate::live::Docker::connect(self.image_map.clone()).map_err(|e| e.to_string())?;
        *slot = Some(d.clone());
        Ok(d)
    }
}

/// Runs the TUI on `catalog` until the student quits.
pub fn run(catalog: Catalog, image_map: ImageMap) -> anyhow::Result<Outcome> {
    let catalog = Arc::new(catalog);
    let model = initial_model(Arc::clone(&catalog))?;
    let shell = Arc::new(Shell::new(catalog, image_map));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let mut terminal = ratatui::try_init()?;
    let result = rt.block_on(main_loop(&mut terminal, model, shell));
    ratatui::restore();
    result.map(|()| Outcome(EXIT_OK))
}

fn spawn_input(tx: UnboundedSender<Msg>) {
    std::thread::spawn(move || {
        loop {
            let msg = match event::read() {
                Ok(Event::Key(k)) => Msg::Key(k),
                Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                Ok(_) => continue,
                Err(_) => break,
            };
            if tx.send(msg).is_err() {
                break;
            }
        }
    });
}

async fn main_loop(
    terminal: &mut DefaultTerminal,
    mut m: Model,
    shell: Arc<Shell>,
) -> anyhow::Result<()> {
    let (tx, mut rx) = unbounded_channel::<Msg>();
    spawn_input(tx.clone());
    let (work_tx, work_rx) = unbounded_channel::<Effect>();
    tokio::spawn(worker(work_rx, tx.clone(), Arc::clone(&shell)));
    let mut _watcher: Option<watch::Watcher> = None;
    let mut _cluster_watcher: Option<watch::Watcher> = None;
    let size = terminal.size()?;
    let mut pending: VecDeque<Msg> = VecDeque::from([Msg::Resize(size.width, size.height)]);
    let mut effects = vec![Effect::Probe];
    loop {
        for e in effects.drain(..) {
            match e {
                Effect::Quit => return Ok(()),
                Effect::Watch { lab } => {
                    // Dropping the old watcher stops it.
                    _watcher = None;
                    if let Some(lab) = lab {
                        match start_watch(&m, &lab, &tx) {
                            Ok(w) => _watcher = Some(w),
                            Err(e) => pending.push_back(Msg::WatchFailed {
                                lab,
                                error: format!("{e:#}"),
                            }),
                        }
                    }
                }
                Effect::WatchCluster { lab } => {
                    // Dropping the old one stops its polling.
                    _cluster_watcher = lab.map(|lab| start_cluster_watch(&lab, &tx));
                }
                Effect::Probe => {
                    let (shell, tx) = (Arc::clone(&shell), tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let _ = tx.send(Msg::Probed(probe(&shell)));
                    });
                }
                Effect::Demo { lab, task } => {
                    let (shell, tx) = (Arc::clone(&shell), tx.clone());
                    tokio::task::spawn_blocking(move || run_demo(&shell, &lab, &task, &tx));
                }
                other => {
                    let _ = work_tx.send(other);
                }
            }
        }
        if let Some(msg) = pending.pop_front() {
            effects = update(&mut m, msg);
            continue;
        }
        terminal.draw(|f| crate::ui::view(f, &m))?;
        let msg = if m.animating() {
            tokio::select! {
                msg = rx.recv() => msg,
                () = tokio::time::sleep(TICK) => Some(Msg::Tick),
            }
        } else {
            rx.recv().await
        };
        let Some(msg) = msg else { return Ok(()) };
        pending.push_back(msg);
        // Take what else is queued before the next frame.
        while let Ok(msg) = rx.try_recv() {
            pending.push_back(msg);
        }
    }
}

fn start_watch(m: &Model, lab: &str, tx: &UnboundedSender<Msg>) -> anyhow::Result<watch::Watcher> {
    let root = absolute(&m.workspace(lab))?;
    let poll = std::env::var_os("SECLAB_WATCH_POLL").is_some_and(|v| !v.is_empty() && v != "0");
    let make = |poll: bool| {
        let (tx, lab) = (tx.clone(), lab.to_string());
        watch::start(&root, poll, move |event| {
            let msg = match event {
                Ok(()) => Msg::FilesChanged { lab: lab.clone() },
                Err(error) => Msg::WatchFailed {
                    lab: lab.clone(),
                    error,
                },
            };
            let _ = tx.send(msg);
        })
    };
    // File events where they work; polling where they cannot be set up.
    make(poll).or_else(|_| make(true))
}

/// The kinds the cluster watch lists in each of a lab's namespaces.
const WATCHED: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("apps/v1", "Deployment"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "ServiceAccount"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
];

/// The lab's namespaces and their objects of the [`WATCHED`] kinds, as
/// JSON (GETs only).
async fn watched_objects(c: &Cluster, lab: &str) -> Result<Vec<Value>, ClusterError> {
    let (namespaces, objects) = read::in_lab_namespaces(c, lab, WATCHED).await?;
    Ok(namespaces
        .into_iter()
        .chain(objects)
        .map(|o| o.value)
        .collect())
}

/// What the cluster watch compares between looks, one entry per object
/// (sorted): kind, namespace, name, uid, labels, annotations, the object's
/// content without `status` — and of the status only what grading reads
/// (a pod's phase, its containers' readiness and restarts; a Deployment's
/// replica counts and conditions). `resourceVersion`, `managedFields`,
/// timestamps and the rest of `status` are left out: they move without
/// anything a check sees changing.
pub fn cluster_fingerprint(objects: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut body = o.clone();
            let mut status = Value::Null;
            if let Some(m) = body.as_object_mut() {
                status = m.remove("status").unwrap_or(Value::Null);
                m.remove("metadata");
            }
            let meta = o.get("metadata").cloned().unwrap_or(Value::Null);
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
            let status = match kind {
                "Pod" => serde_json::json!({
                    "phase": status.get("phase"),
                    "containers": status
                        .get("containerStatuses")
                        .and_then(Value::as_array)
                        .map(|cs| cs.iter().map(|c| serde_json::json!({
                            "name": c.get("name"),
                            "ready": c.get("ready"),
                            "restarts": c.get("restartCount"),
                        })).collect::<Vec<_>>()),
                }),
                "Deployment" => serde_json::json!({
                    "replicas": status.get("replicas"),
                    "ready": status.get("readyReplicas"),
                    "updated": status.get("updatedReplicas"),
                    "conditions": status
                        .get("conditions")
                        .and_then(Value::as_array)
                        .map(|cs| cs.iter().map(|c| serde_json::json!({
                            "type": c.get("type"),
                            "status": c.get("status"),
                            "reason": c.get("reason"),
                        })).collect::<Vec<_>>()),
                }),
                _ => Value::Null,
            };
            serde_json::json!({
                "kind": kind,
                "namespace": meta.get("namespace"),
                "name": meta.get("name"),
                "uid": meta.get("uid"),
                "deleting": meta.get("deletionTimestamp").is_some(),
                "labels": meta.get("labels"),
                "annotations": meta.get("annotations"),
                "body": body,
                "status": status,
            })
        })
        .collect();
    let key = |v: &Value| {
        ["kind", "namespace", "name"]
            .map(|k| v.get(k).and_then(Value::as_str).unwrap_or("").to_string())
    };
    out.sort_by_key(key);
    out
}

/// Polls `lab`'s objects on seclab's cluster every [`watch::CLUSTER_POLL`]
/// and posts [`Msg::ClusterChanged`] for each settled change. It connects
/// through the guard (no request unless a cluster id is stored for the
/// context; the marker checked) and keeps the connection until a look
/// fails, then connects anew.
fn start_cluster_watch(lab: &str, tx: &UnboundedSender<Msg>) -> watch::Watcher {
    let (tx, id) = (tx.clone(), lab.to_string());
    cluster_poller(lab, Target::new(None), move |event| {
        let msg = match event {
            Ok(()) => Msg::ClusterChanged { lab: id.clone() },
            Err(error) => Msg::ClusterWatchFailed {
                lab: id.clone(),
                error,
            },
        };
        let _ = tx.send(msg);
    })
}

/// Polls the lab's objects on `target`'s cluster every
/// [`watch::CLUSTER_POLL`] through the guard (no request unless a cluster
/// id is stored for the context; the marker checked; the connection kept
/// until a look fails), telling `on_event` of each settled change that
/// grading would see, and of failures. Shared by the TUI and `seclab
/// check --watch`.
pub fn cluster_poller(
    lab: &str,
    target: Target,
    on_event: impl FnMut(Result<(), String>) + Send + 'static,
) -> watch::Watcher {
    let mut conn: Option<Owned> = None;
    let id = lab.to_string();
    let look = move || {
        let mut once = || -> anyhow::Result<Vec<Value>> {
            let owned = match conn.take() {
                Some(o) => o,
                None => {
                    let st = config::state_dir()?;
                    kube_shell::block_on(cluster::connect_owned(&target, &st))??
                }
            };
            let objects = kube_shell::block_on(watched_objects(owned.cluster(), &id))??;
            conn = Some(owned);
            Ok(objects)
        };
        once()
            .map(|o| cluster_fingerprint(&o))
            .map_err(|e| format!("{e:#}"))
    };
    watch::poll(watch::CLUSTER_POLL, look, on_event)
}

/// Performs effects one at a time, off the loop, and posts their results.
async fn worker(mut rx: UnboundedReceiver<Effect>, tx: UnboundedSender<Msg>, shell: Arc<Shell>) {
    while let Some(effect) = rx.recv().await {
        let shell = Arc::clone(&shell);
        let copy = effect.clone();
        let msg = match tokio::task::spawn_blocking(move || perform(&shell, &copy)).await {
            Ok(Ok(msg)) => Some(msg),
            Ok(Err(e)) => failed(&effect, format!("{e:#}")),
            Err(e) => failed(&effect, format!("internal error: {e}")),
        };
        if let Some(msg) = msg
            && tx.send(msg).is_err()
        {
            break;
        }
    }
}

/// The message that reports `effect` failed.
fn failed(effect: &Effect, error: String) -> Option<Msg> {
    Some(match effect.clone() {
        Effect::Grade { lab, .. } => Msg::Graded {
            lab,
            outcome: Err(error),
        },
        Effect::LoadAnswers { lab } => Msg::AnswersLoaded {
            lab,
            answers: serde_json::Value::Null,
            prompts: std::collections::BTreeMap::new(),
        },
        Effect::Start { lab } => Msg::Started {
            lab,
            outcome: Err(error),
            cluster: Vec::new(),
        },
        Effect::Reset { lab, task } => Msg::ResetDone {
            lab,
            task,
            outcome: Err(error),
            cluster: Vec::new(),
        },
        Effect::RevealHint { lab, task } => Msg::HintRevealed {
            lab,
            task,
            outcome: Err(error),
        },
        Effect::Answer {
            lab,
            task,
            question,
            ..
        } => Msg::AnswerSaved {
            lab,
            task,
            question,
            outcome: Err(error),
        },
        Effect::Probe => Msg::Probed(Availability::default()),
        Effect::Demo { lab, task } => Msg::Demo {
            lab,
            task,
            event: DemoEvent::Done(Err(error)),
        },
        Effect::ScanImage { lab } => Msg::Scanned {
            lab,
            outcome: Err(error),
        },
        Effect::Apply { lab } => Msg::Applied {
            lab,
            outcome: Err(error),
        },
        Effect::Watch { .. } | Effect::WatchCluster { .. } | Effect::Quit => return None,
    })
}

/// What the machine offers. Docker: an engine seclab can connect to (its
/// version read), else why not. seclab's cluster for the context
/// (`kind-seclab`, or `SECLAB_CONTEXT`): see [`probe_cluster`].
pub fn probe(shell: &Shell) -> Availability {
    let docker = shell.docker();
    let target = Target::new(None);
    let cluster = probe_cluster(&target);
    Availability {
        docker: docker.is_ok(),
        docker_problem: docker.err(),
        cluster: cluster.is_ok(),
        cluster_problem: cluster.err(),
        cluster_context: Some(target.context),
    }
}

/// Whether seclab's cluster is at hand on `target`: a cluster id stored
/// for its context in the state dir — else no request is sent and the
/// error says why — and the cluster's marker holding it (one GET).
pub fn probe_cluster(target: &Target) -> Result<(), String> {
    let show = |e: anyhow::Error| format!("{e:#}");
    let st = config::state_dir().map_err(show)?;
    let known = Known::load(&st).map_err(show)?;
    if let Some(why) = cluster::no_cluster_reason(target, &known) {
        return Err(why);
    }
    kube_shell::block_on(async {
        let c = Cluster::connect(target).await?;
        guard::own(c, &known).await.map(|_| ())
    })
    .map_err(show)?
    .map_err(|e| e.to_string())
}

/// Applies the lab's workspace to seclab's cluster, as `seclab apply`
/// does: the workspace's manifests (a malformed one stops it, naming
/// `path:line:col`), images mapped, into the lab's namespaces only, through
/// the guard (no request without a stored cluster id; the marker checked).
fn apply_lab(shell: &Shell, lab: &str) -> anyhow::Result<cluster::Applied> {
    let l = shell.catalog.get(lab)?;
    cluster::apply_workspace_at(l, &Target::new(None), &shell.image_map, &workspace(lab)?)
}

/// Runs a task's demo, posting each line and then its end.
fn run_demo(shell: &Shell, lab: &str, task: &str, tx: &UnboundedSender<Msg>) {
    let send = |event: DemoEvent| {
        let _ = tx.send(Msg::Demo {
            lab: lab.to_string(),
            task: task.to_string(),
            event,
        });
    };
    let outcome = (|| -> anyhow::Result<()> {
        let l = shell.catalog.get(lab)?;
        let t = l
            .spec
            .task(task)
            .ok_or_else(|| anyhow::anyhow!("lab `{lab}` has no task `{task}`"))?;
        let d = shell.docker().map_err(anyhow::Error::msg)?;
        let st = config::state_dir()?;
        let (p, student) = load_progress(&st)?;
        let root = absolute(&workspace_of(&p, lab))?;
        crate::live::demo(&d, l, t, &student.id, &root, &mut |line| {
            send(DemoEvent::Line(line));
        })?;
        Ok(())
    })();
    send(DemoEvent::Done(outcome.map_err(|e| format!("{e:#}"))));
}

fn workspace(lab: &str) -> anyhow::Result<PathBuf> {
    let st = config::state_dir()?;
    let (p, _) = load_progress(&st)?;
    absolute(&workspace_of(&p, lab))
}

fn progress_now() -> anyhow::Result<crate::progress::Progress> {
    Ok(load_progress(&config::state_dir()?)?.0)
}

/// Performs one effect (blocking I/O); the same functions as the CLI's.
pub fn perform(shell: &Shell, effect: &Effect) -> anyhow::Result<Msg> {
    let catalog = &shell.catalog;
    let task_of = |lab: &crate::lab::Lab, id: &str| {
        lab.spec
            .task(id)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("lab `{}` has no task `{id}`", lab.spec.id))
    };
    Ok(match effect {
        Effect::Probe => Msg::Probed(probe(shell)),
        Effect::Grade { lab, tasks } => {
            let l = catalog.get(lab)?;
            let specs: Vec<_> = l
                .spec
                .tasks
                .iter()
                .filter(|t| tasks.contains(&t.id))
                .collect();
            // Docker tasks are graded live when an engine answers (as
            // `seclab check` does); else they say they are skipped.
            let needs_docker = specs
                .iter()
                .any(|t| t.needs().contains(&seclab_checkers::Need::Docker));
            let docker = if needs_docker {
                shell.docker().ok()
            } else {
                None
            };
            // A lab's cluster part is graded live on seclab's cluster when
            // one is set up (kind-seclab or SECLAB_CONTEXT); else offline.
            let cluster = crate::cluster::cluster_for(l, &crate::shell::kube::Target::new(None))
                .ok()
                .flatten();
            let (results, snap) = grade_snapshot_live(
                l,
                &specs,
                &workspace(lab)?,
                docker.as_ref(),
                cluster.as_ref(),
            )?;
            record(&config::state_dir()?, l, &results)?;
            Msg::Graded {
                lab: lab.clone(),
                outcome: Ok(Graded {
                    results,
                    answers: snap.answers,
                    progress: progress_now()?,
                }),
            }
        }
        Effect::LoadAnswers { lab } => {
            let path = workspace(lab)?.join(ANSWERS_FILE);
            let answers = match std::fs::read(&path) {
                Ok(bytes) => {
                    let files = LabFiles::from([(ANSWERS_FILE.to_string(), bytes)]);
                    Snapshot::from_files(&files).answers
                }
                Err(_) => serde_json::Value::Null,
            };
            // Report questions read their text from the workspace's report
            // (the CVE picked for this student).
            let l = catalog.get(lab)?;
            let root = workspace(lab)?;
            let mut prompts = std::collections::BTreeMap::new();
            let mut key = None;
            for t in &l.spec.tasks {
                for c in &t.checks {
                    if let seclab_checkers::CheckSpec::ReportQuestion(q) = c {
                        let key = match &key {
                            Some(k) => k,
                            None => key.insert(load_progress(&config::state_dir()?)?.1.pick_key()),
                        };
                        prompts.insert(
                            (t.id.clone(), q.id.clone()),
                            crate::session::report_question_text(q, Some(&root), key),
                        );
                    }
                }
            }
            Msg::AnswersLoaded {
                lab: lab.clone(),
                answers,
                prompts,
            }
        }
        Effect::Start { lab } => {
            let l = catalog.get(lab)?;
            let root = workspace(lab)?;
            let recorded = progress_now()?
                .labs
                .get(lab)
                .and_then(|p| p.workspace.clone());
            let has_files = std::fs::read_dir(&root).is_ok_and(|mut d| d.next().is_some());
            if has_files && recorded.as_deref() == Some(root.as_path()) {
                anyhow::bail!(
                    "{lab} is already started in {}; r resets it to the start files",
                    root.display()
                );
            }
            let (root, _) = start_workspace(l, &root, false)?;
            // The cluster part: set up on seclab's cluster, or why not (a
            // failure there is said, the workspace stays started).
            let cluster = cluster_lines(crate::commands::cluster::start_on_cluster(
                l,
                &Target::new(None),
                &shell.image_map,
            ));
            Msg::Started {
                lab: lab.clone(),
                outcome: Ok((root, progress_now()?)),
                cluster,
            }
        }
        Effect::Reset { lab, task } => {
            let l = catalog.get(lab)?;
            let (_, backup) = reset_workspace(l, task.as_deref())?;
            // A whole lab's reset also re-creates its namespaces.
            let cluster = if task.is_none() {
                cluster_lines(crate::commands::cluster::reset_on_cluster(
                    l,
                    &Target::new(None),
                    &shell.image_map,
                ))
            } else {
                Vec::new()
            };
            Msg::ResetDone {
                lab: lab.clone(),
                task: task.clone(),
                outcome: Ok(backup),
                cluster,
            }
        }
        Effect::RevealHint { lab, task } => {
            let l = catalog.get(lab)?;
            reveal_hint(l, &task_of(l, task)?)?;
            Msg::HintRevealed {
                lab: lab.clone(),
                task: task.clone(),
                outcome: Ok(progress_now()?),
            }
        }
        Effect::Answer {
            lab,
            task,
            question,
            value,
        } => {
            let l = catalog.get(lab)?;
            record_answer(l, &task_of(l, task)?, Some(question), value)?;
            Msg::AnswerSaved {
                lab: lab.clone(),
                task: task.clone(),
                question: question.clone(),
                outcome: Ok(()),
            }
        }
        Effect::ScanImage { lab } => {
            let done = crate::live::scan_image(catalog.get(lab)?, None, false)?;
            Msg::Scanned {
                lab: lab.clone(),
                outcome: Ok(format!(
                    "scanned {} with {}, saved {}",
                    done.image,
                    done.runner,
                    done.report.display()
                )),
            }
        }
        Effect::Apply { lab } => Msg::Applied {
            lab: lab.clone(),
            outcome: Ok(apply_lab(shell, lab)?),
        },
        Effect::Watch { .. } | Effect::WatchCluster { .. } | Effect::Quit | Effect::Demo { .. } => {
            anyhow::bail!("{effect:?} is performed by the loop, not the worker")
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::cluster_fingerprint;

    fn pod(version: &str, ready: bool, restarts: u64) -> serde_json::Value {
        json!({
            "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "scissors", "uid": "u1",
                         "resourceVersion": version, "labels": {"app": "web"}},
            "spec": {"hostPID": true, "containers": [{"name": "web", "image": "nginx"}]},
            "status": {"phase": "Running", "startTime": format!("t{version}"),
                       "conditions": [{"type": "Ready", "lastProbeTime": version}],
                       "containerStatuses": [{"name": "web", "ready": ready,
                                              "restartCount": restarts}]},
        })
    }

    fn policy(name: &str, ingress: bool) -> serde_json::Value {
        let spec = if ingress {
            json!({"podSelector": {}, "policyTypes": ["Ingress"]})
        } else {
            json!({"podSelector": {}, "policyTypes": ["Egress"]})
        };
        json!({"kind": "NetworkPolicy",
               "metadata": {"name": name, "namespace": "three-pods", "resourceVersion": "1"},
               "spec": spec})
    }

    #[test]
    fn the_cluster_fingerprint_moves_with_what_checks_see_only() {
        let base = cluster_fingerprint(&[pod("1", true, 0), policy("deny", true)]);
        // Bookkeeping moves: no change.
        assert_eq!(
            cluster_fingerprint(&[pod("2", true, 0), policy("deny", true)]),
            base
        );
        // The order of the lists does not matter.
        assert_eq!(
            cluster_fingerprint(&[policy("deny", true), pod("1", true, 0)]),
            base
        );
        // Readiness, restarts, a spec, a new or a gone object: changes.
        for other in [
            vec![pod("1", false, 0), policy("deny", true)],
            vec![pod("1", true, 1), policy("deny", true)],
            vec![pod("1", true, 0), policy("deny", false)],
            vec![
                pod("1", true, 0),
                policy("deny", true),
                policy("allow", true),
            ],
            vec![pod("1", true, 0)],
        ] {
            assert_ne!(cluster_fingerprint(&other), base, "{other:?}");
        }
        // A namespace's labels (Pod Security levels) count.
        let ns = |level: &str| {
            json!({"kind": "Namespace", "metadata": {"name": "scissors",
                   "labels": {"pod-security.kubernetes.io/enforce": level}}})
        };
        assert_ne!(
            cluster_fingerprint(&[ns("privileged")]),
            cluster_fingerprint(&[ns("restricted")])
        );
    }
}
