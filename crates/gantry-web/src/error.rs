//! The one error type at the HTTP edge and its two renderings: JSON `{"message": …}` for the
//! API, an HTML page for the web UI. Failures of the platform are logged here, once.

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;

/// Why a request failed.
#[derive(Debug)]
pub enum AppError {
    /// From a core operation.
    Core(CoreError),
    /// The request itself is malformed (bad JSON, a missing parameter).
    BadRequest(String),
    /// A token was presented and refused.
    InvalidToken(&'static str),
    /// The token is valid but lacks the scope this route needs.
    InsufficientScope(&'static str),
    /// A form arrived without a valid CSRF token.
    Csrf,
    /// The body's content type is not one we read.
    UnsupportedMediaType,
    /// The body is larger than the limit (in bytes) of this route.
    PayloadTooLarge(u64),
    /// No route here.
    NotFound,
    /// Nothing here, in GitLab's words for what is missing (`404 User Not Found`).
    NotFoundWith(&'static str),
}

impl From<CoreError> for AppError {
    fn from(error: CoreError) -> Self {
        AppError::Core(error)
    }
}

impl AppError {
    /// A body past the limit of the API and the forms, [`crate::BODY_LIMIT_BYTES`].
    pub fn body_too_large() -> AppError {
        AppError::PayloadTooLarge(crate::BODY_LIMIT_BYTES as u64)
    }

    /// The status and the message for the person or program that asked.
    pub fn status_and_message(&self) -> (StatusCode, String) {
        match self {
            AppError::Core(error) => {
                let status = match error {
                    CoreError::NotFound(_) => StatusCode::NOT_FOUND,
                    CoreError::Unauthorized => StatusCode::UNAUTHORIZED,
                    CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
                    CoreError::Invalid { .. } | CoreError::Refused(_) => StatusCode::BAD_REQUEST,
                    CoreError::Conflict(_) => StatusCode::CONFLICT,
                    CoreError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                    CoreError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
                    CoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let message = match error {
                    CoreError::Internal(_) => "something went wrong on the server; it has been logged".to_owned(),
                    other => other.to_string(),
                };
                (status, message)
            }
            AppError::BadRequest(message) => (StatusCode::BAD_REQUEST, message.clone()),
            AppError::InvalidToken(why) => (StatusCode::UNAUTHORIZED, format!("401 Unauthorized: {why}")),
            AppError::InsufficientScope(needed) => (
                StatusCode::FORBIDDEN,
                format!("insufficient_scope: this request needs a token with the {needed} scope"),
            ),
            AppError::Csrf => (
                StatusCode::FORBIDDEN,
                "the form has expired or was not sent from this site; reload the page and try again".to_owned(),
            ),
            AppError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as application/json, application/x-www-form-urlencoded or multipart/form-data"
                    .to_owned(),
            ),
            AppError::PayloadTooLarge(limit) => {
                (StatusCode::PAYLOAD_TOO_LARGE, format!("request body is larger than the limit of {limit} bytes"))
            }
            AppError::NotFound => (StatusCode::NOT_FOUND, "404 Not Found".to_owned()),
            AppError::NotFoundWith(message) => (StatusCode::NOT_FOUND, (*message).to_owned()),
        }
    }

    fn log(&self) {
        if let AppError::Core(CoreError::Internal(error)) = self {
            tracing::error!(error = %error, "request failed");
        }
    }
}

/// An error answered as JSON (`{"message": …}`), as GitLab's API does.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

#[derive(serde::Serialize)]
struct ErrorBody {
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let (status, message) = self.0.status_and_message();
        let message = match &self.0 {
            AppError::Core(CoreError::NotFound(what)) => format!("404 {} Not Found", capitalise(what)),
            _ => message,
        };
        let mut response = (status, Json(ErrorBody { message })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert("WWW-Authenticate", axum::http::HeaderValue::from_static("Bearer realm=\"gantry\""));
        }
        response
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The error page of the web UI, in the site's frame (the top bar, with the visitor's menu).
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: crate::ui::Chrome,
    status: u16,
    title: String,
    message: String,
    /// For an anonymous visitor: the sign-in page, which leads back here.
    sign_in_href: Option<String>,
}

/// An error answered as an HTML page (rendered by [`error_pages`], which knows the visitor and
/// the page asked for).
#[derive(Debug)]
pub struct PageError {
    pub error: AppError,
}

impl<E: Into<AppError>> From<E> for PageError {
    fn from(error: E) -> Self {
        PageError { error: error.into() }
    }
}

/// What the error page says, left in the response by [`PageError`] for [`error_pages`].
#[derive(Debug, Clone)]
struct ErrorPageContent {
    title: String,
    message: String,
}

/// Left in a response by [`PageError`] when the visitor must sign in first.
#[derive(Debug, Clone, Copy)]
struct SignInFirst;

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.error.log();
        let (status, message) = self.error.status_and_message();
        if status == StatusCode::UNAUTHORIZED {
            let mut response = axum::response::Redirect::to(SIGN_IN).into_response();
            response.extensions_mut().insert(SignInFirst);
            return response;
        }
        let title = match status {
            StatusCode::NOT_FOUND => "Page not found".to_owned(),
            StatusCode::FORBIDDEN => "Not allowed".to_owned(),
            other => other.canonical_reason().unwrap_or("Error").to_owned(),
        };
        let message = if status == StatusCode::NOT_FOUND {
            "The page you asked for does not exist, or you don't have permission to see it.".to_owned()
        } else {
            crate::ui::sentence(&message)
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPageContent { title, message });
        response
    }
}

const SIGN_IN: &str = "/users/sign_in";

/// The visitor of a page, as [`crate::auth::PageActor`] found it, for the error page's frame
/// (so it is not looked up twice).
#[derive(Debug, Clone, Default)]
pub struct VisitorSlot(pub std::sync::Arc<std::sync::OnceLock<gantry_core::Actor>>);

/// Middleware: renders the pages of [`PageError`]s in the site's frame, with the visitor's menu,
/// and for anonymous visitors a way to sign in that leads back to the page asked for (a
/// `GET` of a local path: `/users/sign_in?redirect_to=…`).
pub async fn error_pages(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let slot = VisitorSlot::default();
    request.extensions_mut().insert(slot.clone());
    let csrf = request.extensions().get::<crate::auth::CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
    let session = crate::auth::session_cookie(request.headers()).map(str::to_owned);
    let here = request.uri().path_and_query().map_or_else(|| request.uri().path().to_owned(), |p| p.to_string());
    let comes_back = matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD)
        && crate::ui::sessions::is_local_path(&here);
    let mut response = next.run(request).await;
    let sign_in_href = comes_back.then(|| {
        let encoded = percent_encoding::utf8_percent_encode(&here, percent_encoding::NON_ALPHANUMERIC);
        format!("{SIGN_IN}?redirect_to={encoded}")
    });
    if response.extensions_mut().remove::<SignInFirst>().is_some() {
        if let Some(href) = &sign_in_href
            && let Ok(location) = axum::http::HeaderValue::from_str(href)
        {
            response.headers_mut().insert(axum::http::header::LOCATION, location);
        }
        return response;
    }
    let Some(content) = response.extensions_mut().remove::<ErrorPageContent>() else { return response };
    let actor = match slot.0.get() {
        Some(actor) => actor.clone(),
        None => match &session {
            Some(secret) => match state.core.manage().session_user(secret).await {
                Ok(Some(user)) => gantry_core::Actor::User(user),
                _ => gantry_core::Actor::Anonymous,
            },
            None => gantry_core::Actor::Anonymous,
        },
    };
    let signed_in = actor.user().is_some();
    let status = response.status();
    let page = ErrorPage {
        chrome: crate::ui::Chrome {
            username: actor.user().map(|u| u.username.clone()),
            admin: gantry_core::policy::administers(&actor),
            csrf,
            notice: None,
            todos: 0,
            // An error page searches everywhere.
            search_project: None,
        },
        status: status.as_u16(),
        title: content.title,
        message: content.message,
        sign_in_href: sign_in_href.filter(|_| !signed_in),
    };
    match page.render() {
        Ok(html) => {
            // The handler's status, headers and extensions (the route's label for metrics) stay.
            let (mut parts, _) = response.into_parts();
            parts.headers.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(html))
        }
        Err(_) => response,
    }
}
