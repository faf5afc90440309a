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
        assert!(response.body.contains("login or password is incorrect"), "{}", response.body);
    }
    let longest = format!("{n}@{}.example", "e".repeat(240), n = 0);
    assert_eq!(longest.len(), 250);
    assert_eq!(sign_in(longest).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.core.sign_in_limiter_entries(), 1, "only the plausible login is remembered");

    // 1,000 distinct usernames of the longest allowed length: the table stays at its bound.
    use futures_util::StreamExt;
    let attempts = futures_util::stream::iter(0..1_000).map(|n| sign_in(format!("{n:04}{}", "u".repeat(96))));
    let statuses: Vec<StatusCode> = attempts.buffer_unordered(4).map(|response| response.status).collect().await;
    assert!(statuses.iter().all(|s| *s == StatusCode::BAD_REQUEST), "{statuses:?}");
    assert_eq!(app.core.sign_in_limiter_entries(), BOUND);
    // The rightful owner still signs in.
    let fields = [("login", "ada"), ("password", PASSWORD)];
    assert_eq!(app.page(Method::POST, "/users/sign_in", None, Some(&fields)).await.status, StatusCode::SEE_OTHER);

    // A sign-in form past the size of a few short fields is refused unread.
    let huge = "u".repeat(900 * 1024);
    let response = sign_in(huge).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", response.body);
    assert_eq!(app.core.sign_in_limiter_entries(), BOUND);
}

/// A second signed-in browser of `user`.
async fn second_session(app: &TestApp, user: &TestUser) -> TestUser {
    let (_, session) = app.core.sign_in(&user.user.username, PASSWORD, "127.0.0.1").await.unwrap();
    TestUser { session, ..user.clone() }
}

async fn signed_in(app: &TestApp, user: &TestUser) -> bool {
    let profile = app.page(Method::GET, "/-/profile", Some(user), None).await;
    match profile.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER if profile.header("location") == "/users/sign_in" => false,
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
    assert!(app.core.sign_in("ada", "a new long password", "127.0.0.1").await.is_ok());

    // The operator's reset (`gantry admin reset-password`) ends every session.
    app.core.reset_password_as_operator("ada", "an operator's password").await.unwrap();
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
    let other_browser = app.core.csrf_token(gantry_core::manage::csrf::CsrfBinding::Visitor(&"f".repeat(64)));
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
    let expected = app.core.csrf_token(gantry_core::manage::csrf::CsrfBinding::Visitor(value));
    assert_eq!(form_token(&fresh.body), expected);
}
