//! The reachability matrix: sources as rows, destinations as columns, one
//! `external` row and column for IPs outside the cluster, one cell per pair.
//! [`Matrix`] is the grid as data (for a TUI widget); [`render`] draws it as
//! plain text within a width, with abbreviated names, a key and a legend,
//! and marks with `!` the cells that differ from an expectation (in the
//! spirit of cyclonus's truth tables). [`Report`] is the JSON shape.

use std::fmt::Write as _;

use serde::Serialize;

use super::connlist::{ConnList, Diff, Expectation, Peer, diff};
use super::ip::IpRange;
use super::model::WorkloadId;
use super::ports::ConnSet;

/// Name of the row and column standing for IPs outside the cluster.
pub const EXTERNAL: &str = "external";

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// What the policies allow (for `external`: the union over all IPs).
    pub actual: ConnSet,
    /// What the expectation allows, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<ConnSet>,
    /// Whether the cell differs from the expectation.
    pub differs: bool,
    /// Whether `actual` holds for only part of the external IP range.
    pub partial: bool,
    /// What the cell stands for.
    pub kind: CellKind,
}

/// What a cell stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Two different peers.
    Pair,
    /// A workload talking to itself (always allowed, not analysed).
    Loopback,
    /// `external` to `external` (not analysed).
    Unused,
}

/// The grid as data: `cells[row][col]`, rows are sources, columns are
/// destinations; the last row and column are [`EXTERNAL`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// Source names (`ns/name[Kind]`, then `external`).
    pub rows: Vec<String>,
    /// Destination names, the same order as `rows`.
    pub cols: Vec<String>,
    /// The cells.
    pub cells: Vec<Vec<Cell>>,
    /// Number of cells that differ from the expectation (0 without one).
    pub differing: usize,
    /// Whether an expectation was compared.
    pub compared: bool,
}

/// The JSON shape: `{"workloads":[…], "connections":[…], "diff":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Every workload, `{namespace, name, kind}`.
    pub workloads: Vec<WorkloadId>,
    /// Every allowed connection, `{src, dst, conns}` in connlist spelling.
    pub connections: Vec<super::connlist::Connection>,
    /// Differences from the expectation, `{src, dst, expected, actual}`;
    /// absent when no expectation was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<Vec<Diff>>,
}

impl Report {
    /// The report of `list`, compared with `expected` when given.
    pub fn new(list: &ConnList, expected: Option<&Expectation>) -> Report {
        Report {
            workloads: list.workloads.clone(),
            connections: list.connections.clone(),
            diff: expected.map(|e| diff(e, &list.to_expectation())),
        }
    }
}

/// Per pair: the union of connections and the IP ranges seen.
type PairAcc = (ConnSet, Vec<(IpRange, ConnSet)>);

fn index_of(names: &[String], peer: &Peer) -> Option<usize> {
    match peer {
        Peer::External(_) => Some(names.len()),
        Peer::Workload(w) => names.binary_search(&w.to_string()).ok(),
    }
}

fn fill(names: &[String], e: &Expectation) -> Vec<Vec<PairAcc>> {
    let n = names.len() + 1;
    let mut grid = vec![vec![(ConnSet::none(), Vec::new()); n]; n];
    for ((s, d), c) in &e.pairs {
        let (Some(i), Some(j)) = (index_of(names, s), index_of(names, d)) else {
            continue;
        };
        if let Some(slot) = grid.get_mut(i).and_then(|r| r.get_mut(j)) {
            slot.0.union_with(c);
            if let Peer::External(r) = s {
                slot.1.push((*r, c.clone()));
            }
            if let Peer::External(r) = d {
                slot.1.push((*r, c.clone()));
            }
        }
    }
    grid
}

/// Whether the union `all` holds on only part of the IP space.
fn is_partial(all: &ConnSet, ranges: &[(IpRange, ConnSet)]) -> bool {
    if all.is_empty() || ranges.is_empty() {
        return false;
    }
    let mut covered: Vec<IpRange> = ranges
        .iter()
        .filter(|(_, c)| c == all)
        .map(|(r, _)| *r)
        .collect();
    covered.sort_unstable();
    let mut next: u64 = 0;
    for r in covered {
        if u64::from(r.start) > next {
            return true;
        }
        next = next.max(u64::from(r.end) + 1);
    }
    u32::try_from(next).is_ok()
}

/// Builds the matrix of `list`, comparing with `expected` when given.
pub fn build(list: &ConnList, expected: Option<&Expectation>) -> Matrix {
    let mut names: Vec<String> = list.workloads.iter().map(ToString::to_string).collect();
    names.sort();
    names.dedup();
    let n = names.len() + 1;
    let actual = fill(&names, &list.to_expectation());
    let exp = expected.map(|e| fill(&names, e));
    let mut differs = vec![vec![false; n]; n];
    if let Some(e) = expected {
        for d in diff(e, &list.to_expectation()) {
            let (Some(s), Some(t)) = (Peer::parse(&d.src), Peer::parse(&d.dst)) else {
                continue;
            };
            if let (Some(i), Some(j)) = (index_of(&names, &s), index_of(&names, &t))
                && let Some(x) = differs.get_mut(i).and_then(|r| r.get_mut(j))
            {
                *x = true;
            }
        }
    }
    let mut cells = Vec::with_capacity(n);
    let mut differing = 0;
    for (i, row) in actual.into_iter().enumerate() {
        let mut out = Vec::with_capacity(n);
        for (j, (conns, ranges)) in row.into_iter().enumerate() {
            let d = differs
                .get(i)
                .and_then(|r| r.get(j))
                .copied()
                .unwrap_or(false);
            differing += usize::from(d);
            out.push(Cell {
                partial: is_partial(&conns, &ranges),
                actual: conns,
                expected: exp
                    .as_ref()
                    .and_then(|g| g.get(i).and_then(|r| r.get(j)))
                    .map(|c| c.0.clone()),
                differs: d,
                kind: if i + 1 == n && j + 1 == n {
                    CellKind::Unused
                } else if i == j {
                    CellKind::Loopback
                } else {
                    CellKind::Pair
                },
            });
        }
        cells.push(out);
    }
    let mut rows = names;
    rows.push(EXTERNAL.to_owned());
    Matrix {
        cols: rows.clone(),
        rows,
        cells,
        differing,
        compared: expected.is_some(),
    }
}

const LEGEND: [&str; 4] = [
    "Rows are sources, columns destinations. all = every protocol and port,",
    "- = denied, . = self (not analysed), T/U/S = TCP/UDP/SCTP ports (T* = all",
    "of TCP), ~ = only part of the external IPs, *N = see note N,",
    "! = differs from the expectation.",
];

fn cell_text(c: &Cell) -> String {
    match c.kind {
        CellKind::Loopback => return ".".to_owned(),
        CellKind::Unused => return String::new(),
        CellKind::Pair => {}
    }
    let mut t = c.actual.short();
    if c.partial {
        t.push('~');
    }
    t
}

fn key_of(i: usize, n: usize) -> String {
    if i + 1 == n {
        "ext".to_owned()
    } else {
        (i + 1).to_string()
    }
}

/// Draws the matrix as text no wider than `width` (when possible): names
/// are replaced by numbers explained in a key, long cells by notes.
pub fn render(m: &Matrix, width: usize) -> String {
    let n = m.cols.len();
    let corner = "from\\to";
    let label_w = corner.len().max(3);
    let texts: Vec<Vec<String>> = m
        .cells
        .iter()
        .map(|r| r.iter().map(cell_text).collect())
        .collect();
    let widest = texts
        .iter()
        .flatten()
        .map(|t| t.chars().count() + 1)
        .max()
        .unwrap_or(1);
    let fit = width.saturating_sub(label_w) / n.max(1);
    let col_w = widest.min(fit.saturating_sub(1)).max(3);
    let mut notes: Vec<String> = Vec::new();
    let mut out = String::new();
    let _ = write!(out, "{corner:<label_w$}");
    for j in 0..n {
        let _ = write!(out, " {:>col_w$}", key_of(j, n));
    }
    out.push('\n');
    for (i, row) in texts.iter().enumerate() {
        let _ = write!(out, "{:<label_w$}", key_of(i, n));
        for (j, t) in row.iter().enumerate() {
            let differs = m
                .cells
                .get(i)
                .and_then(|r| r.get(j))
                .is_some_and(|c| c.differs);
            let mark = if differs { "!" } else { "" };
            let mut shown = format!("{t}{mark}");
            if shown.chars().count() > col_w {
                notes.push(t.clone());
                shown = format!("*{}{mark}", notes.len());
            }
            let _ = write!(out, " {shown:>col_w$}");
        }
        let kept = out.trim_end_matches(' ').len();
        out.truncate(kept);
        out.push('\n');
    }
    out.push('\n');
    // The last legend line, about `!`, only when there is something to
    // differ from.
    let shown = if m.compared {
        LEGEND.len()
    } else {
        LEGEND.len() - 1
    };
    for l in LEGEND.iter().take(shown) {
        out.push_str(l);
        out.push('\n');
    }
    for (i, name) in m.rows.iter().enumerate() {
        let key = key_of(i, n);
        let name = if i + 1 == n {
            "IPs outside the cluster"
        } else {
            name
        };
        let _ = writeln!(out, "{key:>3} = {name}");
    }
    for (k, note) in notes.iter().enumerate() {
        let _ = writeln!(out, "*{} = {note}", k + 1);
    }
    if m.compared {
        match m.differing {
            0 => out.push_str("All cells match the expectation.\n"),
            1 => out.push_str("1 cell differs from the expectation:\n"),
            k => {
                let _ = writeln!(out, "{k} cells differ from the expectation:");
            }
        }
        for (i, row) in m.cells.iter().enumerate() {
            for (j, c) in row.iter().enumerate().filter(|(_, c)| c.differs) {
                let exp = c
                    .expected
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), ConnSet::short);
                let _ = writeln!(
                    out,
                    "  {} -> {}: expected {exp}, got {}",
                    key_of(i, n),
                    key_of(j, n),
                    c.actual.short()
                );
            }
        }
    }
    out
}
