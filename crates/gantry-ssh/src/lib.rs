//! Gantry's built-in SSH server for git (see the README below).
#![doc = include_str!("../README.md")]

mod command;
mod host_key;
mod session;

use std::sync::Arc;
use std::time::Duration;

use gantry_core::Core;
use tokio::net::TcpListener;

pub use host_key::load_or_create_host_key;

/// How long a connection may stay silent before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The SSH server: one task per connection, until `shutdown` resolves.
pub async fn serve(
    core: Core,
    listener: TcpListener,
    host_key: russh::keys::PrivateKey,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let config = Arc::new(russh::server::Config {
        server_id: russh::SshId::Standard(format!("SSH-2.0-Gantry_{}", env!("CARGO_PKG_VERSION")).into()),
        methods: russh::MethodSet::from(&[russh::MethodKind::PublicKey][..]),
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        inactivity_timeout: Some(IDLE_TIMEOUT),
        keepalive_interval: Some(Duration::from_secs(30)),
        nodelay: true,
        ..Default::default()
    });
    tokio::pin!(shutdown);
    loop {
        let (socket, peer) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(error = %error, "cannot accept an SSH connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let handler = session::GitSession::new(core.clone(), peer);
        let config = config.clone();
        tokio::spawn(async move {
            match russh::server::run_stream(config, socket, handler).await {
                Ok(running) => {
                    if let Err(error) = running.await {
                        tracing::debug!(peer = %peer, error = ?error, "SSH session ended with an error");
                    }
                }
                Err(error) => tracing::debug!(peer = %peer, error = ?error, "SSH handshake failed"),
            }
        });
    }
}
