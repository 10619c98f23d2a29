//! np-guard's connlist (`list -o txt`): producing it from the engine's
//! result, parsing expectations written in the same grammar, and comparing
//! the two by meaning (IP ranges are compared address by address, so an
//! expectation need not reproduce the analyzer's partition into atoms).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::NetpolError;
use super::engine::Cluster;
use super::ip::IpRange;
use super::model::WorkloadId;
use super::ports::ConnSet;

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Peer {
    /// A workload, `ns/name[Kind]`.
    Workload(WorkloadId),
    /// IP addresses outside the cluster, `a.b.c.d-e.f.g.h[External]`.
    External(IpRange),
}

impl Peer {
    /// Parses the connlist spelling of a peer.
    pub fn parse(s: &str) -> Option<Peer> {
        let s = s.trim();
        if let Some(range) = s.strip_suffix("[External]") {
            return IpRange::parse(range).map(Peer::External);
        }
        let (rest, kind) = s.strip_suffix(']')?.rsplit_once('[')?;
        let (ns, name) = rest.split_once('/')?;
        if ns.is_empty() || name.is_empty() || kind.is_empty() {
            return None;
        }
        Some(Peer::Workload(WorkloadId {
            namespace: ns.to_owned(),
            name: name.to_owned(),
            kind: kind.to_owned(),
        }))
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Workload(w) => w.fmt(f),
            Peer::External(r) => write!(f, "{r}[External]"),
        }
    }
}

impl Serialize for Peer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One allowed connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// Who opens it.
    pub src: Peer,
    /// Who accepts it.
    pub dst: Peer,
    /// On which protocols and ports.
    pub conns: ConnSet,
}

/// Every allowed connection, sorted as connlist sorts (source text, then
/// destination text, byte-wise), without self pairs, IP-to-IP pairs and
/// empty pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConnList {
    /// The workloads of the cluster, sorted by their connlist name.
    pub workloads: Vec<WorkloadId>,
    /// The allowed connections.
    pub connections: Vec<Connection>,
}

impl Cluster {
    /// Runs the engine and expands the result to every workload pair and
    /// every IP atom.
    pub fn connections(&self) -> ConnList {
        let r = self.reachability();
        let ids: Vec<&WorkloadId> = self.workloads().collect();
        let mut out: Vec<(String, String, Connection)> = Vec::new();
        let names: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let mut push = |src: Peer, dst: Peer, sname: String, dname: String, c: &ConnSet| {
            if !c.is_empty() {
                out.push((
                    sname,
                    dname,
                    Connection {
                        src,
                        dst,
                        conns: c.clone(),
                    },
                ));
            }
        };
        for (i, wi) in ids.iter().enumerate() {
            for (j, wj) in ids.iter().enumerate() {
                if i == j {
                    continue;
                }
                if let Some(c) = self.allowed(&r, i, j) {
                    let (sn, dn) = (names.get(i), names.get(j));
                    push(
                        Peer::Workload((*wi).clone()),
                        Peer::Workload((*wj).clone()),
                        sn.cloned().unwrap_or_default(),
                        dn.cloned().unwrap_or_default(),
                        c,
                    );
                }
            }
            let me = names.get(i).cloned().unwrap_or_default();
            for (a, atom) in self.source_atoms().iter().enumerate() {
                if let Some(c) = self.allowed_from_ip(&r, a, i) {
                    let p = Peer::External(*atom);
                    push(
                        p.clone(),
                        Peer::Workload((*wi).clone()),
                        p.to_string(),
                        me.clone(),
                        c,
                    );
                }
            }
            for (a, atom) in self.destination_atoms().iter().enumerate() {
                if let Some(c) = self.allowed_to_ip(&r, i, a) {
                    let p = Peer::External(*atom);
                    push(
                        Peer::Workload((*wi).clone()),
                        p.clone(),
                        me.clone(),
                        p.to_string(),
                        c,
                    );
                }
            }
        }
        out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let mut workloads: Vec<WorkloadId> = ids.into_iter().cloned().collect();
        workloads.sort_by_key(ToString::to_string);
        workloads.dedup();
        ConnList {
            workloads,
            connections: out.into_iter().map(|(_, _, c)| c).collect(),
        }
    }
}

impl ConnList {
    /// The np-guard `list -o txt` text: one `SRC => DST : CONNS` line per
    /// allowed pair, each ending in a newline.
    pub fn to_connlist_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for c in &self.connections {
            let _ = writeln!(s, "{} => {} : {}", c.src, c.dst, c.conns);
        }
        s
    }

    /// The same list as an [`Expectation`], for [`diff`].
    pub fn to_expectation(&self) -> Expectation {
        Expectation {
            pairs: self
                .connections
                .iter()
                .map(|c| ((c.src.clone(), c.dst.clone()), c.conns.clone()))
                .collect(),
        }
    }

    /// What `src` may open to `dst` (`None` = nothing), by connlist names.
    pub fn get(&self, src: &str, dst: &str) -> Option<&ConnSet> {
        self.connections
            .iter()
            .find(|c| c.src.to_string() == src && c.dst.to_string() == dst)
            .map(|c| &c.conns)
    }
}

/// A full list of allowed connections: every pair not listed must be
/// denied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectation {
    /// Allowed connections per (source, destination).
    pub pairs: Vec<((Peer, Peer), ConnSet)>,
}

/// Parses an expectation in connlist grammar. Blank lines and lines
/// starting with `#` are skipped; a pair listed twice is an error.
pub fn parse_connlist(text: &str) -> Result<Expectation, NetpolError> {
    let mut pairs: Vec<((Peer, Peer), ConnSet)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let bad = |message: String| NetpolError::Connlist {
            line: line_no,
            message,
        };
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (src, rest) = t
            .split_once(" => ")
            .ok_or_else(|| bad(format!("expected `SRC => DST : CONNS`, got {t:?}")))?;
        let (dst, conns) = rest
            .split_once(" : ")
            .ok_or_else(|| bad(format!("expected `DST : CONNS` after `=>`, got {rest:?}")))?;
        let peer = |s: &str| {
            Peer::parse(s).ok_or_else(|| {
                bad(format!(
                    "bad peer {s:?} (want ns/name[Kind] or a.b.c.d-e.f.g.h[External])"
                ))
            })
        };
        let (src, dst) = (peer(src)?, peer(dst)?);
        let conns = ConnSet::parse(conns).map_err(bad)?;
        if !seen.insert((src.to_string(), dst.to_string())) {
            return Err(bad(format!("pair {src} => {dst} listed twice")));
        }
        pairs.push(((src, dst), conns));
    }
    Ok(Expectation { pairs })
}

/// One pair whose allowed connections differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// Source, in connlist spelling.
    pub src: String,
    /// Destination, in connlist spelling.
    pub dst: String,
    /// What the expectation allows.
    pub expected: ConnSet,
    /// What the policies allow.
    pub actual: ConnSet,
}

/// Key of a pair for comparison: workloads by name; an IP side is folded
/// into a per-workload, per-direction interval map.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Pods(String, String),
    FromIp(String),
    ToIp(String),
}

type IpMap = Vec<(IpRange, ConnSet)>;

fn split(e: &Expectation) -> (BTreeMap<Key, ConnSet>, BTreeMap<Key, IpMap>) {
    let mut pods = BTreeMap::new();
    let mut ips: BTreeMap<Key, IpMap> = BTreeMap::new();
    for ((s, d), c) in &e.pairs {
        match (s, d) {
            (Peer::Workload(a), Peer::Workload(b)) if a != b => {
                pods.insert(Key::Pods(a.to_string(), b.to_string()), c.clone());
            }
            (Peer::External(r), Peer::Workload(w)) => {
                ips.entry(Key::FromIp(w.to_string()))
                    .or_default()
                    .push((*r, c.clone()));
            }
            (Peer::Workload(w), Peer::External(r)) => {
                ips.entry(Key::ToIp(w.to_string()))
                    .or_default()
                    .push((*r, c.clone()));
            }
            _ => {}
        }
    }
    (pods, ips)
}

fn lookup(map: &[(IpRange, ConnSet)], addr: u32) -> ConnSet {
    let mut out = ConnSet::none();
    for (r, c) in map {
        if r.start <= addr && addr <= r.end {
            out.union_with(c);
        }
    }
    out
}

/// Every pair on which `expected` and `actual` disagree, sorted by source
/// and destination. IP ranges are compared by address: the reported range
/// is the largest stretch with the same disagreement.
pub fn diff(expected: &Expectation, actual: &Expectation) -> Vec<Diff> {
    let (ep, ei) = split(expected);
    let (ap, ai) = split(actual);
    let mut out = Vec::new();
    let mut keys: Vec<&Key> = ep.keys().chain(ap.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let e = ep.get(k).cloned().unwrap_or_default();
        let a = ap.get(k).cloned().unwrap_or_default();
        if let (Key::Pods(s, d), true) = (k, e != a) {
            out.push(Diff {
                src: s.clone(),
                dst: d.clone(),
                expected: e,
                actual: a,
            });
        }
    }
    let empty = IpMap::new();
    let mut ip_keys: Vec<&Key> = ei.keys().chain(ai.keys()).collect();
    ip_keys.sort();
    ip_keys.dedup();
    for k in ip_keys {
        let em = ei.get(k).unwrap_or(&empty);
        let am = ai.get(k).unwrap_or(&empty);
        let mut cuts: Vec<u64> = vec![0, 1 << 32];
        for (r, _) in em.iter().chain(am) {
            cuts.push(u64::from(r.start));
            cuts.push(u64::from(r.end) + 1);
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut run: Option<(IpRange, ConnSet, ConnSet)> = None;
        let mut flush = |run: Option<(IpRange, ConnSet, ConnSet)>| {
            if let Some((r, e, a)) = run {
                let ext = Peer::External(r).to_string();
                let (src, dst) = match k {
                    Key::FromIp(w) => (ext, w.clone()),
                    Key::ToIp(w) | Key::Pods(w, _) => (w.clone(), ext),
                };
                out.push(Diff {
                    src,
                    dst,
                    expected: e,
                    actual: a,
                });
            }
        };
        for w in cuts.windows(2) {
            let [lo, hi] = [w.first().copied(), w.get(1).copied()];
            let (Some(lo), Some(hi)) = (lo, hi) else {
                continue;
            };
            let start = u32::try_from(lo).unwrap_or(u32::MAX);
            let end = u32::try_from(hi - 1).unwrap_or(u32::MAX);
            let (e, a) = (lookup(em, start), lookup(am, start));
            if e == a {
                flush(run.take());
                continue;
            }
            match &mut run {
                Some((r, re, ra)) if *re == e && *ra == a => r.end = end,
                _ => {
                    flush(run.take());
                    run = Some((IpRange { start, end }, e, a));
                }
            }
        }
        flush(run);
    }
    out.sort_by(|a, b| (&a.src, &a.dst).cmp(&(&b.src, &b.dst)));
    out
}
