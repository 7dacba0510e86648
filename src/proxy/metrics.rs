//! The proxy's metrics, encoded by `prometheus-client`: the proxy's own
//! counters and histogram live in a [`Registry`]; the verifier's counters are
//! read at scrape time by a [`Collector`]. A scraper that asks for OpenMetrics
//! (as Prometheus does) gets it; any other gets the Prometheus text format
//! 0.0.4, which `promtool check metrics` reads.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::Verifier;

/// The exposition formats `/metrics` speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// OpenMetrics 1.0, for a scraper whose `Accept` names it.
    OpenMetrics,
    /// The Prometheus text format 0.0.4, for everything else.
    Text,
}

impl Format {
    /// The format a request's `Accept` header asks for.
    pub(crate) fn from_accept(accept: Option<&http::HeaderValue>) -> Format {
        let asks = accept
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(accepts_openmetrics));
        if asks {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    /// The `Content-Type` of a response in this format.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// Whether one media range of an `Accept` header (RFC 9110 §12.5.1) names
/// OpenMetrics with a weight above zero.
fn accepts_openmetrics(range: &str) -> bool {
    let mut parts = range.split(';');
    let media = parts.next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case("application/openmetrics-text")
        && parts.all(|param| match param.split_once('=') {
            Some((name, weight)) if name.trim().eq_ignore_ascii_case("q") => {
                weight.trim().parse::<f32>().is_ok_and(|q| q > 0.0)
            }
            _ => true,
        })
}

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
    /// The protected-resource metadata document was served.
    Metadata,
}

impl Outcome {
    const ALL: [Outcome; 11] = [
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
        Outcome::Metadata,
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
            Outcome::Metadata => "metadata",
        }
    }

    fn index(self) -> usize {
        Outcome::ALL.iter().position(|o| *o == self).unwrap_or(0)
    }
}

/// Why a WebSocket session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SessionEnd {
    /// One side closed its connection (after a close frame, or not).
    Closed,
    /// Nothing was delivered either way for `websocket_idle_timeout`.
    Idle,
    /// The token's `exp` passed.
    Expired,
    /// The proxy shut down.
    Shutdown,
    /// A read or write failed.
    Error,
}

impl SessionEnd {
    const ALL: [SessionEnd; 5] = [
        SessionEnd::Closed,
        SessionEnd::Idle,
        SessionEnd::Expired,
        SessionEnd::Shutdown,
        SessionEnd::Error,
    ];

    /// The `end` label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            SessionEnd::Closed => "closed",
            SessionEnd::Idle => "idle",
            SessionEnd::Expired => "expired",
            SessionEnd::Shutdown => "shutdown",
            SessionEnd::Error => "error",
        }
    }

    fn index(self) -> usize {
        SessionEnd::ALL.iter().position(|e| *e == self).unwrap_or(0)
    }
}

/// Upper bounds of the verification-latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndLabel {
    end: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// The proxy's metrics. `prometheus-client` appends `_total` to counters
/// and `.` to help texts, so names and help are written without them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    /// One counter per outcome, all in the registry from the start (so that
    /// every outcome is exposed, at 0 until it happens).
    outcomes: [Counter; 11],
    verification: Histogram,
    /// Configuration reloads: `[ok, error]`.
    reloads: [Counter; 2],
    /// WebSocket sessions open now, and ended by why.
    websockets_open: Gauge,
    websockets_ended: [Counter; 5],
    /// The verifier in use, replaced by a reload.
    verifier: Arc<ArcSwap<Verifier>>,
}

impl Metrics {
    pub(crate) fn new(verifier: &Verifier) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<OutcomeLabel, Counter>::default();
        let outcomes = Outcome::ALL.map(|o| {
            requests
                .get_or_create(&OutcomeLabel { outcome: o.label() })
                .clone()
        });
        registry.register("scopegate_requests", "Requests by outcome", requests);
        let verification = Histogram::new(BUCKETS);
        registry.register(
            "scopegate_verification_seconds",
            "Time to verify a request's token and scopes",
            verification.clone(),
        );
        let reloads = Family::<ResultLabel, Counter>::default();
        let reload_counts =
            ["ok", "error"].map(|result| reloads.get_or_create(&ResultLabel { result }).clone());
        registry.register(
            "scopegate_config_reloads",
            "Configuration reloads (SIGHUP) by result",
            reloads,
        );
        let (websockets_open, websockets_ended) = register_websockets(&mut registry);
        let verifier = Arc::new(ArcSwap::from_pointee(verifier.clone()));
        registry.register_collector(Box::new(VerifierCollector(Arc::clone(&verifier))));
        Metrics {
            registry,
            outcomes,
            verification,
            reloads: reload_counts,
            websockets_open,
            websockets_ended,
            verifier,
        }
    }

    /// Counts a WebSocket session that has started.
    pub(crate) fn websocket_opened(&self) {
        self.websockets_open.inc();
    }

    /// Counts a WebSocket session that has ended, and why.
    pub(crate) fn websocket_ended(&self, end: SessionEnd) {
        self.websockets_open.dec();
        self.websockets_ended[end.index()].inc();
    }

    /// Counts a configuration reload.
    pub(crate) fn count_reload(&self, ok: bool) {
        self.reloads[usize::from(!ok)].inc();
    }

    /// The verifier whose counters are exposed from now on.
    pub(crate) fn expose(&self, verifier: &Verifier) {
        self.verifier.store(Arc::new(verifier.clone()));
    }

    pub(crate) fn count(&self, outcome: Outcome) {
        self.outcomes[outcome.index()].inc();
    }

    pub(crate) fn observe_verification(&self, took: Duration) {
        self.verification.observe(took.as_secs_f64());
    }

    pub(crate) fn outcome(&self, outcome: Outcome) -> u64 {
        self.outcomes[outcome.index()].get()
    }

    /// The exposition in `format` (served as its [`Format::content_type`]).
    pub(crate) fn render(&self, format: Format) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        match format {
            Format::OpenMetrics => out,
            Format::Text => text_format(&out),
        }
    }
}

/// `scopegate_websocket_sessions_open` and
/// `scopegate_websocket_sessions_ended_total{end}`, every `end` from the start.
fn register_websockets(registry: &mut Registry) -> (Gauge, [Counter; 5]) {
    let open = Gauge::default();
    registry.register(
        "scopegate_websocket_sessions_open",
        "WebSocket sessions being relayed",
        open.clone(),
    );
    let ended = Family::<EndLabel, Counter>::default();
    let counters =
        SessionEnd::ALL.map(|e| ended.get_or_create(&EndLabel { end: e.label() }).clone());
    registry.register(
        "scopegate_websocket_sessions_ended",
        "WebSocket sessions ended, by why",
        ended,
    );
    (open, counters)
}

/// OpenMetrics as the Prometheus text format 0.0.4. For what this module
/// exposes (counters, gauges and a histogram; no units, exemplars or
/// escapable help texts) the two differ only in that 0.0.4 names a counter
/// family with its `_total` suffix in `# HELP` and `# TYPE`, and has no
/// `# EOF`.
fn text_format(open_metrics: &str) -> String {
    let counters: Vec<&str> = open_metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open_metrics.len());
    for line in open_metrics.lines().filter(|l| *l != "# EOF") {
        let descriptor = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| Some((p, line.strip_prefix(p)?.split_once(' ')?)));
        match descriptor {
            Some((prefix, (name, rest))) if counters.contains(&name) => {
                out.push_str(&format!("{prefix}{name}_total {rest}\n"));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The verifier's own counters and gauges, read at each scrape.
#[derive(Debug)]
struct VerifierCollector(Arc<ArcSwap<Verifier>>);

impl VerifierCollector {
    /// A family of counters, one per `result` label.
    fn counters(
        encoder: &mut DescriptorEncoder<'_>,
        name: &str,
        help: &str,
        values: &[(&str, u64)],
    ) -> Result<(), std::fmt::Error> {
        let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
        for (result, value) in values {
            let labels = [("result", *result)];
            ConstCounter::new(*value).encode(metric.encode_family(&labels)?)?;
        }
        Ok(())
    }

    fn gauge(
        encoder: &mut DescriptorEncoder<'_>,
        name: &str,
        help: &str,
        value: i64,
    ) -> Result<(), std::fmt::Error> {
        let gauge = ConstGauge::new(value);
        gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
    }
}

impl Collector for VerifierCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let verifier = &*self.0.load();
        let fetches = verifier.key_set_fetches();
        let (ok, failed) = (fetches.succeeded, fetches.failed);
        Self::counters(
            &mut encoder,
            "scopegate_key_set_fetches",
            "Key-set fetches by result.",
            &[("ok", ok), ("error", failed)],
        )?;
        let cache = verifier.token_cache_stats();
        Self::counters(
            &mut encoder,
            "scopegate_token_cache",
            "Verified-token cache lookups by result.",
            &[("hit", cache.hits), ("miss", cache.misses)],
        )?;
        Self::gauge(
            &mut encoder,
            "scopegate_token_cache_entries",
            "Verified tokens cached now.",
            i64::try_from(cache.entries).unwrap_or(i64::MAX),
        )?;
        Self::gauge(
            &mut encoder,
            "scopegate_ready",
            "Whether a key set is loaded (any issuer's, as /readyz).",
            i64::from(verifier.issuers().any(|issuer| issuer.has_keys())),
        )?;
        Self::gauge(
            &mut encoder,
            "scopegate_revocation_list_usable",
            "Whether the revocation list is usable (0: its shared store unreachable too long; tokens get 503).",
            i64::from(verifier.revocations_usable()),
        )?;
        let mut loaded = encoder.encode_descriptor(
            "scopegate_issuer_key_set_loaded",
            "Whether the issuer's key set is loaded.",
            None,
            MetricType::Gauge,
        )?;
        for issuer in verifier.issuers() {
            let labels = [("issuer", issuer.issuer())];
            ConstGauge::new(i64::from(issuer.has_keys())).encode(loaded.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_only_when_accepted_with_a_weight_above_zero() {
        let format =
            |accept: &str| Format::from_accept(Some(&http::HeaderValue::from_str(accept).unwrap()));
        let prometheus = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";
        assert_eq!(format(prometheus), Format::OpenMetrics);
        assert_eq!(format("Application/OpenMetrics-Text"), Format::OpenMetrics);
        assert_eq!(format("application/openmetrics-text;q=0"), Format::Text);
        assert_eq!(
            format("application/openmetrics-text; q=0.0, text/plain"),
            Format::Text
        );
        assert_eq!(format("text/plain"), Format::Text);
        assert_eq!(format("application/openmetrics-textual"), Format::Text);
        assert_eq!(Format::from_accept(None), Format::Text);
    }

    #[test]
    fn counters_keep_their_total_name_in_the_text_format() {
        let open = "# HELP a Requests.\n# TYPE a counter\na_total{x=\"1\"} 2\n\
                    # HELP g Now.\n# TYPE g gauge\ng 1\n# EOF\n";
        assert_eq!(
            text_format(open),
            "# HELP a_total Requests.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n\
             # HELP g Now.\n# TYPE g gauge\ng 1\n"
        );
    }

    #[test]
    fn openmetrics_only_when_asked() {
        let om = http::HeaderValue::from_static(
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4",
        );
        assert_eq!(Format::from_accept(Some(&om)), Format::OpenMetrics);
        assert_eq!(Format::from_accept(None), Format::Text);
    }
}
