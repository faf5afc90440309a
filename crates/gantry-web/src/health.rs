//! `/-/health` (the process answers) and `/-/readiness` (and its database does too).

use axum::extract::State;
use axum::http::StatusCode;

use crate::AppState;

/// Liveness: answers as long as the process serves requests.
pub async fn health() -> &'static str {
    "ok"
}

/// Readiness: answers 200 when the database is reachable, 503 otherwise.
pub async fn readiness(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.core.db().ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
