//! The dead ends a team's first hour in the web UI used to find: refs with slashes on every page
//! and in the API, Markdown's relative links and images, a way back after signing in from a
//! private page, large files and binary ones, copy buttons, confirmations before transferring a
//! project or deleting a branch, branch names that lead to their files, errors as sentences.

use std::path::Path;

use axum::http::{Method, StatusCode};
use gantry_core::ci::create::PipelineRequest;
use serde_json::json;

use crate::support::{TestApp, TestUser};

fn git(dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .args(["-c", "user.name=Ada", "-c", "user.email=ada@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// How many lines the large file of [`project`] has.
const LARGE_LINES: usize = 12_000;

/// A project `lead/site` (public or private) with a README of relative links, docs, an image,
/// a binary file, a 12,000-line Rust file, the branch `feature/a` (one commit ahead of `main`)
/// and the tag `release/1.0` (on `main`). Returns the project's id and `feature/a`'s commit.
async fn project(app: &TestApp, lead: &TestUser, visibility: &str) -> (i64, String) {
    let body = json!({"name": "Site", "initialize_with_readme": true, "visibility": visibility});
    let created = app.api(Method::POST, "/api/v4/projects", Some(&lead.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let bare = app.core.repos().path(gantry_types::ProjectId(id));
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["clone", "-q", bare.to_str().unwrap(), "w"]);
    let w = work.path().join("w");
    for dir in ["docs/guide", "img", "src"] {
        std::fs::create_dir_all(w.join(dir)).unwrap();
    }
    std::fs::write(
        w.join("README.md"),
        "# Site\n\n![logo](img/logo.png)\n\n[docs](docs/guide.md) [up](../../../etc/passwd) \
         [folder](docs/) [web](https://example.com/x) [anchor](#usage) [mail](mailto:ada@example.com)\n\n\
         <img src=\"./img/logo.png\" onerror=\"alert(1)\"><script>alert(1)</script>\n",
    )
    .unwrap();
    std::fs::write(
        w.join("docs/guide/index.md"),
        "# Guide\n\n![shot](../../img/logo.png) [back](../../README.md) [main](/src/main.rs)\n",
    )
    .unwrap();
    std::fs::write(w.join("docs/guide.md"), "# Guide\n").unwrap();
    std::fs::write(w.join("img/logo.png"), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").unwrap();
    std::fs::write(w.join("data.bin"), b"\x00\x01\x02binary\x00").unwrap();
    let large: String = (1..=LARGE_LINES).map(|n| format!("fn line_{n}() -> u32 {{ {n} }} // line {n}\n")).collect();
    std::fs::write(w.join("src/large.rs"), large).unwrap();
    std::fs::write(w.join("src/main.rs"), "fn main() {\n    println!(\"hi\");\n}\n").unwrap();
    std::fs::write(w.join(".gitlab-ci.yml"), "build:\n  script: echo hi\n").unwrap();
    git(&w, &["add", "."]);
    git(&w, &["commit", "-q", "-m", "Add the site"]);
    git(&w, &["tag", "release/1.0"]);
    git(&w, &["checkout", "-q", "-b", "feature/a"]);
    std::fs::write(w.join("src/main.rs"), "fn main() {\n    println!(\"hello\"); // greet\n}\n").unwrap();
    git(&w, &["commit", "-q", "-am", "Greet on feature/a"]);
    let feature = git(&w, &["rev-parse", "HEAD"]);
    git(&w, &["push", "-q", "origin", "main", "feature/a", "release/1.0"]);
    (id, feature)
}

#[tokio::test]
async fn refs_with_slashes_work_on_every_page_and_in_the_api() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let (_, feature) = project(&app, &lead, "public").await;
    let get = |path: &'static str| app.page(Method::GET, path, None, None);

    let compare = get("/lead/site/-/compare/release/1.0...feature/a").await;
    assert_eq!(compare.status, StatusCode::OK, "{}", compare.body);
    assert!(compare.body.contains("1 commit") && compare.body.contains("Greet on feature/a"), "{}", compare.body);
    let form = get("/lead/site/-/compare?from=release/1.0&to=feature/a").await;
    assert_eq!(form.header("location"), "/lead/site/-/compare/release/1.0...feature/a");
    for (path, expected) in [
        ("/lead/site/-/tree/feature/a/src", "main.rs"),
        ("/lead/site/-/tree/release/1.0", "README.md"),
        ("/lead/site/-/blob/feature/a/src/main.rs", "greet"),
        ("/lead/site/-/raw/feature/a/src/main.rs", "hello"),
        ("/lead/site/-/blame/feature/a/src/main.rs", "Greet on feature/a"),
        ("/lead/site/-/commits/feature/a", "Greet on feature/a"),
        ("/lead/site/-/commits/release/1.0/src", "Add the site"),
        ("/lead/site/-/branches?search=feature/a", "feature/a"),
        ("/lead/site/-/tags?search=release/1.0", "release/1.0"),
        ("/lead/site/-/pipelines?ref=feature/a", "Pipelines"),
        ("/lead/site/-/archive/feature/a/site-feature-a.zip", "site-feature-a/src/main.rs"),
        ("/lead/site/-/archive/release/1.0/site-release-1.0.tar", "site-release-1.0/README.md"),
    ] {
        let page = get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(page.body.contains(expected), "{path} shows {expected}");
    }
    let badge = get("/lead/site/-/badges/feature/a/pipeline.svg").await;
    assert_eq!(badge.status, StatusCode::OK);

    let t = Some(lead.token.as_str());
    let base = "/api/v4/projects/lead%2Fsite/repository";
    for (path, expected) in [
        (format!("{base}/branches/feature%2Fa"), feature.clone()),
        (format!("{base}/tags/release%2F1.0"), "release/1.0".to_owned()),
        (format!("{base}/commits/feature%2Fa"), feature.clone()),
        (format!("{base}/compare?from=release/1.0&to=feature/a"), "Greet on feature/a".to_owned()),
        (format!("{base}/compare?from=release%2F1.0&to=feature%2Fa"), "Greet on feature/a".to_owned()),
        (format!("{base}/files/src%2Fmain.rs/raw?ref=feature/a"), "hello".to_owned()),
        (format!("{base}/files/src%2Fmain.rs?ref=feature%2Fa"), feature.clone()),
        (format!("{base}/tree?ref=release/1.0&path=src"), "src/large.rs".to_owned()),
        (format!("{base}/commits?ref_name=feature/a"), feature.clone()),
        (format!("{base}/archive.zip?sha=feature/a"), "src/main.rs".to_owned()),
    ] {
        let answer = app.api(Method::GET, &path, t, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        assert!(answer.body.contains(&expected), "{path} has {expected}: {}", answer.body);
    }
}

#[tokio::test]
async fn markdown_links_and_images_lead_into_the_repository_at_the_same_ref() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    project(&app, &lead, "public").await;

    let overview = app.page(Method::GET, "/lead/site", None, None).await;
    for expected in [
        "src=\"/lead/site/-/raw/main/img/logo.png\"",
        "href=\"/lead/site/-/blob/main/docs/guide.md\"",
        "href=\"/lead/site/-/blob/main/etc/passwd\"",
        "href=\"/lead/site/-/tree/main/docs\"",
        "href=\"https://example.com/x\"",
        "href=\"#usage\"",
        "href=\"mailto:ada@example.com\"",
    ] {
        assert!(overview.body.contains(expected), "the overview's README has {expected}: {}", overview.body);
    }
    assert!(!overview.body.contains("onerror") && !overview.body.contains("<script>alert"), "still sanitised");

    let tree = app.page(Method::GET, "/lead/site/-/tree/feature/a", None, None).await;
    assert!(tree.body.contains("src=\"/lead/site/-/raw/feature/a/img/logo.png\""), "{}", tree.body);
    assert!(tree.body.contains("href=\"/lead/site/-/blob/feature/a/docs/guide.md\""));

    let guide = app.page(Method::GET, "/lead/site/-/blob/release/1.0/docs/guide/index.md", None, None).await;
    for expected in [
        "src=\"/lead/site/-/raw/release/1.0/img/logo.png\"",
        "href=\"/lead/site/-/blob/release/1.0/README.md\"",
        "href=\"/lead/site/-/blob/release/1.0/src/main.rs\"",
    ] {
        assert!(guide.body.contains(expected), "the guide has {expected}: {}", guide.body);
    }
    let image = app.page(Method::GET, "/lead/site/-/raw/release/1.0/img/logo.png", None, None).await;
    assert_eq!((image.status, image.header("content-type")), (StatusCode::OK, "image/png"));
}

#[tokio::test]
async fn signed_out_visitors_of_private_pages_can_sign_in_and_come_back() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let stranger = app.user("stranger").await;
    project(&app, &lead, "private").await;

    let hidden = app.page(Method::GET, "/lead/site/-/tree/feature/a?x=1", None, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let back = "/users/sign_in?redirect_to=%2Flead%2Fsite%2F%2D%2Ftree%2Ffeature%2Fa%3Fx%3D1";
    assert!(hidden.body.contains(&format!("href=\"{}\"", back.replace('&', "&amp;"))), "{}", hidden.body);
    assert!(hidden.body.contains("class=\"topbar\"") && hidden.body.contains("href=\"/explore\""), "the top bar stays");

    let form = app.page(Method::GET, back, None, None).await;
    assert!(form.body.contains("value=\"/lead/site/-/tree/feature/a?x=1\""), "{}", form.body);
    let fields =
        [("login", "lead"), ("password", crate::support::PASSWORD), ("redirect_to", "/lead/site/-/tree/feature/a?x=1")];
    let signed_in = app.page(Method::POST, "/users/sign_in", None, Some(&fields)).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
    assert_eq!(signed_in.header("location"), "/lead/site/-/tree/feature/a?x=1");
    for foreign in ["//evil.example/x", "https://evil.example/x", "/\\evil.example", "evil"] {
        let fields = [("login", "lead"), ("password", crate::support::PASSWORD), ("redirect_to", foreign)];
        let refused = app.page(Method::POST, "/users/sign_in", None, Some(&fields)).await;
        assert_eq!(refused.header("location"), "/dashboard", "{foreign} is not followed");
    }

    let dashboard = app.page(Method::GET, "/dashboard", None, None).await;
    assert_eq!(dashboard.header("location"), "/users/sign_in?redirect_to=%2Fdashboard");

    for path in ["/lead/site/-/tree/main", "/no/such/page", "/lead/site/-/nothing-here"] {
        let page = app.page(Method::GET, path, Some(&stranger), None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.body.contains("href=\"/-/profile\"") && page.body.contains("stranger"), "{path}: the menu");
        assert!(!page.body.contains("Sign in"), "{path}: no sign-in for a signed-in visitor: {}", page.body);
    }
}

#[tokio::test]
async fn large_files_show_their_start_and_binary_files_offer_no_blame() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let (_, feature) = project(&app, &lead, "public").await;

    let large = app.page(Method::GET, "/lead/site/-/blob/main/src/large.rs", None, None).await;
    assert_eq!(large.status, StatusCode::OK);
    assert!(large.body.len() < 300 * 1024, "the page is {} bytes", large.body.len());
    assert!(large.body.contains("id=\"L1000\"") && !large.body.contains("id=\"L1001\""));
    assert!(large.body.contains("12000 lines") && large.body.contains("id=\"large-file-note\""), "{}", large.body);
    assert!(large.body.contains("href=\"/lead/site/-/raw/main/src/large.rs\""));
    assert!(large.body.contains("href=\"/lead/site/-/blob/main/src/large.rs?full=1\""));
    let all = app.page(Method::GET, "/lead/site/-/blob/main/src/large.rs?full=1", None, None).await;
    assert!(all.body.contains("id=\"L12000\"") && !all.body.contains("large-file-note"));

    let blame = app.page(Method::GET, "/lead/site/-/blame/main/src/large.rs", None, None).await;
    assert_eq!(blame.status, StatusCode::OK);
    assert!(blame.body.contains("id=\"L1000\"") && !blame.body.contains("id=\"L1001\""));
    assert!(blame.body.contains("large-file-note") && blame.body.contains("/-/blame/main/src/large.rs?full=1"));
    let blame_all = app.page(Method::GET, "/lead/site/-/blame/main/src/large.rs?full=1", None, None).await;
    assert!(blame_all.body.contains("id=\"L12000\""));

    let small = app.page(Method::GET, "/lead/site/-/blob/main/src/main.rs", None, None).await;
    assert!(!small.body.contains("large-file-note") && small.body.contains("/-/blame/main/src/main.rs"));

    let binary = app.page(Method::GET, "/lead/site/-/blob/main/data.bin", None, None).await;
    assert!(binary.body.contains("binary file") && !binary.body.contains("/-/blame/"), "{}", binary.body);
    let image = app.page(Method::GET, "/lead/site/-/blob/main/img/logo.png", None, None).await;
    assert!(!image.body.contains("/-/blame/"), "an image has no Blame button");
    let blamed = app.page(Method::GET, "/lead/site/-/blame/main/data.bin", None, None).await;
    assert!(blamed.body.contains("This is a binary file: it has no lines to blame."), "{}", blamed.body);
    assert!(!blamed.body.contains("binary\u{0}"), "no garbage");

    let commit = app.page(Method::GET, &format!("/lead/site/-/commit/{feature}"), None, None).await;
    let added = commit.body.lines().find(|l| l.contains("class=\"add\"")).unwrap_or_default();
    assert!(added.contains("<span class=\"h"), "the diff is highlighted as Rust: {added}");
    let compare = app.page(Method::GET, "/lead/site/-/compare/main...feature/a", None, None).await;
    assert!(compare.body.contains("class=\"add\"") && compare.body.contains("<span class=\"h"));
}

#[tokio::test]
async fn copy_buttons_are_offered_for_clone_urls_commits_and_new_tokens() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let (_, feature) = project(&app, &lead, "public").await;

    let overview = app.page(Method::GET, "/lead/site", Some(&lead), None).await;
    assert!(
        overview
            .body
            .contains("data-copy data-copy-label=\"Copy the HTTP clone URL\">http://gantry.test/lead/site.git")
    );
    assert!(overview.body.contains("src=\"/assets/site.js\""));
    let commit = app.page(Method::GET, &format!("/lead/site/-/commit/{feature}"), None, None).await;
    assert!(commit.body.contains(&format!("data-copy data-copy-label=\"Copy the commit SHA\">{feature}")));
    let commits = app.page(Method::GET, "/lead/site/-/commits/feature/a", None, None).await;
    assert!(commits.body.contains(&format!("data-copy=\"{feature}\"")));
    let fields = [("name", "laptop"), ("scopes", "api")];
    let token = app.page(Method::POST, "/-/profile/personal_access_tokens", Some(&lead), Some(&fields)).await;
    let token = app.follow(token, &lead).await;
    assert!(token.body.contains("<code id=\"new-token\" data-copy"), "{}", token.body);
    let script = app.page(Method::GET, "/assets/site.js", None, None).await;
    assert!(script.body.contains("navigator.clipboard") && script.body.contains("Copied"));
}

#[tokio::test]
async fn transfers_and_branch_and_tag_deletions_ask_first_and_say_what_happened() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    project(&app, &lead, "public").await;
    app.page(Method::POST, "/groups", Some(&lead), Some(&[("name", "Elsewhere")])).await;
    let groups = app.api(Method::GET, "/api/v4/groups?search=elsewhere", Some(&lead.token), None).await;
    let group_id = groups.json()[0]["id"].as_i64().unwrap().to_string();

    let settings = app.page(Method::GET, "/lead/site/-/settings", Some(&lead), None).await;
    assert!(settings.body.contains("aria-label=\"Project\"") && settings.body.contains("aria-label=\"Settings\""));
    assert!(settings.body.contains("<option value=\"\" selected disabled>Choose a namespace</option>"));
    let unconfirmed = [("namespace_id", group_id.as_str())];
    let refused = app.page(Method::POST, "/lead/site/-/transfer", Some(&lead), Some(&unconfirmed)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("Type lead/site to confirm the transfer."), "{}", refused.body);
    let nowhere = [("confirm_path", "lead/site")];
    let refused = app.page(Method::POST, "/lead/site/-/transfer", Some(&lead), Some(&nowhere)).await;
    assert!(refused.body.contains("Choose the namespace to transfer the project to."), "{}", refused.body);
    let confirmed = [("namespace_id", group_id.as_str()), ("confirm_path", "lead/site")];
    let moved = app.page(Method::POST, "/lead/site/-/transfer", Some(&lead), Some(&confirmed)).await;
    assert_eq!((moved.status, moved.header("location")), (StatusCode::SEE_OTHER, "/elsewhere/site"));

    let branches = app.page(Method::GET, "/elsewhere/site/-/branches", Some(&lead), None).await;
    assert!(branches.body.contains("data-confirm=\"Delete branch feature/a? This cannot be undone.\""));
    let asked =
        app.page(Method::POST, "/elsewhere/site/-/branches/delete", Some(&lead), Some(&[("name", "feature/a")])).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.body.contains("Delete branch feature/a?") && asked.body.contains("name=\"confirm\" value=\"yes\""));
    let still = app.api(
        Method::GET,
        "/api/v4/projects/elsewhere%2Fsite/repository/branches/feature%2Fa",
        Some(&lead.token),
        None,
    );
    assert_eq!(still.await.status, StatusCode::OK, "nothing is deleted before it is confirmed");
    let fields = [("name", "feature/a"), ("confirm", "yes")];
    let deleted = app.page(Method::POST, "/elsewhere/site/-/branches/delete", Some(&lead), Some(&fields)).await;
    assert_eq!(deleted.header("location"), "/elsewhere/site/-/branches");
    let told = app.follow(deleted, &lead).await;
    assert!(told.body.contains("Branch feature/a was deleted."), "{}", told.body);
    let again = app.page(Method::GET, "/elsewhere/site/-/branches", Some(&lead), None).await;
    assert!(!again.body.contains("was deleted"), "said once");

    // A tag is asked about the same way.
    let v1 = json!({"tag_name": "v1", "ref": "main"});
    let tagged =
        app.api(Method::POST, "/api/v4/projects/elsewhere%2Fsite/repository/tags", Some(&lead.token), Some(v1));
    assert_eq!(tagged.await.status, StatusCode::CREATED);
    let tags = app.page(Method::GET, "/elsewhere/site/-/tags", Some(&lead), None).await;
    assert!(tags.body.contains("data-confirm=\"Delete tag v1? This cannot be undone.\""), "{}", tags.body);
    let asked = app.page(Method::POST, "/elsewhere/site/-/tags/delete", Some(&lead), Some(&[("name", "v1")])).await;
    assert!(asked.body.contains("Delete tag v1?") && asked.body.contains("name=\"confirm\" value=\"yes\""));
    let tag = "/api/v4/projects/elsewhere%2Fsite/repository/tags/v1";
    assert_eq!(app.api(Method::GET, tag, Some(&lead.token), None).await.status, StatusCode::OK, "still there");
    let fields = [("name", "v1"), ("confirm", "yes")];
    let deleted = app.page(Method::POST, "/elsewhere/site/-/tags/delete", Some(&lead), Some(&fields)).await;
    assert_eq!(deleted.header("location"), "/elsewhere/site/-/tags");
    assert!(app.follow(deleted, &lead).await.body.contains("Tag v1 was deleted."));
    assert_eq!(app.api(Method::GET, tag, Some(&lead.token), None).await.status, StatusCode::NOT_FOUND);

    let bad = [("branch", "bad..name"), ("ref", "main")];
    let refused = app.page(Method::POST, "/elsewhere/site/-/branches", Some(&lead), Some(&bad)).await;
    let alert = refused.body.split("role=\"alert\">").nth(1).and_then(|rest| rest.split("</div>").next()).unwrap();
    assert!(alert.starts_with(char::is_uppercase) && alert.ends_with('.'), "a sentence: {alert}");
}

#[tokio::test]
async fn branch_names_lead_to_their_files() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let (id, feature) = project(&app, &lead, "public").await;
    let owner = gantry_core::Actor::User(lead.user.clone());
    let lookup = gantry_core::manage::groups::Lookup::Id(id);
    let (project, _) = app.core.find_project(&owner, &lookup).await.unwrap();
    let request = PipelineRequest {
        ref_name: "feature/a".into(),
        is_tag: false,
        sha: feature.clone(),
        before_sha: gantry_git::ZERO_OID.into(),
        source: "push",
        user: Some(lead.user.clone()),
        variables: Vec::new(),
        schedule_id: None,
        inputs: None,
    };
    let pipeline = app.core.ci().create_pipeline(&project, request).await.unwrap().unwrap();
    let link = "class=\"ref-name\" href=\"/lead/site/-/tree/feature/a\"";
    let jobs = app
        .api(Method::GET, &format!("/api/v4/projects/{id}/pipelines/{}/jobs", pipeline.id.0), Some(&lead.token), None)
        .await;
    let job = jobs.json()[0]["id"].as_i64().unwrap();
    for path in [
        "/lead/site/-/pipelines".to_owned(),
        format!("/lead/site/-/pipelines/{}", pipeline.id.0),
        format!("/lead/site/-/jobs/{job}"),
        format!("/lead/site/-/commit/{feature}"),
        "/lead/site/-/branches".to_owned(),
        "/lead/site".to_owned(),
    ] {
        let page = app.page(Method::GET, &path, Some(&lead), None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let wanted = if path == "/lead/site" { "class=\"ref-name\" href=\"/lead/site/-/tree/main\"" } else { link };
        assert!(page.body.contains(wanted), "{path} links {wanted}: {}", page.body);
    }
}
