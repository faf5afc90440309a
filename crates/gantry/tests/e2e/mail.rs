//! Mail through a real SMTP server (aiosmtpd, from PyPI, started by the test): an
//! administrator's test mail queued while the SMTP server is down goes out once it is up, once,
//! with the headers that keep mail threaded and quiet (`Message-ID`, `Auto-Submitted`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::{Server, free_port};

/// aiosmtpd listening on `port`, keeping what it receives in the maildir `dir` (which it makes).
struct SmtpServer(Child);

impl SmtpServer {
    fn start(port: u16, dir: &Path) -> SmtpServer {
        let python = std::env::var("GANTRY_TEST_PYTHON")
            .expect("GANTRY_TEST_PYTHON must name a Python with aiosmtpd installed; scripts/test sets it up in .venv");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd runs");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpServer(child)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The mails delivered into the maildir `dir`.
fn delivered(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("new")) else { return Vec::new() };
    let mut paths: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    paths.iter().map(|path| std::fs::read_to_string(path).unwrap()).collect()
}

#[test]
fn a_test_mail_queued_while_smtp_is_down_is_sent_once_it_is_up() {
    let port = free_port();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("gantry.toml");
    std::fs::write(
        &config,
        format!("mail_smtp_url = \"smtp://127.0.0.1:{port}\"\nmail_from = \"Gantry <gantry@example.com>\"\n"),
    )
    .unwrap();
    let config = config.display().to_string();
    let server = Server::start_with(&["--config", &config]);
    server.admin_token("root");

    // A wrong address is refused at once; mail off is said in a sentence.
    let wrong = server.admin(&["send-test-mail", "--to", "not an address", "--config", &config], None);
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("is not an e-mail address"), "{wrong:?}");
    let off = server.admin(&["send-test-mail", "--to", "ada@example.com"], None);
    assert!(!off.status.success());
    assert!(String::from_utf8_lossy(&off.stderr).contains("mail is off"), "{off:?}");

    // Queued while nothing listens: the first attempt fails and is retried.
    let queued = server.admin(&["send-test-mail", "--to", "ada@example.com", "--config", &config], None);
    assert!(queued.status.success(), "{queued:?}");
    assert!(String::from_utf8_lossy(&queued.stdout).contains("a test e-mail to ada@example.com is queued"));
    std::thread::sleep(Duration::from_secs(2));

    let mail_home = tempfile::tempdir().unwrap();
    let maildir = mail_home.path().join("mail");
    let _smtp = SmtpServer::start(port, &maildir);
    let deadline = Instant::now() + Duration::from_secs(90);
    while delivered(&maildir).is_empty() {
        assert!(Instant::now() < deadline, "the test mail never arrived");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mail = delivered(&maildir).remove(0);
    for header in [
        "Subject: Gantry test e-mail",
        "From: Gantry <gantry@example.com>",
        "To: ada@example.com",
        "Auto-Submitted: auto-generated",
        "Message-ID: <",
    ] {
        assert!(mail.contains(header), "{header} in:\n{mail}");
    }
    assert!(mail.contains("mail reaches you"), "{mail}");
    // Sent once: nothing more arrives.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(delivered(&maildir).len(), 1);
}
