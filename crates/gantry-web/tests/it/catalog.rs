//! The CI/CD Catalog, in process: an Owner marks a project as a catalog resource in its
//! settings (Maintainers may not); Explore → CI/CD Catalog lists the resources a visitor may see,
//! by name and a page at a time; a resource's page shows the components of its default branch
//! with their inputs, its released versions newest first and the line that includes each
//! component. Private resources stay hidden from those who may not see them.

use axum::http::{Method, StatusCode};
use gantry_core::manage::members::MemberTarget;
use gantry_core::manage::projects::NewProjectInput;
use gantry_core::{Actor, ProjectRow};
use gantry_types::{AccessLevel, Visibility};
use serde_json::json;

use crate::support::{TestApp, TestUser};

const BUILD: &str = "spec:
  inputs:
    stage:
      default: test
      description: The stage the job runs in
    jobs:
      type: number
      default: 2
    target:
      options: [debug, release]
---
build-job:
  stage: $[[ inputs.stage ]]
  script: make $[[ inputs.target ]]
";

const DEPLOY: &str = "deploy-job:\n  script: ./deploy\n";

/// A public project of `user` with components under `templates/` and release tags.
async fn component_project(app: &TestApp, user: &TestUser) -> ProjectRow {
    let (project, _) = app.project_with_file(user, "Components", "README.md", b"# Components\n").await;
    let id = project.id.0;
    let actions = json!({
        "branch": "main", "commit_message": "More components",
        "actions": [
            {"action": "create", "file_path": "templates/build.yml", "content": BUILD},
            {"action": "create", "file_path": "templates/deploy/template.yml", "content": DEPLOY},
            {"action": "create", "file_path": "templates/broken.yml", "content": "spec:\n  inputs: [\n---\nx: 1\n"},
            {"action": "create", "file_path": "templates/README.md", "content": "not a component\n"},
            {"action": "create", "file_path": "templates/partials/helper.yml", "content": "x: 1\n"}
        ]
    });
    let commits = format!("/api/v4/projects/{id}/repository/commits");
    let commit = app.api(Method::POST, &commits, Some(&user.token), Some(actions)).await;
    assert_eq!(commit.status, StatusCode::CREATED, "{}", commit.body);
    let change = json!({"description": "Build & deploy <components>", "visibility": "public"});
    let changed = app.api(Method::PUT, &format!("/api/v4/projects/{id}"), Some(&user.token), Some(change)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let owner = Actor::User(user.user.clone());
    for tag in ["1.0.0", "v1.2.0", "1.10.0", "latest", "2.0.0-rc.1"] {
        app.core.code().create_tag(&owner, &project, tag, "main", "").await.unwrap();
    }
    project
}

#[tokio::test]
async fn owners_list_projects_in_the_catalog_and_visitors_see_their_components() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let maintainer = app.user("max").await;
    let project = component_project(&app, &ada).await;
    let owner = Actor::User(ada.user.clone());
    let target = MemberTarget::Project(&project);
    app.core.manage().add_member(&owner, target, maintainer.user.id, AccessLevel::Maintainer, None).await.unwrap();
    let settings = format!("/{}/-/settings", project.full_path);
    let resource = format!("/explore/catalog/{}", project.full_path);

    // Not in the catalog yet: no resource page, an empty list.
    assert_eq!(app.page(Method::GET, &resource, Some(&ada), None).await.status, StatusCode::NOT_FOUND);
    let list = app.page(Method::GET, "/explore/catalog", None, None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("No catalog resources yet"), "{}", list.body);

    // A Maintainer sees the setting but may not change it; the Owner may.
    let page = app.page(Method::GET, &settings, Some(&maintainer), None).await;
    assert!(page.body.contains("Only its Owners change this"), "{}", page.body);
    let switch = format!("{settings}/catalog");
    let refused = app.page(Method::POST, &switch, Some(&maintainer), Some(&[("ci_cd_catalog", "1")])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let page = app.page(Method::GET, &settings, Some(&ada), None).await;
    assert!(page.body.contains("name=\"ci_cd_catalog\" value=\"1\">"), "unchecked at first");
    let saved = app.page(Method::POST, &switch, Some(&ada), Some(&[("ci_cd_catalog", "1")])).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = app.page(Method::GET, &settings, Some(&ada), None).await;
    assert!(page.body.contains("name=\"ci_cd_catalog\" value=\"1\" checked>"), "{}", page.body);

    // The list, for anyone, with the description escaped; search by name.
    let list = app.page(Method::GET, "/explore/catalog", None, None).await;
    assert!(list.body.contains(&format!("href=\"{resource}\"")), "{}", list.body);
    assert!(list.body.contains("Build &#38; deploy &#60;components&#62;"), "{}", list.body);
    let found = app.page(Method::GET, "/explore/catalog?search=COMPO", None, None).await;
    assert!(found.body.contains(&resource));
    let none = app.page(Method::GET, "/explore/catalog?search=zzz", None, None).await;
    assert!(none.body.contains("No catalog resource matches"), "{}", none.body);
    let explore = app.page(Method::GET, "/explore", None, None).await;
    assert!(explore.body.contains("href=\"/explore/catalog\""), "Explore links to the catalog");

    // The resource: its components with their inputs, versions newest first, usage lines.
    let page = app.page(Method::GET, &resource, None, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    let component = |name: &str| {
        let start = body.find(&format!("id=\"component-{name}\"")).unwrap_or_else(|| panic!("{name} in {body}"));
        let rest = &body[start..];
        rest[..rest.find("</article>").unwrap()].to_owned()
    };
    let build = component("build");
    // Addressed by the server's host, as `include:component` reads it, at the newest release.
    let usage = &build[build.find("include:\n  - component: ").expect("a usage line")..];
    assert!(usage.lines().nth(1).unwrap().ends_with("/ada/components/build@1.10.0</code></pre>"), "{usage}");
    assert!(build.contains("<code>stage</code>") && build.contains("The stage the job runs in"), "{build}");
    assert!(build.contains("<td>number</td>") && build.contains("<code>2</code>"), "{build}");
    let target_row = &build[build.find("<code>target</code>").unwrap()..];
    assert!(target_row.contains("required") && target_row.contains("<code>debug</code>"), "{target_row}");
    let deploy = component("deploy");
    assert!(deploy.contains("templates/deploy/template.yml") && deploy.contains("No inputs."), "{deploy}");
    assert!(component("broken").contains("Its file cannot be read"), "{body}");
    assert!(!body.contains("component-README") && !body.contains("component-partials"), "{body}");
    let versions = &body[body.find("id=\"versions\"").unwrap()..];
    let order: Vec<usize> = [">1.10.0<", ">v1.2.0<", ">1.0.0<"].iter().map(|v| versions.find(v).unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{versions}");
    assert!(!versions.contains(">latest<") && !versions.contains("2.0.0-rc.1"), "{versions}");

    // Removing the mark takes it out of the catalog.
    let saved = app.page(Method::POST, &switch, Some(&ada), Some(&[])).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(app.page(Method::GET, &resource, Some(&ada), None).await.status, StatusCode::NOT_FOUND);
    assert!(app.page(Method::GET, "/explore/catalog", None, None).await.body.contains("No catalog resources yet"));
}

#[tokio::test]
async fn private_resources_are_seen_only_by_those_who_may_read_them() {
    let app = TestApp::new().await;
    let bob = app.user("bob").await;
    let ada = app.user("ada").await;
    let guest = app.user("gus").await;
    let owner = Actor::User(bob.user.clone());
    let input = NewProjectInput {
        name: "Secret kit".into(),
        visibility: Some(Visibility::Private),
        initialize_with_readme: true,
        ..Default::default()
    };
    let project = app.core.manage().create_project(&owner, &input).await.unwrap();
    let target = MemberTarget::Project(&project);
    app.core.manage().add_member(&owner, target, guest.user.id, AccessLevel::Guest, None).await.unwrap();
    let access = app.core.access_to_project(&owner, &project).await.unwrap();
    app.core.ci().set_catalog_resource(&access, true).await.unwrap();
    let resource = format!("/explore/catalog/{}", project.full_path);

    for (who, listed, status) in [
        (None, false, StatusCode::NOT_FOUND),
        (Some(&ada), false, StatusCode::NOT_FOUND),
        (Some(&guest), true, StatusCode::FORBIDDEN),
        (Some(&bob), true, StatusCode::OK),
    ] {
        let label = who.map_or("anonymous", |u| u.user.username.as_str());
        let list = app.page(Method::GET, "/explore/catalog", who, None).await;
        assert_eq!(list.body.contains(&resource), listed, "{label}: {}", list.body);
        assert_eq!(app.page(Method::GET, &resource, who, None).await.status, status, "{label}");
    }
    // Its page for the Owner: no components in a repository holding only a README.
    let page = app.page(Method::GET, &resource, Some(&bob), None).await;
    assert!(page.body.contains("No components on main"), "{}", page.body);
    assert!(page.body.contains("No released version yet"), "{}", page.body);
}

#[tokio::test]
async fn the_catalog_comes_a_page_at_a_time() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let owner = Actor::User(ada.user.clone());
    for n in 0..23 {
        let input =
            NewProjectInput { name: format!("Kit {n:02}"), visibility: Some(Visibility::Public), ..Default::default() };
        let project = app.core.manage().create_project(&owner, &input).await.unwrap();
        let access = app.core.access_to_project(&owner, &project).await.unwrap();
        app.core.ci().set_catalog_resource(&access, true).await.unwrap();
    }
    let first = app.page(Method::GET, "/explore/catalog", None, None).await;
    assert!(first.body.contains("23 resources"), "{}", first.body);
    assert!(first.body.contains("Kit 00") && first.body.contains("Kit 19") && !first.body.contains("Kit 20"));
    assert!(first.body.contains("?search=&amp;page=2"), "{}", first.body);
    let second = app.page(Method::GET, "/explore/catalog?page=2", None, None).await;
    assert!(second.body.contains("Kit 22") && !second.body.contains("Kit 19"), "{}", second.body);
    assert!(second.body.contains("page=1") && !second.body.contains("page=3"), "{}", second.body);
    let searched = app.page(Method::GET, "/explore/catalog?search=kit%202", None, None).await;
    assert!(searched.body.contains("3 resources"), "{}", searched.body);
    let long = format!("/explore/catalog?search={}", "x".repeat(300));
    assert_eq!(app.page(Method::GET, &long, None, None).await.status, StatusCode::BAD_REQUEST);
}
