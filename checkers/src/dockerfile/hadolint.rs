//! hadolint's rules on users, base images, `ADD`, `sudo` and exec form
//! (DL3002, DL3004, DL3006, DL3007, DL3020, DL3025), and trivy's two that
//! differ from them: DS-0001 (a base untagged or `latest` after `ARG`
//! defaults are substituted, `COPY --from=<image>` too) and DS-0002 (the
//! final image runs as root, no `USER` at all included).

use super::parse::{Dockerfile, Instruction};
use super::stages::{ImageRef, Stage, Stages};
use super::{Hit, Level, run_commands};

/// Whether a `USER` value is root: `root`, `0`, `root:<group>`, `0:<group>`.
pub fn is_root_user(value: &str) -> bool {
    let user = value.split(':').next().unwrap_or("").trim();
    user == "root" || user == "0"
}

/// The last `USER` instruction of a stage's own instructions.
fn own_user<'a>(df: &'a Dockerfile, stage: &Stage) -> Option<&'a Instruction> {
    df.instructions
        .get(stage.from..stage.end)?
        .iter()
        .rev()
        .find(|i| i.keyword == "USER")
}

/// The `USER` in effect at the end of a stage: its own last `USER`, or the
/// one of the stage it builds on.
pub fn effective_user<'a>(
    df: &'a Dockerfile,
    st: &Stages,
    index: usize,
) -> Option<&'a Instruction> {
    st.chain(index).into_iter().find_map(|s| own_user(df, s))
}

/// Whether the base image's default user is known not to be root (the
/// distroless and Chainguard `nonroot` variants).
fn base_is_nonroot(image: &ImageRef) -> bool {
    image.tag.as_deref().is_some_and(|t| t.contains("nonroot"))
}

/// Archive suffixes `ADD` extracts.
const ARCHIVES: &[&str] = &[
    ".tar",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tbz2",
    ".tb2",
    ".tar.xz",
    ".txz",
    ".tar.lz",
    ".tlz",
    ".tar.lzma",
    ".tar.z",
    ".tar.zst",
    ".gz",
    ".bz2",
    ".xz",
    ".zip",
    ".lz",
    ".lzma",
    ".z",
];

/// The sources of a `COPY` or `ADD` (every argument but the destination).
pub fn copy_sources(ins: &Instruction) -> Vec<String> {
    let mut words: Vec<String> = match &ins.json {
        Some(j) => j.clone(),
        None => super::shell::words(ins.rest())
            .into_iter()
            .map(|w| w.text)
            .collect(),
    };
    words.pop();
    words
}

/// The destination of a `COPY` or `ADD`.
pub fn copy_dest(ins: &Instruction) -> Option<String> {
    match &ins.json {
        Some(j) => j.last().cloned(),
        None => super::shell::words(ins.rest()).pop().map(|w| w.text),
    }
}

fn is_stage_name(st: &Stages, stage: &Stage, name: &str) -> bool {
    st.named(name, stage.index).is_some()
}

/// The hits of these rules.
pub fn rules(df: &Dockerfile, st: &Stages) -> Vec<Hit> {
    let mut hits = Vec::new();
    for stage in &st.list {
        // DL3002, per stage, inherited through `FROM <stage>`.
        if let Some(user) = effective_user(df, st, stage.index)
            && is_root_user(user.rest())
        {
            hits.push(Hit::at(
                    "DL3002",
                    Level::Warning,
                    user,
                    format!(
                        "the last USER of stage {} is root (`USER {}`): switch to a non-root user at the end of the stage",
                        stage_label(stage),
                        user.rest()
                    ),
                ));
        }
        base_image_rules(df, st, stage, &mut hits);
    }
    if let Some(last) = st.last() {
        final_user(df, st, last, &mut hits);
    }
    for (i, ins) in df.instructions.iter().enumerate() {
        match ins.keyword.as_str() {
            "RUN" if run_commands(ins).iter().any(|c| c.name() == "sudo") => {
                hits.push(Hit::at(
                    "DL3004",
                    Level::Error,
                    ins,
                    "sudo in RUN: RUN already runs as the stage's USER; use USER (or gosu/su-exec at run time) instead".into(),
                ));
            }
            "ADD" => add_rule(ins, &mut hits),
            "HEALTHCHECK" => {
                let rest = ins.rest();
                let cmd = rest
                    .get(..3)
                    .filter(|k| k.eq_ignore_ascii_case("cmd"))
                    .and_then(|_| rest.get(3..))
                    .map(str::trim);
                if cmd.is_some_and(|c| serde_json::from_str::<Vec<String>>(c).is_err()) {
                    hits.push(Hit::at(
                        "DL3025",
                        Level::Warning,
                        ins,
                        "HEALTHCHECK CMD in shell form needs /bin/sh in the image: use the JSON form [\"...\", \"...\"]".into(),
                    ));
                }
            }
            "CMD" | "ENTRYPOINT" if ins.json.is_none() => hits.push(Hit::at(
                "DL3025",
                Level::Warning,
                ins,
                format!(
                    "{} in shell form runs under /bin/sh -c, which does not pass signals on: use the JSON form [\"...\", \"...\"]",
                    ins.keyword
                ),
            )),
            "COPY" => {
                if let (Some(from), Some(stage)) = (ins.flag("from"), st.of_instruction(i)) {
                    let name = from.value.clone().unwrap_or_default();
                    if !is_stage_name(st, stage, &name) && name.parse::<usize>().is_err() {
                        let image = ImageRef::new(&name, &name, name.contains('$'));
                        if let Some(why) = unpinned(&image) {
                            hits.push(Hit::at(
                                "DS-0001",
                                Level::Warning,
                                ins,
                                format!("COPY --from={name}: the image {why}: name a tag such as :1.2 (or a digest)"),
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    hits
}

fn stage_label(stage: &Stage) -> String {
    match &stage.alias {
        Some(a) => format!("`{a}`"),
        None => format!("{}", stage.index),
    }
}

/// Why a resolved image is not pinned to a tag, if it is not.
fn unpinned(image: &ImageRef) -> Option<&'static str> {
    if image.unresolved || image.is_scratch() || image.digest.is_some() {
        return None;
    }
    match image.tag.as_deref() {
        None => Some("has no tag, which means latest"),
        Some("latest") => Some("is tagged latest"),
        Some(_) => None,
    }
}

fn base_image_rules(df: &Dockerfile, st: &Stages, stage: &Stage, hits: &mut Vec<Hit>) {
    let Some(from) = df.instructions.get(stage.from) else {
        return;
    };
    let raw = ImageRef::new(&stage.image.raw, &stage.image.raw, false);
    let is_alias = is_stage_name(st, stage, &stage.image.raw);
    let literal = !raw.raw.contains('$');
    if literal && !is_alias && !raw.is_scratch() && raw.digest.is_none() {
        match raw.tag.as_deref() {
            None => hits.push(Hit::at(
                "DL3006",
                Level::Warning,
                from,
                format!(
                    "FROM {} has no tag, so it builds on whatever latest is that day: name a version (e.g. {}:1.2)",
                    raw.raw, raw.name
                ),
            )),
            Some("latest") => hits.push(Hit::at(
                "DL3007",
                Level::Warning,
                from,
                format!(
                    "FROM {}: latest moves; pin a release tag (or a digest)",
                    raw.raw
                ),
            )),
            Some(_) => {}
        }
    }
    if stage.parent.is_none()
        && let Some(why) = unpinned(&stage.image)
    {
        let via = if stage.image.raw == stage.image.text {
            String::new()
        } else {
            format!(
                " (`{}` with the ARG defaults is `{}`)",
                stage.image.raw, stage.image.text
            )
        };
        hits.push(Hit::at(
            "DS-0001",
            Level::Warning,
            from,
            format!(
                "the base image {}{via} {why}: name a tag such as :1.2 (or a digest)",
                stage.image.text
            ),
        ));
    }
}

fn final_user(df: &Dockerfile, st: &Stages, last: &Stage, hits: &mut Vec<Hit>) {
    match effective_user(df, st, last.index) {
        Some(user) if is_root_user(user.rest()) => hits.push(Hit::at(
            "DS-0002",
            Level::Error,
            user,
            format!(
                "the final image runs as root (`USER {}`): end the final stage with a non-root USER",
                user.rest()
            ),
        )),
        Some(_) => {}
        None => {
            let base = st.root_image(last.index);
            if base.is_some_and(base_is_nonroot) {
                return;
            }
            if let Some(from) = df.instructions.get(last.from) {
                hits.push(Hit::at(
                    "DS-0002",
                    Level::Error,
                    from,
                    format!(
                        "the final stage (FROM {}) sets no USER, so the image runs as its base's user, root unless the base says otherwise: add a non-root USER",
                        last.image.raw
                    ),
                ));
            }
        }
    }
}

fn add_rule(ins: &Instruction, hits: &mut Vec<Hit>) {
    let local = copy_sources(ins).into_iter().find(|s| {
        let lower = s.to_ascii_lowercase();
        !(lower.contains("://")
            || lower.starts_with("<<")
            || ARCHIVES.iter().any(|a| lower.ends_with(a)))
    });
    if let Some(src) = local {
        hits.push(Hit::at(
            "DL3020",
            Level::Error,
            ins,
            format!(
                "ADD {src}: use COPY for local files and folders (ADD also fetches URLs and unpacks archives, which COPY never does by surprise)"
            ),
        ));
    }
}
