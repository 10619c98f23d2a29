//! One function per command: load what it needs, do the work, print, and
//! return the exit code. Student commands live in [`student`], lab-author
//! commands in [`author`].

pub mod author;
pub mod cluster;
pub mod scan;
pub mod scan_image;
pub mod student;

use std::path::PathBuf;

use crate::cli::{Cli, Command, LabCommand};
use crate::error::Outcome;
use crate::lab::Catalog;

/// What every command may need, loaded on demand.
#[derive(Debug)]
pub struct Ctx {
    /// The labs.
    pub catalog: Catalog,
    /// `--labs`, when given.
    pub external: Option<PathBuf>,
    /// `--image-map` / `SECLAB_IMAGE_MAP`.
    pub image_map: crate::shell::docker::ImageMap,
    /// The cluster for cluster labs (`--context`, default kind-seclab).
    pub target: crate::shell::kube::Target,
}

impl Ctx {
    /// Loads the catalog; says so when external labs are in play.
    pub fn load(external: Option<PathBuf>) -> anyhow::Result<Self> {
        let catalog = Catalog::load(external.as_deref())?;
        if let Some(dir) = &external {
            eprintln!(
                "note: also using labs from {} ({} external)",
                dir.display(),
                catalog
                    .labs
                    .iter()
                    .filter(|l| l.origin != crate::lab::Origin::BuiltIn)
                    .count()
            );
        }
        Ok(Self {
            catalog,
            external,
            image_map: crate::shell::docker::ImageMap::default(),
            target: crate::shell::kube::Target::new(None),
        })
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    // Commands that need no labs.
    match &cli.command {
        Some(Command::Completions { shell }) => return author::completions(*shell),
        Some(Command::Lab {
            command:
                LabCommand::HashAnswer {
                    salt,
                    multiple,
                    short,
                    value,
                },
        }) => {
            return author::hash_answer(salt.as_deref(), *multiple, *short, value);
        }
        Some(Command::Lab {
            command: LabCommand::Schema,
        }) => {
            print!("{}", crate::lab::model::schema_json());
            return Ok(Outcome(0));
        }
        Some(Command::New { id, dir }) => return author::new_lab(id, dir),
        Some(Command::Scan { command }) => return scan::run(command),
        _ => {}
    }
    let mut ctx = Ctx::load(cli.labs.clone())?;
    for pair in &cli.image_map {
        ctx.image_map
            .add(pair)
            .map_err(|e| crate::error::InputError::new("--image-map", e))?;
    }
    ctx.target = crate::shell::kube::Target::new(cli.context.as_deref());
    match cli.command {
        // The TUI in a terminal; the plain list in a pipe.
        None if crate::runtime::is_interactive() => {
            ctx.catalog.warn_broken();
            crate::runtime::run(ctx.catalog, ctx.image_map)
        }
        None => student::list(&ctx, crate::cli::Output::Text, true),
        Some(Command::List { output }) => student::list(&ctx, output, false),
        Some(Command::Show { lab, task, output }) => {
            student::show(&ctx, &lab, task.as_deref(), output)
        }
        Some(Command::Start {
            lab,
            workspace,
            force,
        }) => student::start(&ctx, &lab, workspace, force),
        Some(Command::Reset { lab, task, restore }) => {
            if restore {
                student::restore(&ctx, &lab)
            } else {
                student::reset(&ctx, &lab, task.as_deref())
            }
        }
        Some(Command::Check {
            lab,
            task,
            watch,
            poll,
            output,
            junit,
        }) => student::check(
            &ctx,
            &lab,
            task.as_deref(),
            watch,
            poll,
            output,
            junit.as_deref(),
        ),
        Some(Command::Hint { lab, task }) => student::hint(&ctx, &lab, &task),
        Some(Command::Answer {
            lab,
            task,
            question,
            value,
        }) => student::answer(&ctx, &lab, &task, question.as_deref(), &value),
        Some(Command::Progress { output, junit }) => {
            student::progress(&ctx, output, junit.as_deref())
        }
        Some(Command::Clean { lab, yes }) => student::clean(&ctx, lab.as_deref(), yes),
        Some(Command::Validate { output }) => author::validate(&ctx, output),
        Some(Command::Test {
            offline,
            live,
            labs_to_test,
            junit,
            output,
        }) => author::test(&ctx, offline, live, &labs_to_test, junit.as_deref(), output),
        Some(Command::Stop { lab }) => student::stop(&ctx, &lab),
        Some(Command::Up {
            adopt,
            yes,
            with,
            kyverno_manifest,
        }) => cluster::up(&ctx, adopt, yes, &with, kyverno_manifest.as_deref()),
        Some(Command::Down { yes }) => cluster::down(&ctx, yes),
        Some(Command::Status { output }) => cluster::status(&ctx, output),
        Some(Command::Apply { lab }) => cluster::apply(&ctx, &lab),
        Some(Command::Demo { lab, task }) => student::demo(&ctx, &lab, task.as_deref()),
        Some(Command::Doctor { output }) => author::doctor(&ctx, output),
        Some(Command::ScanImage {
            lab,
            image,
            skip_db_update,
        }) => scan_image::run(&ctx, &lab, image.as_deref(), skip_db_update),
        Some(
            Command::Completions { .. }
            | Command::Lab { .. }
            | Command::New { .. }
            | Command::Scan { .. },
        ) => Ok(Outcome(0)),
    }
}
