//! Live grading on a Docker engine: the lifecycle of `../shared/docs/live.md`
//! ("check replaces the lab's containers"). The workspace's Compose
//! services are created through the Docker shell with seclab's labels,
//! the probes the lab's checks name run in order, each container's changes
//! are read, and everything becomes [`LiveFacts`] for the same pure graders
//! that judge the files offline. Before that, the images the lab's
//! `build:` names are built from the workspace (and, when asked, from the
//! lab's pristine start files) and read layer by layer.

use std::path::Path;

use seclab_checkers::CheckSpec;
use seclab_checkers::container::{LiveFacts, LiveService, ProbeCommand, RunConfig};
use seclab_checkers::image::{BuiltImage, BuiltImages, Needle, Original};

use crate::grade::Snapshot;
use crate::lab::{Lab, Student};
use crate::shell::docker::{self, DemoEvent, DemoOutcome, Engine, EngineError, ImageMap};

/// A connected engine with what seclab needs to run labs on it.
#[derive(Debug, Clone)]
pub struct Docker {
    /// The engine.
    pub engine: Engine,
    /// What it is.
    pub facts: seclab_checkers::container::EngineFacts,
    /// Images to run instead of the ones labs name.
    pub map: ImageMap,
}

impl Docker {
    /// Connects to the engine (blocking).
    pub fn connect(map: ImageMap) -> Result<Self, EngineError> {
        docker::block_on(async move {
            let engine = Engine::connect().await?;
            let facts = engine.facts().await?;
            Ok(Self { engine, facts, map })
        })?
    }
}

/// Whether any check of the lab needs a Docker engine.
pub fn needs_docker(lab: &Lab) -> bool {
    lab.spec.needs().contains(&seclab_checkers::Need::Docker)
}

/// A probe as the Docker shell runs it: service, command, user.
pub type ProbeKey = (String, ProbeCommand, Option<String>);

/// The probes the lab's checks name, in lab order, each once.
pub fn probes_of(lab: &Lab) -> Vec<ProbeKey> {
    let mut out: Vec<ProbeKey> = Vec::new();
    for spec in lab.spec.tasks.iter().flat_map(|t| &t.checks) {
        if let CheckSpec::Probe(p) = spec {
            let key = (p.service.clone(), p.run.clone(), p.user.clone());
            if !out.contains(&key) {
                out.push(key);
            }
        }
    }
    out
}

/// The workspace's Compose services (those of the first Compose file);
/// none when it has errors: the offline grading reports them.
pub fn services_of(snap: &Snapshot) -> Vec<RunConfig> {
    let Some(obj) = snap.compose.first() else {
        return Vec::new();
    };
    let file = seclab_checkers::container::compose::parse(obj);
    if file
        .findings
        .iter()
        .any(|f| f.severity == seclab_checkers::Severity::Error)
    {
        return Vec::new();
    }
    file.services
}

/// Replaces the lab's containers with the workspace's services, runs the
/// probes and reads the changes. The containers are left running for the
/// student to look at (`seclab stop` removes them).
pub fn run(
    d: &Docker,
    lab: &Lab,
    student: &Student,
    snap: &Snapshot,
    workspace: &Path,
) -> Result<LiveFacts, EngineError> {
    let services = services_of(snap);
    let probes = probes_of(lab);
    let (images, built_map) = build_images(d, lab, student, workspace)?;
    let mut map = d.map.clone();
    map.extend(&built_map);
    let mut facts = docker::block_on(d.engine.live_facts(
        &lab.spec.id,
        &student.id,
        &services,
        &probes,
        workspace,
        &map,
        seclab_checkers::container::inspect::run_config,
    ))??;
    facts.images = images;
    facts.repo_digests = repo_digests(d, lab, snap, &map)?;
    // Bind sources under the workspace read as the student wrote them.
    let ws = workspace.to_string_lossy();
    for live in facts.services.values_mut() {
        if let LiveService::Running { config, .. } = live {
            *config = seclab_checkers::container::inspect::relative_to(std::mem::take(config), &ws);
        }
    }
    for rc in services.iter().filter(|rc| rc.privileged) {
        if let Some(LiveService::Refused(msg)) = facts.services.get(&rc.service) {
            facts.engine.privileged_refused = Some(msg.clone());
        }
    }
    Ok(facts)
}

/// What `image_id(name=...)` gives in a lab's templates once its images
/// are built: each image's engine ID by its name, and the ID of its build
/// from the lab's start files as `<name>:original`.
pub fn image_ids(images: &seclab_checkers::image::BuiltImages) -> crate::lab::template::ImageIds {
    let mut ids = crate::lab::template::ImageIds::new();
    for (name, image) in images {
        ids.insert(name.clone(), image.id.clone());
        if let Some(o) = &image.original {
            ids.insert(format!("{name}:original"), o.id.clone());
        }
    }
    ids
}

/// Removes the lab's containers and volumes, and the images seclab built
/// for it (never a `seclab.dev/cache` stand-in).
pub fn stop(d: &Docker, lab: &str) -> Result<usize, EngineError> {
    let containers = stop_containers(d, lab)?;
    Ok(containers + docker::block_on(d.engine.remove_lab_images(lab))??)
}

/// Removes the lab's containers and volumes; its built images are kept.
pub fn stop_containers(d: &Docker, lab: &str) -> Result<usize, EngineError> {
    Ok(docker::block_on(d.engine.remove_lab(lab))??.total())
}

/// The engine's `RepoDigests` of each image the lab's `images_pinned`
/// checks name (after the image map), by the reference as written; an
/// image the engine does not have is left out.
fn repo_digests(
    d: &Docker,
    lab: &Lab,
    snap: &Snapshot,
    map: &ImageMap,
) -> Result<std::collections::BTreeMap<String, Vec<String>>, EngineError> {
    let mut out = std::collections::BTreeMap::new();
    for spec in lab.spec.tasks.iter().flat_map(|t| &t.checks) {
        let CheckSpec::ImagesPinned(check) = spec else {
            continue;
        };
        let Ok((refs, _)) =
            seclab_checkers::supply::references(check, &snap.objects, &snap.compose, &snap.texts)
        else {
            continue;
        };
        for (_, reference) in refs {
            if out.contains_key(&reference) {
                continue;
            }
            let inspect = docker::block_on(d.engine.image_inspect(&map.map(&reference)))??;
            if let Some(i) = inspect {
                let digests = i
                    .get("RepoDigests")
                    .and_then(serde_json::Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(serde_json::Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(reference, digests);
            }
        }
    }
    Ok(out)
}

/// The needles the lab's `image:` checks on image `name` search for.
fn needles_for(lab: &Lab, name: &str, student: &Student) -> Vec<Needle> {
    let mut out: Vec<Needle> = Vec::new();
    for spec in lab.spec.tasks.iter().flat_map(|t| &t.checks) {
        if let CheckSpec::Image(i) = spec {
            if i.image != name {
                continue;
            }
            if let Some(n) = i
                .no_secret
                .as_ref()
                .and_then(|s| s.needle(&|f| student.flag(f)))
                && !out.iter().any(|o| o.key == n.key)
            {
                out.push(n);
            }
        }
    }
    out
}

/// Builds the lab's `build:` images from the workspace (and the originals
/// from the start files) and reads them. A build that fails is the
/// image's `error`, not an `Err`. Returns the images and the map from
/// each image's lab name to its tag (for Compose services).
pub fn build_images(
    d: &Docker,
    lab: &Lab,
    student: &Student,
    workspace: &Path,
) -> Result<(BuiltImages, ImageMap), EngineError> {
    let mut images = BuiltImages::new();
    let mut map = ImageMap::new();
    let id = &lab.spec.id;
    for spec in &lab.spec.build {
        let tag = docker::built_tag(id, &spec.name, &student.id, false);
        let context = workspace.join(&spec.context);
        let built = docker::block_on(d.engine.build_for_lab(
            id,
            &student.id,
            &spec.name,
            &context,
            &spec.dockerfile,
            &tag,
            &d.map,
        ))??;
        let mut image = match built {
            Ok(_) => {
                let needles = needles_for(lab, &spec.name, student);
                docker::block_on(d.engine.built_image(&spec.name, &tag, &needles))??
            }
            Err(message) => BuiltImage {
                name: spec.name.clone(),
                error: Some(message),
                ..BuiltImage::default()
            },
        };
        if spec.original && image.error.is_none() {
            image.original = build_original(d, lab, spec, student)?;
        }
        let _ = map.add(&format!("{}={tag}", spec.name));
        images.insert(spec.name.clone(), image);
    }
    Ok((images, map))
}

/// Builds `spec` from the lab's start files, rendered for the student, in
/// a scratch folder: its id and size, `None` when it does not build.
fn build_original(
    d: &Docker,
    lab: &Lab,
    spec: &crate::lab::model::BuildSpec,
    student: &Student,
) -> Result<Option<Original>, EngineError> {
    let io = |path: &Path, e: &dyn std::fmt::Display| EngineError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let files =
        crate::lab::validate::rendered(lab, "start/", student).map_err(|e| EngineError::Io {
            path: lab.file_name("start/").into(),
            message: e.to_string(),
        })?;
    let dir = std::env::temp_dir().join(format!(
        "seclab-original-{}-{}-{}",
        std::process::id(),
        lab.spec.id,
        spec.name
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, bytes) in &files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, &e))?;
        }
        std::fs::write(&p, bytes).map_err(|e| io(&p, &e))?;
    }
    let tag = docker::built_tag(&lab.spec.id, &spec.name, &student.id, true);
    let built = docker::block_on(d.engine.build_for_lab(
        &lab.spec.id,
        &student.id,
        &spec.name,
        &dir.join(&spec.context),
        &spec.dockerfile,
        &tag,
        &d.map,
    ));
    let _ = std::fs::remove_dir_all(&dir);
    if built??.is_err() {
        return Ok(None);
    }
    Ok(docker::block_on(d.engine.image_id_size(&tag))??.map(|(id, size)| Original { id, size }))
}

/// The images a lab runs: its image facts (not globs) and its demo steps'.
pub fn images_of(lab: &Lab) -> Vec<String> {
    let mut out: Vec<String> = lab
        .spec
        .images
        .keys()
        .filter(|k| !k.contains('*'))
        .cloned()
        .collect();
    for step in lab.spec.tasks.iter().flat_map(|t| &t.demo) {
        if let Some(image) = step
            .run
            .as_ref()
            .and_then(|r| r.get("image"))
            .and_then(serde_json::Value::as_str)
            && !out.iter().any(|i| i == image)
        {
            out.push(image.to_string());
        }
    }
    // The bases the lab's own Dockerfiles build on (start and solution):
    // what a classroom pulls before the first build.
    for spec in &lab.spec.build {
        let rel = std::path::Path::new(&spec.context).join(&spec.dockerfile);
        let rel = rel
            .to_string_lossy()
            .trim_start_matches("./")
            .replace("/./", "/");
        for tree in ["start/", "solution/"] {
            let Some(bytes) = lab.files.get(&format!("{tree}{rel}")) else {
                continue;
            };
            let Ok(df) = seclab_checkers::dockerfile::parse(&String::from_utf8_lossy(bytes)) else {
                continue;
            };
            for stage in seclab_checkers::dockerfile::Stages::of(&df).list {
                let image = &stage.image;
                if stage.parent.is_some() || image.is_scratch() || image.unresolved {
                    continue;
                }
                if !out.contains(&image.text) {
                    out.push(image.text.clone());
                }
            }
        }
    }
    out
}

/// One line of a demo's output, as it streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoLine {
    /// The step's sentence.
    Say(String),
    /// A command as the student would type it.
    Command(String),
    /// Output of the command.
    Output(String),
    /// What seclab makes of the output (decoded capabilities).
    Note(String),
    /// The engine refused the step, and why.
    Refused(String),
}

/// Runs a task's demo steps, sending each line to `emit` as it comes; the
/// containers are removed at the end of each step.
pub fn demo(
    d: &Docker,
    lab: &Lab,
    task: &crate::lab::TaskSpec,
    student: &str,
    workspace: &Path,
    emit: &mut dyn FnMut(DemoLine),
) -> Result<(), EngineError> {
    use seclab_checkers::container::{caps, compose};
    for (i, step) in task.demo.iter().enumerate() {
        emit(DemoLine::Say(step.say.clone()));
        let Some(run) = &step.run else { continue };
        let service = format!("demo{}", i + 1);
        let (rc, findings) =
            compose::parse_service(&service, run, &format!("tasks.{}.demo[{i}].run", task.id));
        let Some(rc) = rc else {
            let why: Vec<String> = findings.iter().map(|f| f.message.clone()).collect();
            emit(DemoLine::Refused(format!(
                "the step's container is not valid: {}",
                why.join("; ")
            )));
            continue;
        };
        emit(DemoLine::Command(compose::docker_run(&rc)));
        let commands: Vec<ProbeCommand> = step
            .exec
            .iter()
            .map(|c| ProbeCommand::Shell(c.clone()))
            .collect();
        let mut lines: Vec<DemoLine> = Vec::new();
        let mut container = String::from("<container>");
        let outcome = docker::block_on(d.engine.run_demo_step(
            &lab.spec.id,
            student,
            &rc,
            &commands,
            None,
            workspace,
            &d.map,
            |ev| match ev {
                DemoEvent::Started { container: c } => container = c,
                DemoEvent::Command(argv) => {
                    lines.push(DemoLine::Command(format!(
                        "docker exec {container} {}",
                        shell_words(&argv)
                    )));
                }
                DemoEvent::Line(l) => lines.push(DemoLine::Output(l.text)),
                DemoEvent::Exit(Some(0)) | DemoEvent::Refused(_) => {}
                DemoEvent::Exit(code) => lines.push(DemoLine::Note(format!(
                    "exit code {}",
                    code.map_or_else(|| "none".into(), |c| c.to_string())
                ))),
                DemoEvent::Error(e) => lines.push(DemoLine::Refused(e)),
            },
        ))??;
        for l in lines {
            emit(l);
        }
        match outcome {
            DemoOutcome::Refused(msg) => emit(DemoLine::Refused(if rc.privileged {
                format!("this engine cannot run privileged containers: {msg}")
            } else {
                format!("the engine refused this container: {msg}")
            })),
            DemoOutcome::Ran(results) => {
                if step.decode == Some(crate::lab::model::Decode::Capabilities) {
                    for r in &results {
                        for c in caps::parse_status(&r.stdout) {
                            emit(DemoLine::Note(c.render()));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// An argv as a shell line: words with spaces or quotes single-quoted.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The report's name in the workspace.
pub const REPORT_FILE: &str = "report.json";

/// What `scan_image` did.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// The image scanned, as the engine names it.
    pub image: String,
    /// Which trivy ran it (the local binary's path, or the image).
    pub runner: String,
    /// Where the report is.
    pub report: std::path::PathBuf,
    /// `seclab scan trivy`'s text summary of it.
    pub summary: String,
}

/// The image a lab's `trivy_report` check asks about, as seclab builds it
/// for `student` (`None`: the lab has no such check).
pub fn report_image(lab: &Lab, student: &str) -> Option<String> {
    lab.spec
        .tasks
        .iter()
        .flat_map(|t| &t.checks)
        .find_map(|c| match c {
            CheckSpec::TrivyReport(r) => Some(docker::built_tag(
                &lab.spec.id,
                &r.image,
                student,
                r.original,
            )),
            _ => None,
        })
}

/// Trivy scans `image` (default: [`report_image`]) on the engine for the
/// student and saves the JSON report as `report.json` in the lab's
/// workspace (see `shell::trivy` for how trivy is run: never with the
/// Docker socket).
pub fn scan_image(lab: &Lab, image: Option<&str>, skip_db_update: bool) -> anyhow::Result<Scanned> {
    use crate::session::{absolute, load_progress, state, workspace_of};
    use crate::shell::trivy::{Runner, ScanRequest, scan};
    let lab_id = &lab.spec.id;
    let (p, student) = load_progress(&state()?)?;
    let root = absolute(&workspace_of(&p, lab_id))?;
    if !root.is_dir() {
        anyhow::bail!(
            "no workspace for {lab_id} at {}: run `seclab start {lab_id}` first",
            root.display()
        );
    }
    let image = match image {
        Some(i) => i.to_string(),
        None => report_image(lab, &student.id).ok_or_else(|| {
            anyhow::anyhow!("{lab_id} asks for no trivy report: name the image with --image")
        })?,
    };
    let req = ScanRequest {
        lab: lab_id.clone(),
        student: student.id,
        image: image.clone(),
        output: root.join(REPORT_FILE),
        skip_db_update,
    };
    let runner = docker::block_on(async {
        let engine = Engine::connect().await?;
        if !engine.image_exists(&req.image).await? {
            return Ok(Err(req.image.clone()));
        }
        scan(&engine, &req).await.map(Ok)
    })??;
    let runner = runner.map_err(|missing| {
        anyhow::anyhow!(
            "image {missing} is not on the engine: `seclab check {lab_id}` builds it (or name another with --image)"
        )
    })?;
    let report = crate::commands::scan::trivy::load(&req.output)?;
    let summary = seclab_checkers::trivy::Summary::of(&req.output.display().to_string(), &report);
    Ok(Scanned {
        image,
        runner: match runner {
            Runner::Local(bin) => bin.display().to_string(),
            Runner::Container(img) => format!("a {img} container"),
        },
        report: req.output,
        summary: crate::commands::scan::trivy::render_text(&[summary]),
    })
}
