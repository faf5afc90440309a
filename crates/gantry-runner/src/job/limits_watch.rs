//! Watches a sandboxed job's use of what its limits cannot cap by themselves, four times a
//! second (less often when its files are many, so the watch costs a job at most a twentieth of
//! a core): the bytes its directories hold (an rlimit caps one file, not a thousand) and how many
//! threads its user runs (the process limit counts threads: at it a fork bomb is contained, but
//! would sit there until the timeout). A job past either is stopped with the reason, and fails.
//!
//! The watcher may be root and the job is not, but the job can change its directories under
//! the walk at any moment: the walk never follows a link, and holds a bounded number of
//! descriptors (see [`Walk`]).

use std::collections::VecDeque;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};

use crate::isolation::JobLimits;
use crate::job::JobDirs;
use crate::process::{JobStopper, OverLimit, StopReason};

/// The shortest wait between two looks: a job on a fast disk writes a gigabyte in a second.
const MIN_INTERVAL: Duration = Duration::from_millis(250);
/// A look that took `t` is followed by a wait of at least this many times `t`.
const WAIT_PER_LOOK: u32 = 19;
/// How long a job may stay at its process limit before it is stopped: a build may touch the
/// limit for a moment.
const AT_PROCESS_LIMIT_FOR: Duration = Duration::from_secs(3);

/// Watches the job in `dirs` until dropped (abort the task); stops it through `stopper` when it
/// passes `limits`.
pub(crate) async fn watch(dirs: JobDirs, limits: JobLimits, stopper: JobStopper) {
    let mut at_process_limit_since: Option<tokio::time::Instant> = None;
    let mut wait = MIN_INTERVAL;
    loop {
        tokio::time::sleep(wait).await;
        let (project, temp) = (dirs.project.clone(), dirs.temp.clone());
        let owner = dirs.owner;
        let started = tokio::time::Instant::now();
        let measured =
            tokio::task::spawn_blocking(move || (job_disk_usage(&project, &temp, limits.disk), owner.map(threads_of)))
                .await;
        wait = MIN_INTERVAL.max(started.elapsed() * WAIT_PER_LOOK);
        let Ok((bytes, threads)) = measured else { return };
        if bytes > limits.disk {
            stopper.stop(StopReason::OverLimit(OverLimit::Disk(limits.disk)));
            return;
        }
        let at_limit = threads.is_some_and(|count| count + 1 >= limits.processes);
        let since = match (at_limit, at_process_limit_since) {
            (false, _) => None,
            (true, None) => Some(tokio::time::Instant::now()),
            (true, Some(since)) => Some(since),
        };
        at_process_limit_since = since;
        if since.is_some_and(|since| since.elapsed() >= AT_PROCESS_LIMIT_FOR) {
            stopper.stop(StopReason::OverLimit(OverLimit::Processes(limits.processes)));
            return;
        }
    }
}

/// Whether the job in `dirs` holds more than its disk limit now. Asked once more when its
/// scripts have ended: a fast disk lets a job write far past the limit between two of the
/// watcher's looks, and finish before the next.
pub(crate) async fn over_disk_limit(dirs: &JobDirs, limits: JobLimits) -> bool {
    let (project, temp) = (dirs.project.clone(), dirs.temp.clone());
    tokio::task::spawn_blocking(move || job_disk_usage(&project, &temp, limits.disk) > limits.disk)
        .await
        .unwrap_or(false)
}

/// Bytes the job's two directories take, counted until they pass `cap`.
fn job_disk_usage(project: &Path, temp: &Path, cap: u64) -> u64 {
    let bytes = disk_usage(project, cap).unwrap_or(0);
    if bytes > cap {
        return bytes;
    }
    bytes.saturating_add(disk_usage(temp, cap - bytes).unwrap_or(0))
}

/// How many directories' descriptors a walk of the job's files keeps open at most, besides its
/// root's and the one it lists: a job can nest directories thousands of levels deep, and one
/// descriptor per level would run the runner out of them.
const HELD_DIRECTORIES: usize = 64;

/// How the walk opens a directory: never through a symbolic link, so one the job swaps in for a
/// directory fails to open (and was counted as the link it is).
const DIRECTORY: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

/// Bytes of disk the files under `root` take, counted until they pass `cap`: past it the result
/// is some number above `cap`, as there is no need to count the rest of a job already over.
fn disk_usage(root: &Path, cap: u64) -> io::Result<u64> {
    let mut walk = Walk::start(root, cap)?;
    while walk.step() {}
    Ok(walk.total)
}

/// A walk of a directory tree the job can change under it at any moment. It goes by descriptors,
/// never by paths: each directory is opened from its parent's descriptor by its name alone (see
/// [`DIRECTORY`]), and sizes are read with `statat` without following links, so the walk never
/// leaves the tree it was started on.
///
/// It goes depth first. A directory is listed at once (its entries counted, the names of its
/// subdirectories kept), and its descriptor kept only while some of its subdirectories are still
/// to walk, at most [`HELD_DIRECTORIES`] of them (the deepest). When the walk climbs back to a
/// directory whose descriptor it let go, it opens it again the same way, name by name from the
/// deepest descriptor it still holds (the root's at worst). If the job moved or removed it in
/// the meantime, what is left of it goes uncounted this time: the job is measured again in a
/// second.
struct Walk {
    cap: u64,
    /// Bytes counted so far.
    total: u64,
    root: OwnedFd,
    /// The directories from the root (first) to the one being walked (last).
    path: Vec<WalkedDirectory>,
    /// Descriptors of directories of `path` by their index there, in that order.
    held: VecDeque<(usize, OwnedFd)>,
}

struct WalkedDirectory {
    /// Its name in its parent (empty for the root).
    name: CString,
    /// Its subdirectories still to walk.
    subdirectories: Vec<CString>,
}

impl Walk {
    /// Opens `root` (not through a link) and counts what it holds.
    fn start(root: &Path, cap: u64) -> io::Result<Walk> {
        let root = rustix::fs::open(root, DIRECTORY, Mode::empty())?;
        let mut total = 0;
        let subdirectories = list(&root, &mut total, cap);
        let path = vec![WalkedDirectory { name: CString::default(), subdirectories }];
        Ok(Walk { cap, total, root, path, held: VecDeque::new() })
    }

    /// Walks into the next subdirectory, or climbs back out of a directory walked through;
    /// `false` once all is counted or the count is past the cap.
    fn step(&mut self) -> bool {
        if self.total > self.cap {
            return false;
        }
        let Some(depth) = self.path.len().checked_sub(1) else { return false };
        if self.path[depth].subdirectories.is_empty() {
            self.path.pop();
            self.let_go(depth);
            return true;
        }
        if !self.reopen(depth) {
            return true;
        }
        let Some(name) = self.path[depth].subdirectories.pop() else { return true };
        let opened = rustix::fs::openat(self.descriptor(depth), name.as_c_str(), DIRECTORY, Mode::empty());
        if self.path[depth].subdirectories.is_empty() {
            self.let_go(depth);
        }
        let Ok(directory) = opened else { return true };
        let subdirectories = list(&directory, &mut self.total, self.cap);
        if !subdirectories.is_empty() {
            self.path.push(WalkedDirectory { name, subdirectories });
            self.hold(depth + 1, directory);
        }
        true
    }

    /// The descriptor of `path[depth]`, which must be held (or be the root).
    fn descriptor(&self, depth: usize) -> BorrowedFd<'_> {
        match self.held.back() {
            Some((held, directory)) if *held == depth => directory.as_fd(),
            _ => self.root.as_fd(),
        }
    }

    /// Makes sure the descriptor of `path[depth]` (the last) is held, opening it again from the
    /// deepest one held if need be; when that fails, drops the directories it could not reach
    /// from `path` and says `false`.
    fn reopen(&mut self, depth: usize) -> bool {
        let deepest = self.held.back().map_or(0, |(held, _)| *held);
        if depth == 0 || deepest == depth {
            return true;
        }
        let mut parent: Option<OwnedFd> = None;
        for level in deepest + 1..=depth {
            let from = parent.as_ref().map_or_else(|| self.descriptor(deepest), AsFd::as_fd);
            let Ok(directory) = rustix::fs::openat(from, self.path[level].name.as_c_str(), DIRECTORY, Mode::empty())
            else {
                self.path.truncate(level);
                return false;
            };
            if let Some(parent) = parent.replace(directory)
                && !self.path[level - 1].subdirectories.is_empty()
            {
                self.hold(level - 1, parent);
            }
        }
        if let Some(directory) = parent {
            self.hold(depth, directory);
        }
        true
    }

    fn hold(&mut self, depth: usize, directory: OwnedFd) {
        if self.held.len() >= HELD_DIRECTORIES {
            self.held.pop_front();
        }
        self.held.push_back((depth, directory));
    }

    fn let_go(&mut self, depth: usize) {
        if self.held.back().is_some_and(|(held, _)| *held == depth) {
            self.held.pop_back();
        }
    }
}

/// Adds to `total` the bytes the entries of `directory` take (until it passes `cap`), and says
/// which of them are directories. A link is counted as itself, not as what it points to.
fn list(directory: &OwnedFd, total: &mut u64, cap: u64) -> Vec<CString> {
    let mut subdirectories = Vec::new();
    let Ok(entries) = Dir::read_from(directory) else { return subdirectories };
    for entry in entries {
        let Ok(entry) = entry else { break };
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        let Ok(stat) = rustix::fs::statat(directory, name, AtFlags::SYMLINK_NOFOLLOW) else { continue };
        *total = total.saturating_add(u64::try_from(stat.st_blocks).unwrap_or(0).saturating_mul(512));
        if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
            subdirectories.push(name.to_owned());
        }
        if *total > cap {
            break;
        }
    }
    subdirectories
}

/// How many threads the user `uid` has, as its process limit (`RLIMIT_NPROC`) counts threads: a
/// root runner's jobs each have a user of their own.
fn threads_of(uid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit())))
        .filter(|entry| entry.metadata().is_ok_and(|metadata| metadata.uid() == uid))
        .filter_map(|entry| threads_in(&entry.path()))
        .fold(0, u64::saturating_add)
}

/// How many threads the process of `/proc/<pid>` runs, in one `stat`: the kernel gives its
/// `task` directory (an entry per thread) a link count of 2 plus the threads.
fn threads_in(process: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let task = std::fs::symlink_metadata(process.join("task")).ok()?;
    Some(task.nlink().saturating_sub(2).max(1))
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
        let used = disk_usage(dir.path(), u64::MAX).unwrap();
        assert!((100_000..1_000_000).contains(&used), "{used}");
    }

    #[test]
    fn a_directory_swapped_for_a_link_during_the_walk_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("data"), vec![1u8; 100_000]).unwrap();
        let mut walk = Walk::start(dir.path(), u64::MAX).unwrap();
        // Listed as a directory, then replaced by a link before the walk goes in.
        std::fs::remove_dir_all(&sub).unwrap();
        std::os::unix::fs::symlink("/usr", &sub).unwrap();
        while walk.step() {}
        assert!(walk.total < 100_000, "{}", walk.total);

        let linked_root = dir.path().join("root");
        std::os::unix::fs::symlink("/usr", &linked_root).unwrap();
        assert!(disk_usage(&linked_root, u64::MAX).is_err());
    }

    #[test]
    fn disk_usage_stops_counting_past_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..20 {
            let sub = dir.path().join(n.to_string());
            std::fs::create_dir(&sub).unwrap();
            std::fs::write(sub.join("data"), vec![1u8; 100_000]).unwrap();
        }
        let all = disk_usage(dir.path(), u64::MAX).unwrap();
        assert!(all >= 2_000_000, "{all}");
        let capped = disk_usage(dir.path(), 250_000).unwrap();
        assert!((250_000..500_000).contains(&capped), "{capped}");
    }

    #[test]
    fn a_deep_tree_is_counted_with_few_descriptors_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut level = dir.path().to_owned();
        for _ in 0..HELD_DIRECTORIES * 3 {
            // A side branch at each level keeps each level's descriptor wanted on the way back.
            std::fs::create_dir(level.join("side")).unwrap();
            std::fs::write(level.join("side/data"), vec![1u8; 4096]).unwrap();
            level.push("d");
            std::fs::create_dir(&level).unwrap();
        }
        std::fs::write(level.join("data"), vec![1u8; 100_000]).unwrap();
        let mut walk = Walk::start(dir.path(), u64::MAX).unwrap();
        let mut steps = 0;
        while walk.step() {
            assert!(walk.held.len() <= HELD_DIRECTORIES);
            steps += 1;
        }
        let files = 100_000 + HELD_DIRECTORIES as u64 * 3 * 4096;
        assert!(walk.total >= files, "{} of {files} after {steps} steps", walk.total);
    }

    #[test]
    fn threads_of_counts_threads_not_processes() {
        let process = Path::new("/proc").join(std::process::id().to_string());
        // Eight threads that wait for this one to have counted.
        let counted = std::sync::Arc::new(std::sync::Barrier::new(9));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let counted = counted.clone();
                std::thread::spawn(move || counted.wait())
            })
            .collect();
        let ours = threads_in(&process).unwrap();
        assert!(ours > 8, "{ours}");
        let task_entries = std::fs::read_dir(process.join("task")).unwrap().count();
        assert!(task_entries > 8, "{task_entries}");
        assert!(threads_of(rustix::process::geteuid().as_raw()) >= ours);
        counted.wait();
        for thread in threads {
            thread.join().unwrap();
        }
    }
}
