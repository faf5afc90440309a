//! The v4 REST API, shaped like GitLab's: pagination headers, `{"message": …}` errors, bodies
//! as JSON or form data (or query parameters, as GitLab also accepts).

pub mod access_tokens;
pub mod application_settings;
pub mod archives;
pub mod artifacts;
pub mod ci_types;
pub mod commits;
pub mod deploy_keys;
pub mod deploy_tokens;
pub mod emails;
pub mod events;
pub mod files;
pub mod gpg_keys;
pub mod group_protected_branches;
pub mod groups;
pub mod history;
pub mod instance;
pub mod job_token_scope;
pub mod keys;
pub mod languages;
pub mod members;
pub mod openapi;
pub mod params;
pub mod pipelines;
pub mod plan;
pub mod projects;
pub mod protected_tags;
pub mod repository;
pub mod runner_protocol;
pub mod runners;
pub mod schedules;
pub mod search;
pub mod sharing;
pub mod statuses;
pub mod templates;
pub mod tokens;
pub mod topics;
pub mod types;
pub mod user_status;
pub mod users;
pub mod variables;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use gantry_core::manage::avatars::AvatarUpload;
use gantry_core::{COUNT_LIMIT, Page, SortDirection};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, AppError};

/// Results of API handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// GitLab's `page` and `per_page` (default 20, at most 100).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    page: Option<String>,
    per_page: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl PageParams {
    /// Validates the numbers; garbage is a 400, not a silent default.
    pub fn resolve(&self) -> ApiResult<PageRequest> {
        let number = |value: &Option<String>, name: &str, default: i64| -> ApiResult<i64> {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(text) => text
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| AppError::BadRequest(format!("{name} must be a positive whole number")).into()),
            }
        };
        let page = number(&self.page, "page", 1)?;
        let per_page = number(&self.per_page, "per_page", 20)?.min(100);
        Ok(PageRequest { page, per_page })
    }
}

impl PageRequest {
    /// The database page.
    pub fn db(self) -> Page {
        Page { offset: (self.page - 1).saturating_mul(self.per_page), limit: self.per_page }
    }
}

/// A JSON array with GitLab's pagination headers (`X-Total`, `X-Next-Page`, `Link`, …). A
/// total over [`COUNT_LIMIT`] was not counted to its end: as GitLab, the answer then has no
/// `X-Total`, `X-Total-Pages` or last link, and a next page whenever this one is full.
pub fn paginated<T: Serialize>(
    external_url: &str,
    uri: &Uri,
    items: Vec<T>,
    total: i64,
    page: PageRequest,
) -> Response {
    let counted = total <= COUNT_LIMIT;
    let full = i64::try_from(items.len()).unwrap_or(i64::MAX) >= page.per_page;
    let total_pages = ((total + page.per_page - 1) / page.per_page).max(1);
    let has_next = if counted { page.page < total_pages } else { full };
    let mut response = Json(items).into_response();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    if counted {
        set("x-total", total.to_string());
        set("x-total-pages", total_pages.to_string());
    }
    set("x-per-page", page.per_page.to_string());
    set("x-page", page.page.to_string());
    set("x-next-page", if has_next { (page.page + 1).to_string() } else { String::new() });
    set("x-prev-page", if page.page > 1 { (page.page - 1).to_string() } else { String::new() });
    let link_to = |number: i64| {
        let mut query: Vec<(String, String)> = uri
            .query()
            .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .collect();
        query.push(("page".into(), number.to_string()));
        query.push(("per_page".into(), page.per_page.to_string()));
        let query = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("<{external_url}{}?{query}>", uri.path())
    };
    let mut links = Vec::new();
    if page.page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page.page - 1)));
    }
    if has_next {
        links.push(format!("{}; rel=\"next\"", link_to(page.page + 1)));
    }
    links.push(format!("{}; rel=\"first\"", link_to(1)));
    if counted {
        links.push(format!("{}; rel=\"last\"", link_to(total_pages)));
    }
    set("link", links.join(", "));
    response
}

/// The parameters of a write, as GitLab reads them (see [`params`]): the query string with the
/// body (JSON, a form or a multipart form) merged over it, values coerced leniently. A file
/// field of a multipart form counts as its text; a file that is not text is refused.
#[derive(Debug)]
pub struct ApiInput<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for ApiInput<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (params, _) = gather_request(request, state, false).await?;
        params::read(params).map(ApiInput).map_err(|message| AppError::BadRequest(message).into())
    }
}

/// As [`ApiInput`], for writes that take files (avatars): a multipart form's file fields are
/// also kept, whole, in [`Uploads`], and one that is not text is no longer refused (it is then
/// only there).
#[derive(Debug)]
pub struct ApiUpload<T>(pub T, pub Uploads);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for ApiUpload<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (params, uploads) = gather_request(request, state, true).await?;
        let input = params::read(params).map_err(AppError::BadRequest)?;
        Ok(ApiUpload(input, uploads))
    }
}

/// A file a multipart form carried.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    /// The form field's name.
    pub field: String,
    /// The name the client gave the file.
    pub filename: String,
    pub bytes: Bytes,
}

/// The files of a request (bounded, as the whole body is, by the server's body limit).
#[derive(Debug, Default)]
pub struct Uploads(Vec<UploadedFile>);

impl Uploads {
    /// Takes the file sent as `field`, if one was.
    pub fn take(&mut self, field: &str) -> Option<UploadedFile> {
        let index = self.0.iter().position(|file| file.field == field)?;
        Some(self.0.swap_remove(index))
    }
}

/// Reads a request's parameters (and, with `keep_files`, its files).
async fn gather_request<S: Send + Sync>(
    request: Request,
    state: &S,
    keep_files: bool,
) -> Result<(serde_json::Map<String, serde_json::Value>, Uploads), ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let query = request.uri().query().unwrap_or("").to_owned();
    let mut uploads = Uploads::default();
    let gathered = if content_type.as_deref() == Some("multipart/form-data") {
        let mut fields = serde_json::Map::new();
        params::add_pairs(&mut fields, &query, "parameters").map_err(AppError::BadRequest)?;
        let multipart = axum::extract::Multipart::from_request(request, state)
            .await
            .map_err(|error| AppError::BadRequest(format!("invalid multipart body: {error}")))?;
        multipart_fields(multipart, &mut fields, keep_files.then_some(&mut uploads)).await?;
        fields
    } else {
        let body = Bytes::from_request(request, state).await.map_err(|_| AppError::body_too_large())?;
        let kind = match content_type.as_deref() {
            _ if body.is_empty() => params::BodyKind::None,
            Some("application/json") => params::BodyKind::Json,
            Some("application/x-www-form-urlencoded") => params::BodyKind::Form,
            _ => return Err(AppError::UnsupportedMediaType.into()),
        };
        params::gather(&query, kind, &body).map_err(AppError::BadRequest)?
    };
    Ok((gathered, uploads))
}

/// Adds a multipart form's fields, as text (a file's content included: GitLab's file-type
/// variables arrive so). Files go to `uploads` too when it is given; otherwise a field that is
/// not text is refused rather than mangled.
async fn multipart_fields(
    mut multipart: axum::extract::Multipart,
    fields: &mut serde_json::Map<String, serde_json::Value>,
    mut uploads: Option<&mut Uploads>,
) -> Result<(), ApiError> {
    let mut count = 0;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|error| AppError::BadRequest(format!("invalid multipart body: {error}")))?
    {
        count += 1;
        if count > 1000 {
            return Err(AppError::BadRequest("a request may carry at most 1000 parameters".to_owned()).into());
        }
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|_| AppError::body_too_large())?;
        let kept = match (filename, uploads.as_deref_mut()) {
            (Some(filename), Some(uploads)) => {
                uploads.0.push(UploadedFile { field: name.clone(), filename, bytes: bytes.clone() });
                true
            }
            _ => false,
        };
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => params::insert(fields, &name, serde_json::Value::String(text)),
            Err(_) if kept => {}
            Err(_) => return Err(AppError::BadRequest(format!("{name} must be text")).into()),
        }
    }
    Ok(())
}

/// What a write asks of an avatar: `Some(Some(file))` a new image (a file sent as `avatar`),
/// `Some(None)` its removal (`avatar` sent empty), `None` nothing.
pub fn avatar_change(text: Option<&str>, uploads: &mut Uploads) -> ApiResult<Option<Option<AvatarUpload>>> {
    if let Some(file) = uploads.take("avatar") {
        return Ok(Some(Some(AvatarUpload { filename: file.filename, bytes: file.bytes.to_vec() })));
    }
    match text {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(_) => Err(AppError::BadRequest(
            "avatar is invalid: send the image as a file in a multipart form, or an empty value to remove it"
                .to_owned(),
        )
        .into()),
    }
}

/// GitLab's answer to a delete it accepted.
pub fn accepted() -> Response {
    message(StatusCode::ACCEPTED, "202 Accepted")
}

/// A `{"message": …}` answer with `status`, as GitLab gives for actions without a resource.
pub fn message(status: StatusCode, message: &'static str) -> Response {
    #[derive(Serialize)]
    struct Message {
        message: &'static str,
    }
    (status, Json(Message { message })).into_response()
}

/// Parses `sort` (`asc`/`desc`).
pub fn sort_direction(value: Option<&str>, default: SortDirection) -> ApiResult<SortDirection> {
    match value {
        None | Some("") => Ok(default),
        Some("asc") => Ok(SortDirection::Asc),
        Some("desc") => Ok(SortDirection::Desc),
        Some(other) => Err(AppError::BadRequest(format!("sort must be asc or desc, not '{other}'")).into()),
    }
}

/// Picks one of the allowed `order_by` values.
pub fn order_by(value: Option<&str>, allowed: &[&'static str], default: &'static str) -> ApiResult<&'static str> {
    match value {
        None | Some("") => Ok(default),
        Some(value) => allowed.iter().find(|a| **a == value).copied().ok_or_else(|| {
            AppError::BadRequest(format!("order_by must be one of {}, not '{value}'", allowed.join(", "))).into()
        }),
    }
}

/// Parses a visibility parameter.
pub fn visibility(value: Option<&str>) -> ApiResult<Option<gantry_types::Visibility>> {
    match value {
        None | Some("") => Ok(None),
        Some(value) => gantry_types::Visibility::parse(value).map(Some).ok_or_else(|| {
            AppError::BadRequest(format!("visibility must be private, internal or public, not '{value}'")).into()
        }),
    }
}

/// Lenient boolean for query parameters (`true`/`false`/`1`/`0`, any case: Python clients
/// send `True`).
pub fn flag(value: Option<&str>) -> ApiResult<Option<bool>> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(AppError::BadRequest(format!("expected true or false, not '{}'", value.unwrap_or(""))).into()),
    }
}

/// A boolean sent as JSON or as form text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Flag {
    Bool(bool),
    Text(String),
}

impl Flag {
    pub fn value(&self, field: &'static str) -> ApiResult<bool> {
        match self {
            Flag::Bool(b) => Ok(*b),
            Flag::Text(t) => flag(Some(t))?.ok_or_else(|| AppError::BadRequest(format!("{field} is empty")).into()),
        }
    }
}

/// A number sent as JSON or as form text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Number {
    Int(i64),
    Text(String),
}

impl Number {
    pub fn value(&self, field: &'static str) -> ApiResult<i64> {
        match self {
            Number::Int(n) => Ok(*n),
            Number::Text(t) => {
                t.trim().parse::<i64>().map_err(|_| AppError::BadRequest(format!("{field} must be a number")).into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(total: i64, page: i64, shown: usize) -> axum::http::HeaderMap {
        let uri: Uri = "/api/v4/projects/1/issues?state=opened".parse().unwrap();
        let items = vec![0; shown];
        paginated("http://gantry.test", &uri, items, total, PageRequest { page, per_page: 20 }).headers().clone()
    }

    #[test]
    fn counted_lists_carry_their_totals() {
        let headers = headers(45, 1, 20);
        assert_eq!(headers["x-total"], "45");
        assert_eq!(headers["x-total-pages"], "3");
        assert_eq!(headers["x-next-page"], "2");
        assert!(headers["link"].to_str().unwrap().contains("page=3&per_page=20>; rel=\"last\""));
    }

    #[test]
    fn lists_past_the_count_limit_have_no_total_and_page_on_while_full() {
        let full = headers(COUNT_LIMIT + 1, 700, 20);
        assert!(full.get("x-total").is_none() && full.get("x-total-pages").is_none());
        assert_eq!(full["x-next-page"], "701");
        let link = full["link"].to_str().unwrap();
        assert!(link.contains("rel=\"next\"") && !link.contains("rel=\"last\""), "{link}");
        let last = headers(COUNT_LIMIT + 1, 701, 3);
        assert_eq!(last["x-next-page"], "");
    }
}
