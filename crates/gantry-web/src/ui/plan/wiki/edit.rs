//! The wiki's writing forms: a new page, a page saved (with a file attached on the way, whose
//! link is added to the page) and a page deleted once confirmed. The forms are multipart, for
//! the attachment; a plain form is read too.

use axum::Extension;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use gantry_core::CoreError;
use gantry_core::plan::wiki::{self, WikiPageInput};

use super::{PageDraft, Target, Wiki, form, target};
use crate::AppState;
use crate::auth::{PageActor, csrf_token_valid};
use crate::error::AppError;
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::ui::flash::{Flash, see_other_with};
use crate::ui::multipart::read_multipart;
use crate::ui::{PageResult, form_error, see_other};

/// A page form as posted.
struct Posted {
    draft: PageDraft,
    confirm: bool,
    attachment: Option<(String, Vec<u8>)>,
}

/// Reads the page form (multipart, or a plain form) and checks its CSRF token. `Ok(Err(…))`
/// is a refusal to show on the form: the body was larger than the limit.
async fn read_form(state: &AppState, request: Request) -> Result<Result<Posted, (StatusCode, String)>, AppError> {
    let is_multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (fields, attachment) = if is_multipart {
        let Some(mut form) = read_multipart(state, request).await? else {
            return Ok(Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The page and its attachment are larger than the limit ({} for the attachment): nothing was saved.",
                    crate::ui::human_size(wiki::MAX_ATTACHMENT_BYTES)
                ),
            )));
        };
        let attachment = form.take_file("attachment");
        (form.fields, attachment)
    } else {
        let headers = request.headers().clone();
        let body = axum::body::Bytes::from_request(request, state).await.map_err(|_| AppError::body_too_large())?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
        let token = fields.iter().find(|(n, _)| n == "authenticity_token").map_or("", |(_, v)| v.as_str());
        if !csrf_token_valid(state, &headers, token) {
            return Err(AppError::Csrf);
        }
        (fields, None)
    };
    let mut posted = Posted { draft: PageDraft::default(), confirm: false, attachment };
    for (name, value) in fields {
        match name.as_str() {
            "title" => posted.draft.title = value,
            "content" => posted.draft.content = value,
            "message" => posted.draft.message = value,
            "last_commit_sha" => posted.draft.last_commit_sha = value,
            "confirm" => posted.confirm = value == "yes",
            _ => {}
        }
    }
    Ok(Ok(posted))
}

/// `POST /{project}/-/wikis/{*rest}`: `-/new` creates a page, `<page>/-/edit` saves it and
/// `<page>/-/delete` deletes it (with `confirm=yes`; without, the page that asks).
pub async fn post(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(rest): Path<String>,
    request: Request,
) -> PageResult {
    let wiki = Wiki::of_project(&state, &visitor, target).await?;
    post_in(&state, &visitor, wiki, &rest, request).await
}

/// `POST /{group}/-/wikis/{*rest}`: as a project's.
pub async fn group_post(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Path(rest): Path<String>,
    request: Request,
) -> PageResult {
    let wiki = Wiki::of_group(&state, &visitor, target).await?;
    post_in(&state, &visitor, wiki, &rest, request).await
}

async fn post_in(state: &AppState, visitor: &PageActor, wiki: Wiki, rest: &str, request: Request) -> PageResult {
    wiki.require_edit(visitor)?;
    let (slug, deleting) = match target(rest) {
        Some(Target::New) => (None, false),
        Some(Target::Edit(slug)) => (Some(slug.to_owned()), false),
        Some(Target::Delete(slug)) => (Some(slug.to_owned()), true),
        _ => return Err(visitor.error(CoreError::NotFound("wiki page"))),
    };
    let mut posted = match read_form(state, request).await.map_err(|e| visitor.error(e))? {
        Ok(posted) => posted,
        Err(refusal) => return form(visitor, wiki, slug, PageDraft::default(), Some(refusal), false),
    };
    let plan = state.core.plan();
    if deleting {
        let slug = slug.unwrap_or_default();
        if !posted.confirm {
            return see_other(&format!("{}/-/delete", wiki.href(&slug)));
        }
        let deleted = plan.delete_wiki_page(wiki.access(), &slug).await.map_err(|e| visitor.error(e))?;
        let notice = Flash::notice(format!("The page {} was deleted.", deleted.title));
        return see_other_with(state, visitor, &wiki.base, &notice);
    }
    let mut attached = String::new();
    if let Some((file_name, bytes)) = posted.attachment.take() {
        match plan.upload_wiki_attachment(wiki.access(), &file_name, &bytes).await {
            Ok(attachment) => {
                let link = wiki::attachment_markdown(&attachment.file_name, &attachment.file_path);
                let draft = &mut posted.draft;
                if !draft.content.is_empty() && !draft.content.ends_with('\n') {
                    draft.content.push('\n');
                }
                draft.content.push_str(&link);
                draft.content.push('\n');
                attached = format!(" {} was attached.", attachment.file_name);
            }
            Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::Refused(_))) => {
                return form(visitor, wiki, slug, posted.draft, Some(form_error(error)), false);
            }
            Err(error) => return Err(visitor.error(error)),
        }
    }
    let input = WikiPageInput {
        title: Some(posted.draft.title.clone()),
        content: Some(posted.draft.content.clone()),
        format: None,
        message: Some(posted.draft.message.clone()),
        last_commit_sha: Some(posted.draft.last_commit_sha.clone()),
    };
    let saved = match &slug {
        None => plan.create_wiki_page(wiki.access(), &input).await,
        Some(slug) => plan.update_wiki_page(wiki.access(), slug, &input).await,
    };
    match saved {
        Ok(page) => {
            let verb = if slug.is_none() { "created" } else { "saved" };
            let notice = Flash::notice(format!("The page {} was {verb}.{attached}", page.summary.title));
            see_other_with(state, visitor, &wiki.href(&page.summary.slug), &notice)
        }
        Err(error @ (CoreError::Invalid { .. } | CoreError::Conflict(_) | CoreError::Refused(_))) => {
            form(visitor, wiki, slug, posted.draft, Some(form_error(error)), false)
        }
        Err(error) => Err(visitor.error(error)),
    }
}
