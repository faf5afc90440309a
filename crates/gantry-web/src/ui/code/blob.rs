//! A file's pages: `/-/blob/:ref/*path` (highlighted, markdown rendered, images shown) and
//! `/-/raw/:ref/*path` (its bytes, never rendered as a page of this site).

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gantry_git::read::PathObject;
use serde::Deserialize;

use super::{PathCrumb, RefPicker, not_found, path_crumbs, read_at, read_for_page, url_path};
use crate::AppState;
use crate::auth::PageActor;
use crate::markup::links::RepositoryLinks;
use crate::markup::{HIGHLIGHT_LIMIT_BYTES, highlight_blob, language_of, render_markdown};
use crate::namespace_dispatch::ProjectTarget;
use crate::ui::project_frame::ProjectFrame;
use crate::ui::{Chrome, PageResult, render, see_other};

/// How a file is shown.
pub enum FileView {
    /// Highlighted lines: all of them, or the first ones of a large file (`cut`).
    Code {
        code: std::sync::Arc<crate::markup::Highlighted>,
        language: Option<&'static str>,
        /// How many lines the whole file has.
        lines: usize,
        cut: bool,
    },
    /// Rendered markdown.
    Markdown(String),
    Image,
    Binary,
    TooLarge,
}

/// A file of more lines than this, or of more bytes than [`LARGE_FILE_BYTES`], is large: its
/// pages (file and blame) show its first lines, with links to the raw file and to show all.
pub const LARGE_FILE_LINES: usize = 2000;
/// See [`LARGE_FILE_LINES`].
pub const LARGE_FILE_BYTES: usize = 500 * 1024;
/// How many lines of a large file its pages show until asked for all.
pub const LARGE_FILE_SHOWN_LINES: usize = 1000;
/// At most this many bytes of a large file are shown (a file of few, very long lines).
const LARGE_FILE_SHOWN_BYTES: usize = 128 * 1024;

/// The start of a large file that its pages show, or `None` when the file is not large (or
/// all of it was asked for).
pub fn shown_part(text: &str, show_all: bool) -> Option<&str> {
    if show_all || (text.len() <= LARGE_FILE_BYTES && line_count(text) <= LARGE_FILE_LINES) {
        return None;
    }
    let mut end = text.match_indices('\n').nth(LARGE_FILE_SHOWN_LINES - 1).map_or(text.len(), |(at, _)| at + 1);
    if end > LARGE_FILE_SHOWN_BYTES {
        end = text[..LARGE_FILE_SHOWN_BYTES].rfind('\n').map_or(LARGE_FILE_SHOWN_BYTES, |at| at + 1);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
    }
    Some(&text[..end])
}

/// The number of lines of a text (a last line without a newline counts).
pub fn line_count(text: &str) -> usize {
    text.bytes().filter(|b| *b == b'\n').count() + usize::from(!text.is_empty() && !text.ends_with('\n'))
}

#[derive(Template)]
#[template(path = "projects/blob.html")]
struct BlobPage {
    chrome: Chrome,
    frame: ProjectFrame,
    tab: &'static str,
    picker: RefPicker,
    trail: Vec<PathCrumb>,
    name: String,
    size: String,
    view: FileView,
    raw_href: String,
    download_href: String,
    history_href: String,
    /// Where the file's blame is, when it has lines to blame.
    blame_href: Option<String>,
    /// The page with every line of a large file.
    show_all_href: String,
    source_href: Option<String>,
    /// Where the page's script fetches the file's last commit (walking history takes longer
    /// than showing the file).
    last_commit_href: String,
    /// The editor and the delete page, for those who may push (text files only can be edited).
    edit_href: Option<String>,
    delete_href: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BlobQuery {
    /// `?plain=1` shows the source of a markdown file.
    #[serde(default)]
    plain: String,
    /// `?full=1` shows every line of a large file.
    #[serde(default)]
    full: String,
}

const IMAGE_TYPES: [(&str, &str); 6] = [
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("ico", "image/x-icon"),
];

fn image_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.')?.1.to_lowercase();
    IMAGE_TYPES.iter().find(|(e, _)| *e == ext).map(|(_, t)| *t)
}

/// `GET /{project}/-/blob/{ref}/{*path}`
pub async fn blob(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    Query(query): Query<BlobQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let (at, picker, found) =
        read_for_page(&state, &visitor, &frame, &ref_path, |reader, at| reader.object_at(&at.commit, &at.path)).await?;
    let project = frame.project.full_path.clone();
    let reference = url_path(&at.reference);
    let blob = match found {
        Some(PathObject::Blob(blob)) => blob,
        Some(PathObject::Tree(_)) => {
            return see_other(&format!("/{project}/-/tree/{reference}/{}", url_path(&at.path)));
        }
        _ => return Err(not_found(&visitor, "file")),
    };
    let name = at.path.rsplit('/').next().unwrap_or(&at.path).to_owned();
    let is_markdown = [".md", ".markdown"].iter().any(|ext| name.to_lowercase().ends_with(ext));
    let blob_href = format!("/{project}/-/blob/{reference}/{}", url_path(&at.path));
    let view = if image_type(&at.path).is_some() {
        FileView::Image
    } else if blob.is_binary() {
        FileView::Binary
    } else if !blob.is_complete() || blob.data.len() > 8 * HIGHLIGHT_LIMIT_BYTES {
        FileView::TooLarge
    } else {
        let text = String::from_utf8_lossy(&blob.data);
        if is_markdown && query.plain != "1" {
            let links = RepositoryLinks::repository(
                &project,
                &at.reference,
                at.path.rsplit_once('/').map_or("", |(dir, _)| dir),
            );
            FileView::Markdown(render_markdown(&text, Some(&links)))
        } else {
            let part = shown_part(&text, query.full == "1");
            FileView::Code {
                language: language_of(&at.path, &text),
                code: highlight_blob(&blob.id, &at.path, part.unwrap_or(&text)),
                lines: line_count(&text),
                cut: part.is_some(),
            }
        }
    };
    let editable = matches!(view, FileView::Code { .. } | FileView::Markdown(_))
        && blob.data.len() <= super::edit::EDIT_LIMIT_BYTES
        && std::str::from_utf8(&blob.data).is_ok();
    let change_href = |verb: &str| format!("/{project}/-/{verb}/{reference}/{}", url_path(&at.path));
    let blameable = matches!(view, FileView::Code { .. } | FileView::Markdown(_))
        && blob.size <= gantry_git::blame::BLAME_LIMIT_BYTES as u64;
    let page = BlobPage {
        edit_href: (frame.can_push && editable).then(|| change_href("edit")),
        delete_href: frame.can_push.then(|| change_href("delete")),
        chrome: Chrome::new(&visitor),
        trail: path_crumbs(&project, &at.reference, &at.path),
        size: crate::ui::human_size(usize::try_from(blob.size).unwrap_or(usize::MAX)),
        raw_href: format!("/{project}/-/raw/{reference}/{}", url_path(&at.path)),
        download_href: format!("/{project}/-/raw/{reference}/{}?inline=false", url_path(&at.path)),
        history_href: format!("/{project}/-/commits/{reference}/{}", url_path(&at.path)),
        blame_href: blameable.then(|| format!("/{project}/-/blame/{reference}/{}", url_path(&at.path))),
        show_all_href: format!("{blob_href}?{}full=1", if query.plain == "1" { "plain=1&" } else { "" }),
        source_href: is_markdown
            .then(|| if query.plain == "1" { blob_href.clone() } else { format!("{blob_href}?plain=1") }),
        last_commit_href: format!("/{project}/-/last_commits/{reference}/{}", url_path(&at.path)),
        picker,
        tab: "code",
        frame,
        name,
        view,
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Default, Deserialize)]
pub struct RawQuery {
    #[serde(default)]
    inline: String,
}

/// `GET /{project}/-/raw/{ref}/{*path}`: the file's bytes. Text is served as plain text and
/// nothing is rendered by the browser in this origin (`nosniff`, a sandboxing CSP).
pub async fn raw(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(ref_path): Path<String>,
    Query(query): Query<RawQuery>,
) -> PageResult {
    let frame = ProjectFrame::load(&state, &visitor, target).await?;
    let (at, object) =
        read_at(&state, &visitor, &frame, &ref_path, |reader, at| reader.object_at(&at.commit, &at.path)).await?;
    let Some(PathObject::Blob(blob)) = object else { return Err(not_found(&visitor, "file")) };
    raw_blob_response(&state, &visitor.actor, &frame.project, &at.path, blob, query.inline == "false")
        .await
        .map_err(|e| visitor.error(e))
}

/// A blob's bytes as [`raw_response`]: from memory when it was read whole, streamed from the
/// repository otherwise.
pub async fn raw_blob_response(
    state: &AppState,
    actor: &gantry_core::Actor,
    project: &gantry_core::ProjectRow,
    path: &str,
    blob: gantry_git::read::Blob,
    attachment: bool,
) -> Result<Response, gantry_core::CoreError> {
    if blob.is_complete() {
        return Ok(raw_response(path, blob.is_binary(), blob.data, attachment));
    }
    let content = state.core.code().stream_blob(actor, project, &blob.id, blob.size).await?;
    Ok(raw_content_response(path, content, attachment))
}

/// [`raw_response`] for content read a piece at a time (text or binary told by its start).
pub fn raw_content_response(path: &str, content: gantry_core::ContentStream, attachment: bool) -> Response {
    let binary = gantry_git::read::looks_binary(&content.head);
    let size = content.size;
    let mut response = raw_response(path, binary, crate::blob_io::content_body(content), attachment);
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    response
}

/// Whether an attachment is shown in the browser: pictures (not SVG, which can hold scripts)
/// and plain text. Anything else — HTML, SVG, PDF, archives — is downloaded; all of it comes
/// with `nosniff` and a sandboxing CSP either way.
pub fn shown_inline(path: &str, binary: bool) -> bool {
    let ending = path.rsplit_once('.').map(|(_, ending)| ending.to_ascii_lowercase()).unwrap_or_default();
    let picture = ["png", "jpg", "jpeg", "gif", "webp", "bmp", "ico"].contains(&ending.as_str());
    let active = ["svg", "svgz", "html", "htm", "xhtml", "xht", "xml", "js", "mjs", "pdf"].contains(&ending.as_str());
    picture || (!binary && !active)
}

/// An uploaded file (an issue's, a wiki's attachment) as a response a browser runs nothing of:
/// its kind told by its first bytes, not its name — a real picture is shown, plain text shown as
/// text, anything else (HTML, SVG, a "picture" that is not one) downloaded — always `nosniff`
/// and sandboxed.
pub fn uploaded_file_response(name: &str, bytes: Vec<u8>) -> Response {
    let image = gantry_core::manage::avatars::image_format(&bytes);
    let binary = gantry_git::read::looks_binary(&bytes);
    // A name that claims a picture the bytes are not is not shown at all.
    let lower = name.to_ascii_lowercase();
    let claims_picture =
        ["png", "jpg", "jpeg", "gif", "webp", "bmp", "ico"].iter().any(|e| lower.ends_with(&format!(".{e}")));
    let (content_type, inline) = match image {
        Some((_, media_type)) => (media_type, true),
        None if !binary && !claims_picture && shown_inline(name, binary) => ("text/plain; charset=utf-8", true),
        None => ("application/octet-stream", false),
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox; frame-ancestors 'none'"),
    );
    let file_name = name.rsplit('/').next().unwrap_or("file");
    if !inline && let Ok(value) = HeaderValue::from_str(&crate::blob_io::content_disposition(file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A file's bytes as a response that browsers will not render as a page of this site.
pub fn raw_response(path: &str, binary: bool, body: impl Into<axum::body::Body>, attachment: bool) -> Response {
    let content_type = match image_type(path) {
        Some(image) => image,
        None if binary => "application/octet-stream",
        None => "text/plain; charset=utf-8",
    };
    let mut response = (StatusCode::OK, body.into()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox; frame-ancestors 'none'"),
    );
    if attachment {
        let name = path.rsplit('/').next().unwrap_or("file");
        if let Ok(value) = HeaderValue::from_str(&crate::blob_io::content_disposition(name)) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}
