//! `TestApp`: the whole router driven in-process with `oneshot`, over a fresh database per
//! test — SQLite in a temporary directory, or a fresh PostgreSQL database when
//! `GANTRY_TEST_DATABASE_URL` names a PostgreSQL server (created and dropped with `psql`).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use gantry_core::manage::accounts::NewAccount;
use gantry_core::{Core, UserRow};
use gantry_db::Db;
use gantry_types::TokenScopes;
use gantry_web::{AppState, WebConfig};
use tower::ServiceExt;

/// The pre-session cookie every test browser has.
pub const CSRF: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub router: Router,
    pub core: Core,
    state: AppState,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

/// A user with an `api` token and a signed-in browser session.
#[derive(Clone)]
pub struct TestUser {
    pub user: UserRow,
    pub token: String,
    pub session: String,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

/// A zip archive of `files` (`name/` for a folder).
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut out);
    for (name, content) in files {
        let options = zip::write::SimpleFileOptions::default();
        if name.ends_with('/') {
            writer.add_directory(*name, options).unwrap();
        } else {
            writer.start_file(*name, options).unwrap();
            writer.write_all(content).unwrap();
        }
    }
    writer.finish().unwrap();
    out.into_inner()
}

/// A multipart body: text fields, then files (field, file name, content).
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (name, filename, content) in files {
        body.extend_from_slice(
            format!(
                "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--XyZ--\r\n");
    body
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

fn psql(url: &str, sql: &str) {
    let status = std::process::Command::new("psql")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .status()
        .expect("psql is installed (scripts/test installs it)");
    assert!(status.success(), "psql failed: {sql}");
}

/// The background worker of a test app, running until this is dropped.
pub struct BackgroundWorker(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for BackgroundWorker {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    /// Starts the background worker (pipelines for pushes, log archiving, maintenance), which
    /// test apps do not run unless asked.
    pub fn background_worker(&self) -> BackgroundWorker {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let core = self.core.clone();
        tokio::spawn(async move {
            core.run_background(async move {
                let _ = stopped.await;
            })
            .await
        });
        BackgroundWorker(Some(stop))
    }

    pub async fn new() -> TestApp {
        TestApp::with_core(|core| core).await
    }

    /// A test app whose core is first adjusted by `adjust`.
    pub async fn with_core(adjust: impl FnOnce(Core) -> Core) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (url, postgres) = match std::env::var("GANTRY_TEST_DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                let name = format!("gantry_test_{}", &gantry_core::random_token()[..16]);
                psql(&base, &format!("CREATE DATABASE {name}"));
                let (prefix, _) = base.rsplit_once('/').expect("postgres URL with a database");
                (format!("{prefix}/{name}"), Some((base.clone(), name)))
            }
            _ => (format!("sqlite://{}", dir.path().join("gantry.db").display()), None),
        };
        let db = Db::open(&url).await.unwrap();
        let repos = gantry_core::Repositories::new(dir.path(), "git");
        // In-process tests have no `gantry` binary to run as git's hooks: these hooks point at a
        // program that does not exist, so every push is refused (pushes are tested end to end
        // against a real `gantry serve`).
        gantry_git::hooks::install(repos.hooks_dir(), std::path::Path::new("/nonexistent/no-gantry-binary-in-process"))
            .unwrap();
        let core = adjust(Core::new(db, repos));
        let config = WebConfig {
            external_url: "http://gantry.test".into(),
            ssh_host: "gantry.test:2222".into(),
            secure_cookies: false,
        };
        let state = AppState::new(core.clone(), config);
        let router = gantry_web::app(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        TestApp { router, core, state, _dir: dir, postgres }
    }

    /// Creates a user (the first one becomes the administrator) with a token and a session.
    pub async fn user(&self, username: &str) -> TestUser {
        let account = NewAccount {
            username: username.into(),
            email: format!("{username}@example.com"),
            name: format!("{username} Tester"),
            password: PASSWORD.into(),
        };
        let user = self.core.manage().create_user_as_operator(&account, false).await.unwrap();
        let scopes = TokenScopes::parse_list("api").unwrap();
        let token = self.core.manage().create_token_as_operator(username, "test", &scopes, None).await.unwrap().secret;
        let (_, session) = self.core.manage().sign_in(username, PASSWORD, "127.0.0.1").await.unwrap();
        TestUser { user, token, session }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        TestApp::answer(self.router.clone(), request).await
    }

    /// A request from `peer` (other requests come from 127.0.0.1).
    pub async fn send_from(&self, peer: SocketAddr, request: Request<Body>) -> TestResponse {
        TestApp::answer(gantry_web::app(self.state.clone()).layer(MockConnectInfo(peer)), request).await
    }

    async fn answer(router: Router, request: Request<Body>) -> TestResponse {
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024).await.unwrap();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned(), bytes: bytes.to_vec() }
    }

    /// An API request with an optional token and JSON body.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("PRIVATE-TOKEN", token);
        }
        let request = match body {
            Some(json) => request.header("content-type", "application/json").body(Body::from(json.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    /// A project of `user` named `name` whose `main` branch holds `file` with `content`; the
    /// project and the commit.
    pub async fn project_with_file(
        &self,
        user: &TestUser,
        name: &str,
        file: &str,
        content: &[u8],
    ) -> (gantry_core::ProjectRow, String) {
        let owner = gantry_core::Actor::User(user.user.clone());
        let input = gantry_core::manage::projects::NewProjectInput { name: name.into(), ..Default::default() };
        let project = self.core.manage().create_project(&owner, &input).await.unwrap();
        let author = gantry_git::Author { name: "Tester", email: "tester@example.com" };
        let sha = self.core.repos().initial_commit(project.id, "main", file, content, "first", &author).await.unwrap();
        (project, sha)
    }

    /// The token of a new instance runner that takes untagged jobs.
    pub async fn instance_runner(&self) -> String {
        let registration = gantry_core::ci::runners::RunnerRegistration {
            scope: gantry_core::ci::runners::RunnerScope::Instance,
            description: "test".into(),
            tags: Vec::new(),
            run_untagged: true,
            paused: false,
            max_concurrent: 0,
        };
        self.core.ci().create_runner_as_operator(registration).await.unwrap().1
    }

    /// A runner's request with a job token and a raw body.
    pub async fn job_request(&self, method: Method, path: &str, job_token: &str, body: Vec<u8>) -> TestResponse {
        let request = Request::builder().method(method).uri(path).header("JOB-TOKEN", job_token);
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// A git smart-HTTP request with Basic credentials (the user's token as the password).
    pub async fn git(&self, method: Method, path: &str, user: Option<&TestUser>, body: &'static [u8]) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(user) = user {
            use base64::Engine;
            let credentials = format!("{}:{}", user.user.username, user.token);
            let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        if let Some(service) = path.rsplit('/').next().filter(|s| s.starts_with("git-")) {
            request = request.header("content-type", format!("application/x-{service}-request"));
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// What a browser shows after a form's redirect: `answer` must be a 303, whose location is
    /// fetched as `user` with the cookies it set (the flash that says what happened).
    pub async fn follow(&self, answer: TestResponse, user: &TestUser) -> TestResponse {
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "a form answers 303 on success: {}", answer.body);
        let mut cookie = format!("gantry_csrf={CSRF}; gantry_session={}", user.session);
        for set in answer.headers.get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            cookie.push_str("; ");
            cookie.push_str(pair);
        }
        let request = Request::get(answer.header("location")).header("cookie", cookie).body(Body::empty()).unwrap();
        self.send(request).await
    }

    /// A browser's multipart form post (`multipart` made its body, boundary `XyZ`) as `user`.
    pub async fn multipart_page(&self, path: &str, user: &TestUser, body: Vec<u8>) -> TestResponse {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("cookie", format!("gantry_csrf={CSRF}; gantry_session={}", user.session))
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// The CSRF token of a test browser's forms: bound to `user`'s session, or to the
    /// pre-session cookie without one.
    pub fn csrf_token(&self, user: Option<&TestUser>) -> String {
        use gantry_core::manage::csrf::CsrfBinding;
        match user {
            Some(user) => self.core.manage().csrf_token(CsrfBinding::Session(&user.session)),
            None => self.core.manage().csrf_token(CsrfBinding::Visitor(CSRF)),
        }
    }

    /// A browser request: session cookie (if any) and the pre-session cookie; a form gets the
    /// browser's CSRF token unless it names one.
    pub async fn page(
        &self,
        method: Method,
        path: &str,
        user: Option<&TestUser>,
        form: Option<&[(&str, &str)]>,
    ) -> TestResponse {
        let mut cookie = format!("gantry_csrf={CSRF}");
        if let Some(user) = user {
            cookie.push_str(&format!("; gantry_session={}", user.session));
        }
        let request = Request::builder().method(method).uri(path).header("cookie", cookie);
        let token = self.csrf_token(user);
        let request = match form {
            Some(fields) => {
                let mut fields: Vec<(&str, &str)> = fields.to_vec();
                if !fields.iter().any(|(k, _)| *k == "authenticity_token") {
                    fields.push(("authenticity_token", &token));
                }
                let body = serde_urlencoded::to_string(&fields).unwrap();
                request.header("content-type", "application/x-www-form-urlencoded").body(Body::from(body))
            }
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.postgres {
            let _ = std::process::Command::new("psql")
                .args([base.as_str(), "-q", "-c", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")])
                .status();
        }
    }
}
