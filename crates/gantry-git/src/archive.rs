//! Archives streamed without ever being held whole: the files at a commit as `git archive`
//! writes them (tar, tar.gz, zip) or as a tar compressed with bzip2 in-process (GitLab's
//! `tar.bz2` and its other names), and a snapshot of the bare repository itself as an
//! uncompressed tar (GitLab's project snapshot). Each is produced on a blocking thread that hands
//! pieces over a small channel, so a slow client holds the producer back instead of filling
//! memory, and a client that leaves stops it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::RepoId;
use tokio::sync::mpsc;

use crate::command::{GitError, git};
use crate::storage::Repositories;

/// Bytes handed over at a time.
const PIECE: usize = 64 * 1024;
/// Pieces waiting for the client at most.
const PIECES_IN_FLIGHT: usize = 4;

/// The formats an archive of a commit comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    TarGz,
    TarBz2,
    Tar,
    Zip,
}

/// Every name GitLab accepts for a format, as `archive.<name>` or `?format=<name>`.
pub const ARCHIVE_EXTENSIONS: [(&str, ArchiveFormat); 10] = [
    ("tar.gz", ArchiveFormat::TarGz),
    ("tgz", ArchiveFormat::TarGz),
    ("gz", ArchiveFormat::TarGz),
    ("tar.bz2", ArchiveFormat::TarBz2),
    ("tbz", ArchiveFormat::TarBz2),
    ("tbz2", ArchiveFormat::TarBz2),
    ("tb2", ArchiveFormat::TarBz2),
    ("bz2", ArchiveFormat::TarBz2),
    ("tar", ArchiveFormat::Tar),
    ("zip", ArchiveFormat::Zip),
];

impl ArchiveFormat {
    /// The format one of GitLab's names stands for (`tar.gz`, `tgz`, `gz`, `tar.bz2`, `tbz`,
    /// `tbz2`, `tb2`, `bz2`, `tar`, `zip`).
    pub fn from_extension(name: &str) -> Option<ArchiveFormat> {
        ARCHIVE_EXTENSIONS.iter().find(|(extension, _)| *extension == name).map(|(_, format)| *format)
    }

    /// From a file name's ending (`proj-main.tar.bz2`); returns the name without it. The
    /// longest ending wins, so `x.tar.gz` is never read as `x.tar` plus `.gz`.
    pub fn from_file_name(name: &str) -> Option<(ArchiveFormat, &str)> {
        let mut endings = ARCHIVE_EXTENSIONS;
        endings.sort_by_key(|(extension, _)| std::cmp::Reverse(extension.len()));
        endings.iter().find_map(|(extension, format)| {
            let stem = name.strip_suffix(extension)?.strip_suffix('.')?;
            (!stem.is_empty()).then_some((*format, stem))
        })
    }

    /// The usual file ending of the format.
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::TarGz => "tar.gz",
            ArchiveFormat::TarBz2 => "tar.bz2",
            ArchiveFormat::Tar => "tar",
            ArchiveFormat::Zip => "zip",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ArchiveFormat::TarGz => "application/gzip",
            ArchiveFormat::TarBz2 => "application/x-bzip2",
            ArchiveFormat::Tar => "application/x-tar",
            ArchiveFormat::Zip => "application/zip",
        }
    }

    /// What `git archive` is asked to write (bzip2 is added here, after a plain tar).
    fn git_format(self) -> &'static str {
        match self {
            ArchiveFormat::TarGz => "tar.gz",
            ArchiveFormat::TarBz2 | ArchiveFormat::Tar => "tar",
            ArchiveFormat::Zip => "zip",
        }
    }
}

/// An archive arriving a piece at a time. A failure after the first piece arrives as an error
/// item (the response can then only be cut short).
#[derive(Debug)]
pub struct ByteStream {
    pieces: mpsc::Receiver<std::io::Result<Vec<u8>>>,
}

impl ByteStream {
    /// The next piece; `None` at the end.
    pub async fn next(&mut self) -> Option<std::io::Result<Vec<u8>>> {
        self.pieces.recv().await
    }
}

/// A writer that hands what is written to a [`ByteStream`] in pieces of [`PIECE`] bytes,
/// waiting while the reader is behind; a reader that has gone away is a broken pipe.
struct ChannelWriter {
    buffer: Vec<u8>,
    pieces: mpsc::Sender<std::io::Result<Vec<u8>>>,
}

impl ChannelWriter {
    fn new(pieces: mpsc::Sender<std::io::Result<Vec<u8>>>) -> ChannelWriter {
        ChannelWriter { buffer: Vec::with_capacity(PIECE), pieces }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.buffer, Vec::with_capacity(PIECE));
        self.pieces
            .blocking_send(Ok(piece))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = PIECE - self.buffer.len();
        let taken = data.len().min(room);
        self.buffer.extend_from_slice(&data[..taken]);
        if self.buffer.len() >= PIECE {
            self.send()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Runs `produce` on a blocking thread, writing into a fresh stream; a failure (other than the
/// reader leaving) ends the stream with an error item.
fn produce<F>(what: &'static str, produce: F) -> ByteStream
where
    F: FnOnce(&mut ChannelWriter) -> std::io::Result<()> + Send + 'static,
{
    let (sender, pieces) = mpsc::channel(PIECES_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter::new(sender.clone());
        match produce(&mut writer).and_then(|()| writer.flush()) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(error) => {
                tracing::warn!(%error, "{what} failed");
                let _ = sender.blocking_send(Err(error));
            }
        }
    });
    ByteStream { pieces }
}

fn is_object_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Repositories {
    /// The files of `commit` (only those under `path`, when given) with every path under
    /// `prefix/`, in `format`. `git archive` starts before this returns, so a repository it
    /// cannot read is an error here rather than a cut-short stream.
    pub fn stream_archive(
        &self,
        id: impl Into<RepoId>,
        commit: &str,
        format: ArchiveFormat,
        prefix: &str,
        path: Option<&str>,
    ) -> Result<ByteStream, GitError> {
        let id: RepoId = id.into();
        if !is_object_id(commit) {
            return Err(GitError::Read(format!("'{commit}' is not a commit id")));
        }
        let prefix: String = prefix.chars().map(|c| if c == '/' || c.is_control() { '-' } else { c }).collect();
        let mut command = git(self.git_program(), &self.existing(id)?);
        command
            .args(["-c", "core.quotePath=false", "archive"])
            .arg(format!("--format={}", format.git_format()))
            .arg(format!("--prefix={prefix}/"))
            .arg(commit);
        if let Some(path) = path.map(|p| p.trim_matches('/')).filter(|p| !p.is_empty()) {
            // A literal path, never a pattern or a magic pathspec.
            command.arg("--").arg(format!(":(literal){path}"));
        }
        let mut command = command.into_std();
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().map_err(GitError::Spawn)?;
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        Ok(produce("git archive", move |writer| {
            let copied = match format {
                ArchiveFormat::TarBz2 => {
                    let mut encoder = bzip2::write::BzEncoder::new(&mut *writer, bzip2::Compression::best());
                    std::io::copy(&mut stdout, &mut encoder).and_then(|_| encoder.finish().map(drop))
                }
                _ => std::io::copy(&mut stdout, writer).map(drop),
            };
            if let Err(error) = copied {
                let _ = child.kill();
                let _ = child.wait();
                return Err(error);
            }
            let mut errors = String::new();
            let _ = (&mut stderr).take(16 * 1024).read_to_string(&mut errors);
            let status = child.wait()?;
            if status.success() {
                Ok(())
            } else {
                Err(std::io::Error::other(format!("git archive exited with {status}: {}", errors.trim())))
            }
        }))
    }

    /// The bare repository as an uncompressed tar, as GitLab's snapshot gives it: `HEAD`,
    /// `packed-refs` and `refs/` first, then `objects/`, so that every object a ref names is
    /// in the archive even while a push lands (objects are only ever added; a pack that
    /// maintenance removes meanwhile is left out). Git's temporary files are left out.
    pub fn stream_snapshot(&self, id: impl Into<RepoId>) -> Result<ByteStream, GitError> {
        let id: RepoId = id.into();
        let repo = self.existing(id)?;
        Ok(produce("the repository snapshot", move |writer| {
            let mut tar = tar::Builder::new(writer);
            tar.mode(tar::HeaderMode::Deterministic);
            tar.follow_symlinks(false);
            for name in ["HEAD", "packed-refs", "shallow"] {
                append_file(&mut tar, &repo, Path::new(name))?;
            }
            for dir in ["refs", "objects"] {
                append_tree(&mut tar, &repo, Path::new(dir))?;
            }
            tar.finish()
        }))
    }
}

/// Whether a file is git's work in progress (a lock, a temporary object or pack, a quarantine
/// of a push not yet accepted) rather than part of the repository.
fn is_temporary(name: &str) -> bool {
    name.ends_with(".lock") || name.starts_with("tmp_") || name.starts_with("incoming-") || name.starts_with(".tmp")
}

/// Adds `relative` (a file under `repo`) if it exists.
fn append_file<W: Write>(tar: &mut tar::Builder<W>, repo: &Path, relative: &Path) -> std::io::Result<()> {
    let mut file = match std::fs::File::open(repo.join(relative)) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Ok(());
    }
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(&metadata, tar::HeaderMode::Deterministic);
    tar.append_data(&mut header, relative, &mut file)
}

/// Adds the folder `relative` under `repo` and everything in it, in name order.
fn append_tree<W: Write>(tar: &mut tar::Builder<W>, repo: &Path, relative: &Path) -> std::io::Result<()> {
    let mut pending: Vec<PathBuf> = vec![relative.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(repo.join(&dir)) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        tar.append_dir(&dir, repo.join(&dir))?;
        let mut names: Vec<(std::ffi::OsString, bool)> = Vec::new();
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_symlink() || entry.file_name().to_str().is_none_or(is_temporary) {
                continue;
            }
            names.push((entry.file_name(), kind.is_dir()));
        }
        names.sort();
        let mut subdirs = Vec::new();
        for (name, is_dir) in names {
            if is_dir {
                subdirs.push(dir.join(name));
            } else {
                append_file(tar, repo, &dir.join(name))?;
            }
        }
        // Popped from the end: reversed, the folders come out in name order.
        pending.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Author;
    use gantry_types::ProjectId;

    #[test]
    fn every_gitlab_name_has_a_format() {
        assert_eq!(ArchiveFormat::from_extension("tb2"), Some(ArchiveFormat::TarBz2));
        assert_eq!(ArchiveFormat::from_extension("gz"), Some(ArchiveFormat::TarGz));
        assert_eq!(ArchiveFormat::from_extension("rar"), None);
        assert_eq!(ArchiveFormat::from_file_name("api-main.tar.gz"), Some((ArchiveFormat::TarGz, "api-main")));
        assert_eq!(ArchiveFormat::from_file_name("api-main.tar.bz2"), Some((ArchiveFormat::TarBz2, "api-main")));
        assert_eq!(ArchiveFormat::from_file_name("api-main.tbz"), Some((ArchiveFormat::TarBz2, "api-main")));
        assert_eq!(ArchiveFormat::from_file_name("api-main.zip"), Some((ArchiveFormat::Zip, "api-main")));
        assert_eq!(ArchiveFormat::from_file_name("api-main.rar"), None);
        assert_eq!(ArchiveFormat::from_file_name(".zip"), None);
    }

    async fn collect(mut stream: ByteStream) -> std::io::Result<Vec<u8>> {
        let mut all = Vec::new();
        while let Some(piece) = stream.next().await {
            all.extend(piece?);
        }
        Ok(all)
    }

    #[tokio::test]
    async fn archives_and_snapshots_stream_whole() {
        let dir = tempfile::tempdir().unwrap();
        let repos = Repositories::new(dir.path(), "git");
        let id = ProjectId(5);
        repos.create(id, "main").await.unwrap();
        let ada = Author { name: "Ada", email: "ada@example.com" };
        let commit = repos.initial_commit(id, "main", "README.md", b"# Hi\n", "First\n", &ada).await.unwrap();

        let tar =
            collect(repos.stream_archive(id, &commit, ArchiveFormat::Tar, "p-main", None).unwrap()).await.unwrap();
        let names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(names.contains(&"p-main/README.md".to_owned()), "{names:?}");

        let bz2 =
            collect(repos.stream_archive(id, &commit, ArchiveFormat::TarBz2, "p-main", None).unwrap()).await.unwrap();
        assert_eq!(&bz2[..3], b"BZh");
        let mut unpacked = Vec::new();
        bzip2::read::BzDecoder::new(&bz2[..]).read_to_end(&mut unpacked).unwrap();
        assert_eq!(unpacked, tar, "bzip2 of the same tar");

        let missing = repos.stream_archive(id, &commit, ArchiveFormat::Zip, "p", Some("nothing/here")).unwrap();
        assert!(collect(missing).await.is_err(), "a path that does not exist fails the stream");

        let snapshot = collect(repos.stream_snapshot(id).unwrap()).await.unwrap();
        let unpack_to = dir.path().join("unpacked.git");
        tar::Archive::new(&snapshot[..]).unpack(&unpack_to).unwrap();
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(&unpack_to)
            .args(["rev-parse", "refs/heads/main"])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), commit, "the snapshot is a repository");
    }
}
