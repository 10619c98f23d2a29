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
use crate::shell::kube::{self as kube_shell, Cluster, KIND_CLUSTER, read};

fn print_applied(a: &Applied) {
    for s in &a.applied {
        println!("  applied {s}");
    }
    for s in &a.skipped {
        println!("  not applied: {s}");
    }
}

/// What the cluster part of start and reset works with: the state dir,
/// the lab's rendered objects and the insecure-state warning — or, when
/// no seclab cluster is stored for the context, why not (nothing sent).
enum Prepared {
    /// No cluster: the reason.
    NoCluster(String),
    /// Ready to act.
    Ready {
        state: std::path::PathBuf,
        objects: Vec<seclab_checkers::KubeObject>,
        lines: Vec<String>,
    },
}

fn prepare(
    lab: &Lab,
    target: &kube_shell::Target,
    map: &crate::shell::docker::ImageMap,
) -> anyhow::Result<Prepared> {
    let st = state()?;
    let known = Known::load(&st)?;
    if let Some(why) = cluster::no_cluster_reason(target, &known) {
        return Ok(Prepared::NoCluster(why));
    }
    let (_, student) = load_progress(&st)?;
    let objects = cluster::lab_objects(lab, &student, map)?;
    let lines = cluster::insecure_warning(&cluster::insecure_settings(&objects))
        .into_iter()
        .collect();
    Ok(Prepared::Ready {
        state: st,
        objects,
        lines,
    })
}

/// The cluster part of `seclab start` (and the TUI's start): with a
/// seclab cluster, the lab's namespaces and manifests are applied (after
/// a warning for insecure states, the first line); without one, one line
/// says so and nothing is sent. No lines for a lab without a cluster part.
pub fn start_on_cluster(
    lab: &Lab,
    target: &kube_shell::Target,
    map: &crate::shell::docker::ImageMap,
) -> anyhow::Result<Vec<String>> {
    if !cluster::is_cluster_lab(lab) {
        return Ok(Vec::new());
    }
    let (st, objects, mut lines) = match prepare(lab, target, map)? {
        Prepared::NoCluster(why) => {
            return Ok(vec![format!(
                "the cluster part of {} is not set up: {why}",
                lab.spec.id
            )]);
        }
        Prepared::Ready {
            state,
            objects,
            lines,
        } => (state, objects, lines),
    };
    let applied = kube_shell::block_on(async {
        let owned = cluster::connect_owned(target, &st).await?;
        cluster::setup(&owned, lab, &objects).await
    })??;
    lines.push(format!(
        "set {} up on context {} ({} objects); use kubectl with --context {} (never your current context), or `seclab apply {}` after editing",
        lab.spec.id,
        target.context,
        applied.applied.len(),
        target.context,
        lab.spec.id
    ));
    lines.extend(applied.skipped.iter().map(|s| format!("not applied: {s}")));
    Ok(lines)
}

/// Prints the cluster part's lines (warnings to stderr).
fn print_lines(lines: &[String]) {
    for l in lines {
        if l.starts_with("warning:") {
            eprintln!("{l}");
        } else {
            println!("{l}");
        }
    }
}

/// The cluster part of `seclab start`, printed.
pub fn start_lab(ctx: &Ctx, lab: &Lab) -> anyhow::Result<()> {
    print_lines(&start_on_cluster(lab, &ctx.target, &ctx.image_map)?);
    Ok(())
}

/// The cluster part of `seclab reset` (and the TUI's reset of a whole
/// lab): the lab's namespaces deleted and set up again (no cluster
/// re-create). One line when no seclab cluster (nothing sent).
pub fn reset_on_cluster(
    lab: &Lab,
    target: &kube_shell::Target,
    map: &crate::shell::docker::ImageMap,
) -> anyhow::Result<Vec<String>> {
    if !cluster::is_cluster_lab(lab) {
        return Ok(Vec::new());
    }
    let (st, objects, mut lines) = match prepare(lab, target, map)? {
        Prepared::NoCluster(why) => {
            return Ok(vec![format!("the cluster part was not reset: {why}")]);
        }
        Prepared::Ready {
            state,
            objects,
            lines,
        } => (state, objects, lines),
    };
    let (gone, applied) = kube_shell::block_on(async {
        let owned = cluster::connect_owned(target, &st).await?;
        let gone = cluster::teardown(&owned, &lab.spec.id).await?;
        let applied = cluster::setup(&owned, lab, &objects).await?;
        anyhow::Ok((gone, applied))
    })??;
    lines.push(format!(
        "reset {} on context {}: removed {}, applied {} objects",
        lab.spec.id,
        target.context,
        if gone.is_empty() {
            "nothing".to_string()
        } else {
            gone.join(", ")
        },
        applied.applied.len()
    ));
    Ok(lines)
}

/// The cluster part of `seclab reset`, printed.
pub fn reset_lab(ctx: &Ctx, lab: &Lab) -> anyhow::Result<()> {
    print_lines(&reset_on_cluster(lab, &ctx.target, &ctx.image_map)?);
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
        let mut gone = cluster::teardown(&owned, &lab.spec.id).await?;
        gone.extend(cluster::restore_audit_policy(&owned, lab).await?);
        Ok(gone)
    })?
}

/// `seclab apply <lab>`: the workspace's manifests into the lab's
/// namespaces.
pub fn apply(ctx: &Ctx, lab_id: &str) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let (p, _) = load_progress(&state()?)?;
    let root = absolute(&workspace_of(&p, lab_id))?;
    let applied = cluster::apply_workspace_at(lab, &ctx.target, &ctx.image_map, &root)?;
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
            let kyverno = cluster::kyverno_state(&c).await;
            anyhow::Ok((version, own, labs, kyverno))
        })?;
        match got {
            Ok((version, own, labs, kyverno)) => {
                report["version"] = json!(version);
                report["kyverno"] = json!(kyverno);
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
            if let Some(k) = report.get("kyverno").and_then(Value::as_str) {
                println!("kyverno   {k}");
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

/// The images one cluster lab runs (its manifests, start and solution
/// files), mapped: what `up` loads into the kind node for it.
pub fn images_of_lab(
    lab: &Lab,
    student: &crate::lab::Student,
    map: &crate::shell::docker::ImageMap,
) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |v: &Value| {
        let mut found = Vec::new();
        collect_images(v, &mut found);
        for i in found {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    };
    let objects = cluster::lab_objects(lab, student, map)?;
    let namespaces: Vec<String> = cluster::lab_namespaces(&objects)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for o in &objects {
        add(&o.value);
    }
    // Of the student's files, what `apply` would send: objects in the
    // lab's namespaces (not, say, netpol's model of kube-system).
    for dir in ["start/", "solution/"] {
        let tree = crate::lab::template::render_tree(&lab.tree(dir), student, dir)?;
        for mut o in crate::grade::Snapshot::from_manifest_files(&tree).objects {
            let ns = o
                .value
                .pointer("/metadata/namespace")
                .and_then(Value::as_str);
            if !ns.is_some_and(|n| namespaces.iter().any(|x| x == n)) {
                continue;
            }
            cluster::map_images(&mut o.value, map);
            add(&o.value);
        }
    }
    Ok(out)
}

/// The images every cluster lab runs, each once.
fn lab_images(ctx: &Ctx, student: &crate::lab::Student) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for lab in ctx
        .catalog
        .labs
        .iter()
        .filter(|l| cluster::is_cluster_lab(l))
    {
        for i in images_of_lab(lab, student, &ctx.image_map)? {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    Ok(out)
}

fn collect_images(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for key in ["containers", "initContainers"] {
                for c in m.get(key).and_then(Value::as_array).into_iter().flatten() {
                    if let Some(i) = c.get("image").and_then(Value::as_str) {
                        out.push(i.to_string());
                    }
                }
            }
            m.values().for_each(|c| collect_images(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_images(c, out)),
        _ => {}
    }
}

/// Loads the labs' images that the local engine has into the kind node;
/// the others are named (the node pulls them at first use, if it can).
fn load_images(ctx: &Ctx, kind: &crate::shell::kind::Kind) -> anyhow::Result<()> {
    let (_, student) = load_progress(&state()?)?;
    let images = lab_images(ctx, &student)?;
    let engine = match crate::live::Docker::connect(ctx.image_map.clone()) {
        Ok(e) => e,
        Err(e) => {
            println!("  no images loaded: {e}");
            return Ok(());
        }
    };
    let mut present = Vec::new();
    for i in images {
        if crate::shell::docker::block_on(engine.engine.image_exists(&i))?? {
            present.push(i);
        } else {
            println!(
                "  {i} is not in the local engine: the node pulls it at first use (without a registry: `docker pull {i}` or --image-map to a local image, then `seclab up` again)"
            );
        }
    }
    let loaded = kind.load_images(KIND_CLUSTER, &present, &mut |l| println!("  {l}"))?;
    println!("loaded {} image(s) into the kind node", loaded.len());
    Ok(())
}

/// Waits for the nodes to be Ready and CoreDNS to be available, saying
/// what it waits for.
async fn wait_ready(c: &Cluster, timeout: std::time::Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = String::new();
    loop {
        let (ready, total) = read::nodes_ready(c).await?;
        let dns = read::coredns_available(c).await?;
        let now = format!(
            "nodes ready {ready}/{total}, CoreDNS {}",
            if dns { "available" } else { "starting" }
        );
        if now != last {
            println!("  {now}");
            last = now;
        }
        if total > 0 && ready == total && dns {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "the cluster is not ready after {}s ({last})",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}

/// `seclab up`: creates the kind cluster `seclab` (or says it is up, or
/// adopts it with `--adopt`), waits for it, loads the labs' images and
/// writes seclab's marker.
pub fn up(
    ctx: &Ctx,
    adopt: bool,
    yes: bool,
    with: &[crate::cli::Addon],
    kyverno_manifest: Option<&str>,
) -> anyhow::Result<Outcome> {
    use crate::shell::kind::{Kind, write_cluster_files};
    if ctx.target.context != kube_shell::DEFAULT_CONTEXT {
        anyhow::bail!(
            "seclab up creates the kind cluster {KIND_CLUSTER} with context {}; --context {} names a cluster that exists (seclab class work writes markers on those)",
            kube_shell::DEFAULT_CONTEXT,
            ctx.target.context
        );
    }
    let kind = Kind::find()?;
    let st = state()?;
    let mut known = Known::load(&st)?;
    let t = &ctx.target;
    let exists = kind.clusters()?.iter().any(|c| c == KIND_CLUSTER);
    if exists {
        let c = kube_shell::block_on(Cluster::connect(t))??;
        let own = kube_shell::block_on(ownership(&c, &known))??;
        match own {
            Ownership::Ours(id) => {
                println!("the kind cluster {KIND_CLUSTER} is up and seclab's (cluster id {id})");
                load_images(ctx, &kind)?;
                if with.contains(&crate::cli::Addon::Kyverno) {
                    let owned = kube_shell::block_on(crate::shell::kube::guard::own(c, &known))??;
                    install_kyverno(&owned, kyverno_manifest)?;
                }
                return Ok(Outcome(EXIT_OK));
            }
            Ownership::Unmarked => anyhow::bail!(
                "a kind cluster named {KIND_CLUSTER} exists and carries no seclab marker: seclab does not touch it. Remove it with `kind delete cluster --name {KIND_CLUSTER}` if it is a leftover, or keep it under another name (kind cannot rename: recreate yours with `kind create cluster --name <other>`) and run `seclab up` again"
            ),
            Ownership::Foreign { marker, .. } if adopt => {
                let nodes = kind.node_containers(KIND_CLUSTER)?;
                let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
                let q = format!(
                    "adopt the kind cluster {KIND_CLUSTER} (node containers {}, context {}, server {}) with marker id {marker} as this state dir's?",
                    names.join(", "),
                    t.context,
                    c.server
                );
                if !confirm(&q, yes)? {
                    println!("not adopted");
                    return Ok(Outcome(crate::error::EXIT_FINDINGS));
                }
                known.clusters.insert(t.context.clone(), marker.clone());
                known.save(&st)?;
                println!("adopted {KIND_CLUSTER} (cluster id {marker})");
                return Ok(Outcome(EXIT_OK));
            }
            Ownership::Foreign { .. } => anyhow::bail!(
                "the kind cluster {KIND_CLUSTER} carries a seclab marker this state dir does not know ({}): `seclab up --adopt` takes it over after asking",
                own.refusal(&t.context).unwrap_or_default()
            ),
        }
    }
    if adopt {
        anyhow::bail!("there is no kind cluster {KIND_CLUSTER} to adopt: `seclab up` creates one");
    }
    let config = write_cluster_files(&st.join("kind"))?;
    println!(
        "creating the kind cluster {KIND_CLUSTER} ({})",
        config.display()
    );
    kind.create(KIND_CLUSTER, &config, None, &mut |l| println!("  {l}"))?;
    let c = kube_shell::block_on(Cluster::connect(t))??;
    println!("waiting for the node and CoreDNS");
    kube_shell::block_on(wait_ready(&c, std::time::Duration::from_secs(300)))??;
    load_images(ctx, &kind)?;
    let owned = kube_shell::block_on(crate::shell::kube::guard::claim(c))??;
    known.clusters.insert(t.context.clone(), owned.id.clone());
    known.save(&st)?;
    println!(
        "the kind cluster {KIND_CLUSTER} is up: context {}, cluster id {} (marker ConfigMap seclab-system/seclab-marker)",
        t.context, owned.id
    );
    if with.contains(&crate::cli::Addon::Kyverno) {
        install_kyverno(&owned, kyverno_manifest)?;
    }
    Ok(Outcome(EXIT_OK))
}

/// The Kyverno release `seclab up --with kyverno` installs.
pub const KYVERNO_MANIFEST: &str =
    "https://github.com/kyverno/kyverno/releases/download/v1.15.2/install.yaml";

/// Reads the Kyverno manifest: a file, or an http(s) URL fetched with curl.
fn kyverno_text(source: &str) -> anyhow::Result<String> {
    if source.starts_with("https://") || source.starts_with("http://") {
        println!("fetching {source}");
        let out = std::process::Command::new("curl")
            .args(["-fsSL", "--max-time", "120", source])
            .output()
            .map_err(|e| anyhow::anyhow!("fetching {source} needs curl: {e}"))?;
        if !out.status.success() {
            anyhow::bail!(
                "fetching {source} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        return Ok(String::from_utf8(out.stdout)?);
    }
    std::fs::read_to_string(source).map_err(|e| anyhow::anyhow!("{source}: {e}"))
}

/// `seclab up --with kyverno`: Kyverno's install manifest server-side
/// applied into the owned cluster (objects labelled
/// `seclab.dev/lab=seclab-kyverno`; namespaced ones only into `kyverno`,
/// cluster-scoped ones only when new or already seclab's), then a wait for
/// its admission controller to be available.
pub fn install_kyverno(
    owned: &crate::shell::kube::guard::Owned,
    manifest: Option<&str>,
) -> anyhow::Result<()> {
    let source = manifest.unwrap_or(KYVERNO_MANIFEST);
    let text = kyverno_text(source)?;
    let mut files = crate::lab::LabFiles::new();
    files.insert(source.to_string(), text.into_bytes());
    let mut snap = crate::grade::Snapshot::from_manifest_files(&files);
    if !snap.problems.is_empty() {
        return Err(snap.problems.swap_remove(0).into());
    }
    if !snap
        .objects
        .iter()
        .any(|o| o.kind() == "Deployment" && read::name_of(o) == cluster::KYVERNO_CONTROLLER)
    {
        anyhow::bail!(
            "{source} has no Deployment {}: not a Kyverno install manifest",
            cluster::KYVERNO_CONTROLLER
        );
    }
    // CRDs first: the rest may use them.
    snap.objects
        .sort_by_key(|o| u8::from(o.kind() != "CustomResourceDefinition"));
    println!(
        "installing Kyverno ({source}, {} objects)",
        snap.objects.len()
    );
    let applied = kube_shell::block_on(cluster::apply_objects(
        owned,
        cluster::KYVERNO_OWNER,
        &[cluster::KYVERNO_NAMESPACE.to_string()],
        &snap.objects,
    ))??;
    for s in &applied.skipped {
        println!("  skipped {s}");
    }
    println!(
        "  applied {} objects; waiting for {}/{}",
        applied.applied.len(),
        cluster::KYVERNO_NAMESPACE,
        cluster::KYVERNO_CONTROLLER
    );
    kube_shell::block_on(cluster::wait_kyverno(
        owned.cluster(),
        std::time::Duration::from_secs(300),
    ))??;
    println!("Kyverno is installed and its admission controller is available");
    Ok(())
}

/// `seclab down`: deletes the kind cluster, only when its marker is ours.
pub fn down(ctx: &Ctx, yes: bool) -> anyhow::Result<Outcome> {
    use crate::shell::kind::Kind;
    let kind = Kind::find()?;
    let st = state()?;
    let mut known = Known::load(&st)?;
    let t = &ctx.target;
    if t.context != kube_shell::DEFAULT_CONTEXT {
        anyhow::bail!(
            "seclab down deletes only seclab's kind cluster (context {}), not {}",
            kube_shell::DEFAULT_CONTEXT,
            t.context
        );
    }
    if !kind.clusters()?.iter().any(|c| c == KIND_CLUSTER) {
        println!("there is no kind cluster {KIND_CLUSTER}");
        if known.clusters.remove(&t.context).is_some() {
            known.save(&st)?;
        }
        return Ok(Outcome(EXIT_OK));
    }
    let owned = kube_shell::block_on(cluster::connect_owned(t, &st))??;
    if !confirm(
        &format!(
            "delete the kind cluster {KIND_CLUSTER} (cluster id {}) and every lab on it?",
            owned.id
        ),
        yes,
    )? {
        println!("kept");
        return Ok(Outcome(crate::error::EXIT_FINDINGS));
    }
    kind.delete(KIND_CLUSTER)?;
    known.clusters.remove(&t.context);
    known.save(&st)?;
    println!("deleted the kind cluster {KIND_CLUSTER}");
    Ok(Outcome(EXIT_OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_images_up_loads_are_the_labs_own_not_the_kube_system_model() {
        let catalog = crate::lab::Catalog::load(None).unwrap();
        let student = crate::lab::Student::test();
        let map = crate::shell::docker::ImageMap::default();
        let of = |id: &str| images_of_lab(catalog.get(id).unwrap(), &student, &map).unwrap();
        assert_eq!(of("netpol-three-pods"), ["busybox:1.36.1"]);
        assert_eq!(of("sa-token"), ["curlimages/curl:8.11.1"]);
        assert_eq!(of("audit-logs"), ["curlimages/curl:8.11.1"]);
        assert_eq!(
            of("pss-scissors"),
            ["nginx:1.27", "nginxinc/nginx-unprivileged:1.27"]
        );
        // Mapped as the image map says.
        let map = crate::shell::docker::ImageMap::parse("busybox:1.36.1=seclab-local/busybox:1.36")
            .unwrap();
        let l = catalog.get("netpol-three-pods").unwrap();
        assert_eq!(
            images_of_lab(l, &student, &map).unwrap(),
            ["seclab-local/busybox:1.36"]
        );
    }
}
