//! The tower middleware: [`ScopeGateLayer`] and [`ScopeGate`].

mod future;
#[allow(clippy::module_inception)]
mod layer;
mod rejection;
mod service;

pub use future::ResponseFuture;
pub use layer::ScopeGateLayer;
pub use rejection::{DefaultRejection, OnRejection, Rejection, RejectionKind};
pub use service::ScopeGate;
