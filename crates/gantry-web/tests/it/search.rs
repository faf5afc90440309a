//! Finding things: the search API (GitLab's shapes, scopes, errors, pagination) at the
//! instance, a group and a project; the search page; find file and its JSON; and that a private
//! project's code never shows to those who may not read it.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::code::project_with_history;
use crate::support::{TestApp, TestUser};

async fn get(app: &TestApp, path: &str, user: Option<&TestUser>) -> (StatusCode, Value) {
    let response = app.api(Method::GET, path, user.map(|u| u.token.as_str()), None).await;
    let body = if response.body.is_empty() { Value::Null } else { response.json() };
    (response.status, body)
}

fn paths(found: &Value) -> Vec<String> {
    found.as_array().unwrap().iter().map(|hit| hit["path"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn project_search_answers_gitlab_shapes_at_a_ref() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    let (first, second) = project_with_history(&app, &lead).await;
    let id = get(&app, "/api/v4/projects/lead%2Fsite", Some(&lead)).await.1["id"].as_i64().unwrap();
    let base = format!("/api/v4/projects/{id}/search");

    let response = app.api(Method::GET, &format!("{base}?scope=blobs&search=HELLO"), Some(&lead.token), None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.header("x-total"), "1");
    let blobs = response.json();
    assert_eq!(
        blobs[0],
        json!({
            "basename": "src/main",
            "data": "fn main() {\n    println!(\"<hello>\");\n}\n",
            "path": "src/main.rs",
            "filename": "src/main.rs",
            "id": null,
            "ref": "main",
            "startline": 1,
            "project_id": id,
        })
    );
    // A file is found by its path too (after the files whose lines match), by its first lines;
    // a binary file is not.
    let (_, named) = get(&app, &format!("{base}?scope=blobs&search=MAIN.rs"), Some(&lead)).await;
    assert_eq!(paths(&named), ["docs/guide.md", "src/main.rs"], "{named}");
    assert_eq!(
        (named[1]["startline"].as_i64(), named[1]["data"].as_str()),
        (Some(1), Some("fn main() {\n    println!(\"<hello>\");\n}\n"))
    );
    assert_eq!(get(&app, &format!("{base}?scope=blobs&search=logo"), Some(&lead)).await.1, json!([]));
    // At the first commit the file said something else.
    let (_, at_first) = get(&app, &format!("{base}?scope=blobs&search=%3Chi%3E&ref={first}"), Some(&lead)).await;
    assert_eq!(paths(&at_first), ["src/main.rs"]);
    assert_eq!(at_first[0]["ref"], first);
    let (_, at_main) = get(&app, &format!("{base}?scope=blobs&search=%3Chi%3E"), Some(&lead)).await;
    assert_eq!(at_main, json!([]));
    let (_, unknown_ref) = get(&app, &format!("{base}?scope=blobs&search=hello&ref=nope"), Some(&lead)).await;
    assert_eq!(unknown_ref, json!([]));

    let (status, commits) = get(&app, &format!("{base}?scope=commits&search=say%20HELLO"), Some(&lead)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(commits.as_array().unwrap().len(), 1, "{commits}");
    assert_eq!(commits[0]["id"], second);
    assert_eq!(commits[0]["title"], "Say hello");
    assert_eq!(commits[0]["message"], "Say hello\n\nA longer explanation.");
    assert_eq!(commits[0]["project_id"], id);
    assert!(commits[0]["web_url"].as_str().unwrap().ends_with(&format!("/lead/site/-/commit/{second}")));
    // "Initial commit", "Add code and docs", "Say hello": three, one a page.
    let paged =
        app.api(Method::GET, &format!("{base}?scope=commits&search=o&per_page=1"), Some(&lead.token), None).await;
    assert_eq!(paged.json().as_array().unwrap().len(), 1);
    assert_eq!((paged.header("x-total"), paged.header("x-next-page")), ("3", "2"));

    for (query, message) in [
        ("scope=blobs", "search is missing"),
        ("search=x", "scope is missing"),
        ("scope=bogus&search=x", "scope does not have a valid value"),
        ("scope=projects&search=x", "scope does not have a valid value"),
    ] {
        let (status, body) = get(&app, &format!("{base}?{query}"), Some(&lead)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body["message"].as_str().unwrap().starts_with(message), "{query}: {body}");
    }
    // GitLab's scopes for things Gantry does not have find nothing.
    let (status, issues) = get(&app, &format!("{base}?scope=issues&search=x"), Some(&lead)).await;
    assert_eq!((status, issues), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn instance_and_group_search_reach_readable_projects() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    project_with_history(&app, &lead).await;
    let group = app.api(
        Method::POST,
        "/api/v4/groups",
        Some(&lead.token),
        Some(json!({"name": "Team", "path": "team", "visibility": "public"})),
    );
    let group_id = group.await.json()["id"].as_i64().unwrap();
    let body = json!({"name": "Tools", "namespace_id": group_id, "visibility": "public"});
    let tools = app.api(Method::POST, "/api/v4/projects", Some(&lead.token), Some(body)).await.json();
    let tools_id = tools["id"].as_i64().unwrap();
    let file = json!({"branch": "main", "content": "hello from the tools\n", "commit_message": "Add the hello tool"});
    let made = app
        .api(
            Method::POST,
            &format!("/api/v4/projects/{tools_id}/repository/files/bin%2Ftool.sh"),
            Some(&lead.token),
            Some(file),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);

    let (status, blobs) = get(&app, "/api/v4/search?scope=blobs&search=hello", Some(&lead)).await;
    assert_eq!(status, StatusCode::OK, "{blobs}");
    let mut found = paths(&blobs);
    found.sort();
    assert_eq!(found, ["bin/tool.sh", "src/main.rs"]);
    let (_, commits) = get(&app, "/api/v4/search?scope=commits&search=hello", Some(&lead)).await;
    let titles: Vec<&str> = commits.as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"Say hello") && titles.contains(&"Add the hello tool"), "{titles:?}");
    let (_, projects) = get(&app, "/api/v4/search?scope=projects&search=too", Some(&lead)).await;
    assert_eq!(projects.as_array().unwrap().len(), 1);
    assert_eq!(projects[0]["path_with_namespace"], "team/tools");
    let (_, users) = get(&app, "/api/v4/search?scope=users&search=lea", Some(&lead)).await;
    assert_eq!(users[0]["username"], "lead");
    // Anonymous visitors search public code, and are asked to sign in to look for people.
    let (status, anonymous) = get(&app, "/api/v4/search?scope=blobs&search=hello", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(anonymous.as_array().unwrap().len(), 2);
    assert_eq!(get(&app, "/api/v4/search?scope=users&search=lead", None).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = get(&app, "/api/v4/search?scope=bogus&search=x", Some(&lead)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Within the group: its project only.
    let (status, in_group) =
        get(&app, &format!("/api/v4/groups/{group_id}/search?scope=blobs&search=hello"), Some(&lead)).await;
    assert_eq!(status, StatusCode::OK, "{in_group}");
    assert_eq!(paths(&in_group), ["bin/tool.sh"]);
    assert_eq!(in_group[0]["project_id"], tools_id);
    let (_, group_projects) = get(&app, "/api/v4/groups/team/search?scope=projects&search=tools", Some(&lead)).await;
    assert_eq!(group_projects[0]["id"], tools_id);
    let (_, group_commits) = get(&app, "/api/v4/groups/team/search?scope=commits&search=say", Some(&lead)).await;
    assert_eq!(group_commits, json!([]), "the other project's commits are outside the group");
    // People: the group's and the project's members whose name or username matches.
    let (status, members) = get(&app, "/api/v4/groups/team/search?scope=users&search=LEA", Some(&lead)).await;
    assert_eq!(status, StatusCode::OK, "{members}");
    assert_eq!(members.as_array().unwrap().len(), 1);
    assert_eq!(members[0]["username"], "lead");
    let (_, nobody) = get(&app, "/api/v4/groups/team/search?scope=users&search=zed", Some(&lead)).await;
    assert_eq!(nobody, json!([]));
    let in_project = format!("/api/v4/projects/{tools_id}/search?scope=users&search=lead");
    let (status, members) = get(&app, &in_project, Some(&lead)).await;
    assert_eq!((status, members[0]["username"].as_str()), (StatusCode::OK, Some("lead")), "inherited from the group");
    let (status, _) =
        get(&app, &format!("/api/v4/projects/{tools_id}/search?scope=projects&search=x"), Some(&lead)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The search page within the group and within the project has the same people.
    for within in [format!("group_id={group_id}"), format!("project_id={tools_id}")] {
        let page = app.page(Method::GET, &format!("/search?search=lea&scope=users&{within}"), Some(&lead), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(">Users") && page.body.contains("href=\"/lead\""), "{within}: {}", page.body);
    }
}

#[tokio::test]
async fn private_code_never_shows_to_those_who_may_not_read_it() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let stranger = app.user("stranger").await;
    let guest = app.user("guest").await;
    let reporter = app.user("reporter").await;
    let (project, _) = app.project_with_file(&owner, "Vault", "secret.txt", b"the sesame password\n").await;
    let id = project.id.0;
    for (who, level) in [(&guest, 10), (&reporter, 20)] {
        let body = json!({"user_id": who.user.id.0, "access_level": level});
        let added =
            app.api(Method::POST, &format!("/api/v4/projects/{id}/members"), Some(&owner.token), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }
    let global = "/api/v4/search?scope=blobs&search=sesame";
    assert_eq!(paths(&get(&app, global, Some(&owner)).await.1), ["secret.txt"]);
    assert_eq!(paths(&get(&app, global, Some(&reporter)).await.1), ["secret.txt"]);
    for who in [Some(&stranger), Some(&guest), None] {
        assert_eq!(get(&app, global, who).await.1, json!([]));
        let (_, commits) = get(&app, "/api/v4/search?scope=commits&search=first", who).await;
        assert_eq!(commits, json!([]));
    }
    let (_, projects) = get(&app, "/api/v4/search?scope=projects&search=vault", Some(&stranger)).await;
    assert_eq!(projects, json!([]));
    let in_project = format!("/api/v4/projects/{id}/search?scope=blobs&search=sesame");
    assert_eq!(get(&app, &in_project, Some(&stranger)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &in_project, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &in_project, Some(&guest)).await, (StatusCode::OK, json!([])), "a Guest finds no code");
    assert_eq!(paths(&get(&app, &in_project, Some(&reporter)).await.1), ["secret.txt"]);

    // The pages: nothing for the stranger, the file for its owner.
    let page = app.page(Method::GET, "/search?search=sesame&scope=blobs", Some(&stranger), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("secret.txt") && !page.body.contains("sesame password"), "{}", page.body);
    let page = app.page(Method::GET, &format!("/search?search=sesame&project_id={id}"), Some(&stranger), None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let find = app.page(Method::GET, "/owner/vault/-/find_file/main", Some(&stranger), None).await;
    assert_eq!(find.status, StatusCode::NOT_FOUND);
    let find = app.page(Method::GET, "/owner/vault/-/files/main?q=sec", Some(&guest), None).await;
    assert_eq!(find.status, StatusCode::FORBIDDEN, "a Guest sees the project, not its files");
    let page = app.page(Method::GET, "/search?search=sesame&scope=blobs", Some(&owner), None).await;
    assert!(page.body.contains("/owner/vault/-/blob/main/secret.txt#L1"), "{}", page.body);
    assert!(page.body.contains("<mark>sesame</mark>"));
}

#[tokio::test]
async fn search_page_has_tabs_counts_and_links_to_the_line() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    project_with_history(&app, &lead).await;
    let id = get(&app, "/api/v4/projects/lead%2Fsite", Some(&lead)).await.1["id"].as_i64().unwrap();

    // On a project's pages the top bar searches that project; elsewhere, everything.
    let tree = app.page(Method::GET, "/lead/site/-/tree/main", None, None).await;
    assert!(tree.body.contains(&format!("<input type=\"hidden\" name=\"project_id\" value=\"{id}\">")));
    assert!(tree.body.contains("href=\"/lead/site/-/find_file/main\""), "the tree's Find file button");
    assert!(tree.body.contains("data-find-file=\"/lead/site/-/find_file/main\""), "the `t` key's target");
    let explore = app.page(Method::GET, "/explore", None, None).await;
    assert!(explore.body.contains("action=\"/search\"") && !explore.body.contains("name=\"project_id\""));

    let page = app.page(Method::GET, &format!("/search?search=Hello&project_id={id}"), None, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("in project lead/site"));
    assert!(page.body.contains("href=\"/lead/site/-/blob/main/src/main.rs#L2\""), "{}", page.body);
    assert!(page.body.contains("&#60;<mark>hello</mark>&#62;"), "the match marked, the code escaped");
    assert!(page.body.contains("data-scope=\"blobs\" aria-current=\"page\">Code <span class=\"badge\">1</span>"));
    assert!(page.body.contains("Commits <span class=\"badge\">1</span>"));
    assert!(page.body.contains("id=\"search-everywhere\" href=\"/search?search=Hello\""));
    let commits =
        app.page(Method::GET, &format!("/search?search=hello&project_id={id}&scope=commits"), None, None).await;
    assert!(commits.body.contains("/lead/site/-/commit/"), "{}", commits.body);
    assert!(commits.body.contains("Say <mark>hello</mark>"));

    let everywhere = app.page(Method::GET, "/search?search=site", Some(&lead), None).await;
    assert!(
        everywhere
            .body
            .contains("data-scope=\"projects\" aria-current=\"page\">Projects <span class=\"badge\">1</span>")
    );
    assert!(everywhere.body.contains("href=\"/lead/site\""));
    for tab in ["groups", "blobs", "commits", "users"] {
        assert!(everywhere.body.contains(&format!("data-scope=\"{tab}\"")), "tab {tab}");
    }
    let anonymous = app.page(Method::GET, "/search?search=lead", None, None).await;
    assert!(!anonymous.body.contains("data-scope=\"users\""), "no people for anonymous visitors");
    let empty = app.page(Method::GET, "/search", None, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(!empty.body.contains("class=\"tabs\" aria-label=\"What to search\""));
}

#[tokio::test]
async fn find_file_matches_paths_fuzzily_at_any_ref() {
    let app = TestApp::new().await;
    let lead = app.user("lead").await;
    project_with_history(&app, &lead).await;
    let id = get(&app, "/api/v4/projects/lead%2Fsite", Some(&lead)).await.1["id"].as_i64().unwrap();
    let branch = json!({"branch": "feature/find", "ref": "main"});
    let branches = format!("/api/v4/projects/{id}/repository/branches");
    let made = app.api(Method::POST, &branches, Some(&lead.token), Some(branch)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);

    let page = app.page(Method::GET, "/lead/site/-/find_file/main?q=mainrs", None, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<a href=\"/lead/site/-/blob/main/src/main.rs\">src/<mark>main</mark>.<mark>rs</mark></a>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("1 matching file<"));
    assert!(page.body.contains("data-matches=\"/lead/site/-/files/main\""));
    let all = app.page(Method::GET, "/lead/site/-/find_file/feature/find", None, None).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body.contains("4 files"), "README, guide, main and logo: {}", all.body);
    assert!(all.body.contains("/lead/site/-/blob/feature/find/docs/guide.md"));

    let json = app.page(Method::GET, "/lead/site/-/files/feature/find?q=gd", None, None).await;
    assert_eq!(json.status, StatusCode::OK);
    let answer = json.json();
    assert_eq!(answer["files"][0]["path"], "docs/guide.md");
    assert_eq!(answer["files"][0]["href"], "/lead/site/-/blob/feature/find/docs/guide.md");
    assert_eq!(answer["files"][0]["positions"], json!([5, 8]));
    assert_eq!(answer["complete"], true);
    let none = app.page(Method::GET, "/lead/site/-/files/main?q=zzzz", None, None).await.json();
    assert_eq!((none["files"].clone(), none["total"].clone()), (json!([]), json!(0)));
    let unknown = app.page(Method::GET, "/lead/site/-/find_file/nope", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
