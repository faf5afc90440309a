//! A real `gantry serve` on a free loopback port with its own data directory. Its log goes to
//! the test's output at the level `GANTRY_TEST_SERVER_LOG` names (default `warn`).

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub base_url: String,
    /// The SSH server's port.
    pub ssh_port: u16,
    pub port: u16,
    /// The data directory, removed with the server that made it.
    dir: Option<tempfile::TempDir>,
    /// Where the data directory is (another server's, for a server started beside it).
    data_path: std::path::PathBuf,
    database_url: String,
    /// Extra `gantry serve` options, kept across restarts.
    extra: Vec<String>,
    child: Child,
    client: reqwest::blocking::Client,
}

/// A loopback port nothing listens on, never the same twice in this test process: the kernel
/// may hand a just-released port out again, and two servers (or a server's HTTP and SSH
/// listeners) given one port would fail to start.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// The first of the job users (when tests run as root) of the runner told apart by `key`: tests
/// run side by side, and a runner's limits count the processes of its job users, so no two
/// runners may share them (as on any machine with several runners).
pub fn job_uid_base(key: u16) -> String {
    (1_900_000_000_u32 + u32::from(key) * 256).to_string()
}

fn database_for(dir: &std::path::Path) -> String {
    match std::env::var("GANTRY_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let name = format!("gantry_e2e_{}", std::process::id() as u64 * 1000 + u64::from(free_port()));
            let status = Command::new("psql")
                .args([base.as_str(), "-q", "-c", &format!("CREATE DATABASE {name}")])
                .status()
                .expect("psql");
            assert!(status.success());
            format!("{}/{name}", base.rsplit_once('/').unwrap().0)
        }
        _ => format!("sqlite://{}", dir.join("gantry.db").display()),
    }
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// A server with extra `gantry serve` options (`--no-builtin-runner`, …).
    pub fn start_with(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let database_url = database_for(dir.path());
        let extra = extra.iter().map(|a| (*a).to_owned()).collect();
        Server::spawn(dir, database_url, free_port(), free_port(), extra)
    }

    /// A server with `env` set in its environment, and extra options.
    pub fn start_with_env(env: &[(&str, &std::ffi::OsStr)], extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let database_url = database_for(dir.path());
        let extra = extra.iter().map(|a| (*a).to_owned()).collect();
        let mut command = Command::new(env!("CARGO_BIN_EXE_gantry"));
        command.envs(env.iter().copied());
        Server::spawn_with(command, dir, database_url, free_port(), free_port(), extra)
    }

    /// A server running as the user (and group) `uid`, which owns its data directory: for tests
    /// that run as root and want the server not to be.
    pub fn start_as(uid: u32, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(uid)).unwrap();
        let database_url = database_for(dir.path());
        let extra = extra.iter().map(|a| (*a).to_owned()).collect();
        let mut command = Command::new(env!("CARGO_BIN_EXE_gantry"));
        std::os::unix::process::CommandExt::uid(&mut command, uid);
        std::os::unix::process::CommandExt::gid(&mut command, uid);
        command.env("HOME", dir.path());
        Server::spawn_with(command, dir, database_url, free_port(), free_port(), extra)
    }

    fn spawn(dir: tempfile::TempDir, database_url: String, port: u16, ssh_port: u16, extra: Vec<String>) -> Server {
        let command = Command::new(env!("CARGO_BIN_EXE_gantry"));
        Server::spawn_with(command, dir, database_url, port, ssh_port, extra)
    }

    /// A second server on `other`'s database and data directory (PostgreSQL only), as several
    /// servers behind a load balancer share them.
    pub fn start_beside(other: &Server, extra: &[&str]) -> Server {
        assert!(other.database_url.starts_with("postgres"), "servers share only a PostgreSQL database");
        let extra = extra.iter().map(|a| (*a).to_owned()).collect();
        let command = Command::new(env!("CARGO_BIN_EXE_gantry"));
        let (data_path, url) = (other.data_path.clone(), other.database_url.clone());
        Server::spawn_at(command, None, data_path, url, free_port(), free_port(), extra)
    }

    fn spawn_with(
        command: Command,
        dir: tempfile::TempDir,
        database_url: String,
        port: u16,
        ssh_port: u16,
        extra: Vec<String>,
    ) -> Server {
        let data_path = dir.path().to_owned();
        Server::spawn_at(command, Some(dir), data_path, database_url, port, ssh_port, extra)
    }

    fn spawn_at(
        mut command: Command,
        dir: Option<tempfile::TempDir>,
        data_path: std::path::PathBuf,
        database_url: String,
        port: u16,
        ssh_port: u16,
        extra: Vec<String>,
    ) -> Server {
        let child = command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--ssh-listen", &format!("127.0.0.1:{ssh_port}"), "--data-dir"])
            .arg(&data_path)
            .args(["--database-url", &database_url])
            .args(["--job-uid-base", &job_uid_base(port)])
            .args(&extra)
            .env("RUST_LOG", std::env::var("GANTRY_TEST_SERVER_LOG").unwrap_or_else(|_| "warn".to_owned()))
            .stdout(Stdio::null())
            .spawn()
            .expect("gantry starts");
        let server = Server {
            base_url: format!("http://127.0.0.1:{port}"),
            ssh_port,
            port,
            dir,
            data_path,
            database_url,
            extra,
            child,
            client: crate::http_client().timeout(Duration::from_secs(30)).build().unwrap(),
        };
        server.wait_ready()
    }

    fn wait_ready(mut self) -> Server {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("gantry serve exited before it was ready ({status}); its log is above");
            }
            if let Ok(response) = self.client.get(format!("{}/-/readiness", self.base_url)).send()
                && response.status() == 200
            {
                return self;
            }
            assert!(Instant::now() < deadline, "gantry did not become ready in 60 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server gracefully (SIGTERM) and starts it again on the same data.
    pub fn restart(mut self) -> Server {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "graceful shutdown exits cleanly: {status}");
        let (dir, url, port, ssh_port, extra) = self.take();
        Server::spawn(dir, url, port, ssh_port, extra)
    }

    /// Kills the server (SIGKILL), leaving its data to the others.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Kills the server (SIGKILL) and starts it again on the same data.
    pub fn kill_and_restart(self) -> Server {
        self.kill_and_restart_after(|_| {})
    }

    /// Kills the server (SIGKILL), runs `meanwhile` on its data directory (to leave what a
    /// killed server would have left), and starts it again on the same data.
    pub fn kill_and_restart_after(mut self, meanwhile: impl FnOnce(&std::path::Path)) -> Server {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        meanwhile(self.data_dir());
        let (dir, url, port, ssh_port, extra) = self.take();
        Server::spawn(dir, url, port, ssh_port, extra)
    }

    /// Kills the server (SIGKILL) and starts it again on the same data with other extra
    /// options.
    pub fn kill_and_restart_with(mut self, extra: &[&str]) -> Server {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let (dir, url, port, ssh_port, _) = self.take();
        Server::spawn(dir, url, port, ssh_port, extra.iter().map(|a| (*a).to_owned()).collect())
    }

    /// Keeps the data of a stopped server for the next one.
    fn take(mut self) -> (tempfile::TempDir, String, u16, u16, Vec<String>) {
        let extra = std::mem::take(&mut self.extra);
        (self.dir.take().expect("data directory"), self.database_url.clone(), self.port, self.ssh_port, extra)
    }

    pub fn admin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
            .arg("admin")
            .args(args)
            .arg("--data-dir")
            .arg(&self.data_path)
            .args(["--database-url", &self.database_url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        } else {
            drop(child.stdin.take());
        }
        child.wait_with_output().unwrap()
    }

    /// Creates the first account (the administrator) and an `api` token for it.
    pub fn admin_token(&self, username: &str) -> String {
        let output = self.admin(
            &["create-user", "--username", username, "--email", &format!("{username}@example.com"), "--password-stdin"],
            Some("a long password\n"),
        );
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let output = self.admin(&["create-token", "--username", username, "--name", "e2e", "--scopes", "api"], None);
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// Creates a user with a token of the given scopes (comma-separated); returns the token.
    pub fn user_token(&self, username: &str, scopes: &str) -> String {
        let output = self.admin(
            &["create-user", "--username", username, "--email", &format!("{username}@example.com"), "--password-stdin"],
            Some("a long password\n"),
        );
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        self.token(username, scopes)
    }

    /// A new token of the given scopes for an existing user.
    pub fn token(&self, username: &str, scopes: &str) -> String {
        let output = self.admin(&["create-token", "--username", username, "--name", "e2e", "--scopes", scopes], None);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// The server's data directory.
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_path
    }

    pub fn get(&self, path: &str, token: &str) -> reqwest::blocking::Response {
        self.client.get(format!("{}{path}", self.base_url)).header("PRIVATE-TOKEN", token).send().unwrap()
    }

    /// The page at `path` as `username` sees it in a browser (signed in with the password the
    /// account helpers above give): its status and HTML.
    pub fn page_as(&self, username: &str, path: &str) -> (reqwest::StatusCode, String) {
        let client = crate::http_client().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let cookie = self.session_cookie(username);
        let page = client.get(format!("{}{path}", self.base_url)).header(reqwest::header::COOKIE, cookie).send();
        let page = page.unwrap();
        (page.status(), page.text().unwrap())
    }

    /// Signs `username` in through the form (with the password the account helpers above
    /// give): the `Cookie` header value of their browser session.
    pub fn session_cookie(&self, username: &str) -> String {
        let cookies = |response: &reqwest::blocking::Response| -> Vec<String> {
            let set = response.headers().get_all(reqwest::header::SET_COOKIE);
            set.iter().filter_map(|value| value.to_str().ok()?.split(';').next().map(str::to_owned)).collect()
        };
        let client = crate::http_client().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let form = client.get(format!("{}/users/sign_in", self.base_url)).send().unwrap();
        let mut jar = cookies(&form);
        let html = form.text().unwrap();
        let csrf = html.split("name=\"authenticity_token\" value=\"").nth(1).and_then(|rest| rest.split('"').next());
        let signed_in = client
            .post(format!("{}/users/sign_in", self.base_url))
            .header(reqwest::header::COOKIE, jar.join("; "))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            // The token is hex and test usernames are letters and digits: nothing to escape.
            .body(format!(
                "authenticity_token={}&login={username}&password=a+long+password",
                csrf.expect("the sign-in form has a CSRF token")
            ))
            .send()
            .unwrap();
        assert!(signed_in.status().is_redirection(), "{username} cannot sign in: {}", signed_in.status());
        jar.extend(cookies(&signed_in));
        jar.join("; ")
    }

    pub fn post_json(&self, path: &str, token: &str, body: &serde_json::Value) -> reqwest::blocking::Response {
        self.client.post(format!("{}{path}", self.base_url)).header("PRIVATE-TOKEN", token).json(body).send().unwrap()
    }

    pub fn put_json(&self, path: &str, token: &str, body: &serde_json::Value) -> reqwest::blocking::Response {
        self.client.put(format!("{}{path}", self.base_url)).header("PRIVATE-TOKEN", token).json(body).send().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The last server on a PostgreSQL database drops it (a restarted one keeps it).
        if let (Some(_), Ok(base)) = (&self.dir, std::env::var("GANTRY_TEST_DATABASE_URL"))
            && base.starts_with("postgres")
            && let Some((_, name)) = self.database_url.rsplit_once('/')
        {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = Command::new("psql").args([base.as_str(), "-q", "-c", &drop]).status();
        }
    }
}
