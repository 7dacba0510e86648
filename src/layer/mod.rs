//! The tower middleware: [`ScopeGateLayer`] and [`ScopeGate`].
//!
//! `gate.rs` holds the per-route decision, which `layer.rs` builds and
//! `service.rs` runs; `challenges.rs` its `WWW-Authenticate` challenges;
//! `check.rs` the groups and checks a route may add
//! (`Denied` among them); `require.rs` holds the [`Verifier`](crate::Verifier)
//! methods that make layers.

mod challenges;
mod check;
pub mod future;
mod gate;
#[allow(clippy::module_inception)]
mod layer;
mod rejection;
mod require;
mod service;

pub use check::Denied;
pub use layer::ScopeGateLayer;
pub use rejection::{DefaultRejection, GrpcRejection, OnRejection, Rejection, RejectionKind};
pub use service::ScopeGate;
