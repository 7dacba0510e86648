//! Counters and a histogram, rendered in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::Verifier;

/// What became of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Forwarded,
    BadRequest,
    Unauthorized,
    Forbidden,
    NoRoute,
    MethodNotAllowed,
    KeySetUnavailable,
    BadGateway,
    GatewayTimeout,
    /// The client went away before the response.
    ClientClosed,
}

impl Outcome {
    const ALL: [Outcome; 10] = [
        Outcome::Forwarded,
        Outcome::BadRequest,
        Outcome::Unauthorized,
        Outcome::Forbidden,
        Outcome::NoRoute,
        Outcome::MethodNotAllowed,
        Outcome::KeySetUnavailable,
        Outcome::BadGateway,
        Outcome::GatewayTimeout,
        Outcome::ClientClosed,
    ];

    /// The `outcome` label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Outcome::Forwarded => "forwarded",
            Outcome::BadRequest => "400",
            Outcome::Unauthorized => "401",
            Outcome::Forbidden => "403",
            Outcome::NoRoute => "404",
            Outcome::MethodNotAllowed => "405",
            Outcome::KeySetUnavailable => "503",
            Outcome::BadGateway => "502",
            Outcome::GatewayTimeout => "504",
            Outcome::ClientClosed => "client_closed",
        }
    }
}

/// Upper bounds of the verification-latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5,
];

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    outcomes: [AtomicU64; 10],
    buckets: [AtomicU64; 12],
    verify_count: AtomicU64,
    verify_nanos: AtomicU64,
}

impl Metrics {
    pub(crate) fn count(&self, outcome: Outcome) {
        let i = Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        self.outcomes[i].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn observe_verification(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.verify_count.fetch_add(1, Ordering::Relaxed);
        self.verify_nanos.fetch_add(
            u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn outcome(&self, outcome: Outcome) -> u64 {
        let i = Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        self.outcomes[i].load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition.
    pub(crate) fn render(&self, verifier: &Verifier, ready: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP scopegate_requests_total Requests by outcome.");
        let _ = writeln!(out, "# TYPE scopegate_requests_total counter");
        for (i, outcome) in Outcome::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "scopegate_requests_total{{outcome=\"{}\"}} {}",
                outcome.label(),
                self.outcomes[i].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP scopegate_verification_seconds Time to verify a request's token and scopes."
        );
        let _ = writeln!(out, "# TYPE scopegate_verification_seconds histogram");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "scopegate_verification_seconds_bucket{{le=\"{bound}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.verify_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "scopegate_verification_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "scopegate_verification_seconds_sum {}",
            self.verify_nanos.load(Ordering::Relaxed) as f64 / 1e9
        );
        let _ = writeln!(out, "scopegate_verification_seconds_count {count}");
        let fetches = verifier.key_set_fetches();
        let (ok, failed) = (fetches.succeeded, fetches.failed);
        let _ = writeln!(
            out,
            "# HELP scopegate_key_set_fetches_total Key-set fetches by result."
        );
        let _ = writeln!(out, "# TYPE scopegate_key_set_fetches_total counter");
        let _ = writeln!(out, "scopegate_key_set_fetches_total{{result=\"ok\"}} {ok}");
        let _ = writeln!(
            out,
            "scopegate_key_set_fetches_total{{result=\"error\"}} {failed}"
        );
        let cache = verifier.token_cache_stats();
        let _ = writeln!(
            out,
            "# HELP scopegate_token_cache_total Verified-token cache lookups by result."
        );
        let _ = writeln!(out, "# TYPE scopegate_token_cache_total counter");
        let _ = writeln!(
            out,
            "scopegate_token_cache_total{{result=\"hit\"}} {}",
            cache.hits
        );
        let _ = writeln!(
            out,
            "scopegate_token_cache_total{{result=\"miss\"}} {}",
            cache.misses
        );
        let _ = writeln!(
            out,
            "# HELP scopegate_token_cache_entries Verified tokens cached now."
        );
        let _ = writeln!(out, "# TYPE scopegate_token_cache_entries gauge");
        let _ = writeln!(out, "scopegate_token_cache_entries {}", cache.entries);
        let _ = writeln!(out, "# HELP scopegate_ready Whether the key set is loaded.");
        let _ = writeln!(out, "# TYPE scopegate_ready gauge");
        let _ = writeln!(out, "scopegate_ready {}", u8::from(ready));
        out
    }
}
