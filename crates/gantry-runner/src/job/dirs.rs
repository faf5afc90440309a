//! A job's directories under the builds directory: `<id>` (the project, `CI_PROJECT_DIR`) and
//! `<id>.tmp` beside it (file variables, the generated scripts, `HOME`), outside the project so
//! that nothing there ends up in artifacts or in the checkout.

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
}

impl JobDirs {
    pub(crate) fn new(builds: &Path, job_id: i64) -> JobDirs {
        JobDirs {
            builds: builds.to_owned(),
            project: builds.join(job_id.to_string()),
            temp: builds.join(format!("{job_id}.tmp")),
        }
    }

    /// Makes both directories, empty (whatever was there before is removed).
    pub(crate) async fn create(&self) -> io::Result<()> {
        self.remove().await?;
        let mut builder = tokio::fs::DirBuilder::new();
        builder.mode(0o700);
        builder.create(&self.project).await?;
        builder.create(&self.temp).await
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
