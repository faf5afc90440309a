//! Hostile jobs on the built-in runner of a real server: each tries what the sandbox must stop
//! — privileges, mounts, namespaces, tracing; the server's files, `/root`, `/etc/shadow`; the
//! machine's loopback services (PostgreSQL among them) and its own addresses; a fork bomb,
//! filling `/tmp` and the builds directory, eating memory, a zip bomb of artifacts — and each
//! is refused with a clear reason while the server, the machine and a bystander job carry on.
//! Jobs reach the server through a door of their own, and what else they reach is the admin's
//! choice. Without a sandbox the built-in runner does not start, and the admin area says why;
//! with the flag that names the risk it runs jobs and says so in every log.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ci_pipelines::{finished, job_named, jobs, push_project, trace, wait_for_pipeline};
use crate::server::{Server, free_port};

/// Small limits, so that the hostile jobs hit them fast.
const LIMITS: &[&str] =
    &["--job-max-processes", "64", "--job-max-disk", "64", "--job-max-tmp", "32", "--job-max-memory", "256"];

/// Runs `ci` as a project's pipeline on a server with [`LIMITS`]; its jobs, finished.
fn run_pipeline(server: &Server, token: &str, name: &str, ci: &str) -> (String, Vec<serde_json::Value>) {
    let path = push_project(server, token, name, &[(".gitlab-ci.yml", ci)]);
    let done = wait_for_pipeline(server, token, &path, |p| finished(&p["status"]));
    let all = jobs(server, token, &path, done["id"].as_i64().unwrap());
    (path, all)
}

fn job_log(server: &Server, token: &str, path: &str, all: &[serde_json::Value], name: &str) -> (String, String) {
    let job = job_named(all, name);
    let log = trace(server, token, path, job["id"].as_i64().unwrap());
    (job["status"].as_str().unwrap().to_owned(), log)
}

/// The machine's own addresses but loopback, from `hostname -I`.
fn own_addresses() -> Vec<String> {
    let output = Command::new("hostname").arg("-I").output().expect("hostname runs");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter(|address| !address.contains(':'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_job_is_an_unprivileged_user_who_cannot_change_the_sandbox_or_read_the_servers_files() {
    let config_dir = tempfile::tempdir().unwrap();
    let config = write_config(&config_dir);
    let config_arg = config.to_string_lossy().into_owned();
    let mut args = vec!["--config", config_arg.as_str()];
    args.extend(LIMITS);
    check_escapes(&Server::start_with(&args), &config);
}

/// When the tests run as root, the same with a server that is not: its jobs share its user
/// outside their namespaces, and still see none of its files.
#[test]
fn a_server_that_is_not_root_sandboxes_its_jobs_the_same_way() {
    if !tests_run_as_root() {
        // The whole suite runs unprivileged then: every other test here shows it.
        return;
    }
    let config_dir = tempfile::tempdir().unwrap();
    let config = write_config(&config_dir);
    std::os::unix::fs::chown(config_dir.path(), Some(SERVER_UID), Some(SERVER_UID)).unwrap();
    std::os::unix::fs::chown(&config, Some(SERVER_UID), Some(SERVER_UID)).unwrap();
    let config_arg = config.to_string_lossy().into_owned();
    let mut args = vec!["--config", config_arg.as_str()];
    args.extend(LIMITS);
    check_escapes(&Server::start_as(SERVER_UID, &args), &config);
}

/// The user of the unprivileged server, one that exists nowhere else.
const SERVER_UID: u32 = 1_899_000_000;

fn tests_run_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

fn write_config(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let config = dir.path().join("gantry.toml");
    std::fs::write(&config, "# the server's configuration\n").unwrap();
    config
}

/// The privilege and file escapes, on `server` started with `config`.
fn check_escapes(server: &Server, config: &std::path::Path) {
    let token = server.admin_token("root");
    let data = server.data_dir().canonicalize().unwrap();
    let ptrace = if std::env::consts::ARCH == "aarch64" { 117 } else { 101 };
    let ci = format!(
        r#"privileges:
  script:
    - id
    - test "$(id -u)" != 0
    - test "$(grep -cE '^Cap(Inh|Prm|Eff|Bnd|Amb):[[:space:]]+0+$' /proc/self/status)" = 5
    - grep -qE '^NoNewPrivs:[[:space:]]+1$' /proc/self/status
    - grep -qE '^Seccomp:[[:space:]]+2$' /proc/self/status
    - if umount -l /proc 2>/dev/null; then echo "UNMOUNTED /proc"; exit 1; fi
    - if umount -l "$(dirname "$CI_BUILDS_DIR")" 2>/dev/null; then echo "UNMOUNTED THE DATA DIRECTORY"; exit 1; fi
    - if mount -t tmpfs none /tmp 2>/dev/null; then echo "MOUNTED"; exit 1; fi
    - if mount -o remount,rw / 2>/dev/null; then echo "REMOUNTED"; exit 1; fi
    - if unshare -U true 2>/dev/null; then echo "UNSHARED"; exit 1; fi
    - if unshare -r true 2>/dev/null; then echo "BECAME ROOT"; exit 1; fi
    - perl -e 'exit(syscall({ptrace}, 0, 0, 0, 0) != -1)'
    - echo privileges-dropped
files:
  script:
    # Only the empty skeleton of the path to the job's own directory shows.
    - if ls -A "{data}" 2>/dev/null | grep -vx builds | grep -q .; then echo "SAW THE DATA DIRECTORY"; exit 1; fi
    - test "$(ls -A "{data}/builds" | grep -v "^$CI_JOB_ID")" = ""
    - if cat "{data}/secrets.key" 2>/dev/null; then echo "READ THE SECRETS KEY"; exit 1; fi
    - if cat "{config}" 2>/dev/null; then echo "READ THE CONFIGURATION"; exit 1; fi
    - if ls /root 2>/dev/null; then echo "SAW /root"; exit 1; fi
    - if ls /home 2>/dev/null; then echo "SAW /home"; exit 1; fi
    - if grep -q . /etc/shadow 2>/dev/null; then echo "READ /etc/shadow"; exit 1; fi
    - if ls /run/docker.sock /var/run/docker.sock 2>/dev/null; then echo "SAW DOCKER"; exit 1; fi
    - if touch /etc/gantry-was-here 2>/dev/null; then echo "WROTE /etc"; exit 1; fi
    - echo hidden
"#,
        data = data.display(),
        config = config.display(),
    );
    let (path, all) = run_pipeline(server, &token, "escape", &ci);
    for (name, said) in [("privileges", "privileges-dropped"), ("files", "hidden")] {
        let (status, log) = job_log(server, &token, &path, &all, name);
        assert_eq!(status, "success", "{name}: {log}");
        assert!(log.contains(&format!("\n{said}")), "{name}: {log}");
        assert!(log.contains("in a sandbox"), "{name}: {log}");
    }
    let (_, log) = job_log(server, &token, &path, &all, "privileges");
    assert!(!log.contains("uid=0("), "{log}");
}

#[test]
fn a_job_reaches_the_server_but_not_the_machines_loopback_or_own_addresses() {
    let server = Server::start_with(LIMITS);
    let token = server.admin_token("root");
    // A service only the machine itself should reach, and one on every address of it.
    let loopback_service = TcpListener::bind("127.0.0.1:0").unwrap();
    let everywhere_service = TcpListener::bind("0.0.0.0:0").unwrap();
    let mut targets = vec![format!("127.0.0.1/{}", loopback_service.local_addr().unwrap().port())];
    let everywhere = everywhere_service.local_addr().unwrap().port();
    targets.extend(own_addresses().iter().map(|address| format!("{address}/{everywhere}")));
    if let Ok(url) = std::env::var("GANTRY_TEST_DATABASE_URL")
        && let Some(port) = url.rsplit(':').next().and_then(|rest| rest.split('/').next())
        && url.starts_with("postgres")
    {
        targets.push(format!("127.0.0.1/{port}"));
    }
    // The server's own port too: jobs reach it through a door of their own.
    targets.push(format!("127.0.0.1/{}", server.port));
    let ci = format!(
        r#"network:
  script:
    - bash door.sh && echo server-reachable
    - awk 'NR > 1 && $2 == "00000000"' /proc/net/route | grep -q . && echo has-a-default-route
    - for target in {targets}; do if timeout 5 bash -c "exec 3<>/dev/tcp/$target" 2>/dev/null; then echo "REACHED $target"; exit 1; fi; done
    - echo contained > proof.txt
  artifacts:
    paths: [proof.txt]
"#,
        targets = targets.join(" "),
    );
    let path = push_project(&server, &token, "network", &[(".gitlab-ci.yml", &ci), ("door.sh", DOOR_CHECK)]);
    let done = wait_for_pipeline(&server, &token, &path, |p| finished(&p["status"]));
    let all = jobs(&server, &token, &path, done["id"].as_i64().unwrap());
    let (status, log) = job_log(&server, &token, &path, &all, "network");
    assert_eq!(status, "success", "{log}");
    assert!(log.contains("\nserver-reachable"), "the server's port is forwarded: {log}");
    assert!(log.contains("\nhas-a-default-route"), "{log}");
    assert!(log.contains("Uploading artifacts"), "{log}");
    let job = job_named(&all, "network")["id"].as_i64().unwrap();
    let proof =
        server.get(&format!("/api/v4/projects/{}/jobs/{job}/artifacts/proof.txt", path.replace('/', "%2F")), &token);
    assert_eq!(proof.text().unwrap(), "contained\n");
    drop((loopback_service, everywhere_service));
}

/// A job's check of the server's door (where `CI_API_V4_URL` points): the server answers, and
/// `/metrics`, which answers this host's own clients, does not answer jobs.
const DOOR_CHECK: &str = r#"set -eu
door=${CI_API_V4_URL#http://}
door=${door%%/*}
request() {
  exec 3<>"/dev/tcp/${door%:*}/${door##*:}"
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" "$door" >&3
  head -n 1 <&3
  exec 3<&-
}
request /-/readiness | grep -q ' 200 '
request /metrics | grep -q ' 404 '
"#;

#[test]
fn the_admin_limits_jobs_to_the_server_or_lets_them_reach_more_and_the_admin_area_says_how_they_run() {
    let allowed = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let allowed_port = allowed.local_addr().unwrap().port().to_string();
    let other_port = other.local_addr().unwrap().port();
    // An external URL jobs cannot reach: they are pointed at the server's door instead.
    let args = ["--external-url", "http://gantry.invalid", "--job-network", "server", "--job-loopback-ports"];
    let server = Server::start_with(&[&args[..], &[allowed_port.as_str()], LIMITS].concat());
    let token = server.admin_token("root");
    let ci = format!(
        r#"allowed:
  script:
    - bash door.sh && echo server-reachable
    - timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{allowed_port}' && echo allowed-reachable
    - if timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{other_port}' 2>/dev/null; then echo REACHED other; exit 1; fi
    - test "$(awk 'NR > 1' /proc/net/route | wc -l)" = 0 && echo no-route-out
"#
    );
    let path = push_project(&server, &token, "walled", &[(".gitlab-ci.yml", &ci), ("door.sh", DOOR_CHECK)]);
    let done = wait_for_pipeline(&server, &token, &path, |p| finished(&p["status"]));
    let all = jobs(&server, &token, &path, done["id"].as_i64().unwrap());
    let (status, log) = job_log(&server, &token, &path, &all, "allowed");
    assert_eq!(status, "success", "{log}");
    for line in ["server-reachable", "allowed-reachable", "no-route-out"] {
        assert!(log.contains(&format!("\n{line}")), "{line}: {log}");
    }

    let (status, page) = server.page_as("root", "/admin/ci_cd");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Runs shell jobs in a sandbox."), "{page}");
    assert!(
        page.contains(&format!("this server only, and this machine&#39;s loopback ports {allowed_port}")),
        "{page}"
    );
    assert!(page.contains("64 processes, 256 MiB of memory per process, 64 MiB of disk and a 32 MiB /tmp"), "{page}");
    drop((allowed, other));
}

#[test]
fn runaway_jobs_fail_with_a_reason_while_the_machine_and_a_bystander_carry_on() {
    let mut args = vec!["--builtin-runner-concurrent", "4"];
    args.extend(LIMITS);
    let server = Server::start_with(&args);
    let token = server.admin_token("root");
    let ci = r#"stages: [build, test]
fork-bomb:
  stage: build
  script:
    - 'bomb() { bomb | bomb & }; bomb'
    - sleep 5
fill-tmp:
  stage: build
  script:
    - dd if=/dev/zero of=/tmp/fill bs=1M count=2048
fill-builds:
  stage: build
  script:
    - dd if=/dev/zero of=fill bs=1M count=2048
many-files:
  stage: build
  script:
    - for i in $(seq 1 100); do dd if=/dev/zero of=part-$i bs=1M count=10 2>/dev/null; done
    - echo "WROTE A GIGABYTE"
eat-memory:
  stage: build
  script:
    - perl -e '$x = "x" x (1024 * 1024 * 1024); print "ATE A GIGABYTE\n"'
bomb-maker:
  stage: build
  script:
    # Two sparse files of zeros, 80 MB together and next to nothing on disk (the job stays
    # under its disk cap): an archive of a few kB that unpacks past the cap.
    - truncate -s 40M a && truncate -s 40M b
  artifacts:
    paths: [a, b]
bomb-opener:
  stage: test
  needs: [bomb-maker]
  script:
    - echo "OPENED THE BOMB"
"#;
    let bystander = push_project(
        &server,
        &token,
        "bystander",
        &[(".gitlab-ci.yml", "steady:\n  script:\n    - sleep 3\n    - echo still-standing\n")],
    );
    let (path, all) = run_pipeline(&server, &token, "runaway", ci);
    // The machine can still start processes.
    assert!(Command::new("true").status().unwrap().success());
    for (name, reason) in [
        ("fork-bomb", "stayed at its limit of 64 processes"),
        ("fill-tmp", "No space left on device"),
        ("fill-builds", "File size limit exceeded"),
        ("eat-memory", "Out of memory"),
        ("many-files", "grew past its limit of 64 MiB"),
        ("bomb-opener", "unpacks to more than the 67108864 bytes a job may unpack"),
    ] {
        let (status, log) = job_log(&server, &token, &path, &all, name);
        assert_eq!(status, "failed", "{name}: {log}");
        assert!(log.contains(reason), "{name} fails with {reason:?}: {log}");
        let done = ["\nATE A GIGABYTE", "\nOPENED THE BOMB", "\nWROTE A GIGABYTE"];
        assert!(!done.iter().any(|line| log.contains(line)), "{name}: {log}");
    }
    let steady = wait_for_pipeline(&server, &token, &bystander, |p| finished(&p["status"]));
    assert_eq!(steady["status"], "success");
    let steady_jobs = jobs(&server, &token, &bystander, steady["id"].as_i64().unwrap());
    assert!(trace(&server, &token, &bystander, steady_jobs[0]["id"].as_i64().unwrap()).contains("\nstill-standing"));
}

/// A `PATH` with git and nothing of the sandbox's programs.
fn path_without_the_sandbox() -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    for program in ["git", "sh"] {
        let found = Command::new("sh").args(["-c", &format!("command -v {program}")]).output().unwrap();
        let found = String::from_utf8(found.stdout).unwrap();
        std::os::unix::fs::symlink(found.trim(), bin.path().join(program)).unwrap();
    }
    bin
}

#[test]
fn without_a_sandbox_the_builtin_runner_does_not_start_and_says_why() {
    let bin = path_without_the_sandbox();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--ssh-listen", &format!("127.0.0.1:{}", free_port()), "--data-dir"])
        .arg(data.path())
        .env("PATH", bin.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut said = String::new();
    while !said.contains("is NOT started") {
        let left = deadline.saturating_duration_since(Instant::now());
        match seen.recv_timeout(left) {
            Ok(line) => said.push_str(&(line + "\n")),
            Err(_) => panic!("the server never said why it runs no jobs: {said}"),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(said.contains("the built-in runner is NOT started"), "{said}");
    assert!(said.contains("apt-get install bubblewrap passt"), "it says what to install: {said}");
    assert!(said.contains("--unsafe-jobs-without-sandbox"), "{said}");
}

#[test]
fn the_admin_area_says_why_the_builtin_runner_did_not_start() {
    let bin = path_without_the_sandbox();
    let server = Server::start_with_env(&[("PATH", bin.path().as_os_str())], &[]);
    server.admin_token("root");
    let (status, page) = server.page_as("root", "/admin/ci_cd");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<strong>Not started.</strong>"), "{page}");
    assert!(page.contains("apt-get install bubblewrap passt"), "it says what to install: {page}");
}

#[test]
fn with_the_flag_that_names_the_risk_jobs_run_unsandboxed_and_every_log_says_so() {
    let server = Server::start_with(&["--unsafe-jobs-without-sandbox"]);
    let token = server.admin_token("root");
    let (path, all) = run_pipeline(&server, &token, "trusting", "plain:\n  script: echo ran\n");
    let (status, log) = job_log(&server, &token, &path, &all, "plain");
    assert_eq!(status, "success", "{log}");
    assert!(log.contains("WITHOUT A SANDBOX"), "{log}");
    let (_, page) = server.page_as("root", "/admin/ci_cd");
    assert!(page.contains("Runs shell jobs WITHOUT A SANDBOX"), "{page}");
}

#[test]
fn the_data_directory_and_everything_in_it_are_the_servers_alone() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start();
    let token = server.admin_token("root");
    push_project(&server, &token, "private-bits", &[("README.md", "hello\n")]);
    let data = server.data_dir();
    // Jobs of a root server's sandbox run as other users, who may pass through the data and
    // builds directories to their own; nobody else may list or read anything.
    let top = std::fs::metadata(data).unwrap().permissions().mode() & 0o777;
    assert!(top == 0o700 || top == 0o711, "{top:o}");
    let mut pending = vec![data.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let metadata = entry.metadata().unwrap();
            let mode = metadata.permissions().mode() & 0o777;
            if path == data.join("builds") {
                assert!(mode == 0o700 || mode == 0o711, "{}: {mode:o}", path.display());
            } else if metadata.is_dir() {
                assert_eq!(mode & 0o077, 0, "{}: {mode:o}", path.display());
                pending.push(path);
            } else if !metadata.file_type().is_symlink() {
                assert_eq!(mode & 0o077, 0, "{}: {mode:o}", path.display());
            }
        }
    }
}
