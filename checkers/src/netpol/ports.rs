//! Port and protocol sets: what a connection may carry. A [`ConnSet`] holds
//! one [`PortSet`] (merged, sorted ranges of 1-65535) per [`Protocol`] and
//! prints exactly as np-guard's connlist does (`All Connections`,
//! `TCP 80,443,UDP 53`).

use std::fmt;

use serde::{Serialize, Serializer};

/// Lowest and highest port of the universe.
pub const MIN_PORT: u16 = 1;
/// Highest port.
pub const MAX_PORT: u16 = 65535;

/// A transport protocol a `NetworkPolicy` can name, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// SCTP.
    Sctp,
    /// TCP (the default when a policy names none).
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// All protocols in output (alphabetical) order.
    pub const ALL: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

    /// The API spelling, `TCP`, `UDP` or `SCTP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Sctp => "SCTP",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }

    /// Parses the API spelling (exact case, as the API server requires).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SCTP" => Some(Protocol::Sctp),
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Protocol::Sctp => 0,
            Protocol::Tcp => 1,
            Protocol::Udp => 2,
        }
    }
}

/// What is wrong with a port name, by the API server's rule for an
/// `IANA_SVC_NAME` (`IsValidPortName` in k8s.io/apimachinery
/// `pkg/util/validation`): at most 15 characters, only `a-z`, `0-9` and
/// `-`, at least one letter, no `--`, no `-` at either end. Empty when the
/// name is valid. Both a `NetworkPolicy` port given as a string and a
/// container port's `name` must pass it.
pub fn port_name_problems(name: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if name.is_empty() {
        out.push("a port name may not be empty");
        return out;
    }
    if name.len() > 15 {
        out.push("a port name has at most 15 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        out.push("a port name may contain only lowercase letters (a-z), digits (0-9) and '-'");
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        out.push("a port name must contain at least one letter (a-z)");
    }
    if name.contains("--") {
        out.push("a port name may not contain \"--\"");
    }
    if name.starts_with('-') || name.ends_with('-') {
        out.push("a port name may not begin or end with '-'");
    }
    out
}

/// A set of ports of one protocol: sorted, merged, non-adjacent ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortSet {
    ranges: Vec<(u16, u16)>,
}

impl PortSet {
    /// No port.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Every port 1-65535.
    pub fn all() -> Self {
        Self {
            ranges: vec![(MIN_PORT, MAX_PORT)],
        }
    }

    /// The ports `lo..=hi` (empty when `lo > hi`).
    pub fn range(lo: u16, hi: u16) -> Self {
        if lo > hi {
            return Self::empty();
        }
        Self {
            ranges: vec![(lo, hi)],
        }
    }

    /// The ranges, ascending and merged.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }

    /// Whether no port is in the set.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether every port is in the set.
    pub fn is_all(&self) -> bool {
        self.ranges == [(MIN_PORT, MAX_PORT)]
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= port && port <= hi)
    }

    /// Adds `lo..=hi`.
    pub fn insert(&mut self, lo: u16, hi: u16) {
        if lo > hi {
            return;
        }
        self.ranges.push((lo, hi));
        self.normalize();
    }

    /// Adds every port of `other`.
    pub fn union_with(&mut self, other: &PortSet) {
        if other.ranges.is_empty() || self.is_all() {
            return;
        }
        if self.ranges.is_empty() {
            self.ranges.clone_from(&other.ranges);
            return;
        }
        self.ranges.extend_from_slice(&other.ranges);
        self.normalize();
    }

    /// The ports in both sets.
    #[must_use]
    pub fn intersect(&self, other: &PortSet) -> PortSet {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while let (Some(&(a_lo, a_hi)), Some(&(b_lo, b_hi))) =
            (self.ranges.get(i), other.ranges.get(j))
        {
            let lo = a_lo.max(b_lo);
            let hi = a_hi.min(b_hi);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a_hi < b_hi {
                i += 1;
            } else {
                j += 1;
            }
        }
        PortSet { ranges: out }
    }

    fn normalize(&mut self) {
        self.ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(self.ranges.len());
        for &(lo, hi) in &self.ranges {
            match merged.last_mut() {
                Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => {
                    last.1 = last.1.max(hi);
                }
                _ => merged.push((lo, hi)),
            }
        }
        self.ranges = merged;
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// The connections allowed on one (source, destination) pair: a port set
/// per protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnSet {
    by_proto: [PortSet; 3],
}

impl ConnSet {
    /// Nothing allowed.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every port of every protocol (`All Connections`).
    pub fn all() -> Self {
        Self {
            by_proto: [PortSet::all(), PortSet::all(), PortSet::all()],
        }
    }

    /// The ports of `proto`.
    pub fn ports(&self, proto: Protocol) -> &PortSet {
        &self.by_proto[proto.index()]
    }

    /// Adds ports `lo..=hi` of `proto`.
    pub fn insert(&mut self, proto: Protocol, lo: u16, hi: u16) {
        self.by_proto[proto.index()].insert(lo, hi);
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.by_proto.iter().all(PortSet::is_empty)
    }

    /// Whether everything is allowed.
    pub fn is_all(&self) -> bool {
        self.by_proto.iter().all(PortSet::is_all)
    }

    /// Adds everything `other` allows.
    pub fn union_with(&mut self, other: &ConnSet) {
        for (mine, theirs) in self.by_proto.iter_mut().zip(&other.by_proto) {
            mine.union_with(theirs);
        }
    }

    /// What both allow.
    #[must_use]
    pub fn intersect(&self, other: &ConnSet) -> ConnSet {
        if self.is_all() {
            return other.clone();
        }
        if other.is_all() {
            return self.clone();
        }
        let [sctp, tcp, udp] = &self.by_proto;
        let [o_sctp, o_tcp, o_udp] = &other.by_proto;
        ConnSet {
            by_proto: [
                sctp.intersect(o_sctp),
                tcp.intersect(o_tcp),
                udp.intersect(o_udp),
            ],
        }
    }

    /// A short label for a matrix cell: `all`, `-`, or e.g. `T80,443 U53`
    /// (`S` = SCTP, `T` = TCP, `U` = UDP; a whole protocol is `T*`).
    pub fn short(&self) -> String {
        if self.is_all() {
            return "all".to_owned();
        }
        if self.is_empty() {
            return "-".to_owned();
        }
        let mut parts = Vec::new();
        for p in Protocol::ALL {
            let set = self.ports(p);
            if set.is_empty() {
                continue;
            }
            let letter = &p.as_str()[..1];
            if set.is_all() {
                parts.push(format!("{letter}*"));
            } else {
                parts.push(format!("{letter}{set}"));
            }
        }
        parts.join(" ")
    }

    /// Parses the connlist spelling (`All Connections`, `No Connections`,
    /// `TCP 80,443,UDP 53`). Returns a message on error.
    pub fn parse(text: &str) -> Result<ConnSet, String> {
        let text = text.trim();
        if text == "All Connections" {
            return Ok(ConnSet::all());
        }
        if text == "No Connections" || text.is_empty() {
            return Ok(ConnSet::none());
        }
        let mut set = ConnSet::none();
        let mut current: Option<Protocol> = None;
        for token in text.split(',') {
            let token = token.trim();
            let ports = if let Some((proto, rest)) = token.split_once(' ') {
                let proto = Protocol::parse(proto)
                    .ok_or_else(|| format!("unknown protocol {proto:?} in {text:?}"))?;
                current = Some(proto);
                rest.trim()
            } else {
                token
            };
            let proto =
                current.ok_or_else(|| format!("port {token:?} before any protocol in {text:?}"))?;
            let (lo, hi) = if let Some((lo, hi)) = ports.split_once('-') {
                (parse_port(lo, text)?, parse_port(hi, text)?)
            } else {
                let p = parse_port(ports, text)?;
                (p, p)
            };
            if lo > hi {
                return Err(format!("range {ports:?} is reversed in {text:?}"));
            }
            set.insert(proto, lo, hi);
        }
        Ok(set)
    }
}

fn parse_port(s: &str, text: &str) -> Result<u16, String> {
    match s.trim().parse::<u16>() {
        Ok(p) if p >= MIN_PORT => Ok(p),
        _ => Err(format!("bad port {s:?} in {text:?}")),
    }
}

impl fmt::Display for ConnSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut first = true;
        for p in Protocol::ALL {
            let ports = self.ports(p);
            if ports.is_empty() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{} {ports}", p.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for ConnSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_parses_like_np_guard() {
        for text in [
            "All Connections",
            "TCP 10053-10054,UDP 10053",
            "SCTP 1-65535,TCP 1-65535,UDP 1-5352,5354-65535",
            "SCTP 8956,9090",
        ] {
            let set = ConnSet::parse(text).expect("parses");
            assert_eq!(set.to_string(), text);
        }
    }

    #[test]
    fn merges_adjacent_ranges() {
        let mut s = PortSet::empty();
        s.insert(5, 9);
        s.insert(1, 4);
        s.insert(20, 20);
        assert_eq!(s.to_string(), "1-9,20");
        assert_eq!(s.intersect(&PortSet::range(3, 20)).to_string(), "3-9,20");
    }

    #[test]
    fn port_names_follow_the_api_server() {
        for ok in [
            "http",
            "dns-tcp",
            "h2c",
            "a",
            "metrics-9153",
            "abcdefghijklmno",
        ] {
            assert!(port_name_problems(ok).is_empty(), "{ok}");
        }
        for (bad, why) in [
            ("8080", "at least one letter"),
            ("53", "at least one letter"),
            ("", "may not be empty"),
            ("HTTP", "only lowercase"),
            ("web_ui", "only lowercase"),
            ("http port", "only lowercase"),
            ("abcdefghijklmnop", "at most 15"),
            ("dns--tcp", "\"--\""),
            ("-http", "begin or end"),
            ("http-", "begin or end"),
            ("-", "at least one letter"),
        ] {
            let problems = port_name_problems(bad);
            assert!(
                problems.iter().any(|p| p.contains(why)),
                "{bad:?}: {problems:?}"
            );
        }
        // Several rules can fail at once, as upstream lists them all.
        assert_eq!(port_name_problems("-80-").len(), 2);
    }

    #[test]
    fn rejects_garbage() {
        assert!(ConnSet::parse("TCP 0").is_err());
        assert!(ConnSet::parse("80").is_err());
        assert!(ConnSet::parse("ICMP 1").is_err());
        assert!(ConnSet::parse("TCP 9-3").is_err());
    }
}
