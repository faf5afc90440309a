//! Who may run what in CI: pipelines on a protected branch are for those who may push or merge
//! to it (by every way a pipeline or job starts, and to cancel one or read its variables),
//! pipeline variables need the project's minimum
//! role (Maintainer unless changed) and never shadow a protected CI/CD variable.

use axum::http::{Method, StatusCode};
use gantry_core::Actor;
use gantry_core::manage::members::MemberTarget;
use gantry_types::{AccessLevel, ScheduleId};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

const CI: &[u8] = b"job:\n  script: echo $WHO\nlater:\n  script: echo later\n  when: manual\n";

/// A project of `owner` with a CI file on `main` (protected: Maintainers push and merge), a
/// branch `feature`, and a Developer and a Maintainer.
struct Setup {
    app: TestApp,
    owner: TestUser,
    developer: TestUser,
    maintainer: TestUser,
    project: gantry_core::ProjectRow,
    base: String,
}

async fn setup() -> Setup {
    let app = TestApp::new().await;
    let _admin = app.user("root").await;
    let owner = app.user("ada").await;
    let developer = app.user("dev").await;
    let maintainer = app.user("max").await;
    let (project, _) = app.project_with_file(&owner, "Deploy", ".gitlab-ci.yml", CI).await;
    let as_owner = Actor::User(owner.user.clone());
    for (user, level) in [(&developer, AccessLevel::Developer), (&maintainer, AccessLevel::Maintainer)] {
        app.core
            .manage()
            .add_member(&as_owner, MemberTarget::Project(&project), user.user.id, level, None)
            .await
            .unwrap();
    }
    let base = format!("/api/v4/projects/{}", project.id.0);
    let branch = json!({"branch": "feature", "ref": "main"});
    let made = app.api(Method::POST, &format!("{base}/repository/branches"), Some(&owner.token), Some(branch)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    Setup { app, owner, developer, maintainer, project, base }
}

impl Setup {
    async fn run(&self, who: &TestUser, ref_name: &str, variables: Value) -> crate::support::TestResponse {
        let body = json!({"ref": ref_name, "variables": variables});
        self.app.api(Method::POST, &format!("{}/pipeline", self.base), Some(&who.token), Some(body)).await
    }

    async fn pipeline_count(&self) -> usize {
        let list = self.app.api(Method::GET, &format!("{}/pipelines", self.base), Some(&self.owner.token), None).await;
        list.json().as_array().unwrap().len()
    }

    async fn set_variables_role(&self, who: &TestUser, role: &str) -> crate::support::TestResponse {
        let body = json!({"ci_pipeline_variables_minimum_override_role": role});
        self.app.api(Method::PUT, &self.base, Some(&who.token), Some(body)).await
    }

    async fn protect_main(&self, push: i64, merge: i64) {
        let body = json!({"push_access_level": push, "merge_access_level": merge});
        let path = format!("{}/protected_branches/main", self.base);
        let changed = self.app.api(Method::PATCH, &path, Some(&self.owner.token), Some(body)).await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    }
}

const REFUSED_ON_MAIN: &str = "not allowed to run pipelines on the protected branch main";

#[tokio::test]
async fn pipelines_on_a_protected_branch_need_the_right_to_push_or_merge_to_it() {
    let s = setup().await;
    let app = &s.app;

    // The API: a Developer runs pipelines on an unprotected branch, not on main.
    let refused = s.run(&s.developer, "main", json!([])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains(REFUSED_ON_MAIN) && refused.body.contains("push or merge"), "{}", refused.body);
    assert_eq!(s.pipeline_count().await, 0, "no pipeline is created");
    assert_eq!(s.run(&s.developer, "feature", json!([])).await.status, StatusCode::CREATED);
    let on_main = s.run(&s.maintainer, "main", json!([])).await;
    assert_eq!(on_main.status, StatusCode::CREATED, "{}", on_main.body);
    let pipeline = on_main.json()["id"].as_i64().unwrap();

    // The Run pipeline form.
    let web = format!("/{}/-/pipelines", s.project.full_path);
    let form = app.page(Method::POST, &web, Some(&s.developer), Some(&[("ref", "main")])).await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    assert!(form.body.contains(REFUSED_ON_MAIN), "{}", form.body);

    // Retrying a job or the pipeline and playing a manual job on main.
    let jobs = app.api(Method::GET, &format!("{}/pipelines/{pipeline}/jobs", s.base), Some(&s.owner.token), None).await;
    let job_id = |name: &str| jobs.json().as_array().unwrap().iter().find(|j| j["name"] == name).unwrap()["id"].clone();
    let (job, manual) = (job_id("job"), job_id("later"));
    for path in [
        format!("{}/jobs/{manual}/play", s.base),
        format!("{}/jobs/{job}/retry", s.base),
        format!("{}/pipelines/{pipeline}/retry", s.base),
    ] {
        let refused = app.api(Method::POST, &path, Some(&s.developer.token), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}: {}", refused.body);
        assert!(refused.body.contains(REFUSED_ON_MAIN), "{path}: {}", refused.body);
    }
    let page = format!("/{}/-/jobs/{manual}/play", s.project.full_path);
    assert_eq!(app.page(Method::POST, &page, Some(&s.developer), Some(&[])).await.status, StatusCode::FORBIDDEN);
    let played =
        app.api(Method::POST, &format!("{}/jobs/{manual}/play", s.base), Some(&s.maintainer.token), None).await;
    assert_eq!(played.status, StatusCode::CREATED, "{}", played.body);

    // Schedules: saved, played and run by the watchdog only for those who may run on main.
    let schedules = format!("{}/pipeline_schedules", s.base);
    let nightly = json!({"description": "nightly", "ref": "main", "cron": "0 4 * * *"});
    let refused = app.api(Method::POST, &schedules, Some(&s.developer.token), Some(nightly.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let on_feature = json!({"description": "feature", "ref": "feature", "cron": "0 4 * * *"});
    let made = app.api(Method::POST, &schedules, Some(&s.developer.token), Some(on_feature)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let moved = app
        .api(
            Method::PUT,
            &format!("{schedules}/{}", made.json()["id"]),
            Some(&s.developer.token),
            Some(json!({"ref": "main"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::FORBIDDEN, "{}", moved.body);
    let maintainers = app.api(Method::POST, &schedules, Some(&s.maintainer.token), Some(nightly.clone())).await;
    assert_eq!(maintainers.status, StatusCode::CREATED, "{}", maintainers.body);
    let play = format!("{schedules}/{}/play", maintainers.json()["id"]);
    let refused = app.api(Method::POST, &play, Some(&s.developer.token), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains(REFUSED_ON_MAIN), "{}", refused.body);

    // A right to merge is enough: Developers who may merge to main run pipelines there, and a
    // schedule one of them saved then stops running once they may not.
    s.protect_main(40, 30).await;
    assert_eq!(s.run(&s.developer, "main", json!([])).await.status, StatusCode::CREATED);
    let theirs = app.api(Method::POST, &schedules, Some(&s.developer.token), Some(nightly)).await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let theirs = theirs.json()["id"].as_i64().unwrap();
    s.protect_main(40, 40).await;
    let before = s.pipeline_count().await;
    let mut conn = app.core.db().conn().await.unwrap();
    let row = gantry_db::ci::schedules::get_schedule(&mut conn, ScheduleId(theirs)).await.unwrap().unwrap();
    assert!(gantry_db::ci::schedules::claim_run(&mut conn, ScheduleId(theirs), row.next_run_at, 1_000).await.unwrap());
    drop(conn);
    assert_eq!(app.core.ci().run_due_schedules().await.unwrap(), 0, "the Developer's schedule does not run on main");
    assert_eq!(s.pipeline_count().await, before);

    // No one (0): not even Maintainers; administrators still may. A Maintainer's trigger token
    // is refused the same way.
    let triggers = format!("{}/triggers", s.base);
    let trigger = app.api(Method::POST, &triggers, Some(&s.maintainer.token), Some(json!({}))).await.json();
    s.protect_main(0, 0).await;
    let refused = s.run(&s.maintainer, "main", json!([])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    // Nor may a Maintainer take over a schedule on main: it would run as them and fail.
    let take = format!("{schedules}/{theirs}/take_ownership");
    let taken = app.api(Method::POST, &take, Some(&s.maintainer.token), None).await;
    assert_eq!(taken.status, StatusCode::FORBIDDEN, "{}", taken.body);
    assert!(taken.body.contains(REFUSED_ON_MAIN), "{}", taken.body);
    let body = json!({"token": trigger["token"], "ref": "main"});
    let triggered = app.api(Method::POST, &format!("{}/trigger/pipeline", s.base), None, Some(body)).await;
    assert_eq!(triggered.status, StatusCode::FORBIDDEN, "{}", triggered.body);
    assert!(triggered.body.contains(REFUSED_ON_MAIN), "{}", triggered.body);
    let root = app.core.manage().find_user_as_operator("root").await.unwrap();
    let as_root = Actor::User(root);
    let admin_run = app.core.ci().run_pipeline(&as_root, &s.project, "main", Vec::new(), "api").await;
    assert!(admin_run.is_ok(), "{admin_run:?}");
}

#[tokio::test]
async fn canceling_a_pipeline_and_reading_its_variables_on_a_protected_branch_need_the_same_right() {
    let s = setup().await;
    let app = &s.app;
    let on_main = s.run(&s.maintainer, "main", json!([{"key": "WHO", "value": "max"}])).await;
    assert_eq!(on_main.status, StatusCode::CREATED, "{}", on_main.body);
    let main_pipeline = on_main.json()["id"].as_i64().unwrap();
    let jobs = format!("{}/pipelines/{main_pipeline}/jobs", s.base);
    let job = app.api(Method::GET, &jobs, Some(&s.owner.token), None).await.json()[0]["id"].clone();

    // A Developer may not stop what runs on main, nor read what it was given.
    for path in [format!("{}/jobs/{job}/cancel", s.base), format!("{}/pipelines/{main_pipeline}/cancel", s.base)] {
        let refused = app.api(Method::POST, &path, Some(&s.developer.token), None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}: {}", refused.body);
        assert!(refused.body.contains(REFUSED_ON_MAIN), "{path}: {}", refused.body);
    }
    let page = format!("/{}/-/pipelines/{main_pipeline}/cancel", s.project.full_path);
    assert_eq!(app.page(Method::POST, &page, Some(&s.developer), Some(&[])).await.status, StatusCode::FORBIDDEN);
    let variables = format!("{}/pipelines/{main_pipeline}/variables", s.base);
    let hidden = app.api(Method::GET, &variables, Some(&s.developer.token), None).await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN, "{}", hidden.body);
    assert!(!hidden.body.contains("max"), "{}", hidden.body);
    let shown = app.api(Method::GET, &variables, Some(&s.maintainer.token), None).await;
    assert_eq!(shown.json()[0]["value"], "max", "{}", shown.body);

    // On an unprotected branch a Developer does both, to others' pipelines too.
    let on_feature = s.run(&s.maintainer, "feature", json!([{"key": "WHO", "value": "feature"}])).await;
    let feature_pipeline = on_feature.json()["id"].as_i64().unwrap();
    let variables = format!("{}/pipelines/{feature_pipeline}/variables", s.base);
    let shown = app.api(Method::GET, &variables, Some(&s.developer.token), None).await;
    assert_eq!(shown.json()[0]["value"], "feature", "{}", shown.body);
    let cancel = format!("{}/pipelines/{feature_pipeline}/cancel", s.base);
    let canceled = app.api(Method::POST, &cancel, Some(&s.developer.token), None).await;
    assert_eq!(canceled.status, StatusCode::CREATED, "{}", canceled.body);
    assert_eq!(canceled.json()["status"], "canceled");

    // Those who may push to main cancel there.
    let cancel = format!("{}/pipelines/{main_pipeline}/cancel", s.base);
    let canceled = app.api(Method::POST, &cancel, Some(&s.maintainer.token), None).await;
    assert_eq!(canceled.status, StatusCode::CREATED, "{}", canceled.body);
}

#[tokio::test]
async fn pipeline_variables_need_the_projects_minimum_role() {
    let s = setup().await;
    let app = &s.app;
    let hook = json!([{"key": "BASH_ENV", "value": "$(echo stolen)"}]);
    let maintainer_role = "you need the Maintainer role to set pipeline variables in this project";

    // By default Developers may not set variables, even on a branch they may run.
    let refused = s.run(&s.developer, "feature", hook.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains(maintainer_role), "{}", refused.body);
    assert_eq!(s.pipeline_count().await, 0, "no pipeline is created");
    let form = [("ref", "feature"), ("key", "BASH_ENV"), ("value", "x")];
    let run_form = format!("/{}/-/pipelines", s.project.full_path);
    let page = app.page(Method::POST, &run_form, Some(&s.developer), Some(&form)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains(maintainer_role), "{}", page.body);
    let new_form = format!("/{}/-/pipelines/new", s.project.full_path);
    let shown = app.page(Method::GET, &new_form, Some(&s.developer), None).await;
    assert!(shown.body.contains("id=\"variables-refused\"") && !shown.body.contains("name=\"key\""), "{}", shown.body);
    // Nor through a schedule of theirs, nor a trigger token of a Developer.
    let schedules = format!("{}/pipeline_schedules", s.base);
    let body = json!({"description": "theirs", "ref": "feature", "cron": "0 4 * * *"});
    let schedule = app.api(Method::POST, &schedules, Some(&s.developer.token), Some(body)).await.json();
    let variables = format!("{schedules}/{}/variables", schedule["id"]);
    let refused = app
        .api(Method::POST, &variables, Some(&s.developer.token), Some(json!({"key": "BASH_ENV", "value": "x"})))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains(maintainer_role), "{}", refused.body);
    let web_form = [("description", "web"), ("ref", "feature"), ("cron", "0 4 * * *"), ("key", "A"), ("value", "1")];
    let web = format!("/{}/-/pipeline_schedules", s.project.full_path);
    let refused = app.page(Method::POST, &web, Some(&s.developer), Some(&web_form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let listed = app.api(Method::GET, &schedules, Some(&s.owner.token), None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "the refused form made no schedule: {listed}");

    // Maintainers may.
    assert_eq!(s.run(&s.maintainer, "main", hook.clone()).await.status, StatusCode::CREATED);

    // The setting: through the project API (shown to Maintainers only) and the settings page.
    assert_eq!(s.set_variables_role(&s.developer, "developer").await.status, StatusCode::FORBIDDEN);
    let bad = s.set_variables_role(&s.maintainer, "guest").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("no_one_allowed, developer, maintainer or owner"), "{}", bad.body);
    let changed = s.set_variables_role(&s.maintainer, "developer").await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.json()["ci_pipeline_variables_minimum_override_role"], "developer");
    let seen = app.api(Method::GET, &s.base, Some(&s.developer.token), None).await.json();
    assert!(seen.get("ci_pipeline_variables_minimum_override_role").is_none(), "{seen}");
    let run = s.run(&s.developer, "feature", hook.clone()).await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.body);

    let settings = format!("/{}/-/settings/ci_cd", s.project.full_path);
    let page = app.page(Method::GET, &settings, Some(&s.maintainer), None).await;
    assert!(page.body.contains("<option value=\"developer\" selected>"), "{}", page.body);
    let general =
        |role: &'static str| [("timeout_minutes", "60"), ("ci_pipeline_variables_minimum_override_role", role)];
    let saved = app.page(Method::POST, &settings, Some(&s.maintainer), Some(&general("owner"))).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let refused = s.run(&s.maintainer, "main", hook.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("you need the Owner role"), "{}", refused.body);
    assert_eq!(s.run(&s.owner, "main", hook.clone()).await.status, StatusCode::CREATED);
    // A form without the field keeps the setting.
    let kept = app.page(Method::POST, &settings, Some(&s.maintainer), Some(&[("timeout_minutes", "60")])).await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER);
    let shown = app.api(Method::GET, &s.base, Some(&s.maintainer.token), None).await.json();
    assert_eq!(shown["ci_pipeline_variables_minimum_override_role"], "owner");

    // No one: everyone is refused, the owner too; pipelines without variables still run, and
    // a trigger token's variables are refused the same way.
    let saved = app.page(Method::POST, &settings, Some(&s.maintainer), Some(&general("no_one_allowed"))).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let refused = s.run(&s.owner, "main", hook).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("turned off"), "{}", refused.body);
    assert_eq!(s.run(&s.owner, "main", json!([])).await.status, StatusCode::CREATED);
    let trigger = app.api(Method::POST, &format!("{}/triggers", s.base), Some(&s.owner.token), Some(json!({}))).await;
    let body = json!({"token": trigger.json()["token"], "ref": "main", "variables": {"BASH_ENV": "x"}});
    let triggered = app.api(Method::POST, &format!("{}/trigger/pipeline", s.base), None, Some(body)).await;
    assert_eq!(triggered.status, StatusCode::FORBIDDEN, "{}", triggered.body);
}

#[tokio::test]
async fn pipeline_variables_never_shadow_protected_variables() {
    let s = setup().await;
    let app = &s.app;
    let root = app.core.manage().find_user_as_operator("root").await.unwrap();
    let variable = |key: &str, protected: bool| gantry_core::ci::variables::VariableInput {
        key: key.to_owned(),
        value: Some("s3cret-value".into()),
        protected,
        ..Default::default()
    };
    use gantry_core::ci::variables::VariableScope;
    let as_owner = Actor::User(s.owner.user.clone());
    let project = VariableScope::Project(&s.project);
    app.core.ci().create_ci_variable(&as_owner, project, &variable("PROT_SECRET", true)).await.unwrap();
    app.core.ci().create_ci_variable(&as_owner, project, &variable("PLAIN", false)).await.unwrap();
    app.core
        .ci()
        .create_ci_variable(&Actor::User(root), VariableScope::Instance, &variable("SITE_KEY", true))
        .await
        .unwrap();

    for key in ["PROT_SECRET", "SITE_KEY"] {
        let refused = s.run(&s.maintainer, "main", json!([{"key": key, "value": "mine"}])).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{key}: {}", refused.body);
        assert!(refused.body.contains(key) && refused.body.contains("protected"), "{}", refused.body);
        // On an unprotected branch too: the name is refused wherever the pipeline runs.
        let refused = s.run(&s.owner, "feature", json!([{"key": key, "value": "mine"}])).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{key}: {}", refused.body);
    }
    assert_eq!(s.pipeline_count().await, 0);
    let schedules = format!("{}/pipeline_schedules", s.base);
    let body = json!({"description": "nightly", "ref": "main", "cron": "0 4 * * *"});
    let schedule = app.api(Method::POST, &schedules, Some(&s.maintainer.token), Some(body)).await.json();
    let variables = format!("{schedules}/{}/variables", schedule["id"]);
    let body = json!({"key": "PROT_SECRET", "value": "mine"});
    let refused = app.api(Method::POST, &variables, Some(&s.maintainer.token), Some(body)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("PROT_SECRET"), "{}", refused.body);
    // Variables that are not protected may still be overridden by those allowed to.
    let run = s.run(&s.maintainer, "main", json!([{"key": "PLAIN", "value": "mine"}])).await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.body);
}
