//! NetworkPolicy reachability: which workloads may connect to which, on
//! which ports, from manifests alone.
