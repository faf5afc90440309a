//! Mail through a real SMTP server (aiosmtpd, from PyPI, started by the test): an
//! administrator's test mail queued while the SMTP server is down goes out once it is up, once,
//! with the headers that keep mail threaded and quiet (`Message-ID`, `Auto-Submitted`); and an
//! issue's mail — assignment, mention, comment, close — reaches the people it should, threaded
//! per issue, each once, never those who may not see the issue, and stops for whoever follows
//! its unsubscribe link.

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

/// A `gantry.toml` sending mail to an SMTP server on `port` (in `dir`), its path.
fn mail_config(dir: &Path, port: u16) -> String {
    let config = dir.join("gantry.toml");
    std::fs::write(
        &config,
        format!("mail_smtp_url = \"smtp://127.0.0.1:{port}\"\nmail_from = \"Gantry <gantry@example.com>\"\n"),
    )
    .unwrap();
    config.display().to_string()
}

/// Waits until `count` mails are in the maildir (failing after 90 s), then a little longer to
/// see that no more come; the mails.
fn wait_for_mails(dir: &Path, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(90);
    while delivered(dir).len() < count {
        assert!(Instant::now() < deadline, "{} of {count} mails arrived:\n{:#?}", delivered(dir).len(), delivered(dir));
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    let mails = delivered(dir);
    assert_eq!(mails.len(), count, "each mail once:\n{mails:#?}");
    mails
}

/// A mail with its quoted-printable body decoded (soft line breaks joined, `=XX` bytes put
/// back), so a sentence can be looked for whole.
fn quoted_printable_decoded(mail: &str) -> String {
    let joined = mail.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes.get(at + 1..at + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[at], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A header's value, unfolded.
fn header(mail: &str, name: &str) -> Option<String> {
    let unfolded = mail.replace("\r\n ", " ").replace("\n ", " ").replace("\r\n\t", " ").replace("\n\t", " ");
    let prefix = format!("{name}: ");
    unfolded.lines().take_while(|line| !line.is_empty()).find_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
}

#[test]
fn a_test_mail_queued_while_smtp_is_down_is_sent_once_it_is_up() {
    let port = free_port();
    let config_dir = tempfile::tempdir().unwrap();
    let config = mail_config(config_dir.path(), port);
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

#[test]
fn issue_mail_reaches_those_who_may_see_it_threaded_and_once() {
    let port = free_port();
    let config_dir = tempfile::tempdir().unwrap();
    let config = mail_config(config_dir.path(), port);
    let server = Server::start_with(&["--config", &config]);
    let root = server.admin_token("root");
    let mut ids = std::collections::HashMap::new();
    for name in ["ada", "bob", "carol"] {
        server.user_token(name, "api");
        let user = server.get(&format!("/api/v4/users?username={name}"), &root).json::<serde_json::Value>().unwrap();
        ids.insert(name, user[0]["id"].as_i64().unwrap());
    }
    let project = server.post_json("/api/v4/projects", &root, &serde_json::json!({"name": "Plans"}));
    assert!(project.status().is_success());
    let project = project.json::<serde_json::Value>().unwrap()["id"].as_i64().unwrap();
    for (name, level) in [("ada", 30), ("bob", 10)] {
        let body = serde_json::json!({"user_id": ids[name], "access_level": level});
        assert!(server.post_json(&format!("/api/v4/projects/{project}/members"), &root, &body).status().is_success());
    }
    let issues = format!("/api/v4/projects/{project}/issues");

    // While the SMTP server is down: an issue assigned to Ada that mentions Bob; a confidential
    // one mentioning Bob (a Guest) and Carol (no member), which neither may read; a comment
    // mentioning Carol; and the first issue closed.
    let body = serde_json::json!({"title": "Ship it", "description": "@bob have a look", "assignee_ids": [ids["ada"]]});
    assert!(server.post_json(&issues, &root, &body).status().is_success());
    let body = serde_json::json!({"title": "Secret plan", "description": "@bob @carol", "confidential": true});
    assert!(server.post_json(&issues, &root, &body).status().is_success());
    let body = serde_json::json!({"body": "@carol see this, it is **done**"});
    assert!(server.post_json(&format!("{issues}/1/notes"), &root, &body).status().is_success());
    let closed = server.put_json(&format!("{issues}/1"), &root, &serde_json::json!({"state_event": "close"}));
    assert!(closed.status().is_success());
    std::thread::sleep(Duration::from_secs(2));

    let mail_home = tempfile::tempdir().unwrap();
    let maildir = mail_home.path().join("mail");
    let _smtp = SmtpServer::start(port, &maildir);
    let mails = wait_for_mails(&maildir, 6);
    let to = |who: &str| -> Vec<&String> {
        mails.iter().filter(|mail| header(mail, "To").as_deref() == Some(&format!("{who}@example.com"))).collect()
    };
    assert_eq!((to("ada").len(), to("bob").len(), to("carol").len()), (3, 3, 0), "{mails:#?}");
    for mail in &mails {
        assert!(
            !mail.contains("Secret plan") && !mail.contains("secret"),
            "nothing of the confidential issue:\n{mail}"
        );
        assert!(header(mail, "Subject").is_some_and(|s| s.contains("root/plans | Ship it (#1)")), "{mail}");
        assert!(header(mail, "List-Unsubscribe").is_some_and(|value| value.contains("/-/unsubscribe/")), "{mail}");
        assert_eq!(header(mail, "Auto-Submitted").as_deref(), Some("auto-generated"));
    }
    // Threaded: the first mail about the issue starts the thread the others reply in.
    let first: Vec<&String> = to("ada").into_iter().filter(|mail| header(mail, "In-Reply-To").is_none()).collect();
    assert_eq!(first.len(), 1, "one mail starts the thread");
    let thread = header(first[0], "Message-ID").unwrap();
    assert!(thread.starts_with("<issue_") && thread.ends_with("@example.com>"), "{thread}");
    let replies: Vec<&String> = to("ada").into_iter().filter(|mail| header(mail, "In-Reply-To").is_some()).collect();
    assert_eq!(replies.len(), 2);
    for mail in replies {
        assert_eq!(header(mail, "In-Reply-To").as_ref(), Some(&thread));
        assert!(header(mail, "Subject").unwrap().starts_with("Re: "));
    }
    let all_ada = to("ada").iter().map(|mail| mail.as_str()).collect::<Vec<_>>().join("\n");
    assert!(all_ada.contains("you are assigned to this issue"), "{all_ada}");
    let all_bob = to("bob").iter().map(|mail| mail.as_str()).collect::<Vec<_>>().join("\n");
    assert!(all_bob.contains("you were mentioned in this issue"), "{all_bob}");
    assert!(all_bob.contains("closed the issue"), "{all_bob}");

    // Ada follows her unsubscribe link as a mail client does (RFC 8058's one-click POST, no
    // cookies): the next comment reaches Bob alone.
    let link = header(to("ada")[0], "List-Unsubscribe").unwrap();
    let path =
        link.trim_matches(['<', '>']).split_once("/-/unsubscribe/").map(|(_, key)| format!("/-/unsubscribe/{key}"));
    let client = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let followed = client
        .post(format!("{}{}", server.base_url, path.unwrap()))
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .unwrap();
    assert_eq!(followed.status(), reqwest::StatusCode::SEE_OTHER);
    let body = serde_json::json!({"body": "one more thing"});
    assert!(server.post_json(&format!("{issues}/1/notes"), &root, &body).status().is_success());
    let mails = wait_for_mails(&maildir, 7);
    let last: Vec<&String> = mails.iter().filter(|mail| mail.contains("one more thing")).collect();
    assert_eq!(last.len(), 1);
    assert_eq!(header(last[0], "To").as_deref(), Some("bob@example.com"));
}

#[test]
fn label_subscribers_hear_of_issues_that_get_their_label_and_only_those_they_may_read() {
    let port = free_port();
    let config_dir = tempfile::tempdir().unwrap();
    let config = mail_config(config_dir.path(), port);
    let mail_home = tempfile::tempdir().unwrap();
    let maildir = mail_home.path().join("mail");
    let _smtp = SmtpServer::start(port, &maildir);
    let server = Server::start_with(&["--config", &config]);
    let root = server.admin_token("root");
    let mut tokens = std::collections::HashMap::new();
    for name in ["dora", "gus"] {
        tokens.insert(name, server.user_token(name, "api"));
    }
    let project = server.post_json("/api/v4/projects", &root, &serde_json::json!({"name": "Tracker"}));
    let project = project.json::<serde_json::Value>().unwrap()["id"].as_i64().unwrap();
    for (name, level) in [("dora", 20), ("gus", 10)] {
        let user = server.get(&format!("/api/v4/users?username={name}"), &root).json::<serde_json::Value>().unwrap();
        let body = serde_json::json!({"user_id": user[0]["id"], "access_level": level});
        assert!(server.post_json(&format!("/api/v4/projects/{project}/members"), &root, &body).status().is_success());
    }
    for name in ["bug", "docs"] {
        let body = serde_json::json!({"name": name});
        assert!(server.post_json(&format!("/api/v4/projects/{project}/labels"), &root, &body).status().is_success());
    }
    for name in ["dora", "gus"] {
        let subscribed = server.post_json(
            &format!("/api/v4/projects/{project}/labels/bug/subscribe"),
            &tokens[name],
            &serde_json::json!({}),
        );
        assert_eq!(subscribed.status(), reqwest::StatusCode::CREATED);
    }

    // An issue opened with the label; one without, then given it; a confidential one with it
    // (Dora, a Reporter, may read it; Gus, a Guest, may not); a comment tells no subscriber.
    let issues = format!("/api/v4/projects/{project}/issues");
    let body = serde_json::json!({"title": "Crash on start", "labels": "bug"});
    assert!(server.post_json(&issues, &root, &body).status().is_success());
    let body = serde_json::json!({"title": "Readme typo", "labels": "docs"});
    assert!(server.post_json(&issues, &root, &body).status().is_success());
    let labelled = server.put_json(&format!("{issues}/2"), &root, &serde_json::json!({"add_labels": "bug"}));
    assert!(labelled.status().is_success());
    let body = serde_json::json!({"title": "Secret hole", "labels": "bug", "confidential": true});
    assert!(server.post_json(&issues, &root, &body).status().is_success());
    let body = serde_json::json!({"body": "looking into it"});
    assert!(server.post_json(&format!("{issues}/1/notes"), &root, &body).status().is_success());

    let mails: Vec<String> = wait_for_mails(&maildir, 5).iter().map(|mail| quoted_printable_decoded(mail)).collect();
    let to = |who: &str| -> Vec<&String> {
        mails.iter().filter(|mail| header(mail, "To").as_deref() == Some(&format!("{who}@example.com"))).collect()
    };
    assert_eq!((to("dora").len(), to("gus").len()), (3, 2), "{mails:#?}");
    for mail in &mails {
        assert!(mail.contains("you subscribed to a label of this issue"), "{mail}");
        assert!(!mail.contains("looking into it"), "comments are not for label subscribers: {mail}");
    }
    for mail in to("gus") {
        assert!(!mail.contains("Secret hole"), "nothing of the confidential issue for a Guest: {mail}");
    }
    let typo: Vec<&String> = to("dora").into_iter().filter(|mail| mail.contains("Readme typo")).collect();
    assert_eq!(typo.len(), 1);
    assert!(typo[0].contains("added the label ~\"bug\""), "{}", typo[0]);
}
