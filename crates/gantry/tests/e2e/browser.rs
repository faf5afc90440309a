//! A real headless Chromium, driven through chromedriver, using a real `gantry serve`: a
//! newcomer signs up, creates a group, a subgroup and a project and looks at the dashboard;
//! and someone browses a real repository (tree, highlighted file, line range, blame, history,
//! a commit's diff). Screenshots land in `test-output/screenshots/` at the workspace root.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::server::Server;

/// chromedriver on a free loopback port, killed when dropped.
pub(crate) struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    /// Starts chromedriver and waits until its `/status` says it is ready. Tests running beside
    /// this one pick free ports too, so a port taken meanwhile means trying another.
    pub(crate) fn start() -> ChromeDriver {
        let binary = std::env::var("GANTRY_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let client = crate::http_client().timeout(Duration::from_secs(5)).build().unwrap();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut child = Command::new(&binary)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|error| {
                    panic!("cannot start {binary} ({error}); scripts/test installs chromium and chromium-driver")
                });
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
                let ready = client
                    .get(format!("{url}/status"))
                    .send()
                    .ok()
                    .and_then(|response| response.json::<serde_json::Value>().ok())
                    .is_some_and(|status| status["value"]["ready"] == true);
                if ready {
                    return ChromeDriver { child, url };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("chromedriver did not become ready");
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-output/screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) async fn browser(driver: &ChromeDriver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,900",
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(capabilities).connect(&driver.url).await.expect("a Chromium session")
}

pub(crate) async fn fill(client: &Client, field: &str, value: &str) {
    // A page a script is still replacing (a form posted in the background, then a reload) can
    // take the field away between finding it and typing: find it again.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let typed = async {
            let input = client.find(Locator::Id(field)).await?;
            input.clear().await?;
            input.send_keys(value).await
        };
        match typed.await {
            Ok(()) => return,
            Err(error) if Instant::now() >= deadline => panic!("field #{field}: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub(crate) async fn submit(client: &Client) {
    client.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
}

/// Waits until the element `css` selects holds `expected` in its text (a click or a script
/// changes the page asynchronously); returns the whole text.
pub(crate) async fn wait_for_text(client: &Client, css: &str, expected: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(expected) {
            return text;
        }
        assert!(Instant::now() < deadline, "{css} reads {text:?}, without {expected:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for the page's heading to read `expected` (a click navigates asynchronously).
pub(crate) async fn expect_heading(client: &Client, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = match client.find(Locator::Css("main h1")).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text == expected {
            return;
        }
        assert!(Instant::now() < deadline, "expected heading {expected:?}, page shows {text:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(screenshot_dir().join(name), png).unwrap();
}

async fn sign_up_and_create_a_project(client: &Client, base: &str) {
    client.goto(&format!("{base}/users/sign_up")).await.unwrap();
    fill(client, "name", "Ada Lovelace").await;
    fill(client, "username", "ada").await;
    fill(client, "email", "ada@example.com").await;
    fill(client, "password", "correct horse battery").await;
    submit(client).await;
    expect_heading(client, "Your projects").await;

    client.find(Locator::LinkText("New group")).await.unwrap().click().await.unwrap();
    expect_heading(client, "New group").await;
    fill(client, "name", "Acme").await;
    submit(client).await;
    expect_heading(client, "Acme").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/acme");

    client.find(Locator::LinkText("New subgroup")).await.unwrap().click().await.unwrap();
    expect_heading(client, "New subgroup of acme").await;
    fill(client, "name", "Platform").await;
    submit(client).await;
    expect_heading(client, "Platform").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/acme/platform");

    client.find(Locator::Css("main a.button.primary")).await.unwrap().click().await.unwrap();
    expect_heading(client, "New project").await;
    fill(client, "name", "API server").await;
    fill(client, "description", "Serves the public API").await;
    submit(client).await;
    expect_heading(client, "API server").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/acme/platform/api-server");
    let page = client.source().await.unwrap();
    assert!(page.contains("/acme/platform/api-server.git"), "the empty project shows clone instructions");
    save_screenshot(client, "project.png").await;

    client.goto(&format!("{base}/dashboard")).await.unwrap();
    let projects = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(projects.contains("API server") && projects.contains("Acme"), "the dashboard lists them: {projects}");
    save_screenshot(client, "dashboard.png").await;

    // Signing out and back in with the same password works from the header.
    client.find(Locator::Css("form[action='/users/sign_out'] button")).await.unwrap().click().await.unwrap();
    expect_heading(client, "Sign in").await;
    fill(client, "login", "ada").await;
    fill(client, "password", "correct horse battery").await;
    submit(client).await;
    expect_heading(client, "Your projects").await;
}

/// Runs `flow` in a fresh Chromium session against `server`; on a failure, a screenshot of
/// where it stopped is saved as `failure_name`.
pub(crate) fn in_chromium<F, Fut>(server: &Server, failure_name: &'static str, flow: F)
where
    F: FnOnce(Client, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let driver = ChromeDriver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = browser(&driver).await;
        let outcome = tokio::spawn(flow(client.clone(), server.base_url.clone())).await;
        if outcome.is_err() {
            save_screenshot(&client, failure_name).await;
        }
        client.close().await.unwrap();
        outcome.expect("the browser flow");
    });
}

#[test]
fn a_newcomer_signs_up_and_creates_a_group_and_a_project_in_chromium() {
    let server = Server::start();
    in_chromium(
        &server,
        "failure.png",
        |client, base| async move { sign_up_and_create_a_project(&client, &base).await },
    );
}

/// Builds a repository from this workspace's gantry-git sources in three commits and pushes
/// it to a new public project `root/gantry-git`.
pub(crate) fn push_a_real_repository(server: &Server, token: &str) {
    let created =
        server.post_json("/api/v4/projects", token, &serde_json::json!({"name": "gantry-git", "visibility": "public"}));
    assert_eq!(created.status(), 201);
    let work = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(["-c", "user.name=Ada", "-c", "user.email=ada@example.com", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(work.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    git(&["init", "-q"]);
    let sources = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../gantry-git"));
    std::fs::create_dir_all(work.path().join("src")).unwrap();
    std::fs::copy(sources.join("README.md"), work.path().join("README.md")).unwrap();
    let mut files: Vec<_> =
        std::fs::read_dir(sources.join("src")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    for (n, chunk) in files.chunks(files.len().div_ceil(3)).enumerate() {
        for file in chunk {
            std::fs::copy(file, work.path().join("src").join(file.file_name().unwrap())).unwrap();
        }
        git(&["add", "."]);
        git(&["commit", "-q", "-m", &format!("Add part {} of the sources", n + 1)]);
    }
    let host = server.base_url.trim_start_matches("http://");
    git(&["push", "-q", &format!("http://root:{token}@{host}/root/gantry-git.git"), "main"]);
}

async fn browse_code(client: &Client, base: &str) {
    client.goto(&format!("{base}/root/gantry-git/-/tree/main")).await.unwrap();
    client.wait().for_element(Locator::LinkText("src")).await.unwrap();
    // The last commits arrive from a second request.
    client.wait().for_element(Locator::Css("td.last-commit a")).await.unwrap();
    save_screenshot(client, "code-tree.png").await;

    client.find(Locator::LinkText("src")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::LinkText("refcheck.rs")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Css("table.code td.line span[class^=h]")).await.expect("highlighted code");
    client.goto(&format!("{base}/root/gantry-git/-/blob/main/src/refcheck.rs#L10-16")).await.unwrap();
    client.wait().for_element(Locator::Css("tr#L13.marked")).await.expect("a line range is marked");
    save_screenshot(client, "code-file.png").await;

    client.find(Locator::LinkText("Blame")).await.unwrap().click().await.unwrap();
    let who = client.wait().for_element(Locator::Css("table.blame td.who a")).await.unwrap();
    assert!(who.text().await.unwrap().contains("Add part"), "blame names the commit");
    save_screenshot(client, "code-blame.png").await;

    client.goto(&format!("{base}/root/gantry-git/-/commits/main")).await.unwrap();
    let newest = client.wait().for_element(Locator::LinkText("Add part 3 of the sources")).await.unwrap();
    save_screenshot(client, "code-history.png").await;
    newest.click().await.unwrap();
    client.wait().for_element(Locator::Css("table.diff tr.add")).await.expect("the commit's diff");
    save_screenshot(client, "code-commit.png").await;
}

#[test]
fn the_code_browser_shows_a_real_repository_in_chromium() {
    let server = Server::start();
    let token = server.admin_token("root");
    push_a_real_repository(&server, &token);
    in_chromium(&server, "code-failure.png", |client, base| async move { browse_code(&client, &base).await });
}

/// A CI file whose first job writes its log slowly, with colours and a section, and a second
/// stage whose job needs it and reports JUnit results (one failing test) and an archive.
const LIVE_CI: &str = r#"stages: [build, test]
counting:
  stage: build
  script:
    - printf '\033[33mwarming up\033[0m\n'
    - for i in $(seq 1 25); do echo "line $i"; sleep 0.2; done
checking:
  stage: test
  needs: [counting]
  script:
    - echo checked
    - printf '<testsuite name="unit"><testcase classname="calc" name="adds" time="0.2"/><testcase classname="calc" name="divides" time="0.1"><failure message="off by one">expected 2, got 3</failure></testcase></testsuite>' > report.xml
  artifacts:
    paths: [report.xml]
    reports:
      junit: report.xml
"#;

#[test]
fn a_job_log_streams_live_and_the_pipeline_graph_shows_needs_in_chromium() {
    let server = Server::start();
    let token = server.admin_token("root");
    let created =
        server.post_json("/api/v4/projects", &token, &serde_json::json!({"name": "live", "visibility": "public"}));
    assert_eq!(created.status(), 201);
    let path = crate::ci_pipelines::push_project_to(&server, &token, "root/live", &[(".gitlab-ci.yml", LIVE_CI)]);
    let pipeline = crate::ci_pipelines::wait_for_pipeline(&server, &token, &path, |p| p["status"] == "running");
    let id = pipeline["id"].as_i64().unwrap();
    let jobs = crate::ci_pipelines::jobs(&server, &token, &path, id);
    let counting = jobs.iter().find(|j| j["name"] == "counting").unwrap()["id"].as_i64().unwrap();
    in_chromium(&server, "failure-ci.png", move |client, base| async move {
        client.goto(&format!("{base}/{path}/-/jobs/{counting}")).await.unwrap();
        // Lines arrive while the page is open, without a reload.
        let log = client.find(Locator::Id("job-log")).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen_partial = false;
        loop {
            let text = log.text().await.unwrap_or_default();
            if text.contains("line 3") && !text.contains("line 25") {
                seen_partial = true;
                save_screenshot(&client, "job-live.png").await;
            }
            if text.contains("line 25") {
                break;
            }
            assert!(Instant::now() < deadline, "the log did not stream: {text}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(seen_partial, "the log was seen growing");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let status = client.find(Locator::Id("job-status")).await.unwrap().text().await.unwrap();
            if status == "passed" {
                break;
            }
            assert!(Instant::now() < deadline, "the status did not turn to passed: {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let html = client.source().await.unwrap();
        assert!(html.contains("class=\"fg3\">warming up"), "colours are rendered");
        assert!(html.contains("section-header"), "sections are rendered");
        save_screenshot(&client, "job-finished.png").await;

        client.goto(&format!("{base}/{path}/-/pipelines/{id}")).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let cards = client.find_all(Locator::Css(".job-card")).await.unwrap();
            let lines = client.find_all(Locator::Css(".needs-lines path")).await.unwrap();
            if cards.len() == 2 && lines.len() == 1 {
                break;
            }
            assert!(Instant::now() < deadline, "the graph shows {} jobs and {} lines", cards.len(), lines.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
            client.refresh().await.unwrap();
        }
        save_screenshot(&client, "pipeline-graph.png").await;

        // The commit list shows the pipeline's status, and the README badge tells it too.
        client.goto(&format!("{base}/{path}/-/pipelines/{id}")).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while !client.source().await.unwrap().contains("id=\"pipeline-status\">passed") {
            assert!(Instant::now() < deadline, "the pipeline did not pass");
            tokio::time::sleep(Duration::from_millis(100)).await;
            client.refresh().await.unwrap();
        }
        client.goto(&format!("{base}/{path}/-/commits/main")).await.unwrap();
        let commits = client.source().await.unwrap();
        assert!(commits.contains("class=\"status passed\""), "the commit shows its pipeline's status");
        gantry_runner::install_crypto_provider();
        let badge = reqwest::get(format!("{base}/{path}/-/badges/main/pipeline.svg")).await.unwrap();
        assert_eq!(badge.headers()["content-type"], "image/svg+xml; charset=utf-8");
        assert!(badge.text().await.unwrap().contains(">passed</text>"));

        // The Tests tab: counts, the failing test with its output; the job's artifacts browsed.
        client.goto(&format!("{base}/{path}/-/pipelines/{id}")).await.unwrap();
        let tab = client.find(Locator::Id("tests-tab")).await.unwrap();
        assert!(tab.text().await.unwrap().contains('2'), "the tab counts the tests");
        tab.click().await.unwrap();
        let summary = client.find(Locator::Id("test-summary")).await.unwrap().text().await.unwrap();
        assert!(summary.contains("2 tests") && summary.contains("1 failures"), "{summary}");
        let suite = client.find(Locator::Css(".test-suite")).await.unwrap().text().await.unwrap();
        assert!(suite.contains("divides") && suite.contains("expected 2, got 3"), "{suite}");
        save_screenshot(&client, "pipeline-tests.png").await;
        let checking = client.find(Locator::Css(".test-suite h3 a")).await.unwrap();
        checking.click().await.unwrap();
        client.find(Locator::LinkText("Browse")).await.unwrap().click().await.unwrap();
        let files = client.find(Locator::Id("artifact-files")).await.unwrap().text().await.unwrap();
        assert!(files.contains("report.xml"), "{files}");
        save_screenshot(&client, "job-artifacts.png").await;
    });
}

/// A first job with a section collapsed from its start (written as GitLab's documentation
/// writes it) that takes a few seconds, and a second stage after it.
const SECTIONS_CI: &str = r#"stages: [build, test]
sections:
  stage: build
  script:
    - printf '\033[0Ksection_start:%s:setup[collapsed=true]\r\033[0KPreparing things\n' "$(date +%s)"
    - echo folded away
    - printf '\033[0Ksection_end:%s:setup\r\033[0K\n' "$(date +%s)"
    - sleep 4
    - echo in plain sight
checking:
  stage: test
  script: echo checked
"#;

/// The text of the element `css` selects, or nothing while there is none.
async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until the element `css` selects reads `expected`, without reloading the page.
async fn wait_for_exact_text(client: &Client, css: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = text_of(client, css).await;
        if text == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{css} reads {text:?}, not {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn the_pipeline_page_follows_its_jobs_sections_fold_and_the_lint_page_points_at_lines_in_chromium() {
    let server = Server::start();
    let token = server.admin_token("root");
    let created =
        server.post_json("/api/v4/projects", &token, &serde_json::json!({"name": "folding", "visibility": "public"}));
    assert_eq!(created.status(), 201);
    let path =
        crate::ci_pipelines::push_project_to(&server, &token, "root/folding", &[(".gitlab-ci.yml", SECTIONS_CI)]);
    let pipeline = crate::ci_pipelines::wait_for_pipeline(&server, &token, &path, |p| p["status"] == "running");
    let id = pipeline["id"].as_i64().unwrap();
    let jobs = crate::ci_pipelines::jobs(&server, &token, &path, id);
    let sections = jobs.iter().find(|j| j["name"] == "sections").unwrap()["id"].as_i64().unwrap();
    in_chromium(&server, "failure-live-pipeline.png", move |client, base| async move {
        // The page follows the pipeline without a reload: a mark left in the page survives.
        client.goto(&format!("{base}/{path}/-/pipelines/{id}")).await.unwrap();
        client.execute("window.stillTheSamePage = true;", vec![]).await.unwrap();
        let sections_card = ".job-card[data-name='sections'] .status";
        assert_ne!(text_of(&client, sections_card).await, "passed", "the first job is still running");
        save_screenshot(&client, "pipeline-live-running.png").await;
        wait_for_exact_text(&client, sections_card, "passed").await;
        wait_for_exact_text(&client, "#pipeline-status", "passed").await;
        let same = client.execute("return window.stillTheSamePage === true;", vec![]).await.unwrap();
        assert_eq!(same, serde_json::json!(true), "the page was not reloaded");
        let buttons = client.find(Locator::Css("#pipeline-live .actions")).await.unwrap().text().await.unwrap();
        assert!(!buttons.contains("Cancel"), "a passed pipeline has nothing to cancel: {buttons}");
        save_screenshot(&client, "pipeline-live-passed.png").await;

        // The section collapsed from its start is collapsed, shows its duration, and opens.
        client.goto(&format!("{base}/{path}/-/jobs/{sections}")).await.unwrap();
        let header = client.wait().for_element(Locator::Css(".section-header[data-section='setup']")).await.unwrap();
        assert!(header.attr("class").await.unwrap().unwrap_or_default().contains("collapsed"));
        assert_eq!(header.attr("aria-expanded").await.unwrap().as_deref(), Some("false"));
        let duration = header.find(Locator::Css(".section-duration")).await.unwrap().text().await.unwrap();
        assert!(duration.starts_with("00:0"), "GitLab's mm:ss: {duration:?}");
        let folded = client.find(Locator::XPath("//div[contains(@class,'log-line')][contains(.,'folded away')]")).await;
        let folded = folded.expect("the section's line is in the page");
        assert!(!folded.is_displayed().await.unwrap(), "the collapsed section's line is hidden");
        let plain = client.find(Locator::XPath("//div[contains(@class,'log-line')][contains(.,'in plain sight')]"));
        assert!(plain.await.unwrap().is_displayed().await.unwrap());
        save_screenshot(&client, "job-section-collapsed.png").await;
        header.click().await.unwrap();
        assert!(folded.is_displayed().await.unwrap(), "a click opens the section");

        // The lint page marks the line of an error.
        client.goto(&format!("{base}/{path}/-/pipelines")).await.unwrap();
        client.find(Locator::LinkText("CI lint")).await.unwrap().click().await.unwrap();
        let content = client.wait().for_element(Locator::Id("content")).await.unwrap();
        assert!(content.prop("value").await.unwrap().unwrap_or_default().contains("sections:"), "the project's file");
        content.clear().await.unwrap();
        content.send_keys("build:\n  script: make\n  colour: red\n").await.unwrap();
        client.find(Locator::Css("#ci-lint-form button[type=submit]")).await.unwrap().click().await.unwrap();
        let line = client.wait().for_element(Locator::Css("tr#lint-L3.error")).await.expect("line 3 is marked");
        assert!(line.text().await.unwrap().contains("colour: red"));
        let message = client.find(Locator::Css("tr.lint-message.error[data-line='3']")).await.unwrap();
        let message = message.text().await.unwrap();
        assert!(message.contains("column 3") && message.contains("colour"), "{message}");
        save_screenshot(&client, "ci-lint-error.png").await;
    });
}
