//! Protected tags end to end, against a real `gantry serve`: the real `git` client pushing tags
//! a rule covers (refused with a `remote:` message unless the pusher's role may create them;
//! never moved or deleted by a push), the GitLab-shaped API, pipelines on protected tags
//! getting protected variables, and the settings page's plain forms.

use serde_json::{Value, json};

use crate::git_http::{commit, git_fails, git_ok, refs, team, url};
use crate::server::Server;

/// A job that runs only for tags and says what it got.
const TAG_CI: &str = r#"show:
  rules:
    - if: $CI_COMMIT_TAG
  script:
    - echo "release key is ${RELEASE_KEY:-absent}"
    - echo "ref protected is $CI_COMMIT_REF_PROTECTED"
"#;

/// The server's branches and tags (not the `refs/pipelines/…` its pipelines keep, which
/// appear as pipelines start).
fn branches_and_tags(server: &Server, token: &str) -> String {
    let all = refs(server, token, "acme/api");
    all.lines()
        .filter(|line| line.contains("\trefs/heads/") || line.contains("\trefs/tags/"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn client() -> reqwest::blocking::Client {
    crate::http_client().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// `application/x-www-form-urlencoded`, as a browser sends a form.
fn form_body(fields: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// Posts a form with the browser's cookies.
fn post_form(url: &str, cookies: &str, fields: &[(&str, &str)]) -> reqwest::blocking::Response {
    client()
        .post(url)
        .header("cookie", cookies)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(fields))
        .send()
        .unwrap()
}

fn delete(server: &Server, path: &str, token: &str) -> reqwest::blocking::Response {
    client().delete(format!("{}{path}", server.base_url)).header("PRIVATE-TOKEN", token).send().unwrap()
}

/// The finished pipeline of `ref_name` and the log of its one job.
fn finished_pipeline_log(server: &Server, token: &str, project: i64, ref_name: &str) -> (Value, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let pipeline = loop {
        let list: Value =
            server.get(&format!("/api/v4/projects/{project}/pipelines?ref={ref_name}"), token).json().unwrap();
        if let Some(pipeline) = list.as_array().and_then(|l| l.first())
            && crate::ci_pipelines::finished(&pipeline["status"])
        {
            break pipeline.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no finished pipeline on {ref_name}: {list}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let id = pipeline["id"].as_i64().unwrap();
    let jobs: Value = server.get(&format!("/api/v4/projects/{project}/pipelines/{id}/jobs"), token).json().unwrap();
    let job = jobs[0]["id"].as_i64().unwrap();
    let log = server.get(&format!("/api/v4/projects/{project}/jobs/{job}/trace"), token).text().unwrap();
    (pipeline, log)
}

#[test]
fn protected_tags_over_git_the_api_pipelines_and_the_settings_page() {
    let server = Server::start();
    let team = team(&server);
    let project = team.project_id;
    let rules = format!("/api/v4/projects/{project}/protected_tags");
    let work = tempfile::tempdir().unwrap();
    // The team's tokens are for git; these are for the API.
    let (lead_api, dev_api) = (server.token("lead", "api"), server.token("dev", "api"));

    // The API: a Maintainer protects v* (Maintainers create by default); GitLab's shape and codes.
    let created = server.post_json(&rules, &lead_api, &json!({"name": "v*"}));
    assert_eq!(created.status(), 201);
    let created: Value = created.json().unwrap();
    assert_eq!(created["name"], "v*");
    assert_eq!(created["create_access_levels"][0]["access_level"], 40);
    assert_eq!(created["create_access_levels"][0]["access_level_description"], "Maintainers");
    let again = server.post_json(&rules, &lead_api, &json!({"name": "v*", "create_access_level": 30}));
    assert_eq!(again.status(), 409);
    assert!(again.json::<Value>().unwrap()["message"].as_str().unwrap().contains("already exists"));
    let listed: Value = server.get(&rules, &lead_api).json().unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(server.get(&format!("{rules}/v*"), &lead_api).json::<Value>().unwrap()["name"], "v*");
    assert_eq!(server.get(&format!("{rules}/nope"), &lead_api).status(), 404);
    assert_eq!(server.get(&rules, &dev_api).status(), 403, "listing is for Maintainers");

    // A protected CI/CD variable, and a CI file whose job runs for tags.
    let variable = json!({"key": "RELEASE_KEY", "value": "release-key-value", "protected": true});
    assert_eq!(server.post_json(&format!("/api/v4/projects/{project}/variables"), &lead_api, &variable).status(), 201);
    let lead_url = url(&server, "lead", &team.lead, "acme/api");
    git_ok(work.path(), &["clone", "-q", &lead_url, "lead"]);
    let lead = work.path().join("lead");
    commit(&lead, ".gitlab-ci.yml", TAG_CI);
    git_ok(&lead, &["push", "-q", "origin", "main"]);
    git_ok(work.path(), &["clone", "-q", &url(&server, "dev", &team.dev, "acme/api"), "dev"]);
    let dev = work.path().join("dev");

    // A Developer's protected tag is refused with a message after `remote:`; wip-1 is not
    // protected; the Maintainer's v1.0 goes through.
    git_ok(&dev, &["tag", "v1.0"]);
    let printed = git_fails(&dev, &["push", "origin", "v1.0"]);
    assert!(printed.contains("remote: Gantry: you are not allowed to create the protected tag 'v1.0'"), "{printed}");
    assert!(!branches_and_tags(&server, &team.root).contains("refs/tags/v1.0"), "nothing changed");
    git_ok(&dev, &["tag", "wip-1"]);
    git_ok(&dev, &["push", "origin", "wip-1"]);
    git_ok(&lead, &["tag", "v1.0"]);
    git_ok(&lead, &["push", "origin", "v1.0"]);
    let before = branches_and_tags(&server, &team.root);
    assert!(before.contains("refs/tags/v1.0") && before.contains("refs/tags/wip-1"), "{before}");

    // No push moves or deletes a protected tag, not even a Maintainer's or an administrator's.
    commit(&lead, "NEWS", "news\n");
    git_ok(&lead, &["tag", "-f", "v1.0"]);
    let printed = git_fails(&lead, &["push", "--force", "origin", "v1.0"]);
    assert!(printed.contains("remote: Gantry: the protected tag 'v1.0' cannot be updated"), "{printed}");
    let printed = git_fails(&lead, &["push", "origin", "--delete", "v1.0"]);
    assert!(printed.contains("remote: Gantry: you cannot delete the protected tag 'v1.0' by pushing"), "{printed}");
    let root_url = url(&server, "root", &team.root, "acme/api");
    let printed = git_fails(&lead, &["push", &root_url, "--delete", "v1.0"]);
    assert!(printed.contains("cannot delete the protected tag 'v1.0'"), "{printed}");
    assert_eq!(branches_and_tags(&server, &team.root), before, "refused pushes changed nothing");

    // The pipeline of the protected tag got the protected variable; the other one did not.
    let (pipeline, log) = finished_pipeline_log(&server, &lead_api, project, "v1.0");
    assert_eq!(pipeline["status"], "success", "{log}");
    assert!(log.contains("release key is release-key-value") && log.contains("ref protected is true"), "{log}");
    let (pipeline, log) = finished_pipeline_log(&server, &lead_api, project, "wip-1");
    assert_eq!(pipeline["status"], "success", "{log}");
    assert!(log.contains("release key is absent") && log.contains("ref protected is false"), "{log}");
    assert!(!log.contains("release-key-value"), "{log}");
    git_ok(&dev, &["push", "origin", "--delete", "wip-1"]);

    // From the API a Developer may not delete the protected tag; a Maintainer may.
    let tag = format!("/api/v4/projects/{project}/repository/tags/v1.0");
    assert_eq!(delete(&server, &tag, &dev_api).status(), 403);
    assert_eq!(delete(&server, &tag, &lead_api).status(), 204);
    assert!(!branches_and_tags(&server, &team.root).contains("refs/tags/v1.0"));
    assert_eq!(delete(&server, &format!("{rules}/v*"), &lead_api).status(), 204);
    assert_eq!(delete(&server, &format!("{rules}/v*"), &lead_api).status(), 404);

    settings_page_adds_and_removes_a_rule(&server, project, &lead_api);
}

/// The value of the first hidden `authenticity_token` of a page.
fn csrf_token(html: &str) -> String {
    let marker = "name=\"authenticity_token\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// `name=value` of a `Set-Cookie` header named `name`.
fn cookie(response: &reqwest::blocking::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(|value| value.split(';').next().unwrap().to_owned())
}

/// A browser without JavaScript: the lead signs in and uses the settings page's forms.
fn settings_page_adds_and_removes_a_rule(server: &Server, project: i64, lead_token: &str) {
    let client = client();
    let base = &server.base_url;
    let sign_in = client.get(format!("{base}/users/sign_in")).send().unwrap();
    let visitor = cookie(&sign_in, "gantry_csrf").expect("a pre-session cookie");
    let token = csrf_token(&sign_in.text().unwrap());
    let form = [("login", "lead"), ("password", "a long password"), ("authenticity_token", token.as_str())];
    let signed_in = post_form(&format!("{base}/users/sign_in"), &visitor, &form);
    assert_eq!(signed_in.status(), 303);
    let session = cookie(&signed_in, "gantry_session").expect("a session cookie");
    let cookies = format!("{session}; {visitor}");
    let settings = format!("{base}/acme/api/-/settings/repository");
    let page = client.get(&settings).header("cookie", &cookies).send().unwrap().text().unwrap();
    assert!(page.contains("Protected tags") && page.contains("No tag is protected."), "{page}");
    let token = csrf_token(&page);

    let form = [("name", "release-*"), ("create_access_level", "30"), ("authenticity_token", token.as_str())];
    let added = post_form(&format!("{settings}/protected_tags"), &cookies, &form);
    assert_eq!(added.status(), 303);
    let page = client.get(&settings).header("cookie", &cookies).send().unwrap().text().unwrap();
    assert!(page.contains("<strong>release-*</strong>") && page.contains("Developers + Maintainers"), "{page}");
    let forged = [("name", "forged-*"), ("authenticity_token", "forged")];
    let refused = post_form(&format!("{settings}/protected_tags"), &cookies, &forged);
    assert_eq!(refused.status(), 403, "a form without the page's CSRF token changes nothing");

    let rule: Value =
        server.get(&format!("/api/v4/projects/{project}/protected_tags/release-*"), lead_token).json().unwrap();
    assert_eq!(rule["create_access_levels"][0]["access_level"], 30, "{rule}");

    let form = [("name", "release-*"), ("authenticity_token", token.as_str())];
    let removed = post_form(&format!("{settings}/protected_tags/delete"), &cookies, &form);
    assert_eq!(removed.status(), 303);
    let rules: Value = server.get(&format!("/api/v4/projects/{project}/protected_tags"), lead_token).json().unwrap();
    assert_eq!(rules, json!([]));
}
