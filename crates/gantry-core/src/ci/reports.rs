//! Reports read from a job's artifacts when they are uploaded: JUnit test results (shown in a
//! pipeline's Tests tab and `/test_report`, failures compared with the target branch's latest
//! finished pipeline) and dotenv variables (handed to the jobs that depend on the job).

use gantry_types::{JobId, PipelineId};
use std::collections::{BTreeMap, BTreeSet};

use gantry_blob::Digest;
use gantry_ci::reports::junit::{CaseStatus, TestSuite};
use gantry_ci::reports::{dotenv, junit};
use gantry_db::Conn;
use gantry_db::ci::{artifacts, pipelines};
use serde::{Deserialize, Serialize};

use super::{JobRow, PipelineRow};
use crate::policy::{ProjectAccess, ProjectAction, authorize_project};
use crate::{Actor, CoreError, CoreResult, ProjectRow};

/// The most a report archive may unpack to.
const MAX_REPORT_SIZE: u64 = 30 << 20;

/// A job's JUnit results as stored: the suites read, and the files that could not be.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredTestReport {
    pub suites: Vec<TestSuite>,
    #[serde(default)]
    pub errors: Vec<String>,
}

/// The counts of a set of test cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TestCounts {
    pub total: usize,
    pub success: usize,
    pub failed: usize,
    pub error: usize,
    pub skipped: usize,
    /// Seconds.
    pub time: f64,
}

impl TestCounts {
    fn add(&mut self, suite: &TestSuite) {
        for case in &suite.cases {
            self.total += 1;
            match case.status {
                CaseStatus::Success => self.success += 1,
                CaseStatus::Failed => self.failed += 1,
                CaseStatus::Error => self.error += 1,
                CaseStatus::Skipped => self.skipped += 1,
            }
        }
        self.time += suite.total_time;
    }

    fn add_counts(&mut self, other: &TestCounts) {
        self.total += other.total;
        self.success += other.success;
        self.failed += other.failed;
        self.error += other.error;
        self.skipped += other.skipped;
        self.time += other.time;
    }

    fn of_suites(suites: &[TestSuite]) -> TestCounts {
        let mut counts = TestCounts::default();
        for suite in suites {
            counts.add(suite);
        }
        counts
    }

    fn from_row(row: &artifacts::TestCountsRow) -> TestCounts {
        let count = |n: i64| usize::try_from(n).unwrap_or(0);
        TestCounts {
            total: count(row.total),
            success: count(row.success),
            failed: count(row.failed),
            error: count(row.error),
            skipped: count(row.skipped),
            time: row.time_us as f64 / 1e6,
        }
    }

    fn to_row(self, suite_error: Option<String>) -> artifacts::TestCountsRow {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        artifacts::TestCountsRow {
            total: count(self.total),
            success: count(self.success),
            failed: count(self.failed),
            error: count(self.error),
            skipped: count(self.skipped),
            time_us: (self.time * 1e6).round() as i64,
            suite_error,
        }
    }
}

/// The test results of one job of a pipeline (GitLab shows one suite per job).
#[derive(Debug, Clone)]
pub struct JobTestReport {
    pub job_id: JobId,
    pub job_name: String,
    pub counts: TestCounts,
    pub suites: Vec<TestSuite>,
    pub errors: Vec<String>,
}

/// The counts of one job's test results.
#[derive(Debug, Clone)]
pub struct JobTestSummary {
    pub job_id: JobId,
    pub job_name: String,
    pub counts: TestCounts,
    /// The report's files that could not be read, with why.
    pub suite_error: Option<String>,
}

/// A pipeline's test counts (tabs and summaries), read without the cases.
#[derive(Debug, Clone, Default)]
pub struct PipelineTestSummary {
    pub counts: TestCounts,
    pub jobs: Vec<JobTestSummary>,
}

/// A pipeline's test results.
#[derive(Debug, Clone, Default)]
pub struct PipelineTestReport {
    pub counts: TestCounts,
    pub jobs: Vec<JobTestReport>,
    /// The pipeline the failures are compared with (its id and number), if there is one.
    pub compared_with: Option<(PipelineId, i64)>,
    /// Cases failing here that did not fail there: `(job name, classname, name)`.
    pub new_failures: BTreeSet<(String, String, String)>,
    /// Cases that failed there and pass here.
    pub fixed: Vec<(String, String, String)>,
}

impl PipelineTestReport {
    pub fn is_new_failure(&self, job: &str, classname: &str, name: &str) -> bool {
        self.new_failures.contains(&(job.to_owned(), classname.to_owned(), name.to_owned()))
    }
}

fn failing(status: CaseStatus) -> bool {
    matches!(status, CaseStatus::Failed | CaseStatus::Error)
}

/// The cases of a report as `(job name, classname, name) → status`.
fn case_statuses(report: &PipelineTestReport) -> BTreeMap<(String, String, String), CaseStatus> {
    let mut statuses = BTreeMap::new();
    for job in &report.jobs {
        for case in job.suites.iter().flat_map(|suite| &suite.cases) {
            statuses.insert((job.job_name.clone(), case.classname.clone(), case.name.clone()), case.status);
        }
    }
    statuses
}

/// The variables of a dotenv report's files (`(name, content)`), as GitLab reads them: a later
/// value of a key replaces the earlier one, an invalid file or too many variables refuse it.
pub fn dotenv_variables_of(files: Vec<(String, Vec<u8>)>) -> CoreResult<Vec<(String, String)>> {
    let mut variables: Vec<(String, String)> = Vec::new();
    for (name, content) in files {
        let parsed =
            dotenv::parse(&content).map_err(|error| CoreError::invalid("dotenv", format!("report {name}: {error}")))?;
        for (key, value) in parsed {
            variables.retain(|(known, _)| *known != key);
            variables.push((key, value));
        }
    }
    if variables.len() > dotenv::MAX_VARIABLES {
        return Err(CoreError::invalid(
            "dotenv",
            format!("reports may set at most {} variables", dotenv::MAX_VARIABLES),
        ));
    }
    Ok(variables)
}

impl super::Ci<'_> {
    async fn report_files(&self, digest: &Digest) -> CoreResult<Vec<(String, Vec<u8>)>> {
        self.read_blob_blocking(digest, |file| super::artifacts::archive_files(file, MAX_REPORT_SIZE)).await
    }

    /// Reads the JUnit files of an uploaded report; a file that cannot be read is recorded as
    /// an error of the report (as GitLab shows it), not refused.
    pub(crate) async fn read_junit_report(&self, job: &JobRow, digest: &Digest) -> CoreResult<()> {
        let mut report = StoredTestReport::default();
        for (name, content) in self.report_files(digest).await? {
            match junit::parse(&content) {
                Ok(suites) => report.suites.extend(suites),
                Err(error) => report.errors.push(format!("{name}: {error}")),
            }
        }
        let counts = TestCounts::of_suites(&report.suites);
        let suite_error = (!report.errors.is_empty()).then(|| report.errors.join("; "));
        let json = serde_json::to_string(&report).map_err(|error| CoreError::Internal(Box::new(error)))?;
        let mut conn = self.db.conn().await?;
        Ok(artifacts::put_test_report(&mut conn, job.id, &json, &counts.to_row(suite_error)).await?)
    }

    /// Reads the dotenv files of an uploaded report into the job's variables; an invalid file
    /// refuses the upload (and so fails the job), as GitLab does.
    pub(crate) async fn read_dotenv_report(&self, job: &JobRow, digest: &Digest) -> CoreResult<()> {
        let variables = dotenv_variables_of(self.report_files(digest).await?)?;
        let sealed: Vec<(String, String)> = variables
            .into_iter()
            .map(|(key, value)| {
                let sealed = self.secrets.seal(&dotenv_context(job.id, &key), &value);
                (key, sealed)
            })
            .collect();
        let mut conn = self.db.conn().await?;
        Ok(artifacts::put_dotenv(&mut conn, job.id, &sealed).await?)
    }

    /// The dotenv variables of the jobs `from` of `pipeline` (in their order; a later job's
    /// value wins). One query for the pipeline: this runs on every job request.
    pub(crate) async fn dotenv_variables(
        &self,
        conn: &mut Conn,
        pipeline: PipelineId,
        from: &[JobId],
    ) -> CoreResult<Vec<(String, String)>> {
        if from.is_empty() {
            return Ok(Vec::new());
        }
        let mut by_job: std::collections::HashMap<JobId, Vec<(String, String)>> = std::collections::HashMap::new();
        for (job, key, sealed) in artifacts::pipeline_dotenv(conn, pipeline).await? {
            by_job.entry(job).or_default().push((key, sealed));
        }
        let mut variables = Vec::new();
        for job in from {
            for (key, sealed) in by_job.remove(job).unwrap_or_default() {
                let value = self
                    .secrets
                    .open(&dotenv_context(*job, &key), &sealed)
                    .map_err(|error| CoreError::Internal(Box::new(error)))?;
                variables.push((key, value));
            }
        }
        Ok(variables)
    }

    /// A pipeline's test counts, per job and in all (tabs and summaries).
    pub async fn pipeline_test_summary(
        &self,
        access: &ProjectAccess,
        pipeline_id: PipelineId,
    ) -> CoreResult<PipelineTestSummary> {
        access.require(ProjectAction::ReadPipelines)?;
        let mut conn = self.db.conn().await?;
        let pipeline = self.project_pipeline(&mut conn, access.project(), pipeline_id).await?;
        let mut summary = PipelineTestSummary::default();
        for (job_id, job_name, row) in artifacts::pipeline_test_counts(&mut conn, pipeline.id).await? {
            let counts = TestCounts::from_row(&row);
            summary.counts.add_counts(&counts);
            summary.jobs.push(JobTestSummary { job_id, job_name, counts, suite_error: row.suite_error });
        }
        summary.jobs.sort_by(|a, b| a.job_name.cmp(&b.job_name));
        Ok(summary)
    }

    /// A pipeline and its test results, compared with the latest finished pipeline of the
    /// project's default branch (the one before it, when this pipeline is on that branch).
    pub async fn pipeline_test_report(
        &self,
        actor: &Actor,
        project: &ProjectRow,
        pipeline_id: PipelineId,
    ) -> CoreResult<(PipelineRow, PipelineTestReport)> {
        let mut conn = self.db.conn().await?;
        authorize_project(&mut conn, actor, project, ProjectAction::ReadPipelines).await?;
        let pipeline = self.project_pipeline(&mut conn, project, pipeline_id).await?;
        let mut report = test_report_of(&mut conn, pipeline.id).await?;
        let base =
            pipelines::finished_pipeline_before(&mut conn, project.id, &project.default_branch, pipeline_id).await?;
        if let Some(base) = base {
            let before = case_statuses(&test_report_of(&mut conn, base.id).await?);
            for (key, status) in case_statuses(&report) {
                let was_failing = before.get(&key).copied().is_some_and(failing);
                if failing(status) && !was_failing {
                    report.new_failures.insert(key);
                } else if was_failing && status == CaseStatus::Success {
                    report.fixed.push(key);
                }
            }
            report.compared_with = Some((base.id, base.iid));
        }
        Ok((pipeline, report))
    }
}

/// The test results of a pipeline's jobs (their latest attempts), without comparison.
async fn test_report_of(conn: &mut Conn, pipeline: PipelineId) -> CoreResult<PipelineTestReport> {
    let mut report = PipelineTestReport::default();
    for (job_id, job_name, json) in artifacts::pipeline_test_reports(conn, pipeline).await? {
        let stored: StoredTestReport = serde_json::from_str(&json).unwrap_or_else(|error| StoredTestReport {
            suites: Vec::new(),
            errors: vec![format!("the stored report cannot be read: {error}")],
        });
        let counts = TestCounts::of_suites(&stored.suites);
        report.counts.add_counts(&counts);
        report.jobs.push(JobTestReport { job_id, job_name, counts, suites: stored.suites, errors: stored.errors });
    }
    report.jobs.sort_by(|a, b| a.job_name.cmp(&b.job_name));
    Ok(report)
}

fn dotenv_context(job: JobId, key: &str) -> String {
    format!("ci_dotenv:{job}:{key}")
}
