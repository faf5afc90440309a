//! `gantry runner` against a server reached over HTTPS: nginx terminates TLS in front of a real
//! `gantry serve` with a certificate signed by a CA made here with `openssl`. A runner given
//! the CA (`--tls-ca-file`) runs a pipeline whose jobs fetch their sources, pass artifacts and
//! keep a cache over HTTPS, even on a machine with no trusted certificates of its own; a runner
//! without it is refused at start with a clear message.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ci_pipelines::{RunnerProcess, jobs, push_project, runner_token, wait_for_pipeline};
use crate::server::{Server, free_port};

const TLS_CI: &str = r#"
stages: [build, test]
build:
  stage: build
  script:
    - grep -q "BEGIN CERTIFICATE" "$CI_SERVER_TLS_CA_FILE"
    - echo "server at $CI_SERVER_URL"
    - echo built > out.txt
    - mkdir -p kept && echo cached > kept/c
  artifacts:
    paths: [out.txt]
  cache:
    key: tls
    paths: [kept]
test:
  stage: test
  script:
    - grep built out.txt
"#;

#[test]
fn a_runner_with_the_private_ca_works_against_an_https_server() {
    let certificates = TestCertificates::make();
    let https_port = free_port();
    let external = format!("https://localhost:{https_port}");
    let server = Server::start_with(&["--no-builtin-runner", "--external-url", &external]);
    let _proxy = TlsProxy::start(&certificates, https_port, &server.base_url);
    let token = server.admin_token("root");
    let runner = runner_token(&server, &[]);

    // Without the CA, the runner does not trust the server and says what to do.
    let refused = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["runner", "--url", &external, "--token", &runner])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("does not trust") && stderr.contains("--tls-ca-file"), "{stderr}");
    let ca = certificates.ca.to_str().unwrap();
    let text = certificates.dir.path().join("notes.txt");
    std::fs::write(&text, "not a certificate\n").unwrap();
    let not_a_ca = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["runner", "--url", &external, "--token", &runner, "--tls-ca-file", text.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!not_a_ca.status.success());
    assert!(String::from_utf8_lossy(&not_a_ca.stderr).contains("PEM certificate"));

    // A machine with no trusted certificates at all (rustls reads SSL_CERT_FILE/SSL_CERT_DIR
    // instead of the system's): over HTTPS without the CA the runner says what is missing; over
    // plain HTTP it needs none and gets as far as the token check.
    let no_system_certificates = [("SSL_CERT_FILE", "/dev/null"), ("SSL_CERT_DIR", "/nonexistent")];
    let bare = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["runner", "--url", &external, "--token", &runner])
        .envs(no_system_certificates)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bare.stderr);
    assert!(!bare.status.success());
    assert!(stderr.contains("no trusted CA certificates") && stderr.contains("--tls-ca-file"), "{stderr}");
    let plain = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["runner", "--url", &server.base_url, "--token", "glrt-wrong"])
        .envs(no_system_certificates)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(stderr.contains("refused the runner token"), "{stderr}");

    let _agent = RunnerProcess::start_with(&external, &runner, &["--tls-ca-file", ca], &no_system_certificates);
    let path = push_project(&server, &token, "tls", &[(".gitlab-ci.yml", TLS_CI)]);
    let done = wait_for_pipeline(&server, &token, &path, |p| p["status"] == "success" || p["status"] == "failed");
    let pipeline = done["id"].as_i64().unwrap();
    let all = jobs(&server, &token, &path, pipeline);
    let build = all.iter().find(|job| job["name"] == "build").unwrap();
    let trace =
        server.get(&format!("/api/v4/projects/{}/jobs/{}/trace", path.replace('/', "%2F"), build["id"]), &token);
    let trace = trace.text().unwrap();
    assert_eq!(done["status"], "success", "{all:?}\n{trace}");
    assert!(trace.contains(&format!("server at {external}")), "{trace}");
    assert!(trace.contains(&format!("Fetching from {external}/")), "the sources came over https: {trace}");
    assert!(trace.contains("Created cache"), "the cache went up over https: {trace}");
    assert!(trace.contains("to coordinator... ok"), "the archive went up over https: {trace}");
    // The test job passed: it found the archive it downloaded over https.
}

/// A CA and a certificate for `localhost` and 127.0.0.1 it signed, made with `openssl`.
struct TestCertificates {
    dir: tempfile::TempDir,
    ca: PathBuf,
    certificate: PathBuf,
    key: PathBuf,
}

impl TestCertificates {
    fn make() -> TestCertificates {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(
            dir.path(),
            &["req", "-x509", "-days", "2", "-subj", "/CN=Gantry Test CA"],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        openssl(dir.path(), &["req", "-subj", "/CN=localhost"], &ec, &["-keyout", "server.key", "-out", "server.csr"]);
        std::fs::write(
            at("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            dir.path(),
            &["x509", "-req", "-days", "2", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key"],
            &[],
            &["-CAcreateserial", "-extfile", "server.ext", "-out", "server.pem"],
        );
        TestCertificates { ca: at("ca.pem"), certificate: at("server.pem"), key: at("server.key"), dir }
    }
}

fn openssl(dir: &Path, first: &[&str], second: &[&str], third: &[&str]) {
    let output = Command::new("openssl")
        .args(first)
        .args(second)
        .args(third)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian's openssl package; scripts/test installs it)");
    assert!(output.status.success(), "openssl {first:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// nginx terminating TLS on 127.0.0.1:`port` in front of `upstream`; stopped when dropped.
struct TlsProxy {
    _nginx: crate::nginx::Nginx,
}

impl TlsProxy {
    fn start(certificates: &TestCertificates, port: u16, upstream: &str) -> TlsProxy {
        let server = format!(
            "  server {{\n    listen 127.0.0.1:{port} ssl;\n    server_name localhost;\n    \
             ssl_certificate {certificate};\n    ssl_certificate_key {key};\n    client_max_body_size 0;\n    \
             proxy_request_buffering off;\n    proxy_buffering off;\n    proxy_read_timeout 120s;\n    \
             location / {{\n      proxy_pass {upstream};\n      proxy_http_version 1.1;\n      \
             proxy_set_header Host $host:$server_port;\n      proxy_set_header X-Forwarded-Proto https;\n    }}\n  }}",
            certificate = certificates.certificate.display(),
            key = certificates.key.display(),
        );
        TlsProxy { _nginx: crate::nginx::Nginx::start(&server, port) }
    }
}
