//! Groups as GitLab has them beyond create and delete: descendant groups and `skip_groups`,
//! moving a group (`/transfer`), group-level protected branches guarding the projects below, a
//! user's memberships, and the pages for sharing, moving and protecting (sharing itself is
//! `group_sharing.rs`, which uses this module's helpers).

use axum::http::{Method, StatusCode};
use gantry_core::Actor;
use gantry_core::code::git_access::{GitCredential, GitOperation};
use gantry_git::refcheck::RefUpdate;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// Creates a group (`parent`: its parent's id) and returns its JSON.
pub(crate) async fn group(app: &TestApp, user: &TestUser, path: &str, parent: Option<i64>, visibility: &str) -> Value {
    let body = json!({"name": path, "path": path, "parent_id": parent, "visibility": visibility});
    let created = app.api(Method::POST, "/api/v4/groups", Some(&user.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()
}

/// Creates a project with a README in a namespace and returns its JSON.
pub(crate) async fn project(app: &TestApp, user: &TestUser, name: &str, namespace: i64) -> Value {
    let body = json!({"name": name, "namespace_id": namespace, "initialize_with_readme": true});
    let created = app.api(Method::POST, "/api/v4/projects", Some(&user.token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()
}

pub(crate) async fn add_member(app: &TestApp, by: &TestUser, path: &str, user: &TestUser, level: i64) {
    let body = json!({"user_id": user.user.id.0, "access_level": level});
    let added = app.api(Method::POST, &format!("{path}/members"), Some(&by.token), Some(body)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
}

pub(crate) fn id(value: &Value) -> i64 {
    value["id"].as_i64().unwrap()
}

pub(crate) fn ids(listed: &Value) -> Vec<i64> {
    listed.as_array().unwrap_or_else(|| panic!("not a list: {listed}")).iter().map(id).collect()
}

/// The role `user` holds on a project, as `members/all` reports it (`None`: none).
pub(crate) async fn role_on(app: &TestApp, admin: &TestUser, project: i64, user: &TestUser) -> Option<i64> {
    let path = format!("/api/v4/projects/{project}/members/all/{}", user.user.id.0);
    let found = app.api(Method::GET, &path, Some(&admin.token), None).await;
    (found.status == StatusCode::OK).then(|| found.json()["access_level"].as_i64().unwrap())
}

#[tokio::test]
async fn descendant_groups_reach_every_level_and_skip_groups_leaves_some_out() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let deep_member = app.user("deep").await;
    let a = group(&app, &owner, "a", None, "public").await;
    let b = group(&app, &owner, "b", Some(id(&a)), "private").await;
    let c = group(&app, &owner, "c", Some(id(&b)), "private").await;
    let d = group(&app, &owner, "d", Some(id(&a)), "public").await;
    add_member(&app, &owner, &format!("/api/v4/groups/{}", id(&c)), &deep_member, 30).await;

    let all = app.api(Method::GET, "/api/v4/groups/a/descendant_groups", Some(&owner.token), None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(ids(&all.json()), vec![id(&b), id(&c), id(&d)]);
    assert_eq!(all.header("x-total"), "3");
    let children = app.api(Method::GET, "/api/v4/groups/a/subgroups", Some(&owner.token), None).await.json();
    assert_eq!(ids(&children), vec![id(&b), id(&d)]);
    let searched =
        app.api(Method::GET, "/api/v4/groups/a/descendant_groups?search=c", Some(&owner.token), None).await.json();
    assert_eq!(ids(&searched), vec![id(&c)]);
    let skipped = app
        .api(
            Method::GET,
            &format!("/api/v4/groups/a/descendant_groups?skip_groups[]={}&skip_groups[]={}", id(&b), id(&d)),
            Some(&owner.token),
            None,
        )
        .await
        .json();
    assert_eq!(ids(&skipped), vec![id(&c)]);
    let paged =
        app.api(Method::GET, "/api/v4/groups/a/descendant_groups?per_page=2&page=2", Some(&owner.token), None).await;
    assert_eq!(ids(&paged.json()), vec![id(&d)]);

    // Visible to the caller only: a member deep down sees their group, not its private parent.
    let theirs = app
        .api(Method::GET, "/api/v4/groups/a/descendant_groups?all_available=true", Some(&deep_member.token), None)
        .await
        .json();
    assert_eq!(ids(&theirs), vec![id(&c), id(&d)]);
    let anonymous = app.api(Method::GET, "/api/v4/groups/a/descendant_groups", None, None).await.json();
    assert_eq!(ids(&anonymous), vec![id(&d)]);
    let hidden = app.api(Method::GET, &format!("/api/v4/groups/{}/descendant_groups", id(&b)), None, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    let listed = app
        .api(
            Method::GET,
            &format!("/api/v4/groups?skip_groups[]={}&skip_groups[]={}", id(&b), id(&c)),
            Some(&owner.token),
            None,
        )
        .await
        .json();
    assert_eq!(ids(&listed), vec![id(&a), id(&d)]);
    let comma = app
        .api(Method::GET, &format!("/api/v4/groups?skip_groups={},{}", id(&a), id(&d)), Some(&owner.token), None)
        .await
        .json();
    assert_eq!(ids(&comma), vec![id(&b), id(&c)]);
    let bad = app.api(Method::GET, "/api/v4/groups?skip_groups[]=x", Some(&owner.token), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
}

#[tokio::test]
async fn transferring_a_group_moves_every_path_and_the_repositories_still_clone() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let maintainer = app.user("maintainer").await;
    let moved = group(&app, &owner, "moved", None, "public").await;
    let inner = group(&app, &owner, "inner", Some(id(&moved)), "public").await;
    let site = project(&app, &owner, "site", id(&inner)).await;
    let site_id = id(&site);
    app.api(
        Method::PUT,
        &format!("/api/v4/projects/{site_id}"),
        Some(&owner.token),
        Some(json!({"visibility": "public"})),
    )
    .await;
    let target = group(&app, &owner, "target", None, "private").await;
    add_member(&app, &owner, "/api/v4/groups/moved", &maintainer, 40).await;

    let refused = app
        .api(
            Method::POST,
            "/api/v4/groups/moved/transfer",
            Some(&maintainer.token),
            Some(json!({"group_id": id(&target)})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "only Owners: {}", refused.body);
    for (body, message) in [
        (json!({"group_id": id(&inner)}), "Cannot transfer group to one of its subgroup."),
        (json!({}), "Group is already a root group."),
    ] {
        let answer = app.api(Method::POST, "/api/v4/groups/moved/transfer", Some(&owner.token), Some(body)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        assert_eq!(answer.json()["message"], format!("Transfer failed: {message}"));
    }
    let nowhere = app
        .api(Method::POST, "/api/v4/groups/moved/transfer", Some(&owner.token), Some(json!({"group_id": 999999})))
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND, "{}", nowhere.body);

    let done = app
        .api(Method::POST, "/api/v4/groups/moved/transfer", Some(&owner.token), Some(json!({"group_id": id(&target)})))
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    let done = done.json();
    assert_eq!((&done["full_path"], &done["parent_id"]), (&json!("target/moved"), &json!(id(&target))));
    assert_eq!(done["visibility"], "private", "no more visible than its new parent");
    let project = app.api(Method::GET, &format!("/api/v4/projects/{site_id}"), Some(&owner.token), None).await.json();
    assert_eq!(project["path_with_namespace"], "target/moved/inner/site");
    assert_eq!(project["visibility"], "private", "nor is anything below it");
    let old = app.api(Method::GET, "/api/v4/projects/moved%2Finner%2Fsite", Some(&owner.token), None).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let refs =
        app.git(Method::GET, "/target/moved/inner/site.git/info/refs?service=git-upload-pack", Some(&owner), b"").await;
    assert_eq!(refs.status, StatusCode::OK, "{}", refs.body);
    assert!(refs.body.contains("refs/heads/main"), "the repository answers at its new path: {}", refs.body);
    let sub = app.api(Method::GET, &format!("/api/v4/groups/{}", id(&inner)), Some(&owner.token), None).await.json();
    assert_eq!(sub["full_path"], "target/moved/inner");
    assert_eq!(
        app.api(Method::GET, "/api/v4/groups/moved", Some(&maintainer.token), None).await.status,
        StatusCode::NOT_FOUND,
        "the old path is gone"
    );
    let kept = app.api(Method::GET, "/api/v4/groups/target%2Fmoved", Some(&maintainer.token), None).await;
    assert_eq!(kept.status, StatusCode::OK, "its own members keep it: {}", kept.body);

    // A same-named group at the top level blocks the way back until it is gone.
    let clash = group(&app, &owner, "moved", None, "private").await;
    let blocked =
        app.api(Method::POST, "/api/v4/groups/target%2Fmoved/transfer", Some(&owner.token), Some(json!({}))).await;
    assert_eq!(blocked.status, StatusCode::BAD_REQUEST, "{}", blocked.body);
    assert!(blocked.body.contains("same path"), "{}", blocked.body);
    app.api(Method::DELETE, &format!("/api/v4/groups/{}", id(&clash)), Some(&owner.token), None).await;
    let back =
        app.api(Method::POST, "/api/v4/groups/target%2Fmoved/transfer", Some(&owner.token), Some(json!({}))).await;
    assert_eq!(back.status, StatusCode::CREATED, "{}", back.body);
    assert_eq!((&back.json()["path"], &back.json()["full_path"]), (&json!("moved"), &json!("moved")));
    let refs = app.git(Method::GET, "/moved/inner/site.git/info/refs?service=git-upload-pack", Some(&owner), b"").await;
    assert_eq!(refs.status, StatusCode::OK, "{}", refs.body);
}

#[tokio::test]
async fn a_group_protected_branch_guards_the_projects_of_its_subgroups() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let dev = app.user("dev").await;
    let maintainer = app.user("maintainer").await;
    let top = group(&app, &owner, "top", None, "private").await;
    let sub = group(&app, &owner, "sub", Some(id(&top)), "private").await;
    let repo = project(&app, &owner, "repo", id(&sub)).await;
    let repo_path = format!("/api/v4/projects/{}", id(&repo));
    add_member(&app, &owner, "/api/v4/groups/top", &dev, 30).await;
    add_member(&app, &owner, "/api/v4/groups/top", &maintainer, 40).await;
    // The project lets Developers push to main; the group will not.
    let loosened = app
        .api(
            Method::PATCH,
            &format!("{repo_path}/protected_branches/main"),
            Some(&owner.token),
            Some(json!({"push_access_level": 30})),
        )
        .await;
    assert_eq!(loosened.status, StatusCode::OK, "{}", loosened.body);

    let rules = "/api/v4/groups/top/protected_branches";
    let refused = app.api(Method::GET, rules, Some(&maintainer.token), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "a group's rules are its Owners': {}", refused.body);
    let body = json!({"name": "main", "push_access_level": 40, "merge_access_level": 40});
    let made = app.api(Method::POST, rules, Some(&owner.token), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.json()["push_access_levels"][0]["access_level"], 40);
    let stable = json!({"name": "*-stable", "allow_force_push": false});
    let made = app.api(Method::POST, rules, Some(&owner.token), Some(stable.clone())).await;
    assert_eq!((made.status, &made.json()["allow_force_push"]), (StatusCode::CREATED, &json!(false)));
    let twice = app.api(Method::POST, rules, Some(&owner.token), Some(stable)).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    let nameless = app.api(Method::POST, rules, Some(&owner.token), Some(json!({"push_access_level": 40}))).await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST, "{}", nameless.body);
    let odd =
        app.api(Method::POST, rules, Some(&owner.token), Some(json!({"name": "x", "push_access_level": 35}))).await;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST, "{}", odd.body);
    let listed = app.api(Method::GET, rules, Some(&owner.token), None).await.json();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["*-stable", "main"]);
    let patched = app
        .api(Method::PATCH, &format!("{rules}/%2A-stable"), Some(&owner.token), Some(json!({"allow_force_push": true})))
        .await;
    assert_eq!((patched.status, &patched.json()["allow_force_push"]), (StatusCode::OK, &json!(true)));
    let one = app.api(Method::GET, &format!("{rules}/%2A-stable"), Some(&owner.token), None).await;
    assert_eq!(one.json()["allow_force_push"], true);
    let own = app.api(Method::GET, &format!("{repo_path}/protected_branches"), Some(&owner.token), None).await.json();
    assert_eq!(own.as_array().unwrap().len(), 1, "the project's own rules list stays its own: {own}");

    // A push by a Developer of the project in the subgroup: main is the group's now.
    let policy = |user: &TestUser| {
        let credential = GitCredential::User(user.user.clone());
        let app = &app;
        async move {
            app.core
                .code()
                .git_access(&credential, "top/sub/repo", GitOperation::Push)
                .await
                .unwrap()
                .push
                .unwrap()
                .policy
        }
    };
    let update = |name: &str| RefUpdate { old: "a".repeat(40), new: "b".repeat(40), name: name.to_owned() };
    let create =
        |name: &str| RefUpdate { old: gantry_git::ZERO_OID.to_owned(), new: "b".repeat(40), name: name.to_owned() };
    let dev_policy = policy(&dev).await;
    let refusal = dev_policy.check(&update("refs/heads/main"), || true, |_| false).unwrap_err();
    assert!(refusal.contains("protected branch 'main'"), "{refusal}");
    assert!(dev_policy.check(&create("refs/heads/feature"), || true, |_| false).is_ok());
    assert!(
        dev_policy.check(&create("refs/heads/1-stable"), || true, |_| false).is_err(),
        "Maintainers only, by default"
    );
    let lead_policy = policy(&maintainer).await;
    assert!(lead_policy.check(&update("refs/heads/main"), || true, |_| false).is_ok());
    assert!(lead_policy.check(&update("refs/heads/1-stable"), || false, |_| false).is_ok(), "force-push allowed");
    // The web and the API apply the same policy: the Developer's commit to main is refused.
    let commit = json!({"branch": "main", "commit_message": "x", "actions": [{"action": "create", "file_path": "x.txt", "content": "x"}]});
    let by_dev =
        app.api(Method::POST, &format!("{repo_path}/repository/commits"), Some(&dev.token), Some(commit.clone())).await;
    assert_eq!(by_dev.status, StatusCode::FORBIDDEN, "{}", by_dev.body);
    let by_lead =
        app.api(Method::POST, &format!("{repo_path}/repository/commits"), Some(&maintainer.token), Some(commit)).await;
    assert_eq!(by_lead.status, StatusCode::CREATED, "{}", by_lead.body);

    let removed = app.api(Method::DELETE, &format!("{rules}/main"), Some(&owner.token), None).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert!(
        policy(&dev).await.check(&update("refs/heads/main"), || true, |_| false).is_ok(),
        "the project's own rule again"
    );
    let missing = app.api(Method::DELETE, &format!("{rules}/main"), Some(&owner.token), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
}

#[tokio::test]
async fn administrators_list_a_users_memberships_and_no_one_else() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let user = app.user("member").await;
    let acme = group(&app, &admin, "acme", None, "private").await;
    let site = project(&app, &admin, "site", id(&acme)).await;
    add_member(&app, &admin, "/api/v4/groups/acme", &user, 50).await;
    add_member(&app, &admin, &format!("/api/v4/projects/{}", id(&site)), &user, 30).await;
    let path = format!("/api/v4/users/{}/memberships", user.user.id.0);

    let all = app.api(Method::GET, &path, Some(&admin.token), None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(
        all.json(),
        json!([
            {"source_id": id(&acme), "source_name": "acme", "source_type": "Namespace", "access_level": 50},
            {"source_id": id(&site), "source_name": "site", "source_type": "Project", "access_level": 30},
        ])
    );
    assert_eq!(all.header("x-total"), "2");
    let projects = app.api(Method::GET, &format!("{path}?type=Project"), Some(&admin.token), None).await.json();
    assert_eq!(projects.as_array().unwrap().len(), 1);
    assert_eq!(projects[0]["source_type"], "Project");
    let groups = app.api(Method::GET, &format!("{path}?type=Namespace"), Some(&admin.token), None).await.json();
    assert_eq!(groups[0]["source_type"], "Namespace");
    let invalid = app.api(Method::GET, &format!("{path}?type=Invalid"), Some(&admin.token), None).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert!(invalid.body.contains("type does not have a valid value"), "{}", invalid.body);
    let nobody = app.api(Method::GET, "/api/v4/users/999999/memberships", Some(&admin.token), None).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);

    let own = app.api(Method::GET, &path, Some(&user.token), None).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.body);
    assert!(own.body.contains("403 Forbidden"), "{}", own.body);
    let invalid_as_user = app.api(Method::GET, &format!("{path}?type=Invalid"), Some(&user.token), None).await;
    assert_eq!(invalid_as_user.status, StatusCode::FORBIDDEN, "rights before input");
    assert_eq!(app.api(Method::GET, &path, None, None).await.status, StatusCode::UNAUTHORIZED);

    // An administrator acting as the user (sudo) is the user, and refused as GitLab refuses.
    let scopes = gantry_types::TokenScopes::parse_list("api,sudo").unwrap();
    let sudo = app.core.manage().create_token_as_operator("root", "sudo", &scopes, None).await.unwrap().secret;
    let as_user = app.api(Method::GET, &format!("{path}?sudo=member"), Some(&sudo), None).await;
    assert_eq!(as_user.status, StatusCode::FORBIDDEN, "{}", as_user.body);
    assert!(as_user.body.contains("403 Forbidden"), "{}", as_user.body);

    // The direct members list keeps only the users asked for.
    let filtered = app
        .api(
            Method::GET,
            &format!("/api/v4/groups/acme/members?user_ids[]={}&user_ids[]=99999", user.user.id.0),
            Some(&admin.token),
            None,
        )
        .await
        .json();
    assert_eq!(ids(&filtered), vec![user.user.id.0]);
}

#[tokio::test]
async fn the_members_page_invites_a_group_and_the_settings_move_the_group() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let reader = app.user("reader").await;
    let acme = group(&app, &owner, "acme", None, "private").await;
    project(&app, &owner, "api", id(&acme)).await;
    let team = group(&app, &owner, "team", None, "private").await;
    add_member(&app, &owner, "/api/v4/groups/team", &reader, 30).await;
    let target = group(&app, &owner, "target", None, "private").await;

    let invited = app
        .page(
            Method::POST,
            "/acme/-/members/share",
            Some(&owner),
            Some(&[("group_path", "team"), ("access_level", "20")]),
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let members = app.page(Method::GET, "/acme/-/members", Some(&owner), None).await;
    assert!(members.body.contains("Invite a group") && members.body.contains("href=\"/team\""), "{}", members.body);
    assert!(members.body.contains("the shared group team"), "the reader's role comes from the share");
    let seen = app.page(Method::GET, "/acme/api", Some(&reader), None).await;
    assert_eq!(seen.status, StatusCode::OK);
    let unknown = app
        .page(
            Method::POST,
            "/acme/-/members/share",
            Some(&owner),
            Some(&[("group_path", "nope"), ("access_level", "20")]),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("no group named"), "{}", unknown.body);
    let removed =
        app.page(Method::POST, &format!("/acme/-/members/share/{}/remove", id(&team)), Some(&owner), Some(&[])).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(app.page(Method::GET, "/acme/api", Some(&reader), None).await.status, StatusCode::NOT_FOUND);

    let settings = app.page(Method::GET, "/acme/-/settings", Some(&owner), None).await;
    assert!(
        settings.body.contains("Transfer group") && settings.body.contains(">target</option>"),
        "{}",
        settings.body
    );
    let target_id = id(&target).to_string();
    let moved =
        app.page(Method::POST, "/acme/-/transfer", Some(&owner), Some(&[("group_id", target_id.as_str())])).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(moved.header("location"), "/target/acme/-/settings");

    let rules = app.page(Method::GET, "/target/-/settings/repository", Some(&owner), None).await;
    assert_eq!(rules.status, StatusCode::OK, "{}", rules.body);
    let protect = app
        .page(
            Method::POST,
            "/target/-/settings/repository/protected_branches",
            Some(&owner),
            Some(&[("name", "release/*"), ("push_access_level", "40"), ("merge_access_level", "40")]),
        )
        .await;
    assert_eq!(protect.status, StatusCode::SEE_OTHER, "{}", protect.body);
    let rules = app.page(Method::GET, "/target/-/settings/repository", Some(&owner), None).await;
    assert!(rules.body.contains("release/*"), "{}", rules.body);
    let owner_actor = Actor::User(owner.user.clone());
    let access = app
        .core
        .project_access(&owner_actor, &gantry_core::manage::groups::Lookup::Path("target/acme/api".into()))
        .await
        .unwrap();
    let inherited = app.core.code().inherited_protected_branches(&access).await.unwrap();
    assert_eq!(inherited.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["release/*"]);
}
