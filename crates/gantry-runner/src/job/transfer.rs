//! The steps around the scripts that move files between the job and the server, as GitLab's
//! runner runs them: `restore_cache` and `download_artifacts` (of the jobs it depends on)
//! before the script; `archive_cache` and `upload_artifacts_on_success|on_failure` after it.
//! Archives are zip files made on the runner's machine from the checkout (the Docker executor
//! bind-mounts the same directory), so both executors share this code.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use gantry_ci::protocol::{ArtifactSpec, CacheSpec, JobPayload};

use crate::client::{Refused, RequestError, ServerClient};
use crate::isolation::JobLimits;
use crate::job::archive::{self, Selection, UnpackLimit};
use crate::job::log_lines::{Colour, coloured, section_end, section_start};
use crate::job::step::Step;
use crate::job::{FailureReason, Outcome};

/// How many files, directories and links an artifacts or cache archive may unpack to.
const UNPACKED_ENTRIES: usize = 200_000;

/// Whether a `when` (`on_success`, `on_failure`, `always`) applies to a job that `succeeded`.
fn applies(when: &str, succeeded: bool) -> bool {
    match when {
        "always" => true,
        "on_failure" => !succeeded,
        _ => succeeded,
    }
}

/// Runs a blocking archive operation off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(work).await.map_err(|error| error.to_string())?
}

/// The files git does not track in the checkout (for `untracked: true`), relative paths. git
/// runs where the job's processes run (in the sandbox, as the job's user): the checkout's
/// `.git/config` is the job's to write, and some of its settings run programs.
async fn untracked_files(step: &Step<'_>) -> Result<Vec<String>, String> {
    let args: Vec<&OsStr> = ["-c", "safe.directory=*", "-c", "core.fsmonitor=false", "ls-files", "--others", "-z"]
        .into_iter()
        .map(OsStr::new)
        .collect();
    let mut command = step
        .isolation
        .command(OsStr::new("git"), &args, step.dirs)
        .await
        .map_err(|error| format!("cannot run git ls-files: {error}"))?;
    let environment = crate::job::environment::for_git(step.dirs, crate::job::environment::runner_env);
    let output = command
        .env_clear()
        .envs(&environment)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|error| format!("cannot run git ls-files: {error}"))?;
    if !output.status.success() {
        return Err(format!("git ls-files failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(output
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

/// Selects the files of `paths`/`exclude`/`untracked` in the checkout and logs what matched.
async fn select_files(
    step: &mut Step<'_>,
    paths: &[String],
    exclude: &[String],
    untracked: bool,
) -> Result<Selection, String> {
    let project = step.dirs.project.clone();
    let untracked = if untracked { untracked_files(step).await? } else { Vec::new() };
    let (paths, exclude) = (paths.to_vec(), exclude.to_vec());
    let selection = blocking(move || archive::select(&project, &paths, &exclude, &untracked)).await?;
    for pattern in &selection.refused {
        let line = format!("WARNING: {pattern}: not inside the project directory; ignored");
        step.log.line(&coloured(Colour::Yellow, &line)).await;
    }
    for (pattern, count) in &selection.matches {
        let line = match count {
            0 => coloured(
                Colour::Yellow,
                &format!(
                    "WARNING: {pattern}: no matching files. Ensure that the path is relative to the project directory"
                ),
            ),
            count => format!("{pattern}: found {count} matching files and directories"),
        };
        step.log.line(&line).await;
    }
    Ok(selection)
}

/// Zips the selection into `<temp>/<name>`.
async fn zip_selection(step: &Step<'_>, selection: Selection, name: &str) -> Result<PathBuf, String> {
    let (project, out) = (step.dirs.project.clone(), step.dirs.temp.join(name));
    let path = out.clone();
    blocking(move || archive::write_zip(&project, &selection.entries, &out).map_err(|e| e.to_string())).await?;
    Ok(path)
}

async fn unzip_into_project(step: &Step<'_>, archive: &Path) -> Result<usize, String> {
    let (archive, project, owner) = (archive.to_owned(), step.dirs.project.clone(), step.dirs.owner);
    let disk = step.isolation.limits().unwrap_or(JobLimits::STANDARD).disk;
    let limit = UnpackLimit { bytes: disk, entries: UNPACKED_ENTRIES };
    blocking(move || archive::extract_zip(&archive, &project, limit, owner)).await
}

fn describe(result: &Result<Result<impl Sized, Refused>, RequestError>) -> String {
    match result {
        Ok(Ok(_)) => "ok".to_owned(),
        Ok(Err(refused)) => format!("{} {}", refused.status, refused.message),
        Err(error) => error.to_string(),
    }
}

/// `restore_cache`: each cache the job pulls, by its key or else its fallback keys. A cache
/// that cannot be restored is a warning, never a failure (GitLab's behaviour).
pub(crate) async fn restore_caches(step: &mut Step<'_>, client: &ServerClient, payload: &JobPayload) {
    let pulled: Vec<&CacheSpec> = payload.cache.iter().filter(|cache| cache.policy != "push").collect();
    if pulled.is_empty() {
        return;
    }
    step.log.line(&section_start("restore_cache", "Restoring cache")).await;
    for cache in pulled {
        let mut restored = false;
        for key in std::iter::once(&cache.key).chain(&cache.fallback_keys) {
            step.log.line(&format!("Checking cache for {key}...")).await;
            let file = step.dirs.temp.join("cache-download.zip");
            let result = client.download_cache(payload.id, &payload.token, key, &file).await;
            match &result {
                Ok(Ok(_)) => match unzip_into_project(step, &file).await {
                    Ok(count) => {
                        step.log
                            .line(&coloured(Colour::Green, &format!("Successfully extracted cache ({count} entries)")))
                            .await;
                        restored = true;
                    }
                    Err(error) => {
                        step.log
                            .line(&coloured(Colour::Yellow, &format!("WARNING: cannot extract the cache: {error}")))
                            .await;
                    }
                },
                Ok(Err(refused)) if refused.status == reqwest::StatusCode::NOT_FOUND => {
                    step.log.line(&coloured(Colour::Yellow, &format!("WARNING: no cache saved under {key} yet"))).await;
                }
                _ => {
                    let line = format!("WARNING: cannot download the cache: {}", describe(&result));
                    step.log.line(&coloured(Colour::Yellow, &line)).await;
                }
            }
            let _ = tokio::fs::remove_file(&file).await;
            if restored {
                break;
            }
        }
        if !restored {
            step.log.line("Failed to extract cache").await;
        }
    }
    step.log.line(&section_end("restore_cache")).await;
}

/// `download_artifacts`: the archives of the jobs this one depends on, unpacked into the
/// checkout. A failed download fails the job (its script would run without its inputs).
pub(crate) async fn download_artifacts(
    step: &mut Step<'_>,
    client: &ServerClient,
    payload: &JobPayload,
) -> Result<(), Outcome> {
    let with_files: Vec<_> = payload.dependencies.iter().filter(|d| d.artifacts_file.is_some()).collect();
    if with_files.is_empty() {
        return Ok(());
    }
    step.log.line(&section_start("download_artifacts", "Downloading artifacts")).await;
    let mut outcome = Ok(());
    for dependency in with_files {
        step.log.line(&format!("Downloading artifacts for {} ({})...", dependency.name, dependency.id)).await;
        let file = step.dirs.temp.join("artifacts-download.zip");
        let result = client.download_artifact(dependency.id, &payload.token, &file).await;
        let unpacked = match &result {
            Ok(Ok(_)) => unzip_into_project(step, &file).await,
            _ => Err(format!("cannot download them: {}", describe(&result))),
        };
        let _ = tokio::fs::remove_file(&file).await;
        match unpacked {
            Ok(count) => step.log.line(&format!("Downloaded and extracted {count} entries")).await,
            Err(error) => {
                let message = format!("artifacts of {} ({}): {error}", dependency.name, dependency.id);
                step.log.line(&coloured(Colour::Red, &format!("ERROR: {message}"))).await;
                // A refusal, or an archive that cannot be unpacked, is the jobs' doing; a server
                // that cannot be reached is not.
                let reason = match &result {
                    Err(_) => FailureReason::RunnerSystemFailure,
                    Ok(_) => FailureReason::ScriptFailure,
                };
                outcome = Err(Outcome::failed(reason, None, &message));
                break;
            }
        }
    }
    step.log.line(&section_end("download_artifacts")).await;
    outcome
}

/// `archive_cache`: each cache the job pushes, when its `when` matches the job's result.
/// Failures are warnings.
pub(crate) async fn save_caches(step: &mut Step<'_>, client: &ServerClient, payload: &JobPayload, succeeded: bool) {
    let pushed: Vec<&CacheSpec> =
        payload.cache.iter().filter(|cache| cache.policy != "pull" && applies(&cache.when, succeeded)).collect();
    if pushed.is_empty() {
        return;
    }
    let section = if succeeded { "archive_cache" } else { "archive_cache_on_failure" };
    step.log.line(&section_start(section, "Saving cache")).await;
    for cache in pushed {
        step.log.line(&format!("Creating cache {}...", cache.key)).await;
        let selected = select_files(step, &cache.paths, &[], cache.untracked).await;
        let archived = match selected {
            Ok(selection) if selection.entries.is_empty() => {
                step.log.line(&coloured(Colour::Yellow, "WARNING: no files to cache; nothing saved")).await;
                continue;
            }
            Ok(selection) => zip_selection(step, selection, "cache-upload.zip").await,
            Err(error) => Err(error),
        };
        let result = match archived {
            Ok(file) => {
                let result = client.upload_cache(payload.id, &payload.token, &cache.key, &file).await;
                let _ = tokio::fs::remove_file(&file).await;
                match result {
                    Ok(Ok(())) => Ok(()),
                    other => Err(describe(&other)),
                }
            }
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => step.log.line(&coloured(Colour::Green, "Created cache")).await,
            Err(error) => {
                step.log.line(&coloured(Colour::Yellow, &format!("WARNING: cannot save the cache: {error}"))).await;
            }
        }
    }
    step.log.line(&section_end(section)).await;
}

/// `upload_artifacts_on_success|on_failure`: the archive and reports whose `when` matches the
/// job's result. A refused or failed upload fails the job, as GitLab's runner does.
pub(crate) async fn upload_artifacts(
    step: &mut Step<'_>,
    client: &ServerClient,
    payload: &JobPayload,
    succeeded: bool,
) -> Result<(), Outcome> {
    let uploads: Vec<&ArtifactSpec> = payload.artifacts.iter().filter(|spec| applies(&spec.when, succeeded)).collect();
    if uploads.is_empty() {
        return Ok(());
    }
    let (section, title) = if succeeded {
        ("upload_artifacts_on_success", "Uploading artifacts for successful job")
    } else {
        ("upload_artifacts_on_failure", "Uploading artifacts for failed job")
    };
    step.log.line(&section_start(section, title)).await;
    let mut outcome = Ok(());
    for spec in uploads {
        step.log.line(&format!("Uploading artifacts ({})...", spec.artifact_type)).await;
        let selection = match select_files(step, &spec.paths, &spec.exclude, spec.untracked).await {
            Ok(selection) => selection,
            Err(error) => {
                outcome = Err(Outcome::system_failure(&format!("cannot collect the artifacts: {error}")));
                break;
            }
        };
        if selection.entries.is_empty() {
            let line = format!("WARNING: no files to upload as {}", spec.artifact_type);
            step.log.line(&coloured(Colour::Yellow, &line)).await;
            continue;
        }
        let file = match zip_selection(step, selection, "artifacts-upload.zip").await {
            Ok(file) => file,
            Err(error) => {
                outcome = Err(Outcome::system_failure(&format!("cannot archive the artifacts: {error}")));
                break;
            }
        };
        let result =
            client.upload_artifact(payload.id, &payload.token, &spec.artifact_type, spec.expire_in, &file).await;
        let _ = tokio::fs::remove_file(&file).await;
        let line = format!("Uploading artifacts as \"{}\" to coordinator... {}", spec.artifact_type, describe(&result));
        match result {
            Ok(Ok(())) => step.log.line(&line).await,
            Ok(Err(refused)) => {
                step.log.line(&coloured(Colour::Red, &format!("ERROR: {line}"))).await;
                let message = format!("the server refused the {} artifacts: {}", spec.artifact_type, refused.message);
                outcome = Err(Outcome::failed(FailureReason::ScriptFailure, None, &message));
                break;
            }
            Err(error) => {
                step.log.line(&coloured(Colour::Red, &format!("ERROR: {line}"))).await;
                outcome = Err(Outcome::system_failure(&format!("cannot upload the artifacts: {error}")));
                break;
            }
        }
    }
    step.log.line(&section_end(section)).await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_follows_the_jobs_result() {
        assert!(applies("on_success", true) && !applies("on_success", false));
        assert!(applies("on_failure", false) && !applies("on_failure", true));
        assert!(applies("always", true) && applies("always", false));
    }
}
