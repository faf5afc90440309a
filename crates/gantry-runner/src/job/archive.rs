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
    let file = fs::File::create(out)?;
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

/// Unpacks the zip archive at `archive` into `root` (names that would leave it are refused by
/// the zip reader); how many entries it had.
pub(crate) fn extract_zip(archive: &Path, root: &Path) -> Result<usize, String> {
    let file = fs::File::open(archive).map_err(|error| error.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|error| format!("not a zip archive: {error}"))?;
    let count = zip.len();
    zip.extract(root).map_err(|error| error.to_string())?;
    Ok(count)
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

    #[test]
    fn an_archive_unpacks_to_the_same_files_and_links() {
        let dir = tree(&["dist/app.bin", "dist/empty/"]);
        std::os::unix::fs::symlink("app.bin", dir.path().join("dist/current")).unwrap();
        let selection = select(dir.path(), &strings(&["dist"]), &[], &[]).unwrap();
        let zip = dir.path().join("a.zip");
        assert!(write_zip(dir.path(), &selection.entries, &zip).unwrap() > 0);
        let target = tempfile::tempdir().unwrap();
        assert_eq!(extract_zip(&zip, target.path()).unwrap(), 4);
        assert_eq!(fs::read(target.path().join("dist/app.bin")).unwrap(), b"dist/app.bin");
        assert_eq!(fs::read_link(target.path().join("dist/current")).unwrap(), Path::new("app.bin"));
        assert!(target.path().join("dist/empty").is_dir());
    }
}
