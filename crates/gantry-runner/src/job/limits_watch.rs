//! Watches a sandboxed job's use of what its limits cannot cap by themselves, once a second:
//! the bytes its directories hold (an rlimit caps one file, not a thousand) and how many
//! processes it has (at its process limit a fork bomb is contained, but would sit there until
//! the timeout). A job past either is stopped with the reason, and fails.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::isolation::JobLimits;
use crate::job::JobDirs;
use crate::process::{JobStopper, OverLimit, StopReason};

const INTERVAL: Duration = Duration::from_secs(1);
/// How many checks in a row find the job at its process limit before it is stopped: a build
/// may touch the limit for a moment.
const CHECKS_AT_PROCESS_LIMIT: u32 = 3;

/// Watches the job in `dirs` until dropped (abort the task); stops it through `stopper` when it
/// passes `limits`.
pub(crate) async fn watch(dirs: JobDirs, limits: JobLimits, stopper: JobStopper) {
    let mut at_process_limit = 0;
    loop {
        tokio::time::sleep(INTERVAL).await;
        let (project, temp) = (dirs.project.clone(), dirs.temp.clone());
        let owner = dirs.owner;
        let measured = tokio::task::spawn_blocking(move || {
            let bytes = disk_usage(&project).unwrap_or(0) + disk_usage(&temp).unwrap_or(0);
            (bytes, owner.map(processes_of))
        })
        .await;
        let Ok((bytes, processes)) = measured else { return };
        if bytes > limits.disk {
            stopper.stop(StopReason::OverLimit(OverLimit::Disk(limits.disk)));
            return;
        }
        at_process_limit = match processes {
            Some(count) if count + 1 >= limits.processes => at_process_limit + 1,
            _ => 0,
        };
        if at_process_limit >= CHECKS_AT_PROCESS_LIMIT {
            stopper.stop(StopReason::OverLimit(OverLimit::Processes(limits.processes)));
            return;
        }
    }
}

/// Bytes of disk the files under `root` take (links are not followed).
fn disk_usage(root: &Path) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut pending: Vec<PathBuf> = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(metadata) = entry.metadata() else { continue };
            total += metadata.blocks() * 512;
            if metadata.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    Ok(total)
}

/// How many processes the user `uid` has: a root runner's jobs each have a user of their own.
fn processes_of(uid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    let count = entries
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit())))
        .filter(|entry| entry.metadata().is_ok_and(|metadata| metadata.uid() == uid))
        .count();
    u64::try_from(count).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_usage_counts_what_is_below_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/data"), vec![1u8; 100_000]).unwrap();
        std::os::unix::fs::symlink("/usr", dir.path().join("usr")).unwrap();
        let used = disk_usage(dir.path()).unwrap();
        assert!((100_000..1_000_000).contains(&used), "{used}");
    }
}
