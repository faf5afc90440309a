//! OpenID Connect discovery for CI jobs' ID tokens, at GitLab's addresses:
//! `/.well-known/openid-configuration` (who issues them and where the keys are) and
//! `/oauth/discovery/keys` (the key set, public keys only). Both are public, as a verifier
//! (Vault, a cloud provider) fetches them without credentials.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gantry_core::ci::id_tokens::{ALGORITHM, CLAIMS_SUPPORTED, PublicSigningKey};
use serde::Serialize;

use crate::AppState;
use crate::api::ApiResult;

/// The discovery document. Gantry issues ID tokens to jobs only (it is no OAuth provider), so
/// it names no authorization or token endpoint.
#[derive(Debug, Serialize)]
pub struct OpenIdConfiguration {
    issuer: String,
    jwks_uri: String,
    response_types_supported: [&'static str; 1],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    scopes_supported: [&'static str; 1],
    claims_supported: &'static [&'static str],
}

/// `GET /.well-known/openid-configuration`.
pub async fn configuration(State(state): State<AppState>) -> Json<OpenIdConfiguration> {
    let issuer = state.core.ci().id_token_issuer();
    Json(OpenIdConfiguration {
        jwks_uri: format!("{issuer}/oauth/discovery/keys"),
        issuer,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: [ALGORITHM],
        scopes_supported: ["openid"],
        claims_supported: CLAIMS_SUPPORTED,
    })
}

/// A JSON Web Key Set (RFC 7517).
#[derive(Debug, Serialize)]
pub struct KeySet {
    keys: Vec<Jwk>,
}

/// An RSA public key as a JWK.
#[derive(Debug, Serialize)]
pub struct Jwk {
    kty: &'static str,
    kid: String,
    e: String,
    n: String,
    #[serde(rename = "use")]
    usage: &'static str,
    alg: &'static str,
}

impl From<PublicSigningKey> for Jwk {
    fn from(key: PublicSigningKey) -> Jwk {
        Jwk {
            kty: "RSA",
            kid: key.kid,
            e: URL_SAFE_NO_PAD.encode(key.exponent),
            n: URL_SAFE_NO_PAD.encode(key.modulus),
            usage: "sig",
            alg: ALGORITHM,
        }
    }
}

/// `GET /oauth/discovery/keys`.
pub async fn keys(State(state): State<AppState>) -> ApiResult<Json<KeySet>> {
    let keys = state.core.ci().id_token_keys().await?;
    Ok(Json(KeySet { keys: keys.into_iter().map(Jwk::from).collect() }))
}
