//! Sharing a group or a project with a group (GitLab's "invite a group"): the roles it gives,
//! capped at the share's, to the invited group's direct and inherited members, everywhere those
//! roles are asked (reads, pushes, listings, members), taken back when it ends; the refusals;
//! and a project's groups.

use axum::http::{Method, StatusCode};
use gantry_core::code::git_access::{GitCredential, GitOperation};
use serde_json::{Value, json};

use crate::groups::{add_member, group, id, ids, project, role_on};
use crate::support::{TestApp, TestUser};

#[tokio::test]
async fn sharing_a_group_gives_its_members_the_lower_role_until_it_is_unshared() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let owner = app.user("owner").await;
    let (guest, dev, lead, elder, stranger) = (
        app.user("guest").await,
        app.user("dev").await,
        app.user("lead").await,
        app.user("elder").await,
        app.user("stranger").await,
    );
    let acme = group(&app, &owner, "acme", None, "private").await;
    let api = project(&app, &owner, "api", id(&acme)).await;
    let api_id = id(&api);
    // The invited group is a subgroup: members of its parent are its inherited members.
    let org = group(&app, &owner, "org", None, "private").await;
    let team = group(&app, &owner, "team", Some(id(&org)), "private").await;
    add_member(&app, &owner, &format!("/api/v4/groups/{}", id(&team)), &guest, 10).await;
    add_member(&app, &owner, &format!("/api/v4/groups/{}", id(&team)), &dev, 30).await;
    add_member(&app, &owner, &format!("/api/v4/groups/{}", id(&team)), &lead, 40).await;
    add_member(&app, &owner, &format!("/api/v4/groups/{}", id(&org)), &elder, 50).await;
    let project_path = format!("/api/v4/projects/{api_id}");
    for user in [&guest, &dev, &lead, &elder, &stranger] {
        let hidden = app.api(Method::GET, &project_path, Some(&user.token), None).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{} sees nothing before the share", user.user.username);
    }

    let share = json!({"group_id": id(&team), "group_access": 30, "expires_at": "2999-01-31"});
    let shared = app.api(Method::POST, "/api/v4/groups/acme/share", Some(&owner.token), Some(share)).await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.body);
    assert_eq!(
        shared.json()["shared_with_groups"],
        json!([{"group_id": id(&team), "group_name": "team", "group_full_path": "org/team",
                "group_access_level": 30, "expires_at": "2999-01-31"}])
    );
    let detail = app.api(Method::GET, "/api/v4/groups/acme", Some(&owner.token), None).await.json();
    assert_eq!(detail["shared_with_groups"].as_array().unwrap().len(), 1);

    assert_eq!(role_on(&app, &admin, api_id, &guest).await, Some(10), "a Guest of the invited group stays Guest");
    assert_eq!(role_on(&app, &admin, api_id, &dev).await, Some(30));
    assert_eq!(role_on(&app, &admin, api_id, &lead).await, Some(30), "a Maintainer is capped at the share's role");
    assert_eq!(role_on(&app, &admin, api_id, &elder).await, Some(30), "the invited group's inherited members too");
    assert_eq!(role_on(&app, &admin, api_id, &stranger).await, None);
    let seen = app.api(Method::GET, &project_path, Some(&guest.token), None).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    let listed = app.api(Method::GET, "/api/v4/projects?membership=true", Some(&dev.token), None).await.json();
    assert_eq!(ids(&listed), vec![api_id], "the shared project is among the developer's projects");
    let groups = app.api(Method::GET, "/api/v4/groups", Some(&dev.token), None).await.json();
    assert!(ids(&groups).contains(&id(&acme)), "and the shared group among their groups: {groups}");
    assert!(app.api(Method::GET, "/api/v4/projects", Some(&stranger.token), None).await.json() == json!([]));

    // The capped role is what every check sees: a Developer may branch, a Guest may not, and
    // the Maintainer of the invited group may not manage the project.
    let branch = |name: &str| json!({"branch": name, "ref": "main"});
    let branches = format!("{project_path}/repository/branches");
    let made = app.api(Method::POST, &branches, Some(&dev.token), Some(branch("by-dev"))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let refused = app.api(Method::POST, &branches, Some(&guest.token), Some(branch("by-guest"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let rename = app.api(Method::PUT, &project_path, Some(&lead.token), Some(json!({"description": "x"}))).await;
    assert_eq!(rename.status, StatusCode::FORBIDDEN, "{}", rename.body);
    let push =
        app.core.code().git_access(&GitCredential::User(guest.user.clone()), "acme/api", GitOperation::Push).await;
    assert!(push.is_err(), "a Guest cannot push");
    app.core.code().git_access(&GitCredential::User(dev.user.clone()), "acme/api", GitOperation::Push).await.unwrap();

    let all =
        app.api(Method::GET, &format!("/api/v4/groups/{}/members/all", id(&acme)), Some(&owner.token), None).await;
    let levels: Vec<(String, i64)> = all
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["username"].as_str().unwrap().to_owned(), m["access_level"].as_i64().unwrap()))
        .collect();
    for expected in [("guest", 10), ("dev", 30), ("lead", 30), ("elder", 30), ("owner", 50)] {
        assert!(levels.contains(&(expected.0.to_owned(), expected.1)), "{expected:?} in {levels:?}");
    }

    let unshared =
        app.api(Method::DELETE, &format!("/api/v4/groups/acme/share/{}", id(&team)), Some(&owner.token), None).await;
    assert_eq!(unshared.status, StatusCode::NO_CONTENT, "{}", unshared.body);
    for user in [&guest, &dev, &lead, &elder] {
        let hidden = app.api(Method::GET, &project_path, Some(&user.token), None).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{} lost the access", user.user.username);
    }
    let detail = app.api(Method::GET, "/api/v4/groups/acme", Some(&owner.token), None).await.json();
    assert_eq!(detail["shared_with_groups"], json!([]));
    let again =
        app.api(Method::DELETE, &format!("/api/v4/groups/acme/share/{}", id(&team)), Some(&owner.token), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
}

#[tokio::test]
async fn sharing_refuses_bad_input_and_those_who_may_not_share() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let maintainer = app.user("maintainer").await;
    let developer = app.user("developer").await;
    let acme = group(&app, &owner, "acme", None, "private").await;
    let team = group(&app, &owner, "team", None, "private").await;
    let hidden = group(&app, &owner, "hidden", None, "private").await;
    add_member(&app, &owner, "/api/v4/groups/acme", &maintainer, 40).await;
    add_member(&app, &owner, "/api/v4/groups/acme", &developer, 30).await;
    add_member(&app, &owner, "/api/v4/groups/team", &maintainer, 10).await;
    let share = |by: &TestUser, body: Value| {
        let token = by.token.clone();
        let app = &app;
        async move { app.api(Method::POST, "/api/v4/groups/acme/share", Some(&token), Some(body)).await }
    };
    let team_id = id(&team);

    let refused = share(&developer, json!({"group_id": team_id, "group_access": 30})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "Developers cannot share: {}", refused.body);
    let bad = share(&developer, json!({"group_id": team_id, "group_access": 35})).await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN, "rights are checked before the input: {}", bad.body);
    for (body, message) in [
        (json!({"group_access": 30}), "group_id is missing"),
        (json!({"group_id": team_id}), "group_access is missing"),
        (json!({"group_id": team_id, "group_access": 35}), "group_access does not have a valid value"),
        (json!({"group_id": team_id, "group_access": 30, "expires_at": "soon"}), "expires_at"),
        (json!({"group_id": team_id, "group_access": 30, "expires_at": "2001-01-01"}), "expires_at"),
        (json!({"group_id": id(&acme), "group_access": 30}), "itself"),
    ] {
        let answer = share(&owner, body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}: {}", answer.body);
        assert!(answer.body.contains(message), "{body}: {}", answer.body);
    }
    let unseen = share(&maintainer, json!({"group_id": id(&hidden), "group_access": 30})).await;
    assert_eq!(unseen.status, StatusCode::NOT_FOUND, "a group the sharer cannot see: {}", unseen.body);
    let owners_only = share(&maintainer, json!({"group_id": team_id, "group_access": 50})).await;
    assert_eq!(owners_only.status, StatusCode::FORBIDDEN, "only Owners share the Owner role: {}", owners_only.body);
    let made = share(&maintainer, json!({"group_id": team_id, "group_access": 20})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let twice = share(&owner, json!({"group_id": team_id, "group_access": 30})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    let kept = app.api(Method::GET, "/api/v4/groups/acme", Some(&owner.token), None).await.json();
    assert_eq!(kept["shared_with_groups"][0]["group_access_level"], 20, "nothing changed by the refusals");
    let not_theirs =
        app.api(Method::DELETE, &format!("/api/v4/groups/acme/share/{team_id}"), Some(&developer.token), None).await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN, "{}", not_theirs.body);
}

#[tokio::test]
async fn a_private_project_shared_with_a_group_is_seen_by_its_members_only() {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("owner").await;
    let member = app.user("member").await;
    let outsider = app.user("outsider").await;
    let body = json!({"name": "solo", "initialize_with_readme": true});
    let solo = app.api(Method::POST, "/api/v4/projects", Some(&owner.token), Some(body)).await.json();
    let solo_id = id(&solo);
    let readers = group(&app, &owner, "readers", None, "private").await;
    add_member(&app, &owner, "/api/v4/groups/readers", &member, 40).await;
    let path = format!("/api/v4/projects/{solo_id}");
    assert_eq!(app.api(Method::GET, &path, Some(&member.token), None).await.status, StatusCode::NOT_FOUND);

    let body = json!({"group_id": id(&readers), "group_access": 20});
    let shared = app.api(Method::POST, &format!("{path}/share"), Some(&owner.token), Some(body.clone())).await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.body);
    assert_eq!(shared.json()["group_access"], 20);
    let twice = app.api(Method::POST, &format!("{path}/share"), Some(&owner.token), Some(body)).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    assert_eq!(app.api(Method::GET, &path, Some(&member.token), None).await.status, StatusCode::OK);
    assert_eq!(app.api(Method::GET, &path, Some(&outsider.token), None).await.status, StatusCode::NOT_FOUND);
    let listed = app.api(Method::GET, "/api/v4/projects", Some(&member.token), None).await.json();
    assert_eq!(ids(&listed), vec![solo_id]);
    assert_eq!(app.api(Method::GET, "/api/v4/projects", Some(&outsider.token), None).await.json(), json!([]));
    // Reporter through the share: reads the code, cannot branch.
    let files = app.api(Method::GET, &format!("{path}/repository/tree"), Some(&member.token), None).await;
    assert_eq!(files.status, StatusCode::OK, "{}", files.body);
    let branch = json!({"branch": "x", "ref": "main"});
    let refused =
        app.api(Method::POST, &format!("{path}/repository/branches"), Some(&member.token), Some(branch)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let groups = app.api(Method::GET, &format!("{path}/groups"), Some(&member.token), None).await.json();
    assert_eq!(groups, json!([]), "a personal project has no groups of its own");
    let shared_groups =
        app.api(Method::GET, &format!("{path}/groups?with_shared=true"), Some(&member.token), None).await;
    assert_eq!(ids(&shared_groups.json()), vec![id(&readers)]);
    let above = app
        .api(
            Method::GET,
            &format!("{path}/groups?with_shared=true&shared_min_access_level=30"),
            Some(&member.token),
            None,
        )
        .await;
    assert_eq!(above.json(), json!([]));

    let gone = app.api(Method::DELETE, &format!("{path}/share/{}", id(&readers)), Some(&owner.token), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert_eq!(app.api(Method::GET, &path, Some(&member.token), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_project_is_not_shared_with_its_own_groups_and_lists_them() {
    let app = TestApp::new().await;
    let admin = app.user("root").await;
    let top = group(&app, &admin, "top", None, "private").await;
    let sub = group(&app, &admin, "sub", Some(id(&top)), "private").await;
    let other = group(&app, &admin, "other", None, "private").await;
    let inside = project(&app, &admin, "inside", id(&sub)).await;
    let path = format!("/api/v4/projects/{}", id(&inside));
    let own = app
        .api(
            Method::POST,
            &format!("{path}/share"),
            Some(&admin.token),
            Some(json!({"group_id": id(&top), "group_access": 30})),
        )
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT, "{}", own.body);
    assert!(own.body.contains("cannot be shared with the group it is in"), "{}", own.body);
    let share = json!({"group_id": id(&other), "group_access": 30});
    assert_eq!(
        app.api(Method::POST, &format!("{path}/share"), Some(&admin.token), Some(share)).await.status,
        StatusCode::CREATED
    );
    let groups = app.api(Method::GET, &format!("{path}/groups"), Some(&admin.token), None).await.json();
    assert_eq!(ids(&groups), vec![id(&sub), id(&top)], "its namespace and the groups above, newest first");
    let with_shared =
        app.api(Method::GET, &format!("{path}/groups?with_shared=true"), Some(&admin.token), None).await.json();
    assert_eq!(ids(&with_shared), vec![id(&other), id(&sub), id(&top)]);
    let skipped = app
        .api(
            Method::GET,
            &format!("{path}/groups?with_shared=true&skip_groups[]={}&search=o", id(&sub)),
            Some(&admin.token),
            None,
        )
        .await
        .json();
    assert_eq!(ids(&skipped), vec![id(&other), id(&top)]);
}
