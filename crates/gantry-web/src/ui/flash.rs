//! After a form succeeds it redirects (POST → 303 → GET), so reloading never repeats it; what
//! the form did travels to the next page in a cookie sealed by core and bound to the browser
//! (`gantry_core::manage::flash`): a notice every page shows in its frame, and a secret (a new
//! token) that only the page it was made for shows, once. The cookie is dropped by the first
//! page shown with it (`clear_shown_flash`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gantry_core::manage::csrf::CsrfBinding;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{PageActor, cookie, set_cookie};
use crate::ui::PageResult;

/// The cookie carrying a sealed [`Flash`].
pub const FLASH_COOKIE: &str = "gantry_flash";
/// How long a flash waits for its page.
const FLASH_SECONDS: u64 = 300;
/// The longest notice kept (a sentence or two).
const NOTICE_LIMIT: usize = 400;

/// What a form left for the next page.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Flash {
    /// What happened, in a sentence ("The branch feature was deleted.").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// A secret made by the form, shown once by the page it redirects to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

/// A secret shown once: what it is (the page decides how to show each kind), its value and a
/// detail some kinds need (a deploy token's user name).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Secret {
    pub kind: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl Flash {
    pub fn notice(text: impl Into<String>) -> Flash {
        let mut text: String = text.into();
        if text.len() > NOTICE_LIMIT {
            let cut = (0..=NOTICE_LIMIT).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            text.truncate(cut);
        }
        Flash { notice: Some(text), secret: None }
    }

    pub fn secret(kind: &str, value: impl Into<String>, detail: impl Into<String>) -> Flash {
        Flash {
            notice: None,
            secret: Some(Secret { kind: kind.to_owned(), value: value.into(), detail: detail.into() }),
        }
    }

    /// The secret of `kind`, when this flash carries one.
    pub fn secret_of(&self, kind: &str) -> Option<&Secret> {
        self.secret.as_ref().filter(|secret| secret.kind == kind)
    }
}

/// The flash this request carries for the browser `binding` names, if any.
pub(crate) fn read(state: &AppState, headers: &HeaderMap, binding: CsrfBinding<'_>) -> Option<Flash> {
    let sealed = cookie(headers, FLASH_COOKIE)?;
    let opened = state.core.manage().open_flash(binding, sealed)?;
    serde_json::from_str(&opened).ok()
}

/// A 303 to `location` leaving `flash` for the page there (a browser without cookies only gets
/// the redirect).
pub fn see_other_with(state: &AppState, visitor: &PageActor, location: &str, flash: &Flash) -> PageResult {
    let mut response = Redirect::to(location).into_response();
    if let Some(binding) = visitor.flash_binding() {
        let json = serde_json::to_string(flash).unwrap_or_default();
        let sealed = state.core.manage().seal_flash(binding, &json);
        let value = set_cookie(FLASH_COOKIE, &sealed, Some(FLASH_SECONDS), state.config.secure_cookies);
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// Drops the flash cookie of a request that carried one once its page was shown (a redirect
/// keeps it for its page).
pub(crate) fn clear_shown_flash(state: &AppState, response: &mut Response) {
    let shown = response.status() == StatusCode::OK || response.status().is_client_error();
    let replaced = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|value| value.to_str().is_ok_and(|v| v.starts_with(&format!("{FLASH_COOKIE}="))));
    if shown && !replaced {
        let value = set_cookie(FLASH_COOKIE, "", Some(0), state.config.secure_cookies);
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}
