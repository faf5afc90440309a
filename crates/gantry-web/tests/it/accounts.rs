//! Signing in and what guards it: where sign-in leads, the sign-in rate limit, sessions ended
//! by password changes, and CSRF tokens bound to the session.

use axum::http::{Method, StatusCode};

use crate::support::{PASSWORD, TestApp};

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
