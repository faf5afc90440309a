//! Prometheus metrics of the HTTP server: request counts and latency histograms by route, the
//! background job queue by state, and build information, served at `/metrics` to clients on
//! this host only (not its CI jobs).

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::Extension;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::rejection::ExtensionRejection;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

/// The route label of a response whose route was chosen after the top-level router (the
/// namespace pages).
#[derive(Debug, Clone)]
pub struct RouteLabel(pub String);

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// The registry and the metrics in it.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram>,
    background_jobs: Family<QueueLabels, Gauge>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("gantry");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route and status", requests.clone());
        let latency = Family::<LatencyLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0])
        });
        registry.register("http_request_duration_seconds", "Time to answer HTTP requests, by route", latency.clone());
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").to_owned() }).set(1);
        registry.register("build_info", "Version of the running Gantry", build);
        let background_jobs = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "background_jobs",
            "Background jobs in the queue (shared by every server on the database), by state: ready, \
             scheduled (waiting for a retry or a quiet period), running, failed",
            background_jobs.clone(),
        );
        Metrics { registry: Mutex::new(registry), requests, latency, background_jobs }
    }
}

/// Middleware: counts and times every request.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let matched = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned());
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map(|l| l.0.clone())
        .or(matched)
        .unwrap_or_else(|| "unmatched".to_owned());
    let metrics = &state.metrics;
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    metrics.latency.get_or_create(&LatencyLabels { method, route }).observe(started.elapsed().as_secs_f64());
    response
}

/// Whether a request comes straight from this host: its peer is a loopback address
/// (127.0.0.0/8, ::1, or 127.x mapped into IPv6) and it names no forwarded client (a reverse
/// proxy on this host connects from loopback for everyone). Without the peer's address, no.
fn from_this_host(peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"].iter().any(|name| headers.contains_key(*name));
    peer.is_some_and(|peer| peer.ip().to_canonical().is_loopback()) && !forwarded
}

/// `/metrics` in the Prometheus text format, for scrapers on this host (not its CI jobs, which
/// come in through their own door); others are told there is no such page.
pub async fn metrics(
    State(state): State<AppState>,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    jobs_door: Option<Extension<crate::ThroughJobsDoor>>,
    headers: HeaderMap,
) -> Response {
    if jobs_door.is_some() || !from_this_host(peer.ok().map(|ConnectInfo(peer)| peer), &headers) {
        return crate::error::PageError { error: crate::error::AppError::NotFound }.into_response();
    }
    // The queue is read at each scrape; without the database it is left as last read.
    if let Ok(counts) = state.core.background_queue_counts().await {
        for (label, value) in [
            ("ready", counts.ready),
            ("scheduled", counts.scheduled),
            ("running", counts.running),
            ("failed", counts.failed),
        ] {
            state.metrics.background_jobs.get_or_create(&QueueLabels { state: label }).set(value);
        }
    }
    let mut body = String::new();
    let registry = state.metrics.registry.lock().expect("metrics lock");
    if prometheus_client::encoding::text::encode(&mut body, &registry).is_err() {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_peers_without_a_proxy_are_from_this_host() {
        let none = HeaderMap::new();
        for local in ["127.0.0.1:9000", "127.8.9.10:1", "[::1]:9000", "[::ffff:127.0.0.1]:9000"] {
            assert!(from_this_host(Some(local.parse().unwrap()), &none), "{local}");
        }
        for remote in ["10.0.0.1:9000", "192.0.2.7:1", "[2001:db8::1]:9000", "[::ffff:10.0.0.1]:9000", "0.0.0.0:1"] {
            assert!(!from_this_host(Some(remote.parse().unwrap()), &none), "{remote}");
        }
        assert!(!from_this_host(None, &none), "an unknown peer is not trusted");
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-for", "198.51.100.4".parse().unwrap());
        assert!(!from_this_host(Some("127.0.0.1:9000".parse().unwrap()), &proxied));
    }
}
