//! The `trivy_report` checker.
