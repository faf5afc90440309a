//! Deploy keys and deploy tokens: the API (GitLab's shapes, who may do what, bad input), the
//! keys API by id and fingerprint, git's smart HTTP with deploy tokens, and the settings pages
//! (`deploy/keys.rs`, `deploy/tokens.rs`). Real `git` and `ssh` with them are in the binary's
//! end-to-end tests (`e2e/deploy.rs`).

mod keys;
mod tokens;

use base64::Engine;
use gantry_core::Actor;
use gantry_core::manage::members::MemberTarget;
use gantry_core::manage::projects::NewProjectInput;
use gantry_types::AccessLevel;

use crate::support::{TestApp, TestResponse, TestUser};

/// A distinct, well-formed Ed25519 public key per `seed`.
pub(crate) fn key(seed: u8, comment: &str) -> String {
    let mut blob = Vec::new();
    for part in [&b"ssh-ed25519"[..], &[seed; 32]] {
        blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
        blob.extend_from_slice(part);
    }
    format!("ssh-ed25519 {} {comment}", base64::engine::general_purpose::STANDARD.encode(&blob))
}

/// Its fingerprint as `ssh-keygen -l` prints it (what python-gitlab's test computes).
pub(crate) fn fingerprint(public: &str) -> String {
    use sha2::Digest;
    let blob = base64::engine::general_purpose::STANDARD.decode(public.split_whitespace().nth(1).unwrap()).unwrap();
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(sha2::Sha256::digest(blob)))
}

pub(crate) async fn project_of(app: &TestApp, owner: &TestUser, name: &str) -> gantry_core::ProjectRow {
    let input = NewProjectInput { name: name.into(), ..NewProjectInput::default() };
    app.core.manage().create_project(&Actor::User(owner.user.clone()), &input).await.unwrap()
}

pub(crate) async fn member(
    app: &TestApp,
    owner: &TestUser,
    project: &gantry_core::ProjectRow,
    who: &TestUser,
    level: AccessLevel,
) {
    let owner = Actor::User(owner.user.clone());
    app.core.manage().add_member(&owner, MemberTarget::Project(project), who.user.id, level, None).await.unwrap();
}

pub(crate) fn message(response: &TestResponse) -> String {
    response.json()["message"].as_str().unwrap_or_default().to_owned()
}
