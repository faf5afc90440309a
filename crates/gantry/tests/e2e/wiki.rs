//! Project and group wikis with the real `git` client, over HTTP and SSH: a page written in the
//! API is in a clone; pages pushed with git are in the API, the pages and search, with their
//! history; the project's or group's rights hold (a read-only token, a role too low, someone
//! outside the group and an anonymous visitor do not push or read a private wiki).

use std::path::Path;

use serde_json::json;

use crate::git_http::{commit, git_fails, git_ok, team, url};
use crate::git_ssh::{key_pair, ssh_git};
use crate::server::Server;

#[test]
fn a_wiki_is_cloned_and_pushed_with_git_and_its_pages_follow() {
    let server = Server::start();
    let team = team(&server);
    let work = tempfile::tempdir().unwrap();
    let wikis = format!("/api/v4/projects/{}/wikis", team.project_id);
    let dev_api = server.token("dev", "api");

    // A page written in the API is a file of the wiki's repository.
    let made = server.post_json(&wikis, &dev_api, &json!({"title": "home", "content": "# Welcome\n"}));
    assert_eq!(made.status(), 201, "{}", made.text().unwrap());
    git_ok(work.path(), &["clone", &url(&server, "reader", &team.reader, "acme/api.wiki"), "reader"]);
    let reader = work.path().join("reader");
    assert_eq!(std::fs::read_to_string(reader.join("home.md")).unwrap(), "# Welcome\n");

    // Pages pushed by a Developer: a new one in a folder, then a change to it.
    git_ok(work.path(), &["clone", &url(&server, "dev", &team.dev, "acme/api.wiki"), "dev"]);
    let dev = work.path().join("dev");
    std::fs::create_dir_all(dev.join("guides")).unwrap();
    commit(&dev, "guides/Install-steps.md", "Download it.\n");
    commit(&dev, "guides/Install-steps.md", "Download it.\nRun it.\n");
    git_ok(&dev, &["push", "origin", "main"]);
    let page: serde_json::Value = server.get(&format!("{wikis}/guides%2FInstall-steps"), &dev_api).json().unwrap();
    assert_eq!(
        (page["title"].as_str(), page["content"].as_str()),
        (Some("Install steps"), Some("Download it.\nRun it.\n"))
    );
    let (status, history) = server.page_as("dev", "/acme/api/-/wikis/guides/Install-steps/-/history");
    assert_eq!(status, 200);
    assert_eq!(history.matches("change guides/Install-steps.md").count(), 2, "{history}");
    let (status, shown) = server.page_as("reader", "/acme/api/-/wikis/guides/Install-steps");
    assert_eq!(status, 200);
    assert!(shown.contains("Run it."), "{shown}");
    // The push queued a refresh of the wiki's search index: the pushed page is found.
    let search = format!("/api/v4/projects/{}/search?scope=wiki_blobs&search=download", team.project_id);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found: serde_json::Value = server.get(&search, &dev_api).json().unwrap();
        if found.as_array().is_some_and(|hits| hits.iter().any(|hit| hit["path"] == "guides/Install-steps.md")) {
            assert_eq!(found[0]["data"], "Download it.\nRun it.\n");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the pushed page is not found: {found}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // The reader's token only reads; nobody anonymous sees a private project's wiki.
    commit(&reader, "sneaky.md", "no\n");
    let refused = git_fails(&reader, &["push", "origin", "main"]);
    assert!(refused.contains("write_repository"), "{refused}");
    let anonymous = format!("{}/acme/api.wiki.git", server.base_url);
    git_fails(work.path(), &["clone", &anonymous, "anonymous"]);
    git_ok(&reader, &["pull", "-q", "--rebase", "origin", "main"]);
    assert!(reader.join("guides/Install-steps.md").exists());

    // Over SSH too, with the Developer's key.
    let keys = tempfile::tempdir().unwrap();
    let key = key_pair(keys.path(), "dev");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let added = server.post_json("/api/v4/user/keys", &dev_api, &json!({"title": "laptop", "key": public}));
    assert_eq!(added.status(), 201);
    let ssh = ssh_git(&server, &key, "acme/api.wiki");
    ssh.ok(work.path(), &["clone", &ssh.url, "over-ssh"]);
    let over_ssh = work.path().join("over-ssh");
    assert!(over_ssh.join("guides/Install-steps.md").exists());
    commit(&over_ssh, "_sidebar.md", "[Home](home)\n");
    ssh.ok(&over_ssh, &["push", "origin", "main"]);
    let (_, home) = server.page_as("dev", "/acme/api/-/wikis");
    assert!(
        home.contains("<a href=\"/acme/api/-/wikis/home\" rel=\"noopener noreferrer nofollow\">Home</a>"),
        "the sidebar pushed over SSH shows: {home}"
    );
    assert!(Path::new(&over_ssh).join("home.md").exists());
}

#[test]
fn a_group_wiki_is_cloned_and_pushed_with_git_by_the_group_rights() {
    let server = Server::start();
    let team = team(&server);
    let work = tempfile::tempdir().unwrap();
    let group: serde_json::Value = server.get("/api/v4/groups/acme", &team.root).json().unwrap();
    let group_id = group["id"].as_i64().unwrap();
    for (user, level) in [("dev", 30), ("reader", 20)] {
        let users: serde_json::Value =
            server.get(&format!("/api/v4/users?username={user}"), &team.root).json().unwrap();
        let body = json!({"user_id": users[0]["id"], "access_level": level});
        let added = server.post_json(&format!("/api/v4/groups/{group_id}/members"), &team.root, &body);
        assert_eq!(added.status(), 201, "{}", added.text().unwrap());
    }
    let wikis = format!("/api/v4/groups/{group_id}/wikis");
    let dev_api = server.token("dev", "api");
    let made = server.post_json(&wikis, &dev_api, &json!({"title": "home", "content": "# Acme handbook\n"}));
    assert_eq!(made.status(), 201, "{}", made.text().unwrap());

    // The group's Reporter clones what the API wrote; its Developer pushes a page.
    git_ok(work.path(), &["clone", &url(&server, "reader", &team.reader, "acme.wiki"), "reader"]);
    let reader = work.path().join("reader");
    assert_eq!(std::fs::read_to_string(reader.join("home.md")).unwrap(), "# Acme handbook\n");
    git_ok(work.path(), &["clone", &url(&server, "dev", &team.dev, "acme.wiki"), "dev"]);
    let dev = work.path().join("dev");
    commit(&dev, "Holidays.md", "Ask two weeks ahead.\n");
    git_ok(&dev, &["push", "origin", "main"]);
    let page: serde_json::Value = server.get(&format!("{wikis}/Holidays"), &dev_api).json().unwrap();
    assert_eq!(page["content"], "Ask two weeks ahead.\n");
    let (status, shown) = server.page_as("reader", "/acme/-/wikis/Holidays");
    assert_eq!(status, 200);
    assert!(shown.contains("Ask two weeks ahead."), "{shown}");
    let search = format!("/api/v4/groups/{group_id}/search?scope=wiki_blobs&search=weeks");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found: serde_json::Value = server.get(&search, &dev_api).json().unwrap();
        if found.as_array().is_some_and(|hits| hits.iter().any(|hit| hit["path"] == "Holidays.md")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the pushed page is not found: {found}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Rights: the project's Maintainer is no member of the group and pushes nothing to its
    // wiki; a Reporter's role does not push either; nobody anonymous reads a private group's.
    commit(&dev, "Lead.md", "no\n");
    let refused = git_fails(&dev, &["push", &url(&server, "lead", &team.lead, "acme.wiki"), "main"]);
    assert!(refused.contains("403") || refused.contains("not found") || refused.contains("denied"), "{refused}");
    let reporter_push = server.token("reader", "write_repository");
    let refused = git_fails(&dev, &["push", &url(&server, "reader", &reporter_push, "acme.wiki"), "main"]);
    assert!(!refused.is_empty());
    git_fails(work.path(), &["clone", &format!("{}/acme.wiki.git", server.base_url), "anonymous"]);

    // Over SSH too, with the Developer's key.
    let keys = tempfile::tempdir().unwrap();
    let key = key_pair(keys.path(), "dev");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let added = server.post_json("/api/v4/user/keys", &dev_api, &json!({"title": "laptop", "key": public}));
    assert_eq!(added.status(), 201);
    let ssh = ssh_git(&server, &key, "acme.wiki");
    ssh.ok(work.path(), &["clone", &ssh.url, "over-ssh"]);
    assert!(work.path().join("over-ssh/Holidays.md").exists());
}
