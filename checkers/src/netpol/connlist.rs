//! np-guard's connlist (`list -o txt`): producing it from the engine's
//! result, parsing expectations written in the same grammar, and comparing
//! the two by meaning (IP ranges are compared address by address, so an
//! expectation need not reproduce the analyzer's partition into atoms).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::NetpolError;
use super::engine::{Cluster, NONE};
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
    /// every IP atom. Rows are computed one source class at a time and
    /// expanded at once, so memory follows the rules and the output, not
    /// the square of the classes.
    pub fn connections(&self) -> ConnList {
        let ids: Vec<&WorkloadId> = self.workloads().collect();
        let class_of = self.class_of();
        let (src_atoms, dst_atoms) = (self.source_atoms(), self.destination_atoms());
        // Sorting key: the rank of each peer's connlist name (byte order).
        let wnames: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let ext_name = |a: &IpRange| Peer::External(*a).to_string();
        let src_names: Vec<String> = src_atoms.iter().map(ext_name).collect();
        let dst_names: Vec<String> = dst_atoms.iter().map(ext_name).collect();
        let mut names: Vec<&str> = wnames
            .iter()
            .chain(&src_names)
            .chain(&dst_names)
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        let rank = |v: &[String]| -> Vec<usize> {
            v.iter()
                .map(|s| names.binary_search(&s.as_str()).unwrap_or(0))
                .collect()
        };
        let (wrank, srank, drank) = (rank(&wnames), rank(&src_names), rank(&dst_names));
        let n = self.class_count();
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, &c) in class_of.iter().enumerate() {
            if let Some(m) = members.get_mut(c) {
                m.push(i);
            }
        }
        let at = |v: &[usize], i: usize| v.get(i).copied().unwrap_or(0);
        let workload = |i: usize| ids.get(i).map(|w| Peer::Workload((*w).clone()));
        // (source rank, destination rank, tie-breakers in the historical
        // push order: workload, then destination or atom index).
        let mut out: Vec<([usize; 4], Connection)> = Vec::new();
        let mut rows = self.rows();
        for (s, group) in members.iter().enumerate() {
            if group.is_empty() {
                continue;
            }
            let row = rows.row(s);
            let conns = |id: u32| row.sets.get(id).filter(|_| id != NONE).cloned();
            for &i in group {
                let Some(me) = workload(i) else { continue };
                for (d, &id) in row.pod.iter().enumerate() {
                    let Some(c) = conns(id) else { continue };
                    for &j in members.get(d).into_iter().flatten() {
                        let Some(dst) = workload(j).filter(|_| j != i) else {
                            continue;
                        };
                        let key = [at(&wrank, i), at(&wrank, j), i, j];
                        out.push((
                            key,
                            Connection {
                                src: me.clone(),
                                dst,
                                conns: c.clone(),
                            },
                        ));
                    }
                }
                for (a, atom) in src_atoms.iter().enumerate() {
                    let id = row.from_ext.get(a * n + s).copied().unwrap_or(NONE);
                    if let Some(c) = conns(id) {
                        let key = [at(&srank, a), at(&wrank, i), i, a];
                        let src = Peer::External(*atom);
                        out.push((
                            key,
                            Connection {
                                src,
                                dst: me.clone(),
                                conns: c,
                            },
                        ));
                    }
                }
                for (a, atom) in dst_atoms.iter().enumerate() {
                    let id = row.to_ext.get(a).copied().unwrap_or(NONE);
                    if let Some(c) = conns(id) {
                        let key = [at(&wrank, i), at(&drank, a), i, a];
                        let dst = Peer::External(*atom);
                        out.push((
                            key,
                            Connection {
                                src: me.clone(),
                                dst,
                                conns: c,
                            },
                        ));
                    }
                }
            }
        }
        out.sort_unstable_by_key(|(k, _)| *k);
        let mut workloads: Vec<WorkloadId> = ids.into_iter().cloned().collect();
        workloads.sort_by_key(ToString::to_string);
        workloads.dedup();
        ConnList {
            workloads,
            connections: out.into_iter().map(|(_, c)| c).collect(),
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
