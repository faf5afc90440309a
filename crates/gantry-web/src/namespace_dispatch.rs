//! Pages under a namespace's or project's own path (`/acme/platform` and
//! `/acme/platform/api/-/settings`): nested groups make the depth unknown, so the path is
//! resolved through the routes table first and the rest (after `/-/`) is routed by the group
//! or project page router from `router.rs`. Git's smart HTTP endpoints (`…/api.git/info/refs`)
//! go to the git router.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use gantry_core::namespaces_route::RouteTarget;
use gantry_types::{FullPath, NamespaceId, ProjectId};
use tower::ServiceExt;

use crate::AppState;
use crate::git_http::{GitRepository, split_git_path};
use crate::metrics::RouteLabel;

/// The routers for group (and user) pages and for project pages.
#[derive(Clone)]
pub struct NamespaceRouters {
    pub group: Router,
    pub project: Router,
    pub git: Router,
}

/// The namespace a group page request is about (put in the request by the dispatcher).
#[derive(Debug, Clone, Copy)]
pub struct NamespaceTarget(pub NamespaceId);

/// The project a project page request is about (put in the request by the dispatcher).
#[derive(Debug, Clone, Copy)]
pub struct ProjectTarget(pub ProjectId);

/// Splits `/acme/api/-/members/3` into (`acme/api`, `/members/3`).
fn split_path(path: &str) -> (&str, String) {
    let trimmed = path.trim_start_matches('/');
    match trimmed.find("/-/") {
        Some(at) => (&trimmed[..at], trimmed[at + 2..].to_owned()),
        None => (trimmed.trim_end_matches('/'), "/".to_owned()),
    }
}

/// The fallback of the top-level router.
pub async fn dispatch(State(state): State<AppState>, routers: NamespaceRouters, mut request: Request) -> Response {
    if let Some((repository, endpoint)) = split_git_path(request.uri().path()) {
        // Git resolves the project itself: anonymous clients must get the same answer for a
        // private project as for a missing one.
        let repository = GitRepository(repository.to_owned());
        let uri = match request.uri().query() {
            Some(query) => format!("{endpoint}?{query}"),
            None => endpoint.to_owned(),
        };
        let Ok(uri) = uri.parse::<Uri>() else {
            return crate::ui::not_found().await.into_response();
        };
        *request.uri_mut() = uri;
        request.extensions_mut().insert(repository);
        let mut response = match routers.git.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        response.extensions_mut().insert(RouteLabel(format!("/{{project}}.git{endpoint}")));
        return response;
    }
    let (full_path, rest) = split_path(request.uri().path());
    if FullPath::parse(full_path).is_err() {
        return crate::ui::not_found().await.into_response();
    }
    let target = match state.core.manage().resolve_path(full_path).await {
        Ok(Some(target)) => target,
        Ok(None) => return crate::ui::not_found().await.into_response(),
        Err(error) => return crate::error::PageError::from(error).into_response(),
    };
    let first_segment = rest.split('/').nth(1).unwrap_or("");
    let uri = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.clone(),
    };
    let Ok(uri) = uri.parse::<Uri>() else {
        return crate::ui::not_found().await.into_response();
    };
    *request.uri_mut() = uri;
    let (router, label) = match target {
        RouteTarget::Namespace(id) => {
            request.extensions_mut().insert(NamespaceTarget(id));
            (routers.group, format!("/{{namespace}}/-/{first_segment}"))
        }
        RouteTarget::Project(id) => {
            request.extensions_mut().insert(ProjectTarget(id));
            (routers.project, format!("/{{project}}/-/{first_segment}"))
        }
    };
    let mut response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    response.extensions_mut().insert(RouteLabel(label));
    response
}

#[cfg(test)]
mod tests {
    use super::split_path;

    #[test]
    fn splits_at_the_dash_separator() {
        assert_eq!(split_path("/acme/api"), ("acme/api", "/".to_owned()));
        assert_eq!(split_path("/acme/api/"), ("acme/api", "/".to_owned()));
        assert_eq!(split_path("/acme/api/-/members/3"), ("acme/api", "/members/3".to_owned()));
    }
}
