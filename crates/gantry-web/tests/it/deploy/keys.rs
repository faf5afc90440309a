//! Deploy keys through the API: added, shared between projects a Maintainer holds, enabled,
//! changed and removed; instance keys; one key, one identity; the keys API.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gantry_core::Actor;
use gantry_types::AccessLevel;
use serde_json::json;

use super::{fingerprint, key, member, message, project_of};
use crate::support::TestApp;

#[tokio::test]
async fn deploy_keys_are_added_shared_changed_and_removed() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let lead = app.user("lead").await;
    let dev = app.user("dev").await;
    let carol = app.user("carol").await;
    let stranger = app.user("stranger").await;
    let api = project_of(&app, &lead, "API").await;
    let web = project_of(&app, &lead, "Web").await;
    let carols = project_of(&app, &carol, "Carols").await;
    member(&app, &lead, &api, &dev, AccessLevel::Developer).await;
    let keys = |project: &gantry_core::ProjectRow| format!("/api/v4/projects/{}/deploy_keys", project.id);
    let (l, r, c) = (Some(lead.token.as_str()), Some(root.token.as_str()), Some(carol.token.as_str()));

    // Only Maintainers manage deploy keys; others are refused before their input is read.
    let body = json!({"title": "ci", "key": key(1, "ci@host"), "can_push": true});
    for (who, status) in [(&dev, StatusCode::FORBIDDEN), (&stranger, StatusCode::NOT_FOUND)] {
        let refused = app.api(Method::POST, &keys(&api), Some(&who.token), Some(json!({}))).await;
        assert_eq!(refused.status, status, "{}", refused.body);
        assert_eq!(app.api(Method::GET, &keys(&api), Some(&who.token), None).await.status, status);
    }
    let added = app.api(Method::POST, &keys(&api), l, Some(body.clone())).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let added = added.json();
    let id = added["id"].as_i64().unwrap();
    assert_eq!(added["title"], "ci");
    assert_eq!(added["can_push"], true);
    assert_eq!(added["fingerprint_sha256"], fingerprint(&key(1, "")));
    assert!(
        added["key"].as_str().unwrap().starts_with("ssh-ed25519 ")
            && !added["key"].as_str().unwrap().contains("ci@host")
    );
    assert!(added.get("fingerprint").is_none(), "GitLab's MD5 fingerprint is not kept: {added}");
    let again = app.api(Method::POST, &keys(&api), l, Some(body.clone())).await;
    assert_eq!(again.json()["id"], id, "the same key added twice is one key");
    let listed = app.api(Method::GET, &keys(&api), l, None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let one = app.api(Method::GET, &format!("{}/{id}", keys(&api)), l, None).await;
    assert_eq!(one.json()["title"], "ci");

    // The key a Maintainer uses in one project joins another of theirs, read-only unless asked.
    let joined = app.api(Method::POST, &keys(&web), l, Some(json!({"title": "ci", "key": key(1, "")}))).await;
    assert_eq!(joined.status, StatusCode::CREATED);
    assert_eq!(joined.json()["id"], id);
    assert_eq!(joined.json()["can_push"], false);
    // Someone who maintains no project using it can neither join nor enable it.
    let taken = app.api(Method::POST, &keys(&carols), c, Some(body.clone())).await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST, "{}", taken.body);
    assert!(message(&taken).contains("fingerprint has already been taken"), "{}", taken.body);
    let hidden = app.api(Method::POST, &format!("{}/{id}/enable", keys(&carols)), c, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(message(&hidden), "404 Deploy key Not Found");
    let enabled = app.api(Method::POST, &format!("{}/{id}/enable", keys(&carols)), r, None).await;
    assert_eq!(enabled.status, StatusCode::CREATED, "administrators may enable any key");
    assert_eq!(enabled.json()["can_push"], false);

    // Changing the title and the write access.
    let changed = app
        .api(Method::PUT, &format!("{}/{id}", keys(&api)), l, Some(json!({"title": "ci key", "can_push": false})))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.json()["title"], "ci key");
    assert_eq!(changed.json()["can_push"], false);
    let blank = app.api(Method::PUT, &format!("{}/{id}", keys(&api)), l, Some(json!({"title": " "}))).await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);

    // The administrators' listing names the projects of each key.
    assert_eq!(app.api(Method::GET, "/api/v4/deploy_keys", l, None).await.status, StatusCode::NOT_FOUND);
    let all = app.api(Method::GET, "/api/v4/deploy_keys", r, None).await;
    assert_eq!(all.header("x-total"), "1");
    let all = all.json();
    let readonly: Vec<&str> = all[0]["projects_with_readonly_access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path_with_namespace"].as_str().unwrap())
        .collect();
    assert_eq!(readonly, ["lead/api", "lead/web", "carol/carols"]);
    assert_eq!(all[0]["projects_with_write_access"], json!([]));

    // Disabling it everywhere deletes it.
    for (project, token) in [(&api, l), (&web, l), (&carols, c)] {
        let gone = app.api(Method::DELETE, &format!("{}/{id}", keys(project)), token, None).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    }
    assert_eq!(app.api(Method::GET, "/api/v4/deploy_keys", r, None).await.json(), json!([]));
    let twice = app.api(Method::DELETE, &format!("{}/{id}", keys(&api)), l, None).await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn instance_keys_are_for_every_project_and_stay_when_unused() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let carol = app.user("carol").await;
    let carols = project_of(&app, &carol, "Carols").await;
    let (r, c) = (Some(root.token.as_str()), Some(carol.token.as_str()));
    let body = json!({"title": "fleet", "key": key(7, "fleet")});
    let refused = app.api(Method::POST, "/api/v4/deploy_keys", c, Some(body.clone())).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "administrators only");
    let made = app.api(Method::POST, "/api/v4/deploy_keys", r, Some(body.clone())).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.json()["id"].as_i64().unwrap();
    assert!(made.json().get("can_push").is_none());
    let public = app.api(Method::GET, "/api/v4/deploy_keys?public=true", r, None).await.json();
    assert_eq!(public[0]["id"], id);

    // Any project's Maintainer may enable it, or add it by its text (python-gitlab does).
    let keys = format!("/api/v4/projects/{}/deploy_keys", carols.id);
    let enabled = app.api(Method::POST, &format!("{keys}/{id}/enable"), c, None).await;
    assert_eq!(enabled.status, StatusCode::CREATED, "{}", enabled.body);
    let renamed = app.api(Method::PUT, &format!("{keys}/{id}"), c, Some(json!({"title": "mine now"}))).await;
    assert_eq!(renamed.status, StatusCode::FORBIDDEN, "only administrators rename an instance key");
    assert_eq!(app.api(Method::DELETE, &format!("{keys}/{id}"), c, None).await.status, StatusCode::NO_CONTENT);
    let readded = app.api(Method::POST, &keys, c, Some(body)).await;
    assert_eq!(readded.json()["id"], id);
    assert_eq!(app.api(Method::DELETE, &format!("{keys}/{id}"), c, None).await.status, StatusCode::NO_CONTENT);
    let all = app.api(Method::GET, "/api/v4/deploy_keys", r, None).await.json();
    assert_eq!(all[0]["id"], id, "an unused instance key stays");
}

#[tokio::test]
async fn one_key_is_one_identity_and_bad_keys_are_refused() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let lead = app.user("lead").await;
    let api = project_of(&app, &lead, "API").await;
    let keys = format!("/api/v4/projects/{}/deploy_keys", api.id);
    let l = Some(lead.token.as_str());

    let mine = app.api(Method::POST, "/api/v4/user/keys", l, Some(json!({"title": "laptop", "key": key(2, "")}))).await;
    assert_eq!(mine.status, StatusCode::CREATED);
    let refused = app.api(Method::POST, &keys, l, Some(json!({"title": "x", "key": key(2, "")}))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(message(&refused).contains("has already been taken"), "{}", refused.body);
    let deploy = app.api(Method::POST, &keys, l, Some(json!({"title": "ci", "key": key(3, "")}))).await;
    assert_eq!(deploy.status, StatusCode::CREATED);
    let as_user = app.api(Method::POST, "/api/v4/user/keys", l, Some(json!({"title": "x", "key": key(3, "")}))).await;
    assert_eq!(as_user.status, StatusCode::CONFLICT, "a deploy key cannot be a person's key");
    let admin_key =
        app.api(Method::POST, "/api/v4/deploy_keys", Some(&root.token), Some(json!({"title": "x", "key": key(2, "")})));
    assert_eq!(admin_key.await.status, StatusCode::BAD_REQUEST);

    // A user's key deleted frees the key.
    let mine = mine.json()["id"].as_i64().unwrap();
    assert_eq!(
        app.api(Method::DELETE, &format!("/api/v4/user/keys/{mine}"), l, None).await.status,
        StatusCode::NO_CONTENT
    );
    let freed = app.api(Method::POST, &keys, l, Some(json!({"title": "now a deploy key", "key": key(2, "")}))).await;
    assert_eq!(freed.status, StatusCode::CREATED, "{}", freed.body);

    // A private key whose projects were all deleted is free again.
    let temp = project_of(&app, &lead, "Temp").await;
    let temp_keys = format!("/api/v4/projects/{}/deploy_keys", temp.id);
    let on_temp = app.api(Method::POST, &temp_keys, l, Some(json!({"title": "temp", "key": key(6, "")}))).await;
    assert_eq!(on_temp.status, StatusCode::CREATED);
    app.core.manage().delete_project(&Actor::User(lead.user.clone()), &temp).await.unwrap();
    let other = app.user("other").await;
    let others = project_of(&app, &other, "Others").await;
    let reused = app
        .api(
            Method::POST,
            &format!("/api/v4/projects/{}/deploy_keys", others.id),
            Some(&other.token),
            Some(json!({"title": "reused", "key": key(6, "")})),
        )
        .await;
    assert_eq!(reused.status, StatusCode::CREATED, "{}", reused.body);
    assert_eq!(reused.json()["title"], "reused");

    for (body, expected) in [
        (json!({}), "key is empty"),
        (json!({"title": "x", "key": "ssh-rsa AAAA"}), "key is not a valid OpenSSH public key"),
        (json!({"title": "x", "key": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc"}), "private key"),
        (json!({"key": key(4, "")}), "title can't be blank"),
        (json!({"title": "x", "key": key(4, ""), "expires_at": "2001-01-01"}), "expires_at must be in the future"),
        (json!({"title": "x", "key": key(4, ""), "expires_at": "soon"}), "expires_at is invalid"),
        (json!({"title": "x".repeat(256), "key": key(4, "")}), "title is too long"),
    ] {
        let refused = app.api(Method::POST, &keys, l, Some(body.clone())).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}: {}", refused.body);
        assert!(message(&refused).contains(expected), "{body}: {}", refused.body);
    }
    let can_push =
        app.api(Method::POST, &keys, l, Some(json!({"title": "x", "key": key(4, ""), "can_push": "maybe"}))).await;
    assert_eq!(can_push.status, StatusCode::BAD_REQUEST);
    assert_eq!(message(&can_push), "can_push is invalid");
    let listed = app.api(Method::GET, &keys, l, None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 2, "nothing was added by the refused requests");
    let form = Request::builder()
        .method(Method::POST)
        .uri(&keys)
        .header("PRIVATE-TOKEN", &lead.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            serde_urlencoded::to_string([("title", "form"), ("key", &key(5, "")), ("can_push", "true")]).unwrap(),
        ))
        .unwrap();
    let form = app.send(form).await;
    assert_eq!(form.status, StatusCode::CREATED, "{}", form.body);
    assert_eq!(form.json()["can_push"], true);
}

#[tokio::test]
async fn the_keys_api_finds_users_keys_and_deploy_keys() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let api = project_of(&app, &ada, "API").await;
    let r = Some(root.token.as_str());
    let added = app
        .api(
            Method::POST,
            &format!("/api/v4/users/{}/keys", ada.user.id.0),
            r,
            Some(json!({"title": "laptop", "key": key(1, "")})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let id = added.json()["id"].as_i64().unwrap();

    let by_id = app.api(Method::GET, &format!("/api/v4/keys/{id}"), r, None).await;
    assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.body);
    assert_eq!(by_id.json()["title"], "laptop");
    assert_eq!(by_id.json()["key"], added.json()["key"]);
    assert_eq!(by_id.json()["user"]["username"], "ada");
    assert_eq!(
        app.api(Method::GET, &format!("/api/v4/keys/{id}"), Some(&ada.token), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.api(Method::GET, "/api/v4/keys/999", r, None).await.status, StatusCode::NOT_FOUND);

    let query = |fingerprint: &str| format!("/api/v4/keys?fingerprint={}", urlencode(fingerprint));
    let by_fingerprint = app.api(Method::GET, &query(&fingerprint(&key(1, ""))), r, None).await;
    assert_eq!(by_fingerprint.status, StatusCode::OK, "{}", by_fingerprint.body);
    assert_eq!(by_fingerprint.json()["id"], id);
    assert_eq!(by_fingerprint.json()["user"]["username"], "ada");
    let unencoded = format!("/api/v4/keys?fingerprint={}", fingerprint(&key(1, "")));
    assert_eq!(app.api(Method::GET, &unencoded, r, None).await.json()["id"], id, "an unencoded + is read as one");

    let deploy = app
        .api(
            Method::POST,
            &format!("/api/v4/projects/{}/deploy_keys", api.id),
            Some(&ada.token),
            Some(json!({"title": "ci", "key": key(2, "")})),
        )
        .await;
    assert_eq!(deploy.status, StatusCode::CREATED);
    let found = app.api(Method::GET, &query(&fingerprint(&key(2, ""))), r, None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let found = found.json();
    assert_eq!(found["title"], "ci");
    assert_eq!(found["key"], deploy.json()["key"]);
    assert_eq!(found["user"]["username"], "ada", "the key's user is who added it");
    assert_eq!(found["deploy_keys_projects"][0]["project_id"], api.id.0);
    assert_eq!(found["deploy_keys_projects"][0]["can_push"], false);

    assert_eq!(
        app.api(Method::GET, &query(&fingerprint(&key(2, ""))), Some(&ada.token), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.api(Method::GET, &query(&fingerprint(&key(9, ""))), r, None).await.status, StatusCode::NOT_FOUND);
    let missing = app.api(Method::GET, "/api/v4/keys", r, None).await;
    assert_eq!((missing.status, message(&missing)), (StatusCode::BAD_REQUEST, "fingerprint is missing".to_owned()));
    let md5 = app.api(Method::GET, &query("ba:81:59:68:d7:6c:cd:02:02:bf:6a:9b:55:4e:af:d1"), r, None).await;
    assert_eq!(md5.status, StatusCode::BAD_REQUEST);
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("x", text)]).unwrap().trim_start_matches("x=").to_owned()
}
