//! Who is asking: the extractors that authenticate every request, check token scopes for the
//! API and CSRF tokens for forms. Routes get their actor only through these.
//!
//! A form's CSRF token is bound to the browser's session cookie (or, before it has one, to
//! its pre-session cookie): see `gantry_core::manage::csrf`.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use gantry_core::manage::csrf::CsrfBinding;
use gantry_core::{Actor, CoreError};
use gantry_types::TokenScope;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, AppError, PageError};

/// Cookie holding the session secret.
pub const SESSION_COOKIE: &str = "gantry_session";
/// Cookie holding a random value for browsers without a session: their forms' CSRF token is
/// bound to it.
pub const CSRF_COOKIE: &str = "gantry_csrf";

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The browser's session cookie, when it has one of the right shape.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE).filter(|s| s.len() == 64)
}

/// The browser's pre-session cookie, when it has one of the right shape.
fn visitor_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, CSRF_COOKIE).filter(|v| v.len() == 64)
}

/// What this browser's CSRF token is bound to: its session if it has one, else its
/// pre-session cookie (`fresh`, when the browser gets it with this response).
fn csrf_binding<'a>(headers: &'a HeaderMap, fresh: Option<&'a str>) -> Option<CsrfBinding<'a>> {
    match session_cookie(headers) {
        Some(session) => Some(CsrfBinding::Session(session)),
        None => visitor_cookie(headers).or(fresh).map(CsrfBinding::Visitor),
    }
}

/// Whether `token` is this browser's CSRF token (for forms read by their own extractors, such
/// as multipart uploads).
pub(crate) fn csrf_token_valid(state: &AppState, headers: &HeaderMap, token: &str) -> bool {
    csrf_binding(headers, None).is_some_and(|binding| state.core.manage().csrf_token_matches(binding, token))
}

/// The scope a token needs for an API request: reads need `read_api` (or `api`; `read_user`
/// for reads of `/user` and `/users`), writes `api`.
fn scope_allows(scopes: &gantry_types::TokenScopes, method: &Method, path: &str) -> Result<(), &'static str> {
    let read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let users = ["/api/v4/user", "/api/v4/users"]
        .iter()
        .any(|prefix| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')));
    if scopes.contains(TokenScope::Api)
        || (read && scopes.contains(TokenScope::ReadApi))
        || (read && users && scopes.contains(TokenScope::ReadUser))
    {
        Ok(())
    } else if read {
        Err("read_api")
    } else {
        Err("api")
    }
}

/// The caller of an API route: anonymous, or the owner of a personal access token whose
/// scopes allow this request.
#[derive(Debug, Clone)]
pub struct ApiActor(pub Actor);

fn presented_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get("private-token") {
        return value.to_str().ok().map(str::trim);
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::trim)
}

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(secret) = presented_token(&parts.headers) else {
            return Ok(ApiActor(Actor::Anonymous));
        };
        let (user, token) = state
            .core
            .manage()
            .authenticate_token(secret)
            .await?
            .map_err(|problem| AppError::InvalidToken(problem.message()))?;
        let scopes = gantry_types::TokenScopes::parse_list(&token.scopes)
            .map_err(|_| AppError::InvalidToken("invalid token"))?;
        scope_allows(&scopes, &parts.method, parts.uri.path()).map_err(AppError::InsufficientScope)?;
        let actor = Actor::User(user);
        match sudo_target(parts) {
            Some(who) => {
                let user = state.core.manage().sudo(&actor, &scopes, &who).await.map_err(|error| match error {
                    CoreError::NotFound(_) => AppError::NotFoundWith("404 User Not Found"),
                    other => AppError::Core(other),
                })?;
                Ok(ApiActor(Actor::User(user)))
            }
            None => Ok(ApiActor(actor)),
        }
    }
}

/// Whom an administrator's request acts as: the `Sudo` header, or the `sudo` parameter.
fn sudo_target(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get("sudo").and_then(|v| v.to_str().ok()) {
        return Some(value.to_owned());
    }
    let query = parts.uri.query()?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs.into_iter().find(|(name, _)| name == "sudo").map(|(_, value)| value)
}

/// The CSRF token of this browser's forms, placed in the request by [`csrf_cookie`].
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Middleware: makes sure every browser has a pre-session cookie, so the first form it sees
/// already carries a token, and works out the token of the browser's forms.
pub async fn csrf_cookie(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    if path.starts_with("/api/")
        || path.starts_with("/assets/")
        || path.starts_with("/-/health")
        || path.starts_with("/-/readiness")
        || path == "/metrics"
        || crate::git_http::split_git_path(path).is_some()
    {
        return next.run(request).await;
    }
    let fresh = visitor_cookie(request.headers()).is_none().then(gantry_core::random_token);
    let token =
        csrf_binding(request.headers(), fresh.as_deref()).map(|binding| state.core.manage().csrf_token(binding));
    request.extensions_mut().insert(CsrfToken(token.unwrap_or_default()));
    let had_flash = cookie(request.headers(), crate::ui::flash::FLASH_COOKIE).is_some();
    let mut response = next.run(request).await;
    if had_flash {
        crate::ui::flash::clear_shown_flash(&state, &mut response);
    }
    if let Some(fresh) = fresh {
        let cookie = set_cookie(CSRF_COOKIE, &fresh, None, state.config.secure_cookies);
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, `Secure` behind https; `max_age`
/// `Some(0)` deletes the cookie, `None` makes it last for the browser session.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The visitor of a web page: their actor, their session secret and their CSRF token.
#[derive(Debug, Clone)]
pub struct PageActor {
    pub actor: Actor,
    pub session: Option<String>,
    pub csrf: String,
    /// The project whose page this is, if it is one (the top bar's search looks there first).
    pub project: Option<gantry_types::ProjectId>,
    /// What the form before this page left for it (after its redirect).
    pub flash: Option<crate::ui::flash::Flash>,
    /// The browser's pre-session cookie (what its flash is bound to before it signs in).
    pub pre_session: Option<String>,
    /// How many to-dos the signed-in user has pending (the top bar's count).
    pub pending_todos: i64,
}

impl PageActor {
    /// What this browser's flash is bound to: its session, else its pre-session cookie.
    pub(crate) fn flash_binding(&self) -> Option<CsrfBinding<'_>> {
        match (&self.session, &self.pre_session) {
            (Some(session), _) => Some(CsrfBinding::Session(session)),
            (None, Some(cookie)) => Some(CsrfBinding::Visitor(cookie)),
            (None, None) => None,
        }
    }
}

impl PageActor {
    /// The signed-in user, or a redirect to the sign-in page (as an error the handler returns).
    pub fn require_user(&self) -> Result<&gantry_core::UserRow, PageError> {
        self.actor.user().ok_or(PageError { error: AppError::Core(gantry_core::CoreError::Unauthorized) })
    }

    /// Wraps an error for this visitor's error page.
    pub fn error(&self, error: impl Into<AppError>) -> PageError {
        PageError { error: error.into() }
    }
}

impl FromRequestParts<AppState> for PageActor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let csrf = parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        let session = session_cookie(&parts.headers).map(str::to_owned);
        let actor = match &session {
            Some(secret) => match state.core.manage().session_user(secret).await? {
                Some(user) => Actor::User(user),
                None => Actor::Anonymous,
            },
            None => Actor::Anonymous,
        };
        let project = parts.extensions.get::<crate::namespace_dispatch::ProjectTarget>().map(|target| target.0);
        if let Some(slot) = parts.extensions.get::<crate::error::VisitorSlot>() {
            let _ = slot.0.set(actor.clone());
        }
        let flash = csrf_binding(&parts.headers, None)
            .and_then(|binding| crate::ui::flash::read(state, &parts.headers, binding));
        let pre_session = visitor_cookie(&parts.headers).map(str::to_owned);
        let pending_todos = state.core.plan().pending_todo_count(&actor).await?;
        Ok(PageActor { actor, session, csrf, project, flash, pre_session, pending_todos })
    }
}

/// A form post whose CSRF token is the one of this browser (bound to its session, or to its
/// pre-session cookie before it signs in), parsed into `T`; bodies past `LIMIT` bytes are
/// refused.
#[derive(Debug)]
pub struct CsrfForm<T, const LIMIT: usize = { crate::BODY_LIMIT_BYTES }>(pub T);

/// Largest body of the sign-in and sign-up forms: a few short fields.
pub const ACCOUNT_FORM_LIMIT: usize = 16 * 1024;

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    authenticity_token: String,
}

impl<T: DeserializeOwned + Send, const LIMIT: usize> FromRequest<AppState> for CsrfForm<T, LIMIT> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(AppError::UnsupportedMediaType.into());
        }
        let (parts, body) = request.into_parts();
        let limit = LIMIT;
        let body = axum::body::to_bytes(body, limit).await.map_err(|_| AppError::PayloadTooLarge(limit as u64))?;
        let field: CsrfField = serde_urlencoded::from_bytes(&body).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let binding = csrf_binding(&parts.headers, None);
        if !binding.is_some_and(|binding| state.core.manage().csrf_token_matches(binding, &field.authenticity_token)) {
            return Err(AppError::Csrf.into());
        }
        let form =
            serde_urlencoded::from_bytes(&body).map_err(|e| AppError::BadRequest(format!("invalid form: {e}")))?;
        Ok(CsrfForm(form))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_and_scopes() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; gantry_csrf=xyz; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, CSRF_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "missing"), None);
        let read_only = gantry_types::TokenScopes::parse_list("read_api").unwrap();
        assert!(scope_allows(&read_only, &Method::GET, "/api/v4/projects").is_ok());
        assert_eq!(scope_allows(&read_only, &Method::POST, "/api/v4/projects"), Err("api"));
        let git_only = gantry_types::TokenScopes::parse_list("read_repository").unwrap();
        assert_eq!(scope_allows(&git_only, &Method::GET, "/api/v4/projects"), Err("read_api"));
        let users_only = gantry_types::TokenScopes::parse_list("read_user").unwrap();
        assert!(scope_allows(&users_only, &Method::GET, "/api/v4/user").is_ok());
        assert!(scope_allows(&users_only, &Method::GET, "/api/v4/users/7/status").is_ok());
        assert_eq!(scope_allows(&users_only, &Method::GET, "/api/v4/usersx"), Err("read_api"));
        assert_eq!(scope_allows(&users_only, &Method::GET, "/api/v4/projects"), Err("read_api"));
        assert_eq!(scope_allows(&users_only, &Method::PUT, "/api/v4/user/status"), Err("api"));
    }
}
