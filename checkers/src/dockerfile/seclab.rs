//! seclab's own rules, on what the final image ships, which no linter
//! checks:
//! - SL1001: the final stage builds on a minimal base (scratch,
//!   distroless, Chainguard, alpine, busybox, a `-slim`, `-minimal` or
//!   `-micro` variant);
//! - SL1002: no build toolchain in the final stage (a compiler or `-dev`
//!   package installed there, an SDK or full language base image, or the
//!   whole build context copied into a single-stage build);
//! - SL1003: no shell in the final image (anything but scratch, a
//!   non-debug distroless or a non-dev Chainguard base has `/bin/sh`);
//! - SL1005: a real multi-stage build: two stages or more, the final one
//!   not built `FROM` the builder, copying named artefacts out of an
//!   earlier stage (not its whole filesystem).

use super::hadolint::{copy_dest, copy_sources};
use super::parse::Dockerfile;
use super::shell::Command;
use super::stages::{ImageRef, Stages};
use super::{Hit, Level, run_commands};

/// Whether an image is a minimal base.
pub fn is_minimal(image: &ImageRef) -> bool {
    let name = image.name.to_ascii_lowercase();
    let short = image.short_name();
    let tag = image.tag.as_deref().unwrap_or("").to_ascii_lowercase();
    image.is_scratch()
        || name.contains("distroless")
        || name.starts_with("cgr.dev/chainguard/")
        || ["alpine", "busybox"].contains(&short.as_str())
        || ["slim", "alpine", "minimal", "micro"]
            .iter()
            .any(|v| tag.contains(v) || short.contains(v))
}

/// Whether an image has no shell.
pub fn is_shell_free(image: &ImageRef) -> bool {
    let name = image.name.to_ascii_lowercase();
    let tag = image.tag.as_deref().unwrap_or("").to_ascii_lowercase();
    image.is_scratch()
        || (name.contains("distroless") && !tag.contains("debug"))
        || (name.starts_with("cgr.dev/chainguard/") && !tag.contains("dev"))
}

/// Base images that carry a compiler: SDKs, and the full (not slim, not
/// alpine) language images built on buildpack-deps.
fn toolchain_base(image: &ImageRef) -> bool {
    let short = image.short_name();
    let tag = image.tag.as_deref().unwrap_or("").to_ascii_lowercase();
    let sdk = [
        "golang",
        "rust",
        "gcc",
        "maven",
        "gradle",
        "buildpack-deps",
        "sdk",
    ]
    .contains(&short.as_str())
        || (short == "openjdk" && !tag.contains("jre"));
    let full = ["python", "ruby", "node", "perl", "php"].contains(&short.as_str())
        && !["slim", "alpine"].iter().any(|v| tag.contains(v));
    sdk || full
}

/// Packages that are a build toolchain.
fn toolchain_package(pkg: &str) -> bool {
    let name = pkg
        .split(['=', '<', '>', '~'])
        .next()
        .unwrap_or(pkg)
        .to_ascii_lowercase();
    [
        "gcc",
        "g++",
        "gcc-c++",
        "clang",
        "make",
        "cmake",
        "build-essential",
        "build-base",
        "musl-dev",
        "libc-dev",
        "libc6-dev",
        "golang",
        "golang-go",
        "go",
        "rustc",
        "cargo",
        "gfortran",
        "autoconf",
        "automake",
        "libtool",
        "pkg-config",
        "pkgconf",
    ]
    .contains(&name.as_str())
        || name.ends_with("-dev")
        || name.ends_with("-devel")
}

/// The packages a command installs with apt-get, apt, apk, yum, dnf or
/// microdnf (options dropped).
fn installed(cmd: &Command) -> Vec<String> {
    let sub = match cmd.name() {
        "apt-get" | "apt" | "yum" | "dnf" | "microdnf" => "install",
        "apk" => "add",
        _ => return Vec::new(),
    };
    let args = cmd.args();
    let Some(i) = args.iter().position(|w| w.text == sub) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut skip = false;
    for w in &args[i + 1..] {
        if skip {
            skip = false;
            continue;
        }
        if w.text.starts_with('-') {
            skip = ["-t", "--virtual"].contains(&w.text.as_str());
            continue;
        }
        out.push(w.text.clone());
    }
    out
}

/// Whether a command removes packages (`apk del`, `apt-get purge`, ...).
fn removes_packages(cmd: &Command) -> bool {
    let words: Vec<&str> = cmd.args().iter().map(|w| w.text.as_str()).collect();
    match cmd.name() {
        "apk" => words.contains(&"del"),
        "apt-get" | "apt" | "yum" | "dnf" | "microdnf" => words
            .iter()
            .any(|w| ["purge", "remove", "autoremove", "erase"].contains(w)),
        _ => false,
    }
}

/// The hits of seclab's own rules.
pub fn rules(df: &Dockerfile, st: &Stages) -> Vec<Hit> {
    let mut hits = Vec::new();
    let Some(last) = st.last() else {
        return hits;
    };
    let Some(from) = df.instructions.get(last.from) else {
        return hits;
    };
    let Some(base) = st.root_image(last.index) else {
        return hits;
    };
    if !base.unresolved {
        if !is_minimal(base) {
            hits.push(Hit::at(
                "SL1001",
                Level::Warning,
                from,
                format!(
                    "the final image builds on {}, not a minimal base: ship on scratch, distroless, alpine or a -slim variant, and build in an earlier stage",
                    base.text
                ),
            ));
        }
        if !is_shell_free(base) {
            hits.push(Hit::at(
                "SL1003",
                Level::Warning,
                from,
                format!(
                    "the final image has a shell (from {}): an attacker who gets in can run scripts; a distroless or scratch base has none",
                    base.text
                ),
            ));
        }
        if toolchain_base(base) {
            hits.push(Hit::at(
                "SL1002",
                Level::Warning,
                from,
                format!(
                    "the final image builds on {}, which carries a compiler and build tools: build there in a builder stage and copy only the result into a small final stage",
                    base.text
                ),
            ));
        }
    }
    let single = st.list.len() == 1;
    for stage in st.chain(last.index) {
        for ins in df.instructions.get(stage.from..stage.end).unwrap_or(&[]) {
            match ins.keyword.as_str() {
                "RUN" => {
                    let cmds = run_commands(ins);
                    if cmds.iter().any(removes_packages) {
                        continue;
                    }
                    let tools: Vec<String> = cmds
                        .iter()
                        .flat_map(installed)
                        .filter(|p| toolchain_package(p))
                        .collect();
                    if !tools.is_empty() {
                        hits.push(Hit::at(
                            "SL1002",
                            Level::Warning,
                            ins,
                            format!(
                                "{} installed in the final stage: the build toolchain ships with the app; install it in a builder stage instead",
                                tools.join(", ")
                            ),
                        ));
                    }
                }
                "COPY" | "ADD" if single && ins.flag("from").is_none() => {
                    let whole = copy_sources(ins)
                        .iter()
                        .any(|s| matches!(s.as_str(), "." | "./" | "*"));
                    if whole {
                        hits.push(Hit::at(
                            "SL1002",
                            Level::Warning,
                            ins,
                            format!(
                                "{} {}: the whole build context (sources, tests, build files) goes into the only stage, so it ships; build in one stage and copy only the result into the final one",
                                ins.keyword,
                                ins.rest()
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    multi_stage(df, st, &mut hits);
    hits
}

fn multi_stage(df: &Dockerfile, st: &Stages, hits: &mut Vec<Hit>) {
    let Some(last) = st.last() else { return };
    let Some(from) = df.instructions.get(last.from) else {
        return;
    };
    if st.list.len() == 1 {
        hits.push(Hit::at(
            "SL1005",
            Level::Info,
            from,
            "a single-stage build: whatever building needs ships in the image; build in one stage, then copy the result into a fresh final stage".into(),
        ));
        return;
    }
    if last.parent.is_some() {
        hits.push(Hit::at(
            "SL1005",
            Level::Info,
            from,
            format!(
                "the final stage builds FROM the earlier stage {}, so it keeps all of it: start the final stage from a fresh base and COPY --from only the result",
                last.image.raw
            ),
        ));
        return;
    }
    let copies: Vec<_> = df
        .instructions
        .get(last.from..last.end)
        .unwrap_or(&[])
        .iter()
        .filter(|i| i.keyword == "COPY")
        .filter(|i| {
            i.flag("from")
                .and_then(|f| f.value.as_deref())
                .is_some_and(|n| st.named(n, last.index).is_some())
        })
        .collect();
    if copies.is_empty() {
        hits.push(Hit::at(
            "SL1005",
            Level::Info,
            from,
            "the final stage copies nothing from an earlier stage (COPY --from=<stage>), so the earlier stages build nothing it uses".into(),
        ));
    }
    for c in copies {
        let whole =
            copy_sources(c).iter().any(|s| s == "/") && copy_dest(c).is_some_and(|d| d == "/");
        if whole {
            hits.push(Hit::at(
                "SL1005",
                Level::Warning,
                c,
                "COPY --from=<stage> / / copies the stage's whole filesystem: copy only the artefacts the app needs".into(),
            ));
        }
    }
}
