//! IPv4 ranges for `ipBlock` peers: CIDR parsing, `cidr` minus `except`, and
//! the np-guard partition of `0.0.0.0/0` into atoms.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Serialize, Serializer};

/// One contiguous IPv4 range, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpRange {
    /// First address.
    pub start: u32,
    /// Last address.
    pub end: u32,
}

impl IpRange {
    /// The whole IPv4 space, `0.0.0.0-255.255.255.255`.
    pub const ALL: IpRange = IpRange {
        start: 0,
        end: u32::MAX,
    };

    /// Parses `a.b.c.d-e.f.g.h` (connlist spelling).
    pub fn parse(s: &str) -> Option<IpRange> {
        let (a, b) = s.split_once('-')?;
        let start = u32::from(a.trim().parse::<Ipv4Addr>().ok()?);
        let end = u32::from(b.trim().parse::<Ipv4Addr>().ok()?);
        (start <= end).then_some(IpRange { start, end })
    }

    /// Whether `other` lies inside this range.
    pub fn contains(&self, other: &IpRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            Ipv4Addr::from(self.start),
            Ipv4Addr::from(self.end)
        )
    }
}

impl Serialize for IpRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses an IPv4 CIDR (`10.0.0.0/8`) or a bare address (a `/32`). Host
/// bits are ignored, as the API server does. `Err` carries the reason;
/// `Ok(None)` means an IPv6 CIDR, which lies outside the IPv4 universe.
pub fn parse_cidr(s: &str) -> Result<Option<IpRange>, &'static str> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    if addr.contains(':') {
        return match addr.parse::<std::net::Ipv6Addr>() {
            Ok(_) => Ok(None),
            Err(_) => Err("bad IPv6 address"),
        };
    }
    let ip = u32::from(addr.parse::<Ipv4Addr>().map_err(|_| "bad IPv4 address")?);
    let len: u32 = match len {
        Some(l) => l.parse().map_err(|_| "bad prefix length")?,
        None => 32,
    };
    if len > 32 {
        return Err("prefix length above 32");
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    let start = ip & mask;
    Ok(Some(IpRange {
        start,
        end: start | !mask,
    }))
}

/// `block` minus every range of `except`, as sorted disjoint ranges.
pub fn subtract(block: IpRange, except: &[IpRange]) -> Vec<IpRange> {
    let mut cuts: Vec<IpRange> = except.to_vec();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut next = u64::from(block.start);
    let end = u64::from(block.end);
    for c in cuts {
        let (cs, ce) = (u64::from(c.start), u64::from(c.end));
        if ce < next || cs > end {
            continue;
        }
        if cs > next {
            out.push(range64(next, cs - 1));
        }
        next = next.max(ce + 1);
    }
    if next <= end {
        out.push(range64(next, end));
    }
    out
}

fn range64(start: u64, end: u64) -> IpRange {
    IpRange {
        start: u32::try_from(start).unwrap_or(u32::MAX),
        end: u32::try_from(end).unwrap_or(u32::MAX),
    }
}

/// Cuts `0.0.0.0/0` at every end of every range in `blocks`: the atoms, in
/// ascending order. Every block is then a union of whole atoms.
pub fn atoms(blocks: &[IpRange]) -> Vec<IpRange> {
    let mut cuts: Vec<u64> = Vec::with_capacity(blocks.len() * 2 + 2);
    cuts.push(0);
    cuts.push(1 << 32);
    for b in blocks {
        cuts.push(u64::from(b.start));
        cuts.push(u64::from(b.end) + 1);
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .filter_map(|w| match w {
            [a, b] => Some(range64(*a, *b - 1)),
            _ => None,
        })
        .collect()
}

/// Indices of the atoms inside `range` (atoms sorted, as from [`atoms`]).
pub fn atoms_within(atoms: &[IpRange], range: IpRange) -> std::ops::Range<usize> {
    let first = atoms.partition_point(|a| a.start < range.start);
    let last = atoms.partition_point(|a| a.end <= range.end);
    first..last.max(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> IpRange {
        parse_cidr(s).expect("valid").expect("v4")
    }

    #[test]
    fn except_splits_into_three_atoms() {
        let parts = subtract(r("10.0.0.0/8"), &[r("10.10.0.0/16")]);
        let a = atoms(&parts);
        let shown: Vec<String> = a.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "0.0.0.0-9.255.255.255",
                "10.0.0.0-10.9.255.255",
                "10.10.0.0-10.10.255.255",
                "10.11.0.0-10.255.255.255",
                "11.0.0.0-255.255.255.255"
            ]
        );
        assert_eq!(atoms_within(&a, parts[1]), 3..4);
    }

    #[test]
    fn bad_cidrs_are_errors() {
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("10.0.0/8").is_err());
        assert!(parse_cidr("x").is_err());
        assert_eq!(parse_cidr("::/0"), Ok(None));
        assert_eq!(r("0.0.0.0/0"), IpRange::ALL);
    }
}
