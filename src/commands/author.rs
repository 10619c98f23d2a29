//! Commands for lab authors: `validate`, `test`, `new`, `lab hash-answer`,
//! `completions`.

use std::path::Path;

use clap::CommandFactory as _;
use seclab_checkers::quiz;

use crate::cli::{Cli, Output};
use crate::commands::Ctx;
use crate::error::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, Outcome};
use crate::junit::{self, JunitCase};
use crate::labtest::{self, CaseOutcome};

/// `seclab validate`.
pub fn validate(ctx: &Ctx, output: Output) -> anyhow::Result<Outcome> {
    // Every problem of every lab in one run: those that did not load, then
    // each loaded lab's content.
    let all: Vec<crate::error::InputError> = ctx
        .catalog
        .broken
        .iter()
        .map(|(_, e)| e.clone())
        .chain(
            ctx.catalog
                .labs
                .iter()
                .flat_map(crate::lab::validate::validate_lab),
        )
        .collect();
    let problems = all.len();
    let lab_count = ctx.catalog.labs.len() + ctx.catalog.broken.len();
    if output == Output::Json {
        let v: Vec<serde_json::Value> = all
            .iter()
            .map(|p| serde_json::json!({"path": p.path, "line": p.line, "col": p.col, "message": p.message}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"labs": lab_count, "problems": v}))?
        );
        return Ok(Outcome(if problems > 0 { EXIT_USAGE } else { EXIT_OK }));
    }
    for p in &all {
        eprintln!("{p}");
        if let Some(snippet) = p.snippet() {
            eprint!("{snippet}");
        }
    }
    if problems > 0 {
        eprintln!("{problems} problem(s) in {lab_count} lab(s)");
        return Ok(Outcome(EXIT_USAGE));
    }
    println!("{} lab(s) valid", ctx.catalog.labs.len());
    Ok(Outcome(EXIT_OK))
}

/// `seclab test`.
pub fn test(
    ctx: &Ctx,
    offline: bool,
    live: bool,
    only: &[String],
    junit_path: Option<&Path>,
    output: Output,
) -> anyhow::Result<Outcome> {
    let labs: Vec<_> = if only.is_empty() {
        if let Some((_, e)) = ctx.catalog.broken.first() {
            // Testing every lab includes the broken ones.
            ctx.catalog.warn_broken();
            return Err(e.clone().into());
        }
        ctx.catalog.labs.iter().collect()
    } else {
        only.iter()
            .map(|id| ctx.catalog.get(id))
            .collect::<Result<_, _>>()?
    };
    let any_docker = labs.iter().any(|l| crate::live::needs_docker(l));
    let (docker, why_not) = if offline || !any_docker {
        (None, String::new())
    } else {
        match crate::live::Docker::connect(ctx.image_map.clone()) {
            Ok(d) => {
                eprintln!(
                    "note: Docker engine {} (API {}) runs the Docker tasks live",
                    d.facts.version, d.facts.api_version
                );
                (Some(d), String::new())
            }
            Err(e) => {
                let why = format!("needs a Docker engine: {e}");
                eprintln!(
                    "note: {why}; Docker tasks are {}",
                    if live { "failures (--live)" } else { "skipped" }
                );
                (None, why)
            }
        }
    };
    let any_cluster = labs.iter().any(|l| crate::cluster::is_cluster_lab(l));
    let (cluster, cluster_why_not) = if offline || !any_cluster {
        (None, String::new())
    } else {
        let st = crate::config::state_dir()?;
        let known = crate::shell::kube::guard::Known::load(&st)?;
        match crate::cluster::no_cluster_reason(&ctx.target, &known) {
            Some(why) => (None, format!("needs seclab's cluster: {why}")),
            None => {
                match crate::shell::kube::block_on(crate::cluster::connect_owned(&ctx.target, &st))?
                {
                    Ok(o) => {
                        eprintln!(
                            "note: cluster {} (id {}) runs the cluster tasks live",
                            ctx.target.context, o.id
                        );
                        (Some(o), String::new())
                    }
                    Err(e) => (None, format!("needs seclab's cluster: {e:#}")),
                }
            }
        }
    };
    if !offline && any_cluster && cluster.is_none() {
        eprintln!(
            "note: {cluster_why_not}; cluster tasks are {}",
            if live { "failures (--live)" } else { "skipped" }
        );
    }
    let mode = if offline {
        labtest::Mode::Offline
    } else {
        labtest::Mode::Live {
            docker: docker.as_ref(),
            why_not: &why_not,
            required: live,
            cluster: cluster.as_ref(),
            cluster_why_not: &cluster_why_not,
        }
    };
    let mut cases = Vec::new();
    for lab in labs {
        cases.extend(labtest::run_lab_in(lab, mode)?);
    }
    let (passed, failed, skipped) = labtest::counts(&cases);
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&cases)?),
        Output::Text => {
            for c in &cases {
                match &c.outcome {
                    CaseOutcome::Passed => println!("ok      {}", c.name),
                    CaseOutcome::Failed(why) => println!("FAILED  {}: {why}", c.name),
                    CaseOutcome::Skipped(why) => println!("skipped {}: {why}", c.name),
                }
            }
            println!("{passed} passed, {failed} failed, {skipped} skipped");
        }
    }
    if let Some(path) = junit_path {
        let jc: Vec<JunitCase> = cases
            .iter()
            .map(|c| JunitCase {
                suite: c.lab.clone(),
                name: c.name.clone(),
                problem: match &c.outcome {
                    CaseOutcome::Passed => None,
                    CaseOutcome::Failed(m) => Some((true, m.clone())),
                    CaseOutcome::Skipped(m) => Some((false, m.clone())),
                },
            })
            .collect();
        junit::write(path, "seclab test", &jc)?;
    }
    Ok(Outcome(if failed > 0 { EXIT_FINDINGS } else { EXIT_OK }))
}

/// `seclab lab hash-answer`.
pub fn hash_answer(
    salt: Option<&str>,
    multiple: bool,
    short: bool,
    value: &[String],
) -> anyhow::Result<Outcome> {
    let choices: Vec<String> = if short {
        Vec::new()
    } else {
        (0..26).map(quiz::label).collect()
    };
    let normalised = quiz::normalise(&choices, multiple, value)?;
    let salt = match salt {
        Some(s) if !s.is_empty() && !s.contains(':') => s.to_string(),
        Some(_) => anyhow::bail!("--salt must be non-empty and contain no `:`"),
        None => {
            let mut b = [0u8; 6];
            getrandom::fill(&mut b)
                .map_err(|e| anyhow::anyhow!("no randomness for a salt: {e}"))?;
            hex::encode(b)
        }
    };
    println!("{}", quiz::hash_answer(&salt, &normalised));
    Ok(Outcome(EXIT_OK))
}

/// `seclab completions <shell>`.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<Outcome> {
    clap_complete::generate(shell, &mut Cli::command(), "seclab", &mut std::io::stdout());
    Ok(Outcome(EXIT_OK))
}

/// `seclab new <id>`: a lab that validates and tests green from the start,
/// to be edited.
pub fn new_lab(id: &str, dir: &Path) -> anyhow::Result<Outcome> {
    let valid = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        anyhow::bail!("lab id `{id}` must be lower-case letters, digits and `-`");
    }
    let root = dir.join(id);
    if root.exists() {
        anyhow::bail!("{} already exists", root.display());
    }
    let files: [(&str, String); 6] = [
        ("lab.yaml", format!(
            "# yaml-language-server: $schema=../lab.schema.json\nformat_version: 1\nid: {id}\ntitle: A new lab (say what it teaches)\nsummary: >\n  What the student learns here.\ntasks:\n  - id: no-privileged\n    title: Do not run the app privileged\n    instructions: no-privileged.md\n    files: [deployment.yaml]\n    hints:\n      - Look at the container's securityContext.\n    checks:\n      - manifest:\n          target: deployment/app\n          path: spec.template.spec.containers[*].securityContext.privileged\n          op: none\n          value: true\n"
        )),
        ("no-privileged.md", "# Do not run the app privileged\n\nExplain the idea, then the task.\n".to_string()),
        ("start/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      containers:\n        - name: app\n          image: nginx\n          securityContext:\n            privileged: true\n".to_string()),
        ("solution/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      containers:\n        - name: app\n          image: nginx\n          securityContext:\n            privileged: false\n".to_string()),
        ("wrong/still-privileged/expect.yaml", "about: the container is still privileged\nfail: [no-privileged]\n".to_string()),
        ("wrong/still-privileged/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      containers:\n        - name: app\n          image: nginx\n          securityContext:\n            privileged: true\n".to_string()),
    ];
    for (rel, text) in files {
        let p = root.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, text)?;
    }
    // lab.yaml names `../lab.schema.json` for editors: make it resolve in
    // the author's folder too, not only in this repository.
    let schema_path = dir.join("lab.schema.json");
    let schema = crate::lab::model::schema_json();
    let current = std::fs::read_to_string(&schema_path).ok();
    if current.as_deref() != Some(schema.as_str()) {
        std::fs::write(&schema_path, &schema)?;
        println!(
            "{} {} (the lab.yaml schema, for editors)",
            if current.is_some() {
                "updated"
            } else {
                "wrote"
            },
            schema_path.display()
        );
    }
    println!(
        "created {}; try: seclab --labs {} test {id}",
        root.display(),
        dir.display()
    );
    Ok(Outcome(EXIT_OK))
}

/// Whether the engine runs privileged containers, tried with the first
/// lab image that is present (a container labelled as seclab's, removed at
/// once). A refusal is no problem: the privileged steps say they are
/// skipped, with the engine's message.
fn privileged_line(ctx: &Ctx, d: &crate::live::Docker) -> anyhow::Result<(bool, String)> {
    use crate::shell::docker::block_on;
    let mut present = None;
    for image in ctx.catalog.labs.iter().flat_map(crate::live::images_of) {
        let mapped = ctx.image_map.map(&image);
        if block_on(d.engine.image_exists(&mapped))?? {
            present = Some(mapped);
            break;
        }
    }
    let Some(image) = present else {
        return Ok((
            true,
            "privileged containers: not tried (no lab image is present to try with)".into(),
        ));
    };
    Ok(
        match block_on(d.engine.privileged_refusal("seclab-doctor", &image))?? {
            Some(msg) => (
                true,
                format!(
                    "privileged containers: refused by this engine ({msg}); the privileged demo steps are skipped with that message, the quiz still counts"
                ),
            ),
            None => (
                true,
                format!(
                    "privileged containers: allowed (tried with {image}); the privileged demo runs"
                ),
            ),
        },
    )
}

/// The marker line of `doctor`: whether the context's cluster is seclab's.
/// GETs only, and none unless a cluster id is stored for the context.
fn marker_line(ctx: &Ctx) -> (bool, String) {
    use crate::shell::kube::guard::{Known, Ownership, ownership};
    let t = &ctx.target;
    let known = match crate::config::state_dir().and_then(|s| Known::load(&s)) {
        Ok(k) => k,
        Err(e) => return (false, format!("cluster marker: {e:#}")),
    };
    if let Some(why) = crate::cluster::no_cluster_reason(t, &known) {
        return (true, format!("cluster: {why}"));
    }
    let got = crate::shell::kube::block_on(async {
        let c = crate::shell::kube::Cluster::connect(t).await?;
        ownership(&c, &known).await.map(|o| (o, c.server))
    });
    match got {
        Ok(Ok((Ownership::Ours(id), server))) => (
            true,
            format!(
                "cluster: context {} ({server}) carries seclab's marker (cluster id {id})",
                t.context
            ),
        ),
        Ok(Ok((o, server))) => (
            false,
            format!(
                "cluster: context {} ({server}): {}; seclab will not write to it",
                t.context,
                o.refusal(&t.context).unwrap_or_default()
            ),
        ),
        Ok(Err(e)) => (false, format!("cluster: {e}")),
        Err(e) => (false, format!("cluster: {e:#}")),
    }
}

/// `seclab doctor`: the Docker engine and the images each lab runs, kind,
/// kubectl, trivy, disk, inotify, the kubeconfig context and its marker.
pub fn doctor(ctx: &Ctx, output: Output) -> anyhow::Result<Outcome> {
    let mut lines: Vec<(bool, String)> = Vec::new();
    let docker = crate::live::Docker::connect(ctx.image_map.clone());
    match &docker {
        Ok(d) => {
            let f = &d.facts;
            lines.push((
                true,
                format!(
                    "Docker engine {} (API {}) at {}, kernel {}, cgroup v{}",
                    f.version,
                    f.api_version,
                    crate::shell::docker::engine_address(),
                    f.kernel,
                    f.cgroup_version
                ),
            ));
            if f.rootless {
                lines.push((true, "the engine is rootless: root in a container is your own user on the host, not root".into()));
            }
            if f.userns {
                lines.push((true, "the engine remaps users (userns-remap): root in a container is an unprivileged uid on the host".into()));
            }
            if !f.rootless && !f.userns {
                lines.push((true, "the engine is rootful without user remapping: root in a container is root on its host (what the labs show)".into()));
            }
        }
        Err(e) => lines.push((false, format!("{e}"))),
    }
    for lab in &ctx.catalog.labs {
        if !crate::live::needs_docker(lab) {
            continue;
        }
        let mut images: Vec<String> = crate::live::images_of(lab);
        images.sort();
        images.dedup();
        for image in images {
            let shown = ctx.image_map.display(&image);
            match &docker {
                Ok(d) => {
                    let mapped = ctx.image_map.map(&image);
                    let present = crate::shell::docker::block_on(d.engine.image_exists(&mapped))??;
                    lines.push((
                        present,
                        if present {
                            format!("{}: image {shown} is present", lab.spec.id)
                        } else {
                            format!("{}: image {shown} is not present: `docker pull {mapped}` (or map a local stand-in with --image-map)", lab.spec.id)
                        },
                    ));
                }
                Err(_) => lines.push((
                    false,
                    format!(
                        "{}: image {shown} cannot be looked up without an engine",
                        lab.spec.id
                    ),
                )),
            }
        }
    }
    if let Ok(d) = &docker {
        lines.push(privileged_line(ctx, d)?);
    }
    // The cluster labs' images: `seclab up` loads those the engine has into
    // the kind node (a classroom without a registry needs them here).
    if let Ok(d) = &docker {
        let (_, student) = crate::session::load_progress(&crate::config::state_dir()?)?;
        for lab in ctx
            .catalog
            .labs
            .iter()
            .filter(|l| crate::cluster::is_cluster_lab(l))
        {
            for image in crate::commands::cluster::images_of_lab(lab, &student, &ctx.image_map)? {
                let present = crate::shell::docker::block_on(d.engine.image_exists(&image))??;
                lines.push((
                    present,
                    if present {
                        format!("{}: image {image} is present (seclab up loads it into the kind node)", lab.spec.id)
                    } else {
                        format!("{}: image {image} is not present: `docker pull {image}` before `seclab up` (which loads it into the kind node), or the node pulls it at first use", lab.spec.id)
                    },
                ));
            }
        }
    }
    lines.extend(crate::doctor_cluster::lines(&ctx.target.context));
    lines.push(marker_line(ctx));
    let ok = lines.iter().all(|(ok, _)| *ok);
    match output {
        Output::Json => {
            let v: Vec<serde_json::Value> = lines
                .iter()
                .map(|(ok, m)| serde_json::json!({"ok": ok, "message": m}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Output::Text => {
            for (ok, m) in &lines {
                println!("{} {m}", if *ok { "OK     " } else { "PROBLEM" });
            }
        }
    }
    Ok(Outcome::from_ok(ok))
}
