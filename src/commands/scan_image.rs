//! `seclab scan-image <lab> [--image REF] [--skip-db-update]`: trivy scans
//! an image on the Docker engine for the student and saves the JSON report
//! as `report.json` in the lab's workspace, then prints its summary (as
//! `seclab scan trivy` does). See `shell::trivy` for how trivy is run.
//!
//! Exit codes: 0 scanned, 2 no workspace, no engine, no trivy (the message
//! says how to get it), or trivy failed.

use crate::commands::Ctx;
use crate::error::{EXIT_OK, Outcome};

/// `seclab scan-image`.
pub fn run(
    ctx: &Ctx,
    lab_id: &str,
    image: Option<&str>,
    skip_db_update: bool,
) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let done = crate::live::scan_image(lab, image, skip_db_update)?;
    eprintln!("scanned {} with {}", done.image, done.runner);
    print!("{}", done.summary);
    println!("saved {}", done.report.display());
    Ok(Outcome(EXIT_OK))
}
