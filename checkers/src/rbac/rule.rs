//! One `PolicyRule` and how it matches a request, exactly as upstream
//! `rbac/v1/helpers` (`VerbMatches`, `APIGroupMatches`, `ResourceMatches`,
//! `ResourceNameMatches`, `NonResourceURLMatches`) and `RuleAllows` do.

use serde_json::Value;

/// `*`: everything, in verbs, apiGroups, resources and nonResourceURLs.
pub const ALL: &str = "*";

/// A `PolicyRule` as written (lists may be empty when absent).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    pub(crate) verbs: Vec<String>,
    pub(crate) api_groups: Vec<String>,
    pub(crate) resources: Vec<String>,
    pub(crate) resource_names: Vec<String>,
    pub(crate) non_resource_urls: Vec<String>,
    /// The rule object as written, reported in grants.
    pub(crate) raw: Value,
    /// Where the rule is written, when it comes from a file.
    pub(crate) at: Option<RuleAt>,
    /// A rule of a built-in role, as every cluster has it.
    pub(crate) builtin: bool,
}

/// Where a rule is written: its role, file, document and field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleAt {
    /// The role, as `Role ns/name` or `ClusterRole/name`.
    pub(crate) object: String,
    pub(crate) source: String,
    pub(crate) doc: usize,
    /// `rules[i]`.
    pub(crate) path: String,
}

impl Rule {
    /// `verbs` contains `verb` or `*`.
    pub(crate) fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == ALL || v == verb)
    }

    /// `apiGroups` contains `group` (`""` = core) or `*`.
    pub(crate) fn group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == ALL || g == group)
    }

    /// `resources` contains `*`, `resource[/subresource]`, or `*/subresource`
    /// for a request on a subresource.
    pub(crate) fn resource_matches(&self, resource: &str, subresource: Option<&str>) -> bool {
        let sub = subresource.filter(|s| !s.is_empty());
        let combined = match sub {
            Some(s) => format!("{resource}/{s}"),
            None => resource.to_owned(),
        };
        self.resources.iter().any(|r| {
            r == ALL
                || *r == combined
                || sub.is_some_and(|s| r.strip_prefix("*/").is_some_and(|rs| rs == s))
        })
    }

    /// No `resourceNames`, or they list `name`. A request without a name (a
    /// list, a create, a cluster-wide watch) never matches a rule that lists
    /// names.
    pub(crate) fn name_matches(&self, name: Option<&str>) -> bool {
        self.resource_names.is_empty()
            || self.resource_names.iter().any(|n| Some(n.as_str()) == name)
    }

    /// `nonResourceURLs` contains `*`, `path`, or `prefix*` with `path`
    /// starting with `prefix`.
    pub(crate) fn url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|u| {
            u == ALL
                || u == path
                || u.strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        })
    }

    /// Whether the rule allows a resource request.
    pub(crate) fn allows_resource(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: Option<&str>,
        name: Option<&str>,
    ) -> bool {
        self.verb_matches(verb)
            && self.group_matches(group)
            && self.resource_matches(resource, subresource)
            && self.name_matches(name)
    }

    /// Whether the rule allows a non-resource request.
    pub(crate) fn allows_url(&self, verb: &str, path: &str) -> bool {
        self.verb_matches(verb) && self.url_matches(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> Rule {
        let v = |xs: &[&str]| xs.iter().map(|s| (*s).to_owned()).collect();
        Rule {
            verbs: v(verbs),
            api_groups: v(groups),
            resources: v(resources),
            resource_names: v(names),
            non_resource_urls: Vec::new(),
            raw: Value::Null,
            at: None,
            builtin: false,
        }
    }

    #[test]
    fn star_resource_covers_subresources() {
        let r = rule(&["get"], &[""], &["*"], &[]);
        assert!(r.resource_matches("pods", Some("exec")));
        assert!(r.resource_matches("pods", None));
    }

    #[test]
    fn plain_resource_does_not_cover_subresource() {
        let r = rule(&["get"], &[""], &["pods"], &[]);
        assert!(!r.resource_matches("pods", Some("log")));
        let r = rule(&["get"], &[""], &["pods/log"], &[]);
        assert!(r.resource_matches("pods", Some("log")));
        assert!(!r.resource_matches("pods", None));
    }

    #[test]
    fn star_slash_subresource_matches_any_resource() {
        // Upstream ResourceMatches: "*/scale" covers deployments/scale etc.
        let r = rule(&["update"], &["*"], &["*/scale"], &[]);
        assert!(r.resource_matches("deployments", Some("scale")));
        assert!(r.resource_matches("replicasets", Some("scale")));
        assert!(!r.resource_matches("deployments", None));
        assert!(!r.resource_matches("deployments", Some("status")));
        assert!(!r.resource_matches("deployments", Some("xscale")));
    }

    #[test]
    fn resource_names_need_a_named_request() {
        let r = rule(&["get"], &[""], &["configmaps"], &["my-config"]);
        assert!(r.allows_resource("get", "", "configmaps", None, Some("my-config")));
        assert!(!r.allows_resource("get", "", "configmaps", None, Some("other")));
        assert!(!r.allows_resource("list", "", "configmaps", None, None));
        assert!(!r.allows_resource("get", "", "configmaps", None, None));
    }

    #[test]
    fn verbs_and_groups() {
        let r = rule(&["*"], &["apps"], &["deployments"], &[]);
        assert!(r.allows_resource("delete", "apps", "deployments", None, None));
        assert!(!r.allows_resource("delete", "", "deployments", None, None));
        assert!(!r.allows_resource("delete", "extensions", "deployments", None, None));
        let r = rule(&["get"], &[""], &["pods"], &[]);
        assert!(
            !r.allows_resource("Get", "", "pods", None, None),
            "verbs are case-sensitive"
        );
    }

    #[test]
    fn non_resource_urls_prefix() {
        let mut r = rule(&["get"], &[], &[], &[]);
        r.non_resource_urls = vec!["/healthz".into(), "/healthz/*".into(), "/api*".into()];
        assert!(r.allows_url("get", "/healthz"));
        assert!(r.allows_url("get", "/healthz/ready"));
        assert!(r.allows_url("get", "/apis/apps"));
        assert!(!r.allows_url("post", "/healthz"));
        assert!(!r.allows_url("get", "/metrics"));
        assert!(!r.allows_url("get", "/healthzz"));
    }
}
