//! What a user account holds beyond its profile, and what administrators do to accounts:
//! blocking, banning and deactivating (GitLab's answers and refusals, and what each state
//! stops), secondary e-mail addresses, the user's status, GPG keys and impersonation tokens,
//! through the API and the pages.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{PASSWORD, TestApp, TestResponse};

/// python-gitlab's test key: `05552B1F11F1FBDF467EF4D560C442C77FC7F784`, for fake@fake.tld.
const GPG_KEY: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----

mQENBFn5mzYBCADH6SDVPAp1zh/hxmTi0QplkOfExBACpuY6OhzNdIg+8/528b3g
Y5YFR6T/HLv/PmeHskUj21end1C0PNG2T9dTx+2Vlh9ISsSG1kyF9T5fvMR3bE0x
Dl6S489CXZrjPTS9SHk1kF+7dwjUxLJyxF9hPiSihFefDFu3NeOtG/u8vbC1mewQ
ZyAYue+mqtqcCIFFoBz7wHKMWjIVSJSyTkXExu4OzpVvy3l2EikbvavI3qNz84b+
Mgkv/kiBlNoCy3CVuPk99RYKZ3lX1vVtqQ0OgNGQvb4DjcpyjmbKyibuZwhDjIOh
au6d1OyEbayTntd+dQ4j9EMSnEvm/0MJ4eXPABEBAAG0G0dpdGxhYlRlc3QxIDxm
YWtlQGZha2UudGxkPokBNwQTAQgAIQUCWfmbNgIbAwULCQgHAgYVCAkKCwIEFgID
AQIeAQIXgAAKCRBgxELHf8f3hF3yB/wNJlWPKY65UsB4Lo0hs1OxdxCDqXogSi0u
6crDEIiyOte62pNZKzWy8TJcGZvznRTZ7t8hXgKFLz3PRMcl+vAiRC6quIDUj+2V
eYfwaItd1lUfzvdCaC7Venf4TQ74f5vvNg/zoGwE6eRoSbjlLv9nqsxeA0rUBUQL
LYikWhVMP3TrlfgfduYvh6mfgh57BDLJ9kJVpyfxxx9YLKZbaas9sPa6LgBtR555
JziUxHmbEv8XCsUU8uoFeP1pImbNBplqE3wzJwzOMSmmch7iZzrAwfN7N2j3Wj0H
B5kQddJ9dmB4BbU0IXGhWczvdpxboI2wdY8a1JypxOdePoph/43iuQENBFn5mzYB
CADnTPY0Zf3d9zLjBNgIb3yDl94uOcKCq0twNmyjMhHzGqw+UMe9BScy34GL94Al
xFRQoaL+7P8hGsnsNku29A/VDZivcI+uxTx4WQ7OLcn7V0bnHV4d76iky2ufbUt/
GofthjDs1SonePO2N09sS4V4uK0d5N4BfCzzXgvg8etCLxNmC9BGt7AaKUUzKBO4
2QvNNaC2C/8XEnOgNWYvR36ylAXAmo0sGFXUsBCTiq1fugS9pwtaS2JmaVpZZ3YT
pMZlS0+SjC5BZYFqSmKCsA58oBRzCxQz57nR4h5VEflgD+Hy0HdW0UHETwz83E6/
U0LL6YyvhwFr6KPq5GxinSvfABEBAAGJAR8EGAEIAAkFAln5mzYCGwwACgkQYMRC
x3/H94SJgwgAlKQb10/xcL/epdDkR7vbiei7huGLBpRDb/L5fM8B5W77Qi8Xmuqj
cCu1j99ZCA5hs/vwVn8j8iLSBGMC5gxcuaar/wtmiaEvT9fO/h6q4opG7NcuiJ8H
wRj8ccJmRssNqDD913PLz7T40Ts62blhrEAlJozGVG/q7T3RAZcskOUHKeHfc2RI
YzGsC/I9d7k6uxAv1L9Nm5F2HaAQDzhkdd16nKkGaPGR35cT1JLInkfl5cdm7ldN
nxs4TLO3kZjUTgWKdhpgRNF5hwaz51ZjpebaRf/ZqRuNyX4lIRolDxzOn/+O1o8L
qG2ZdhHHmSK2LaQLFiSprUkikStNU9BqSQ==
=5OGa
-----END PGP PUBLIC KEY BLOCK-----";

/// An armored OpenPGP public key (a v4 public-key packet and a user id naming `email`) whose
/// fingerprint differs for every `seed`. Its key material is made up: nothing here checks it.
pub(crate) fn armored_gpg_key(seed: u64, email: &str) -> String {
    use base64::Engine;
    let mut body = vec![4, 0x5A, 0, 0, 0, 1];
    for mpi in [&seed.to_be_bytes()[..], &[1, 0, 1]] {
        let bits = u16::try_from(mpi.len() * 8).unwrap();
        body.extend_from_slice(&bits.to_be_bytes());
        body.extend_from_slice(mpi);
    }
    let user_id = format!("Sweep {seed} <{email}>");
    let mut data = vec![0xC6, u8::try_from(body.len()).unwrap()];
    data.extend_from_slice(&body);
    data.extend_from_slice(&[0xCD, u8::try_from(user_id.len()).unwrap()]);
    data.extend_from_slice(user_id.as_bytes());
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    format!("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{encoded}\n-----END PGP PUBLIC KEY BLOCK-----\n")
}

fn message(response: &TestResponse) -> String {
    response.json()["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn block_ban_and_deactivate_answer_as_gitlab_and_each_state_shuts_the_account() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let r = Some(root.token.as_str());
    let act = |action: &str| format!("/api/v4/users/{}/{action}", ada.user.id.0);
    let app = &app;
    let post = |path: String| async move { app.api(Method::POST, &path, r, None).await };

    // Block: true, then null; unblock: true, then false (python-gitlab's test_block_user).
    for (action, body) in [("block", "true"), ("block", "null"), ("unblock", "true"), ("unblock", "false")] {
        let answer = post(act(action)).await;
        assert_eq!((answer.status, answer.body.as_str()), (StatusCode::CREATED, body), "{action}");
    }
    let own = app.api(Method::POST, &format!("/api/v4/users/{}/block", root.user.id.0), r, None).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert_eq!(message(&own), "403 Forbidden - The API initiating user cannot be blocked by the API");
    let not_admin = app.api(Method::POST, &act("ban"), Some(&bob.token), None).await;
    assert_eq!(not_admin.status, StatusCode::NOT_FOUND, "administrators only");

    // Ban and unban; the state shows in the user.
    assert_eq!(post(act("ban")).await.body, "true");
    let shown = app.api(Method::GET, &format!("/api/v4/users/{}", ada.user.id.0), r, None).await;
    assert_eq!(shown.json()["state"], "banned");
    let refused = app.api(Method::GET, "/api/v4/user", Some(&ada.token), None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "a banned user's tokens open nothing");
    let signed_in = app.core.manage().sign_in("ada", PASSWORD, "127.0.0.1").await;
    assert!(signed_in.is_err(), "a banned user cannot sign in");
    let again = post(act("ban")).await;
    assert_eq!((again.status, message(&again)), (StatusCode::FORBIDDEN, "You cannot ban banned users.".into()));
    let deactivate = post(act("deactivate")).await;
    assert_eq!(message(&deactivate), "403 Forbidden - A blocked user cannot be deactivated by the API");
    assert_eq!(post(act("unban")).await.body, "true");
    let shown = app.api(Method::GET, &format!("/api/v4/users/{}", ada.user.id.0), r, None).await;
    assert_eq!(shown.json()["state"], "active");
    let unban = post(act("unban")).await;
    assert_eq!((unban.status, message(&unban)), (StatusCode::FORBIDDEN, "You cannot unban active users.".into()));

    // Deactivate: null when already so; unblock refused; signing in on the web reactivates.
    assert_eq!(post(act("deactivate")).await.body, "true");
    assert_eq!(post(act("deactivate")).await.body, "null");
    let unblock = post(act("unblock")).await;
    assert_eq!(message(&unblock), "403 Forbidden - Deactivated users cannot be unblocked by the API");
    let refused = app.api(Method::GET, "/api/v4/user", Some(&ada.token), None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "a deactivated user's tokens open nothing");
    assert!(app.core.manage().check_password("ada", PASSWORD, "127.0.0.1").await.is_err(), "nor does git");
    let others = app.api(Method::GET, "/api/v4/users?per_page=100", Some(&bob.token), None).await;
    assert!(!others.body.contains("\"ada\""), "others no longer list a deactivated user");
    let (user, _) = app.core.manage().sign_in("ada", PASSWORD, "127.0.0.1").await.unwrap();
    assert_eq!(user.state.as_str(), "active", "signing in reactivates");
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(&ada.token), None).await.status, StatusCode::OK);
    assert_eq!(post(act("activate")).await.body, "false", "nothing to activate");
    assert_eq!(post(act("deactivate")).await.body, "true");
    assert_eq!(post(act("activate")).await.body, "true");
    assert_eq!(post(act("block")).await.body, "true");
    let activate = post(act("activate")).await;
    assert_eq!(message(&activate), "403 Forbidden - A blocked user must be unblocked to be activated");
    let blocked = app.api(Method::GET, "/api/v4/users?blocked=true", r, None).await;
    assert!(blocked.body.contains("\"ada\""), "{}", blocked.body);
    assert_eq!(post(act("unblock")).await.body, "true");
    let missing = app.api(Method::POST, "/api/v4/users/999999/ban", r, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_admin_area_offers_each_state_its_changes() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let id = ada.user.id.0;
    let page = app.page(Method::GET, "/admin", Some(&root), None).await;
    for action in ["block", "ban", "deactivate"] {
        assert!(page.body.contains(&format!("/admin/users/{id}/{action}\"")), "{action}");
    }
    let banned = app.page(Method::POST, &format!("/admin/users/{id}/ban"), Some(&root), Some(&[])).await;
    assert_eq!(banned.status, StatusCode::SEE_OTHER);
    let page = app.page(Method::GET, "/admin", Some(&root), None).await;
    assert!(page.body.contains(&format!("/admin/users/{id}/unban\"")) && page.body.contains("banned"));
    assert!(!page.body.contains(&format!("/admin/users/{id}/deactivate\"")));
    let refused = app.page(Method::POST, &format!("/admin/users/{id}/deactivate"), Some(&root), Some(&[])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("A blocked user cannot be deactivated"), "{}", refused.body);
    app.page(Method::POST, &format!("/admin/users/{id}/unban"), Some(&root), Some(&[])).await;
    app.page(Method::POST, &format!("/admin/users/{id}/deactivate"), Some(&root), Some(&[])).await;
    let page = app.page(Method::GET, "/admin", Some(&root), None).await;
    assert!(page.body.contains(&format!("/admin/users/{id}/activate\"")) && page.body.contains("deactivated"));
    let activated = app.page(Method::POST, &format!("/admin/users/{id}/activate"), Some(&root), Some(&[])).await;
    assert_eq!(activated.status, StatusCode::SEE_OTHER);
    let bob = app.user("bob").await;
    let stranger = app.page(Method::POST, &format!("/admin/users/{id}/ban"), Some(&bob), Some(&[])).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let ended = app.page(Method::GET, "/dashboard", Some(&ada), None).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "deactivating ada ended her sessions");
}

#[tokio::test]
async fn secondary_addresses_belong_to_one_account() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let a = Some(ada.token.as_str());
    let added = app.api(Method::POST, "/api/v4/user/emails", a, Some(json!({"email": "Ada@Work.example"}))).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let email = added.json();
    assert_eq!((email["email"].as_str(), email["confirmed_at"].is_null()), (Some("Ada@Work.example"), true));
    let id = email["id"].as_i64().unwrap();
    let listed = app.api(Method::GET, "/api/v4/user/emails", a, None).await.json();
    assert_eq!(listed, json!([email]), "the primary address is not listed, as in GitLab");
    assert_eq!(app.api(Method::GET, &format!("/api/v4/user/emails/{id}"), a, None).await.json(), email);
    let foreign = app.api(Method::GET, &format!("/api/v4/user/emails/{id}"), Some(&bob.token), None).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(message(&foreign), "404 Email Not Found");

    // Taken: another's secondary or primary address, any case; or a bad one.
    for (address, expected) in [
        ("ada@WORK.example", "email has already been taken"),
        ("ada@example.com", "email has already been taken"),
        ("not an address", "is not a valid e-mail address"),
        ("", "email is missing"),
    ] {
        let refused =
            app.api(Method::POST, "/api/v4/user/emails", Some(&bob.token), Some(json!({"email": address}))).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{address}: {}", refused.body);
        assert!(message(&refused).contains(expected), "{address}: {}", refused.body);
    }
    let primary = app
        .api(
            Method::PUT,
            &format!("/api/v4/users/{}", bob.user.id.0),
            Some(&root.token),
            Some(json!({"email": "ADA@work.example"})),
        )
        .await;
    assert_eq!(primary.status, StatusCode::CONFLICT, "a primary address can't be another's secondary one");
    assert_eq!(message(&primary), "Email has already been taken");
    let created = app
        .api(
            Method::POST,
            "/api/v4/users",
            Some(&root.token),
            Some(json!({"username": "carl", "email": "ada@work.example", "name": "Carl", "password": PASSWORD})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CONFLICT);

    // One's own secondary address may become one's primary one: it leaves the list.
    let moved =
        app.page(Method::POST, "/-/profile", Some(&ada), Some(&[("name", "Ada"), ("email", "ada@work.example")])).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(app.api(Method::GET, "/api/v4/user/emails", a, None).await.json(), json!([]));
    let old_primary = app.api(Method::POST, "/api/v4/user/emails", a, Some(json!({"email": "ada@example.com"}))).await;
    assert_eq!(old_primary.status, StatusCode::CREATED, "the old primary address is free again");

    // Administrators: a user's addresses, confirmed with skip_confirmation.
    let path = format!("/api/v4/users/{}/emails", bob.user.id.0);
    let denied = app.api(Method::POST, &path, a, Some(json!({"email": "bob@home.example"}))).await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    let made = app
        .api(
            Method::POST,
            &path,
            Some(&root.token),
            Some(json!({"email": "bob@home.example", "skip_confirmation": "true"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert!(made.json()["confirmed_at"].is_string());
    let listed = app.api(Method::GET, &path, Some(&root.token), None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(app.api(Method::GET, &path, a, None).await.status, StatusCode::NOT_FOUND);
    let ada_email = app.api(Method::GET, "/api/v4/user/emails", a, None).await.json()[0]["id"].as_i64().unwrap();
    let wrong_user = app.api(Method::DELETE, &format!("{path}/{ada_email}"), Some(&root.token), None).await;
    assert_eq!(wrong_user.status, StatusCode::NOT_FOUND, "the address is not that user's");
    let bob_email = made.json()["id"].as_i64().unwrap();
    let gone = app.api(Method::DELETE, &format!("{path}/{bob_email}"), Some(&root.token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let deleted = app.api(Method::DELETE, &format!("/api/v4/user/emails/{ada_email}"), a, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::GET, "/api/v4/user/emails", a, None).await.json(), json!([]));
}

#[tokio::test]
async fn the_profile_page_adds_and_removes_addresses() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let added = app.page(Method::POST, "/-/profile/emails", Some(&ada), Some(&[("email", "ada@home.example")])).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let page = app.page(Method::GET, "/-/profile", Some(&ada), None).await;
    assert!(page.body.contains("ada@home.example") && page.body.contains("E-mails"), "{}", page.body);
    let taken = app.page(Method::POST, "/-/profile/emails", Some(&bob), Some(&[("email", "ADA@home.example")])).await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert!(taken.body.contains("has already been taken") && taken.body.contains("ADA@home.example"));
    let id = app.core.manage().list_own_emails(&gantry_core::Actor::User(ada.user.clone())).await.unwrap()[0].id.0;
    let foreign = app.page(Method::POST, &format!("/-/profile/emails/{id}/delete"), Some(&bob), Some(&[])).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let removed = app.page(Method::POST, &format!("/-/profile/emails/{id}/delete"), Some(&ada), Some(&[])).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let page = app.page(Method::GET, "/-/profile", Some(&ada), None).await;
    assert!(!page.body.contains("ada@home.example"));
}

#[tokio::test]
async fn a_status_is_set_read_by_others_and_cleared() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let a = Some(ada.token.as_str());
    let empty = app.api(Method::GET, "/api/v4/user/status", a, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.json()["message"].is_null() && empty.json()["emoji"].is_null());

    // python-gitlab's test_current_user_status: PUT what changed, read it back.
    let set =
        app.api(Method::PUT, "/api/v4/user/status", a, Some(json!({"message": "Test", "emoji": "thumbsup"}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let status = app.api(Method::GET, "/api/v4/user/status", a, None).await.json();
    assert_eq!((status["message"].as_str(), status["emoji"].as_str()), (Some("Test"), Some("thumbsup")));
    assert_eq!(status["availability"], "not_set");
    for who in [ada.user.id.0.to_string(), "ada".to_owned(), "ADA".to_owned()] {
        let seen = app.api(Method::GET, &format!("/api/v4/users/{who}/status"), Some(&bob.token), None).await;
        assert_eq!(seen.json()["message"], "Test", "{who}");
    }
    let nobody = app.api(Method::GET, "/api/v4/users/nobody/status", Some(&bob.token), None).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);

    // Bad input changes nothing.
    for (body, expected) in [
        (json!({"message": "x".repeat(101)}), "message is too long (maximum is 100 characters)"),
        (json!({"message": "hi", "availability": "away"}), "availability does not have a valid value"),
        (json!({"message": "hi", "clear_status_after": "2_weeks"}), "clear_status_after does not have a valid value"),
        (json!({"emoji": "<script>"}), "emoji must be a valid emoji name"),
    ] {
        let refused = app.api(Method::PUT, "/api/v4/user/status", a, Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(message(&refused), expected);
    }
    assert_eq!(app.api(Method::GET, "/api/v4/user/status", a, None).await.json()["message"], "Test");

    // PATCH keeps what is not sent; PUT clears it; a message alone gets the default emoji.
    let busy = app.api(Method::PATCH, "/api/v4/user/status", a, Some(json!({"availability": "busy"}))).await;
    assert_eq!((busy.json()["message"].as_str(), busy.json()["availability"].as_str()), (Some("Test"), Some("busy")));
    let later = app
        .api(
            Method::PUT,
            "/api/v4/user/status",
            a,
            Some(json!({"message": "<b>away</b>", "clear_status_after": "3_hours"})),
        )
        .await
        .json();
    assert_eq!(later["emoji"], "speech_balloon");
    assert_eq!(later["message_html"], "&lt;b&gt;away&lt;/b&gt;");
    assert!(later["clear_status_at"].is_string());
    let cleared = app.api(Method::PUT, "/api/v4/user/status", a, Some(json!({}))).await;
    assert!(cleared.json()["message"].is_null(), "nothing sent clears the status");

    // The profile page sets and clears it too.
    let form = [("emoji", "coffee"), ("message", "On a break"), ("availability", "busy"), ("clear_status_after", "")];
    let saved = app.page(Method::POST, "/-/profile/status", Some(&ada), Some(&form)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let status = app.api(Method::GET, "/api/v4/user/status", a, None).await.json();
    assert_eq!((status["message"].as_str(), status["availability"].as_str()), (Some("On a break"), Some("busy")));
    let page = app.page(Method::GET, "/-/profile", Some(&ada), None).await;
    assert!(page.body.contains("value=\"On a break\""), "{}", page.body);
    let too_long = "y".repeat(101);
    let refused =
        app.page(Method::POST, "/-/profile/status", Some(&ada), Some(&[("message", too_long.as_str())])).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("is too long"));
    let cleared = app.page(Method::POST, "/-/profile/status", Some(&ada), Some(&[("clear", "1")])).await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    assert!(app.api(Method::GET, "/api/v4/user/status", a, None).await.json()["message"].is_null());
}

#[tokio::test]
async fn gpg_keys_are_added_listed_and_deleted() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let a = Some(ada.token.as_str());
    let added = app.api(Method::POST, "/api/v4/user/gpg_keys", a, Some(json!({"key": format!("{GPG_KEY}\n")}))).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let key = added.json();
    assert_eq!(key["key"], GPG_KEY);
    assert!(key["created_at"].is_string());
    let id = key["id"].as_i64().unwrap();
    assert_eq!(app.api(Method::GET, "/api/v4/user/gpg_keys", a, None).await.json(), json!([key]));
    assert_eq!(app.api(Method::GET, &format!("/api/v4/user/gpg_keys/{id}"), a, None).await.json(), key);
    let users_keys = format!("/api/v4/users/{}/gpg_keys", ada.user.id.0);
    assert_eq!(app.api(Method::GET, &users_keys, Some(&bob.token), None).await.json(), json!([key]), "public keys");
    let one = app.api(Method::GET, &format!("{users_keys}/{id}"), Some(&bob.token), None).await;
    assert_eq!(one.json(), key);
    let foreign = app.api(Method::GET, &format!("/api/v4/user/gpg_keys/{id}"), Some(&bob.token), None).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    // A key belongs to one account; what is not one public key is refused, as GitLab words it.
    let private = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----";
    for (body, expected) in [
        (json!({"key": GPG_KEY}), "fingerprint has already been taken"),
        (
            json!({"key": "ssh-ed25519 AAAA"}),
            "key is invalid. A valid public GPG key begins with '-----BEGIN PGP PUBLIC KEY BLOCK-----'",
        ),
        (json!({"key": private}), "private key"),
        (json!({"key": GPG_KEY.replace("=5OGa", "=AAAA")}), "checksum"),
        (json!({}), "key is missing"),
    ] {
        let refused = app.api(Method::POST, "/api/v4/user/gpg_keys", Some(&bob.token), Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert!(message(&refused).contains(expected), "{}", refused.body);
    }

    // Administrators add and delete a user's keys; others may not.
    let other_key = armored_gpg_key(7, "bob@example.com");
    let bobs_keys = format!("/api/v4/users/{}/gpg_keys", bob.user.id.0);
    let denied = app.api(Method::POST, &bobs_keys, a, Some(json!({"key": other_key}))).await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    let made = app.api(Method::POST, &bobs_keys, Some(&root.token), Some(json!({"key": other_key}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let bob_key = made.json()["id"].as_i64().unwrap();
    let wrong = app.api(Method::DELETE, &format!("{users_keys}/{bob_key}"), Some(&root.token), None).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND, "that key is not ada's");
    let denied = app.api(Method::DELETE, &format!("{bobs_keys}/{bob_key}"), a, None).await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND);
    let revoked = app.api(Method::POST, &format!("{bobs_keys}/{bob_key}/revoke"), Some(&root.token), None).await;
    assert_eq!(revoked.status, StatusCode::ACCEPTED);
    assert_eq!(app.api(Method::GET, &bobs_keys, a, None).await.json(), json!([]));
    let deleted = app.api(Method::DELETE, &format!("/api/v4/user/gpg_keys/{id}"), a, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let readded = app.api(Method::POST, "/api/v4/user/gpg_keys", Some(&bob.token), Some(json!({"key": GPG_KEY}))).await;
    assert_eq!(readded.status, StatusCode::CREATED, "a deleted key can be added again");
}

#[tokio::test]
async fn the_gpg_keys_page_shows_fingerprints_and_addresses() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let bad = app.page(Method::POST, "/-/profile/gpg_keys", Some(&ada), Some(&[("key", "nonsense")])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("nonsense") && bad.body.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{}", bad.body);
    let added = app.page(Method::POST, "/-/profile/gpg_keys", Some(&ada), Some(&[("key", GPG_KEY)])).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let page = app.page(Method::GET, "/-/profile/gpg_keys", Some(&ada), None).await;
    for expected in ["0555 2B1F 11F1 FBDF 467E F4D5 60C4 42C7 7FC7 F784", "60C442C77FC7F784", "fake@fake.tld"] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    let id =
        app.api(Method::GET, "/api/v4/user/gpg_keys", Some(&ada.token), None).await.json()[0]["id"].as_i64().unwrap();
    let deleted = app.page(Method::POST, &format!("/-/profile/gpg_keys/{id}/delete"), Some(&ada), Some(&[])).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(app.page(Method::GET, "/-/profile/gpg_keys", Some(&ada), None).await.body.contains("No GPG keys yet"));
}

#[tokio::test]
async fn impersonation_tokens_act_as_their_user_and_are_the_administrators_to_manage() {
    let app = TestApp::new().await;
    let root = app.user("root").await;
    let ada = app.user("ada").await;
    let r = Some(root.token.as_str());
    let path = format!("/api/v4/users/{}/impersonation_tokens", ada.user.id.0);
    let today = gantry_core::manage::tokens::format_expiry_date(gantry_core::now_millis());
    let in_four_days = gantry_core::manage::tokens::format_expiry_date(gantry_core::now_millis() + 4 * 86_400_000);

    // The command line sends the scopes as one comma-separated text, and today's date.
    let cli = app
        .api(Method::POST, &path, r, Some(json!({"name": "cli", "scopes": "api,read_user", "expires_at": today})))
        .await;
    assert_eq!(cli.status, StatusCode::CREATED, "{}", cli.body);
    assert_eq!(cli.json()["scopes"], json!(["api", "read_user"]));
    assert_eq!(cli.json()["active"], false, "a token that expires today no longer works");
    let made = app
        .api(
            Method::POST,
            &path,
            r,
            Some(json!({"name": "support", "scopes": ["read_user"], "expires_at": in_four_days})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let token = made.json();
    assert_eq!((token["impersonation"].as_bool(), token["active"].as_bool()), (Some(true), Some(true)));
    let secret = token["token"].as_str().unwrap().to_owned();
    let id = token["id"].as_i64().unwrap();

    // It acts as ada, within its scope.
    let me = app.api(Method::GET, "/api/v4/user", Some(&secret), None).await;
    assert_eq!(me.json()["username"], "ada");
    let projects = app.api(Method::GET, "/api/v4/projects", Some(&secret), None).await;
    assert_eq!(projects.status, StatusCode::FORBIDDEN, "read_user reads users only");
    let write = app.api(Method::PUT, "/api/v4/user/status", Some(&secret), Some(json!({"message": "x"}))).await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);

    // Listed by state for administrators; not ada's to see or revoke.
    let active = app.api(Method::GET, &format!("{path}?state=active"), r, None).await.json();
    let ids: Vec<i64> = active.as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [id]);
    assert!(active[0].get("token").is_none(), "the secret is shown once");
    let inactive = app.api(Method::GET, &format!("{path}?state=inactive"), r, None).await.json();
    assert_eq!(inactive.as_array().unwrap().len(), 1);
    assert_eq!(app.api(Method::GET, &path, r, None).await.json().as_array().unwrap().len(), 2);
    let bad_state = app.api(Method::GET, &format!("{path}?state=some"), r, None).await;
    assert_eq!(bad_state.status, StatusCode::BAD_REQUEST);
    let own = app.api(Method::GET, "/api/v4/personal_access_tokens", Some(&ada.token), None).await.json();
    assert!(own.as_array().unwrap().iter().all(|t| t["id"].as_i64() != Some(id)), "{own}");
    let hidden = app.api(Method::DELETE, &format!("/api/v4/personal_access_tokens/{id}"), Some(&ada.token), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let tokens_page = app.page(Method::GET, "/-/profile/personal_access_tokens", Some(&ada), None).await;
    assert!(!tokens_page.body.contains("support"), "not on ada's tokens page");
    for (method, target) in
        [(Method::GET, path.clone()), (Method::GET, format!("{path}/{id}")), (Method::DELETE, format!("{path}/{id}"))]
    {
        let denied = app.api(method, &target, Some(&ada.token), None).await;
        assert_eq!(denied.status, StatusCode::NOT_FOUND, "{target}");
    }

    // Bad input: no scopes, an unknown one, a past date, a scope ada may not hold.
    for (body, expected) in [
        (json!({"name": "x"}), "scopes is missing"),
        (json!({"name": "x", "scopes": "api,root"}), "unknown scope 'root'"),
        (json!({"name": "x", "scopes": "api", "expires_at": "2001-01-01"}), "must not be in the past"),
        (json!({"name": "x", "scopes": "sudo"}), "administrators' tokens only"),
    ] {
        let refused = app.api(Method::POST, &path, r, Some(body)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert!(message(&refused).contains(expected), "{}", refused.body);
    }

    // Revoked by an administrator, it stops working.
    assert_eq!(app.api(Method::GET, &format!("{path}/{id}"), r, None).await.json()["name"], "support");
    let revoked = app.api(Method::DELETE, &format!("{path}/{id}"), r, None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::GET, "/api/v4/user", Some(&secret), None).await.status, StatusCode::UNAUTHORIZED);
    let other_user = format!("/api/v4/users/{}/impersonation_tokens/{id}", root.user.id.0);
    assert_eq!(app.api(Method::GET, &other_user, r, None).await.status, StatusCode::NOT_FOUND);
}
