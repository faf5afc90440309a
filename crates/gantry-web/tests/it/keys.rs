//! SSH keys through the API and the profile page.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::TestApp;

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILuQv48Nf5fGcJQbPCqq0oO8XrxxtKoN8EDKUUr8Bvpu ada@laptop";

#[tokio::test]
async fn ssh_keys_are_added_listed_and_deleted() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let a = Some(ada.token.as_str());
    let added = app.api(Method::POST, "/api/v4/user/keys", a, Some(json!({"title": "", "key": KEY}))).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let key = added.json();
    assert_eq!(key["title"], "ada@laptop", "the comment is the default title");
    assert!(key["fingerprint"].as_str().unwrap().starts_with("SHA256:"));
    let again =
        app.api(Method::POST, "/api/v4/user/keys", Some(&bob.token), Some(json!({"title": "mine", "key": KEY}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "a key belongs to one account");
    for (body, expected) in [
        (json!({"title": "x", "key": "ssh-rsa AAAA"}), "not a valid OpenSSH public key"),
        (json!({"title": "x", "key": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc"}), "private key"),
        (json!({"title": "x", "key": KEY, "expires_at": "2001-01-01"}), "future"),
    ] {
        let refused = app.api(Method::POST, "/api/v4/user/keys", Some(&bob.token), Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert!(refused.json()["message"].as_str().unwrap().contains(expected), "{}", refused.body);
    }
    let listed = app.api(Method::GET, &format!("/api/v4/users/{}/keys", ada.user.id.0), Some(&bob.token), None).await;
    assert_eq!(listed.json().as_array().unwrap().len(), 1, "public keys are public");
    let id = key["id"].as_i64().unwrap();
    assert_eq!(
        app.api(Method::GET, &format!("/api/v4/user/keys/{id}"), Some(&bob.token), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(Method::DELETE, &format!("/api/v4/user/keys/{id}"), Some(&bob.token), None).await.status,
        StatusCode::NOT_FOUND
    );

    let page = app.page(Method::GET, "/-/profile/keys", Some(&ada), None).await;
    assert!(page.body.contains("ada@laptop") && page.body.contains("SHA256:"), "{}", page.body);
    let bad = app.page(Method::POST, "/-/profile/keys", Some(&ada), Some(&[("key", "nonsense"), ("title", "t")])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("nonsense"), "the form keeps what was typed");
    let deleted = app.page(Method::POST, &format!("/-/profile/keys/{id}/delete"), Some(&ada), Some(&[])).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(app.api(Method::GET, "/api/v4/user/keys", a, None).await.json().as_array().unwrap().len(), 0);
    let readded =
        app.page(Method::POST, "/-/profile/keys", Some(&bob), Some(&[("key", KEY), ("title", "bob's")])).await;
    assert_eq!(readded.status, StatusCode::SEE_OTHER, "a deleted key can be added again");
}
