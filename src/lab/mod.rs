//! Labs: the `lab.yaml` format ([`model`]), loading built-in and external
//! labs into a [`Catalog`] ([`load`]), per-student templates and flags
//! ([`template`]) and the content checks behind `seclab validate`
//! ([`validate`]).

pub mod load;
pub mod model;
pub mod template;
pub mod validate;

pub use load::{Catalog, Lab, LabFiles, Origin};
pub use model::{AlternativeAbout, LabSpec, TaskSpec, WrongExpect};
pub use template::Student;
