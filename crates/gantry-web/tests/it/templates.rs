//! GitLab's file template API: CI files, `.gitignore` files, Dockerfiles and licenses, listed a
//! page at a time with GitLab's headers, read one by one by anyone, licenses filled in with the
//! year, project and copyright holder; the per-project routes answer those who may see the
//! project. Unknown types and keys are clear 400s and 404s.

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::support::TestApp;

fn keys(listed: &Value) -> Vec<String> {
    listed.as_array().unwrap().iter().map(|item| item["key"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn anyone_lists_and_reads_templates_a_page_at_a_time() {
    let app = TestApp::new().await;

    // More CI templates than a default page: the headers tell clients there is more.
    let first = app.api(Method::GET, "/api/v4/templates/gitlab_ci_ymls", None, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.json().as_array().unwrap().len(), 20);
    let total: usize = first.header("x-total").parse().unwrap();
    assert!(total > 25, "{total}");
    assert_eq!((first.header("x-per-page"), first.header("x-next-page")), ("20", "2"));
    assert!(first.header("link").contains("rel=\"next\""));
    let item = &first.json()[0];
    assert_eq!(item.as_object().unwrap().len(), 2, "a list names templates only: {item}");
    let all = app.api(Method::GET, "/api/v4/templates/gitlab_ci_ymls?per_page=100", None, None).await;
    let all_keys = keys(&all.json());
    assert_eq!(all_keys.len(), total);
    assert!(all_keys.contains(&"Nodejs".to_owned()) && all_keys.contains(&"Hugo".to_owned()));
    let second = app.api(Method::GET, "/api/v4/templates/gitlab_ci_ymls?page=2", None, None).await;
    assert_eq!(keys(&second.json()), all_keys[20..]);
    assert_eq!(second.header("x-next-page"), "");

    let nodejs = app.api(Method::GET, "/api/v4/templates/gitlab_ci_ymls/Nodejs", None, None).await;
    assert_eq!(nodejs.status, StatusCode::OK, "{}", nodejs.body);
    assert_eq!(nodejs.json()["name"], "Nodejs");
    assert!(nodejs.json()["content"].as_str().unwrap().contains("npm ci"));
    // Keys with characters a URL escapes, as python-gitlab sends them.
    let cpp = app.api(Method::GET, "/api/v4/templates/gitlab_ci_ymls/C%2B%2B", None, None).await;
    assert_eq!((cpp.status, cpp.json()["name"].as_str()), (StatusCode::OK, Some("C++")));

    for (kind, key, expected) in [
        ("gitignores", "Node", "node_modules/"),
        ("dockerfiles", "Node", "FROM node:"),
        ("gitignores", "macOS", ".DS_Store"),
    ] {
        let listed = app.api(Method::GET, &format!("/api/v4/templates/{kind}?per_page=100"), None, None).await;
        assert!(keys(&listed.json()).contains(&key.to_owned()), "{kind}: {}", listed.body);
        let one = app.api(Method::GET, &format!("/api/v4/templates/{kind}/{key}"), None, None).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        assert!(one.json()["content"].as_str().unwrap().contains(expected), "{kind}/{key}");
    }

    let unknown = app.api(Method::GET, "/api/v4/templates/gitignores/NoSuchThing", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["message"], "404 Gitignore Not Found");
    let bad_type = app.api(Method::GET, "/api/v4/templates/recipes", None, None).await;
    assert_eq!(bad_type.status, StatusCode::BAD_REQUEST, "{}", bad_type.body);
    assert!(bad_type.body.contains("type does not have a valid value"), "{}", bad_type.body);
    let bad_page = app.api(Method::GET, "/api/v4/templates/dockerfiles?page=zero", None, None).await;
    assert_eq!(bad_page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn licenses_carry_their_metadata_and_are_filled_in() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;

    let all = app.api(Method::GET, "/api/v4/templates/licenses?per_page=100", None, None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let licenses = all.json();
    assert!(keys(&licenses).len() >= 15);
    let mit = licenses.as_array().unwrap().iter().find(|l| l["key"] == "mit").unwrap();
    assert_eq!((&mit["name"], &mit["popular"]), (&Value::from("MIT License"), &Value::from(true)));
    assert_eq!(mit["html_url"], "https://choosealicense.com/licenses/mit/");
    assert_eq!(mit["conditions"], serde_json::json!(["include-copyright"]));
    assert!(mit["content"].as_str().unwrap().contains("[fullname]"), "a list shows the text as it is");
    let popular = app.api(Method::GET, "/api/v4/templates/licenses?popular=true", None, None).await;
    assert_eq!(keys(&popular.json()), ["apache-2.0", "gpl-3.0", "mit"]);

    // python-gitlab's call: the placeholders are filled with what is given.
    let path = "/api/v4/templates/licenses/bsd-2-clause?project=mytestproject&fullname=mytestfullname";
    let bsd = app.api(Method::GET, path, None, None).await;
    assert_eq!(bsd.status, StatusCode::OK, "{}", bsd.body);
    let content = bsd.json()["content"].as_str().unwrap().to_owned();
    assert!(content.contains("mytestfullname") && !content.contains("[year]"), "{content}");
    // Without a fullname, the signed-in user's name; anonymously, the placeholder stays.
    let signed_in = app.api(Method::GET, "/api/v4/templates/licenses/MIT", Some(&ada.token), None).await;
    assert!(signed_in.json()["content"].as_str().unwrap().contains("ada Tester"), "{}", signed_in.body);
    let anonymous = app.api(Method::GET, "/api/v4/templates/licenses/mit", None, None).await;
    assert!(anonymous.json()["content"].as_str().unwrap().contains("[fullname]"));
    let gpl = app.api(Method::GET, "/api/v4/templates/licenses/gpl-3.0?project=Gantry", None, None).await;
    assert!(gpl.json()["content"].as_str().unwrap().contains("    Gantry\n    Copyright (C) "), "{}", gpl.body);

    let missing = app.api(Method::GET, "/api/v4/templates/licenses/proprietary", None, None).await;
    assert_eq!(
        (missing.status, missing.json()["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("404 License Not Found"))
    );
}

#[tokio::test]
async fn project_templates_answer_those_who_see_the_project() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let stranger = app.user("stranger").await;
    let (project, _) = app.project_with_file(&ada, "Private", "README.md", b"hello").await;
    let base = format!("/api/v4/projects/{}/templates", project.id.0);

    let listed = app.api(Method::GET, &format!("{base}/licenses"), Some(&ada.token), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let first = &listed.json()[0];
    assert_eq!(first.as_object().unwrap().len(), 2, "keys and names only: {first}");
    let dockerfiles = app.api(Method::GET, &format!("{base}/dockerfiles?per_page=100"), Some(&ada.token), None).await;
    assert!(keys(&dockerfiles.json()).contains(&"Python".to_owned()));

    let license = app.api(Method::GET, &format!("{base}/licenses/mit?fullname=Ada"), Some(&ada.token), None).await;
    assert_eq!(license.status, StatusCode::OK, "{}", license.body);
    assert!(license.json()["content"].as_str().unwrap().contains("Ada"));
    assert_eq!(license.json()["key"], "mit");
    let ci = app.api(Method::GET, &format!("{base}/gitlab_ci_ymls/Rust"), Some(&ada.token), None).await;
    assert!(ci.json()["content"].as_str().unwrap().contains("cargo test"));

    let missing = app.api(Method::GET, &format!("{base}/gitignores/Nope"), Some(&ada.token), None).await;
    assert_eq!(
        (missing.status, missing.json()["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("404 Template Not Found"))
    );
    let bad_type = app.api(Method::GET, &format!("{base}/colours"), Some(&ada.token), None).await;
    assert_eq!(bad_type.status, StatusCode::BAD_REQUEST);

    // A stranger learns nothing of a private project, not even that the type is wrong.
    for path in [
        format!("{base}/licenses"),
        format!("{base}/licenses/mit"),
        format!("{base}/issues"),
        format!("{base}/colours"),
    ] {
        let hidden = app.api(Method::GET, &path, Some(&stranger.token), None).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{path}");
    }
}
