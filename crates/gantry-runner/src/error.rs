//! The errors that stop a runner (or its token check): everything else — a job failing, the
//! server being away for a while — is handled inside and reported to the server or retried.

use std::path::PathBuf;

/// Why [`run`](crate::run) or [`verify`](crate::verify) gave up.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("invalid runner configuration: {reason}")]
    InvalidConfig { reason: String },
    #[error("the server at {url} refused the runner token; register the runner again and use its new token")]
    InvalidToken { url: String },
    #[error("cannot reach the server at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("unexpected answer to {request} from {url}: {answer}; check that the url points at a Gantry server")]
    UnexpectedAnswer { url: String, request: &'static str, answer: String },
    #[error("cannot prepare the builds directory {path}: {source}; check that it is writable by the runner")]
    BuildsDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the server at {url} presented a certificate this runner does not trust: {source}; if a private CA signed it, pass that CA's certificate with --tls-ca-file"
    )]
    UntrustedCertificate {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error(
        "no certificates to check the server at {url} with: this system has no trusted CA certificates (install the ca-certificates package) and no --tls-ca-file was given ({source})"
    )]
    NoTrustedCertificates {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot use the TLS CA file {path}: {reason}")]
    TlsCaFile { path: PathBuf, reason: String },
    #[error("cannot set up the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error(
        "cannot use the Docker Engine at {host}: {source}; check that it runs and that the runner's user may use it (the docker group, or DOCKER_HOST)"
    )]
    Docker {
        host: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("a runner worker stopped unexpectedly: {0}")]
    WorkerFailed(#[source] tokio::task::JoinError),
}
