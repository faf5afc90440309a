//! The web UI driven like a browser without JavaScript: forms with CSRF tokens, redirects,
//! and what the pages show.

use axum::http::{Method, StatusCode};

use crate::support::{PASSWORD, TestApp};

#[tokio::test]
async fn sign_up_then_create_group_and_project_from_forms() {
    let app = TestApp::new().await;
    let form = app.page(Method::GET, "/users/sign_up", None, None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"authenticity_token\""));
    let signed_up = app
        .page(
            Method::POST,
            "/users/sign_up",
            None,
            Some(&[("username", "ada"), ("email", "ada@example.com"), ("password", PASSWORD)]),
        )
        .await;
    assert_eq!(signed_up.status, StatusCode::SEE_OTHER, "{}", signed_up.body);
    assert!(signed_up.header("set-cookie").contains("gantry_session="));
    assert!(signed_up.header("set-cookie").contains("HttpOnly"));

    let ada = app.user("ada2").await;
    let created =
        app.page(Method::POST, "/groups", Some(&ada), Some(&[("name", "Acme Corp"), ("visibility", "private")])).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.header("location"), "/acme-corp");
    let group = app.page(Method::GET, "/acme-corp", Some(&ada), None).await;
    assert!(group.body.contains("Acme Corp") && group.body.contains("New project"));

    let group_id = app
        .core
        .find_group(
            &gantry_core::Actor::User(ada.user.clone()),
            &gantry_core::manage::groups::Lookup::Path("acme-corp".into()),
        )
        .await
        .unwrap()
        .0
        .id
        .0
        .to_string();
    let project = app
        .page(Method::POST, "/projects", Some(&ada), Some(&[("name", "Billing <API>"), ("namespace_id", &group_id)]))
        .await;
    assert_eq!(project.header("location"), "/acme-corp/billing-api");
    let page = app.page(Method::GET, "/acme-corp/billing-api", Some(&ada), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Billing &") && !page.body.contains("<API>"), "names are escaped");
    assert!(page.body.contains("http://gantry.test/acme-corp/billing-api.git"));
    let dashboard = app.page(Method::GET, "/dashboard", Some(&ada), None).await;
    assert!(dashboard.body.contains("acme-corp/billing-api") && dashboard.body.contains("Acme Corp"));
}

#[tokio::test]
async fn forms_refuse_bad_input_with_a_message_and_keep_what_was_typed() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let reserved = app.page(Method::POST, "/groups", Some(&ada), Some(&[("name", "Admin"), ("path", "admin")])).await;
    assert_eq!(reserved.status, StatusCode::BAD_REQUEST);
    assert!(reserved.body.contains("reserved name"), "{}", reserved.body);
    assert!(reserved.body.contains("value=\"Admin\""), "the form keeps the typed name");
    app.page(Method::POST, "/groups", Some(&ada), Some(&[("name", "Acme")])).await;
    let duplicate = app.page(Method::POST, "/groups", Some(&ada), Some(&[("name", "Acme")])).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert!(duplicate.body.contains("already been taken"));
    let wrong =
        app.page(Method::POST, "/users/sign_in", None, Some(&[("login", "ada"), ("password", "nope nope")])).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("incorrect"));
    let unconfirmed = app.page(Method::POST, "/acme/-/delete", Some(&ada), Some(&[("confirm_path", "acm")])).await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(unconfirmed.body.contains("Type acme to confirm the deletion."), "{}", unconfirmed.body);
    assert_eq!(
        app.page(Method::GET, "/acme", Some(&ada), None).await.status,
        StatusCode::OK,
        "the group is still there"
    );
    let confirmed = app.page(Method::POST, "/acme/-/delete", Some(&ada), Some(&[("confirm_path", "acme")])).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    assert_eq!(app.page(Method::GET, "/acme", Some(&ada), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn private_pages_are_hidden_and_sign_in_is_asked_for() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    app.page(Method::POST, "/groups", Some(&ada), Some(&[("name", "Secret")])).await;
    assert_eq!(app.page(Method::GET, "/secret", Some(&bob), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.page(Method::GET, "/secret", None, None).await.status, StatusCode::NOT_FOUND);
    let dashboard = app.page(Method::GET, "/dashboard", None, None).await;
    assert_eq!(dashboard.status, StatusCode::SEE_OTHER);
    assert_eq!(dashboard.header("location"), "/users/sign_in?redirect_to=%2Fdashboard");
    assert_eq!(app.page(Method::GET, "/admin", Some(&bob), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.page(Method::GET, "/no/such/thing", None, None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::new().await;
    assert_eq!(app.page(Method::GET, "/-/health", None, None).await.status, StatusCode::OK);
    assert_eq!(app.page(Method::GET, "/-/readiness", None, None).await.status, StatusCode::OK);
    let metrics = app.page(Method::GET, "/metrics", None, None).await.body;
    assert!(metrics.contains("gantry_build_info"));
    assert!(
        metrics.contains("gantry_http_requests_total{method=\"GET\",route=\"/-/health\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("gantry_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("gantry_background_jobs{state=\"failed\"} 0"), "{metrics}");
}

#[tokio::test]
async fn metrics_answer_only_clients_on_this_host() {
    use axum::body::Body;
    use axum::http::Request;
    use std::net::SocketAddr;

    let app = TestApp::new().await;
    let scrape = |peer: &str, forwarded: Option<&str>| {
        let mut request = Request::builder().uri("/metrics");
        if let Some(client) = forwarded {
            request = request.header("x-forwarded-for", client);
        }
        let peer: SocketAddr = peer.parse().unwrap();
        let request = request.body(Body::empty()).unwrap();
        let app = &app;
        async move { app.send_from(peer, request).await }
    };
    for local in ["127.0.0.1:50000", "127.1.2.3:50000", "[::1]:50000", "[::ffff:127.0.0.1]:50000"] {
        let answer = scrape(local, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{local}");
        assert!(answer.body.contains("gantry_build_info"), "{local}");
    }
    for remote in ["10.0.0.1:50000", "203.0.113.9:50000", "[2001:db8::1]:50000", "[::ffff:192.0.2.1]:50000"] {
        let answer = scrape(remote, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{remote}");
        assert!(!answer.body.contains("gantry_build_info"), "{remote}");
    }
    let proxied = scrape("127.0.0.1:50000", Some("203.0.113.9")).await;
    assert_eq!(proxied.status, StatusCode::NOT_FOUND, "a reverse proxy on this host forwards for others");
}
