//! Getting and caching the issuer's keys.

mod fetch;
mod store;

pub use fetch::FetchError;
pub(crate) use fetch::{Fetcher, fetch_url, is_loopback};
pub use store::KeySetFetches;
pub(crate) use store::{KeyCacheOptions, KeyStore, Snapshot, Source, Unavailable};
