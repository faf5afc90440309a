//! OpenID Connect ID tokens for CI jobs (`id_tokens:`): an RS256 JWT per entry, made when the
//! job is handed to its runner and given to it as a masked variable, with GitLab's claims.
//!
//! Every claim about who runs the job comes from the stored rows of the job, its pipeline and
//! its project, never from the CI file or the job's variables: the file chooses only the
//! variable's name and the audience (`aud`, its variables expanded). So a job of one project
//! cannot hold a token that names another project, whatever its file says.
//!
//! The instance's signing keys live in `ci_signing_keys`, shared by every server of a cluster:
//! the first is an RSA-2048 key made by the first server that needs one (made with the `rsa`
//! crate, since ring cannot make RSA keys; signing is ring's), its private half sealed with the
//! server's secret key. The newest generation signs; the key set (`/oauth/discovery/keys`)
//! publishes every one, so a rotation only has to add a generation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gantry_ci::keywords::IdToken;
use gantry_ci::plan::Definition;
use gantry_ci::protocol::JobVariable;
use gantry_db::ci::signing_keys::{self, NewSigningKey, SigningKeyRow};
use gantry_db::manage::projects::{ProjectKey, find_project_access};
use gantry_db::manage::users::find_user_by_id;
use gantry_types::AccessLevel;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::create::DEFAULT_CI_FILES;
use super::{JobRow, PipelineRow};
use crate::{CoreError, CoreResult, ProjectRow};

/// The one signing algorithm.
pub const ALGORITHM: &str = "RS256";

/// The size of the instance's keys, in bits.
const KEY_BITS: usize = 2048;

/// A job gets at most this many ID tokens (each is a signature and a kilobyte or so of
/// payload).
const MOST_TOKENS_PER_JOB: usize = 32;

/// How much earlier than its issue a token is valid, for clocks a little behind (GitLab's).
const NOT_BEFORE_LEEWAY_SECONDS: i64 = 5;

/// The claims tokens carry, for the discovery document's `claims_supported`.
pub const CLAIMS_SUPPORTED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "namespace_id",
    "namespace_path",
    "project_id",
    "project_path",
    "job_namespace_id",
    "job_namespace_path",
    "job_project_id",
    "job_project_path",
    "user_id",
    "user_login",
    "user_email",
    "user_access_level",
    "pipeline_id",
    "pipeline_source",
    "job_id",
    "ref",
    "ref_type",
    "ref_path",
    "ref_protected",
    "environment",
    "environment_protected",
    "deployment_tier",
    "environment_action",
    "runner_id",
    "runner_environment",
    "sha",
    "project_visibility",
    "ci_config_ref_uri",
    "ci_config_sha",
];

/// A public key of the key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicSigningKey {
    /// The key's id (`kid`): its RFC 7638 thumbprint.
    pub kid: String,
    /// The modulus, big-endian.
    pub modulus: Vec<u8>,
    /// The public exponent, big-endian.
    pub exponent: Vec<u8>,
}

/// What a job's tokens are made of: its stored rows and what its payload worked out.
pub(crate) struct TokenJob<'a> {
    pub project: &'a ProjectRow,
    pub pipeline: &'a PipelineRow,
    pub job: &'a JobRow,
    pub definition: &'a Definition,
    /// Whether the pipeline's ref is protected.
    pub protected: bool,
    /// The job's environment, its name expanded; None without one.
    pub environment: Option<&'a str>,
    /// The job's timeout in seconds: how long its tokens are valid.
    pub timeout: u64,
    /// The project's CI file setting (empty: the default file names).
    pub config_path: &'a str,
    /// The job's variables, for `$VARIABLES` in `aud`.
    pub variables: &'a [JobVariable],
}

/// A failure to make, open or use a signing key.
#[derive(Debug, thiserror::Error)]
enum SigningKeyError {
    #[error("cannot generate the ID token signing key: {0}")]
    Generate(String),
    #[error("the stored ID token signing key {kid} is unusable: {reason}")]
    Unusable { kid: String, reason: String },
    #[error("cannot sign an ID token")]
    Sign,
}

fn internal(error: SigningKeyError) -> CoreError {
    CoreError::Internal(Box::new(error))
}

impl super::Ci<'_> {
    /// The issuer of ID tokens (`iss`): the server's external URL without a trailing slash.
    pub fn id_token_issuer(&self) -> String {
        self.ci.settings.external_url.trim_end_matches('/').to_owned()
    }

    /// The public keys ID tokens are signed with, newest first; the first key is made if there
    /// is none yet, so a verifier may fetch the key set before any job has run. Public data: no
    /// actor, nothing private.
    pub async fn id_token_keys(&self) -> CoreResult<Vec<PublicSigningKey>> {
        let mut conn = self.db.conn().await?;
        let mut rows = signing_keys::published_signing_keys(&mut conn).await?;
        drop(conn);
        if rows.is_empty() {
            rows.push(self.first_signing_key().await?);
        }
        rows.iter().map(public_key).collect()
    }

    /// The ID token variables of a job, one per `id_tokens:` entry (none without any).
    pub(crate) async fn id_token_variables(&self, job: &TokenJob<'_>) -> CoreResult<Vec<JobVariable>> {
        let wanted = &job.definition.id_tokens;
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        if wanted.len() > MOST_TOKENS_PER_JOB {
            return Err(CoreError::invalid(
                "id_tokens",
                format!("asks for {} tokens; a job may have at most {MOST_TOKENS_PER_JOB}", wanted.len()),
            ));
        }
        let (kid, key) = self.signing_key().await?;
        let facts = self.claim_facts(job).await?;
        let now = crate::now_millis() / 1000;
        let mut variables = Vec::with_capacity(wanted.len());
        for token in wanted {
            let claims = facts.claims(audience(token, job.variables), now, job.timeout);
            variables.push(JobVariable {
                key: token.name.clone(),
                value: sign(&kid, &key, &claims)?,
                public: false,
                masked: true,
                file: false,
            });
        }
        tracing::info!(job = %job.job.id, project.id = %job.project.id, tokens = variables.len(), "ID tokens issued");
        Ok(variables)
    }

    /// What the claims say beyond the rows at hand: the namespace, the user and their role,
    /// and the CI file the pipeline was read from.
    async fn claim_facts<'a>(&self, job: &'a TokenJob<'a>) -> CoreResult<ClaimFacts<'a>> {
        let mut conn = self.db.conn().await?;
        let user_id = job.job.user_id.or(job.pipeline.user_id);
        let user = match user_id {
            Some(id) => find_user_by_id(&mut conn, id).await?,
            None => None,
        };
        let access = find_project_access(&mut conn, ProjectKey::Id(job.project.id), user.as_ref().map(|u| u.id))
            .await?
            .ok_or(CoreError::NotFound("project"))?;
        drop(conn);
        // The role as the project's members list shows it: the personal namespace's owner is its
        // Owner; an administrator who is not a member has none.
        let access_level = user.as_ref().and_then(|user| {
            if access.namespace.owner_id == Some(user.id) {
                Some(AccessLevel::Owner)
            } else {
                access.access_level.and_then(AccessLevel::from_i64)
            }
        });
        let config_file = self.pipeline_config_file(job).await?;
        Ok(ClaimFacts {
            job,
            issuer: self.id_token_issuer(),
            namespace_id: access.namespace.id.0,
            namespace_path: access.namespace.full_path,
            user: user.map(|user| (user.id.0, user.username, user.email)),
            access_level,
            config_file,
        })
    }

    /// The repository file the job's pipeline was planned from; None for a child pipeline
    /// (its file is its trigger's) or when the file is no longer where settings say.
    async fn pipeline_config_file(&self, job: &TokenJob<'_>) -> CoreResult<Option<String>> {
        if job.pipeline.source == "parent_pipeline" {
            return Ok(None);
        }
        let candidates: Vec<String> = if job.config_path.is_empty() {
            DEFAULT_CI_FILES.iter().map(|path| (*path).to_owned()).collect()
        } else {
            vec![job.config_path.to_owned()]
        };
        let (repos, project, sha) = (self.repos.clone(), job.project.id, job.pipeline.sha.clone());
        tokio::task::spawn_blocking(move || {
            let reader = repos.reader(project).ok()?;
            candidates.into_iter().find(|path| reader.blob(&format!("{sha}:{path}")).ok().flatten().is_some())
        })
        .await
        .map_err(|error| CoreError::Internal(Box::new(error)))
    }

    /// The key that signs, made first if there is none yet.
    async fn signing_key(&self) -> CoreResult<(String, ring::rsa::KeyPair)> {
        let mut conn = self.db.conn().await?;
        let newest = signing_keys::newest_signing_key(&mut conn).await?;
        drop(conn);
        let row = match newest {
            Some(row) => row,
            None => self.first_signing_key().await?,
        };
        let unusable = |reason: String| internal(SigningKeyError::Unusable { kid: row.kid.clone(), reason });
        let hex_der =
            self.secrets.open(&seal_context(&row.kid), &row.sealed_private_key).map_err(|e| unusable(e.to_string()))?;
        let der = hex::decode(hex_der).map_err(|e| unusable(e.to_string()))?;
        let key = ring::rsa::KeyPair::from_der(&der).map_err(|e| unusable(e.to_string()))?;
        Ok((row.kid, key))
    }

    /// Makes and stores the first key; when another server (or request) stored one first, that
    /// one is returned and this one forgotten.
    async fn first_signing_key(&self) -> CoreResult<SigningKeyRow> {
        let made = tokio::task::spawn_blocking(generate_key)
            .await
            .map_err(|error| CoreError::Internal(Box::new(error)))?
            .map_err(internal)?;
        let sealed = self.secrets.seal(&seal_context(&made.kid), &hex::encode(&made.private_der));
        let (modulus, exponent) = (hex::encode(&made.public.modulus), hex::encode(&made.public.exponent));
        let mut conn = self.db.conn().await?;
        let new = NewSigningKey {
            generation: 1,
            kid: &made.kid,
            modulus: &modulus,
            exponent: &exponent,
            sealed_private_key: &sealed,
        };
        if signing_keys::insert_signing_key(&mut conn, &new).await? {
            tracing::info!(kid = %made.kid, "ID token signing key created");
        }
        signing_keys::newest_signing_key(&mut conn).await?.ok_or(CoreError::NotFound("signing key"))
    }
}

/// What sealing binds a private key to: its own id, so it cannot pass for another key's.
fn seal_context(kid: &str) -> String {
    format!("ci_signing_key:{kid}")
}

fn public_key(row: &SigningKeyRow) -> CoreResult<PublicSigningKey> {
    let unusable = |reason: String| internal(SigningKeyError::Unusable { kid: row.kid.clone(), reason });
    Ok(PublicSigningKey {
        kid: row.kid.clone(),
        modulus: hex::decode(&row.modulus).map_err(|e| unusable(e.to_string()))?,
        exponent: hex::decode(&row.exponent).map_err(|e| unusable(e.to_string()))?,
    })
}

/// A new key: its private half as PKCS#1 DER and its public half.
struct MadeKey {
    kid: String,
    private_der: Vec<u8>,
    public: PublicSigningKey,
}

/// Makes an RSA key (blocking: a second or so).
fn generate_key() -> Result<MadeKey, SigningKeyError> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let mut random = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
    let private =
        rsa::RsaPrivateKey::new(&mut random, KEY_BITS).map_err(|e| SigningKeyError::Generate(e.to_string()))?;
    let der = private.to_pkcs1_der().map_err(|e| SigningKeyError::Generate(e.to_string()))?;
    let private_der = der.as_bytes().to_vec();
    // Read back by the library that signs, which also checks the key.
    let key = ring::rsa::KeyPair::from_der(&private_der).map_err(|e| SigningKeyError::Generate(e.to_string()))?;
    let components: ring::rsa::PublicKeyComponents<Vec<u8>> = key.public().into();
    let kid = thumbprint(&components.n, &components.e);
    Ok(MadeKey {
        kid: kid.clone(),
        private_der,
        public: PublicSigningKey { kid, modulus: components.n, exponent: components.e },
    })
}

/// The RFC 7638 thumbprint of an RSA public key: SHA-256 of its JWK's required members in
/// lexicographic order, without spaces, base64url-encoded.
fn thumbprint(modulus: &[u8], exponent: &[u8]) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(exponent),
        URL_SAFE_NO_PAD.encode(modulus)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A token's audiences, their variables expanded: a string when one, an array when several.
fn audience(token: &IdToken, variables: &[JobVariable]) -> Audience {
    let lookup = |name: &str| variables.iter().rev().find(|v| v.key == name).map(|v| v.value.clone());
    let mut expanded: Vec<String> = token.aud.iter().map(|aud| gantry_ci::vars::expand(aud, &lookup, false)).collect();
    if expanded.len() == 1 { Audience::One(expanded.remove(0)) } else { Audience::Many(expanded) }
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// What the claims are made of beyond the job's rows.
struct ClaimFacts<'a> {
    job: &'a TokenJob<'a>,
    issuer: String,
    namespace_id: i64,
    namespace_path: String,
    /// Id, login and e-mail address of the job's user.
    user: Option<(i64, String, String)>,
    access_level: Option<AccessLevel>,
    /// The CI file in the repository the pipeline was planned from.
    config_file: Option<String>,
}

/// A token's claims, GitLab's names and types (ids as strings, `runner_id` a number); those
/// Gantry has no data for are left out rather than made up.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: String,
    aud: Audience,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    namespace_id: String,
    namespace_path: &'a str,
    project_id: String,
    project_path: &'a str,
    job_namespace_id: String,
    job_namespace_path: &'a str,
    job_project_id: String,
    job_project_path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_login: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_access_level: Option<&'static str>,
    pipeline_id: String,
    pipeline_source: &'a str,
    job_id: String,
    #[serde(rename = "ref")]
    ref_name: &'a str,
    ref_type: &'static str,
    ref_path: String,
    ref_protected: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
    /// Gantry has no protected environments: every environment is unprotected.
    #[serde(skip_serializing_if = "Option::is_none")]
    environment_protected: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_tier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment_action: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runner_id: Option<i64>,
    /// Every Gantry runner is the instance's own: `self-hosted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    runner_environment: Option<&'static str>,
    sha: &'a str,
    project_visibility: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci_config_ref_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci_config_sha: Option<&'a str>,
}

impl ClaimFacts<'_> {
    fn claims(&self, aud: Audience, now: i64, timeout: u64) -> Claims<'_> {
        let TokenJob { project, pipeline, job, definition, protected, environment, .. } = self.job;
        let (ref_type, ref_prefix) = if pipeline.is_tag { ("tag", "refs/tags/") } else { ("branch", "refs/heads/") };
        let ref_path = format!("{ref_prefix}{}", pipeline.ref_name);
        let deploys = definition.environment.as_ref().filter(|_| environment.is_some());
        let server = self.issuer.split_once("://").map_or(self.issuer.as_str(), |(_, rest)| rest);
        Claims {
            iss: &self.issuer,
            sub: format!("project_path:{}:ref_type:{ref_type}:ref:{}", project.full_path, pipeline.ref_name),
            aud,
            // Valid while the job may run, as GitLab's tokens are.
            exp: now.saturating_add(i64::try_from(timeout).unwrap_or(i64::MAX)),
            iat: now,
            nbf: now - NOT_BEFORE_LEEWAY_SECONDS,
            jti: uuid_v4(),
            namespace_id: self.namespace_id.to_string(),
            namespace_path: &self.namespace_path,
            project_id: project.id.0.to_string(),
            project_path: &project.full_path,
            job_namespace_id: self.namespace_id.to_string(),
            job_namespace_path: &self.namespace_path,
            job_project_id: project.id.0.to_string(),
            job_project_path: &project.full_path,
            user_id: self.user.as_ref().map(|(id, _, _)| id.to_string()),
            user_login: self.user.as_ref().map(|(_, login, _)| login.as_str()),
            user_email: self.user.as_ref().map(|(_, _, email)| email.as_str()),
            user_access_level: self.access_level.map(access_level_name),
            pipeline_id: pipeline.id.0.to_string(),
            pipeline_source: &pipeline.source,
            job_id: job.id.0.to_string(),
            ref_name: &pipeline.ref_name,
            ref_type,
            ref_path: ref_path.clone(),
            ref_protected: if *protected { "true" } else { "false" },
            environment: *environment,
            environment_protected: environment.map(|_| "false"),
            deployment_tier: deploys.and_then(|e| e.deployment_tier.as_deref()),
            environment_action: deploys.map(|e| e.action.as_str()),
            runner_id: job.runner_id.map(|runner| runner.0),
            runner_environment: job.runner_id.map(|_| "self-hosted"),
            sha: &pipeline.sha,
            project_visibility: project.visibility.as_str(),
            ci_config_ref_uri: self
                .config_file
                .as_ref()
                .map(|file| format!("{server}/{}//{file}@{ref_path}", project.full_path)),
            ci_config_sha: self.config_file.as_ref().map(|_| pipeline.sha.as_str()),
        }
    }
}

/// GitLab's `user_access_level` values: the role's name in lowercase.
fn access_level_name(level: AccessLevel) -> &'static str {
    match level {
        AccessLevel::Guest => "guest",
        AccessLevel::Reporter => "reporter",
        AccessLevel::Developer => "developer",
        AccessLevel::Maintainer => "maintainer",
        AccessLevel::Owner => "owner",
    }
}

/// A random UUID (version 4), the token's `jti`.
fn uuid_v4() -> String {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The compact JWS of `claims`, signed RS256 with `key`.
fn sign(kid: &str, key: &ring::rsa::KeyPair, claims: &Claims<'_>) -> CoreResult<String> {
    #[derive(Serialize)]
    struct Header<'a> {
        alg: &'static str,
        typ: &'static str,
        kid: &'a str,
    }
    let header = serde_json::to_vec(&Header { alg: ALGORITHM, typ: "JWT", kid })
        .map_err(|error| CoreError::Internal(Box::new(error)))?;
    let payload = serde_json::to_vec(claims).map_err(|error| CoreError::Internal(Box::new(error)))?;
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    let mut signature = vec![0_u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| internal(SigningKeyError::Sign))?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_follow_rfc_7638() {
        // RFC 7638, section 3.1.
        let modulus = URL_SAFE_NO_PAD
            .decode(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            )
            .unwrap();
        assert_eq!(thumbprint(&modulus, &[1, 0, 1]), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn made_keys_are_2048_bits_and_sign_what_their_public_half_verifies() {
        let made = generate_key().unwrap();
        assert_eq!(made.public.modulus.len() * 8, KEY_BITS);
        assert_eq!(made.public.exponent, [1, 0, 1]);
        assert_eq!(made.kid, thumbprint(&made.public.modulus, &made.public.exponent));
        let key = ring::rsa::KeyPair::from_der(&made.private_der).unwrap();
        let mut signature = vec![0_u8; key.public().modulus_len()];
        let rng = ring::rand::SystemRandom::new();
        key.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, b"header.payload", &mut signature).unwrap();
        let public = ring::rsa::PublicKeyComponents { n: &made.public.modulus, e: &made.public.exponent };
        public.verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, b"header.payload", &signature).unwrap();
        assert!(public.verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, b"header.other", &signature).is_err());
    }

    #[test]
    fn jtis_are_random_version_4_uuids() {
        let (one, two) = (uuid_v4(), uuid_v4());
        assert_ne!(one, two);
        assert_eq!(one.len(), 36);
        assert_eq!(&one[14..15], "4");
        assert!(matches!(&one[19..20], "8" | "9" | "a" | "b"), "{one}");
    }

    #[test]
    fn audiences_expand_variables_and_are_a_string_when_one() {
        let variables = [JobVariable {
            key: "AUDIENCE".into(),
            value: "https://vault.example".into(),
            public: true,
            masked: false,
            file: false,
        }];
        let one = IdToken { name: "T".into(), aud: vec!["$AUDIENCE/v1".into()] };
        assert_eq!(serde_json::to_string(&audience(&one, &variables)).unwrap(), r#""https://vault.example/v1""#);
        let two = IdToken { name: "T".into(), aud: vec!["a".into(), "${AUDIENCE}".into()] };
        assert_eq!(serde_json::to_string(&audience(&two, &variables)).unwrap(), r#"["a","https://vault.example"]"#);
    }
}
