//! Terminal matrix (placeholder).
