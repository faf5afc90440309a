//! Code quality reports (`artifacts:reports:codequality`): the Code Climate JSON files jobs
//! upload, read when a pipeline's Code quality tab is looked at. A report is an array of issues
//! (`description`, `check_name`, `fingerprint`, `severity`, `location` with `path` and
//! `lines.begin` or `positions.begin.line`); what an issue lacks is shown as missing rather
//! than refused, a report that is not such an array or is too large is named with why, and the
//! rest of the pipeline's reports are still shown.

use std::collections::BTreeMap;
use std::sync::Mutex;

use gantry_blob::Digest;
use gantry_db::ci::{artifacts, jobs};
use gantry_types::{JobId, PipelineId};
use serde_json::Value;

use super::PipelineRow;
use crate::policy::{ProjectAccess, ProjectAction};
use crate::{CoreError, CoreResult};

/// The artifact type of code quality reports.
pub const CODEQUALITY: &str = "codequality";
/// The most one job's report may unpack to; a larger one is not read (and the page says so).
pub const MAX_REPORT_BYTES: u64 = 10 << 20;
/// The most findings a pipeline's tab lists (all are counted).
pub const MAX_LISTED_FINDINGS: usize = 5_000;
/// How many reports' counts are remembered for the pipeline page's tab.
const COUNTS_KEPT: usize = 1024;

/// Findings counted per report archive, by the digest of its content (which never changes
/// under a digest), so that the pipeline page's tab does not unpack reports on every look.
static COUNTED: Mutex<BTreeMap<String, Option<usize>>> = Mutex::new(BTreeMap::new());

/// How serious a finding is, most serious first (Code Climate's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Blocker,
    Critical,
    Major,
    Minor,
    Info,
    /// Missing, or a name Code Climate does not have.
    Unknown,
}

impl Severity {
    /// Every severity, most serious first.
    pub const ALL: [Severity; 6] =
        [Severity::Blocker, Severity::Critical, Severity::Major, Severity::Minor, Severity::Info, Severity::Unknown];

    fn parse(text: &str) -> Severity {
        match text.trim().to_ascii_lowercase().as_str() {
            "blocker" => Severity::Blocker,
            "critical" => Severity::Critical,
            "major" => Severity::Major,
            "minor" => Severity::Minor,
            "info" => Severity::Info,
            _ => Severity::Unknown,
        }
    }

    /// The name people see (`major`).
    pub fn label(self) -> &'static str {
        match self {
            Severity::Blocker => "blocker",
            Severity::Critical => "critical",
            Severity::Major => "major",
            Severity::Minor => "minor",
            Severity::Info => "info",
            Severity::Unknown => "unknown",
        }
    }
}

/// One issue of a report, as read (each field may be missing).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    pub description: Option<String>,
    pub check_name: Option<String>,
    pub fingerprint: Option<String>,
    /// The file, relative to the repository's root.
    pub path: Option<String>,
    /// The first line it is about.
    pub line: Option<u64>,
}

/// What one job's report gave: how many findings, or why it could not be read.
#[derive(Debug, Clone)]
pub struct JobCodeQuality {
    pub job_id: JobId,
    pub job_name: String,
    pub findings: usize,
    /// Why (part of) the report could not be read, when it could not.
    pub errors: Vec<String>,
}

/// A finding with the job that reported it.
#[derive(Debug, Clone)]
pub struct PipelineFinding {
    pub job_id: JobId,
    pub job_name: String,
    pub finding: Finding,
}

/// A pipeline's code quality: its jobs' findings, most serious first.
#[derive(Debug, Clone, Default)]
pub struct PipelineCodeQuality {
    /// At most [`MAX_LISTED_FINDINGS`], most serious first, then by file and line.
    pub findings: Vec<PipelineFinding>,
    /// Every finding, counted by severity (in [`Severity::ALL`]'s order).
    pub counts: [usize; 6],
    /// The jobs that uploaded a report.
    pub jobs: Vec<JobCodeQuality>,
}

impl PipelineCodeQuality {
    /// How many findings there are in all.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// The text of a JSON value that should be a string (numbers are written out; anything else
/// is missing).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A line number, written as a number or a string of digits.
fn line_number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn finding(issue: &serde_json::Map<String, Value>) -> Finding {
    let location = issue.get("location").and_then(Value::as_object);
    let path = location.and_then(|l| text(l.get("path"))).map(|path| path.trim_start_matches("./").to_owned());
    let line = location.and_then(|l| {
        line_number(l.get("lines").and_then(|lines| lines.get("begin"))).or_else(|| {
            let begin = l.get("positions").and_then(|p| p.get("begin"));
            line_number(begin.and_then(|b| b.get("line")))
        })
    });
    Finding {
        severity: text(issue.get("severity")).map_or(Severity::Unknown, |s| Severity::parse(&s)),
        description: text(issue.get("description")),
        check_name: text(issue.get("check_name")),
        fingerprint: text(issue.get("fingerprint")),
        path,
        line,
    }
}

/// Reads one Code Climate report: a JSON array of issues. Entries that are not objects are
/// left out and counted in the error; a file that is not a JSON array is an error.
pub fn parse_report(content: &[u8]) -> Result<(Vec<Finding>, Option<String>), String> {
    let value: Value = serde_json::from_slice(content).map_err(|error| format!("is not valid JSON ({error})"))?;
    let Value::Array(items) = value else {
        return Err("is not a JSON array of issues (Code Climate's format)".to_owned());
    };
    let mut findings = Vec::with_capacity(items.len());
    let mut skipped = 0;
    for item in &items {
        match item.as_object() {
            // Code Climate engines may also write `{"type": "measurement"}` entries; only
            // issues are findings.
            Some(issue)
                if issue.get("type").and_then(Value::as_str).is_none_or(|t| t.eq_ignore_ascii_case("issue")) =>
            {
                findings.push(finding(issue));
            }
            Some(_) => {}
            None => skipped += 1,
        }
    }
    let note = match skipped {
        0 => None,
        1 => Some("1 entry is not an issue (a JSON object) and was left out".to_owned()),
        _ => Some(format!("{skipped} entries are not issues (JSON objects) and were left out")),
    };
    Ok((findings, note))
}

/// The findings of a report archive's files, and what could not be read.
fn read_archive(file: std::fs::File) -> (Vec<Finding>, Vec<String>) {
    let files = match super::artifacts::archive_files(file, MAX_REPORT_BYTES) {
        Ok(files) => files,
        Err(CoreError::Invalid { message, .. }) if message.contains("unpacks to more than") => {
            let limit = MAX_REPORT_BYTES >> 20;
            return (Vec::new(), vec![format!("the report is larger than {limit} MiB and was not read")]);
        }
        Err(error) => return (Vec::new(), vec![format!("the report could not be read: {error}")]),
    };
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for (name, content) in files {
        match parse_report(&content) {
            Ok((found, note)) => {
                findings.extend(found);
                errors.extend(note.map(|note| format!("{name}: {note}")));
            }
            Err(error) => errors.push(format!("{name} {error}")),
        }
    }
    (findings, errors)
}

impl super::Ci<'_> {
    /// The current (not retried) jobs of a pipeline with a code quality report, and the
    /// digest of each report.
    async fn codequality_reports(
        &self,
        access: &ProjectAccess,
        pipeline_id: PipelineId,
    ) -> CoreResult<(PipelineRow, Vec<(JobId, String, Option<Digest>)>)> {
        access.require(ProjectAction::ReadPipelines)?;
        let mut conn = self.db.conn().await?;
        let pipeline = self.project_pipeline(&mut conn, access.project(), pipeline_id).await?;
        let reports: Vec<_> = artifacts::pipeline_artifacts(&mut conn, pipeline.id)
            .await?
            .into_iter()
            .filter(|row| row.file_type == CODEQUALITY)
            .collect();
        if reports.is_empty() {
            return Ok((pipeline, Vec::new()));
        }
        let jobs = jobs::pipeline_jobs(&mut conn, pipeline.id).await?;
        let mut out = Vec::new();
        for job in jobs.into_iter().filter(|job| !job.retried) {
            if let Some(row) = reports.iter().find(|row| row.job_id == job.id) {
                out.push((job.id, job.name, Digest::parse(&row.blob_digest).ok()));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        Ok((pipeline, out))
    }

    /// How many findings a pipeline's code quality reports hold, for its tab: None when no job
    /// uploaded one. Reports that cannot be read count nothing.
    pub async fn pipeline_codequality_count(
        &self,
        access: &ProjectAccess,
        pipeline_id: PipelineId,
    ) -> CoreResult<Option<usize>> {
        let (_, reports) = self.codequality_reports(access, pipeline_id).await?;
        if reports.is_empty() {
            return Ok(None);
        }
        let mut total = 0;
        for (_, _, digest) in reports {
            let Some(digest) = digest else { continue };
            let known = COUNTED.lock().unwrap_or_else(|e| e.into_inner()).get(digest.as_str()).copied();
            let count = match known {
                Some(count) => count,
                None => {
                    let count = self
                        .read_blob_blocking(&digest, |file| Ok(read_archive(file)))
                        .await
                        .ok()
                        .map(|(findings, _)| findings.len());
                    let mut counted = COUNTED.lock().unwrap_or_else(|e| e.into_inner());
                    if counted.len() >= COUNTS_KEPT {
                        counted.clear();
                    }
                    counted.insert(digest.as_str().to_owned(), count);
                    count
                }
            };
            total += count.unwrap_or(0);
        }
        Ok(Some(total))
    }

    /// A pipeline and the findings of its jobs' code quality reports (their latest attempts).
    pub async fn pipeline_codequality(
        &self,
        access: &ProjectAccess,
        pipeline_id: PipelineId,
    ) -> CoreResult<(PipelineRow, PipelineCodeQuality)> {
        let (pipeline, reports) = self.codequality_reports(access, pipeline_id).await?;
        let mut quality = PipelineCodeQuality::default();
        for (job_id, job_name, digest) in reports {
            let read = match digest {
                Some(digest) => self.read_blob_blocking(&digest, |file| Ok(read_archive(file))).await,
                None => Err(CoreError::NotFound("report")),
            };
            let (findings, errors) =
                read.unwrap_or_else(|error| (Vec::new(), vec![format!("the report could not be read: {error}")]));
            quality.jobs.push(JobCodeQuality { job_id, job_name: job_name.clone(), findings: findings.len(), errors });
            for finding in findings {
                quality.counts[finding.severity as usize] += 1;
                quality.findings.push(PipelineFinding { job_id, job_name: job_name.clone(), finding });
            }
        }
        quality.findings.sort_by(|a, b| {
            let key = |f: &PipelineFinding| (f.finding.severity, f.finding.path.clone(), f.finding.line);
            key(a).cmp(&key(b))
        });
        quality.findings.truncate(MAX_LISTED_FINDINGS);
        Ok((pipeline, quality))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_are_read_with_either_kind_of_location() {
        let report = br#"[
          {"description": "Method `x` is too long", "check_name": "method_length", "fingerprint": "abc",
           "severity": "major", "location": {"path": "./src/a.rb", "lines": {"begin": 12}}},
          {"description": "Unused variable", "severity": "MINOR",
           "location": {"path": "lib/b.py", "positions": {"begin": {"line": "7", "column": 1}}}},
          {"type": "measurement", "name": "loc", "value": 10}
        ]"#;
        let (findings, note) = parse_report(report).unwrap();
        assert_eq!(note, None);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].severity, Severity::Major);
        assert_eq!((findings[0].path.as_deref(), findings[0].line), (Some("src/a.rb"), Some(12)));
        assert_eq!(findings[0].check_name.as_deref(), Some("method_length"));
        assert_eq!(findings[1].severity, Severity::Minor);
        assert_eq!((findings[1].path.as_deref(), findings[1].line), (Some("lib/b.py"), Some(7)));
        assert_eq!(findings[1].fingerprint, None);
    }

    #[test]
    fn missing_fields_are_missing_and_odd_entries_are_named() {
        let (findings, note) = parse_report(br#"[{}, {"severity": "dreadful", "location": 3}, 42, "x"]"#).unwrap();
        assert_eq!(findings.len(), 2);
        assert!(findings.iter().all(|f| f.severity == Severity::Unknown && f.path.is_none() && f.line.is_none()));
        assert_eq!(note.as_deref(), Some("2 entries are not issues (JSON objects) and were left out"));
        assert_eq!(parse_report(b"[]").unwrap().0, Vec::new());
    }

    #[test]
    fn what_is_not_a_json_array_is_an_error() {
        assert!(parse_report(b"{\"issues\": []}").unwrap_err().contains("not a JSON array"));
        assert!(parse_report(b"[{\"description\": ").unwrap_err().starts_with("is not valid JSON"));
        assert!(parse_report(b"").unwrap_err().starts_with("is not valid JSON"));
    }

    #[test]
    fn severities_sort_most_serious_first() {
        let mut severities = vec![Severity::Info, Severity::Unknown, Severity::Blocker, Severity::Minor];
        severities.sort();
        assert_eq!(severities, [Severity::Blocker, Severity::Minor, Severity::Info, Severity::Unknown]);
        assert_eq!(Severity::ALL.map(|s| s as usize), [0, 1, 2, 3, 4, 5]);
    }
}
