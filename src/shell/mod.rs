//! The thin layers that touch the world. Today: the student's workspace
//! files ([`files`]), watching them for saves ([`watch`]), the Docker
//! engine ([`docker`]), the kind CLI ([`kind`]).

pub mod docker;
pub mod files;
pub mod kind;
pub mod kube;
pub mod manifests;
pub mod trivy;
pub mod watch;
