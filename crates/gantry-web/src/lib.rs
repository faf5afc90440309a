//! Gantry's HTTP edge: routes, API, pages (see the README below).
#![doc = include_str!("../README.md")]

mod api;
mod assets;
mod auth;
mod avatars;
mod blob_io;
mod error;
mod git_http;
mod health;
mod markup;
mod metrics;
mod namespace_dispatch;
mod openid;
mod router;
mod security_headers;
mod time_format;
mod ui;

use std::sync::Arc;

use gantry_core::Core;

pub use blob_io::file_body;
pub use markup::{contrast_ratio, label_text_color};
pub use router::{Requires, RouteInfo, RouteScope, app, route_table};

/// Marks the requests of the built-in runner's jobs: the server serves them on a listener of
/// their own (on the machine's loopback, the only address of it a sandboxed job reaches), with
/// this as a request extension, so that being on this host proves nothing for them (`/metrics`).
#[derive(Debug, Clone, Copy)]
pub struct ThroughJobsDoor;

/// Largest request body accepted by the API and the forms.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// What the web layer needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The URL people use, without a trailing slash (links, clone URLs, pagination headers).
    pub external_url: String,
    /// The SSH address shown in clone instructions (`host:port`).
    pub ssh_host: String,
    /// Mark cookies `Secure` (when the external URL is https).
    pub secure_cookies: bool,
}

/// Everything a handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub core: Core,
    pub config: Arc<WebConfig>,
    metrics: Arc<metrics::Metrics>,
}

impl AppState {
    /// Builds the state around an opened core.
    pub fn new(core: Core, config: WebConfig) -> AppState {
        AppState { core, config: Arc::new(config), metrics: Arc::new(metrics::Metrics::new()) }
    }
}
