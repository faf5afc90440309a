//! `FakeServerForRunnerTests`: a test double of the Gantry server's runner API, just enough of
//! it to drive a real runner — job requests (held a moment when there is no job), state updates
//! and trace appends with GitLab's offsets — with knobs to make it awkward (small pieces,
//! refused offsets) and to cancel jobs. It is not the server (that lives in `gantry-web`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post, put};
use gantry_ci::protocol::{JOB_STATUS_HEADER, JOB_TOKEN_HEADER, JobPayload, JobRequest, JobUpdate, VerifyRequest};
use tokio::sync::{Notify, watch};

/// How long a job request is held when there is no job.
const LONG_POLL: Duration = Duration::from_millis(300);
/// How long a test waits for the runner before failing.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

pub const RUNNER_TOKEN: &str = "glrt-fake-runner-token";

pub struct FakeServerForRunnerTests {
    url: String,
    shared: Arc<Shared>,
}

/// What the fake server knows of one job it handed out.
#[derive(Debug, Clone)]
pub struct FakeJob {
    pub token: String,
    pub status: String,
    pub trace: Vec<u8>,
    pub updates: Vec<JobUpdate>,
    /// The size of every trace piece the runner sent.
    pub patch_sizes: Vec<usize>,
}

impl FakeJob {
    pub fn trace_text(&self) -> String {
        String::from_utf8_lossy(&self.trace).into_owned()
    }

    /// The last state the runner reported other than `running`.
    pub fn final_update(&self) -> Option<&JobUpdate> {
        self.updates.iter().rev().find(|update| update.state != "running")
    }
}

struct Shared {
    state: Mutex<ServerState>,
    changed: Notify,
    /// While `true`, trace requests are held unanswered.
    traces_paused: watch::Sender<bool>,
}

#[derive(Default)]
struct ServerState {
    queue: VecDeque<JobPayload>,
    jobs: HashMap<i64, FakeJob>,
    /// Accept at most this many bytes of each trace piece.
    trace_piece_limit: Option<usize>,
    /// Answer the next trace pieces with 416.
    refuse_offsets: usize,
    /// Trace requests that arrived, answered or not.
    trace_requests: usize,
}

impl FakeServerForRunnerTests {
    pub async fn start() -> FakeServerForRunnerTests {
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            changed: Notify::new(),
            traces_paused: watch::Sender::new(false),
        });
        let app = Router::new()
            .route("/api/v4/jobs/request", post(request_job))
            .route("/api/v4/jobs/{id}", put(update_job))
            .route("/api/v4/jobs/{id}/trace", patch(append_trace))
            .route("/api/v4/runners/verify", post(verify))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeServerForRunnerTests { url, shared }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Hands `payload` to the next runner that asks.
    pub fn enqueue(&self, payload: JobPayload) {
        self.shared.lock().queue.push_back(payload);
        self.shared.changed.notify_waiters();
    }

    /// Cancels a job: every answer about it now says `Job-Status: canceled`.
    pub fn cancel(&self, job_id: i64) {
        self.shared.lock().jobs.get_mut(&job_id).expect("the job was handed out").status = "canceled".into();
        self.shared.changed.notify_waiters();
    }

    /// Makes the server take at most `limit` bytes of each trace piece.
    pub fn limit_trace_pieces(&self, limit: usize) {
        self.shared.lock().trace_piece_limit = Some(limit);
    }

    /// Makes the server answer the next `count` trace pieces with 416.
    pub fn refuse_trace_offsets(&self, count: usize) {
        self.shared.lock().refuse_offsets = count;
    }

    /// Holds every trace request unanswered until [`Self::resume_traces`].
    pub fn pause_traces(&self) {
        self.shared.traces_paused.send_replace(true);
    }

    pub fn resume_traces(&self) {
        self.shared.traces_paused.send_replace(false);
    }

    /// Waits until a trace request arrived (while paused: until one is held).
    pub async fn wait_for_trace_request(&self) {
        let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
        loop {
            let changed = self.shared.changed.notified();
            if self.shared.lock().trace_requests > 0 {
                return;
            }
            tokio::time::timeout_at(deadline, changed).await.expect("a trace request arrives");
        }
    }

    pub fn job(&self, job_id: i64) -> Option<FakeJob> {
        self.shared.lock().jobs.get(&job_id).cloned()
    }

    /// Waits until the runner reported job `job_id` finished; the job then.
    pub async fn wait_for_final_state(&self, job_id: i64) -> FakeJob {
        self.wait_for(job_id, "a final state", |job| job.final_update().is_some()).await
    }

    /// Waits until the job's trace contains `text`.
    pub async fn wait_for_trace(&self, job_id: i64, text: &str) -> FakeJob {
        self.wait_for(job_id, text, |job| job.trace_text().contains(text)).await
    }

    async fn wait_for(&self, job_id: i64, what: &str, done: impl Fn(&FakeJob) -> bool) -> FakeJob {
        let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
        loop {
            let changed = self.shared.changed.notified();
            if let Some(job) = self.job(job_id).filter(|job| done(job)) {
                return job;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("job {job_id}: waited {WAIT_LIMIT:?} for {what:?}; the job is {:#?}", self.job(job_id));
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ServerState> {
        self.state.lock().unwrap()
    }
}

async fn verify(Json(request): Json<VerifyRequest>) -> StatusCode {
    if request.token == RUNNER_TOKEN { StatusCode::OK } else { StatusCode::FORBIDDEN }
}

async fn request_job(State(shared): State<Arc<Shared>>, Json(request): Json<JobRequest>) -> Response {
    if request.token != RUNNER_TOKEN {
        return StatusCode::FORBIDDEN.into_response();
    }
    assert!(matches!(request.info.executor.as_str(), "shell" | "docker"), "{:?}", request.info.executor);
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    loop {
        let changed = shared.changed.notified();
        let next = shared.lock().queue.pop_front();
        if let Some(payload) = next {
            let job = FakeJob {
                token: payload.token.clone(),
                status: "running".into(),
                trace: Vec::new(),
                updates: Vec::new(),
                patch_sizes: Vec::new(),
            };
            shared.lock().jobs.insert(payload.id, job);
            shared.changed.notify_waiters();
            return (StatusCode::CREATED, Json(payload)).into_response();
        }
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return StatusCode::NO_CONTENT.into_response();
        }
    }
}

async fn update_job(
    State(shared): State<Arc<Shared>>,
    Path(job_id): Path<i64>,
    Json(update): Json<JobUpdate>,
) -> Response {
    let mut state = shared.lock();
    let Some(job) = state.jobs.get_mut(&job_id).filter(|job| job.token == update.token) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    if job.status == "running" && update.state != "running" {
        job.status = update.state.clone();
    }
    job.updates.push(update);
    let status = job.status.clone();
    drop(state);
    shared.changed.notify_waiters();
    with_job_status(StatusCode::OK, &status, None)
}

async fn append_trace(
    State(shared): State<Arc<Shared>>,
    Path(job_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.lock().trace_requests += 1;
    shared.changed.notify_waiters();
    let _ = shared.traces_paused.subscribe().wait_for(|paused| !paused).await;
    let mut guard = shared.lock();
    let state = &mut *guard;
    let token = headers.get(JOB_TOKEN_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let limit = state.trace_piece_limit;
    let refuse = state.refuse_offsets > 0;
    let Some(job) = state.jobs.get_mut(&job_id).filter(|job| job.token == token) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    if job.status != "running" && job.status != "canceled" {
        return StatusCode::FORBIDDEN.into_response();
    }
    job.patch_sizes.push(body.len());
    let range = headers.get("Content-Range").and_then(|value| value.to_str().ok()).unwrap_or_default();
    let (start, end) = range.split_once('-').expect("Content-Range is start-end");
    let (start, end): (usize, usize) = (start.parse().unwrap(), end.parse().unwrap());
    assert_eq!(end + 1 - start, body.len(), "Content-Range {range} does not match a body of {}", body.len());
    let length = job.trace.len();
    if start != length || refuse {
        let status = job.status.clone();
        state.refuse_offsets = state.refuse_offsets.saturating_sub(1);
        return with_job_status(StatusCode::RANGE_NOT_SATISFIABLE, &status, Some(length));
    }
    let taken = limit.map_or(body.len(), |limit| limit.min(body.len()));
    job.trace.extend_from_slice(&body[..taken]);
    let (status, length) = (job.status.clone(), job.trace.len());
    drop(guard);
    shared.changed.notify_waiters();
    with_job_status(StatusCode::ACCEPTED, &status, Some(length))
}

fn with_job_status(code: StatusCode, job_status: &str, length: Option<usize>) -> Response {
    let mut response = code.into_response();
    response.headers_mut().insert(JOB_STATUS_HEADER, HeaderValue::from_str(job_status).unwrap());
    if let Some(length) = length {
        response.headers_mut().insert("Range", HeaderValue::from_str(&format!("0-{length}")).unwrap());
    }
    response
}
