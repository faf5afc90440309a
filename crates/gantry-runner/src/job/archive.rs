//! Zip archives of a job's files, for artifacts and caches: which files `paths`, `exclude` and
//! `untracked` select in the checkout (GitLab's rules: paths relative to the project directory,
//! `*` within a name, `**` across directories, a directory taking everything under it), writing
//! them into an archive, and unpacking an archive into the checkout. Synchronous: run these on
//! a blocking thread.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path};

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use zip::write::SimpleFileOptions;

/// What a set of patterns selected.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Selection {
    /// Relative `/`-separated paths of files, symbolic links and (empty or matched) directories,
    /// sorted; directories end with `/`.
    pub(crate) entries: Vec<String>,
    /// How many entries each pattern of `paths` matched, in order (for the log).
    pub(crate) matches: Vec<(String, usize)>,
    /// Patterns refused (they leave the project directory).
    pub(crate) refused: Vec<String>,
}

fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).backslash_escape(true).build()
}

/// A pattern as written, made relative: `./build/` → `build`; `None` when it leaves the
/// project directory.
fn relative_pattern(pattern: &str) -> Option<String> {
    let trimmed = pattern.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_prefix("./").unwrap_or(trimmed);
    let path = Path::new(trimmed);
    if trimmed.is_empty() || path.is_absolute() || path.components().any(|c| matches!(c, Component::ParentDir)) {
        return None;
    }
    Some(trimmed.to_owned())
}

/// Every entry under `root` (but `.git`), relative, with whether it is a directory.
fn walk(root: &Path) -> io::Result<Vec<(String, bool)>> {
    let mut found = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(root.join(&dir))? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
            if dir.is_empty() && name == ".git" {
                continue;
            }
            let path = if dir.is_empty() { name } else { format!("{dir}/{name}") };
            let is_dir = entry.file_type()?.is_dir();
            if is_dir {
                pending.push(path.clone());
            }
            found.push((path, is_dir));
        }
    }
    found.sort();
    Ok(found)
}

/// The entries of the checkout at `root` that `paths` (and the `untracked` files) select, less
/// what `exclude` matches.
pub(crate) fn select(
    root: &Path,
    paths: &[String],
    exclude: &[String],
    untracked: &[String],
) -> Result<Selection, String> {
    let mut selection = Selection::default();
    let mut patterns = Vec::new();
    for pattern in paths {
        match relative_pattern(pattern) {
            Some(relative) => {
                patterns.push((pattern.clone(), glob(&relative).map_err(|e| e.to_string())?.compile_matcher()))
            }
            None => selection.refused.push(pattern.clone()),
        }
    }
    let mut excluded = GlobSetBuilder::new();
    for pattern in exclude.iter().filter_map(|p| relative_pattern(p)) {
        excluded.add(glob(&pattern).map_err(|e| e.to_string())?);
    }
    let excluded: GlobSet = excluded.build().map_err(|e| e.to_string())?;
    let all = walk(root).map_err(|error| format!("cannot read {}: {error}", root.display()))?;
    let mut counts = vec![0usize; patterns.len()];
    // Directories a pattern matched: everything under them is taken too.
    let mut taken_dirs: Vec<String> = Vec::new();
    for (path, is_dir) in &all {
        let under_taken =
            taken_dirs.iter().any(|dir| path.starts_with(dir.as_str()) && path[dir.len()..].starts_with('/'));
        let mut matched = under_taken;
        for (index, (_, matcher)) in patterns.iter().enumerate() {
            if matcher.is_match(path) {
                counts[index] += 1;
                matched = true;
            }
        }
        let is_untracked = untracked.iter().any(|file| file == path);
        if !(matched || is_untracked) || excluded.is_match(path) {
            continue;
        }
        if *is_dir {
            if !under_taken {
                taken_dirs.push(path.clone());
            }
            selection.entries.push(format!("{path}/"));
        } else {
            selection.entries.push(path.clone());
        }
    }
    selection.matches = patterns.into_iter().map(|(pattern, _)| pattern).zip(counts).collect();
    Ok(selection)
}

/// Writes the selected entries of `root` into a zip archive at `out`; its size.
pub(crate) fn write_zip(root: &Path, entries: &[String], out: &Path) -> io::Result<u64> {
    let file = crate::job::create_fresh(out, 0o600, None)?;
    let mut writer = zip::ZipWriter::new(io::BufWriter::new(file));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    for entry in entries {
        if let Some(dir) = entry.strip_suffix('/') {
            writer.add_directory(dir, options).map_err(io::Error::other)?;
            continue;
        }
        let path = root.join(entry);
        let metadata = fs::symlink_metadata(&path)?;
        if metadata.file_type().is_symlink() {
            let target = fs::read_link(&path)?;
            writer.add_symlink(entry, target.to_string_lossy(), options).map_err(io::Error::other)?;
        } else if metadata.is_file() {
            use std::os::unix::fs::PermissionsExt;
            writer
                .start_file(entry, options.unix_permissions(metadata.permissions().mode()))
                .map_err(io::Error::other)?;
            io::copy(&mut fs::File::open(&path)?, &mut writer)?;
        }
    }
    let mut inner = writer.finish().map_err(io::Error::other)?;
    inner.flush()?;
    drop(inner);
    Ok(fs::metadata(out)?.len())
}

/// How much an archive may unpack to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnpackLimit {
    /// Bytes of file contents, in all.
    pub(crate) bytes: u64,
    /// Files, directories and links.
    pub(crate) entries: usize,
}

/// Unpacks the zip archive at `archive` into `root`; how many entries it had. Nothing is
/// written outside `root`: names that would leave it are refused, and so are entries under a
/// symbolic link (a checkout may hold `dist -> /etc`), whatever the archive's own links say. An
/// archive that would unpack past `limit` fails at the entry that passes it. What is written
/// belongs to `owner` when given; modes keep only their permission bits.
pub(crate) fn extract_zip(
    archive: &Path,
    root: &Path,
    limit: UnpackLimit,
    owner: Option<u32>,
) -> Result<usize, String> {
    let file = fs::File::open(archive).map_err(|error| error.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|error| format!("not a zip archive: {error}"))?;
    let count = zip.len();
    if count > limit.entries {
        return Err(format!("it has {count} entries, more than the {} a job may unpack", limit.entries));
    }
    let mut left = limit.bytes;
    for index in 0..count {
        let mut entry = zip.by_index(index).map_err(|error| error.to_string())?;
        let name = entry.name().map(|name| name.into_owned()).unwrap_or_else(|_| format!("entry {index}"));
        let Some(relative) = entry.enclosed_name() else {
            return Err(format!("{name}: leaves the directory it is unpacked into"));
        };
        let parent = relative.parent().unwrap_or(Path::new(""));
        make_dirs_within(root, parent, owner).map_err(|error| format!("{name}: {error}"))?;
        let path = root.join(&relative);
        if entry.is_dir() {
            make_dirs_within(root, &relative, owner).map_err(|error| format!("{name}: {error}"))?;
            continue;
        }
        match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.is_dir() => return Err(format!("{name}: a directory is in the way")),
            Ok(_) => fs::remove_file(&path).map_err(|error| format!("{name}: {error}"))?,
            Err(_) => {}
        }
        if entry.is_symlink() {
            let mut target = String::new();
            io::Read::read_to_string(&mut io::Read::take(&mut entry, 4096), &mut target)
                .map_err(|error| format!("{name}: {error}"))?;
            std::os::unix::fs::symlink(&target, &path).map_err(|error| format!("{name}: {error}"))?;
        } else {
            use std::os::unix::fs::OpenOptionsExt;
            let mode = entry.unix_mode().unwrap_or(0o644) & 0o777;
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&path)
                .map_err(|error| format!("{name}: {error}"))?;
            let copied = io::copy(&mut io::Read::take(&mut entry, left.saturating_add(1)), &mut out)
                .map_err(|error| format!("{name}: {error}"))?;
            if copied > left {
                return Err(format!("it unpacks to more than the {} bytes a job may unpack", limit.bytes));
            }
            left -= copied;
        }
        if let Some(owner) = owner {
            std::os::unix::fs::lchown(&path, Some(owner), Some(owner)).map_err(|error| format!("{name}: {error}"))?;
        }
    }
    Ok(count)
}

/// Makes the directories of `relative` under `root` that are missing, refusing to pass through
/// anything that is not a directory (a symbolic link above all).
fn make_dirs_within(root: &Path, relative: &Path, owner: Option<u32>) -> io::Result<()> {
    let mut path = root.to_owned();
    for component in relative.components() {
        path.push(component);
        match fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.is_dir() => continue,
            Ok(_) => {
                return Err(io::Error::other(format!(
                    "{} is not a directory (a symbolic link is not followed)",
                    path.strip_prefix(root).unwrap_or(&path).display()
                )));
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&path)?;
                if let Some(owner) = owner {
                    std::os::unix::fs::lchown(&path, Some(owner), Some(owner))?;
                }
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            if file.ends_with('/') {
                fs::create_dir_all(path).unwrap();
                continue;
            }
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, file.as_bytes()).unwrap();
        }
        dir
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn directories_take_their_contents_and_globs_stay_within_a_name() {
        let dir = tree(&["build/app", "build/lib/a.so", "src/main.c", "src/deep/x.c", ".git/config", "top.c"]);
        let selection = select(dir.path(), &strings(&["build/", "src/*.c"]), &[], &[]).unwrap();
        assert_eq!(selection.entries, ["build/", "build/app", "build/lib/", "build/lib/a.so", "src/main.c"]);
        assert_eq!(selection.matches, [("build/".to_owned(), 1), ("src/*.c".to_owned(), 1)]);
        let deep = select(dir.path(), &strings(&["**/*.c"]), &[], &[]).unwrap();
        assert_eq!(deep.entries, ["src/deep/x.c", "src/main.c", "top.c"]);
    }

    #[test]
    fn excludes_untracked_files_and_escaping_patterns() {
        let dir = tree(&["out/a.txt", "out/b.o", "notes.txt"]);
        let selection =
            select(dir.path(), &strings(&["./out", "../etc", "/abs"]), &strings(&["**/*.o"]), &strings(&["notes.txt"]))
                .unwrap();
        assert_eq!(selection.entries, ["notes.txt", "out/", "out/a.txt"]);
        assert_eq!(selection.refused, ["../etc", "/abs"]);
    }

    const GENEROUS: UnpackLimit = UnpackLimit { bytes: 1 << 20, entries: 100 };

    #[test]
    fn an_archive_unpacks_to_the_same_files_and_links() {
        let dir = tree(&["dist/app.bin", "dist/empty/"]);
        std::os::unix::fs::symlink("app.bin", dir.path().join("dist/current")).unwrap();
        let selection = select(dir.path(), &strings(&["dist"]), &[], &[]).unwrap();
        let zip = dir.path().join("a.zip");
        assert!(write_zip(dir.path(), &selection.entries, &zip).unwrap() > 0);
        let target = tempfile::tempdir().unwrap();
        assert_eq!(extract_zip(&zip, target.path(), GENEROUS, None).unwrap(), 4);
        assert_eq!(fs::read(target.path().join("dist/app.bin")).unwrap(), b"dist/app.bin");
        assert_eq!(fs::read_link(target.path().join("dist/current")).unwrap(), Path::new("app.bin"));
        assert!(target.path().join("dist/empty").is_dir());
    }

    #[test]
    fn nothing_is_written_through_a_symbolic_link_already_in_the_checkout() {
        let dir = tree(&["dist/passwd"]);
        let zip = dir.path().join("a.zip");
        write_zip(dir.path(), &strings(&["dist/", "dist/passwd"]), &zip).unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), target.path().join("dist")).unwrap();
        let error = extract_zip(&zip, target.path(), GENEROUS, None).unwrap_err();
        assert!(error.contains("dist is not a directory"), "{error}");
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_archive_that_unpacks_past_the_limit_fails_and_stops_there() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("zeros"), vec![0u8; 200_000]).unwrap();
        fs::write(dir.path().join("more"), vec![0u8; 200_000]).unwrap();
        let zip = dir.path().join("bomb.zip");
        // Zeros deflate to almost nothing: the archive is small, what it unpacks to is not.
        assert!(write_zip(dir.path(), &strings(&["more", "zeros"]), &zip).unwrap() < 10_000);
        let target = tempfile::tempdir().unwrap();
        let limit = UnpackLimit { bytes: 250_000, entries: 100 };
        let error = extract_zip(&zip, target.path(), limit, None).unwrap_err();
        assert!(error.contains("more than the 250000 bytes"), "{error}");
        let written: u64 = fs::read_dir(target.path()).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
        assert!(written <= 250_001, "{written}");
        let few = UnpackLimit { bytes: 1 << 30, entries: 1 };
        assert!(extract_zip(&zip, tempfile::tempdir().unwrap().path(), few, None).unwrap_err().contains("2 entries"));
    }
}
