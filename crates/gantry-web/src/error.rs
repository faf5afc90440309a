//! The one error type at the HTTP edge and its two renderings: JSON `{"message": …}` for the
//! API, an HTML page for the web UI. Failures of the platform are logged here, once.

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
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

/// The error page of the web UI.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    message: String,
    signed_in: bool,
}

/// An error answered as an HTML page.
#[derive(Debug)]
pub struct PageError {
    pub error: AppError,
    /// Whether the visitor is signed in (an anonymous visitor is offered the sign-in page).
    pub signed_in: bool,
}

impl<E: Into<AppError>> From<E> for PageError {
    fn from(error: E) -> Self {
        PageError { error: error.into(), signed_in: true }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.error.log();
        let (status, message) = self.error.status_and_message();
        if status == StatusCode::UNAUTHORIZED {
            return axum::response::Redirect::to("/users/sign_in").into_response();
        }
        let title = match status {
            StatusCode::NOT_FOUND => "Page not found".to_owned(),
            StatusCode::UNAUTHORIZED => "Sign in to continue".to_owned(),
            StatusCode::FORBIDDEN => "Not allowed".to_owned(),
            other => other.canonical_reason().unwrap_or("Error").to_owned(),
        };
        let message = if status == StatusCode::NOT_FOUND {
            "The page you asked for does not exist, or you don't have permission to see it.".to_owned()
        } else {
            message
        };
        let page = ErrorPage { status: status.as_u16(), title, message, signed_in: self.signed_in };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => status.into_response(),
        }
    }
}
