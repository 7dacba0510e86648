//! What one client connection shares with its WebSocket sessions: its place
//! among `max_connections` (which a session keeps while it lasts) and the
//! signal that the proxy is shutting down.

use tokio::sync::{OwnedSemaphorePermit, watch};

/// One client connection, shared by its sessions.
#[derive(Debug)]
pub(crate) struct ClientConnection {
    /// Freed when the connection and its sessions are all gone.
    _slot: OwnedSemaphorePermit,
    closing: watch::Receiver<bool>,
}

impl ClientConnection {
    pub(crate) fn new(slot: OwnedSemaphorePermit, closing: watch::Receiver<bool>) -> Self {
        ClientConnection {
            _slot: slot,
            closing,
        }
    }

    /// Turns `true` when the proxy's drain ends.
    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.clone()
    }
}
