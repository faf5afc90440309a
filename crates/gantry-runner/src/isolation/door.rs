//! The server's door inside a job's network. A sandboxed job reaches the server it came from
//! at the server's own loopback address (`http://127.0.0.1:3000`), but in its network namespace
//! that address is its own loopback: a listening socket there, made by [`open_door`] run inside
//! the namespace and handed to the runner, lets the runner relay each connection to the server.
//! (pasta's port forwarding did the same, but stalled a `git fetch` some 100 ms.)

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer, SendAncillaryMessage, SendFlags,
};

/// Connections one job may have open to the server at once; more wait to be accepted.
const CONNECTIONS_PER_JOB: usize = 64;

/// Run inside a job's network namespace (standard output a Unix socket to the runner): listens
/// on `address` there and hands the listening socket to the runner.
pub fn open_door(address: SocketAddr) -> io::Result<()> {
    let listener = std::net::TcpListener::bind(address)?;
    let fds = [listener.as_fd()];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut ancillary = SendAncillaryBuffer::new(&mut space);
    ancillary.push(SendAncillaryMessage::ScmRights(&fds));
    rustix::net::sendmsg(std::io::stdout().as_fd(), &[IoSlice::new(b"door")], &mut ancillary, SendFlags::empty())?;
    Ok(())
}

/// Receives the listening socket [`open_door`] sends on `socket` (blocking).
pub(super) fn receive_door(socket: &std::os::unix::net::UnixStream) -> io::Result<std::net::TcpListener> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut ancillary = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 4];
    rustix::net::recvmsg(socket, &mut [IoSliceMut::new(&mut byte)], &mut ancillary, RecvFlags::CMSG_CLOEXEC)?;
    let received: Option<OwnedFd> = ancillary.drain().find_map(|message| match message {
        RecvAncillaryMessage::ScmRights(mut fds) => fds.next(),
        _ => None,
    });
    let fd = received.ok_or_else(|| io::Error::other("the job network's door was not handed over"))?;
    let listener = std::net::TcpListener::from(fd);
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Relays each connection made to the door to `server`, until dropped (abort the task).
pub(super) async fn relay(door: tokio::net::TcpListener, server: SocketAddr) {
    let permits = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS_PER_JOB));
    // Held here, so that ending the relay ends every connection with it.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { return };
        let accepted = tokio::select! {
            accepted = door.accept() => accepted,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let Ok((mut inside, _)) = accepted else { return };
        connections.spawn(async move {
            let _permit = permit;
            let Ok(mut outside) = tokio::net::TcpStream::connect(server).await else { return };
            // Both ends forward what arrives at once: a request's pieces wait for no ACK.
            let _ = inside.set_nodelay(true);
            let _ = outside.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut inside, &mut outside).await;
        });
    }
}
