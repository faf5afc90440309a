//! Protected tags through the API and the settings page: GitLab's shape and status codes, tag
//! creation and deletion from the API under the rules, and pipelines on protected tags (who
//! may run them, which variables they get).

use axum::http::{Method, StatusCode};
use gantry_core::Actor;
use gantry_core::manage::members::MemberTarget;
use gantry_types::AccessLevel;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

const CI: &[u8] = b"job:\n  script: echo $RELEASE_KEY\n";

/// A project of `lead` with a CI file on `main`, a Developer, and the API base path.
async fn setup(app: &TestApp) -> (TestUser, TestUser, gantry_core::ProjectRow, String) {
    let lead = app.user("lead").await;
    let dev = app.user("dev").await;
    let (project, _) = app.project_with_file(&lead, "Site", ".gitlab-ci.yml", CI).await;
    let owner = Actor::User(lead.user.clone());
    app.core
        .manage()
        .add_member(&owner, MemberTarget::Project(&project), dev.user.id, AccessLevel::Developer, None)
        .await
        .unwrap();
    let base = format!("/api/v4/projects/{}", project.id.0);
    (lead, dev, project, base)
}

#[tokio::test]
async fn protected_tags_through_the_api_as_gitlab_has_them() {
    let app = TestApp::new().await;
    let (lead, dev, _, base) = setup(&app).await;
    let (l, d) = (Some(lead.token.as_str()), Some(dev.token.as_str()));
    let rules = format!("{base}/protected_tags");

    let created = app.api(Method::POST, &rules, l, Some(json!({"name": "v*"}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let level = &created.json()["create_access_levels"][0];
    assert_eq!(created.json()["name"], "v*");
    assert_eq!(
        (level["access_level"].as_i64(), level["access_level_description"].as_str()),
        (Some(40), Some("Maintainers")),
        "Maintainers by default"
    );
    assert_eq!((level["user_id"].clone(), level["group_id"].clone()), (Value::Null, Value::Null));
    assert!(level["id"].as_i64().is_some());
    let again = app.api(Method::POST, &rules, l, Some(json!({"name": "v*", "create_access_level": 30}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json()["message"].as_str().unwrap().contains("already exists"), "{}", again.body);
    let allowed = json!({"name": "release-*", "allowed_to_create": [{"access_level": 30}]});
    let release = app.api(Method::POST, &rules, l, Some(allowed)).await;
    assert_eq!(release.status, StatusCode::CREATED, "{}", release.body);
    assert_eq!(release.json()["create_access_levels"][0]["access_level_description"], "Developers + Maintainers");
    let bad = app.api(Method::POST, &rules, l, Some(json!({"name": "x*", "create_access_level": 20}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let nameless = app.api(Method::POST, &rules, l, Some(json!({"create_access_level": 40}))).await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);

    let listed = app.api(Method::GET, &rules, l, None).await;
    assert_eq!(listed.status, StatusCode::OK);
    let names: Vec<String> =
        listed.json().as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["release-*", "v*"]);
    assert_eq!(app.api(Method::GET, &format!("{rules}/v*"), l, None).await.json()["name"], "v*");
    assert_eq!(app.api(Method::GET, &format!("{rules}/v%2A"), l, None).await.status, StatusCode::OK, "encoded too");
    let missing = app.api(Method::GET, &format!("{rules}/nope"), l, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.json()["message"].as_str().unwrap().starts_with("404"), "{}", missing.body);
    // Developers may neither read nor change the rules (GitLab: Maintainers).
    assert_eq!(app.api(Method::GET, &rules, d, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::DELETE, &format!("{rules}/v*"), d, None).await.status, StatusCode::FORBIDDEN);

    // Tags from the API obey the rules: a Developer creates wip-1 and release-1, not v1.0; a
    // Maintainer does; only a Maintainer deletes a protected tag.
    let tags = format!("{base}/repository/tags");
    let tag = |who, name: &str| app.api(Method::POST, &tags, who, Some(json!({"tag_name": name, "ref": "main"})));
    let refused = tag(d, "v1.0").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.json()["message"].as_str().unwrap().contains("protected tag 'v1.0'"), "{}", refused.body);
    assert_eq!(tag(d, "wip-1").await.json()["protected"], false);
    assert_eq!(tag(d, "release-1").await.json()["protected"], true);
    let made = tag(l, "v1.0").await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.json()["protected"], true);
    let refused = app.api(Method::DELETE, &format!("{tags}/v1.0"), d, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("only Maintainers"), "{}", refused.body);
    assert_eq!(app.api(Method::DELETE, &format!("{tags}/wip-1"), d, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::DELETE, &format!("{tags}/v1.0"), l, None).await.status, StatusCode::NO_CONTENT);

    assert_eq!(app.api(Method::DELETE, &format!("{rules}/v*"), l, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::DELETE, &format!("{rules}/v*"), l, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(tag(d, "v2.0").await.status, StatusCode::CREATED, "unprotected again");
}

#[tokio::test]
async fn pipelines_on_protected_tags_get_protected_variables_and_need_the_right_to_create_the_tag() {
    let app = TestApp::new().await;
    let (lead, dev, _, base) = setup(&app).await;
    let (l, d) = (Some(lead.token.as_str()), Some(dev.token.as_str()));
    let variable = json!({"key": "RELEASE_KEY", "value": "only-on-protected-refs", "protected": true});
    assert_eq!(
        app.api(Method::POST, &format!("{base}/variables"), l, Some(variable)).await.status,
        StatusCode::CREATED
    );
    let rule = json!({"name": "v*", "create_access_level": 40});
    assert_eq!(
        app.api(Method::POST, &format!("{base}/protected_tags"), l, Some(rule)).await.status,
        StatusCode::CREATED
    );
    for name in ["v1.0", "wip-1"] {
        let body = json!({"tag_name": name, "ref": "main"});
        let made = app.api(Method::POST, &format!("{base}/repository/tags"), l, Some(body)).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
    let runner = app.instance_runner().await;
    let pipeline_url = format!("{base}/pipeline");
    let run = |who, ref_name: &str| app.api(Method::POST, &pipeline_url, who, Some(json!({"ref": ref_name})));

    // A Developer may not run a pipeline on the protected tag (it needs the right to create
    // it), but may on the unprotected one; a Maintainer may on both.
    let refused = run(d, "v1.0").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("protected tag v1.0") && refused.body.contains("create"), "{}", refused.body);

    let mut seen = Vec::new();
    for (who, ref_name) in [(d, "wip-1"), (l, "v1.0")] {
        let pipeline = run(who, ref_name).await;
        assert_eq!(pipeline.status, StatusCode::CREATED, "{}", pipeline.body);
        let taken = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
        assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
        let job = taken.json();
        let variables = job["variables"].as_array().unwrap().clone();
        let value = |key: &str| variables.iter().rev().find(|v| v["key"] == key).map(|v| v["value"].clone());
        seen.push((ref_name, value("RELEASE_KEY"), value("CI_COMMIT_REF_PROTECTED"), value("CI_COMMIT_TAG")));
    }
    assert_eq!(seen[0], ("wip-1", None, Some(json!("false")), Some(json!("wip-1"))));
    assert_eq!(seen[1], ("v1.0", Some(json!("only-on-protected-refs")), Some(json!("true")), Some(json!("v1.0"))));
}

#[tokio::test]
async fn the_settings_page_adds_and_removes_protected_tags_from_plain_forms() {
    let app = TestApp::new().await;
    let (lead, dev, project, base) = setup(&app).await;
    let settings = format!("/{}/-/settings/repository", project.full_path);
    let page = app.page(Method::GET, &settings, Some(&lead), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Protected tags") && page.body.contains("No tag is protected."), "{}", page.body);
    assert!(page.body.contains(&format!("action=\"{settings}/protected_tags\"")), "{}", page.body);

    let form = [("name", "<b>v*"), ("create_access_level", "30")];
    let added = app.page(Method::POST, &format!("{settings}/protected_tags"), Some(&lead), Some(&form)).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(added.header("location"), settings);
    let page = app.page(Method::GET, &settings, Some(&lead), None).await;
    assert!(page.body.contains("&#60;b&#62;v*") && !page.body.contains("<b>v*"), "escaped: {}", page.body);
    assert!(page.body.contains("Developers + Maintainers"), "{}", page.body);
    let rule = app.api(Method::GET, &format!("{base}/protected_tags/%3Cb%3Ev%2A"), Some(&lead.token), None).await;
    assert_eq!(rule.json()["create_access_levels"][0]["access_level"], 30, "{}", rule.body);

    // The same name again, and a name git could not hold: the page says why.
    let again = app.page(Method::POST, &format!("{settings}/protected_tags"), Some(&lead), Some(&form)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already exists"), "{}", again.body);
    let bad = [("name", "a..b"), ("create_access_level", "40")];
    let bad = app.page(Method::POST, &format!("{settings}/protected_tags"), Some(&lead), Some(&bad)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("not a valid tag name or pattern"), "{}", bad.body);
    // Without the form's CSRF token nothing changes; a Developer may not.
    let forged = [("name", "forged"), ("authenticity_token", "nope")];
    let forged = app.page(Method::POST, &format!("{settings}/protected_tags"), Some(&lead), Some(&forged)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let by_dev =
        app.page(Method::POST, &format!("{settings}/protected_tags"), Some(&dev), Some(&[("name", "d*")])).await;
    assert_eq!(by_dev.status, StatusCode::FORBIDDEN);
    let listed = app.api(Method::GET, &format!("{base}/protected_tags"), Some(&lead.token), None).await;
    assert_eq!(listed.json().as_array().unwrap().len(), 1, "{}", listed.body);

    // The tags page marks protected tags and offers their deletion to Maintainers only.
    let tag = json!({"tag_name": "<b>v1", "ref": "main"});
    let made = app.api(Method::POST, &format!("{base}/repository/tags"), Some(&lead.token), Some(tag)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let tags = format!("/{}/-/tags", project.full_path);
    let as_lead = app.page(Method::GET, &tags, Some(&lead), None).await;
    assert!(
        as_lead.body.contains("protected</span>") && as_lead.body.contains("Delete tag &#60;b&#62;v1"),
        "{}",
        as_lead.body
    );
    let as_dev = app.page(Method::GET, &tags, Some(&dev), None).await;
    assert!(as_dev.body.contains("protected</span>") && !as_dev.body.contains("Delete tag"), "{}", as_dev.body);
    let confirmed = [("name", "<b>v1"), ("confirm", "yes")];
    let refused = app.page(Method::POST, &format!("{tags}/delete"), Some(&dev), Some(&confirmed)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("only Maintainers"), "{}", refused.body);

    let removed = app
        .page(Method::POST, &format!("{settings}/protected_tags/delete"), Some(&lead), Some(&[("name", "<b>v*")]))
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let page = app.page(Method::GET, &settings, Some(&lead), None).await;
    assert!(page.body.contains("No tag is protected."), "{}", page.body);
    let gone = app
        .page(Method::POST, &format!("{settings}/protected_tags/delete"), Some(&lead), Some(&[("name", "<b>v*")]))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}
