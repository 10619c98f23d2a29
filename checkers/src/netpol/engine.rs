//! The reachability engine. Workloads that no selector can tell apart (same
//! namespace, labels and named ports) share an equivalence class; rules are
//! matched against classes once, and the allowed connections are computed
//! class to class: a connection needs the source's egress **and** the
//! destination's ingress; for IP peers only the pod side counts.

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

/// Class-to-class allowed connections, the compact result of the engine.
/// Expand it with [`Reachability::allowed`] or [`Cluster::connections`].
#[derive(Debug, Clone)]
pub struct Reachability {
    n: usize,
    pod: Vec<ConnSet>,
    from_ext: Vec<ConnSet>,
    to_ext: Vec<ConnSet>,
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
                                {
                                    if let Some(h) = hit.get_mut(c) {
                                        *h = true;
                                    }
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

    /// Runs the engine: allowed connections between every pair of classes
    /// and between classes and IP atoms.
    pub fn reachability(&self) -> Reachability {
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
        let (na, nb) = (self.src_atoms.len(), self.dst_atoms.len());
        // Ingress, indexed [d * n + s]; from_ext [a * n + d].
        let mut ingress = vec![ConnSet::none(); n * n];
        let mut from_ext = vec![ConnSet::none(); na * n];
        for d in 0..n {
            let Some(rules) = ing.get(d).and_then(Option::as_ref) else {
                for s in 0..n {
                    set(&mut ingress, d * n + s, ConnSet::all());
                }
                for a in 0..na {
                    set(&mut from_ext, a * n + d, ConnSet::all());
                }
                continue;
            };
            for m in rules.iter().filter_map(|&r| in_rules.get(r)) {
                let ports = m
                    .fixed
                    .clone()
                    .unwrap_or_else(|| resolve(m.rule, self.classes.get(d)));
                if ports.is_empty() {
                    continue;
                }
                for &s in &m.classes {
                    union(&mut ingress, d * n + s, &ports);
                }
                for a in m.atoms.iter().flat_map(Clone::clone) {
                    union(&mut from_ext, a * n + d, &ports);
                }
            }
        }
        let mut pod = vec![ConnSet::none(); n * n];
        let mut to_ext = vec![ConnSet::none(); n * nb];
        let mut row = vec![ConnSet::none(); n];
        for s in 0..n {
            let Some(rules) = eg.get(s).and_then(Option::as_ref) else {
                for d in 0..n {
                    if let (Some(out), Some(inn)) = (pod.get_mut(s * n + d), ingress.get(d * n + s))
                    {
                        out.clone_from(inn);
                    }
                }
                for a in 0..nb {
                    set(&mut to_ext, s * nb + a, ConnSet::all());
                }
                continue;
            };
            row.fill(ConnSet::none());
            for m in rules.iter().filter_map(|&r| eg_rules.get(r)) {
                for &d in &m.classes {
                    if let Some(slot) = row.get_mut(d) {
                        match &m.fixed {
                            Some(p) => slot.union_with(p),
                            None => slot.union_with(&resolve(m.rule, self.classes.get(d))),
                        }
                    }
                }
                if !m.atoms.is_empty() {
                    let ports = m.fixed.clone().unwrap_or_else(|| resolve(m.rule, None));
                    for a in m.atoms.iter().flat_map(Clone::clone) {
                        union(&mut to_ext, s * nb + a, &ports);
                    }
                }
            }
            for (d, out) in row.iter().enumerate() {
                if out.is_empty() {
                    continue;
                }
                if let (Some(slot), Some(inn)) = (pod.get_mut(s * n + d), ingress.get(d * n + s)) {
                    *slot = out.intersect(inn);
                }
            }
        }
        Reachability {
            n,
            pod,
            from_ext,
            to_ext,
        }
    }

    /// What workload `src` may open to workload `dst` (indices as in
    /// [`Cluster::workloads`]); `None` for an out-of-range index.
    pub fn allowed<'r>(&self, r: &'r Reachability, src: usize, dst: usize) -> Option<&'r ConnSet> {
        let s = *self.class_of.get(src)?;
        let d = *self.class_of.get(dst)?;
        r.pod.get(s * r.n + d)
    }

    /// What source atom `atom` may open to workload `dst`.
    pub fn allowed_from_ip<'r>(
        &self,
        r: &'r Reachability,
        atom: usize,
        dst: usize,
    ) -> Option<&'r ConnSet> {
        let d = *self.class_of.get(dst)?;
        r.from_ext.get(atom * r.n + d)
    }

    /// What workload `src` may open to destination atom `atom`.
    pub fn allowed_to_ip<'r>(
        &self,
        r: &'r Reachability,
        src: usize,
        atom: usize,
    ) -> Option<&'r ConnSet> {
        let s = *self.class_of.get(src)?;
        r.to_ext.get(s * self.dst_atoms.len() + atom)
    }
}

fn set(v: &mut [ConnSet], i: usize, c: ConnSet) {
    if let Some(slot) = v.get_mut(i) {
        *slot = c;
    }
}

fn union(v: &mut [ConnSet], i: usize, c: &ConnSet) {
    if let Some(slot) = v.get_mut(i) {
        slot.union_with(c);
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
        self.pod.iter().filter(|c| !c.is_empty()).count()
    }
}
