//! Pod Security Standards (baseline, restricted), exact to the upstream
//! Pod Security Admission library.
