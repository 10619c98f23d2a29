//! `seclab scan-image <lab> --image REF [--skip-db-update]`: trivy scans
//! an image on the Docker engine for the student and saves the JSON report
//! as `report.json` in the lab's workspace, then prints its summary (as
//! `seclab scan trivy` does). See `shell::trivy` for how trivy is run.
//!
//! Exit codes: 0 scanned, 2 no workspace, no engine, no trivy (the message
//! says how to get it), or trivy failed.

use crate::commands::Ctx;
use crate::error::{EXIT_OK, Outcome};
use crate::session::{absolute, load_progress, state, workspace_of};
use crate::shell::docker::{Engine, block_on};
use crate::shell::trivy::{Runner, ScanRequest, scan};

/// The report's name in the workspace.
pub const REPORT_FILE: &str = "report.json";

/// `seclab scan-image`.
pub fn run(ctx: &Ctx, lab_id: &str, image: &str, skip_db_update: bool) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let st = state()?;
    let (p, student) = load_progress(&st)?;
    let root = absolute(&workspace_of(&p, lab_id))?;
    if !root.is_dir() {
        anyhow::bail!(
            "no workspace for {lab_id} at {}: run `seclab start {lab_id}` first",
            root.display()
        );
    }
    let req = ScanRequest {
        lab: lab.spec.id.clone(),
        student: student.id,
        image: image.to_string(),
        output: root.join(REPORT_FILE),
        skip_db_update,
    };
    let runner = block_on(async {
        let engine = Engine::connect().await?;
        scan(&engine, &req).await
    })??;
    match runner {
        Runner::Local(bin) => eprintln!("scanned {image} with {}", bin.display()),
        Runner::Container(img) => eprintln!("scanned {image} in a {img} container"),
    }
    let report = crate::commands::scan::trivy::load(&req.output)?;
    let summary = seclab_checkers::trivy::Summary::of(&req.output.display().to_string(), &report);
    print!("{}", crate::commands::scan::trivy::render_text(&[summary]));
    println!("saved {}", req.output.display());
    Ok(Outcome(EXIT_OK))
}
