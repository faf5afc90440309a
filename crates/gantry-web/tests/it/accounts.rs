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
