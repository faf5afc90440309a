//! CI jobs' ID tokens (`id_tokens:`), taken the way a runner takes them and verified the way a
//! third party verifies them: the discovery document and the key set fetched over HTTP from the
//! server, the signature and the claims checked by a JWT library of its own.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gantry_core::ci::create::PipelineRequest;
use gantry_core::manage::groups::NewGroup;
use gantry_core::manage::projects::NewProjectInput;
use gantry_core::{Actor, ProjectRow};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// The issuer of the test app's tokens: its core's external URL.
const ISSUER: &str = "http://localhost:3000";

/// Runs a pipeline of `project` at `sha` for `user`.
async fn run_pipeline(app: &TestApp, project: &ProjectRow, sha: String, user: &TestUser) {
    let request = PipelineRequest {
        ref_name: "main".into(),
        is_tag: false,
        sha,
        before_sha: gantry_git::ZERO_OID.into(),
        source: "push",
        user: Some(user.user.clone()),
        variables: Vec::new(),
        schedule_id: None,
        inputs: None,
    };
    app.core.ci().create_pipeline(project, request).await.unwrap().unwrap();
}

/// Takes the next job as the runner would: the whole payload.
async fn take_job(app: &TestApp, runner: &str) -> Value {
    let taken = app.api(Method::POST, "/api/v4/jobs/request", None, Some(json!({"token": runner}))).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    taken.json()
}

/// A variable of a job's payload, whole.
fn variable(job: &Value, key: &str) -> Option<Value> {
    job["variables"].as_array().unwrap().iter().rev().find(|v| v["key"] == key).cloned()
}

fn token_of(job: &Value, key: &str) -> String {
    let token = variable(job, key).unwrap_or_else(|| panic!("no {key} among {}", job["variables"]));
    assert_eq!((token["masked"].as_bool(), token["public"].as_bool()), (Some(true), Some(false)), "{token}");
    token["value"].as_str().unwrap().to_owned()
}

/// What a verifier does: the discovery document, then its key set, anonymously.
async fn published_keys(app: &TestApp) -> JwkSet {
    let discovery = app.api(Method::GET, "/.well-known/openid-configuration", None, None).await;
    assert_eq!(discovery.status, StatusCode::OK, "{}", discovery.body);
    let discovery = discovery.json();
    assert_eq!(discovery["issuer"], ISSUER);
    assert_eq!(discovery["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(discovery["subject_types_supported"], json!(["public"]));
    for claim in ["project_path", "ref", "ref_protected", "environment", "pipeline_source", "runner_id"] {
        assert!(discovery["claims_supported"].as_array().unwrap().contains(&json!(claim)), "{claim}");
    }
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    assert_eq!(jwks_uri, format!("{ISSUER}/oauth/discovery/keys"));
    let keys = app.api(Method::GET, jwks_uri.strip_prefix(ISSUER).unwrap(), None, None).await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    for key in keys.json()["keys"].as_array().unwrap() {
        assert_eq!(
            (key["kty"].as_str(), key["use"].as_str(), key["alg"].as_str()),
            (Some("RSA"), Some("sig"), Some("RS256"))
        );
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "the key set shows the private member {private}");
        }
    }
    serde_json::from_str(&keys.body).unwrap()
}

/// Verifies `token` for `audience` against the published keys; its claims.
fn verify(keys: &JwkSet, token: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("a kid in the header");
    let jwk = keys.find(&kid).unwrap_or_else(|| panic!("no published key {kid}"));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap_or_else(|error| panic!("the token does not verify: {error}"))
        .claims
}

#[tokio::test]
async fn a_jobs_id_tokens_verify_against_the_published_keys_with_its_claims() {
    let app = TestApp::new().await;
    let ada = app.user("ada").await;
    let owner = Actor::User(ada.user.clone());
    let group = NewGroup { name: "Acme".into(), path: "acme".into(), ..Default::default() };
    let group = app.core.manage().create_group(&owner, &group).await.unwrap();
    let input = NewProjectInput { name: "Deploy".into(), namespace: Some(group.id), ..Default::default() };
    let project = app.core.manage().create_project(&owner, &input).await.unwrap();
    let ci = br#"
deploy:
  variables:
    VAULT_HOST: vault.example
  environment:
    name: production
    deployment_tier: production
  id_tokens:
    GANTRY_ID:
      aud: https://example.test
    VAULT_ID:
      aud: ["https://$VAULT_HOST", second]
  script: echo deploy
plain:
  script: echo plain
"#;
    let author = gantry_git::Author { name: "Ada", email: "ada@example.com" };
    let sha = app.core.repos().initial_commit(project.id, "main", ".gitlab-ci.yml", ci, "ci", &author).await.unwrap();
    run_pipeline(&app, &project, sha.clone(), &ada).await;
    let runner = app.instance_runner().await;
    let first = take_job(&app, &runner).await;
    let second = take_job(&app, &runner).await;
    let (deploy, plain) = if first["job_info"]["name"] == "deploy" { (first, second) } else { (second, first) };
    assert_eq!(plain["job_info"]["name"], "plain");
    assert!(
        variable(&plain, "GANTRY_ID").is_none() && variable(&plain, "VAULT_ID").is_none(),
        "a job without id_tokens has none"
    );

    let keys = published_keys(&app).await;
    let token = token_of(&deploy, "GANTRY_ID");
    let claims = verify(&keys, &token, "https://example.test");
    let job_id = deploy["id"].as_i64().unwrap();
    let protected = variable(&deploy, "CI_COMMIT_REF_PROTECTED").unwrap()["value"].clone();
    let pipeline_id = variable(&deploy, "CI_PIPELINE_ID").unwrap()["value"].clone();
    let runner_id: i64 = variable(&deploy, "CI_RUNNER_ID").unwrap()["value"].as_str().unwrap().parse().unwrap();
    let expected = json!({
        "iss": ISSUER,
        "sub": "project_path:acme/deploy:ref_type:branch:ref:main",
        "aud": "https://example.test",
        "namespace_id": group.id.0.to_string(),
        "namespace_path": "acme",
        "project_id": project.id.0.to_string(),
        "project_path": "acme/deploy",
        "job_namespace_id": group.id.0.to_string(),
        "job_namespace_path": "acme",
        "job_project_id": project.id.0.to_string(),
        "job_project_path": "acme/deploy",
        "user_id": ada.user.id.0.to_string(),
        "user_login": "ada",
        "user_email": "ada@example.com",
        "user_access_level": "owner",
        "pipeline_id": pipeline_id,
        "pipeline_source": "push",
        "job_id": job_id.to_string(),
        "ref": "main",
        "ref_type": "branch",
        "ref_path": "refs/heads/main",
        "ref_protected": protected,
        "environment": "production",
        "environment_protected": "false",
        "deployment_tier": "production",
        "environment_action": "start",
        "runner_id": runner_id,
        "runner_environment": "self-hosted",
        "sha": sha,
        "project_visibility": "private",
        "ci_config_ref_uri": "localhost:3000/acme/deploy//.gitlab-ci.yml@refs/heads/main",
        "ci_config_sha": sha,
    });
    for (name, value) in expected.as_object().unwrap() {
        assert_eq!(&claims[name], value, "claim {name} of {claims}");
    }
    let (iat, nbf, exp) =
        (claims["iat"].as_i64().unwrap(), claims["nbf"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
    assert_eq!((iat - nbf, exp - iat), (5, 3600), "valid from just before the job starts for its timeout");
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);

    // Several audiences make an array, their variables expanded; the same key signs both.
    let vault = token_of(&deploy, "VAULT_ID");
    let vault_claims = verify(&keys, &vault, "second");
    assert_eq!(vault_claims["aud"], json!(["https://vault.example", "second"]));
    assert_eq!(jsonwebtoken::decode_header(&vault).unwrap().kid, jsonwebtoken::decode_header(&token).unwrap().kid);
    assert_ne!(vault_claims["jti"], claims["jti"]);

    // A token for another audience, or with a claim changed, does not verify.
    let jwk = keys.find(&jsonwebtoken::decode_header(&token).unwrap().kid.unwrap()).unwrap();
    let mut elsewhere = Validation::new(Algorithm::RS256);
    elsewhere.set_audience(&["https://elsewhere.test"]);
    assert!(jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &elsewhere).is_err());
    let parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims.clone();
    forged["project_path"] = json!("acme/other");
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(forged.to_string()), parts[2]);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["https://example.test"]);
    let refused = jsonwebtoken::decode::<Value>(&forged, &DecodingKey::from_jwk(jwk).unwrap(), &validation);
    assert!(matches!(refused.unwrap_err().kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature));

    // The job's log never shows its tokens, even when it prints them.
    let job_token = deploy["token"].as_str().unwrap();
    let log = format!("$ echo $GANTRY_ID\n{token}\n");
    let request = Request::builder()
        .method(Method::PATCH)
        .uri(format!("/api/v4/jobs/{job_id}/trace"))
        .header("JOB-TOKEN", job_token)
        .header("Content-Range", format!("0-{}", log.len() - 1))
        .body(Body::from(log))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::ACCEPTED);
    let path = format!("/api/v4/projects/{}/jobs/{job_id}/trace", project.id.0);
    let shown = app.api(Method::GET, &path, Some(&ada.token), None).await;
    assert!(shown.body.contains("[MASKED]") && !shown.body.contains(&token), "{}", shown.body);
}

#[tokio::test]
async fn a_token_names_the_jobs_own_project_whatever_its_file_says() {
    let app = TestApp::new().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    // The key set is there before any job has run, and the key it shows signs the tokens.
    let before = published_keys(&app).await;
    assert_eq!(before.keys.len(), 1);

    let secret_ci = b"build:\n  id_tokens:\n    ID_TOKEN:\n      aud: vault\n  script: echo secret\n";
    let (secret, secret_sha) = app.project_with_file(&alice, "Secret", ".gitlab-ci.yml", secret_ci).await;
    // Bob's file claims to be Alice's project in every variable it can set, and asks for a
    // token whose audience is her project's path.
    let other_ci = format!(
        "variables:\n  CI_PROJECT_PATH: {path}\n  CI_PROJECT_ID: \"{id}\"\n  CI_PROJECT_NAMESPACE: alice\n\
         build:\n  id_tokens:\n    ID_TOKEN:\n      aud: $CI_PROJECT_PATH\n  script: echo other\n",
        path = secret.full_path,
        id = secret.id.0,
    );
    let (other, other_sha) = app.project_with_file(&bob, "Other", ".gitlab-ci.yml", other_ci.as_bytes()).await;
    let runner = app.instance_runner().await;
    run_pipeline(&app, &secret, secret_sha, &alice).await;
    let secret_job = take_job(&app, &runner).await;
    run_pipeline(&app, &other, other_sha, &bob).await;
    let other_job = take_job(&app, &runner).await;

    let keys = published_keys(&app).await;
    assert_eq!(keys.keys.len(), 1);
    assert_eq!(keys.keys[0].common.key_id, before.keys[0].common.key_id, "made once, kept");
    let secret_claims = verify(&keys, &token_of(&secret_job, "ID_TOKEN"), "vault");
    assert_eq!(secret_claims["project_path"], secret.full_path);
    assert_eq!(secret_claims["project_id"], secret.id.0.to_string());
    assert_eq!(secret_claims["user_login"], "alice");

    // The audience is the job's to choose; who it is is not.
    let other_claims = verify(&keys, &token_of(&other_job, "ID_TOKEN"), &secret.full_path);
    assert_eq!(other_claims["project_path"], "bob/other");
    assert_eq!(other_claims["project_id"], other.id.0.to_string());
    assert_eq!(other_claims["namespace_path"], "bob");
    assert_eq!(other_claims["sub"], "project_path:bob/other:ref_type:branch:ref:main");
    assert_eq!(other_claims["user_login"], "bob");
    assert_eq!(other_claims["user_access_level"], "owner");
    assert!(other_claims.get("environment").is_none(), "no environment, no environment claims");
}

#[tokio::test]
async fn servers_racing_to_make_the_first_key_agree_on_one() {
    let app = TestApp::new().await;
    let other_server = app.core.clone();
    let (here, there) = tokio::join!(app.api(Method::GET, "/oauth/discovery/keys", None, None), async {
        other_server.ci().id_token_keys().await.unwrap()
    },);
    let here = here.json();
    assert_eq!(here["keys"].as_array().unwrap().len(), 1, "{here}");
    assert_eq!(there.len(), 1);
    assert_eq!(here["keys"][0]["kid"], there[0].kid.as_str());
    let again = app.api(Method::GET, "/oauth/discovery/keys", None, None).await.json();
    assert_eq!(again, here, "the key is kept");
}
