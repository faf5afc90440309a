//! The repository API beyond reading files, on real repositories: archives in every format
//! GitLab names, snapshots, files' `X-Gitlab-*` headers and blame, stale `last_commit_id`s,
//! listing commits of every ref with filters, the refs holding a commit, signatures,
//! cherry-picks and reverts (also from the commit page), merge bases, and a branch created in
//! an empty repository.

use std::io::Read;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse, TestUser};

/// A project of `user` with `main` holding `README.md`, then `docs/guide.md` and an executable
/// `run.sh` added in a second commit; its API base path and the two commits.
async fn project_with_commits(app: &TestApp, user: &TestUser, name: &str) -> (String, String, String) {
    let (project, first) = app.project_with_file(user, name, "README.md", b"hello\n").await;
    let base = format!("/api/v4/projects/{}", project.id.0);
    let actions = json!({
        "branch": "main", "commit_message": "Add docs and a script",
        "actions": [
            {"action": "create", "file_path": "docs/guide.md", "content": "# Guide\n"},
            {"action": "create", "file_path": "run.sh", "content": "#!/bin/sh\necho hi\n", "execute_filemode": true}
        ]
    });
    let made = app.api(Method::POST, &format!("{base}/repository/commits"), Some(&user.token), Some(actions)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let second = made.json()["id"].as_str().unwrap().to_owned();
    (base, first, second)
}

/// `GET path` as `user`.
async fn get(app: &TestApp, user: &TestUser, path: String) -> TestResponse {
    app.api(Method::GET, &path, Some(&user.token), None).await
}

fn message(response: &TestResponse) -> String {
    response.json()["message"].as_str().unwrap_or_default().to_owned()
}

/// The paths in a tar archive.
fn tar_paths(bytes: &[u8]) -> Vec<String> {
    tar::Archive::new(bytes).entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect()
}

#[tokio::test]
async fn archives_come_in_every_format_gitlab_names() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    let (base, _, second) = project_with_commits(&app, &ada, "shelf").await;

    let plain = app.api(Method::GET, &format!("{base}/repository/archive"), t, None).await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.body);
    assert_eq!(&plain.bytes[..2], &[0x1f, 0x8b], "tar.gz unless asked otherwise");
    let disposition = plain.header("content-disposition");
    assert!(disposition.contains(&format!("shelf-main-{second}.tar.gz")), "{disposition}");
    let by_name = app.api(Method::GET, &format!("{base}/repository/archive?sha=main"), t, None).await;
    assert_eq!(plain.bytes, by_name.bytes, "the same commit gives the same archive");

    for (ending, magic) in [
        ("tar.gz", &b"\x1f\x8b"[..]),
        ("tgz", b"\x1f\x8b"),
        ("gz", b"\x1f\x8b"),
        ("tar.bz2", b"BZh"),
        ("tbz", b"BZh"),
        ("tbz2", b"BZh"),
        ("tb2", b"BZh"),
        ("bz2", b"BZh"),
        ("zip", b"PK"),
    ] {
        let archive = app.api(Method::GET, &format!("{base}/repository/archive.{ending}"), t, None).await;
        assert_eq!(archive.status, StatusCode::OK, "{ending}: {}", archive.body);
        assert!(archive.bytes.starts_with(magic), "{ending} starts as it should");
    }
    let tar = app.api(Method::GET, &format!("{base}/repository/archive.tar"), t, None).await;
    let paths = tar_paths(&tar.bytes);
    let prefix = format!("shelf-main-{second}");
    assert!(paths.contains(&format!("{prefix}/docs/guide.md")) && paths.contains(&format!("{prefix}/run.sh")));
    let bz2 = app.api(Method::GET, &format!("{base}/repository/archive?format=tar.bz2"), t, None).await;
    let mut unpacked = Vec::new();
    bzip2::read::BzDecoder::new(&bz2.bytes[..]).read_to_end(&mut unpacked).unwrap();
    assert_eq!(tar_paths(&unpacked), paths, "the bzip2 archive holds the same tar");

    // Only a folder, named after it; an old commit by its id.
    let docs = app.api(Method::GET, &format!("{base}/repository/archive.tar?path=docs"), t, None).await;
    assert_eq!(docs.status, StatusCode::OK);
    let docs_files: Vec<String> =
        tar_paths(&docs.bytes).into_iter().filter(|p| p.contains('/') && !p.ends_with('/')).collect();
    assert_eq!(docs_files, [format!("{prefix}-docs/docs/guide.md")]);

    for (query, status) in [
        ("archive.tar?path=nowhere", StatusCode::NOT_FOUND),
        ("archive?sha=nowhere", StatusCode::NOT_FOUND),
        ("archive?format=rar", StatusCode::BAD_REQUEST),
    ] {
        let refused = app.api(Method::GET, &format!("{base}/repository/{query}"), t, None).await;
        assert_eq!(refused.status, status, "{query}: {}", refused.body);
    }
}

#[tokio::test]
async fn a_snapshot_is_the_bare_repository_for_administrators_only() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let (base, _, second) = project_with_commits(&app, &ada, "snap").await;

    let refused = app.api(Method::GET, &format!("{base}/snapshot"), Some(&ada.token), None).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "even the owner: administrators only");
    assert_eq!(app.api(Method::GET, &format!("{base}/snapshot"), None, None).await.status, StatusCode::UNAUTHORIZED);
    let wiki = app.api(Method::GET, &format!("{base}/snapshot?wiki=true"), Some(&root.token), None).await;
    assert_eq!(wiki.status, StatusCode::NOT_FOUND, "projects have no wiki repository");

    let snapshot = app.api(Method::GET, &format!("{base}/snapshot"), Some(&root.token), None).await;
    assert_eq!(snapshot.status, StatusCode::OK, "{}", snapshot.body);
    assert_eq!(snapshot.header("content-type"), "application/x-tar");
    let unpacked = tempfile::tempdir().unwrap();
    tar::Archive::new(&snapshot.bytes[..]).unpack(unpacked.path()).unwrap();
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(unpacked.path())
        .args(["log", "--format=%H", "refs/heads/main"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().next(), Some(second.as_str()), "a whole repository");
}

#[tokio::test]
async fn files_tell_their_metadata_in_headers_and_blame_their_lines() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    let (base, first, second) = project_with_commits(&app, &ada, "heads").await;
    let files = format!("{base}/repository/files");

    let head = app.api(Method::HEAD, &format!("{files}/docs%2Fguide.md?ref=main"), t, None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.bytes.is_empty(), "HEAD gives the headers alone");
    for (name, value) in [
        ("x-gitlab-file-path", "docs/guide.md"),
        ("x-gitlab-file-name", "guide.md"),
        ("x-gitlab-size", "8"),
        ("x-gitlab-encoding", "base64"),
        ("x-gitlab-ref", "main"),
        ("x-gitlab-commit-id", second.as_str()),
        ("x-gitlab-last-commit-id", second.as_str()),
        ("x-gitlab-execute-filemode", "false"),
    ] {
        assert_eq!(head.header(name), value, "{name}");
    }
    use sha2::Digest;
    assert_eq!(head.header("x-gitlab-content-sha256"), hex::encode(sha2::Sha256::digest(b"# Guide\n")));
    let readme = app.api(Method::GET, &format!("{files}/README.md?ref=main"), t, None).await;
    assert_eq!(readme.header("x-gitlab-last-commit-id"), first, "README.md was last changed first");
    assert_eq!(readme.json()["last_commit_id"], first.as_str());
    assert_eq!(readme.json()["execute_filemode"], false);
    let script = app.api(Method::GET, &format!("{files}/run.sh?ref=main"), t, None).await;
    assert_eq!(
        (script.json()["execute_filemode"].as_bool(), script.header("x-gitlab-execute-filemode")),
        (Some(true), "true")
    );
    let raw = app.api(Method::GET, &format!("{files}/run.sh/raw"), t, None).await;
    assert_eq!((raw.body.as_str(), raw.header("x-gitlab-file-path")), ("#!/bin/sh\necho hi\n", "run.sh"));

    let no_ref = app.api(Method::GET, &format!("{files}/README.md"), t, None).await;
    assert_eq!((no_ref.status, message(&no_ref)), (StatusCode::BAD_REQUEST, "ref is missing".to_owned()));
    let bad_ref = app.api(Method::GET, &format!("{files}/README.md?ref=nowhere"), t, None).await;
    assert_eq!((bad_ref.status, message(&bad_ref)), (StatusCode::NOT_FOUND, "404 Commit Not Found".to_owned()));
    let no_file = app.api(Method::GET, &format!("{files}/nothing.md?ref=main"), t, None).await;
    assert_eq!((no_file.status, message(&no_file)), (StatusCode::NOT_FOUND, "404 File Not Found".to_owned()));

    let change = json!({"branch": "main", "content": "hello\nworld\nagain\n", "commit_message": "More"});
    assert_eq!(app.api(Method::PUT, &format!("{files}/README.md"), t, Some(change)).await.status, StatusCode::OK);
    let blame = app.api(Method::GET, &format!("{files}/README.md/blame?ref=main"), t, None).await;
    assert_eq!(blame.status, StatusCode::OK, "{}", blame.body);
    let ranges = blame.json();
    assert_eq!(ranges[0]["commit"]["id"], first.as_str());
    assert_eq!(ranges[0]["lines"], json!(["hello"]));
    assert_eq!(ranges[1]["lines"], json!(["world", "again"]));
    assert_eq!(ranges[1]["commit"]["title"], "More");
    assert_eq!(blame.header("x-gitlab-file-name"), "README.md");
    let part =
        app.api(Method::GET, &format!("{files}/README.md/blame?ref=main&range[start]=2&range[end]=2"), t, None).await;
    assert_eq!(part.json(), json!([{"commit": ranges[1]["commit"], "lines": ["world"]}]));
    let backwards =
        app.api(Method::GET, &format!("{files}/README.md/blame?ref=main&range[start]=3&range[end]=1"), t, None).await;
    assert_eq!(message(&backwards), "range[start] must be less than or equal to range[end]");
}

#[tokio::test]
async fn a_stale_last_commit_id_is_refused_and_nothing_is_written() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    let (base, first, second) = project_with_commits(&app, &ada, "stale").await;
    let files = format!("{base}/repository/files");
    let change =
        |last: &str| json!({"branch": "main", "content": "new\n", "commit_message": "Edit", "last_commit_id": last});

    // run.sh was last changed by the second commit: the first is stale.
    let stale = app.api(Method::PUT, &format!("{files}/run.sh"), t, Some(change(&first))).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    assert_eq!(message(&stale), "You are attempting to update a file that has changed since you started editing it.");
    let deleted = json!({"branch": "main", "commit_message": "Drop", "last_commit_id": first});
    let stale_delete = app.api(Method::DELETE, &format!("{files}/run.sh"), t, Some(deleted)).await;
    assert_eq!(message(&stale_delete), "You are attempting to delete a file that has been previously updated.");
    let several = json!({"branch": "main", "commit_message": "Edit", "actions": [
        {"action": "update", "file_path": "run.sh", "content": "x", "last_commit_id": first}
    ]});
    let stale_commit = app.api(Method::POST, &format!("{base}/repository/commits"), t, Some(several)).await;
    assert_eq!(message(&stale_commit), "The file has changed since you started editing it: run.sh");
    let tip = app.api(Method::GET, &format!("{base}/repository/commits/main"), t, None).await;
    assert_eq!(tip.json()["id"], second.as_str(), "nothing was written");

    let fresh = app.api(Method::PUT, &format!("{files}/run.sh"), t, Some(change(&second))).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    let script = app.api(Method::GET, &format!("{files}/run.sh?ref=main"), t, None).await;
    assert_eq!(script.json()["execute_filemode"], true, "an update keeps the file's mode");
    let chmod = json!({"branch": "main", "commit_message": "Not a script", "actions": [
        {"action": "chmod", "file_path": "run.sh", "execute_filemode": false}
    ]});
    assert_eq!(
        app.api(Method::POST, &format!("{base}/repository/commits"), t, Some(chmod)).await.status,
        StatusCode::CREATED
    );
    let script = app.api(Method::GET, &format!("{files}/run.sh?ref=main"), t, None).await;
    assert_eq!(script.json()["execute_filemode"], false);
    let exists = json!({"branch": "main", "content": "x", "commit_message": "Again"});
    let again = app.api(Method::POST, &format!("{files}/run.sh"), t, Some(exists)).await;
    assert_eq!(message(&again), "A file with this name already exists");
}

#[tokio::test]
async fn commits_of_every_ref_filtered_ordered_and_with_stats() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    let (base, first, second) = project_with_commits(&app, &ada, "logs").await;
    let side = json!({"branch": "side", "start_branch": "main", "commit_message": "On the side",
        "author_name": "Grace", "author_email": "grace@example.com",
        "actions": [{"action": "create", "file_path": "side.txt", "content": "one\ntwo\n"}]});
    let side = app.api(Method::POST, &format!("{base}/repository/commits"), t, Some(side)).await;
    let side = side.json()["id"].as_str().unwrap().to_owned();
    let ids = |response: TestResponse| -> Vec<String> {
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        response.json().as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    let list = |query: &str| get(&app, &ada, format!("{base}/repository/commits{query}"));

    assert_eq!(ids(list("").await), [second.clone(), first.clone()], "the default branch");
    // Every branch's commits, newest first (two made in the same second may come either way).
    let mut all = ids(list("?all=true").await);
    assert_eq!(all.pop(), Some(first.clone()));
    all.sort();
    let mut expected = vec![side.clone(), second.clone()];
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!(ids(list("?all=true&author=grace").await), [side.as_str()]);
    assert_eq!(ids(list("?ref_name=side&path=docs").await), [second.as_str()]);
    assert_eq!(ids(list("?all=true&order=topo").await).len(), 3);
    assert_eq!(ids(list("?ref_name=side&first_parent=true").await).len(), 3);
    assert!(ids(list("?all=true&since=2100-01-01T00:00:00Z").await).is_empty());
    assert!(ids(list("?all=true&until=2000-01-01").await).is_empty());
    assert_eq!(ids(list("?all=true&since=2000-01-01T00:00:00").await).len(), 3);
    let paged = list("?all=true&per_page=1&page=2").await;
    assert_eq!(paged.header("x-next-page"), "3");
    assert_eq!(ids(paged).len(), 1);
    assert_eq!(ids(list("?all=true&per_page=1&page=3").await), [first.as_str()]);

    let stats = list("?ref_name=side&with_stats=true&per_page=1").await;
    assert_eq!(stats.json()[0]["stats"], json!({"additions": 2, "deletions": 0, "total": 2}));
    assert!(list("").await.json()[0].get("stats").is_none(), "stats only when asked");
    let detail = app.api(Method::GET, &format!("{base}/repository/commits/{second}"), t, None).await;
    assert_eq!(detail.json()["stats"]["additions"], 3);
    assert_eq!(detail.json()["project_id"], base.rsplit('/').next().unwrap().parse::<i64>().unwrap());

    for (query, expected) in
        [("?order=sideways", "order does not have a valid value"), ("?since=yesterday", "since is invalid")]
    {
        let refused = list(query).await;
        assert_eq!((refused.status, message(&refused)), (StatusCode::BAD_REQUEST, expected.to_owned()), "{query}");
    }
    assert_eq!(list("?ref_name=nowhere").await.status, StatusCode::NOT_FOUND);
    let sequence = app.api(Method::GET, &format!("{base}/repository/commits/{side}/sequence"), t, None).await;
    assert_eq!(sequence.json(), json!({"count": 3}));
}

#[tokio::test]
async fn refs_signatures_and_merge_bases_of_commits() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    let (base, first, second) = project_with_commits(&app, &ada, "refs").await;
    let tag = json!({"tag_name": "v1", "ref": first});
    assert_eq!(
        app.api(Method::POST, &format!("{base}/repository/tags"), t, Some(tag)).await.status,
        StatusCode::CREATED
    );
    let side = json!({"branch": "side", "start_branch": first, "commit_message": "Side",
        "actions": [{"action": "create", "file_path": "side.txt", "content": "x"}]});
    let side = app.api(Method::POST, &format!("{base}/repository/commits"), t, Some(side)).await;
    let side = side.json()["id"].as_str().unwrap().to_owned();

    let refs = |sha: &str, kind: &str| get(&app, &ada, format!("{base}/repository/commits/{sha}/refs?type={kind}"));
    assert_eq!(
        refs(&first, "all").await.json(),
        json!([{"type": "branch", "name": "main"}, {"type": "branch", "name": "side"}, {"type": "tag", "name": "v1"}])
    );
    assert_eq!(refs(&second, "all").await.json(), json!([{"type": "branch", "name": "main"}]));
    assert_eq!(refs(&first, "tag").await.json(), json!([{"type": "tag", "name": "v1"}]));
    assert_eq!(refs(&first, "branch").await.json().as_array().unwrap().len(), 2);
    assert_eq!(refs(&side, "all").await.json(), json!([{"type": "branch", "name": "side"}]));
    assert_eq!(refs(&first, "other").await.status, StatusCode::BAD_REQUEST);
    let unknown = refs("0123456789abcdef0123456789abcdef01234567", "all").await;
    assert_eq!((unknown.status, message(&unknown)), (StatusCode::NOT_FOUND, "404 Commit Not Found".to_owned()));
    let merge_requests =
        app.api(Method::GET, &format!("{base}/repository/commits/{first}/merge_requests"), t, None).await;
    assert_eq!(merge_requests.json(), json!([]));

    let unsigned = app.api(Method::GET, &format!("{base}/repository/commits/{second}/signature"), t, None).await;
    assert_eq!((unsigned.status, message(&unsigned)), (StatusCode::NOT_FOUND, "404 Signature Not Found".to_owned()));
    let project = gantry_types::ProjectId(base.rsplit('/').next().unwrap().parse().unwrap());
    let signed = signed_commit(&app, project, &second);
    let signature = app.api(Method::GET, &format!("{base}/repository/commits/{signed}/signature"), t, None).await;
    assert_eq!(signature.status, StatusCode::OK, "{}", signature.body);
    assert_eq!(
        (signature.json()["signature_type"].as_str(), signature.json()["verification_status"].as_str()),
        (Some("PGP"), Some("unverified"))
    );

    let merge_base = |query: &str| get(&app, &ada, format!("{base}/repository/merge_base?{query}"));
    let found = merge_base("refs[]=main&refs[]=side").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.json()["id"], first.as_str());
    assert_eq!(merge_base(&format!("refs[]={second}&refs[]=v1&refs[]=side")).await.json()["id"], first.as_str());
    let one = merge_base("refs[]=main").await;
    assert_eq!((one.status, message(&one)), (StatusCode::BAD_REQUEST, "Provide at least 2 refs".to_owned()));
    let missing = merge_base("refs[]=main&refs[]=nope").await;
    assert_eq!(message(&missing), "Could not find ref: nope");
    assert_eq!(message(&merge_base("refs[]=a1&refs[]=b2").await), "Could not find refs: a1, b2");
    assert_eq!(merge_base("").await.status, StatusCode::BAD_REQUEST);
}

/// A commit on top of `parent` carrying a PGP signature (never checked: Gantry does not verify
/// signatures), written into the project's repository by hand.
pub(crate) fn signed_commit(app: &TestApp, project: gantry_types::ProjectId, parent: &str) -> String {
    let repo = app.core.repos().path(project);
    let tree = git_in(&repo, &["rev-parse", &format!("{parent}^{{tree}}")], None);
    let object = format!(
        "tree {tree}\nparent {parent}\nauthor Ada <ada@example.com> 1700000000 +0000\n\
         committer Ada <ada@example.com> 1700000000 +0000\n\
         gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nSigned\n"
    );
    git_in(&repo, &["hash-object", "-t", "commit", "-w", "--stdin"], Some(object.as_bytes()))
}

fn git_in(repo: &std::path::Path, args: &[&str], input: Option<&[u8]>) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.unwrap_or_default()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "git {args:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// `POST …/commits/:sha/<action>` as `user`.
async fn change(app: &TestApp, base: &str, sha: &str, action: &str, user: &TestUser, body: Value) -> TestResponse {
    app.api(Method::POST, &format!("{base}/repository/commits/{sha}/{action}"), Some(&user.token), Some(body)).await
}

/// The commit at the tip of `branch`.
async fn tip(app: &TestApp, base: &str, user: &TestUser, branch: &str) -> Value {
    let found = app.api(Method::GET, &format!("{base}/repository/branches/{branch}"), Some(&user.token), None).await;
    found.json()["commit"]["id"].clone()
}

#[tokio::test]
async fn commits_are_cherry_picked_and_reverted_as_pushes() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let dev = app.user("dev").await;
    let reader = app.user("reader").await;
    let t = Some(ada.token.as_str());
    let (base, first, second) = project_with_commits(&app, &ada, "picks").await;
    for (user, level) in [(&dev, 30), (&reader, 20)] {
        let body = json!({"user_id": user.user.id.0, "access_level": level});
        assert_eq!(app.api(Method::POST, &format!("{base}/members"), t, Some(body)).await.status, StatusCode::CREATED);
    }
    // `stable` starts at the first commit and runs CI.
    let ci = json!({"branch": "stable", "start_branch": first, "commit_message": "CI",
        "actions": [{"action": "create", "file_path": ".gitlab-ci.yml", "content": "job:\n  script: true\n"}]});
    let ci = app.api(Method::POST, &format!("{base}/repository/commits"), t, Some(ci)).await;
    let ci = ci.json()["id"].as_str().unwrap().to_owned();

    // A dry run changes nothing; then the change lands on `stable`, by its author, said so.
    let dry = change(&app, &base, &second, "cherry_pick", &ada, json!({"branch": "stable", "dry_run": true})).await;
    assert_eq!((dry.status, dry.json()), (StatusCode::OK, json!({"dry_run": "success"})));
    assert_eq!(tip(&app, &base, &ada, "stable").await, ci.as_str());
    let picked = change(&app, &base, &second, "cherry_pick", &ada, json!({"branch": "stable"})).await;
    assert_eq!(picked.status, StatusCode::OK, "{}", picked.body);
    let picked = picked.json();
    assert_eq!(picked["message"], format!("Add docs and a script\n\n(cherry picked from commit {second})"));
    assert_eq!(picked["parent_ids"], json!([ci]));
    assert_eq!(tip(&app, &base, &ada, "stable").await, picked["id"]);
    let script = app.api(Method::GET, &format!("{base}/repository/files/run.sh?ref=stable"), t, None).await;
    assert_eq!(script.json()["execute_filemode"], true, "the mode comes along");
    // It was recorded as a push of `stable`: its pipeline follows.
    let _worker = app.background_worker();
    let pipelines = format!("{base}/pipelines?sha={}", picked["id"].as_str().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.api(Method::GET, &pipelines, t, None).await.json().as_array().is_none_or(|p| p.is_empty()) {
        assert!(std::time::Instant::now() < deadline, "no pipeline for the cherry-pick");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // Again: nothing to do, and the branch stays as it is.
    let again = change(&app, &base, &second, "cherry_pick", &ada, json!({"branch": "stable"})).await;
    assert_eq!((again.status, again.json()["error_code"].as_str()), (StatusCode::BAD_REQUEST, Some("empty")));
    assert!(message(&again).starts_with("Commit cherry-pick failed: Can't perform this action automatically."));
    let dry_again =
        change(&app, &base, &second, "cherry_pick", &ada, json!({"branch": "stable", "dry_run": true})).await;
    assert_eq!(dry_again.json()["dry_run"], "error");
    assert_eq!(tip(&app, &base, &ada, "stable").await, picked["id"]);

    // A conflicting change is refused and nothing moves; a message of one's own is kept.
    let other = json!({"branch": "other", "start_branch": first, "commit_message": "Other guide",
        "actions": [{"action": "create", "file_path": "docs/guide.md", "content": "# Something else\n"}]});
    assert_eq!(
        app.api(Method::POST, &format!("{base}/repository/commits"), t, Some(other)).await.status,
        StatusCode::CREATED
    );
    let before = tip(&app, &base, &ada, "other").await;
    let refused = change(&app, &base, &second, "cherry_pick", &ada, json!({"branch": "other"})).await;
    assert_eq!((refused.status, refused.json()["error_code"].as_str()), (StatusCode::BAD_REQUEST, Some("conflict")));
    assert_eq!(tip(&app, &base, &ada, "other").await, before);
    let topic = json!({"branch": "topic", "ref": first});
    app.api(Method::POST, &format!("{base}/repository/branches"), t, Some(topic)).await;
    let own = change(&app, &base, &second, "cherry_pick", &ada, json!({"branch": "topic", "message": "Mine"})).await;
    assert_eq!(own.json()["message"], "Mine");

    // Refusals: unknown commit or branch, a missing branch, too low a role.
    let unknown = "0123456789abcdef0123456789abcdef01234567";
    let stable = json!({"branch": "stable"});
    assert_eq!(
        message(&change(&app, &base, unknown, "cherry_pick", &ada, stable.clone()).await),
        "404 Commit Not Found"
    );
    let nowhere = change(&app, &base, &second, "cherry_pick", &ada, json!({"branch": "nowhere"})).await;
    assert_eq!(message(&nowhere), "404 Branch Not Found");
    assert_eq!(change(&app, &base, &second, "cherry_pick", &ada, json!({})).await.status, StatusCode::BAD_REQUEST);
    let low = change(&app, &base, &second, "cherry_pick", &reader, stable).await;
    assert_eq!(low.status, StatusCode::FORBIDDEN);

    // A revert on `main` (protected: the Developer may not), then once more: nothing to undo.
    let main = json!({"branch": "main"});
    let denied = change(&app, &base, &second, "revert", &dev, main.clone()).await;
    assert_eq!(
        (denied.status, message(&denied)),
        (StatusCode::FORBIDDEN, "You are not allowed to push into this branch".to_owned())
    );
    let reverted = change(&app, &base, &second, "revert", &ada, main.clone()).await;
    assert_eq!(reverted.status, StatusCode::OK, "{}", reverted.body);
    assert_eq!(reverted.json()["message"], format!("Revert \"Add docs and a script\"\n\nThis reverts commit {second}"));
    assert_eq!(reverted.json()["author_name"], "ada Tester");
    let gone = app.api(Method::GET, &format!("{base}/repository/files/run.sh?ref=main"), t, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let twice = change(&app, &base, &second, "revert", &ada, main).await;
    assert_eq!((twice.status, twice.json()["error_code"].as_str()), (StatusCode::BAD_REQUEST, Some("empty")));
    assert!(message(&twice).starts_with("Commit revert failed:"));
}

#[tokio::test]
async fn the_commit_page_cherry_picks_and_reverts_for_those_who_may_push() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let reader = app.user("reader").await;
    let (base, first, second) = project_with_commits(&app, &ada, "pages").await;
    let body = json!({"user_id": reader.user.id.0, "access_level": 20});
    assert_eq!(
        app.api(Method::POST, &format!("{base}/members"), Some(&ada.token), Some(body)).await.status,
        StatusCode::CREATED
    );
    let branch = json!({"branch": "stable", "ref": first});
    app.api(Method::POST, &format!("{base}/repository/branches"), Some(&ada.token), Some(branch)).await;

    let page = app.page(Method::GET, &format!("/ada/pages/-/commit/{second}"), Some(&ada), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("/cherry_pick\"") && page.body.contains("/revert\"") && page.body.contains(">stable<"));
    let read_only = app.page(Method::GET, &format!("/ada/pages/-/commit/{second}"), Some(&reader), None).await;
    assert!(!read_only.body.contains("/cherry_pick\""), "a Reporter sees no form");

    let picked = app
        .page(
            Method::POST,
            &format!("/ada/pages/-/commit/{second}/cherry_pick"),
            Some(&ada),
            Some(&[("branch", "stable")]),
        )
        .await;
    assert_eq!(picked.status, StatusCode::SEE_OTHER, "{}", picked.body);
    let tip = app.api(Method::GET, &format!("{base}/repository/branches/stable"), Some(&ada.token), None).await;
    let tip = tip.json()["commit"]["id"].as_str().unwrap().to_owned();
    assert_eq!(picked.header("location"), format!("/ada/pages/-/commit/{tip}"));
    let again = app
        .page(
            Method::POST,
            &format!("/ada/pages/-/commit/{second}/cherry_pick"),
            Some(&ada),
            Some(&[("branch", "stable")]),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("Commit cherry-pick failed"), "{}", again.body);
    let refused = app
        .page(Method::POST, &format!("/ada/pages/-/commit/{second}/revert"), Some(&reader), Some(&[("branch", "main")]))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let reverted = app
        .page(Method::POST, &format!("/ada/pages/-/commit/{second}/revert"), Some(&ada), Some(&[("branch", "main")]))
        .await;
    assert_eq!(reverted.status, StatusCode::SEE_OTHER, "{}", reverted.body);

    let tree = app.page(Method::GET, "/ada/pages/-/tree/main", Some(&ada), None).await;
    assert!(tree.body.contains(".tar.bz2\"") && tree.body.contains(".tar\""), "the tree offers every format");
    let bz2 = app.page(Method::GET, "/ada/pages/-/archive/main/pages-main.tar.bz2", Some(&ada), None).await;
    assert_eq!((bz2.status, &bz2.bytes[..3]), (StatusCode::OK, &b"BZh"[..]));
    assert!(bz2.header("content-disposition").contains("pages-main.tar.bz2"));
}

#[tokio::test]
async fn a_branch_in_an_empty_repository_starts_from_a_readme() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let t = Some(ada.token.as_str());
    let created = app.api(Method::POST, "/api/v4/projects", t, Some(json!({"name": "blank"}))).await;
    let base = format!("/api/v4/projects/{}", created.json()["id"]);
    assert_eq!(created.json()["empty_repo"], true);

    let bad = json!({"branch": "a..b", "ref": "main"});
    assert_eq!(
        app.api(Method::POST, &format!("{base}/repository/branches"), t, Some(bad)).await.status,
        StatusCode::BAD_REQUEST
    );
    let still = app.api(Method::GET, &format!("{base}/repository/branches"), t, None).await;
    assert_eq!(still.json(), json!([]), "a refused name writes nothing");

    let branch = json!({"branch": "BRANCH-cli-v4", "ref": "main"});
    let made = app.api(Method::POST, &format!("{base}/repository/branches"), t, Some(branch)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.json()["name"], "BRANCH-cli-v4");
    let main = app.api(Method::GET, &format!("{base}/repository/branches/main"), t, None).await.json();
    assert_eq!(main["commit"]["title"], "Add README.md");
    assert_eq!(main["commit"]["author_name"], "ada Tester");
    assert_eq!(made.json()["commit"]["id"], main["commit"]["id"]);
    let readme = app.api(Method::GET, &format!("{base}/repository/files/README.md?ref=main"), t, None).await;
    assert_eq!(readme.json()["size"], 0);

    let deleted = app.api(Method::DELETE, &format!("{base}/repository/branches/BRANCH-cli-v4"), t, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let branches = app.api(Method::GET, &format!("{base}/repository/branches"), t, None).await;
    assert_eq!(branches.json().as_array().unwrap().len(), 1);
}
