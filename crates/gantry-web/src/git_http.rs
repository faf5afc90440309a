//! Git's smart HTTP protocol: `GET …/info/refs?service=…`, `POST …/git-upload-pack` and
//! `POST …/git-receive-pack` under a project's path (with or without `.git`). Requests are
//! authenticated with Basic credentials (a personal access token, a deploy token with its user
//! name, or the password), authorised by core, and served by a `git` child process: the request
//! body is streamed into it (gunzipped when git compressed it) and its output streamed back, so
//! memory stays bounded whatever the size of the pack. Errors are plain text, which git shows
//! after `remote:`.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures_util::StreamExt;
use gantry_core::CoreError;
use gantry_core::code::git_access::{GitCredential, GitOperation, GitPermit, MAX_PUSH_BYTES};
use gantry_git::pktline;
use gantry_git::transport::{Mode, Service};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin};

use crate::AppState;

/// The repository a git request is about: the project's full path as the client wrote it,
/// without `.git` (put in the request by the dispatcher).
#[derive(Debug, Clone)]
pub struct GitRepository(pub String);

/// The git endpoints, as they end a URL.
pub const ENDPOINTS: [&str; 3] = ["/info/refs", "/git-upload-pack", "/git-receive-pack"];

/// Splits `/acme/api.git/info/refs` into (`acme/api`, `/info/refs`).
pub fn split_git_path(path: &str) -> Option<(&str, &'static str)> {
    let endpoint = ENDPOINTS.into_iter().find(|endpoint| path.ends_with(endpoint))?;
    let repository = path[..path.len() - endpoint.len()].trim_start_matches('/');
    let repository = repository.strip_suffix(".git").unwrap_or(repository);
    (!repository.is_empty() && !path.contains("/-/")).then_some((repository, endpoint))
}

/// A clone or fetch request larger than this (after gunzip) is refused.
const MAX_FETCH_REQUEST_BYTES: u64 = 64 << 20;
/// How long the client may leave the request body idle.
const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Git's own output is read in chunks of this size.
const CHUNK: usize = 64 * 1024;

const DENIED: &str = "HTTP Basic: access denied. Use your username and password, a personal access token \
                      (scope read_repository or write_repository) as the password, or a deploy token with its \
                      username.";

fn plain(status: StatusCode, message: &str) -> Response {
    let mut response = (status, format!("{message}\n")).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// A 401 that makes git ask for credentials.
fn challenge(message: &str) -> Response {
    let mut response = plain(StatusCode::UNAUTHORIZED, message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Gantry\""));
    response
}

fn no_cache(headers: &mut HeaderMap, content_type: String) {
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, max-age=0, must-revalidate"));
    headers.insert(header::EXPIRES, HeaderValue::from_static("Fri, 01 Jan 1980 00:00:00 GMT"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The `Authorization: Basic` credentials, if any (`Err` when malformed).
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let decoded = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let Some(decoded) = decoded else { return Some(Err(())) };
    let Some((login, secret)) = decoded.split_once(':') else { return Some(Err(())) };
    Some(Ok((login.to_owned(), secret.to_owned())))
}

fn operation(service: Service) -> GitOperation {
    match service {
        Service::UploadPack => GitOperation::Fetch,
        Service::ReceivePack => GitOperation::Push,
    }
}

/// Authenticates and authorises one git request; the error is the response to send.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    client: SocketAddr,
    repository: &str,
    operation: GitOperation,
) -> Result<GitPermit, Response> {
    let credential = match basic_credentials(headers) {
        None => GitCredential::Anonymous,
        Some(Err(())) => return Err(challenge("malformed Basic credentials")),
        Some(Ok((login, secret))) => {
            match state.core.code().authenticate_git(&login, &secret, &client.ip().to_string()).await {
                Ok(credential) => credential,
                Err(CoreError::Unauthorized) => return Err(challenge(DENIED)),
                Err(error) => return Err(core_error(error)),
            }
        }
    };
    let anonymous = matches!(credential, GitCredential::Anonymous);
    match state.core.code().git_access(&credential, repository, operation).await {
        Ok(permit) => Ok(permit),
        // Anonymous clients are asked to sign in, whether or not the project exists, so its
        // existence is not given away.
        Err(CoreError::NotFound(_) | CoreError::Unauthorized) if anonymous => Err(challenge(DENIED)),
        Err(error) => Err(core_error(error)),
    }
}

fn core_error(error: CoreError) -> Response {
    match error {
        CoreError::NotFound(_) => plain(
            StatusCode::NOT_FOUND,
            "The project you were looking for could not be found or you don't have permission to view it.",
        ),
        CoreError::Unauthorized => challenge(DENIED),
        CoreError::Forbidden(message) => plain(StatusCode::FORBIDDEN, &message),
        CoreError::RateLimited => plain(StatusCode::TOO_MANY_REQUESTS, &error.to_string()),
        CoreError::Busy(_) => plain(StatusCode::SERVICE_UNAVAILABLE, &error.to_string()),
        CoreError::Invalid { .. } | CoreError::Refused(_) | CoreError::Conflict(_) => {
            plain(StatusCode::BAD_REQUEST, &error.to_string())
        }
        CoreError::Internal(inner) => {
            tracing::error!(error = %inner, "git request failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "something went wrong on the server; it has been logged")
        }
    }
}

fn protocol(headers: &HeaderMap) -> Option<&str> {
    headers.get("git-protocol").and_then(|v| v.to_str().ok())
}

#[derive(Debug, Deserialize)]
pub struct InfoRefsQuery {
    service: Option<String>,
}

/// `GET /{project}.git/info/refs?service=git-upload-pack|git-receive-pack`: the ref
/// advertisement.
pub async fn info_refs(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Extension(GitRepository(repository)): Extension<GitRepository>,
    Query(query): Query<InfoRefsQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(name) = query.service else {
        return plain(StatusCode::FORBIDDEN, "Gantry speaks git's smart HTTP protocol only; use git 1.6.6 or newer");
    };
    let Some(service) = Service::parse(&name) else {
        return plain(StatusCode::FORBIDDEN, &format!("unknown git service '{name}'"));
    };
    let permit = match authorize(&state, &headers, client, &repository, operation(service)).await {
        Ok(permit) => permit,
        Err(response) => return response,
    };
    let protocol = protocol(&headers);
    let child = state.core.repos().spawn_service(permit.repo, service, Mode::Advertise, protocol, None);
    let child = match child {
        Ok(child) => child,
        Err(error) => return core_error(error.into()),
    };
    // Protocol v2 starts with the capability advertisement; v0 with the service line.
    let mut prefix = Vec::new();
    if !protocol.is_some_and(|p| p.split(':').any(|param| param == "version=2")) {
        pktline::write_packet(&mut prefix, format!("# service={}\n", service.name()).as_bytes());
        pktline::write_flush(&mut prefix);
    }
    let mut response = Response::new(stream_output(child, prefix, None, None));
    no_cache(response.headers_mut(), format!("application/x-{}-advertisement", service.name()));
    response
}

/// `POST /{project}.git/git-upload-pack`: clone and fetch.
pub async fn upload_pack(
    state: State<AppState>,
    client: ConnectInfo<SocketAddr>,
    repository: Extension<GitRepository>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    rpc(state, client, repository, headers, body, Service::UploadPack).await
}

/// `POST /{project}.git/git-receive-pack`: push.
pub async fn receive_pack(
    state: State<AppState>,
    client: ConnectInfo<SocketAddr>,
    repository: Extension<GitRepository>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    rpc(state, client, repository, headers, body, Service::ReceivePack).await
}

async fn rpc(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Extension(GitRepository(repository)): Extension<GitRepository>,
    headers: HeaderMap,
    body: Body,
    service: Service,
) -> Response {
    let expected = format!("application/x-{}-request", service.name());
    if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, &format!("the request must be {expected}"));
    }
    let limit = match service {
        Service::UploadPack => MAX_FETCH_REQUEST_BYTES,
        // Room for the ref-update commands beside the largest pack.
        Service::ReceivePack => MAX_PUSH_BYTES + (1 << 20),
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, &format!("the request is larger than the limit of {limit} bytes"));
    }
    let permit = match authorize(&state, &headers, client, &repository, operation(service)).await {
        Ok(permit) => permit,
        Err(response) => return response,
    };
    let gzip = match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?")) {
        None | Some("identity") => false,
        Some("gzip" | "x-gzip") => true,
        Some(other) => {
            return plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, &format!("unsupported Content-Encoding {other}"));
        }
    };
    let mut request = RequestBody::new(body, gzip, limit);
    // The first bytes are checked here, while a clear 400 can still be sent.
    let first = match request.next().await {
        Ok(Some(first)) => first,
        Ok(None) => return plain(StatusCode::BAD_REQUEST, "the request body is empty"),
        Err(error) => return error.response(),
    };
    if let Err(error) = pktline::read_packet(&first[..first.len().min(4)])
        && !matches!(error, pktline::PktLineError::Truncated)
    {
        return plain(StatusCode::BAD_REQUEST, &format!("malformed git request: {error}"));
    }
    let repos = state.core.repos();
    let child = repos.spawn_service(permit.repo, service, Mode::Rpc, protocol(&headers), permit.push.as_ref());
    let mut child = match child {
        Ok(child) => child,
        Err(error) => return core_error(error.into()),
    };
    let stdin = child.stdin.take().expect("piped stdin");
    let feeder = tokio::spawn(feed(request, first, stdin));
    let finish = permit.push.is_some().then(|| PushFinish { state: state.clone(), permit });
    let mut response = Response::new(stream_output(child, Vec::new(), Some(feeder), finish));
    no_cache(response.headers_mut(), format!("application/x-{}-result", service.name()));
    response
}

/// Why reading the request body stopped.
#[derive(Debug)]
enum BodyError {
    TooLarge(u64),
    Idle,
    Broken(String),
    BadGzip,
}

impl BodyError {
    fn response(&self) -> Response {
        match self {
            BodyError::TooLarge(limit) => {
                plain(StatusCode::PAYLOAD_TOO_LARGE, &format!("the request is larger than the limit of {limit} bytes"))
            }
            BodyError::Idle => plain(StatusCode::REQUEST_TIMEOUT, "the request body stalled"),
            BodyError::Broken(why) => plain(StatusCode::BAD_REQUEST, &format!("cannot read the request body: {why}")),
            BodyError::BadGzip => plain(StatusCode::BAD_REQUEST, "the request body is not valid gzip"),
        }
    }
}

/// The request body as git will read it: gunzipped if needed, counted against a limit, each
/// read bounded by an idle timeout.
struct RequestBody {
    stream: axum::body::BodyDataStream,
    gunzip: Option<flate2::write::GzDecoder<Vec<u8>>>,
    total: u64,
    limit: u64,
}

impl RequestBody {
    fn new(body: Body, gzip: bool, limit: u64) -> RequestBody {
        let gunzip = gzip.then(|| flate2::write::GzDecoder::new(Vec::new()));
        RequestBody { stream: body.into_data_stream(), gunzip, total: 0, limit }
    }

    /// The next piece of the (decompressed) body; `None` at its end.
    async fn next(&mut self) -> Result<Option<Bytes>, BodyError> {
        loop {
            let chunk = match tokio::time::timeout(BODY_IDLE_TIMEOUT, self.stream.next()).await {
                Err(_) => return Err(BodyError::Idle),
                Ok(Some(Err(error))) => return Err(BodyError::Broken(error.to_string())),
                Ok(Some(Ok(chunk))) => Some(chunk),
                Ok(None) => None,
            };
            let data = match (&mut self.gunzip, chunk) {
                (None, chunk) => chunk,
                (Some(decoder), Some(chunk)) => {
                    // Small steps keep one chunk's output bounded even for a gzip bomb.
                    let mut out = Vec::new();
                    for piece in chunk.chunks(4096) {
                        decoder.write_all(piece).map_err(|_| BodyError::BadGzip)?;
                        out.append(decoder.get_mut());
                        if self.total + out.len() as u64 > self.limit {
                            return Err(BodyError::TooLarge(self.limit));
                        }
                    }
                    Some(Bytes::from(out))
                }
                (Some(_), None) => {
                    let decoder = self.gunzip.take().expect("decoder");
                    let rest = decoder.finish().map_err(|_| BodyError::BadGzip)?;
                    (!rest.is_empty()).then(|| Bytes::from(rest))
                }
            };
            let Some(data) = data else { return Ok(None) };
            if data.is_empty() {
                continue;
            }
            self.total += data.len() as u64;
            if self.total > self.limit {
                return Err(BodyError::TooLarge(self.limit));
            }
            return Ok(Some(data));
        }
    }
}

/// Feeds the request body into git's standard input. On a broken or oversized body git's
/// input just ends early, so it fails without changing anything.
async fn feed(mut request: RequestBody, first: Bytes, mut stdin: ChildStdin) {
    let mut next = Some(first);
    while let Some(data) = next {
        if stdin.write_all(&data).await.is_err() {
            return; // git stopped reading: it has said why on its output
        }
        next = match request.next().await {
            Ok(data) => data,
            Err(error) => {
                tracing::warn!(error = ?error, "git request body ended early");
                return;
            }
        };
    }
    let _ = stdin.shutdown().await;
}

/// What to do once a push's git process has finished: record what it changed.
pub(crate) struct PushFinish {
    state: AppState,
    permit: GitPermit,
}

/// git's standard output as a streaming response body, after `prefix`. When the output ends
/// the process is reaped, its errors logged, and a push recorded. A client that leaves before
/// the end does not stop a push: git's output is then drained and the push recorded without it.
pub(crate) fn stream_output(
    mut child: Child,
    prefix: Vec<u8>,
    feeder: Option<tokio::task::JoinHandle<()>>,
    finish: Option<PushFinish>,
) -> Body {
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    // stderr is drained on the side so git never blocks on it; the start is kept for the log.
    let errors = tokio::spawn(async move {
        let mut kept = Vec::new();
        let _ = stderr.take(16 * 1024).read_to_end(&mut kept).await;
        String::from_utf8_lossy(&kept).trim().to_owned()
    });
    let output = Output {
        running: Some(Running { child, stdout, feeder, errors }),
        prefix: (!prefix.is_empty()).then(|| Bytes::from(prefix)),
        finish,
    };
    let stream = futures_util::stream::unfold(Some(output), |output| async move {
        let mut output = output?;
        if let Some(prefix) = output.prefix.take() {
            return Some((Ok::<_, std::io::Error>(prefix), Some(output)));
        }
        let running = output.running.as_mut()?;
        let mut buffer = vec![0; CHUNK];
        match running.stdout.read(&mut buffer).await {
            Ok(0) => {
                let running = output.running.take()?;
                let finish = output.finish.take();
                // In a task of its own: a client that leaves now (dropping this stream) must not
                // cancel git's end or the push's record half-way.
                let _ = tokio::spawn(async move {
                    let succeeded = running.end().await;
                    if let Some(PushFinish { state, permit }) = finish {
                        state.core.code().finish_push(&permit, succeeded).await;
                    }
                })
                .await;
                None
            }
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok(Bytes::from(buffer)), Some(output)))
            }
            Err(error) => Some((Err(error), None)),
        }
    });
    Body::from_stream(stream)
}

/// A git process whose output is being sent.
struct Running {
    child: Child,
    stdout: tokio::process::ChildStdout,
    feeder: Option<tokio::task::JoinHandle<()>>,
    errors: tokio::task::JoinHandle<String>,
}

impl Running {
    /// Waits for the feeder and git (its output read to the end); whether git succeeded.
    async fn end(mut self) -> bool {
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.await;
        }
        let status = self.child.wait().await;
        let errors = self.errors.await.unwrap_or_default();
        let succeeded = status.as_ref().is_ok_and(|s| s.success());
        if !succeeded {
            tracing::warn!(status = ?status, stderr = %errors, "git exited with an error");
        }
        succeeded
    }
}

/// The state of a response body streaming git's output.
struct Output {
    running: Option<Running>,
    prefix: Option<Bytes>,
    finish: Option<PushFinish>,
}

/// How long a push whose client left may still take to finish.
const ABANDONED_PUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

impl Drop for Output {
    fn drop(&mut self) {
        // The body was dropped before git's output ended: the client left. git may update the
        // refs still, or has: its output is drained (so that it does not die writing it before
        // its post-receive hook runs) and the push is finished as if the client had stayed.
        let (Some(finish), Some(mut running)) = (self.finish.take(), self.running.take()) else { return };
        tokio::spawn(async move {
            let drained = tokio::time::timeout(ABANDONED_PUSH_LIMIT, async {
                let _ = tokio::io::copy(&mut running.stdout, &mut tokio::io::sink()).await;
                running.end().await
            })
            .await;
            // Past the limit, dropping the process kills it; whatever it reported is recorded.
            let succeeded = drained.unwrap_or(false);
            tracing::info!(repo = %finish.permit.repo, "a push whose client left is finished");
            finish.state.core.code().finish_push(&finish.permit, succeeded).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_repository_and_endpoint() {
        assert_eq!(split_git_path("/acme/api.git/info/refs"), Some(("acme/api", "/info/refs")));
        assert_eq!(split_git_path("/acme/sub/api/git-upload-pack"), Some(("acme/sub/api", "/git-upload-pack")));
        assert_eq!(split_git_path("/api.git/git-receive-pack"), Some(("api", "/git-receive-pack")));
        assert_eq!(split_git_path("/info/refs"), None);
        assert_eq!(split_git_path("/acme/api/-/info/refs"), None);
        assert_eq!(split_git_path("/acme/api/tree"), None);
    }

    #[test]
    fn reads_basic_credentials() {
        let mut headers = HeaderMap::new();
        assert!(basic_credentials(&headers).is_none());
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic YWRhOnMzY3JldDp4"));
        assert_eq!(basic_credentials(&headers), Some(Ok(("ada".into(), "s3cret:x".into()))));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic_credentials(&headers), Some(Err(())));
    }
}
