//! The git transport: `git upload-pack` (clone, fetch) and `git receive-pack` (push) spawned
//! in stateless-RPC mode, as smart HTTP needs, with their standard streams piped to the
//! caller. Pushes run Gantry's hooks with the push's policy (see [`crate::hooks`]).

use std::path::PathBuf;
use std::process::Stdio;

use crate::RepoId;
use tokio::process::Child;

use crate::command::{GitError, git};
use crate::hooks::{POLICY_ENV, REPORT_ENV};
use crate::refcheck::PushPolicy;
use crate::storage::Repositories;

/// The two git services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    UploadPack,
    ReceivePack,
}

impl Service {
    /// From the name git uses on the wire (`git-upload-pack`, `git-receive-pack`).
    pub fn parse(name: &str) -> Option<Service> {
        match name {
            "git-upload-pack" => Some(Service::UploadPack),
            "git-receive-pack" => Some(Service::ReceivePack),
            _ => None,
        }
    }

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Service::UploadPack => "git-upload-pack",
            Service::ReceivePack => "git-receive-pack",
        }
    }

    fn subcommand(self) -> &'static str {
        match self {
            Service::UploadPack => "upload-pack",
            Service::ReceivePack => "receive-pack",
        }
    }
}

/// The value of a `Git-Protocol` header (or SSH `GIT_PROTOCOL`), if it is one git accepts:
/// colon-separated `key=value` parameters of plain characters.
pub fn protocol_parameter(value: &str) -> Option<&str> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"=:._-".contains(&b);
    (!value.is_empty() && value.len() <= 256 && value.bytes().all(plain)).then_some(value)
}

/// What a push brings along: the policy its hooks apply and where they report.
#[derive(Debug, Clone)]
pub struct PushSetup {
    pub policy: PushPolicy,
    pub report_file: PathBuf,
    /// Largest pack receive-pack accepts (bytes); git refuses a larger one with a message.
    pub max_pack_bytes: u64,
}

/// How the service is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only the ref advertisement (`info/refs` over HTTP).
    Advertise,
    /// One request/response exchange (`POST /git-upload-pack`, `/git-receive-pack`).
    Rpc,
    /// A full conversation over one connection (SSH).
    Session,
}

impl Repositories {
    /// Spawns the service for the project's repository with piped stdin, stdout and stderr.
    /// `push` is required to receive a pack (and ignored otherwise): a push without a policy
    /// would bypass protected branches.
    pub fn spawn_service(
        &self,
        id: impl Into<RepoId>,
        service: Service,
        mode: Mode,
        protocol: Option<&str>,
        push: Option<&PushSetup>,
    ) -> Result<Child, GitError> {
        let id: RepoId = id.into();
        let repo = self.existing(id)?;
        let mut command = git(self.git_program(), &repo);
        if service == Service::ReceivePack && mode != Mode::Advertise {
            let push = push.expect("receive-pack needs a push policy");
            // Without the hooks git would apply any push: refuse instead.
            if !self.hooks_dir().join("pre-receive").is_file() {
                return Err(GitError::HooksMissing(self.hooks_dir().to_owned()));
            }
            let policy = serde_json::to_string(&push.policy).expect("a policy serialises");
            command
                .arg("-c")
                .arg(format!("core.hooksPath={}", self.hooks_dir().display()))
                .arg("-c")
                .arg(format!("receive.maxInputSize={}", push.max_pack_bytes))
                .env(POLICY_ENV, policy)
                .env(REPORT_ENV, &push.report_file);
        }
        command.arg(service.subcommand());
        match mode {
            Mode::Advertise => {
                command.args(["--stateless-rpc", "--advertise-refs"]);
            }
            Mode::Rpc => {
                command.arg("--stateless-rpc");
            }
            Mode::Session => {}
        }
        command.arg(".");
        if let Some(protocol) = protocol.and_then(protocol_parameter) {
            command.env("GIT_PROTOCOL", protocol);
        }
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.spawn().map_err(GitError::Spawn)
    }
}

impl Repositories {
    /// Spawns `git cat-file blob` of the blob `blob`: its bytes come on the child's standard
    /// output, for files too large to hold in memory.
    pub fn spawn_cat_blob(&self, id: impl Into<RepoId>, blob: &str) -> Result<Child, GitError> {
        let id: RepoId = id.into();
        if blob.len() != 40 || !blob.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(GitError::Read(format!("'{blob}' is not a blob id")));
        }
        let mut command = git(self.git_program(), &self.existing(id)?);
        command
            .args(["cat-file", "blob", blob])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        command.spawn().map_err(GitError::Spawn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_protocol_parameters() {
        assert_eq!(Service::parse("git-upload-pack"), Some(Service::UploadPack));
        assert_eq!(Service::parse("git-upload-archive"), None);
        assert_eq!(Service::ReceivePack.name(), "git-receive-pack");
        assert_eq!(protocol_parameter("version=2"), Some("version=2"));
        assert_eq!(protocol_parameter("version=2:object-format=sha1"), Some("version=2:object-format=sha1"));
        assert_eq!(protocol_parameter("version=2; rm -rf"), None);
        assert_eq!(protocol_parameter(""), None);
    }
}
