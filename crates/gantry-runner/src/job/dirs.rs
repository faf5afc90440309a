//! A job's directories under the builds directory: `<id>` (the project, `CI_PROJECT_DIR`) and
//! `<id>.tmp` beside it (file variables, the generated scripts, `HOME`), outside the project so
//! that nothing there ends up in artifacts or in the checkout. In the sandbox of a runner that
//! is root, both belong to the job's own user.

use std::io;
use std::path::{Path, PathBuf};

/// The directories of one job.
#[derive(Debug, Clone)]
pub(crate) struct JobDirs {
    /// The runner's builds directory (absolute).
    pub(crate) builds: PathBuf,
    /// `<builds>/<id>`: the checkout, where scripts run.
    pub(crate) project: PathBuf,
    /// `<builds>/<id>.tmp`: the job's private files.
    pub(crate) temp: PathBuf,
    /// The user (and group of the same number) that owns both and runs the job's processes;
    /// `None` for the runner's own.
    pub(crate) owner: Option<u32>,
}

impl JobDirs {
    pub(crate) fn new(builds: &Path, job_id: i64, owner: Option<u32>) -> JobDirs {
        JobDirs {
            builds: builds.to_owned(),
            project: builds.join(job_id.to_string()),
            temp: builds.join(format!("{job_id}.tmp")),
            owner,
        }
    }

    /// Makes both directories, empty (whatever was there before is removed).
    pub(crate) async fn create(&self) -> io::Result<()> {
        self.remove().await?;
        let mut builder = tokio::fs::DirBuilder::new();
        builder.mode(0o700);
        builder.create(&self.project).await?;
        builder.create(&self.temp).await?;
        if let Some(owner) = self.owner {
            for dir in [&self.project, &self.temp] {
                std::os::unix::fs::chown(dir, Some(owner), Some(owner))?;
            }
        }
        Ok(())
    }

    /// Removes both directories, if they are there.
    pub(crate) async fn remove(&self) -> io::Result<()> {
        for dir in [&self.project, &self.temp] {
            match tokio::fs::remove_dir_all(dir).await {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Creates the file at `path` among a job's files for the runner to write, fresh: whatever
/// stands there (a symbolic link the job left to lure the runner into writing elsewhere, say)
/// is removed first, and the file is created anew, never opened through a link. No process of
/// the job runs while the runner writes, so nothing can come between the two. With `owner`,
/// the job's user owns it.
pub(crate) fn create_fresh(path: &Path, mode: u32, owner: Option<u32>) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            return Err(io::Error::other(format!("{} is a directory", path.display())));
        }
        Ok(_) => std::fs::remove_file(path)?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let file = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    if let Some(owner) = owner {
        std::os::unix::fs::fchown(&file, Some(owner), Some(owner))?;
    }
    Ok(file)
}

/// [`create_fresh`], writing `contents`, off the async threads.
pub(crate) async fn write_fresh(path: &Path, contents: Vec<u8>, mode: u32, owner: Option<u32>) -> io::Result<()> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut file = create_fresh(&path, mode, owner)?;
        file.write_all(&contents)?;
        file.flush()
    })
    .await
    .map_err(io::Error::other)?
}

/// Removes the job directories a runner that crashed left in `builds`; returns how many.
/// Only names a job directory can have (`<digits>`, `<digits>.tmp`) are touched.
pub(crate) async fn remove_leftovers(builds: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let mut entries = tokio::fs::read_dir(builds).await?;
    while let Some(entry) = entries.next_entry().await? {
        let is_job_dir = entry.file_name().to_str().is_some_and(is_job_dir_name) && entry.file_type().await?.is_dir();
        if is_job_dir {
            tokio::fs::remove_dir_all(entry.path()).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn is_job_dir_name(name: &str) -> bool {
    let digits = name.strip_suffix(".tmp").unwrap_or(name);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_job_directory_names_are_leftovers() {
        assert!(is_job_dir_name("42"));
        assert!(is_job_dir_name("42.tmp"));
        assert!(!is_job_dir_name(".tmp"));
        assert!(!is_job_dir_name("cache"));
        assert!(!is_job_dir_name("42a"));
        assert!(!is_job_dir_name("-1"));
    }

    #[test]
    fn a_fresh_file_replaces_a_symbolic_link_instead_of_writing_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let lure = dir.path().join("script.sh");
        std::os::unix::fs::symlink(&victim, &lure).unwrap();
        std::io::Write::write_all(&mut create_fresh(&lure, 0o644, None).unwrap(), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&lure).unwrap(), "new");
        assert!(!std::fs::symlink_metadata(&lure).unwrap().file_type().is_symlink());
    }

    #[tokio::test]
    async fn leftovers_are_removed_and_the_rest_is_kept() {
        let builds = tempfile::tempdir().unwrap();
        for dir in ["12", "12.tmp", "cache"] {
            std::fs::create_dir(builds.path().join(dir)).unwrap();
        }
        std::fs::write(builds.path().join("12/file"), "x").unwrap();
        std::fs::write(builds.path().join("13"), "a file, not a job directory").unwrap();
        assert_eq!(remove_leftovers(builds.path()).await.unwrap(), 2);
        let mut left: Vec<_> =
            std::fs::read_dir(builds.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, ["13", "cache"]);
    }
}
