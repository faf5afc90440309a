//! What the instance says about itself: `GET /version` and `GET /metadata`, which clients read
//! to learn whom they talk to.

use axum::Json;
use serde::Serialize;

use super::ApiResult;
use crate::auth::ApiActor;

/// The GitLab release whose v4 API Gantry answers as, reported with Gantry's own name and
/// version so a client that parses `MAJOR.MINOR.PATCH-edition` (as GitLab's `-ee`) reads both.
const SPEAKS_GITLAB: &str = "18.0.0";

fn version() -> String {
    format!("{SPEAKS_GITLAB}-gantry")
}

fn revision() -> String {
    format!("gantry-{}", env!("CARGO_PKG_VERSION"))
}

#[derive(Debug, Serialize)]
pub struct Version {
    version: String,
    revision: String,
}

/// `GET /version` (signed-in users, as GitLab).
pub async fn get_version(ApiActor(actor): ApiActor) -> ApiResult<Json<Version>> {
    actor.require_user()?;
    Ok(Json(Version { version: version(), revision: revision() }))
}

#[derive(Debug, Serialize)]
pub struct Kas {
    enabled: bool,
    #[serde(rename = "externalUrl")]
    external_url: Option<String>,
    #[serde(rename = "externalK8sProxyUrl")]
    external_k8s_proxy_url: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Metadata {
    version: String,
    revision: String,
    /// The Kubernetes agent server: Gantry has none.
    kas: Kas,
    enterprise: bool,
}

/// `GET /metadata` (signed-in users).
pub async fn get_metadata(ApiActor(actor): ApiActor) -> ApiResult<Json<Metadata>> {
    actor.require_user()?;
    Ok(Json(Metadata {
        version: version(),
        revision: revision(),
        kas: Kas { enabled: false, external_url: None, external_k8s_proxy_url: None, version: None },
        enterprise: false,
    }))
}
