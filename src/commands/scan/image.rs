//! `seclab scan image [--output text|json] (IMAGE | --input TAR)`: the
//! inventory of any image — what a scanner that reads package metadata
//! sees, what is really there, and the blind spots between them (see
//! [`seclab_checkers::image::packages`]).
//!
//! Exit codes: 0 no blind spot, 1 blind spots, 2 bad input (no engine, no
//! such image, an archive that does not read).

use std::fmt::Write as _;

use seclab_checkers::image::packages::{Ecosystem, Inventory, View, inventory};

use crate::cli::{ImageArgs, Output};
use crate::error::{InputError, Outcome};
use crate::shell::docker::{self, Engine, read_saved};

/// `seclab scan image`.
pub fn run(args: &ImageArgs) -> anyhow::Result<Outcome> {
    let (name, img) = if let Some(path) = &args.input {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| InputError::new(&shown, format!("cannot read: {e}")))?;
        let saved = read_saved(&bytes, &[]).map_err(|e| InputError::new(&shown, e))?;
        (shown.clone(), saved.into_image(&shown))
    } else {
        let reference = args.image.clone().unwrap_or_default();
        let img = docker::block_on(async {
            let engine = Engine::connect().await?;
            engine.built_image(&reference, &reference, &[]).await
        })??;
        (reference, img)
    };
    let inv = inventory(&img);
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&inv)?),
        Output::Text => print!("{}", render(&name, &inv)),
    }
    Ok(Outcome::from_ok(inv.blind_spots.is_empty()))
}

const ECOSYSTEMS: [(Ecosystem, &str); 4] = [
    (Ecosystem::Os, "OS packages"),
    (Ecosystem::Python, "Python packages"),
    (Ecosystem::Node, "Node packages"),
    (Ecosystem::Go, "Go binaries"),
];

fn listed(view: &View, eco: Ecosystem) -> Vec<String> {
    view.packages
        .iter()
        .filter(|p| p.ecosystem == eco)
        .map(|p| match &p.version {
            Some(v) => format!("{} {v}", p.name),
            None => p.name.clone(),
        })
        .collect()
}

/// The text rendering: the two views as columns, the language packages
/// each view names (OS packages are counted only), then the blind spots.
pub fn render(name: &str, inv: &Inventory) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "image {name}: {} layer{}",
        inv.layers,
        if inv.layers == 1 { "" } else { "s" }
    );
    let _ = writeln!(s, "{:<18}{:<28}really there", "", "a scanner sees");
    let os = |v: &View| v.os.clone().unwrap_or_else(|| "(unknown)".into());
    let _ = writeln!(s, "{:<18}{:<28}{}", "OS", os(&inv.scanner), os(&inv.real));
    for (eco, label) in ECOSYSTEMS {
        let _ = writeln!(
            s,
            "{label:<18}{:<28}{}",
            inv.scanner.count(eco),
            inv.real.count(eco)
        );
    }
    let _ = writeln!(
        s,
        "{:<18}{:<28}{}",
        "native files", inv.scanner.native_files, inv.real.native_files
    );
    for (eco, label) in &ECOSYSTEMS[1..] {
        let seen = listed(&inv.scanner, *eco);
        let real = listed(&inv.real, *eco);
        if real.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n{label}:");
        for p in &real {
            let mark = if seen.contains(p) { "seen  " } else { "UNSEEN" };
            let _ = writeln!(s, "  {mark} {p}");
        }
    }
    if inv.blind_spots.is_empty() {
        let _ = writeln!(
            s,
            "\nno blind spot: a scanner sees everything this image ships"
        );
    } else {
        let _ = writeln!(s, "\nblind spots ({}):", inv.blind_spots.len());
        for b in &inv.blind_spots {
            let _ = writeln!(s, "  [{}] {}", b.technique.as_str(), b.what);
            for p in &b.paths {
                let _ = writeln!(s, "      {p}");
            }
        }
    }
    s
}
