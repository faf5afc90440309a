//! Project topics: the Topics API as GitLab has it (administrators write, anyone reads), topics
//! on projects through `topics` and its old name `tag_list`, the `topic` filter of the project
//! list, and the settings page's Topics field.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// The names in a JSON array of topics or projects.
fn names(listed: &Value, field: &str) -> Vec<String> {
    listed.as_array().unwrap().iter().map(|item| item[field].as_str().unwrap().to_owned()).collect()
}

/// Creates a project through the API and returns its JSON.
async fn create_project(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let created = app.api(Method::POST, "/api/v4/projects", Some(&user.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()
}

#[tokio::test]
async fn administrators_create_update_merge_and_delete_topics() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let ada = app.user("ada").await;
    let a = Some(admin.token.as_str());

    let empty = app.api(Method::GET, "/api/v4/topics", None, None).await;
    assert_eq!(empty.status, StatusCode::OK, "anyone lists topics: {}", empty.body);
    assert_eq!(empty.json(), json!([]));
    assert_eq!(empty.header("x-total"), "0");

    let body = json!({"name": "my-topic", "title": "My topic", "description": "About it"});
    let created = app.api(Method::POST, "/api/v4/topics", a, Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let topic = created.json();
    assert_eq!(
        (&topic["name"], &topic["title"], &topic["description"], &topic["total_projects_count"]),
        (&json!("my-topic"), &json!("My topic"), &json!("About it"), &json!(0))
    );
    assert_eq!((&topic["organization_id"], &topic["avatar_url"]), (&Value::Null, &Value::Null));
    let id = topic["id"].as_i64().unwrap();
    let path = format!("/api/v4/topics/{id}");

    let duplicate = json!({"name": "MY-TOPIC", "title": "Again"});
    let refused = app.api(Method::POST, "/api/v4/topics", a, Some(duplicate)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "names are unique ignoring case: {}", refused.body);
    assert!(refused.body.contains("already been taken"), "{}", refused.body);
    let untitled = app.api(Method::POST, "/api/v4/topics", a, Some(json!({"name": "untitled"}))).await;
    assert_eq!(untitled.status, StatusCode::BAD_REQUEST, "{}", untitled.body);
    assert!(untitled.body.contains("title"), "{}", untitled.body);
    let comma = app.api(Method::POST, "/api/v4/topics", a, Some(json!({"name": "a,b", "title": "AB"}))).await;
    assert_eq!(comma.status, StatusCode::BAD_REQUEST, "{}", comma.body);
    let long = json!({"name": "x".repeat(256), "title": "Long"});
    assert_eq!(app.api(Method::POST, "/api/v4/topics", a, Some(long)).await.status, StatusCode::BAD_REQUEST);

    let updated = app.api(Method::PUT, &path, a, Some(json!({"description": "Updated"}))).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!((&updated.json()["description"], &updated.json()["name"]), (&json!("Updated"), &json!("my-topic")));
    let read = app.api(Method::GET, &path, None, None).await;
    assert_eq!(read.status, StatusCode::OK, "anyone reads a topic: {}", read.body);
    assert_eq!(read.json()["description"], "Updated");
    assert_eq!(app.api(Method::GET, "/api/v4/topics/999999", a, None).await.status, StatusCode::NOT_FOUND);

    // Non-administrators are told there is nothing to write to; anonymous callers to sign in.
    let d = Some(ada.token.as_str());
    let by_ada = json!({"name": "ada-topic", "title": "Ada's"});
    assert_eq!(app.api(Method::POST, "/api/v4/topics", d, Some(by_ada.clone())).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api(Method::POST, "/api/v4/topics", None, Some(by_ada)).await.status, StatusCode::UNAUTHORIZED);
    let change = Some(json!({"title": "Mine"}));
    assert_eq!(app.api(Method::PUT, &path, d, change).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api(Method::DELETE, &path, d, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.api(Method::GET, &path, None, None).await.json()["title"], "My topic", "unchanged");

    // A second topic with a project; merging the first into it moves the first's projects.
    let second = json!({"name": "second", "title": "Second"});
    let second = app.api(Method::POST, "/api/v4/topics", a, Some(second)).await.json();
    let second_id = second["id"].as_i64().unwrap();
    let both = create_project(&app, &ada, json!({"name": "Both", "topics": ["my-topic", "second"]})).await;
    let only_first = create_project(&app, &ada, json!({"name": "First", "topics": ["my-topic"]})).await;
    let listed = app.api(Method::GET, "/api/v4/topics", None, None).await;
    assert_eq!(names(&listed.json(), "name"), ["my-topic", "second"], "most projects first");
    assert_eq!(listed.json()[0]["total_projects_count"], 2);
    let searched = app.api(Method::GET, "/api/v4/topics?search=SEC", None, None).await;
    assert_eq!(names(&searched.json(), "name"), ["second"]);

    let merge = json!({"source_topic_id": id, "target_topic_id": second_id});
    assert_eq!(
        app.api(Method::POST, "/api/v4/topics/merge", d, Some(merge.clone())).await.status,
        StatusCode::NOT_FOUND
    );
    let itself = json!({"source_topic_id": id, "target_topic_id": id});
    let refused = app.api(Method::POST, "/api/v4/topics/merge", a, Some(itself)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let merged = app.api(Method::POST, "/api/v4/topics/merge", a, Some(merge)).await;
    assert_eq!(merged.status, StatusCode::CREATED, "{}", merged.body);
    assert_eq!((&merged.json()["id"], &merged.json()["total_projects_count"]), (&json!(second_id), &json!(2)));
    assert_eq!(app.api(Method::GET, &path, a, None).await.status, StatusCode::NOT_FOUND, "the source is gone");
    for project in [&both, &only_first] {
        let read = app.api(Method::GET, &format!("/api/v4/projects/{}", project["id"]), d, None).await;
        assert_eq!(read.json()["topics"], json!(["second"]), "{}", read.body);
    }

    let second_path = format!("/api/v4/topics/{second_id}");
    let deleted = app.api(Method::DELETE, &second_path, a, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(app.api(Method::GET, "/api/v4/topics", None, None).await.json(), json!([]));
    let read = app.api(Method::GET, &format!("/api/v4/projects/{}", both["id"]), d, None).await;
    assert_eq!(read.json()["topics"], json!([]), "a deleted topic leaves its projects");
}

#[tokio::test]
async fn projects_carry_topics_and_the_list_filters_by_them() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let ada = app.user("ada").await;
    let d = Some(ada.token.as_str());

    let web = create_project(&app, &ada, json!({"name": "Web", "topics": ["web", "Rust", "rust", " "]})).await;
    assert_eq!(web["topics"], json!(["Rust", "web"]), "sorted, repeats kept once");
    assert_eq!(web["tag_list"], web["topics"]);
    let cli = create_project(&app, &ada, json!({"name": "Cli", "tag_list": "rust, cli"})).await;
    assert_eq!(cli["topics"], json!(["cli", "Rust"]), "tag_list as one text; an existing topic keeps its spelling");
    let plain = create_project(&app, &ada, json!({"name": "Plain"})).await;
    assert_eq!(plain["topics"], json!([]));

    let topics = app.api(Method::GET, "/api/v4/topics", None, None).await.json();
    assert_eq!(names(&topics, "name"), ["Rust", "web", "cli"], "made on the way, in the first spelling");
    assert_eq!(topics[0]["title"], "Rust", "a topic made by a project is titled by its name");
    let unused = app.api(Method::GET, "/api/v4/topics?without_projects=true", None, None).await;
    assert_eq!(unused.json(), json!([]));

    let listed = |query: &'static str| {
        let app = &app;
        async move {
            let response = app.api(Method::GET, &format!("/api/v4/projects?{query}"), d, None).await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.body);
            let mut found = names(&response.json(), "name");
            found.sort();
            found
        }
    };
    assert_eq!(listed("topic=rust").await, ["Cli", "Web"]);
    assert_eq!(listed("topic=RUST,web").await, ["Web"], "every topic, ignoring case");
    assert_eq!(listed("topic=rust,nothing").await, Vec::<String>::new());
    assert_eq!(listed("topic=").await, ["Cli", "Plain", "Web"], "an empty filter filters nothing");
    assert_eq!(listed("topic=%25").await, Vec::<String>::new(), "wildcards are plain text");

    let path = format!("/api/v4/projects/{}", web["id"]);
    let changed = app.api(Method::PUT, &path, d, Some(json!({"topics": ["api"]}))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!((&changed.json()["topics"], &changed.json()["tag_list"]), (&json!(["api"]), &json!(["api"])));
    let renamed = app.api(Method::PUT, &path, d, Some(json!({"description": "kept"}))).await;
    assert_eq!(renamed.json()["topics"], json!(["api"]), "absent topics leave them as they are");
    let by_alias = app.api(Method::PUT, &path, d, Some(json!({"tag_list": ["one", "two"]}))).await;
    assert_eq!(by_alias.json()["topics"], json!(["one", "two"]));
    let cleared = app.api(Method::PUT, &path, d, Some(json!({"topics": ""}))).await;
    assert_eq!(cleared.json()["topics"], json!([]), "{}", cleared.body);
    let too_many: Vec<String> = (0..101).map(|n| format!("t{n}")).collect();
    let refused = app.api(Method::PUT, &path, d, Some(json!({"topics": too_many}))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let long = app.api(Method::PUT, &path, d, Some(json!({"topics": ["x".repeat(256)]}))).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST, "{}", long.body);

    // Topics are changed by those who may change the project.
    let bob = app.user("bob").await;
    let public = create_project(&app, &ada, json!({"name": "Open", "visibility": "public"})).await;
    let open_path = format!("/api/v4/projects/{}", public["id"]);
    let by_bob = app.api(Method::PUT, &open_path, Some(&bob.token), Some(json!({"topics": ["bob"]}))).await;
    assert_eq!(by_bob.status, StatusCode::FORBIDDEN, "{}", by_bob.body);
}

#[tokio::test]
async fn the_settings_page_saves_topics_and_the_overview_shows_them() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let ada = app.user("ada").await;
    let project = create_project(&app, &ada, json!({"name": "Site", "topics": ["docs"]})).await;
    let full_path = project["path_with_namespace"].as_str().unwrap().to_owned();
    let settings = format!("/{full_path}/-/settings");

    let page = app.page(Method::GET, &settings, Some(&ada), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"name="topics" value="docs""#), "{}", page.body);

    let form = [
        ("name", "Site"),
        ("path", "site"),
        ("visibility", "private"),
        ("default_branch", "main"),
        ("topics", "docs, <b>web</b> ,, Docs"),
    ];
    let saved = app.page(Method::POST, &settings, Some(&ada), Some(&form)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let read = app.api(Method::GET, &format!("/api/v4/projects/{}", project["id"]), Some(&ada.token), None).await;
    assert_eq!(read.json()["topics"], json!(["<b>web</b>", "docs"]));

    let overview = app.page(Method::GET, &format!("/{full_path}"), Some(&ada), None).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.body.contains("&#60;b&#62;web&#60;/b&#62;"), "topics are escaped: {}", overview.body);
    assert!(!overview.body.contains("<b>web</b>"));
    assert!(overview.body.contains(r#"<span class="badge">docs</span>"#));

    let bad = [
        ("name", "Site"),
        ("path", "site"),
        ("visibility", "private"),
        ("default_branch", "main"),
        ("topics", &"y".repeat(300)),
    ];
    let refused = app.page(Method::POST, &settings, Some(&ada), Some(&bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("too long"), "{}", refused.body);
}
