//! Kubernetes RBAC: who may do what, and which binding, role and rule say so.
