//! Avatar images at GitLab's addresses (`/uploads/-/system/<model>/avatar/<id>/<file name>`),
//! which API answers name in `avatar_url`, and the settings pages' forms that upload or remove
//! them. Who may see or change one is core's decision (who may see or change its user, group,
//! project or topic); the content type comes from the image's own first bytes.

use axum::body::Body;
use axum::extract::{Extension, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::manage::avatars::{AvatarSubject, AvatarUpload};
use gantry_core::manage::groups::Lookup;
use gantry_types::{NamespaceId, ProjectId, TopicId, UserId};

use crate::AppState;
use crate::auth::{PageActor, csrf_token_valid};
use crate::error::{AppError, PageError};
use crate::namespace_dispatch::{NamespaceTarget, ProjectTarget};
use crate::ui::{PageResult, see_other};

async fn serve(
    state: &AppState,
    visitor: &PageActor,
    headers: &HeaderMap,
    subject: AvatarSubject,
    filename: &str,
) -> Result<Response, PageError> {
    let image = match state.core.manage().avatar_image(&visitor.actor, subject, filename).await {
        Ok(image) => image,
        // A hidden group's or project's avatar is "not found", as the group or project is.
        Err(CoreError::Unauthorized | CoreError::Forbidden(_)) => return Err(not_found()),
        Err(error) => return Err(visitor.error(error)),
    };
    let etag = format!("\"{}\"", image.digest);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag));
    let mut response =
        if matches { StatusCode::NOT_MODIFIED.into_response() } else { Body::from(image.bytes).into_response() };
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(image.content_type));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; sandbox"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, etag);
    }
    Ok(response)
}

fn id_of(id: &str) -> Option<i64> {
    id.parse::<i64>().ok()
}

fn not_found() -> PageError {
    PageError { error: AppError::Core(CoreError::NotFound("avatar")) }
}

/// `GET /uploads/-/system/user/avatar/{user_id}/{filename}`
pub async fn user_avatar(
    State(state): State<AppState>,
    visitor: PageActor,
    headers: HeaderMap,
    Path((id, filename)): Path<(String, String)>,
) -> PageResult {
    let Some(id) = id_of(&id) else { return Err(not_found()) };
    serve(&state, &visitor, &headers, AvatarSubject::User(UserId(id)), &filename).await
}

/// `GET /uploads/-/system/group/avatar/{id}/{filename}`
pub async fn group_avatar(
    State(state): State<AppState>,
    visitor: PageActor,
    headers: HeaderMap,
    Path((id, filename)): Path<(String, String)>,
) -> PageResult {
    let Some(id) = id_of(&id) else { return Err(not_found()) };
    serve(&state, &visitor, &headers, AvatarSubject::Group(NamespaceId(id)), &filename).await
}

/// `GET /uploads/-/system/project/avatar/{id}/{filename}`
pub async fn project_avatar(
    State(state): State<AppState>,
    visitor: PageActor,
    headers: HeaderMap,
    Path((id, filename)): Path<(String, String)>,
) -> PageResult {
    let Some(id) = id_of(&id) else { return Err(not_found()) };
    serve(&state, &visitor, &headers, AvatarSubject::Project(ProjectId(id)), &filename).await
}

/// `GET /uploads/-/system/projects/topic/avatar/{topic_id}/{filename}`
pub async fn topic_avatar(
    State(state): State<AppState>,
    visitor: PageActor,
    headers: HeaderMap,
    Path((id, filename)): Path<(String, String)>,
) -> PageResult {
    let Some(id) = id_of(&id) else { return Err(not_found()) };
    serve(&state, &visitor, &headers, AvatarSubject::Topic(TopicId(id)), &filename).await
}

/// An avatar form from a settings page: a multipart form with the CSRF token and either an
/// image (`avatar`) or `remove`. Read by the handlers themselves, after they have asked core
/// whether the visitor may change the avatar (so no one learns more from a bad form).
struct AvatarForm {
    upload: Option<AvatarUpload>,
    remove: bool,
}

impl AvatarForm {
    async fn read(request: Request, state: &AppState) -> Result<AvatarForm, AppError> {
        let headers = request.headers().clone();
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|_| AppError::BadRequest("choose an image file to upload".to_owned()))?;
        let (mut token, mut upload, mut remove) = (String::new(), None, false);
        while let Some(field) =
            multipart.next_field().await.map_err(|e| AppError::BadRequest(format!("invalid form: {e}")))?
        {
            let name = field.name().unwrap_or("").to_owned();
            let filename = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(|_| AppError::body_too_large())?;
            match name.as_str() {
                "authenticity_token" => token = String::from_utf8_lossy(&bytes).into_owned(),
                "remove" => remove = true,
                // A file input left empty sends a part without content.
                "avatar" if !bytes.is_empty() => {
                    upload = Some(AvatarUpload { filename: filename.unwrap_or_default(), bytes: bytes.to_vec() });
                }
                _ => {}
            }
        }
        if !csrf_token_valid(state, &headers, &token) {
            return Err(AppError::Csrf);
        }
        if upload.is_none() && !remove {
            return Err(AppError::BadRequest("choose an image file to upload".to_owned()));
        }
        Ok(AvatarForm { upload, remove })
    }

    /// The change to make: a new image, or none (removal).
    fn change(&self) -> Option<&AvatarUpload> {
        if self.remove { None } else { self.upload.as_ref() }
    }
}

/// Asks core whether the visitor may change `subject`'s avatar, reads the form, makes the change.
async fn change_avatar(
    state: &AppState,
    visitor: &PageActor,
    subject: AvatarSubject,
    request: Request,
) -> Result<(), PageError> {
    let manage = state.core.manage();
    manage.authorize_avatar_change(&visitor.actor, subject).await.map_err(|e| visitor.error(e))?;
    let form = AvatarForm::read(request, state).await.map_err(|e| visitor.error(e))?;
    manage.set_avatar(&visitor.actor, subject, form.change()).await.map_err(|e| visitor.error(e))?;
    Ok(())
}

/// `POST /-/profile/avatar`: sets or removes the signed-in user's avatar.
pub async fn save_profile_avatar(State(state): State<AppState>, visitor: PageActor, request: Request) -> PageResult {
    let user = visitor.require_user()?;
    change_avatar(&state, &visitor, AvatarSubject::User(user.id), request).await?;
    see_other("/-/profile")
}

/// `POST /{group}/-/settings/avatar`
pub async fn save_group_avatar(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(NamespaceTarget(id)): Extension<NamespaceTarget>,
    request: Request,
) -> PageResult {
    change_avatar(&state, &visitor, AvatarSubject::Group(id), request).await?;
    let path = state.core.manage().namespace_chain(id).await?.last().map(|n| n.full_path.clone()).unwrap_or_default();
    see_other(&format!("/{path}/-/settings"))
}

/// `POST /{project}/-/settings/avatar`
pub async fn save_project_avatar(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(ProjectTarget(id)): Extension<ProjectTarget>,
    request: Request,
) -> PageResult {
    change_avatar(&state, &visitor, AvatarSubject::Project(id), request).await?;
    let (project, _) =
        state.core.find_project(&visitor.actor, &Lookup::Id(id.0)).await.map_err(|e| visitor.error(e))?;
    see_other(&format!("/{}/-/settings", project.full_path))
}
