//! The runner's side of a job: log pieces (masked, also across pieces), state updates and
//! heartbeats, the end of a job (coverage, automatic retries), and the job's dependencies for its
//! payload (`gantry_ci::payload` builds the rest of it). People's side is in [`super::actions`].

use gantry_ci::protocol;
use gantry_db::Conn;
use gantry_db::ci::{artifacts, jobs, pipelines, traces};
use gantry_types::{CiStatus, JobId, When};

use super::create::StoredJob;
use super::process::latest;
use super::{JOB_TOKEN_PREFIX, JobRow};
use crate::secret::digest;
use crate::{CoreError, CoreResult};

/// The most a single log upload may carry (bytes).
pub const MAX_TRACE_PIECE: usize = 4 << 20;
/// The most log a job may write (bytes); more is refused and the job fails.
pub const MAX_TRACE_SIZE: i64 = 64 << 20;

/// Whether `key` is a valid variable name (letters, digits, `_`).
pub fn is_variable_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What became of a log upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceAppend {
    /// Stored; the server now has this many bytes; the job's status.
    Accepted { size: i64, status: CiStatus },
    /// The upload did not start where the server's log ends (it has `size` bytes).
    WrongOffset { size: i64 },
}

/// The jobs whose artifacts a job downloads: its `dependencies` (or, by default, every job of
/// the earlier stages; with `needs`, the needed jobs), their latest attempts.
pub(crate) async fn dependency_jobs(
    conn: &mut Conn,
    job: &JobRow,
    stored: &StoredJob,
) -> CoreResult<Vec<protocol::Dependency>> {
    let mut dependencies = Vec::new();
    for need in &stored.elsewhere {
        if let Some(other) = job_elsewhere(conn, job, stored, need).await? {
            let archive =
                artifacts::job_artifacts(conn, other.id).await?.into_iter().find(|a| a.file_type == "archive");
            dependencies.push(protocol::Dependency {
                id: other.id.0,
                name: other.name.clone(),
                artifacts_file: archive.map(|archive| protocol::ArtifactsFile {
                    filename: archive.file_name,
                    size: u64::try_from(archive.size).unwrap_or(0),
                }),
            });
        }
    }
    if stored.dependencies.is_empty() {
        return Ok(dependencies);
    }
    let all = jobs::pipeline_jobs(conn, job.pipeline_id).await?;
    // One query for the pipeline's archives rather than one per dependency: this runs on every
    // job request.
    let mut archives: std::collections::HashMap<JobId, artifacts::ArtifactRow> =
        artifacts::pipeline_artifacts(conn, job.pipeline_id)
            .await?
            .into_iter()
            .filter(|artifact| artifact.file_type == "archive")
            .map(|artifact| (artifact.job_id, artifact))
            .collect();
    let here = latest(&all).into_iter().filter(|other| stored.dependencies.contains(&other.name)).map(|other| {
        protocol::Dependency {
            id: other.id.0,
            name: other.name.clone(),
            artifacts_file: archives.remove(&other.id).map(|archive| protocol::ArtifactsFile {
                filename: archive.file_name,
                size: u64::try_from(archive.size).unwrap_or(0),
            }),
        }
    });
    dependencies.extend(here);
    Ok(dependencies)
}

/// The job of another pipeline a `needs:pipeline` or `needs:project` names, when there is one
/// the job may take artifacts from: a successful job of its pipeline's parent (GitLab allows no
/// other pipeline), or the latest successful job of another project's ref whose pipelines the
/// job's token may read (`policy::authorize_job_token`: the runner downloads with it).
/// Variables in the names are the pipeline's own (a parent passes `PARENT_PIPELINE_ID:
/// $CI_PIPELINE_ID` that way), the job's file variables and a few predefined ones.
async fn job_elsewhere(
    conn: &mut Conn,
    job: &JobRow,
    stored: &StoredJob,
    need: &gantry_ci::keywords::Need,
) -> CoreResult<Option<JobRow>> {
    let Some(pipeline) = pipelines::get_pipeline(conn, job.pipeline_id).await? else { return Ok(None) };
    let own = super::bridges::pipeline_own_variables(&pipeline.variables);
    let lookup = |name: &str| {
        own.iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .or_else(|| stored.variables.iter().rev().find(|v| v.key == name).map(|v| v.value.clone()))
            .or_else(|| match name {
                "CI_PIPELINE_ID" => Some(pipeline.id.0.to_string()),
                "CI_COMMIT_REF_NAME" => Some(pipeline.ref_name.clone()),
                "CI_COMMIT_BRANCH" => (!pipeline.is_tag).then(|| pipeline.ref_name.clone()),
                "CI_COMMIT_TAG" => pipeline.is_tag.then(|| pipeline.ref_name.clone()),
                "CI_COMMIT_SHA" => Some(pipeline.sha.clone()),
                _ => None,
            })
    };
    let expand = |text: &str| gantry_ci::vars::expand(text, &lookup, false);
    if let Some(id) = &need.pipeline {
        let Ok(id) = expand(id).trim().parse::<i64>() else { return Ok(None) };
        let parent = match pipeline.upstream_job_id {
            Some(bridge) => jobs::get_job(conn, bridge).await?.map(|bridge| bridge.pipeline_id),
            None => None,
        };
        if parent != Some(gantry_types::PipelineId(id)) {
            return Ok(None);
        }
        let all = jobs::pipeline_jobs(conn, gantry_types::PipelineId(id)).await?;
        return Ok(latest(&all)
            .into_iter()
            .find(|other| other.name == need.job && other.status == CiStatus::Success)
            .cloned());
    }
    let Some((project, reference)) = &need.project else { return Ok(None) };
    let (path, reference) = (expand(project), expand(reference));
    let Some(other) = gantry_db::manage::projects::find_project_by_full_path(conn, path.trim()).await? else {
        return Ok(None);
    };
    // The runner downloads it with this job's token: offer only what that token may read.
    let reads = crate::policy::authorize_job_token(
        conn,
        job.project_id,
        job.user_id.or(pipeline.user_id),
        &other,
        crate::policy::ProjectAction::ReadPipelines,
    )
    .await;
    if reads.is_err() {
        return Ok(None);
    }
    for is_tag in [false, true] {
        if let Some(found) = jobs::latest_successful_job(conn, other.id, &reference, is_tag, &need.job).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Reads a coverage percentage from a job's log as GitLab does: the job's `coverage` pattern
/// (its body, without the slashes) is matched against each line on its own, so `^` and `$` hold
/// at the line's ends, from the last line back; on the first line it matches, the last match's
/// last group (the whole match when the pattern has no group) gives its first number. The
/// number is kept when it is a percentage.
pub(crate) fn coverage_from(pattern: &str, log: &[u8]) -> Option<f64> {
    static NUMBER: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"[0-9]+(\.[0-9]+)?").expect("a valid pattern"));
    let regex = regex::Regex::new(pattern).ok()?;
    for line in log.split(|b| *b == b'\n').rev() {
        let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line));
        let Some(found) = regex.captures_iter(&line).last() else { continue };
        // GitLab gives up at a last group that took no part in the match; the lines before may
        // still have a number.
        let Some(text) = found.get(found.len() - 1) else { continue };
        if let Some(number) = NUMBER.find(text.as_str()) {
            return number.as_str().parse::<f64>().ok().filter(|n| (0.0..=100.0).contains(n));
        }
    }
    None
}

impl super::Ci<'_> {
    /// The running job a job token belongs to; `Forbidden` when the token is unknown or the
    /// job is no longer running (GitLab's 403, which tells a runner to stop).
    pub async fn authenticate_job_token(&self, token: &str) -> CoreResult<JobRow> {
        if !token.starts_with(JOB_TOKEN_PREFIX) {
            return Err(CoreError::Unauthorized);
        }
        let mut conn = self.db.conn().await?;
        jobs::running_job_by_token(&mut conn, &digest(token))
            .await?
            .ok_or_else(|| CoreError::Forbidden("the job is not running".to_owned()))
    }

    pub(super) async fn job_for_runner(&self, job_id: JobId, token: &str) -> CoreResult<JobRow> {
        let job = self.authenticate_job_token(token).await?;
        if job.id != job_id {
            return Err(CoreError::Forbidden("the token belongs to another job".to_owned()));
        }
        Ok(job)
    }

    /// A runner's log piece for bytes `start..` of the job's log.
    pub async fn append_trace(&self, job_id: JobId, token: &str, start: i64, piece: &[u8]) -> CoreResult<TraceAppend> {
        let job = self.job_for_runner(job_id, token).await?;
        if piece.len() > MAX_TRACE_PIECE {
            return Err(CoreError::invalid("body", format!("a log piece may carry at most {MAX_TRACE_PIECE} bytes")));
        }
        if start != job.trace_size {
            return Ok(TraceAppend::WrongOffset { size: job.trace_size });
        }
        let length = i64::try_from(piece.len()).unwrap_or(i64::MAX);
        if job.trace_size + length > MAX_TRACE_SIZE {
            return Err(CoreError::invalid("body", "the job's log is larger than the limit"));
        }
        let masker = self.job_masker(&job).await?;
        let mut tx = self.db.begin().await?;
        let held = match traces::reserve_trace(&mut tx, job_id, start, length).await? {
            Ok(held) => self.open_trace_held(job_id, held.as_deref())?,
            Err(size) => return Ok(TraceAppend::WrongOffset { size }),
        };
        let (stored, held) = masker.push_after(&held, piece);
        traces::store_trace_piece(&mut tx, job_id, start, &stored, self.seal_trace_held(job_id, &held).as_deref())
            .await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        self.ci.trace_grew(job_id);
        Ok(TraceAppend::Accepted { size: start + length, status: job.status })
    }

    /// The masker of a running job's log: its masked variables and token. Made when a runner
    /// takes the job; made again (without the token, which the runner masks too) by a server
    /// that did not see that, because it restarted or another server handed the job out.
    async fn job_masker(&self, job: &JobRow) -> CoreResult<gantry_ci::mask::Masker> {
        if let Some(masker) = self.ci.maskers().get(&job.id) {
            return Ok(masker.clone());
        }
        let masker = self.masker_after_restart(job).await?;
        let mut maskers = self.ci.maskers();
        // Jobs that ended on other servers never leave this cache by their end: keep it small.
        if maskers.len() >= super::MASKERS_KEPT {
            maskers.clear();
        }
        Ok(maskers.entry(job.id).or_insert(masker).clone())
    }

    /// What masking held back of the job's log, kept sealed with the job: it may be the start
    /// of a secret.
    fn seal_trace_held(&self, job: JobId, held: &[u8]) -> Option<String> {
        (!held.is_empty()).then(|| self.secrets.seal(&format!("trace_held:{job}"), &hex::encode(held)))
    }

    fn open_trace_held(&self, job: JobId, sealed: Option<&str>) -> CoreResult<Vec<u8>> {
        let Some(sealed) = sealed else { return Ok(Vec::new()) };
        let hex = self
            .secrets
            .open(&format!("trace_held:{job}"), sealed)
            .map_err(|error| CoreError::Internal(Box::new(error)))?;
        hex::decode(hex).map_err(|error| CoreError::Internal(Box::new(error)))
    }

    async fn masker_after_restart(&self, job: &JobRow) -> CoreResult<gantry_ci::mask::Masker> {
        let mut conn = self.db.conn().await?;
        let project = gantry_db::manage::projects::find_project_by_id(&mut conn, job.project_id)
            .await?
            .ok_or(CoreError::NotFound("project"))?;
        let pipeline =
            pipelines::get_pipeline(&mut conn, job.pipeline_id).await?.ok_or(CoreError::NotFound("pipeline"))?;
        let protected = super::ref_is_protected(&mut conn, project.id, &pipeline.ref_name, pipeline.is_tag).await?;
        drop(conn);
        // Every environment scope: masking too much is harmless, too little is not.
        let secrets: Vec<String> = self
            .variables_for_job(&project, protected, None)
            .await?
            .into_iter()
            .chain(self.all_scoped_variables(&project).await?)
            .filter(|v| v.masked)
            .map(|v| v.value)
            .collect();
        Ok(gantry_ci::mask::Masker::new(secrets))
    }

    /// A runner reports the job's state: `running` (a heartbeat), `success` or `failed`.
    /// Returns the job's status afterwards.
    pub async fn update_job_from_runner(&self, job_id: JobId, update: &protocol::JobUpdate) -> CoreResult<CiStatus> {
        let job = self.job_for_runner(job_id, &update.token).await?;
        let mut conn = self.db.conn().await?;
        match CiStatus::parse(&update.state) {
            Some(CiStatus::Running) => {
                jobs::heartbeat(&mut conn, job_id).await?;
                Ok(job.status)
            }
            Some(state @ (CiStatus::Success | CiStatus::Failed)) => {
                let reason = (state == CiStatus::Failed).then(|| {
                    update
                        .failure_reason
                        .as_deref()
                        .filter(|r| protocol::FAILURE_REASONS.contains(r))
                        .unwrap_or("unknown_failure")
                });
                let exit_code = update.exit_code.map(i64::from);
                drop(conn);
                self.finish_running_job(&job, state, reason, exit_code).await?;
                Ok(state)
            }
            _ => Err(CoreError::invalid("state", format!("'{}' is not running, success or failed", update.state))),
        }
    }

    /// Ends a running job: flushes its log, reads its coverage, retries it when its `retry`
    /// says so, and moves the pipeline on.
    pub(crate) async fn finish_running_job(
        &self,
        job: &JobRow,
        state: CiStatus,
        reason: Option<&str>,
        exit_code: Option<i64>,
    ) -> CoreResult<()> {
        let masker = self.job_masker(job).await?;
        self.ci.maskers().remove(&job.id);
        let mut tx = self.db.begin().await?;
        let held = traces::take_trace_held(&mut tx, job.id).await?;
        let tail = masker.finish_after(&self.open_trace_held(job.id, held.as_deref())?);
        traces::append_tail(&mut tx, job.id, &tail).await?;
        let finished = jobs::finish_job(&mut tx, job.id, state, reason, exit_code).await?;
        if finished {
            self.enqueue(&mut tx, &crate::background::Work::ArchiveJobLog { job: job.id }).await?;
        }
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        if !finished {
            return Ok(());
        }
        self.wake_background();
        let mut conn = self.db.conn().await?;
        let definition = jobs::job_definition(&mut conn, job.id).await?.unwrap_or_default();
        let stored: Option<StoredJob> = serde_json::from_str(&definition).ok();
        if let Some(pattern) = stored.as_ref().and_then(|s| s.definition.coverage.as_deref()) {
            let log = self.read_whole_trace(&mut conn, job.id).await?;
            if let Some(coverage) = coverage_from(pattern, &log) {
                jobs::set_coverage(&mut conn, job.id, coverage).await?;
            }
        }
        drop(conn);
        self.ci.job_changed(job.id);
        self.ci.trace_grew(job.id);
        tracing::info!(job = %job.id, %state, reason = reason.unwrap_or(""), "job finished");
        if state == CiStatus::Failed
            && let Some(stored) = &stored
            && should_retry(&stored.definition.retry, job.attempt, reason.unwrap_or("unknown_failure"), exit_code)
        {
            self.new_attempt(job, None).await?;
        }
        self.process_pipeline(job.pipeline_id).await
    }

    async fn read_whole_trace(&self, conn: &mut Conn, job: JobId) -> CoreResult<Vec<u8>> {
        let mut log = Vec::new();
        let mut from = 0;
        loop {
            let pieces = traces::read_trace(conn, job, from, 256).await?;
            let Some((last, _)) = pieces.last() else { break };
            from = last + 1;
            for (_, bytes) in pieces {
                log.extend_from_slice(&bytes);
            }
        }
        Ok(log)
    }

    /// Creates the next attempt of a finished job (in `created`, decided by the pipeline).
    pub(crate) async fn new_attempt(&self, job: &JobRow, user: Option<gantry_types::UserId>) -> CoreResult<JobId> {
        let mut tx = self.db.begin().await?;
        let definition = jobs::job_definition(&mut tx, job.id).await?.ok_or(CoreError::NotFound("job"))?;
        let id = jobs::insert_job(
            &mut tx,
            &jobs::NewJob {
                pipeline_id: job.pipeline_id,
                project_id: job.project_id,
                name: &job.name,
                stage: &job.stage,
                stage_idx: job.stage_idx,
                // A played manual job's next attempt runs without waiting for a person again.
                run_when: if job.run_when == When::Manual { When::OnSuccess } else { job.run_when },
                allow_failure: &job.allow_failure,
                start_in: job.start_in,
                needs: job.needs.as_deref(),
                definition: &definition,
                tags: &job.tags,
                interruptible: job.interruptible,
                resource_group: job.resource_group.as_deref(),
                attempt: job.attempt + 1,
                user_id: user.or(job.user_id),
                bridge: job.bridge,
            },
        )
        .await?;
        jobs::mark_retried(&mut tx, job.id).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        Ok(id)
    }
}

/// Whether a failed attempt is retried automatically (`retry: max/when/exit_codes`).
fn should_retry(retry: &gantry_ci::keywords::Retry, attempt: i64, reason: &str, exit_code: Option<i64>) -> bool {
    if attempt > i64::from(retry.max) {
        return false;
    }
    let reason_ok = retry.when.is_empty() || retry.when.iter().any(|w| w == "always" || w == reason);
    let code_ok =
        retry.exit_codes.is_empty() || exit_code.is_some_and(|c| retry.exit_codes.iter().any(|e| i64::from(*e) == c));
    reason_ok && code_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_takes_the_last_matching_line() {
        let log = b"Coverage: 10.5%\nsomething\nCoverage: 87.25%\n";
        assert_eq!(coverage_from(r"Coverage: \d+\.\d+%", log), Some(87.25));
        assert_eq!(coverage_from(r"nothing", log), None);
        assert_eq!(coverage_from(r"something", log), None, "a match without a number gives none");
        // The last line with a number wins even when later lines match without one.
        assert_eq!(coverage_from(r"Coverage: \S*", b"Coverage: 50%\nCoverage: none\n"), Some(50.0));
    }

    /// The example patterns of GitLab's code coverage documentation, against their tools' output.
    #[test]
    fn coverage_reads_the_documented_tools_output() {
        let cases: &[(&str, &str, &str, f64)] = &[
            (
                "simplecov",
                r"\(\d+.\d+\%\) covered",
                "Coverage report generated for RSpec to /app/coverage. 1530 / 1722 LOC (88.85%) covered.\n",
                88.85,
            ),
            (
                "pytest-cov",
                r"TOTAL.*? (100(?:\.0+)?\%|[1-9]?\d(?:\.\d+)?\%)$",
                "Name    Stmts   Miss  Cover\r\n---\r\napp.py     10      2    80%\r\nTOTAL      40      3    92%\r\n",
                92.0,
            ),
            (
                "scoverage",
                r"(?i)total.*? (100(?:\.0+)?\%|[1-9]?\d(?:\.\d+)?\%)$",
                "[info] Statement coverage.: 71.43%\n[info] Total coverage 71.43%\n",
                71.43,
            ),
            (
                "phpunit",
                r"^\s*Lines:\s*\d+.\d+\%",
                "Code Coverage Report:\n  Classes: 50.00% (1/2)\n  Lines:   83.33% (10/12)\n",
                83.33,
            ),
            (
                "gcovr",
                r"^TOTAL.*\s+(\d+\%)$",
                "File   Lines    Exec  Cover\nsrc/a.c   20   15    75%\nTOTAL     40   30    75%\n",
                75.0,
            ),
            (
                "tap",
                r"^Statements\s*:\s*([^%]+)",
                "=== Coverage summary ===\nStatements   : 97.3% ( 73/75 )\nBranches     : 90% ( 9/10 )\n",
                97.3,
            ),
            (
                "jest",
                r"All files[^\|]*\|[^\|]*\s+([\d\.]+)",
                "----------|---------|----------|\nFile      | % Stmts | % Branch |\nAll files |   91.67 |       75 |\n",
                91.67,
            ),
            ("excoveralls", r"\[TOTAL\]\s+(\d+\.\d+)%", "----------------\n[TOTAL]  86.7%\n", 86.7),
            ("mix", r"\d+.\d+\%\s+\|\s+Total", "Percentage | Module\n-----------|--------\n    75.00% | Total\n", 75.0),
            ("jacoco", r"Total.*?([0-9]{1,3})%", "Total 1,234 of 5,678 81% 12 of 40 70%\n", 81.0),
            (
                "go test",
                r"coverage: \d+.\d+% of statements",
                "ok  \texample.com/app\t0.012s\tcoverage: 64.3% of statements\n",
                64.3,
            ),
            ("opencover", r"(Visited Points).*\((.*)\)", "Visited Points 123 of 200 (61.5)\n", 61.5),
            ("dotnet", r"Total\s*\|\s*(\d+(?:\.\d+)?)", "| Module | Line |\n| Total  | 77.5% |\n", 77.5),
            (
                "tarpaulin",
                r"^\d+.\d+% coverage",
                "|| Tested/Total Lines:\n68.42% coverage, 13/19 lines covered\n",
                68.42,
            ),
            ("pester", r"Covered (\d+\.\d+%)", "Covered 95.12% / 75%. 205 analyzed Commands in 4 Files.\n", 95.12),
            ("pest", r"Statement coverage[A-Za-z\.*]\s*:\s*([^%]+)", "Statement coverage.: 66.6%\n", 66.6),
        ];
        for (tool, pattern, log, expected) in cases {
            assert_eq!(coverage_from(pattern, log.as_bytes()), Some(*expected), "{tool}: {pattern}");
        }
        // The anchors hold at each line's ends, not the log's: a later line does not hide a
        // match that ends its line.
        let log = b"TOTAL   40   3   92%\ndone in 3.1s\n";
        assert_eq!(coverage_from(r"TOTAL.*? (\d+%)$", log), Some(92.0));
        assert_eq!(coverage_from(r"^done", log), None, "a match without a number");
        assert_eq!(coverage_from(r"(?i)^total.* (\d+)%$", b"total 1 2 40%\n"), Some(40.0));
        assert_eq!(coverage_from(r"Coverage: (\d+)", b"Coverage: 250\n"), None, "not a percentage");
    }

    #[test]
    fn retries_follow_max_when_and_exit_codes() {
        let retry =
            gantry_ci::keywords::Retry { max: 2, when: vec!["runner_system_failure".into()], exit_codes: vec![] };
        assert!(should_retry(&retry, 1, "runner_system_failure", None));
        assert!(should_retry(&retry, 2, "runner_system_failure", None));
        assert!(!should_retry(&retry, 3, "runner_system_failure", None));
        assert!(!should_retry(&retry, 1, "script_failure", Some(1)));
        let by_code = gantry_ci::keywords::Retry { max: 1, when: vec![], exit_codes: vec![137] };
        assert!(should_retry(&by_code, 1, "script_failure", Some(137)));
        assert!(!should_retry(&by_code, 1, "script_failure", Some(1)));
    }
}
