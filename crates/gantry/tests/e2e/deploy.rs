//! Deploy credentials with the real `git` and `ssh` clients against a real `gantry serve`: a
//! deploy token clones over HTTP (its project's, or every project below its group's) and never
//! pushes, and stops working once revoked or expired; a deploy key clones over SSH where it is
//! enabled, pushes only where it may, and never to a protected branch.

use std::path::Path;

use serde_json::json;

use crate::git_http::{commit, git_fails, git_ok, refs, team, url};
use crate::git_ssh::{key_pair, ssh_git};
use crate::server::Server;

/// A deploy token of `path` (`projects/<id>` or `groups/<id>`): its user name and secret.
fn deploy_token(server: &Server, token: &str, path: &str, body: serde_json::Value) -> (String, String) {
    let created = server.post_json(&format!("/api/v4/{path}/deploy_tokens"), token, &body);
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().unwrap();
    (created["username"].as_str().unwrap().to_owned(), created["token"].as_str().unwrap().to_owned())
}

/// `main` of `acme/api` gets a first commit, pushed by its Maintainer.
fn first_commit(server: &Server, lead: &str, work: &Path) {
    git_ok(work, &["clone", &url(server, "lead", lead, "acme/api"), "seed"]);
    let seed = work.join("seed");
    commit(&seed, "README.md", "# API\n");
    git_ok(&seed, &["push", "origin", "main"]);
}

#[test]
fn deploy_tokens_clone_over_http_and_never_push() {
    let server = Server::start();
    let team = team(&server);
    let work = tempfile::tempdir().unwrap();
    first_commit(&server, &team.lead, work.path());
    let lead_api = server.token("lead", "api");
    let project = format!("projects/{}", team.project_id);

    let (username, token) = deploy_token(
        &server,
        &lead_api,
        &project,
        json!({"name": "ci", "username": "ci-bot", "scopes": ["read_repository"]}),
    );
    assert!(token.starts_with("gldt-"), "{token}");
    let cloned = url(&server, &username, &token, "acme/api");
    git_ok(work.path(), &["clone", &cloned, "deployed"]);
    let deployed = work.path().join("deployed");
    assert_eq!(std::fs::read_to_string(deployed.join("README.md")).unwrap(), "# API\n");
    commit(&deployed, "nope.txt", "nope\n");
    let before = refs(&server, &team.root, "acme/api");
    let printed = git_fails(&deployed, &["push", "origin", "HEAD:refs/heads/nope"]);
    assert!(printed.contains("a deploy token cannot push"), "{printed}");
    assert_eq!(refs(&server, &team.root, "acme/api"), before, "nothing was pushed");

    // The token goes with its own user name only.
    let printed = git_fails(work.path(), &["clone", &url(&server, "someone", &token, "acme/api"), "wrong-name"]);
    assert!(printed.contains("Authentication failed") || printed.contains("401"), "{printed}");

    // Registry scopes alone do not clone.
    let (registry_user, registry_token) =
        deploy_token(&server, &lead_api, &project, json!({"name": "images", "scopes": "read_registry"}));
    assert!(registry_user.starts_with("gitlab+deploy-token-"), "{registry_user}");
    let printed =
        git_fails(work.path(), &["clone", &url(&server, &registry_user, &registry_token, "acme/api"), "registry"]);
    assert!(printed.contains("read_repository"), "{printed}");

    // Expired and revoked tokens stop working.
    let (old_user, old_token) = deploy_token(
        &server,
        &lead_api,
        &project,
        json!({"name": "old", "scopes": ["read_repository"], "expires_at": "2001-01-01"}),
    );
    git_fails(work.path(), &["clone", &url(&server, &old_user, &old_token, "acme/api"), "expired"]);
    let tokens: serde_json::Value = server.get(&format!("/api/v4/{project}/deploy_tokens"), &lead_api).json().unwrap();
    let ci = tokens.as_array().unwrap().iter().find(|t| t["name"] == "ci").unwrap()["id"].as_i64().unwrap();
    let client = crate::http_client().build().unwrap();
    let deleted = client
        .delete(format!("{}/api/v4/{project}/deploy_tokens/{ci}", server.base_url))
        .header("PRIVATE-TOKEN", &lead_api)
        .send()
        .unwrap();
    assert_eq!(deleted.status(), 204);
    git_fails(work.path(), &["clone", &cloned, "after-delete"]);

    // A group's token clones every project below the group, and nothing else.
    let groups: serde_json::Value = server.get("/api/v4/groups?search=acme", &team.root).json().unwrap();
    let group_id = groups[0]["id"].as_i64().unwrap();
    let (group_user, group_token) = deploy_token(
        &server,
        &team.root,
        &format!("groups/{group_id}"),
        json!({"name": "fleet", "scopes": ["read_repository"]}),
    );
    git_ok(work.path(), &["clone", &url(&server, &group_user, &group_token, "acme/api"), "by-group"]);
    let other: serde_json::Value =
        server.post_json("/api/v4/projects", &team.root, &json!({"name": "Elsewhere"})).json().unwrap();
    let elsewhere = other["path_with_namespace"].as_str().unwrap();
    let printed = git_fails(work.path(), &["clone", &url(&server, &group_user, &group_token, elsewhere), "outside"]);
    assert!(printed.contains("could not be found"), "{printed}");
}

#[test]
fn deploy_keys_clone_over_ssh_and_push_only_where_allowed() {
    let server = Server::start();
    let team = team(&server);
    let work = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    first_commit(&server, &team.lead, work.path());
    let lead_api = server.token("lead", "api");
    let project = format!("/api/v4/projects/{}/deploy_keys", team.project_id);
    let deploy_key = key_pair(keys.path(), "deployer");
    let public = std::fs::read_to_string(deploy_key.with_extension("pub")).unwrap();
    let added = server.post_json(&project, &lead_api, &json!({"title": "deployer", "key": public}));
    assert_eq!(added.status(), 201);
    let key_id = added.json::<serde_json::Value>().unwrap()["id"].as_i64().unwrap();

    // Read-only: it clones the private project, and its pushes are refused.
    let deployer = ssh_git(&server, &deploy_key, "acme/api");
    deployer.ok(work.path(), &["clone", &deployer.url, "deployed"]);
    let deployed = work.path().join("deployed");
    assert_eq!(std::fs::read_to_string(deployed.join("README.md")).unwrap(), "# API\n");
    deployer.ok(&deployed, &["checkout", "-q", "-b", "release-notes"]);
    commit(&deployed, "NOTES", "notes\n");
    let printed = deployer.fails(&deployed, &["push", "origin", "release-notes"]);
    assert!(printed.contains("this deploy key has no write access"), "{printed}");

    // Given write access: it pushes a branch, but not to the protected main.
    let client = crate::http_client().build().unwrap();
    let allowed = client
        .put(format!("{}{project}/{key_id}", server.base_url))
        .header("PRIVATE-TOKEN", &lead_api)
        .json(&json!({"can_push": true}))
        .send()
        .unwrap();
    assert_eq!(allowed.status(), 200);
    deployer.ok(&deployed, &["push", "origin", "release-notes"]);
    assert!(refs(&server, &team.root, "acme/api").contains("refs/heads/release-notes"));
    deployer.ok(&deployed, &["checkout", "-q", "main"]);
    commit(&deployed, "main.txt", "main\n");
    let printed = deployer.fails(&deployed, &["push", "origin", "main"]);
    assert!(printed.contains("protected branch 'main'"), "{printed}");

    // Elsewhere it is not known; a project it is not enabled on is not found.
    let other: serde_json::Value =
        server.post_json("/api/v4/projects", &team.root, &json!({"name": "Elsewhere"})).json().unwrap();
    let elsewhere = ssh_git(&server, &deploy_key, other["path_with_namespace"].as_str().unwrap());
    let printed = elsewhere.fails(work.path(), &["clone", &elsewhere.url, "elsewhere"]);
    assert!(printed.contains("could not be found"), "{printed}");

    // The deploy key is not a person's key, and a person's key is not a deploy key.
    let dev_api = server.token("dev", "api");
    let taken = server.post_json("/api/v4/user/keys", &dev_api, &json!({"title": "mine", "key": public}));
    assert_eq!(taken.status(), 409);
    let dev_key = key_pair(keys.path(), "dev");
    let dev_public = std::fs::read_to_string(dev_key.with_extension("pub")).unwrap();
    let mine = server.post_json("/api/v4/user/keys", &dev_api, &json!({"title": "laptop", "key": dev_public}));
    assert_eq!(mine.status(), 201);
    let refused = server.post_json(&project, &lead_api, &json!({"title": "dev's", "key": dev_public}));
    assert_eq!(refused.status(), 400);
    let refused: serde_json::Value = refused.json().unwrap();
    assert!(refused["message"].as_str().unwrap().contains("has already been taken"), "{refused}");
}
