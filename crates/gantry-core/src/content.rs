//! A file's content read a piece at a time — a large blob of a repository, one file of an
//! artifacts archive — so that serving it costs a few pieces of memory whatever its size, and a
//! client that reads slowly holds the reader back instead of the server buffering for it.

use std::io::Write;

use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use crate::{CoreError, CoreResult};

/// Bytes per piece.
const PIECE: usize = 64 << 10;
/// Contents streamed at once: each holds a blocking thread or a `git` process for as long as
/// its client reads, so slow clients must not be able to take them all.
const STREAMS: usize = 64;

static STREAM_PERMITS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(STREAMS);

/// A place among the [`STREAMS`], or a clear refusal.
fn stream_permit() -> CoreResult<tokio::sync::SemaphorePermit<'static>> {
    STREAM_PERMITS
        .try_acquire()
        .map_err(|_| CoreError::Busy("too many large files are being downloaded; try again shortly"))
}
/// Pieces read ahead of the client.
const AHEAD: usize = 4;

/// A file's content as it is read.
#[derive(Debug)]
pub struct ContentStream {
    /// Its size in bytes.
    pub size: u64,
    /// The first piece (for telling text from binary before answering).
    pub head: Vec<u8>,
    /// The pieces after it; an error ends the content early.
    pub rest: mpsc::Receiver<std::io::Result<Vec<u8>>>,
}

impl ContentStream {
    /// `size` bytes that `produce` writes, on a blocking thread, into the writer it is given
    /// (which blocks while the client is behind, and fails once it has gone).
    pub(crate) async fn from_blocking(
        size: u64,
        produce: impl FnOnce(&mut dyn Write) -> std::io::Result<()> + Send + 'static,
    ) -> CoreResult<ContentStream> {
        let permit = stream_permit()?;
        let (sender, receiver) = mpsc::channel(AHEAD);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut pieces = std::io::BufWriter::with_capacity(PIECE, PieceWriter { sender: sender.clone() });
            let written = produce(&mut pieces).and_then(|()| pieces.flush());
            if let Err(error) = written
                && error.kind() != std::io::ErrorKind::BrokenPipe
            {
                let _ = sender.blocking_send(Err(error));
            }
        });
        ContentStream::start(size, receiver).await
    }

    /// The standard output of `child`, `size` bytes; a child that fails ends the content with
    /// an error.
    pub(crate) async fn from_child(size: u64, mut child: tokio::process::Child) -> CoreResult<ContentStream> {
        let permit = stream_permit()?;
        let mut output = child.stdout.take().ok_or_else(|| CoreError::Internal("no output to read".into()))?;
        let (sender, receiver) = mpsc::channel(AHEAD);
        tokio::spawn(async move {
            let _permit = permit;
            loop {
                let mut piece = vec![0; PIECE];
                match output.read(&mut piece).await {
                    Ok(0) => break,
                    Ok(read) => {
                        piece.truncate(read);
                        if sender.send(Ok(piece)).await.is_err() {
                            // The client went away: the child is killed when dropped.
                            return;
                        }
                    }
                    Err(error) => {
                        let _ = sender.send(Err(error)).await;
                        return;
                    }
                }
            }
            match child.wait().await {
                Ok(status) if status.success() => {}
                Ok(status) => {
                    let _ = sender.send(Err(std::io::Error::other(format!("git ended with {status}")))).await;
                }
                Err(error) => {
                    let _ = sender.send(Err(error)).await;
                }
            }
        });
        ContentStream::start(size, receiver).await
    }

    async fn start(size: u64, mut rest: mpsc::Receiver<std::io::Result<Vec<u8>>>) -> CoreResult<ContentStream> {
        let head = match rest.recv().await {
            Some(Ok(piece)) => piece,
            Some(Err(error)) => return Err(CoreError::Internal(Box::new(error))),
            None => Vec::new(),
        };
        Ok(ContentStream { size, head, rest })
    }
}

/// Sends what is written as pieces; fails with `BrokenPipe` once nobody reads them.
struct PieceWriter {
    sender: mpsc::Sender<std::io::Result<Vec<u8>>>,
}

impl Write for PieceWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.sender
            .blocking_send(Ok(bytes.to_vec()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the reader has gone"))?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
