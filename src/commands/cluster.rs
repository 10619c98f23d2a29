//! The cluster commands: `up`, `down`, `status`, `apply`, and the cluster
//! part of `start`, `reset` and `stop` for labs with Kubernetes manifests.
//! Every request goes through the guarded shell: with no cluster id stored
//! for the context nothing is sent; a write needs the marker.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use serde_json::{Value, json};

use crate::cli::Output;
use crate::cluster::{self, Applied};
use crate::commands::Ctx;
use crate::error::{EXIT_OK, Outcome};
use crate::lab::Lab;
use crate::session::{absolute, load_progress, state, workspace_of};
use crate::shell::kube::guard::{Known, Ownership, ownership};
use crate::shell::kube::{self as kube_shell, Cluster, read};

fn print_applied(a: &Applied) {
    for s in &a.applied {
        println!("  applied {s}");
    }
    for s in &a.skipped {
        println!("  not applied: {s}");
    }
}

/// The cluster part of `seclab start`: with a seclab cluster, the lab's
/// namespaces and manifests are applied (after a warning for insecure
/// states); without one, says so and sends nothing.
pub fn start_lab(ctx: &Ctx, lab: &Lab) -> anyhow::Result<()> {
    if !cluster::is_cluster_lab(lab) {
        return Ok(());
    }
    let st = state()?;
    let known = Known::load(&st)?;
    if let Some(why) = cluster::no_cluster_reason(&ctx.target, &known) {
        println!("the cluster part of {} is not set up: {why}", lab.spec.id);
        return Ok(());
    }
    let (_, student) = load_progress(&st)?;
    let objects = cluster::lab_objects(lab, &student, &ctx.image_map)?;
    if let Some(w) = cluster::insecure_warning(&cluster::insecure_settings(&objects)) {
        eprintln!("{w}");
    }
    let applied = kube_shell::block_on(async {
        let owned = cluster::connect_owned(&ctx.target, &st).await?;
        cluster::setup(&owned, lab, &objects).await
    })??;
    println!(
        "set {} up on context {} ({} objects)",
        lab.spec.id,
        ctx.target.context,
        applied.applied.len()
    );
    print_applied(&applied);
    println!(
        "use kubectl with --context {} (never your current context), or `seclab apply {}` after editing",
        ctx.target.context, lab.spec.id
    );
    Ok(())
}

/// The cluster part of `seclab reset`: the lab's namespaces deleted and
/// set up again (no cluster re-create). Nothing when no seclab cluster.
pub fn reset_lab(ctx: &Ctx, lab: &Lab) -> anyhow::Result<()> {
    if !cluster::is_cluster_lab(lab) {
        return Ok(());
    }
    let st = state()?;
    let known = Known::load(&st)?;
    if let Some(why) = cluster::no_cluster_reason(&ctx.target, &known) {
        println!("the cluster part was not reset: {why}");
        return Ok(());
    }
    let (_, student) = load_progress(&st)?;
    let objects = cluster::lab_objects(lab, &student, &ctx.image_map)?;
    let (gone, applied) = kube_shell::block_on(async {
        let owned = cluster::connect_owned(&ctx.target, &st).await?;
        let gone = cluster::teardown(&owned, &lab.spec.id).await?;
        let applied = cluster::setup(&owned, lab, &objects).await?;
        anyhow::Ok((gone, applied))
    })??;
    println!(
        "reset {} on context {}: removed {}, applied {} objects",
        lab.spec.id,
        ctx.target.context,
        if gone.is_empty() {
            "nothing".to_string()
        } else {
            gone.join(", ")
        },
        applied.applied.len()
    );
    Ok(())
}

/// The cluster part of `seclab stop`: removes the lab's namespaces.
pub fn stop_lab(ctx: &Ctx, lab: &Lab) -> anyhow::Result<Vec<String>> {
    let st = state()?;
    let known = Known::load(&st)?;
    if let Some(why) = cluster::no_cluster_reason(&ctx.target, &known) {
        anyhow::bail!("{why}");
    }
    kube_shell::block_on(async {
        let owned = cluster::connect_owned(&ctx.target, &st).await?;
        cluster::teardown(&owned, &lab.spec.id).await
    })?
}

/// `seclab apply <lab>`: the workspace's manifests into the lab's
/// namespaces.
pub fn apply(ctx: &Ctx, lab_id: &str) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    if !cluster::is_cluster_lab(lab) {
        anyhow::bail!("{lab_id} has no cluster part: nothing to apply");
    }
    let st = state()?;
    let (p, student) = load_progress(&st)?;
    let root = absolute(&workspace_of(&p, lab_id))?;
    let ws = crate::shell::files::read_workspace(&root)?;
    let mut snap = crate::grade::Snapshot::from_files(&ws);
    if let Some(e) = snap.manifest_problems().next() {
        return Err(e.clone().into());
    }
    for o in &mut snap.objects {
        cluster::map_images(&mut o.value, &ctx.image_map);
    }
    let objects = cluster::lab_objects(lab, &student, &ctx.image_map)?;
    let applied = kube_shell::block_on(async {
        let owned = cluster::connect_owned(&ctx.target, &st).await?;
        cluster::apply_workspace(&owned, lab, &objects, &snap.objects).await
    })??;
    println!(
        "applied {} object(s) of {} to context {}",
        applied.applied.len(),
        root.display(),
        ctx.target.context
    );
    print_applied(&applied);
    Ok(Outcome(EXIT_OK))
}

/// One pod's line for `status`.
fn pod_line(pod: &seclab_checkers::KubeObject) -> Value {
    let ns = pod
        .value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let phase = pod
        .value
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Unknown");
    let statuses = pod
        .value
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ready = statuses
        .iter()
        .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    let restarts: u64 = statuses
        .iter()
        .filter_map(|c| c.get("restartCount").and_then(Value::as_u64))
        .sum();
    json!({"pod": format!("{ns}/{}", read::name_of(pod)), "phase": phase,
           "ready": format!("{ready}/{}", statuses.len()), "restarts": restarts})
}

/// `seclab status`: GETs only, and none when the kubeconfig lacks the
/// context.
pub fn status(ctx: &Ctx, output: Output) -> anyhow::Result<Outcome> {
    let st = state()?;
    let known = Known::load(&st)?;
    let t = &ctx.target;
    let mut report = json!({
        "context": t.context,
        "kubeconfig": t.kubeconfig_shown(),
        "stored_cluster_id": known.clusters.get(&t.context),
    });
    let mut ok = true;
    if t.exists() {
        report["server"] = json!(t.server());
        let got = kube_shell::block_on(async {
            let c = Cluster::connect(t).await?;
            let version = c.version().await?;
            let own = ownership(&c, &known).await?;
            let mut labs = Vec::new();
            for l in &ctx.catalog.labs {
                if !cluster::is_cluster_lab(l) {
                    continue;
                }
                let ns = read::lab_namespaces(&c, &l.spec.id).await?;
                if ns.is_empty() {
                    continue;
                }
                let pods = read::pods(&c, &l.spec.id).await?;
                labs.push(json!({
                    "lab": l.spec.id,
                    "namespaces": ns.iter().map(read::name_of).collect::<Vec<_>>(),
                    "pods": pods.iter().map(pod_line).collect::<Vec<_>>(),
                }));
            }
            anyhow::Ok((version, own, labs))
        })?;
        match got {
            Ok((version, own, labs)) => {
                report["version"] = json!(version);
                report["marker"] = json!(match &own {
                    Ownership::Ours(id) => format!("seclab's (cluster id {id})"),
                    o => {
                        ok = false;
                        o.refusal(&t.context).unwrap_or_default()
                    }
                });
                report["labs"] = json!(labs);
            }
            Err(e) => {
                ok = false;
                report["error"] = json!(format!("{e:#}"));
            }
        }
    } else {
        ok = false;
        report["error"] = json!(format!(
            "the kubeconfig ({}) has no context {}: `seclab up` creates it; nothing was sent to any cluster",
            t.kubeconfig_shown(),
            t.context
        ));
    }
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => {
            println!("context   {} ({})", t.context, t.kubeconfig_shown());
            if let Some(s) = report.get("server").and_then(Value::as_str) {
                println!("server    {s}");
            }
            if let Some(v) = report.get("version").and_then(Value::as_str) {
                println!("version   {v}");
            }
            if let Some(m) = report.get("marker").and_then(Value::as_str) {
                println!("marker    {m}");
            }
            if let Some(e) = report.get("error").and_then(Value::as_str) {
                println!("problem   {e}");
            }
            for l in report
                .get("labs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                println!("lab       {}", l["lab"].as_str().unwrap_or(""));
                for p in l["pods"].as_array().into_iter().flatten() {
                    println!(
                        "  {} {} ready {} restarts {}",
                        p["pod"].as_str().unwrap_or(""),
                        p["phase"].as_str().unwrap_or(""),
                        p["ready"].as_str().unwrap_or(""),
                        p["restarts"]
                    );
                }
            }
        }
    }
    Ok(Outcome::from_ok(ok))
}

/// Asks `question` on a terminal; `yes` or a non-terminal answers.
pub fn confirm(question: &str, yes: bool) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{question} — not asked without a terminal: pass --yes");
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// `seclab up`.
pub fn up(_ctx: &Ctx, _adopt: bool, _yes: bool) -> anyhow::Result<Outcome> {
    anyhow::bail!("seclab up: not built yet")
}

/// `seclab down`.
pub fn down(_ctx: &Ctx, _yes: bool) -> anyhow::Result<Outcome> {
    anyhow::bail!("seclab down: not built yet")
}
