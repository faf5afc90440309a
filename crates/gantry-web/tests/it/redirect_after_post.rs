//! Forms that change something redirect after success (POST → 303 → GET), so reloading never
//! repeats them; what they did, a new token included, is shown once by the page they lead to.
//! The authorisation sweep holds every form route to the 303; these follow the redirects.

use axum::http::{Method, StatusCode};

use crate::support::TestApp;

#[tokio::test]
async fn a_new_token_is_shown_once_after_the_redirect_and_a_reload_makes_no_second() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let page = "/-/profile/personal_access_tokens";
    let form = [("name", "laptop"), ("scopes", "read_api")];
    let answer = app.page(Method::POST, page, Some(&ada), Some(&form)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.header("location"), page);
    assert!(!answer.header("set-cookie").contains("gpat-"), "the cookie holds the token sealed");
    let shown = app.follow(answer, &ada).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("gpat-"), "{}", shown.body);
    assert!(shown.header("set-cookie").starts_with("gantry_flash=;"), "the page drops the cookie it showed");

    // Reloading shows the list, without the secret and without a second token.
    let reloaded = app.page(Method::GET, page, Some(&ada), None).await;
    assert!(!reloaded.body.contains("gpat-"));
    let tokens = app.api(Method::GET, "/api/v4/personal_access_tokens", Some(&ada.token), None).await.json();
    let laptops = tokens.as_array().unwrap().iter().filter(|t| t["name"] == "laptop").count();
    assert_eq!(laptops, 1, "{tokens}");

    // A refused form answers with the page and what was wrong, and makes nothing.
    let refused = app.page(Method::POST, page, Some(&ada), Some(&[("name", "nothing")])).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
}

#[tokio::test]
async fn a_runner_registered_from_the_settings_page_shows_its_token_once() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let (project, _) = app.project_with_file(&ada, "site", "README.md", b"hi\n").await;
    let settings = format!("/{}/-/settings/ci_cd", project.full_path);
    let form = [("description", "laptop runner"), ("tags", "linux")];
    let answer = app.page(Method::POST, &format!("{settings}/runners"), Some(&ada), Some(&form)).await;
    assert_eq!(answer.header("location"), settings, "{}", answer.body);
    let shown = app.follow(answer, &ada).await;
    let again = app.page(Method::GET, &settings, Some(&ada), None).await;
    assert!(shown.body.len() > again.body.len(), "the token is shown once");
    assert!(shown.body.contains("laptop runner") && again.body.contains("laptop runner"));
}
