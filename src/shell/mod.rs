//! The thin layers that touch the world. Today: the student's workspace
//! files ([`files`]) and watching them for saves ([`watch`]).

pub mod docker;
pub mod files;
pub mod manifests;
pub mod watch;
