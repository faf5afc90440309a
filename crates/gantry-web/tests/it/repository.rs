//! Branches, tags and protected branches through the API, on a real repository.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn branches_tags_and_protected_branches_through_the_api() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let dev = app.user("dev").await;
    let l = Some(lead.token.as_str());
    let d = Some(dev.token.as_str());
    let body = json!({"name": "Site", "initialize_with_readme": true, "description": "Our site"});
    let created = app.api(Method::POST, "/api/v4/projects", l, Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["empty_repo"], false);
    let base = "/api/v4/projects/lead%2Fsite";
    let add = json!({"user_id": dev.user.id.0, "access_level": 30});
    assert_eq!(app.api(Method::POST, &format!("{base}/members"), l, Some(add)).await.status, StatusCode::CREATED);

    let branches = app.api(Method::GET, &format!("{base}/repository/branches"), d, None).await;
    assert_eq!(branches.status, StatusCode::OK, "{}", branches.body);
    let main = &branches.json()[0];
    assert_eq!((main["name"].as_str(), main["default"].as_bool()), (Some("main"), Some(true)));
    assert_eq!((main["protected"].as_bool(), main["can_push"].as_bool()), (Some(true), Some(false)));
    assert_eq!(main["commit"]["title"], "Initial commit");
    assert_eq!(main["commit"]["author_name"], "lead Tester");
    assert_eq!(branches.header("x-total"), "1");

    // A Developer branches off and tags; names and refs are checked.
    let branches_url = format!("{base}/repository/branches");
    let create = |body| app.api(Method::POST, &branches_url, d, Some(body));
    let topic = create(json!({"branch": "topic", "ref": "main"})).await;
    assert_eq!(topic.status, StatusCode::CREATED, "{}", topic.body);
    assert_eq!(topic.json()["can_push"], true);
    assert_eq!(create(json!({"branch": "topic", "ref": "main"})).await.status, StatusCode::CONFLICT);
    let bad = create(json!({"branch": "a..b", "ref": "main"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["message"].as_str().unwrap().contains("not a valid branch name"));
    let unknown = create(json!({"branch": "x", "ref": "nowhere"})).await;
    assert!(unknown.json()["message"].as_str().unwrap().contains("not a branch, tag or commit"), "{}", unknown.body);
    let tag = app
        .api(
            Method::POST,
            &format!("{base}/repository/tags"),
            d,
            Some(json!({"tag_name": "v1.0", "ref": "topic", "message": "First release"})),
        )
        .await;
    assert_eq!(tag.status, StatusCode::CREATED, "{}", tag.body);
    assert_eq!(
        (tag.json()["message"].as_str(), tag.json()["commit"]["id"].as_str()),
        (Some("First release"), main["commit"]["id"].as_str())
    );
    let tags = app.api(Method::GET, &format!("{base}/repository/tags?search=v1"), d, None).await;
    assert_eq!(tags.json().as_array().unwrap().len(), 1);
    assert_eq!(app.api(Method::GET, &format!("{base}/repository/tags/v1.0"), d, None).await.status, StatusCode::OK);

    // Protection: a Developer may not create or delete protected branches; Maintainers manage it.
    let rule = json!({"name": "release/*", "push_access_level": 40, "merge_access_level": 30});
    assert_eq!(
        app.api(Method::POST, &format!("{base}/protected_branches"), d, Some(rule.clone())).await.status,
        StatusCode::FORBIDDEN
    );
    let protected = app.api(Method::POST, &format!("{base}/protected_branches"), l, Some(rule.clone())).await;
    assert_eq!(protected.status, StatusCode::CREATED, "{}", protected.body);
    assert_eq!(protected.json()["push_access_levels"][0]["access_level_description"], "Maintainers");
    assert_eq!(
        app.api(Method::POST, &format!("{base}/protected_branches"), l, Some(rule)).await.status,
        StatusCode::CONFLICT
    );
    let refused = create(json!({"branch": "release/1", "ref": "main"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let release = app
        .api(
            Method::POST,
            &format!("{base}/repository/branches"),
            l,
            Some(json!({"branch": "release/1", "ref": "main"})),
        )
        .await;
    assert_eq!(release.status, StatusCode::CREATED);
    assert_eq!(release.json()["developers_can_merge"], true);
    let encoded = format!("{base}/repository/branches/release%2F1");
    assert_eq!(app.api(Method::GET, &encoded, d, None).await.json()["protected"], true);
    assert_eq!(app.api(Method::DELETE, &encoded, d, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::DELETE, &encoded, l, None).await.status, StatusCode::NO_CONTENT);
    let main_deleted = app.api(Method::DELETE, &format!("{base}/repository/branches/main"), l, None).await;
    assert_eq!(main_deleted.status, StatusCode::BAD_REQUEST, "the default branch stays");
    let patched = app
        .api(
            Method::PATCH,
            &format!("{base}/protected_branches/main"),
            l,
            Some(json!({"allowed_to_push": [{"access_level": 30}], "allow_force_push": true})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        (
            patched.json()["push_access_levels"][0]["access_level"].as_i64(),
            patched.json()["allow_force_push"].as_bool()
        ),
        (Some(30), Some(true))
    );
    let bad_level = app
        .api(Method::PATCH, &format!("{base}/protected_branches/main"), l, Some(json!({"push_access_level": 35})))
        .await;
    assert_eq!(bad_level.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.api(Method::GET, &format!("{base}/repository/branches/main"), d, None).await.json()["can_push"],
        true
    );
    assert_eq!(
        app.api(Method::DELETE, &format!("{base}/protected_branches/main"), l, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api(Method::GET, &format!("{base}/protected_branches"), d, None).await.json().as_array().unwrap().len(),
        1
    );

    assert_eq!(
        app.api(Method::DELETE, &format!("{base}/repository/tags/v1.0"), d, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api(Method::DELETE, &format!("{base}/repository/branches/topic"), d, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api(Method::GET, &format!("{base}/repository/branches/topic"), d, None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn branch_tag_and_protection_pages_work_from_forms() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let body = json!({"name": "Site", "initialize_with_readme": true});
    assert_eq!(
        app.api(Method::POST, "/api/v4/projects", Some(&lead.token), Some(body)).await.status,
        StatusCode::CREATED
    );

    let overview = app.page(Method::GET, "/lead/site", Some(&lead), None).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(
        overview.body.contains("pushed new branch") && overview.body.contains("Initial commit"),
        "{}",
        overview.body
    );
    assert!(overview.body.contains("1 branch") && overview.body.contains("0 tags"));

    let created = app
        .page(Method::POST, "/lead/site/-/branches", Some(&lead), Some(&[("branch", "feature/login"), ("ref", "")]))
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let bad = app
        .page(Method::POST, "/lead/site/-/branches", Some(&lead), Some(&[("branch", "bad name"), ("ref", "main")]))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("not a valid branch name") && bad.body.contains("value=\"bad name\""),
        "keeps what was typed"
    );
    let page = app.page(Method::GET, "/lead/site/-/branches?search=login", Some(&lead), None).await;
    assert!(page.body.contains("feature/login") && !page.body.contains(">main<"), "{}", page.body);

    let tagged = app
        .page(
            Method::POST,
            "/lead/site/-/tags",
            Some(&lead),
            Some(&[("tag_name", "v1.0"), ("ref", "main"), ("message", "First <release>")]),
        )
        .await;
    assert_eq!(tagged.status, StatusCode::SEE_OTHER, "{}", tagged.body);
    let tags = app.page(Method::GET, "/lead/site/-/tags", Some(&lead), None).await;
    assert!(tags.body.contains("v1.0") && tags.body.contains("First &#60;release&#62;"), "escaped: {}", tags.body);

    let settings = app.page(Method::GET, "/lead/site/-/settings/repository", Some(&lead), None).await;
    assert!(settings.body.contains("Protected branches") && settings.body.contains(">main<"), "{}", settings.body);
    let protect =
        [("name", "feature/*"), ("push_access_level", "30"), ("merge_access_level", "40"), ("allow_force_push", "1")];
    let protected = app
        .page(Method::POST, "/lead/site/-/settings/repository/protected_branches", Some(&lead), Some(&protect))
        .await;
    assert_eq!(protected.status, StatusCode::SEE_OTHER);
    let again = app
        .page(Method::POST, "/lead/site/-/settings/repository/protected_branches", Some(&lead), Some(&protect))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already exists"));
    let rules: serde_json::Value =
        app.api(Method::GET, "/api/v4/projects/lead%2Fsite/protected_branches", Some(&lead.token), None).await.json();
    let rule = rules.as_array().unwrap().iter().find(|r| r["name"] == "feature/*").unwrap().clone();
    assert_eq!(
        (rule["allow_force_push"].as_bool(), rule["push_access_levels"][0]["access_level"].as_i64()),
        (Some(true), Some(30))
    );

    let confirmed = [("name", "feature/login"), ("confirm", "yes")];
    let deleted = app.page(Method::POST, "/lead/site/-/branches/delete", Some(&lead), Some(&confirmed)).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "a Maintainer deletes a protected branch");
    let main = [("name", "main"), ("confirm", "yes")];
    let default = app.page(Method::POST, "/lead/site/-/branches/delete", Some(&lead), Some(&main)).await;
    assert_eq!(default.status, StatusCode::BAD_REQUEST);
    assert!(default.body.contains("default branch"));
    let untagged = app
        .page(Method::POST, "/lead/site/-/tags/delete", Some(&lead), Some(&[("name", "v1.0"), ("confirm", "yes")]))
        .await;
    assert_eq!(untagged.status, StatusCode::SEE_OTHER);
    let overview = app.page(Method::GET, "/lead/site", Some(&lead), None).await;
    assert!(overview.body.contains("deleted tag") && overview.body.contains("deleted branch"), "{}", overview.body);
}
