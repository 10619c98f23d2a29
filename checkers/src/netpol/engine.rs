//! The reachability engine. Workloads that no selector can tell apart (same
//! namespace, labels and named ports) share an equivalence class; rules are
//! matched against classes once, and the allowed connections are computed
//! class to class: a connection needs the source's egress **and** the
//! destination's ingress; for IP peers only the pod side counts.
//!
//! Memory stays proportional to the rules, not to the square of the classes:
//! each distinct [`ConnSet`] is stored once ([`Interner`]) and cells hold its
//! `u32` id, and the result is computed one source class at a time
//! ([`Rows`]): its egress row and its ingress column, never the whole
//! ingress matrix. [`Cluster::connections`] expands rows as they come and
//! keeps no class-by-class matrix at all.

use std::collections::HashMap;

use super::ip::{self, IpRange};
use super::model::{Model, NamedPort, PeerSpec, PortVal, Rule, Workload, WorkloadId};
use super::ports::ConnSet;
use super::selector::Labels;
use super::{NetpolError, Note};
use crate::KubeObject;

/// Pods no policy can tell apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Class {
    ns: usize,
    labels: Labels,
    named_ports: Vec<NamedPort>,
}

/// A parsed cluster: namespaces, workloads and policies, grouped for the
/// engine. Build it with [`Cluster::from_objects`].
#[derive(Debug, Clone)]
pub struct Cluster {
    pub(crate) model: Model,
    ns_names: Vec<String>,
    ns_labels: Vec<Labels>,
    classes: Vec<Class>,
    class_of: Vec<usize>,
    src_atoms: Vec<IpRange>,
    dst_atoms: Vec<IpRange>,
}

/// Class-to-class allowed connections, the compact result of the engine:
/// every distinct connection set once, and `u32` ids of them per pair.
/// Expand it with [`Cluster::allowed`] or [`Cluster::connections`].
#[derive(Debug, Clone)]
pub struct Reachability {
    n: usize,
    nb: usize,
    sets: Vec<ConnSet>,
    /// `[s * n + d]`.
    pod: Vec<u32>,
    /// `[a * n + d]`.
    from_ext: Vec<u32>,
    /// `[s * nb + a]`.
    to_ext: Vec<u32>,
}

/// Id of the empty connection set in an [`Interner`].
pub(super) const NONE: u32 = 0;
/// Id of `All Connections` in an [`Interner`].
const ALL: u32 = 1;

/// Each distinct connection set once, named by a `u32` id.
#[derive(Debug, Clone)]
pub(super) struct Interner {
    sets: Vec<ConnSet>,
    index: HashMap<ConnSet, u32>,
}

impl Interner {
    fn new() -> Self {
        let sets = vec![ConnSet::none(), ConnSet::all()];
        let index = sets.iter().cloned().zip([NONE, ALL]).collect();
        Interner { sets, index }
    }

    /// The id of `c`, added when new. Empty sets are always [`NONE`].
    fn id(&mut self, c: &ConnSet) -> u32 {
        if c.is_empty() {
            return NONE;
        }
        if c.is_all() {
            return ALL;
        }
        if let Some(&id) = self.index.get(c) {
            return id;
        }
        // 2^32 distinct sets would not fit in memory first.
        let id = u32::try_from(self.sets.len()).unwrap_or(u32::MAX);
        self.sets.push(c.clone());
        self.index.insert(c.clone(), id);
        id
    }

    /// The set named `id`.
    pub(super) fn get(&self, id: u32) -> Option<&ConnSet> {
        self.sets.get(usize::try_from(id).ok()?)
    }
}

/// A rule after matching its peers against the cluster.
struct Matched<'a> {
    rule: &'a Rule,
    classes: Vec<usize>,
    atoms: Vec<std::ops::Range<usize>>,
    /// Ports when they do not depend on the destination (no named port).
    fixed: Option<ConnSet>,
}

impl Cluster {
    /// Reads the cluster from manifests. `List` kinds are expanded, pods
    /// with an owner are folded into it, other kinds are ignored with a
    /// [`Note`]. Malformed `NetworkPolicy` objects are errors naming the field.
    pub fn from_objects(objects: &[KubeObject]) -> Result<(Cluster, Vec<Note>), NetpolError> {
        let (model, notes) = Model::from_objects(objects)?;
        Ok((Cluster::from_model(model), notes))
    }

    fn from_model(model: Model) -> Cluster {
        let ns_names: Vec<String> = model.namespaces.keys().cloned().collect();
        let ns_labels: Vec<Labels> = model.namespaces.values().cloned().collect();
        let ns_index: HashMap<&str, usize> = ns_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut classes: Vec<Class> = Vec::new();
        let mut class_index: HashMap<Class, usize> = HashMap::new();
        let mut class_of = Vec::with_capacity(model.workloads.len());
        for w in &model.workloads {
            let class = Class {
                ns: ns_index.get(w.id.namespace.as_str()).copied().unwrap_or(0),
                labels: w.labels.clone(),
                named_ports: w.named_ports.clone(),
            };
            let next = classes.len();
            let idx = *class_index.entry(class.clone()).or_insert(next);
            if idx == next {
                classes.push(class);
            }
            class_of.push(idx);
        }
        let mut src_blocks = Vec::new();
        let mut dst_blocks = Vec::new();
        for p in &model.policies {
            for (rules, blocks) in [(&p.ingress, &mut src_blocks), (&p.egress, &mut dst_blocks)] {
                for r in rules.iter().flatten() {
                    for peer in r.peers.iter().flatten() {
                        if let PeerSpec::Ip(ranges) = peer {
                            blocks.extend_from_slice(ranges);
                        }
                    }
                }
            }
        }
        let src_atoms = ip::atoms(&src_blocks);
        let dst_atoms = ip::atoms(&dst_blocks);
        Cluster {
            model,
            ns_names,
            ns_labels,
            classes,
            class_of,
            src_atoms,
            dst_atoms,
        }
    }

    /// The workloads, in input order (index = workload number).
    pub fn workloads(&self) -> impl ExactSizeIterator<Item = &WorkloadId> {
        self.model.workloads.iter().map(|w: &Workload| &w.id)
    }

    /// Number of equivalence classes the workloads fall into.
    pub fn class_count(&self) -> usize {
        self.classes.len()
    }

    /// The IP atoms sources are cut into (by ingress ipBlocks).
    pub fn source_atoms(&self) -> &[IpRange] {
        &self.src_atoms
    }

    /// The IP atoms destinations are cut into (by egress ipBlocks).
    pub fn destination_atoms(&self) -> &[IpRange] {
        &self.dst_atoms
    }

    fn match_rule<'a>(&self, rule: &'a Rule, policy_ns: usize, atoms: &[IpRange]) -> Matched<'a> {
        let mut classes = Vec::new();
        let mut ranges = Vec::new();
        match &rule.peers {
            None => {
                classes.extend(0..self.classes.len());
                ranges.push(0..atoms.len());
            }
            Some(peers) => {
                let mut hit = vec![false; self.classes.len()];
                for peer in peers {
                    match peer {
                        PeerSpec::Ip(blocks) => {
                            ranges.extend(blocks.iter().map(|b| ip::atoms_within(atoms, *b)));
                        }
                        PeerSpec::Pods { ns, pods } => {
                            let ns_ok: Vec<bool> = match ns {
                                None => (0..self.ns_names.len()).map(|i| i == policy_ns).collect(),
                                Some(sel) => {
                                    self.ns_labels.iter().map(|l| sel.matches(l)).collect()
                                }
                            };
                            for (c, class) in self.classes.iter().enumerate() {
                                if ns_ok.get(class.ns).copied().unwrap_or(false)
                                    && pods.as_ref().is_none_or(|s| s.matches(&class.labels))
                                    && let Some(h) = hit.get_mut(c)
                                {
                                    *h = true;
                                }
                            }
                        }
                    }
                }
                classes.extend(hit.iter().enumerate().filter(|(_, h)| **h).map(|(c, _)| c));
            }
        }
        let fixed = match &rule.ports {
            None => Some(ConnSet::all()),
            Some(specs) if specs.iter().all(|s| !matches!(s.val, PortVal::Named(_))) => {
                Some(resolve(rule, None))
            }
            Some(_) => None,
        };
        Matched {
            rule,
            classes,
            atoms: ranges,
            fixed,
        }
    }

    /// The policies matched against the classes and indexed for [`Rows`].
    fn rules(&self, sets: &mut Interner) -> Rules<'_> {
        let n = self.classes.len();
        let ns_index: HashMap<&str, usize> = self
            .ns_names
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        // Rules per class and direction; `None` = not isolated.
        let mut ing: Vec<Option<Vec<usize>>> = vec![None; n];
        let mut eg: Vec<Option<Vec<usize>>> = vec![None; n];
        let mut in_rules: Vec<Matched> = Vec::new();
        let mut eg_rules: Vec<Matched> = Vec::new();
        for p in &self.model.policies {
            let Some(&pns) = ns_index.get(p.namespace.as_str()) else {
                continue;
            };
            let selected: Vec<usize> = self
                .classes
                .iter()
                .enumerate()
                .filter(|(_, c)| c.ns == pns && p.selector.matches(&c.labels))
                .map(|(i, _)| i)
                .collect();
            if selected.is_empty() {
                continue;
            }
            for (rules, per_class, matched, atoms) in [
                (&p.ingress, &mut ing, &mut in_rules, &self.src_atoms),
                (&p.egress, &mut eg, &mut eg_rules, &self.dst_atoms),
            ] {
                let Some(rules) = rules else { continue };
                let first = matched.len();
                for r in rules {
                    matched.push(self.match_rule(r, pns, atoms));
                }
                for &c in &selected {
                    if let Some(slot) = per_class.get_mut(c) {
                        slot.get_or_insert_with(Vec::new)
                            .extend(first..matched.len());
                    }
                }
            }
        }
        // Ingress turned around: per source class, the rules admitting it;
        // per rule, the classes it guards with the ports it opens to each.
        let mut in_by_src: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (r, m) in in_rules.iter().enumerate() {
            for &s in &m.classes {
                if let Some(v) = in_by_src.get_mut(s) {
                    v.push(r);
                }
            }
        }
        let fixed: Vec<Option<u32>> = in_rules
            .iter()
            .map(|m| m.fixed.as_ref().map(|p| sets.id(p)))
            .collect();
        let na = self.src_atoms.len();
        let mut in_targets: Vec<Vec<(usize, u32)>> = vec![Vec::new(); in_rules.len()];
        let mut from_ext = vec![ALL; na * n];
        let mut col = vec![ConnSet::none(); na];
        for (d, rules) in ing.iter().enumerate() {
            let Some(rules) = rules else { continue };
            let mut any_atom = false;
            for &r in rules {
                let Some(m) = in_rules.get(r) else { continue };
                let id = match fixed.get(r).copied().flatten() {
                    Some(id) => id,
                    None => sets.id(&resolve(m.rule, self.classes.get(d))),
                };
                if id == NONE {
                    continue;
                }
                if let Some(t) = in_targets.get_mut(r) {
                    t.push((d, id));
                }
                let Some(ports) = sets.get(id) else { continue };
                for a in m.atoms.iter().flat_map(Clone::clone) {
                    if let Some(slot) = col.get_mut(a) {
                        slot.union_with(ports);
                        any_atom = true;
                    }
                }
            }
            for a in 0..na {
                let id = match col.get_mut(a) {
                    Some(c) if any_atom => sets.id(&std::mem::take(c)),
                    _ => NONE,
                };
                if let Some(slot) = from_ext.get_mut(a * n + d) {
                    *slot = id;
                }
            }
        }
        Rules {
            in_isolated: ing.iter().map(Option::is_some).collect(),
            in_by_src,
            in_targets,
            eg,
            eg_matched: eg_rules,
            from_ext,
        }
    }

    /// The engine as rows, one source class at a time.
    pub(super) fn rows(&self) -> Rows<'_> {
        let mut sets = Interner::new();
        let rules = self.rules(&mut sets);
        let (n, nb) = (self.classes.len(), self.dst_atoms.len());
        Rows {
            cluster: self,
            rules,
            sets,
            eg: vec![ConnSet::none(); n],
            inn: vec![ConnSet::none(); n],
            ext: vec![ConnSet::none(); nb],
            touched: Vec::new(),
            pod: vec![NONE; n],
            to_ext: vec![NONE; nb],
        }
    }

    /// The class of every workload (index = workload number).
    pub(super) fn class_of(&self) -> &[usize] {
        &self.class_of
    }

    /// Runs the engine: allowed connections between every pair of classes
    /// and between classes and IP atoms.
    pub fn reachability(&self) -> Reachability {
        let (n, nb) = (self.classes.len(), self.dst_atoms.len());
        let mut rows = self.rows();
        let mut pod = vec![NONE; n * n];
        let mut to_ext = vec![NONE; n * nb];
        for s in 0..n {
            let row = rows.row(s);
            if let Some(out) = pod.get_mut(s * n..(s + 1) * n) {
                out.copy_from_slice(row.pod);
            }
            if let Some(out) = to_ext.get_mut(s * nb..(s + 1) * nb) {
                out.copy_from_slice(row.to_ext);
            }
        }
        Reachability {
            n,
            nb,
            sets: rows.sets.sets,
            pod,
            from_ext: rows.rules.from_ext,
            to_ext,
        }
    }

    /// What workload `src` may open to workload `dst` (indices as in
    /// [`Cluster::workloads`]); `None` for an out-of-range index.
    pub fn allowed<'r>(&self, r: &'r Reachability, src: usize, dst: usize) -> Option<&'r ConnSet> {
        let s = *self.class_of.get(src)?;
        let d = *self.class_of.get(dst)?;
        r.set(*r.pod.get(s * r.n + d)?)
    }

    /// What source atom `atom` may open to workload `dst`.
    pub fn allowed_from_ip<'r>(
        &self,
        r: &'r Reachability,
        atom: usize,
        dst: usize,
    ) -> Option<&'r ConnSet> {
        let d = *self.class_of.get(dst)?;
        r.set(*r.from_ext.get(atom * r.n + d)?)
    }

    /// What workload `src` may open to destination atom `atom`.
    pub fn allowed_to_ip<'r>(
        &self,
        r: &'r Reachability,
        src: usize,
        atom: usize,
    ) -> Option<&'r ConnSet> {
        let s = *self.class_of.get(src)?;
        r.set(*r.to_ext.get(s * r.nb + atom)?)
    }
}

/// The policies matched against the classes, indexed by direction.
struct Rules<'a> {
    /// Per class: whether some policy isolates its ingress.
    in_isolated: Vec<bool>,
    /// Per source class: the ingress rules whose peers include it.
    in_by_src: Vec<Vec<usize>>,
    /// Per ingress rule: the classes it guards, with the id of the
    /// (non-empty) ports it opens to each.
    in_targets: Vec<Vec<(usize, u32)>>,
    /// Per class: its egress rules; `None` = not isolated.
    eg: Vec<Option<Vec<usize>>>,
    eg_matched: Vec<Matched<'a>>,
    /// Source atom to class, `[a * n + d]`.
    from_ext: Vec<u32>,
}

/// The engine computing one source class's row at a time, reusing its
/// buffers (touched cells are reset after each row).
pub(super) struct Rows<'c> {
    cluster: &'c Cluster,
    rules: Rules<'c>,
    sets: Interner,
    eg: Vec<ConnSet>,
    inn: Vec<ConnSet>,
    ext: Vec<ConnSet>,
    touched: Vec<usize>,
    pod: Vec<u32>,
    to_ext: Vec<u32>,
}

/// One source class's allowed connections, as ids into `sets`.
pub(super) struct Row<'r> {
    /// To every class.
    pub(super) pod: &'r [u32],
    /// To every destination atom.
    pub(super) to_ext: &'r [u32],
    /// From every source atom to every class, `[a * n + d]`.
    pub(super) from_ext: &'r [u32],
    /// The connection sets the ids name.
    pub(super) sets: &'r Interner,
}

impl Rows<'_> {
    /// The allowed connections of source class `s` (empty rows when `s` is
    /// out of range).
    pub(super) fn row(&mut self, s: usize) -> Row<'_> {
        let Rows {
            cluster,
            rules,
            sets,
            eg,
            inn,
            ext,
            touched,
            pod,
            to_ext,
        } = self;
        // Ingress column: what every destination admits from `s`.
        for &r in rules.in_by_src.get(s).into_iter().flatten() {
            for &(d, id) in rules.in_targets.get(r).into_iter().flatten() {
                if let (Some(slot), Some(ports)) = (inn.get_mut(d), sets.get(id)) {
                    touched.push(d);
                    slot.union_with(ports);
                }
            }
        }
        let in_isolated = |d: usize| rules.in_isolated.get(d).copied().unwrap_or(false);
        if let Some(Some(eg_rules)) = rules.eg.get(s) {
            for m in eg_rules.iter().filter_map(|&r| rules.eg_matched.get(r)) {
                for &d in &m.classes {
                    if let Some(slot) = eg.get_mut(d) {
                        touched.push(d);
                        match &m.fixed {
                            Some(p) => slot.union_with(p),
                            None => slot.union_with(&resolve(m.rule, cluster.classes.get(d))),
                        }
                    }
                }
                if !m.atoms.is_empty() {
                    let ports = m.fixed.clone().unwrap_or_else(|| resolve(m.rule, None));
                    for a in m.atoms.iter().flat_map(Clone::clone) {
                        if let Some(slot) = ext.get_mut(a) {
                            slot.union_with(&ports);
                        }
                    }
                }
            }
            for (d, (out, e)) in pod.iter_mut().zip(eg.iter()).enumerate() {
                *out = match inn.get(d) {
                    _ if e.is_empty() => NONE,
                    Some(i) if in_isolated(d) => sets.id(&e.intersect(i)),
                    _ => sets.id(e),
                };
            }
            for (out, e) in to_ext.iter_mut().zip(ext.iter_mut()) {
                *out = sets.id(&std::mem::take(e));
            }
        } else {
            for (d, (out, i)) in pod.iter_mut().zip(inn.iter()).enumerate() {
                *out = if in_isolated(d) { sets.id(i) } else { ALL };
            }
            to_ext.fill(ALL);
        }
        for d in touched.drain(..) {
            for v in [&mut *eg, &mut *inn] {
                if let Some(slot) = v.get_mut(d) {
                    *slot = ConnSet::none();
                }
            }
        }
        Row {
            pod,
            to_ext,
            from_ext: &rules.from_ext,
            sets,
        }
    }
}

/// The ports a rule allows towards `dst` (named ports resolved against its
/// container ports; `None` = an IP, where names resolve to nothing).
fn resolve(rule: &Rule, dst: Option<&Class>) -> ConnSet {
    let Some(specs) = &rule.ports else {
        return ConnSet::all();
    };
    let mut out = ConnSet::none();
    for s in specs {
        match &s.val {
            PortVal::All => out.insert(s.proto, 1, u16::MAX),
            PortVal::Range(lo, hi) => out.insert(s.proto, *lo, *hi),
            PortVal::Named(name) => {
                for np in dst.iter().flat_map(|c| &c.named_ports) {
                    if &np.name == name && np.proto == s.proto {
                        out.insert(s.proto, np.port, np.port);
                    }
                }
            }
        }
    }
    out
}

impl Reachability {
    /// Number of classes the result is expressed over.
    pub fn class_count(&self) -> usize {
        self.n
    }

    /// How many class pairs allow something (a cheap summary).
    pub fn allowed_class_pairs(&self) -> usize {
        self.pod.iter().filter(|&&id| id != NONE).count()
    }

    /// Number of distinct connection sets in the result.
    pub fn distinct_sets(&self) -> usize {
        self.sets.len()
    }

    fn set(&self, id: u32) -> Option<&ConnSet> {
        self.sets.get(usize::try_from(id).ok()?)
    }
}
