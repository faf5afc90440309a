//! The object store: blobs addressed by the SHA-256 of their content, kept in a local
//! directory (`<root>/sha256/<2 hex>/<64 hex>`). Writes stream through a temporary file and are
//! renamed into place, so a reader never sees half a blob and the same content is stored once.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// The SHA-256 of a blob's content: 64 lowercase hex characters, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// Checks a digest read from a record or a request.
    pub fn parse(hex: &str) -> Result<Digest, BlobError> {
        let valid = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid { Ok(Digest(hex.to_owned())) } else { Err(BlobError::BadDigest) }
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(hex::encode(Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A blob just written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub digest: Digest,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the content is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("no such blob")]
    NotFound,
    #[error("not a SHA-256 digest")]
    BadDigest,
    #[error("object store: {0}")]
    Io(#[from] io::Error),
}

/// The object store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// A store in the directory `root` (made on the first write).
    pub fn local(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore { root: root.into() }
    }

    /// Where the blob `digest` is (or would be) on disk, for readers that need a `std::fs::File`
    /// (zip archives are read by seeking).
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.root.join("sha256").join(&digest.0[..2]).join(&digest.0)
    }

    /// Starts writing a blob of at most `limit` bytes.
    pub async fn writer(&self, limit: u64) -> Result<BlobWriter, BlobError> {
        let temp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&temp_dir).await?;
        let mut name = [0u8; 16];
        getrandom::fill(&mut name).map_err(|error| io::Error::other(error.to_string()))?;
        let temp = TempFile(temp_dir.join(hex::encode(name)));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&temp.0).await?;
        Ok(BlobWriter {
            store: self.clone(),
            file: tokio::io::BufWriter::with_capacity(256 << 10, file),
            temp,
            hasher: Sha256::new(),
            size: 0,
            limit,
        })
    }

    /// Streams `reader` into a blob of at most `limit` bytes.
    pub async fn put(&self, mut reader: impl AsyncRead + Unpin, limit: u64) -> Result<StoredBlob, BlobError> {
        let mut writer = self.writer(limit).await?;
        let mut buffer = vec![0u8; 64 << 10];
        loop {
            let read = reader.read(&mut buffer).await?;
            if read == 0 {
                return writer.finish().await;
            }
            writer.write(&buffer[..read]).await?;
        }
    }

    /// Stores `bytes`.
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<StoredBlob, BlobError> {
        self.put(bytes, u64::MAX).await
    }

    /// Opens a blob for reading; also returns its size.
    pub async fn open(&self, digest: &Digest) -> Result<(tokio::fs::File, u64), BlobError> {
        let file = tokio::fs::File::open(self.path(digest)).await.map_err(not_found)?;
        let size = file.metadata().await?.len();
        Ok((file, size))
    }

    /// Reads a whole blob (for small ones: reports, manifests).
    pub async fn read(&self, digest: &Digest) -> Result<Vec<u8>, BlobError> {
        tokio::fs::read(self.path(digest)).await.map_err(not_found)
    }

    /// Removes a blob; removing one that is not there is not an error.
    pub async fn delete(&self, digest: &Digest) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(digest)).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error.into()),
            _ => Ok(()),
        }
    }

    /// Removes a blob unless it was written at or after `cutoff` (its content stored again
    /// refreshes the time): garbage collection looks at the time again right before deleting,
    /// so an upload that refreshed a candidate after the candidates were listed keeps it.
    /// Returns whether the blob went.
    pub async fn delete_if_written_before(&self, digest: &Digest, cutoff: SystemTime) -> Result<bool, BlobError> {
        let path = self.path(digest);
        match tokio::fs::metadata(&path).await {
            Ok(metadata) if metadata.modified()? < cutoff => {}
            Ok(_) => return Ok(false),
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(error) => return Err(error.into()),
        }
        self.delete(digest).await?;
        Ok(true)
    }

    /// The blobs last written more than `age` ago: the candidates for garbage collection, which
    /// the caller checks against its records before deleting. Also removes temporary files of
    /// writes abandoned that long ago (a crash mid-upload).
    pub async fn written_before(&self, age: Duration) -> Result<Vec<Digest>, BlobError> {
        let cutoff = SystemTime::now().checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
        for (path, _) in files_older_than(&self.root.join("tmp"), cutoff).await? {
            let _ = tokio::fs::remove_file(path).await;
        }
        let mut old = Vec::new();
        let mut prefixes = match tokio::fs::read_dir(self.root.join("sha256")).await {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(old),
            Err(error) => return Err(error.into()),
        };
        while let Some(prefix) = prefixes.next_entry().await? {
            for (_, name) in files_older_than(&prefix.path(), cutoff).await? {
                if let Ok(digest) = Digest::parse(&name) {
                    old.push(digest);
                }
            }
        }
        old.sort();
        Ok(old)
    }
}

/// A blob being written; dropped before [`BlobWriter::finish`], it leaves nothing behind.
pub struct BlobWriter {
    store: BlobStore,
    file: tokio::io::BufWriter<tokio::fs::File>,
    temp: TempFile,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

impl BlobWriter {
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        self.size += bytes.len() as u64;
        if self.size > self.limit {
            return Err(BlobError::TooLarge { limit: self.limit });
        }
        self.hasher.update(bytes);
        self.file.write_all(bytes).await?;
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Makes the blob durable and moves it to its address.
    pub async fn finish(mut self) -> Result<StoredBlob, BlobError> {
        self.file.flush().await?;
        self.file.get_ref().sync_all().await?;
        let digest = Digest(hex::encode(self.hasher.finalize_reset()));
        let path = self.store.path(&digest);
        // Stored already: refresh its time so garbage collection sees it as just written. Gone
        // meanwhile (or never there): move the new copy in.
        match std::fs::File::options().append(true).open(&path) {
            Ok(file) => file.set_modified(SystemTime::now())?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                tokio::fs::rename(&self.temp.0, &path).await?;
            }
            Err(error) => return Err(error.into()),
        }
        Ok(StoredBlob { digest, size: self.size })
    }
}

/// Removes its file when dropped (after a rename there is nothing left to remove).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn not_found(error: io::Error) -> BlobError {
    if error.kind() == io::ErrorKind::NotFound { BlobError::NotFound } else { BlobError::Io(error) }
}

/// The files directly in `dir` last modified before `cutoff`, with their names.
async fn files_older_than(dir: &Path, cutoff: SystemTime) -> Result<Vec<(PathBuf, String)>, BlobError> {
    let mut found = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(error) => return Err(error.into()),
    };
    while let Some(entry) = entries.next_entry().await? {
        // A file listed may be gone by now: a temporary file renamed, a blob deleted.
        let metadata = match entry.metadata().await {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error.into()),
        };
        if metadata.is_file() && metadata.modified()? < cutoff {
            found.push((entry.path(), entry.file_name().to_string_lossy().into_owned()));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn content_is_stored_once_under_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path());
        let first = store.put_bytes(b"hello").await.unwrap();
        let second = store.put(&b"hello"[..], 5).await.unwrap();
        assert_eq!(first, second);
        assert_eq!(first.digest.as_str(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(first.digest, Digest::of(b"hello"));
        assert_eq!(store.read(&first.digest).await.unwrap(), b"hello");
        assert_eq!(store.open(&first.digest).await.unwrap().1, 5);
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0, "no temporary file is left");
    }

    #[tokio::test]
    async fn too_large_content_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path());
        let error = store.put(&b"0123456789"[..], 9).await.unwrap_err();
        assert!(matches!(error, BlobError::TooLarge { limit: 9 }), "{error}");
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(!dir.path().join("sha256").exists());
    }

    #[tokio::test]
    async fn missing_blobs_and_bad_digests_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path());
        let absent = Digest::of(b"never written");
        assert!(matches!(store.read(&absent).await, Err(BlobError::NotFound)));
        store.delete(&absent).await.unwrap();
        for bad in ["../../etc/passwd", "ABCDEF", &"g".repeat(64), &"A".repeat(64)] {
            assert!(matches!(Digest::parse(bad), Err(BlobError::BadDigest)), "{bad}");
        }
    }

    #[tokio::test]
    async fn only_blobs_untouched_for_the_age_are_garbage_candidates() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path());
        let old = store.put_bytes(b"old").await.unwrap().digest;
        let new = store.put_bytes(b"new").await.unwrap().digest;
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options().append(true).open(store.path(&old)).unwrap().set_modified(an_hour_ago).unwrap();
        assert_eq!(store.written_before(Duration::from_secs(60)).await.unwrap(), vec![old.clone()]);
        // Writing the same content again makes it new.
        store.put_bytes(b"old").await.unwrap();
        assert!(store.written_before(Duration::from_secs(60)).await.unwrap().is_empty());
        store.delete(&new).await.unwrap();
        assert!(matches!(store.read(&new).await, Err(BlobError::NotFound)));
    }

    #[tokio::test]
    async fn garbage_collection_spares_a_candidate_written_again_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path());
        let digest = store.put_bytes(b"kept").await.unwrap().digest;
        let listed_at = SystemTime::now() - Duration::from_secs(60);
        // Written after the candidates were listed: it stays.
        assert!(!store.delete_if_written_before(&digest, listed_at).await.unwrap());
        assert_eq!(store.read(&digest).await.unwrap(), b"kept");
        let later = SystemTime::now() + Duration::from_secs(60);
        assert!(store.delete_if_written_before(&digest, later).await.unwrap());
        assert!(!store.delete_if_written_before(&digest, later).await.unwrap(), "gone already");
    }
}
