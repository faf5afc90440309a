//! One SSH connection: public-key authentication (a user's key or a deploy key), then git
//! commands on session channels.

use std::collections::HashMap;
use std::net::SocketAddr;

use gantry_core::code::git_access::{GitCredential, GitOperation, GitPermit};
use gantry_core::manage::ssh_keys::SshIdentity;
use gantry_core::{Core, CoreError};
use gantry_git::transport::{Mode, Service};
use russh::keys::HashAlg;
use russh::server::{Auth, ChannelOpenHandle, Handle, Handler, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

use crate::command;

/// The SSH user name git URLs use (`git@host`).
const SSH_USER: &str = "git";
/// Chunks of client input waiting for git: small, so a fast client is slowed to git's pace.
const INPUT_QUEUE: usize = 16;
const CHUNK: usize = 32 * 1024;

/// The handler of one connection.
pub struct GitSession {
    core: Core,
    peer: SocketAddr,
    /// Who the accepted key stands for.
    identity: Option<SshIdentity>,
    /// `GIT_PROTOCOL` as the client set it (`version=2`).
    protocol: Option<String>,
    /// Where the client's data for a running git goes, by channel.
    inputs: HashMap<ChannelId, mpsc::Sender<Vec<u8>>>,
}

impl GitSession {
    pub fn new(core: Core, peer: SocketAddr) -> GitSession {
        GitSession { core, peer, identity: None, protocol: None, inputs: HashMap::new() }
    }

    fn fingerprint(key: &russh::keys::PublicKey) -> String {
        key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// Authorises and starts the git command; returns where its input goes, or the message
    /// to show the client.
    async fn start(&self, channel: ChannelId, text: &str, handle: Handle) -> Result<mpsc::Sender<Vec<u8>>, String> {
        let identity = self.identity.clone().ok_or("you are not signed in")?;
        let command = command::parse(text)?;
        let operation = match command.service {
            Service::UploadPack => GitOperation::Fetch,
            Service::ReceivePack => GitOperation::Push,
        };
        let (credential, who) = match identity {
            SshIdentity::User(user) => (GitCredential::User(user.clone()), format!("user {}", user.id)),
            SshIdentity::DeployKey(key) => {
                let who = format!("deploy key {}", key.id);
                (GitCredential::DeployKey(key), who)
            }
        };
        let permit = self.core.code().git_access(&credential, &command.repository, operation).await.map_err(explain)?;
        let protocol = self.protocol.as_deref();
        let mut child = self
            .core
            .repos()
            .spawn_service(permit.repo, command.service, Mode::Session, protocol, permit.push.as_ref())
            .map_err(|error| explain(error.into()))?;
        tracing::info!(
            peer = %self.peer, by = %who, repo = %permit.repo,
            service = command.service.name(), "git over SSH"
        );
        let stdin = child.stdin.take().expect("piped stdin");
        let (sender, receiver) = mpsc::channel(INPUT_QUEUE);
        tokio::spawn(feed(receiver, stdin));
        tokio::spawn(relay(self.core.clone(), child, channel, handle, permit));
        Ok(sender)
    }
}

/// The message a refused git command shows.
fn explain(error: CoreError) -> String {
    match error {
        CoreError::NotFound(_) => {
            "The project you were looking for could not be found or you don't have permission to view it.".to_owned()
        }
        CoreError::Internal(inner) => {
            tracing::error!(error = %inner, "git over SSH failed");
            "something went wrong on the server; it has been logged".to_owned()
        }
        other => other.to_string(),
    }
}

/// Writes what the client sends into git's standard input; closes it at the client's EOF.
async fn feed(mut receiver: mpsc::Receiver<Vec<u8>>, mut stdin: ChildStdin) {
    while let Some(data) = receiver.recv().await {
        if stdin.write_all(&data).await.is_err() {
            return;
        }
    }
    let _ = stdin.shutdown().await;
}

/// Sends git's output (stdout as data, stderr as extended data) to the client, then its exit
/// status, and records a push.
async fn relay(core: Core, mut child: Child, channel: ChannelId, handle: Handle, permit: GitPermit) {
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let errors = tokio::spawn(forward(stderr, channel, handle.clone(), Some(1)));
    forward(stdout, channel, handle.clone(), None).await;
    let _ = errors.await;
    let status = child.wait().await;
    let succeeded = status.as_ref().is_ok_and(|s| s.success());
    core.code().finish_push(&permit, succeeded).await;
    let code = status.ok().and_then(|s| s.code()).map_or(1, |c| u32::try_from(c).unwrap_or(1));
    let _ = handle.exit_status_request(channel, code).await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
}

/// Copies a pipe to the channel (`ext` = 1 for stderr) until it ends or the client leaves.
async fn forward(mut pipe: impl AsyncRead + Unpin, channel: ChannelId, handle: Handle, ext: Option<u32>) {
    let mut buffer = vec![0; CHUNK];
    loop {
        let read = match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        let data = buffer[..read].to_vec();
        let sent = match ext {
            Some(ext) => handle.extended_data(channel, ext, data).await,
            None => handle.data(channel, data).await,
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Tells the client why nothing runs, and ends the channel with a failure status.
fn refuse(session: &mut Session, channel: ChannelId, message: &str) -> Result<(), russh::Error> {
    session.extended_data(channel, 1, format!("Gantry: {message}\r\n").into_bytes())?;
    session.exit_status_request(channel, 1)?;
    session.eof(channel)?;
    session.close(channel)
}

impl Handler for GitSession {
    type Error = russh::Error;

    async fn auth_publickey_offered(&mut self, user: &str, offer: PublicKeyOffer<'_>) -> Result<Auth, Self::Error> {
        // Only keys Gantry knows are worth a signature check.
        let known = user == SSH_USER
            && matches!(
                self.core.manage().authenticate_ssh_key(&Self::fingerprint(offer.public_key)).await,
                Ok(Some(_))
            );
        Ok(if known { Auth::Accept } else { Auth::reject() })
    }

    async fn auth_publickey(&mut self, user: &str, key: VerifiedPublicKey<'_>) -> Result<Auth, Self::Error> {
        if user != SSH_USER {
            return Ok(Auth::reject());
        }
        match self.core.manage().authenticate_ssh_key(&Self::fingerprint(key.public_key)).await {
            Ok(Some(found)) => {
                match &found {
                    SshIdentity::User(user) => {
                        tracing::debug!(peer = %self.peer, user.id = %user.id, "SSH key accepted")
                    }
                    SshIdentity::DeployKey(key) => {
                        tracing::debug!(peer = %self.peer, key.id = %key.id, "deploy key accepted")
                    }
                }
                self.identity = Some(found);
                Ok(Auth::Accept)
            }
            Ok(None) => Ok(Auth::reject()),
            Err(error) => {
                tracing::error!(error = %error, "cannot check an SSH key");
                Ok(Auth::reject())
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if name == "GIT_PROTOCOL" {
            self.protocol = Some(value.to_owned());
            session.channel_success(channel)
        } else {
            session.channel_failure(channel)
        }
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Accepted so that `ssh git@host` reaches the greeting instead of a PTY error.
        session.channel_success(channel)
    }

    async fn shell_request(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        let name = match &self.identity {
            Some(SshIdentity::User(user)) => format!("@{}", user.username),
            Some(SshIdentity::DeployKey(key)) => format!("deploy key \"{}\"", key.title),
            None => "there".to_owned(),
        };
        let greeting = format!(
            "Welcome to Gantry, {name}! You have authenticated, but Gantry does not provide shell access.\r\n\
             Use git: git clone ssh://git@<this host>/<namespace>/<project>.git\r\n"
        );
        session.data(channel, greeting.into_bytes())?;
        session.exit_status_request(channel, 0)?;
        session.eof(channel)?;
        session.close(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        let text = String::from_utf8_lossy(data).into_owned();
        match self.start(channel, &text, session.handle()).await {
            Ok(input) => {
                self.inputs.insert(channel, input);
                Ok(())
            }
            Err(message) => refuse(session, channel, &message),
        }
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        refuse(session, channel, &format!("the {name} subsystem is not available; Gantry serves git only"))
    }

    async fn data(&mut self, channel: ChannelId, data: &[u8], _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(input) = self.inputs.get(&channel)
            && input.send(data.to_vec()).await.is_err()
        {
            self.inputs.remove(&channel);
        }
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        // Dropping the sender ends git's input.
        self.inputs.remove(&channel);
        Ok(())
    }

    async fn channel_close(&mut self, channel: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        self.inputs.remove(&channel);
        Ok(())
    }
}
