//! The `docker run` command line equivalent to a run config.

use super::super::{MountKind, RunConfig};
use super::values::format_bytes;

/// A word for a shell command line: quoted only when it needs to be.
fn sh_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=,@%+-".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// The `docker run --rm ...` command line that runs `rc` as seclab does,
/// for instructions and demos. Flags in a stable order: user, privileged,
/// capabilities (drops first), security options, read-only, tmpfs and
/// volumes (in file order), namespaces, devices, memory, environment,
/// working dir, entrypoint, then the image and its command.
pub fn docker_run(rc: &RunConfig) -> String {
    fn flag(words: &mut Vec<String>, f: &str, v: &str) {
        words.push(f.to_string());
        words.push(sh_word(v));
    }
    let mut w: Vec<String> = vec!["docker".into(), "run".into(), "--rm".into()];
    if let Some(u) = &rc.user {
        flag(&mut w, "--user", u);
    }
    if rc.privileged {
        w.push("--privileged".into());
    }
    for c in &rc.cap_drop {
        flag(&mut w, "--cap-drop", c);
    }
    for c in &rc.cap_add {
        flag(&mut w, "--cap-add", c);
    }
    for s in &rc.security_opt {
        flag(&mut w, "--security-opt", s);
    }
    if rc.read_only {
        w.push("--read-only".into());
    }
    for m in &rc.mounts {
        let mut opts = m.options.clone();
        if m.read_only {
            opts.insert(0, "ro".into());
        }
        let suffix = if opts.is_empty() {
            String::new()
        } else {
            format!(":{}", opts.join(","))
        };
        match m.kind {
            MountKind::Tmpfs => flag(&mut w, "--tmpfs", &format!("{}{suffix}", m.target)),
            MountKind::Bind | MountKind::Volume => {
                let spec = match &m.source {
                    Some(s) => format!("{s}:{}{suffix}", m.target),
                    None => format!("{}{suffix}", m.target),
                };
                flag(&mut w, "-v", &spec);
            }
        }
    }
    for (f, v) in [
        ("--pid", &rc.pid),
        ("--network", &rc.network_mode),
        ("--ipc", &rc.ipc),
        ("--uts", &rc.uts),
        ("--userns", &rc.userns_mode),
    ] {
        if let Some(v) = v {
            flag(&mut w, f, v);
        }
    }
    for d in &rc.devices {
        flag(&mut w, "--device", d);
    }
    if let Some(m) = rc.memory {
        flag(&mut w, "--memory", &format_bytes(m));
    }
    for e in &rc.environment {
        flag(&mut w, "-e", e);
    }
    if let Some(dir) = &rc.working_dir {
        flag(&mut w, "-w", dir);
    }
    let mut rest: Vec<String> = Vec::new();
    if let Some(ep) = &rc.entrypoint {
        match ep.split_first() {
            Some((first, more)) => {
                flag(&mut w, "--entrypoint", first);
                rest.extend(more.iter().cloned());
            }
            None => flag(&mut w, "--entrypoint", ""),
        }
    }
    w.push(sh_word(&rc.image));
    rest.extend(rc.command.iter().flatten().cloned());
    w.extend(rest.iter().map(|x| sh_word(x)));
    w.join(" ")
}
