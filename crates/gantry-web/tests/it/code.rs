//! The code browser on a real repository: tree, highlighted file, raw, markdown, history and
//! a commit's diff.

use std::path::Path;

use axum::http::{Method, StatusCode};
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

/// A public project `lead/site` whose history is written straight into its repository.
pub(crate) async fn project_with_history(app: &TestApp, lead: &TestUser) -> (String, String) {
    let body = json!({"name": "Site", "initialize_with_readme": true, "visibility": "public"});
    let created = app.api(Method::POST, "/api/v4/projects", Some(&lead.token), Some(body)).await;
    let id = created.json()["id"].as_i64().unwrap();
    let bare = app.core.repos().path(gantry_types::ProjectId(id));
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["clone", "-q", bare.to_str().unwrap(), "w"]);
    let w = work.path().join("w");
    std::fs::create_dir_all(w.join("src")).unwrap();
    std::fs::create_dir_all(w.join("docs")).unwrap();
    std::fs::write(w.join("src/main.rs"), "fn main() {\n    println!(\"<hi>\");\n}\n").unwrap();
    std::fs::write(w.join("docs/guide.md"), "# Guide\n\nSee [the code](../src/main.rs).\n").unwrap();
    std::fs::write(w.join("logo.bin"), b"\x00\x01\x02binary").unwrap();
    git(&w, &["add", "."]);
    git(&w, &["commit", "-q", "-m", "Add code and docs"]);
    let first = git(&w, &["rev-parse", "HEAD"]);
    std::fs::write(w.join("src/main.rs"), "fn main() {\n    println!(\"<hello>\");\n}\n").unwrap();
    git(&w, &["commit", "-q", "-am", "Say hello\n\nA longer explanation."]);
    let second = git(&w, &["rev-parse", "HEAD"]);
    git(&w, &["push", "-q", "origin", "main"]);
    (first, second)
}

#[tokio::test]
async fn tree_file_raw_history_and_commit_pages() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let (first, second) = project_with_history(&app, &lead).await;
    let app = &app;
    let get = |path: String| async move { app.page(Method::GET, &path, None, None).await };

    let tree = get("/lead/site/-/tree/main".into()).await;
    assert_eq!(tree.status, StatusCode::OK, "{}", tree.body);
    for expected in ["src", "docs", "README.md", "<h1", "data-last-commits"] {
        assert!(tree.body.contains(expected), "tree shows {expected}");
    }
    let last: serde_json::Value = get("/lead/site/-/last_commits/main/".into()).await.json();
    assert_eq!(last["src"]["title"], "Say hello");
    assert_eq!(last["docs"]["title"], "Add code and docs");
    assert_eq!(last["README.md"]["title"], "Initial commit");
    let folder = get("/lead/site/-/tree/main/src".into()).await;
    assert!(folder.body.contains("/lead/site/-/blob/main/src/main.rs") && folder.body.contains("Parent folder"));

    let file = get("/lead/site/-/blob/main/src/main.rs".into()).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.body.contains("id=\"L2\"") && file.body.contains("href=\"#L3\""), "line anchors");
    assert!(file.body.contains("<span class=\"h") && file.body.contains("&lt;hello&gt;"), "highlighted and escaped");
    assert!(file.body.contains("Rust"), "the language is named");
    let last: serde_json::Value = get("/lead/site/-/last_commits/main/src/main.rs".into()).await.json();
    assert_eq!(last["main.rs"]["title"], "Say hello", "a file's last commit");

    let raw = get("/lead/site/-/raw/main/src/main.rs".into()).await;
    assert_eq!(raw.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(raw.header("x-content-type-options"), "nosniff");
    assert_eq!(raw.body, "fn main() {\n    println!(\"<hello>\");\n}\n");
    let old = get(format!("/lead/site/-/raw/{first}/src/main.rs")).await;
    assert!(old.body.contains("<hi>"), "any commit can be browsed");
    let download = get("/lead/site/-/raw/main/logo.bin?inline=false".into()).await;
    assert_eq!(download.header("content-type"), "application/octet-stream");
    assert!(download.header("content-disposition").contains("logo.bin"));
    assert!(get("/lead/site/-/blob/main/logo.bin".into()).await.body.contains("binary file"));

    let guide = get("/lead/site/-/blob/main/docs/guide.md".into()).await;
    assert!(guide.body.contains("href=\"/lead/site/-/blob/main/src/main.rs\""), "{}", guide.body);
    assert!(get("/lead/site/-/blob/main/docs/guide.md?plain=1".into()).await.body.contains("id=\"L1\""));

    let blame = get("/lead/site/-/blame/main/src/main.rs".into()).await;
    assert_eq!(blame.status, StatusCode::OK);
    assert!(blame.body.contains("Say hello") && blame.body.contains("Add code and docs"), "{}", blame.body);
    assert!(blame.body.contains("id=\"L3\""));

    let history = get("/lead/site/-/commits/main".into()).await;
    assert!(history.body.contains("Say hello") && history.body.contains("Initial commit"));
    let of_guide = get("/lead/site/-/commits/main/docs/guide.md".into()).await;
    assert!(of_guide.body.contains("Add code and docs") && !of_guide.body.contains("Say hello"));

    let commit = get(format!("/lead/site/-/commit/{second}")).await;
    assert_eq!(commit.status, StatusCode::OK);
    assert!(commit.body.contains("A longer explanation") && commit.body.contains("src/main.rs"));
    assert!(commit.body.contains("class=\"add\"") && commit.body.contains("class=\"del\""), "{}", commit.body);
    let root = get(format!("/lead/site/-/commit/{first}")).await;
    assert!(root.body.contains("added") && root.body.contains("Binary file changed"), "{}", root.body);

    let compared = get(format!("/lead/site/-/compare/{first}...main")).await;
    assert_eq!(compared.status, StatusCode::OK);
    assert!(
        compared.body.contains("1 commit")
            && compared.body.contains("Say hello")
            && compared.body.contains("class=\"add\"")
    );
    let unknown = get("/lead/site/-/compare/main...nope".into()).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("is not a branch, tag or commit"));
    let form = get("/lead/site/-/compare?from=main&to=main".into()).await;
    assert_eq!(form.header("location"), "/lead/site/-/compare/main...main");

    let archive = app.page(Method::GET, "/lead/site/-/archive/main/site-main.zip", None, None).await;
    assert_eq!(archive.status, StatusCode::OK);
    assert_eq!(archive.header("content-type"), "application/zip");
    assert!(archive.body.starts_with("PK") && archive.body.contains("site-main/src/main.rs"));
    let tarball = app.page(Method::GET, "/lead/site/-/archive/main/site-main.tar", None, None).await;
    assert!(tarball.body.contains("site-main/docs/guide.md"));
    assert_eq!(get("/lead/site/-/archive/main/site-main.rar".into()).await.status, StatusCode::NOT_FOUND);

    for missing in ["/lead/site/-/tree/nope", "/lead/site/-/blob/main/nope.rs", "/lead/site/-/commit/0123456789abcdef"]
    {
        assert_eq!(get(missing.into()).await.status, StatusCode::NOT_FOUND, "{missing}");
    }
    let switched = get("/lead/site/-/refs/switch?ref=main&path=src&view=tree".into()).await;
    assert_eq!(switched.header("location"), "/lead/site/-/tree/main/src");
    let overview = get("/lead/site".into()).await;
    assert!(overview.body.contains("Browse files") && overview.body.contains("<h1"), "the README is on the overview");
}

#[tokio::test]
async fn repository_api_reads_trees_files_commits_and_diffs() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let (first, second) = project_with_history(&app, &lead).await;
    let t = Some(lead.token.as_str());
    let base = "/api/v4/projects/lead%2Fsite/repository";

    let tree = app.api(Method::GET, &format!("{base}/tree?path=src"), t, None).await;
    assert_eq!(tree.status, StatusCode::OK, "{}", tree.body);
    assert_eq!(tree.json()[0]["path"], "src/main.rs");
    assert_eq!(tree.json()[0]["type"], "blob");
    let root = app.api(Method::GET, &format!("{base}/tree?ref={first}"), t, None).await;
    assert_eq!(root.header("x-total"), "4", "{}", root.body);

    let file = app.api(Method::GET, &format!("{base}/files/src%2Fmain.rs?ref=main"), t, None).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    let content = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(file.json()["content"].as_str().unwrap()).unwrap()
    };
    assert!(String::from_utf8(content).unwrap().contains("<hello>"));
    assert_eq!(file.json()["last_commit_id"], second.as_str());
    let raw = app.api(Method::GET, &format!("{base}/files/src%2Fmain.rs/raw?ref={first}"), t, None).await;
    assert!(raw.body.contains("<hi>"));
    let blob_id = file.json()["blob_id"].as_str().unwrap().to_owned();
    assert!(app.api(Method::GET, &format!("{base}/blobs/{blob_id}/raw"), t, None).await.body.contains("<hello>"));
    assert_eq!(
        app.api(Method::GET, &format!("{base}/files/nope.rs?ref=main"), t, None).await.status,
        StatusCode::NOT_FOUND
    );

    let commits = app.api(Method::GET, &format!("{base}/commits?per_page=2"), t, None).await;
    assert_eq!(commits.json().as_array().unwrap().len(), 2);
    assert_eq!(commits.json()[0]["title"], "Say hello");
    assert_eq!(commits.header("x-next-page"), "2");
    let by_path = app.api(Method::GET, &format!("{base}/commits?path=docs/guide.md"), t, None).await;
    assert_eq!(by_path.json().as_array().unwrap().len(), 1);
    let one = app.api(Method::GET, &format!("{base}/commits/{second}"), t, None).await;
    assert_eq!(one.json()["parent_ids"][0], first.as_str());
    let diff = app.api(Method::GET, &format!("{base}/commits/{second}/diff"), t, None).await;
    assert!(diff.json()[0]["diff"].as_str().unwrap().contains("+    println!(\"<hello>\");"), "{}", diff.body);
    let compare = app.api(Method::GET, &format!("{base}/compare?from={first}&to=main"), t, None).await;
    assert_eq!(compare.json()["commits"].as_array().unwrap().len(), 1);
    assert_eq!(compare.json()["diffs"][0]["new_path"], "src/main.rs");
    assert_eq!(
        app.api(Method::GET, &format!("{base}/compare?from=main"), t, None).await.status,
        StatusCode::BAD_REQUEST
    );
    let archive = app.api(Method::GET, &format!("{base}/archive.zip?sha={first}"), t, None).await;
    assert!(archive.body.starts_with("PK") && archive.body.contains("site-"));
}
