//! Where an object lives in the API: its `apiVersion` and `kind` to the
//! resource path (group, version, plural) and whether it is namespaced.
//! The kinds the labs use are known here (from k8s-openapi's types, so no
//! request is needed); any other kind is asked of the API server's
//! discovery for its group version.

use kube::api::{ApiResource, GroupVersionKind};
use kube::discovery::Scope;

use super::{Cluster, ClusterError};

/// An object's resource and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Group, version, kind, plural.
    pub api: ApiResource,
    /// Whether objects of this kind live in a namespace.
    pub namespaced: bool,
}

fn known<K>() -> Resource
where
    K: kube::Resource<DynamicType = ()> + k8s_openapi::Resource,
    <K as k8s_openapi::Resource>::Scope: ScopeOf,
{
    Resource {
        api: ApiResource::erase::<K>(&()),
        namespaced: <<K as k8s_openapi::Resource>::Scope as ScopeOf>::NAMESPACED,
    }
}

/// Whether a k8s-openapi scope type is namespaced.
trait ScopeOf {
    const NAMESPACED: bool;
}
impl ScopeOf for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}
impl ScopeOf for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

/// The kinds seclab's labs and snapshots use, without discovery.
pub fn builtin(api_version: &str, kind: &str) -> Option<Resource> {
    use k8s_openapi::api::{apps, core, networking, rbac};
    Some(match (api_version, kind) {
        ("v1", "Namespace") => known::<core::v1::Namespace>(),
        ("v1", "ConfigMap") => known::<core::v1::ConfigMap>(),
        ("v1", "Secret") => known::<core::v1::Secret>(),
        ("v1", "ServiceAccount") => known::<core::v1::ServiceAccount>(),
        ("v1", "Pod") => known::<core::v1::Pod>(),
        ("v1", "Service") => known::<core::v1::Service>(),
        ("apps/v1", "Deployment") => known::<apps::v1::Deployment>(),
        ("apps/v1", "ReplicaSet") => known::<apps::v1::ReplicaSet>(),
        ("apps/v1", "StatefulSet") => known::<apps::v1::StatefulSet>(),
        ("apps/v1", "DaemonSet") => known::<apps::v1::DaemonSet>(),
        ("networking.k8s.io/v1", "NetworkPolicy") => known::<networking::v1::NetworkPolicy>(),
        ("rbac.authorization.k8s.io/v1", "Role") => known::<rbac::v1::Role>(),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => known::<rbac::v1::RoleBinding>(),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => known::<rbac::v1::ClusterRole>(),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            known::<rbac::v1::ClusterRoleBinding>()
        }
        _ => return None,
    })
}

/// The resource of `api_version`/`kind`: known, or from discovery (one GET
/// of the group version).
pub async fn resolve(
    cluster: &Cluster,
    api_version: &str,
    kind: &str,
) -> Result<Resource, ClusterError> {
    if let Some(r) = builtin(api_version, kind) {
        return Ok(r);
    }
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (api, caps) = kube::discovery::pinned_kind(&cluster.client(), &gvk)
        .await
        .map_err(|e| match cluster.error(e) {
            ClusterError::Api { code: 404, .. } | ClusterError::Other { .. } => {
                ClusterError::Other {
                    context: cluster.context.clone(),
                    message: format!("the cluster does not serve {kind} in {api_version}"),
                }
            }
            other => other,
        })?;
    Ok(Resource {
        api,
        namespaced: caps.scope == Scope::Namespaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_kinds_have_their_paths_and_scopes() {
        let np = builtin("networking.k8s.io/v1", "NetworkPolicy").unwrap();
        assert_eq!(np.api.plural, "networkpolicies");
        assert_eq!(np.api.group, "networking.k8s.io");
        assert!(np.namespaced);
        let crb = builtin("rbac.authorization.k8s.io/v1", "ClusterRoleBinding").unwrap();
        assert_eq!(crb.api.plural, "clusterrolebindings");
        assert!(!crb.namespaced);
        let ns = builtin("v1", "Namespace").unwrap();
        assert!(!ns.namespaced);
        assert_eq!(ns.api.group, "");
        // A kind in the wrong group is not guessed.
        assert!(builtin("v1", "Deployment").is_none());
    }
}
