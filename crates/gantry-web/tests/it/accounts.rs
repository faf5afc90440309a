//! Signing in and what guards it: where sign-in leads, the sign-in rate limit, sessions ended
//! by password changes, and CSRF tokens bound to the session.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use crate::support::{CSRF, PASSWORD, TestApp, TestUser};

#[tokio::test]
async fn sign_in_follows_only_local_redirects() {
    let app = TestApp::new().await;
    app.user("ada").await;
    let sign_in = |target: &'static str| {
        let app = &app;
        async move {
            let fields = [("login", "ada"), ("password", PASSWORD), ("redirect_to", target)];
            let response = app.page(Method::POST, "/users/sign_in", None, Some(&fields)).await;
            assert_eq!(response.status, StatusCode::SEE_OTHER, "{target:?}: {}", response.body);
            assert!(response.header("set-cookie").contains("gantry_session="), "{target:?} signs in");
            response.header("location").to_owned()
        }
    };
    for foreign in [
        "/%09/evil.example",
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "https://evil.example",
        "/%0a/evil.example",
    ] {
        assert_eq!(sign_in(foreign).await, "/dashboard", "{foreign:?} falls back to the dashboard");
    }
    assert_eq!(sign_in("/group/project?x=1").await, "/group/project?x=1");
    assert_eq!(sign_in("").await, "/dashboard");

    let ada = app.user("ada2").await;
    let signed_in = app.page(Method::GET, "/users/sign_in?redirect_to=//evil.example", Some(&ada), None).await;
    assert_eq!(signed_in.header("location"), "/dashboard");
    let signed_in = app.page(Method::GET, "/users/sign_in?redirect_to=/ada2", Some(&ada), None).await;
    assert_eq!(signed_in.header("location"), "/ada2");
}

#[tokio::test]
async fn sign_in_limiter_stays_bounded_whatever_is_typed() {
    const BOUND: usize = 50;
    let app = TestApp::with_core(|core| core.with_sign_in_limiter_capacity(BOUND)).await;
    app.user("ada").await;
    let sign_in = |login: String| {
        let app = &app;
        async move {
            let fields = [("login", login.as_str()), ("password", "wrong password")];
            app.page(Method::POST, "/users/sign_in", None, Some(&fields)).await
        }
    };
    // Longer than any username or e-mail address: refused before anything is remembered.
    for n in 0..1_000 {
        let response = sign_in(format!("{n}{}", "u".repeat(4_000))).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert!(response.body.contains("Login or password is incorrect."), "{}", response.body);
    }
    let longest = format!("{n}@{}.example", "e".repeat(240), n = 0);
    assert_eq!(longest.len(), 250);
    assert_eq!(sign_in(longest).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.core.manage().sign_in_limiter_entries(), 1, "only the plausible login is remembered");

    // 1,000 distinct usernames of the longest allowed length: the table stays at its bound.
    use futures_util::StreamExt;
    let attempts = futures_util::stream::iter(0..1_000).map(|n| sign_in(format!("{n:04}{}", "u".repeat(96))));
    let statuses: Vec<StatusCode> = attempts.buffer_unordered(4).map(|response| response.status).collect().await;
    assert!(statuses.iter().all(|s| *s == StatusCode::BAD_REQUEST), "{statuses:?}");
    assert_eq!(app.core.manage().sign_in_limiter_entries(), BOUND);
    // The rightful owner still signs in.
    let fields = [("login", "ada"), ("password", PASSWORD)];
    assert_eq!(app.page(Method::POST, "/users/sign_in", None, Some(&fields)).await.status, StatusCode::SEE_OTHER);

    // A sign-in form past the size of a few short fields is refused unread.
    let huge = "u".repeat(900 * 1024);
    let response = sign_in(huge).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", response.body);
    assert_eq!(app.core.manage().sign_in_limiter_entries(), BOUND);
}

/// A second signed-in browser of `user`.
async fn second_session(app: &TestApp, user: &TestUser) -> TestUser {
    let (_, session) = app.core.manage().sign_in(&user.user.username, PASSWORD, "127.0.0.1").await.unwrap();
    TestUser { session, ..user.clone() }
}

async fn signed_in(app: &TestApp, user: &TestUser) -> bool {
    let profile = app.page(Method::GET, "/-/profile", Some(user), None).await;
    match profile.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER if profile.header("location").starts_with("/users/sign_in") => false,
        other => panic!("unexpected answer {other}: {}", profile.body),
    }
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let laptop = second_session(&app, &ada).await;
    let bob = app.user("bob").await;
    let wrong = [("current_password", "not my password"), ("new_password", "a new long password")];
    let refused = app.page(Method::POST, "/-/profile/password", Some(&ada), Some(&wrong)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(signed_in(&app, &laptop).await, "a refused change ends nothing");

    let fields = [("current_password", PASSWORD), ("new_password", "a new long password")];
    let changed = app.page(Method::POST, "/-/profile/password", Some(&ada), Some(&fields)).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert!(signed_in(&app, &ada).await, "the browser that changed it stays signed in");
    assert!(!signed_in(&app, &laptop).await, "the other session has ended");
    assert!(signed_in(&app, &bob).await, "other people's sessions are untouched");
    assert!(app.core.manage().sign_in("ada", "a new long password", "127.0.0.1").await.is_ok());

    // The operator's reset (`gantry admin reset-password`) ends every session.
    app.core.manage().reset_password_as_operator("ada", "an operator's password").await.unwrap();
    assert!(!signed_in(&app, &ada).await);
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let laptop = second_session(&app, &ada).await;
    let bob = app.user("bob").await;
    let profile = app.page(Method::GET, "/-/profile", Some(&ada), None).await;
    assert!(profile.body.contains("action=\"/-/profile/sign_out_everywhere\""), "{}", profile.body);
    assert!(profile.body.contains("Sign out everywhere"));

    let done = app.page(Method::POST, "/-/profile/sign_out_everywhere", Some(&ada), Some(&[])).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), "/users/sign_in");
    assert!(done.header("set-cookie").contains("gantry_session=;"), "the cookie is cleared");
    assert!(!signed_in(&app, &ada).await);
    assert!(!signed_in(&app, &laptop).await);
    assert!(signed_in(&app, &bob).await, "other people's sessions are untouched");
}

/// The CSRF token in a page's first form.
fn form_token(html: &str) -> String {
    let (_, rest) = html.split_once("name=\"authenticity_token\" value=\"").expect("the page has a form");
    rest.split('"').next().unwrap().to_owned()
}

async fn group_count(app: &TestApp, user: &TestUser) -> usize {
    app.api(Method::GET, "/api/v4/groups", Some(&user.token), None).await.json().as_array().unwrap().len()
}

#[tokio::test]
async fn csrf_tokens_belong_to_one_session() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let ada_laptop = second_session(&app, &ada).await;

    // The normal flow: the token of the form ada was given works for ada.
    let form = app.page(Method::GET, "/groups/new", Some(&ada), None).await;
    let token = form_token(&form.body);
    assert_eq!(token, app.csrf_token(Some(&ada)));
    let fields = [("name", "Mine"), ("authenticity_token", token.as_str())];
    let created = app.page(Method::POST, "/groups", Some(&ada), Some(&fields)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(group_count(&app, &ada).await, 1);

    // Tokens of another user's session, of another session of hers, and the pre-session
    // cookie's value (what double-submit accepted) are refused, and nothing changes.
    let bobs = form_token(&app.page(Method::GET, "/groups/new", Some(&bob), None).await.body);
    let laptops = form_token(&app.page(Method::GET, "/groups/new", Some(&ada_laptop), None).await.body);
    assert_ne!(laptops, token);
    for (who, foreign) in [("bob's session", bobs.as_str()), ("her other session", &laptops), ("the cookie", CSRF)] {
        let fields = [("name", "Forged"), ("authenticity_token", foreign)];
        let forged = app.page(Method::POST, "/groups", Some(&ada), Some(&fields)).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "a token of {who}");
        assert!(forged.body.contains("reload the page and try again"), "{}", forged.body);
    }
    assert_eq!(group_count(&app, &ada).await, 1, "no forged group");

    // Without a session, the sign-in form's token is bound to the pre-session cookie.
    let sign_in = app.page(Method::GET, "/users/sign_in", None, None).await;
    let anonymous = form_token(&sign_in.body);
    assert_eq!(anonymous, app.csrf_token(None));
    assert_ne!(anonymous, CSRF, "the token is not the cookie's value");
    let other_browser = app.core.manage().csrf_token(gantry_core::manage::csrf::CsrfBinding::Visitor(&"f".repeat(64)));
    let fields = [("login", "ada"), ("password", PASSWORD), ("authenticity_token", other_browser.as_str())];
    let refused = app.page(Method::POST, "/users/sign_in", None, Some(&fields)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let fields = [("login", "ada"), ("password", PASSWORD), ("authenticity_token", anonymous.as_str())];
    let signed_in = app.page(Method::POST, "/users/sign_in", None, Some(&fields)).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);

    // A new browser gets its pre-session cookie and a token bound to it.
    let fresh = app.send(Request::builder().uri("/users/sign_in").body(Body::empty()).unwrap()).await;
    let cookie = fresh.header("set-cookie").to_owned();
    let value = cookie.strip_prefix("gantry_csrf=").unwrap().split(';').next().unwrap();
    let expected = app.core.manage().csrf_token(gantry_core::manage::csrf::CsrfBinding::Visitor(value));
    assert_eq!(form_token(&fresh.body), expected);
}

async fn sign_up(app: &TestApp, username: &str) -> crate::support::TestResponse {
    let email = format!("{username}@example.com");
    let fields = [("username", username), ("email", email.as_str()), ("password", PASSWORD)];
    app.page(Method::POST, "/users/sign_up", None, Some(&fields)).await
}

async fn sign_in_as(app: &TestApp, login: &str, password: &str) -> crate::support::TestResponse {
    app.page(Method::POST, "/users/sign_in", None, Some(&[("login", login), ("password", password)])).await
}

#[tokio::test]
async fn sign_ups_wait_for_an_administrators_approval() {
    let app = TestApp::new().await;
    // The first account becomes the administrator, signed in at once.
    let first = sign_up(&app, "root").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert!(first.header("set-cookie").contains("gantry_session="));
    let scopes = gantry_types::TokenScopes::parse_list("api").unwrap();
    let root_token = app.core.manage().create_token_as_operator("root", "test", &scopes, None).await.unwrap().secret;
    let (root_user, root_session) = app.core.manage().sign_in("root", PASSWORD, "127.0.0.1").await.unwrap();
    assert!(root_user.is_admin);
    let root = TestUser { user: root_user, token: root_token.clone(), session: root_session };

    // The next one waits, cannot sign in, and is told why (only with the right password).
    let waiting = sign_up(&app, "ada").await;
    assert_eq!(waiting.status, StatusCode::SEE_OTHER, "{}", waiting.body);
    assert_eq!(waiting.header("location"), "/users/sign_in");
    assert!(!waiting.header("set-cookie").contains("gantry_session="), "no session for a pending account");
    let flash = waiting.header("set-cookie").split(';').next().unwrap().to_owned();
    let told = axum::http::Request::get("/users/sign_in")
        .header("cookie", format!("gantry_csrf={}; {flash}", crate::support::CSRF))
        .body(axum::body::Body::empty())
        .unwrap();
    let told = app.send(told).await;
    assert!(told.body.contains("waiting for an administrator&#39;s approval"), "{}", told.body);
    let refused = sign_in_as(&app, "ada", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Your account is waiting for an administrator&#39;s approval"), "{}", refused.body);
    assert!(sign_in_as(&app, "ada", "wrong password").await.body.contains("Login or password is incorrect."));
    let ada = app.core.manage().find_user_as_operator("ada").await.unwrap();
    assert!(ada.pending_approval);

    // The administrator sees it with Approve and Reject; others cannot act on it.
    let users = app.page(Method::GET, "/admin", Some(&root), None).await;
    assert!(users.body.contains("waiting for approval"), "{}", users.body);
    assert!(users.body.contains(&format!("action=\"/admin/users/{}/approve\"", ada.id.0)));
    assert!(users.body.contains(&format!("action=\"/admin/users/{}/reject\"", ada.id.0)));
    let listed = app.api(Method::GET, &format!("/api/v4/users/{}", ada.id.0), Some(&root_token), None).await;
    assert_eq!(listed.json()["state"], "blocked_pending_approval");
    let bob = app.user("bob").await;
    let approve = format!("/api/v4/users/{}/approve", ada.id.0);
    assert_eq!(app.api(Method::POST, &approve, Some(&bob.token), None).await.status, StatusCode::NOT_FOUND);

    // Approved through the API (as GitLab's), she signs in.
    let approved = app.api(Method::POST, &approve, Some(&root_token), None).await;
    assert_eq!(approved.status, StatusCode::CREATED, "{}", approved.body);
    assert_eq!(approved.json()["message"], "Success");
    assert_eq!(sign_in_as(&app, "ada", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let again = app.api(Method::POST, &approve, Some(&root_token), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "only pending accounts are approved");
    let reject = format!("/api/v4/users/{}/reject", ada.id.0);
    let reject_active = app.api(Method::POST, &reject, Some(&root_token), None).await;
    assert_eq!(reject_active.status, StatusCode::CONFLICT, "an active account is not rejected");

    // Rejected from the admin page, the account is gone and its name free again.
    sign_up(&app, "eve").await;
    let eve = app.core.manage().find_user_as_operator("eve").await.unwrap();
    let rejected = app.page(Method::POST, &format!("/admin/users/{}/reject", eve.id.0), Some(&root), Some(&[])).await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER, "{}", rejected.body);
    assert!(app.core.manage().find_user_as_operator("eve").await.is_err());
    assert_eq!(sign_up(&app, "eve").await.status, StatusCode::SEE_OTHER, "the name is free again");
    let eve = app.core.manage().find_user_as_operator("eve").await.unwrap();
    let rejected = app.api(Method::POST, &format!("/api/v4/users/{}/reject", eve.id.0), Some(&root_token), None).await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);
    assert!(app.core.manage().find_user_as_operator("eve").await.is_err());

    // An administrator can turn approval off: sign-ups are signed in at once again.
    let settings = app.page(Method::GET, "/admin/settings", Some(&root), None).await;
    assert!(settings.body.contains("name=\"require_admin_approval\" value=\"1\" checked"), "{}", settings.body);
    let saved = app.page(Method::POST, "/admin/settings", Some(&root), Some(&[("signup_enabled", "1")])).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let direct = sign_up(&app, "carol").await;
    assert_eq!(direct.status, StatusCode::SEE_OTHER, "{}", direct.body);
    assert!(direct.header("set-cookie").contains("gantry_session="));
}
