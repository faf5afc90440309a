//! Commits and how they relate, shaped like GitLab's: `GET /repository/commits` (a ref, or
//! every branch and tag, filtered by path, time, author; date or topological order; stats and
//! trailers), `commits/:sha` (+ `/diff`, `/refs`, `/sequence`, `/signature`,
//! `/merge_requests`), `compare` and `merge_base`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::Response;
use gantry_core::{CoreError, ProjectRow};
use gantry_git::diff::{Diff, FileStatus};
use gantry_git::read::{LogOrder, LogQuery, SignatureKind};
use gantry_git::refs::{CommitSummary, RefKind};
use serde::{Deserialize, Serialize};

use super::projects::lookup_project;
use super::types::Commit;
use super::{ApiInput, ApiResult, PageParams, paginated};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

fn not_found(what: &'static str) -> AppError {
    AppError::Core(CoreError::NotFound(what))
}

/// A time parameter as Grape's `DateTime` reads it: RFC 3339 (`2021-09-20T11:50:22Z`), a
/// date-time without a zone (UTC) or a date; Unix seconds.
pub(crate) fn parse_time(name: &str, value: Option<&str>) -> ApiResult<Option<i64>> {
    use time::macros::format_description;
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    let invalid = || AppError::BadRequest(format!("{name} is invalid"));
    if let Ok(at) = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok(Some(at.unix_timestamp()));
    }
    let local = [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ];
    for format in local {
        if let Ok(at) = time::PrimitiveDateTime::parse(text, format) {
            return Ok(Some(at.assume_utc().unix_timestamp()));
        }
    }
    let date = time::Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| invalid())?;
    Ok(Some(date.midnight().assume_utc().unix_timestamp()))
}

/// Git trailers (`Signed-off-by: …`) of a message's last paragraph: the last value of each
/// key, and every value of each key.
fn trailers(message: &str) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let mut last = BTreeMap::new();
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some((_, paragraph)) = message.trim_end().rsplit_once("\n\n") else { return (last, all) };
    let pairs: Option<Vec<(&str, &str)>> = paragraph
        .lines()
        .map(|line| {
            let (key, value) = line.split_once(':')?;
            let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            plain.then(|| (key, value.trim()))
        })
        .collect();
    for (key, value) in pairs.unwrap_or_default() {
        last.insert(key.to_owned(), value.to_owned());
        all.entry(key.to_owned()).or_default().push(value.to_owned());
    }
    (last, all)
}

/// A commit's additions and deletions.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stats {
    additions: usize,
    deletions: usize,
    total: usize,
}

impl Stats {
    fn of(diff: &Diff) -> Stats {
        let (additions, deletions) = (diff.additions(), diff.deletions());
        Stats { additions, deletions, total: additions + deletions }
    }
}

/// A commit of a list: GitLab's `Commit` with its trailers and, when asked, its stats.
#[derive(Debug, Serialize)]
pub struct ListedCommit {
    #[serde(flatten)]
    commit: Commit,
    trailers: BTreeMap<String, String>,
    extended_trailers: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<Stats>,
}

#[derive(Debug, Deserialize)]
pub struct CommitsQuery {
    ref_name: Option<String>,
    since: Option<String>,
    until: Option<String>,
    path: Option<String>,
    author: Option<String>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    with_stats: bool,
    #[serde(default)]
    first_parent: bool,
    order: Option<String>,
    #[serde(default)]
    trailers: bool,
}

/// `GET /projects/:id/repository/commits` (`ref_name`, `all`, `since`, `until`, `path`,
/// `author`, `first_parent`, `order`, `with_stats`, `trailers`, pagination)
pub async fn commits(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(page): Query<PageParams>,
    ApiInput(query): ApiInput<CommitsQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.authorize_project(&actor, &project, gantry_core::policy::ProjectAction::ReadCode).await?;
    let page = page.resolve()?;
    let window = page.db();
    let order = match query.order.as_deref().map(str::trim) {
        None | Some("" | "default") => LogOrder::Date,
        Some("topo") => LogOrder::Topo,
        Some(_) => return Err(AppError::BadRequest("order does not have a valid value".into()).into()),
    };
    let mut log = LogQuery {
        path: query.path.filter(|p| !p.trim().is_empty()),
        since: parse_time("since", query.since.as_deref())?,
        until: parse_time("until", query.until.as_deref())?,
        author: query.author.filter(|a| !a.is_empty()),
        first_parent: query.first_parent,
        order,
        skip: usize::try_from(window.offset).unwrap_or(usize::MAX),
        limit: window.limit as usize,
        ..LogQuery::default()
    };
    let reference = match query.ref_name.filter(|r| !r.trim().is_empty()) {
        _ if query.all => None,
        Some(reference) => Some(reference),
        None => Some(project.default_branch.clone()),
    };
    let found = state
        .core
        .code()
        .read_repository(&actor, &project, move |reader| {
            log.tips = match &reference {
                None => reader.branch_and_tag_tips()?,
                Some(reference) => match reader.resolve(reference)? {
                    Some(commit) => vec![commit],
                    None => return Ok(None),
                },
            };
            Ok(Some(reader.log(&log)?))
        })
        .await?;
    let (found, more) = found.ok_or_else(|| not_found("ref"))?;
    let mut items = Vec::with_capacity(found.len());
    for commit in &found {
        let stats = match query.with_stats {
            true => Some(Stats::of(&state.core.code().commit_diff(&actor, &project, &commit.id).await?)),
            false => None,
        };
        let (trailers, extended_trailers) = if query.trailers { trailers(&commit.message) } else { Default::default() };
        items.push(ListedCommit {
            commit: Commit::new(commit, &project, &state.config),
            trailers,
            extended_trailers,
            stats,
        });
    }
    // The total is not counted (it means walking the whole history); the next page is known.
    let total = (log_skip(&page) + found.len() + usize::from(more)) as i64;
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

fn log_skip(page: &super::PageRequest) -> usize {
    usize::try_from(page.db().offset).unwrap_or(usize::MAX)
}

/// A commit (by id, branch or tag) or 404.
pub(crate) async fn find_commit(
    state: &AppState,
    actor: &gantry_core::Actor,
    project: &ProjectRow,
    revision: String,
) -> ApiResult<CommitSummary> {
    let found = state
        .core
        .code()
        .read_repository(actor, project, move |reader| match reader.resolve(&revision)? {
            Some(id) => reader.commit(&id).map(Some),
            None => Ok(None),
        })
        .await?;
    found.ok_or_else(|| not_found("commit").into())
}

/// `GET /repository/commits/:sha`: GitLab's `CommitDetail`.
#[derive(Debug, Serialize)]
pub struct CommitDetail {
    #[serde(flatten)]
    commit: Commit,
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<Stats>,
    status: Option<String>,
    last_pipeline: Option<serde_json::Value>,
    project_id: i64,
}

impl CommitDetail {
    pub(crate) fn new(commit: &CommitSummary, project: &ProjectRow, state: &AppState, stats: Option<&Diff>) -> Self {
        CommitDetail {
            commit: Commit::new(commit, project, &state.config),
            stats: stats.map(Stats::of),
            status: None,
            last_pipeline: None,
            project_id: project.id.0,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CommitQuery {
    stats: Option<bool>,
}

/// `GET /projects/:id/repository/commits/:sha` (`stats`, on unless `false`)
pub async fn commit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
    ApiInput(query): ApiInput<CommitQuery>,
) -> ApiResult<Json<CommitDetail>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let commit = find_commit(&state, &actor, &project, sha).await?;
    let diff = match query.stats.unwrap_or(true) {
        true => Some(state.core.code().commit_diff(&actor, &project, &commit.id).await?),
        false => None,
    };
    Ok(Json(CommitDetail::new(&commit, &project, &state, diff.as_ref())))
}

/// One file of a diff, as GitLab returns it.
#[derive(Debug, Serialize)]
pub struct FileChange {
    old_path: String,
    new_path: String,
    new_file: bool,
    renamed_file: bool,
    deleted_file: bool,
    diff: String,
}

fn changes(diff: Diff) -> Vec<FileChange> {
    diff.files
        .into_iter()
        .map(|file| {
            let mut text = String::new();
            for hunk in &file.hunks {
                text.push_str(&hunk.header);
                text.push('\n');
                for line in &hunk.lines {
                    text.push(line.kind);
                    text.push_str(&line.text);
                    text.push('\n');
                }
            }
            if file.binary {
                text = format!("Binary files a/{} and b/{} differ\n", file.old_path, file.new_path);
            }
            FileChange {
                new_file: file.status == FileStatus::Added,
                renamed_file: file.status == FileStatus::Renamed,
                deleted_file: file.status == FileStatus::Deleted,
                old_path: file.old_path,
                new_path: file.new_path,
                diff: text,
            }
        })
        .collect()
}

/// `GET /projects/:id/repository/commits/:sha/diff`
pub async fn commit_diff(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
) -> ApiResult<Json<Vec<FileChange>>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let commit = find_commit(&state, &actor, &project, sha).await?;
    let diff = state.core.code().commit_diff(&actor, &project, &commit.id).await?;
    Ok(Json(changes(diff)))
}

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /repository/compare`
#[derive(Debug, Serialize)]
pub struct Comparison {
    commit: Option<Commit>,
    commits: Vec<Commit>,
    diffs: Vec<FileChange>,
    compare_timeout: bool,
    compare_same_ref: bool,
}

/// `GET /projects/:id/repository/compare` (`from`, `to`)
pub async fn compare(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    Query(query): Query<CompareQuery>,
) -> ApiResult<Json<Comparison>> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.authorize_project(&actor, &project, gantry_core::policy::ProjectAction::ReadCode).await?;
    if query.from.trim().is_empty() || query.to.trim().is_empty() {
        return Err(AppError::BadRequest("from and to are required".into()).into());
    }
    let (from, to) = (query.from.clone(), query.to.clone());
    let found = state
        .core
        .code()
        .read_repository(&actor, &project, move |reader| match (reader.resolve(&from)?, reader.resolve(&to)?) {
            (Some(from), Some(to)) => Ok(Some((from.clone(), to.clone(), reader.commits_between(&from, &to, 1000)?.0))),
            _ => Ok(None),
        })
        .await?;
    let (from, to, commits) = found.ok_or_else(|| not_found("ref"))?;
    let diff = state.core.code().compare_diff(&actor, &project, &from, &to).await?;
    let commits: Vec<Commit> = commits.iter().map(|c| Commit::new(c, &project, &state.config)).collect();
    Ok(Json(Comparison {
        compare_timeout: diff.truncated,
        compare_same_ref: query.from == query.to,
        commit: commits.first().cloned(),
        commits,
        diffs: changes(diff),
    }))
}

#[derive(Debug, Deserialize)]
pub struct RefsQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// One ref of `GET /repository/commits/:sha/refs`.
#[derive(Debug, Serialize)]
pub struct BasicRef {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
}

/// `GET /projects/:id/repository/commits/:sha/refs` (`type`: `branch`, `tag` or `all`):
/// the branches, then the tags, whose history holds the commit.
pub async fn commit_refs(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    Query(page): Query<PageParams>,
    ApiInput(query): ApiInput<RefsQuery>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    let commit = find_commit(&state, &actor, &project, sha).await?;
    let kinds: &[RefKind] = match query.kind.as_deref().map(str::trim) {
        None | Some("" | "all") => &[RefKind::Branch, RefKind::Tag],
        Some("branch") => &[RefKind::Branch],
        Some("tag") => &[RefKind::Tag],
        Some(_) => return Err(AppError::BadRequest("type does not have a valid value".into()).into()),
    };
    let page = page.resolve()?;
    // Enough for this page and one more, so the next page is known without counting them all.
    let limit = (page.per_page * page.page + 1) as usize;
    let refs = state.core.code().refs_containing(&actor, &project, &commit.id, kinds, limit).await?;
    let total = refs.len() as i64;
    let skip = log_skip(&page);
    let items: Vec<BasicRef> = refs
        .into_iter()
        .skip(skip)
        .take(page.per_page as usize)
        .map(|(kind, name)| BasicRef { kind: if kind == RefKind::Branch { "branch" } else { "tag" }, name })
        .collect();
    Ok(paginated(&state.config.external_url, &uri, items, total, page))
}

#[derive(Debug, Deserialize)]
pub struct SequenceQuery {
    #[serde(default)]
    first_parent: bool,
}

/// `GET /repository/commits/:sha/sequence`
#[derive(Debug, Serialize)]
pub struct Sequence {
    count: usize,
}

/// `GET /projects/:id/repository/commits/:sha/sequence` (`first_parent`): how many commits
/// lead to this one, itself included.
pub async fn commit_sequence(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
    ApiInput(query): ApiInput<SequenceQuery>,
) -> ApiResult<Json<Sequence>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let commit = find_commit(&state, &actor, &project, sha).await?;
    let count = state
        .core
        .code()
        .read_repository(&actor, &project, move |reader| reader.count_commits(&commit.id, query.first_parent))
        .await?;
    Ok(Json(Sequence { count }))
}

/// `GET /projects/:id/repository/commits/:sha/merge_requests`: merge requests are not built
/// in Gantry, so no commit has any (an unknown commit is still "not found").
pub async fn commit_merge_requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let project = lookup_project(&state, &actor, &id).await?;
    find_commit(&state, &actor, &project, sha).await?;
    let page = page.resolve()?;
    Ok(paginated(&state.config.external_url, &uri, Vec::<serde_json::Value>::new(), 0, page))
}

/// `GET /repository/commits/:sha/signature`: how the commit is signed. Gantry reads the
/// signature but does not verify it, so its status is always `unverified`.
#[derive(Debug, Serialize)]
pub struct CommitSignature {
    signature_type: &'static str,
    verification_status: &'static str,
    commit_source: &'static str,
    #[serde(flatten)]
    key: BTreeMap<&'static str, Option<String>>,
}

/// `GET /projects/:id/repository/commits/:sha/signature`: 404 `Signature Not Found` for an
/// unsigned commit.
pub async fn commit_signature(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, sha)): Path<(String, String)>,
) -> ApiResult<Json<CommitSignature>> {
    let project = lookup_project(&state, &actor, &id).await?;
    let commit = find_commit(&state, &actor, &project, sha).await?;
    let kind = state
        .core
        .code()
        .read_repository(&actor, &project, move |reader| reader.commit_signature(&commit.id))
        .await?
        .ok_or_else(|| not_found("signature"))?;
    let (signature_type, fields): (&'static str, &[&'static str]) = match kind {
        SignatureKind::Pgp => (
            "PGP",
            &["gpg_key_id", "gpg_key_primary_keyid", "gpg_key_user_name", "gpg_key_user_email", "gpg_key_subkey_id"],
        ),
        SignatureKind::Ssh => ("SSH", &["key"]),
        SignatureKind::X509 => ("X509", &["x509_certificate"]),
    };
    Ok(Json(CommitSignature {
        signature_type,
        verification_status: "unverified",
        commit_source: "gitaly",
        key: fields.iter().map(|field| (*field, None)).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct MergeBaseQuery {
    refs: Option<Vec<String>>,
}

/// `GET /projects/:id/repository/merge_base` (`refs[]`, two or more branches, tags or commits):
/// their best common ancestor.
pub async fn merge_base(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiInput(query): ApiInput<MergeBaseQuery>,
) -> ApiResult<Json<Commit>> {
    let project = lookup_project(&state, &actor, &id).await?;
    state.core.authorize_project(&actor, &project, gantry_core::policy::ProjectAction::ReadCode).await?;
    let refs = query.refs.ok_or_else(|| AppError::BadRequest("refs is missing".into()))?;
    if refs.len() < 2 {
        return Err(AppError::BadRequest("Provide at least 2 refs".into()).into());
    }
    let base = match state.core.code().merge_base(&actor, &project, &refs).await? {
        Ok(base) => base.ok_or(AppError::NotFoundWith("404 Merge Base Not Found"))?,
        Err(unknown) => {
            let noun = if unknown.len() == 1 { "ref" } else { "refs" };
            return Err(AppError::BadRequest(format!("Could not find {noun}: {}", unknown.join(", "))).into());
        }
    };
    let commit = find_commit(&state, &actor, &project, base).await?;
    Ok(Json(Commit::new(&commit, &project, &state.config)))
}
