//! Listings restate visibility in SQL (gantry-db's project and group lists); the policy decides
//! it for one row. They must agree: for every visibility of a group, of its subgroup and of the
//! projects in them, every role held on the group or directly on a project, and every kind of
//! visitor (anonymous, a signed-in stranger, members, a personal namespace's owner, an
//! administrator), `GET /projects` and `GET /groups` list exactly the rows that
//! `GET /projects/:id` and `GET /groups/:id` let that visitor read.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, TestUser};

const VISIBILITIES: [&str; 3] = ["private", "internal", "public"];
const LEVELS: [(i64, &str); 5] =
    [(10, "guest"), (20, "reporter"), (30, "developer"), (40, "maintainer"), (50, "owner")];

fn rank(visibility: &str) -> usize {
    VISIBILITIES.iter().position(|v| *v == visibility).unwrap()
}

/// A project of each visibility the namespace `namespace` (of `limit`) allows, made by `creator`.
async fn projects_in(app: &TestApp, creator: &TestUser, namespace: i64, limit: &str) -> Vec<i64> {
    let mut made = Vec::new();
    for visibility in VISIBILITIES.iter().filter(|v| rank(v) <= rank(limit)) {
        let body = json!({"name": format!("P {visibility}"), "visibility": visibility, "namespace_id": namespace});
        let project = app.api(Method::POST, "/api/v4/projects", Some(&creator.token), Some(body)).await;
        assert_eq!(project.status, StatusCode::CREATED, "{}", project.body);
        made.push(project.json()["id"].as_i64().unwrap());
    }
    made
}

/// The ids of every row of a paginated list.
async fn listed(app: &TestApp, path: &str, token: Option<&str>) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    for page in 1.. {
        let separator = if path.contains('?') { '&' } else { '?' };
        let response = app.api(Method::GET, &format!("{path}{separator}per_page=100&page={page}"), token, None).await;
        assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
        let rows = response.json();
        let rows = rows.as_array().unwrap();
        ids.extend(rows.iter().map(|row| row["id"].as_i64().unwrap()));
        if rows.len() < 100 {
            break;
        }
    }
    ids
}

/// The ids of `all` that `GET {base}/:id` answers for this visitor.
async fn readable(app: &TestApp, base: &str, all: &[i64], token: Option<&str>) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    for id in all {
        let response = app.api(Method::GET, &format!("{base}/{id}"), token, None).await;
        match response.status {
            StatusCode::OK => {
                ids.insert(*id);
            }
            StatusCode::NOT_FOUND => {}
            other => panic!("{base}/{id}: {other} {}", response.body),
        }
    }
    ids
}

#[tokio::test]
async fn listings_agree_with_the_policy_for_every_visibility_role_and_visitor() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let creator = app.user("creator").await;
    let stranger = app.user("stranger").await;
    let mut visitors: Vec<(String, Option<TestUser>)> =
        vec![("anonymous".into(), None), ("stranger".into(), Some(stranger)), ("admin".into(), Some(admin.clone()))];

    let mut groups = Vec::new();
    let mut projects = Vec::new();
    for group_visibility in VISIBILITIES {
        let body = json!({"name": format!("G {group_visibility}"), "path": format!("g-{group_visibility}"),
                          "visibility": group_visibility});
        let group = app.api(Method::POST, "/api/v4/groups", Some(&creator.token), Some(body)).await;
        assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
        let group = group.json()["id"].as_i64().unwrap();
        groups.push(group);
        projects.extend(projects_in(&app, &creator, group, group_visibility).await);
        // Subgroups as open as their parent allows, or less.
        for sub_visibility in VISIBILITIES.iter().filter(|v| rank(v) <= rank(group_visibility)) {
            let body = json!({"name": format!("S {sub_visibility}"), "path": format!("s-{sub_visibility}"),
                              "visibility": sub_visibility, "parent_id": group});
            let sub = app.api(Method::POST, "/api/v4/groups", Some(&creator.token), Some(body)).await;
            assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.body);
            let sub = sub.json()["id"].as_i64().unwrap();
            groups.push(sub);
            projects.extend(projects_in(&app, &creator, sub, sub_visibility).await);
        }
    }
    // A personal project of each visibility.
    for visibility in VISIBILITIES {
        let body = json!({"name": format!("Mine {visibility}"), "visibility": visibility});
        let project = app.api(Method::POST, "/api/v4/projects", Some(&creator.token), Some(body)).await;
        assert_eq!(project.status, StatusCode::CREATED, "{}", project.body);
        projects.push(project.json()["id"].as_i64().unwrap());
    }
    visitors.push(("the personal namespace's owner and groups' creator".into(), Some(creator.clone())));

    // Members of each level on the private top group, and directly on its private project.
    let private_group = groups[0];
    let private_project = projects[0];
    for (level, name) in LEVELS {
        let on_group = app.user(&format!("group-{name}")).await;
        let body = json!({"user_id": on_group.user.id.0, "access_level": level});
        let added = app
            .api(Method::POST, &format!("/api/v4/groups/{private_group}/members"), Some(&creator.token), Some(body))
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        visitors.push((format!("{name} of the private group"), Some(on_group)));
        if level == 50 {
            continue; // a project's members are at most Maintainers
        }
        let on_project = app.user(&format!("project-{name}")).await;
        let body = json!({"user_id": on_project.user.id.0, "access_level": level});
        let path = format!("/api/v4/projects/{private_project}/members");
        let added = app.api(Method::POST, &path, Some(&creator.token), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        visitors.push((format!("{name} of a private project"), Some(on_project)));
    }

    for (label, visitor) in &visitors {
        let token = visitor.as_ref().map(|user| user.token.as_str());
        assert_eq!(
            listed(&app, "/api/v4/projects", token).await,
            readable(&app, "/api/v4/projects", &projects, token).await,
            "projects listed for {label} differ from those the policy lets them read"
        );
        assert_eq!(
            listed(&app, "/api/v4/groups?all_available=true", token).await,
            readable(&app, "/api/v4/groups", &groups, token).await,
            "groups listed for {label} differ from those the policy lets them read"
        );
    }
}
