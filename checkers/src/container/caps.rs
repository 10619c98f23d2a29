//! Linux capabilities as Docker grants them: the kernel's numbering
//! (`include/uapi/linux/capability.h`, 0–40), the hex masks of
//! `/proc/<pid>/status` (`CapEff`, `CapPrm`, `CapBnd`, ...) decoded to
//! names, Docker's default set, and the effective set of a [`RunConfig`]
//! computed as the engine does (moby's `caps.TweakCapabilities`).

use std::collections::BTreeSet;

use super::RunConfig;

/// Every capability the kernel knows, by number (`NAMES[12]` is
/// `NET_ADMIN`), without the `CAP_` prefix.
pub const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Names for bits the kernel has not assigned yet (41–63), so a mask from
/// a newer kernel still decodes.
const UNASSIGNED: [&str; 23] = [
    "cap_41", "cap_42", "cap_43", "cap_44", "cap_45", "cap_46", "cap_47", "cap_48", "cap_49",
    "cap_50", "cap_51", "cap_52", "cap_53", "cap_54", "cap_55", "cap_56", "cap_57", "cap_58",
    "cap_59", "cap_60", "cap_61", "cap_62", "cap_63",
];

/// The 14 capabilities Docker grants a container by default (moby's
/// `oci/caps/defaults.go`), in kernel order; `CapEff` `00000000a80425fb`.
const DOCKER_DEFAULT: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SYS_CHROOT",
    "MKNOD",
    "AUDIT_WRITE",
    "SETFCAP",
];

/// Docker's default capability set, in kernel order.
pub fn docker_default() -> &'static [&'static str] {
    &DOCKER_DEFAULT
}

/// Decodes a capability mask as `/proc/<pid>/status` prints it (hex, up
/// to 16 digits, an optional `0x`) to names in kernel order. Bits above
/// 40 are named `cap_<n>`.
pub fn decode(hex: &str) -> Result<Vec<&'static str>, String> {
    let digits = hex.trim();
    let digits = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .unwrap_or(digits);
    if digits.is_empty() || digits.len() > 16 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "`{}` is not a capability mask (up to 16 hex digits, like 00000000a80425fb)",
            hex.trim()
        ));
    }
    let mask = u64::from_str_radix(digits, 16).map_err(|e| format!("`{digits}`: {e}"))?;
    Ok((0..64)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| name_of(bit))
        .collect())
}

/// The name of capability number `bit` (0–63).
fn name_of(bit: usize) -> &'static str {
    NAMES
        .get(bit)
        .or_else(|| UNASSIGNED.get(bit - NAMES.len()))
        .copied()
        .unwrap_or("cap_unknown")
}

/// The mask of a set of capability names (unknown names are ignored).
pub fn mask<'a>(names: impl IntoIterator<Item = &'a str>) -> u64 {
    names
        .into_iter()
        .filter_map(|n| NAMES.iter().position(|k| *k == n))
        .fold(0, |m, bit| m | (1u64 << bit))
}

/// The canonical name of a capability in any spelling Docker accepts:
/// `CAP_NET_ADMIN`, `net_admin`, `NET_ADMIN` → `NET_ADMIN`. `None` for a
/// name that is no capability, and for `ALL` (the caller decides what it
/// means where it is written).
pub fn normalise(name: &str) -> Option<&'static str> {
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    NAMES.iter().copied().find(|n| *n == bare)
}

/// Whether `name` is `ALL` in any spelling (`all`, `CAP_ALL`).
pub fn is_all(name: &str) -> bool {
    let upper = name.trim().to_ascii_uppercase();
    upper == "ALL" || upper == "CAP_ALL"
}

/// The capabilities a container of `rc` runs with, as the engine computes
/// them: privileged → every capability; otherwise Docker's default set,
/// and then, as moby does: `cap_add` with `ALL` → every capability but
/// those dropped; `cap_drop` with `ALL` → only those added; else the
/// defaults minus the drops plus the adds. Names that are no capability
/// are left out (the engine refuses them; see the Compose checks).
pub fn effective(rc: &RunConfig) -> BTreeSet<&'static str> {
    if rc.privileged {
        return NAMES.iter().copied().collect();
    }
    let adds: BTreeSet<&str> = rc.cap_add.iter().filter_map(|c| normalise(c)).collect();
    let drops: BTreeSet<&str> = rc.cap_drop.iter().filter_map(|c| normalise(c)).collect();
    if rc.cap_add.iter().any(|c| is_all(c)) {
        NAMES
            .iter()
            .copied()
            .filter(|c| !drops.contains(c))
            .collect()
    } else if rc.cap_drop.iter().any(|c| is_all(c)) {
        adds
    } else {
        DOCKER_DEFAULT
            .iter()
            .copied()
            .filter(|c| !drops.contains(c))
            .chain(adds)
            .collect()
    }
}

/// One `Cap*` line of `/proc/<pid>/status`, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapLine {
    /// `CapInh`, `CapPrm`, `CapEff`, `CapBnd` or `CapAmb`.
    pub field: String,
    /// The mask as printed.
    pub hex: String,
    /// Its capabilities in kernel order, or why it does not decode.
    pub names: Result<Vec<&'static str>, String>,
}

impl CapLine {
    /// One line for a student: `CapEff 00000000a80425fb: 14 capabilities
    /// (Docker's default set): CHOWN, ...`.
    pub fn render(&self) -> String {
        match &self.names {
            Err(e) => format!("{} {}: {e}", self.field, self.hex),
            Ok(names) if names.is_empty() => format!("{} {}: no capability", self.field, self.hex),
            Ok(names) => {
                let all =
                    names.len() == NAMES.len() && names.iter().zip(NAMES).all(|(a, b)| *a == b);
                let note = if names.as_slice() == DOCKER_DEFAULT {
                    " (Docker's default set)"
                } else if all {
                    " (every capability the kernel has)"
                } else {
                    ""
                };
                format!(
                    "{} {}: {} {}{note}: {}",
                    self.field,
                    self.hex,
                    names.len(),
                    if names.len() == 1 {
                        "capability"
                    } else {
                        "capabilities"
                    },
                    names.join(", ")
                )
            }
        }
    }
}

/// The `Cap*` lines of a `/proc/<pid>/status` text (or `grep Cap` of
/// it), decoded, in the order they appear. Other lines are ignored.
pub fn parse_status(text: &str) -> Vec<CapLine> {
    text.lines()
        .filter_map(|line| {
            let (field, value) = line.split_once(':')?;
            let field = field.trim();
            if !field.starts_with("Cap") {
                return None;
            }
            let hex = value.trim().to_string();
            Some(CapLine {
                field: field.to_string(),
                names: decode(&hex),
                hex,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockers_default_mask_is_its_14_defaults() {
        let names = decode("00000000a80425fb").expect("decodes");
        assert_eq!(names, docker_default());
        assert_eq!(names.len(), 14);
        assert_eq!(mask(docker_default().iter().copied()), 0xa804_25fb);
    }

    #[test]
    fn zero_is_nothing_and_1ff_ffffffff_is_all_41() {
        assert_eq!(
            decode("0000000000000000").expect("decodes"),
            Vec::<&str>::new()
        );
        assert_eq!(decode("0").expect("decodes"), Vec::<&str>::new());
        let all = decode("000001ffffffffff").expect("decodes");
        assert_eq!(all.len(), 41);
        assert_eq!(all, NAMES.to_vec());
        assert_eq!(all[40], "CHECKPOINT_RESTORE");
        assert_eq!(all[12], "NET_ADMIN");
        assert_eq!(all[21], "SYS_ADMIN");
    }

    #[test]
    fn unassigned_bits_are_named_by_number_and_junk_is_an_error() {
        assert_eq!(
            decode("0x0000060000001000").expect("decodes"),
            vec!["NET_ADMIN", "cap_41", "cap_42"]
        );
        assert_eq!(decode("8000000000000000").expect("decodes"), vec!["cap_63"]);
        for bad in ["", "zz", "00000000a80425fbff", "-1", "a8 04"] {
            let e = decode(bad).expect_err(bad);
            assert!(e.contains("not a capability mask"), "{e}");
        }
    }

    #[test]
    fn every_spelling_normalises() {
        for s in [
            "CAP_NET_ADMIN",
            "net_admin",
            "NET_ADMIN",
            "cap_net_admin",
            " Net_Admin ",
        ] {
            assert_eq!(normalise(s), Some("NET_ADMIN"), "{s}");
        }
        assert_eq!(normalise("ALL"), None);
        assert_eq!(normalise("NET_ADMINS"), None);
        assert!(is_all("ALL") && is_all("all") && is_all("CAP_ALL") && !is_all("NET_ADMIN"));
    }

    fn rc(add: &[&str], drop: &[&str]) -> RunConfig {
        RunConfig {
            cap_add: add.iter().map(|s| (*s).to_string()).collect(),
            cap_drop: drop.iter().map(|s| (*s).to_string()).collect(),
            ..RunConfig::default()
        }
    }

    #[test]
    fn effective_follows_the_engine() {
        let default: BTreeSet<&str> = docker_default().iter().copied().collect();
        assert_eq!(effective(&rc(&[], &[])), default);
        // Drop ALL: nothing; drop ALL and add one: just that one.
        assert!(effective(&rc(&[], &["ALL"])).is_empty());
        assert_eq!(
            effective(&rc(&["cap_net_admin"], &["all"])),
            BTreeSet::from(["NET_ADMIN"])
        );
        // Add ALL: everything, minus explicit drops.
        assert_eq!(effective(&rc(&["ALL"], &[])).len(), 41);
        let e = effective(&rc(&["ALL"], &["CAP_SYS_ADMIN"]));
        assert_eq!(e.len(), 40);
        assert!(!e.contains("SYS_ADMIN"));
        // Add one, drop one default.
        let e = effective(&rc(&["NET_ADMIN"], &["net_raw"]));
        assert_eq!(e.len(), 14);
        assert!(e.contains("NET_ADMIN") && !e.contains("NET_RAW"));
        // Privileged wins over any drop.
        let p = RunConfig {
            privileged: true,
            ..rc(&[], &["ALL"])
        };
        assert_eq!(effective(&p).len(), 41);
        // Unknown names change nothing.
        assert_eq!(effective(&rc(&["NOT_A_CAP"], &[])), default);
    }

    #[test]
    fn status_lines_decode_for_demos() {
        let text = "Name:\tsh\nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t000001ffffffffff\nCapAmb:\tnot-hex\n";
        let lines = parse_status(text);
        let fields: Vec<&str> = lines.iter().map(|l| l.field.as_str()).collect();
        assert_eq!(fields, ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]);
        assert_eq!(lines[0].render(), "CapInh 0000000000000000: no capability");
        let eff = lines[2].render();
        assert!(
            eff.starts_with("CapEff 00000000a80425fb: 14 capabilities (Docker's default set): CHOWN, DAC_OVERRIDE,"),
            "{eff}"
        );
        assert!(
            lines[3]
                .render()
                .contains("41 capabilities (every capability the kernel has)")
        );
        assert!(lines[4].names.is_err());
    }
}
