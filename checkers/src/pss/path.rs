//! Field paths (`spec.containers[0].securityContext`) built as a borrowed
//! chain of segments while walking the pod, rendered to a string only when an
//! error needs one.

/// A field path, rendered only when an error or violation needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'p> {
    parent: Option<&'p Path<'p>>,
    seg: Seg<'p>,
}

#[derive(Debug, Clone, Copy)]
enum Seg<'p> {
    Root(&'p str),
    Key(&'p str),
    Index(usize),
}

impl<'p> Path<'p> {
    /// A path starting at `root` (itself possibly dotted, e.g. `spec.template.spec`).
    pub(crate) fn root(root: &'p str) -> Self {
        Self {
            parent: None,
            seg: Seg::Root(root),
        }
    }

    /// `self.key`.
    pub(crate) fn key(&'p self, key: &'p str) -> Path<'p> {
        Path {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    /// `self[i]`.
    pub(crate) fn index(&'p self, i: usize) -> Path<'p> {
        Path {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }

    /// The dotted rendering, e.g. `spec.containers[0].name`.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        if let Some(p) = self.parent {
            p.render_into(out);
        }
        match self.seg {
            Seg::Root(s) => out.push_str(s),
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_with_dots_and_indexes() {
        let root = Path::root("spec.template.spec");
        let c = root.key("containers");
        let i = c.index(2);
        assert_eq!(
            i.key("name").render(),
            "spec.template.spec.containers[2].name"
        );
    }
}
