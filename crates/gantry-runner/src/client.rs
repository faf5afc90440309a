//! The runner's side of the HTTP protocol (`gantry_ci::protocol`): asking for jobs, reporting
//! their state, appending to their logs. Tokens travel in bodies and headers only, never in
//! URLs, so no error message or log line built from a URL can carry one.

use std::sync::Arc;
use std::time::Duration;

use gantry_ci::protocol::{
    JOB_STATUS_HEADER, JOB_TOKEN_HEADER, JobPayload, JobRequest, JobUpdate, RunnerInfo, VerifyRequest,
};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, HeaderMap, RANGE};

use crate::error::RunnerError;
use crate::tls::ServerCa;

/// How long a job request may take: the server holds it up to ~30 s when it has no job.
const JOB_REQUEST_TIMEOUT: Duration = Duration::from_secs(90);
/// How long any other request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an artifact or cache transfer may take.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of one Gantry server, holding the runner token. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ServerClient {
    http: reqwest::Client,
    base: String,
    runner_token: String,
    /// The CA file the runner trusts the server with besides the system's, for jobs too.
    ca_pem: Option<Arc<str>>,
}

/// A request that did not get a usable answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RequestError {
    #[error("{0}")]
    Transport(#[from] reqwest::Error),
    #[error("the server answered {0}")]
    Status(StatusCode),
    #[error("the server accepted a piece of the log without saying how much it holds (no Range header)")]
    NoRange,
    #[error("{0}")]
    File(std::io::Error),
    #[error("the server's URL is not valid")]
    BadUrl,
}

impl RequestError {
    /// The server refused the credentials (401 or 403).
    pub(crate) fn is_refused(&self) -> bool {
        matches!(self, RequestError::Status(status) if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN)
    }

    /// The server's certificate was not trusted.
    pub(crate) fn is_untrusted_certificate(&self) -> bool {
        matches!(self, RequestError::Transport(source) if crate::tls::is_certificate_error(source))
    }

    /// The error and its causes, for logs (reqwest's own message leaves them out).
    pub(crate) fn with_causes(&self) -> String {
        let mut text = self.to_string();
        let mut last = text.clone();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            // A transport error shows its reqwest error, which is also its first source.
            let line = cause.to_string();
            if line != last {
                text.push_str(": ");
                text.push_str(&line);
                last = line;
            }
            source = cause.source();
        }
        text
    }
}

/// The server's answer to a state update.
#[derive(Debug)]
pub(crate) struct UpdateAnswer {
    pub(crate) status: StatusCode,
    pub(crate) job_status: Option<String>,
}

impl UpdateAnswer {
    /// The server no longer runs this job: the runner must stop it.
    pub(crate) fn job_stopped(&self) -> bool {
        self.status == StatusCode::FORBIDDEN || job_status_stops(self.job_status.as_deref())
    }
}

/// The server's answer to a piece of log.
#[derive(Debug)]
pub(crate) enum TraceAnswer {
    /// `202`: the server holds the first `length` bytes of the log.
    Accepted { length: u64, job_status: Option<String> },
    /// `416`: the piece did not start where the server's log ends; it holds `length` bytes.
    WrongOffset { length: Option<u64> },
    /// `403`: the job is no longer running (canceled or finished).
    JobStopped,
}

impl ServerClient {
    pub(crate) fn new(url: &str, runner_token: &str, ca: Option<ServerCa>) -> Result<ServerClient, RunnerError> {
        crate::tls::install_crypto_provider();
        let builder = reqwest::Client::builder()
            .user_agent(format!("gantry-runner/{}", crate::version()))
            .connect_timeout(CONNECT_TIMEOUT);
        let https = url.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
        let certificates = ca.as_ref().map(|ca| ca.certificates.clone()).unwrap_or_default();
        let builder = if !https {
            // Plain HTTP needs no certificates: the system's are not even loaded, so a host
            // without any still runs jobs (the built-in runner, `gantry ci exec`).
            builder.tls_certs_only(certificates)
        } else if certificates.is_empty() {
            builder
        } else {
            builder.tls_certs_merge(certificates)
        };
        let http = builder.build().map_err(|source| {
            if https && ca.is_none() {
                RunnerError::NoTrustedCertificates { url: url.to_owned(), source }
            } else {
                RunnerError::HttpClient(source)
            }
        })?;
        Ok(ServerClient {
            http,
            base: url.trim_end_matches('/').to_owned(),
            runner_token: runner_token.to_owned(),
            ca_pem: ca.map(|ca| ca.pem),
        })
    }

    /// The CA file's text when the runner was given one (`--tls-ca-file`).
    pub(crate) fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The server's base URL, for messages.
    pub(crate) fn url(&self) -> &str {
        &self.base
    }

    /// `POST /api/v4/runners/verify`.
    pub(crate) async fn verify(&self) -> Result<(), RequestError> {
        let response = self
            .http
            .post(format!("{}/api/v4/runners/verify", self.base))
            .timeout(REQUEST_TIMEOUT)
            .json(&VerifyRequest { token: self.runner_token.clone() })
            .send()
            .await?;
        match response.status() {
            StatusCode::OK => Ok(()),
            status => Err(RequestError::Status(status)),
        }
    }

    /// `POST /api/v4/jobs/request`: a job, or `None` when the server had none.
    pub(crate) async fn request_job(&self, info: &RunnerInfo) -> Result<Option<JobPayload>, RequestError> {
        let response = self
            .http
            .post(format!("{}/api/v4/jobs/request", self.base))
            .timeout(JOB_REQUEST_TIMEOUT)
            .json(&JobRequest { token: self.runner_token.clone(), info: info.clone() })
            .send()
            .await?;
        match response.status() {
            StatusCode::CREATED => Ok(Some(response.json().await?)),
            StatusCode::NO_CONTENT => Ok(None),
            status => Err(RequestError::Status(status)),
        }
    }

    /// `PUT /api/v4/jobs/:id`: the job's state (a heartbeat while `running`). Any status the
    /// server sends is an answer; only transport failures are errors.
    pub(crate) async fn update_job(&self, job_id: i64, update: &JobUpdate) -> Result<UpdateAnswer, RequestError> {
        let response = self
            .http
            .put(format!("{}/api/v4/jobs/{job_id}", self.base))
            .timeout(REQUEST_TIMEOUT)
            .json(update)
            .send()
            .await?;
        Ok(UpdateAnswer { status: response.status(), job_status: job_status(response.headers()) })
    }

    /// `PATCH /api/v4/jobs/:id/trace`: appends `bytes` (not empty) at offset `start` of the
    /// job's log.
    pub(crate) async fn patch_trace(
        &self,
        job_id: i64,
        job_token: &str,
        start: u64,
        bytes: Vec<u8>,
    ) -> Result<TraceAnswer, RequestError> {
        debug_assert!(!bytes.is_empty(), "an empty piece has no Content-Range");
        let end = start + bytes.len() as u64 - 1;
        let response = self
            .http
            .patch(format!("{}/api/v4/jobs/{job_id}/trace", self.base))
            .timeout(REQUEST_TIMEOUT)
            .header(JOB_TOKEN_HEADER, job_token)
            .header(CONTENT_RANGE, format!("{start}-{end}"))
            .header(CONTENT_TYPE, "text/plain")
            .body(bytes)
            .send()
            .await?;
        let length = accepted_length(response.headers());
        match response.status() {
            StatusCode::ACCEPTED => match length {
                Some(length) => Ok(TraceAnswer::Accepted { length, job_status: job_status(response.headers()) }),
                None => Err(RequestError::NoRange),
            },
            StatusCode::RANGE_NOT_SATISFIABLE => Ok(TraceAnswer::WrongOffset { length }),
            StatusCode::FORBIDDEN => Ok(TraceAnswer::JobStopped),
            status => Err(RequestError::Status(status)),
        }
    }
}

/// What became of an upload the server refused: its status and message.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ServerClient {
    /// `POST /api/v4/jobs/:id/artifacts`: uploads the zip archive at `file` as an artifact of
    /// `artifact_type`.
    pub(crate) async fn upload_artifact(
        &self,
        job_id: i64,
        job_token: &str,
        artifact_type: &str,
        expire_in: Option<u64>,
        file: &std::path::Path,
    ) -> Result<Result<(), Refused>, RequestError> {
        let mut query = vec![("artifact_type", artifact_type.to_owned()), ("artifact_format", "zip".to_owned())];
        if let Some(seconds) = expire_in {
            query.push(("expire_in", seconds.to_string()));
        }
        let url = self.url_with_query(&format!("/api/v4/jobs/{job_id}/artifacts"), &query)?;
        self.upload_zip(self.http.post(url), job_token, file).await
    }

    /// `PUT /api/v4/jobs/:id/cache?key=`: saves the zip archive at `file` as the cache `key`.
    pub(crate) async fn upload_cache(
        &self,
        job_id: i64,
        job_token: &str,
        key: &str,
        file: &std::path::Path,
    ) -> Result<Result<(), Refused>, RequestError> {
        let url = self.url_with_query(&format!("/api/v4/jobs/{job_id}/cache"), &[("key", key.to_owned())])?;
        self.upload_zip(self.http.put(url), job_token, file).await
    }

    /// Sends the zip archive at `file`, streamed, as the body of `request`.
    async fn upload_zip(
        &self,
        request: reqwest::RequestBuilder,
        job_token: &str,
        file: &std::path::Path,
    ) -> Result<Result<(), Refused>, RequestError> {
        let body = tokio::fs::File::open(file).await.map_err(RequestError::File)?;
        let response = request
            .timeout(TRANSFER_TIMEOUT)
            .header(JOB_TOKEN_HEADER, job_token)
            .header(CONTENT_TYPE, "application/zip")
            .body(reqwest::Body::from(body))
            .send()
            .await?;
        refused_or_ok(response).await
    }

    /// `GET /api/v4/jobs/:id/artifacts` of job `job_id` (a dependency) into `file`.
    pub(crate) async fn download_artifact(
        &self,
        job_id: i64,
        job_token: &str,
        file: &std::path::Path,
    ) -> Result<Result<u64, Refused>, RequestError> {
        let url = self.url_with_query(&format!("/api/v4/jobs/{job_id}/artifacts"), &[])?;
        self.download(self.http.get(url), job_token, file).await
    }

    /// `GET /api/v4/jobs/:id/cache?key=` into `file`; `Ok(Err(404 …))` when there is none.
    pub(crate) async fn download_cache(
        &self,
        job_id: i64,
        job_token: &str,
        key: &str,
        file: &std::path::Path,
    ) -> Result<Result<u64, Refused>, RequestError> {
        let url = self.url_with_query(&format!("/api/v4/jobs/{job_id}/cache"), &[("key", key.to_owned())])?;
        self.download(self.http.get(url), job_token, file).await
    }

    fn url_with_query(&self, path: &str, query: &[(&str, String)]) -> Result<reqwest::Url, RequestError> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base)).map_err(|_| RequestError::BadUrl)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    async fn download(
        &self,
        request: reqwest::RequestBuilder,
        job_token: &str,
        file: &std::path::Path,
    ) -> Result<Result<u64, Refused>, RequestError> {
        use tokio::io::AsyncWriteExt;
        let mut response = request.timeout(TRANSFER_TIMEOUT).header(JOB_TOKEN_HEADER, job_token).send().await?;
        if !response.status().is_success() {
            return Ok(Err(refusal(response).await));
        }
        // The file is among the job's: created fresh, never written through a link the job left.
        let out = crate::job::create_fresh(file, 0o600, None).map_err(RequestError::File)?;
        let mut out = tokio::fs::File::from_std(out);
        let mut size = 0;
        while let Some(piece) = response.chunk().await? {
            size += piece.len() as u64;
            out.write_all(&piece).await.map_err(RequestError::File)?;
        }
        out.flush().await.map_err(RequestError::File)?;
        Ok(Ok(size))
    }
}

async fn refused_or_ok(response: reqwest::Response) -> Result<Result<(), Refused>, RequestError> {
    if response.status().is_success() { Ok(Ok(())) } else { Ok(Err(refusal(response).await)) }
}

/// The status and the server's message (`{"message": …}` or the text) of a refusal.
async fn refusal(response: reqwest::Response) -> Refused {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|json| json.get("message").map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned)))
        .unwrap_or(text);
    Refused { status, message: message.chars().take(500).collect() }
}

/// Whether a `Job-Status` value means the server no longer runs the job.
pub(crate) fn job_status_stops(job_status: Option<&str>) -> bool {
    matches!(job_status, Some("canceled" | "canceling" | "failed" | "success"))
}

fn job_status(headers: &HeaderMap) -> Option<String> {
    headers.get(JOB_STATUS_HEADER).and_then(|value| value.to_str().ok()).map(str::to_owned)
}

/// The length of the log the server holds, from its `Range: 0-<length>` header.
fn accepted_length(headers: &HeaderMap) -> Option<u64> {
    parse_range(headers.get(RANGE)?.to_str().ok()?)
}

fn parse_range(value: &str) -> Option<u64> {
    let (start, length) = value.trim().split_once('-')?;
    if start.trim() != "0" {
        return None;
    }
    length.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_header_gives_the_length_the_server_holds() {
        assert_eq!(parse_range("0-42"), Some(42));
        assert_eq!(parse_range(" 0-0 "), Some(0));
        assert_eq!(parse_range("5-42"), None);
        assert_eq!(parse_range("0-"), None);
        assert_eq!(parse_range("bytes"), None);
    }

    #[test]
    fn only_stopped_states_stop_a_job() {
        assert!(job_status_stops(Some("canceled")));
        assert!(job_status_stops(Some("canceling")));
        assert!(!job_status_stops(Some("running")));
        assert!(!job_status_stops(None));
    }
}
