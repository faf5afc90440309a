//! Sign in, sign up, sign out (of this browser or everywhere).

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use gantry_core::manage::accounts::{NewAccount, SESSION_LIFETIME};
use serde::Deserialize;

use super::{Chrome, PageResult, form_error, render, see_other};
use crate::AppState;
use crate::auth::{ACCOUNT_FORM_LIMIT, CsrfForm, PageActor, SESSION_COOKIE, set_cookie};

#[derive(Template)]
#[template(path = "users/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    login: String,
    error: Option<String>,
    redirect_to: String,
    signup_enabled: bool,
}

#[derive(Template)]
#[template(path = "users/sign_up.html")]
struct SignUpPage {
    chrome: Chrome,
    username: String,
    email: String,
    name: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RedirectQuery {
    #[serde(default)]
    redirect_to: String,
}

/// Where a signed-in visitor goes when no (acceptable) page was asked for.
const DEFAULT_PAGE: &str = "/dashboard";

/// The page to go to after signing in: `target` when it is a path on this site, else the
/// dashboard (no open redirects).
fn local_redirect(target: &str) -> &str {
    if is_local_path(target) { target } else { DEFAULT_PAGE }
}

/// Whether `target` is a plain path of this site. Browsers drop tabs and newlines from URLs
/// and read `\` as `/`, so `/<tab>/evil.example` or `/\evil.example` would leave the site: the
/// target must start with one `/` and hold no backslash or control character, both as given
/// and once percent-decoded (`%09`), hold no whitespace as given, and parse as a URI without a
/// scheme or a host.
pub(crate) fn is_local_path(target: &str) -> bool {
    let plain = |path: &str| {
        path.starts_with('/') && !path.starts_with("//") && !path.chars().any(|c| c == '\\' || c.is_control())
    };
    let decoded = percent_encoding::percent_decode_str(target).decode_utf8_lossy();
    if !plain(target) || !plain(&decoded) || target.chars().any(char::is_whitespace) {
        return false;
    }
    target.parse::<axum::http::Uri>().is_ok_and(|uri| uri.scheme().is_none() && uri.authority().is_none())
}

/// `GET /users/sign_in`
pub async fn sign_in_form(
    State(state): State<AppState>,
    visitor: PageActor,
    Query(query): Query<RedirectQuery>,
) -> PageResult {
    if visitor.actor.user().is_some() {
        return see_other(local_redirect(&query.redirect_to));
    }
    let signup_enabled = state.core.manage().signup_enabled().await?;
    let page = SignInPage {
        chrome: Chrome::new(&visitor),
        login: String::new(),
        error: None,
        redirect_to: query.redirect_to,
        signup_enabled,
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    redirect_to: String,
}

/// `POST /users/sign_in`
pub async fn sign_in(
    State(state): State<AppState>,
    visitor: PageActor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    CsrfForm(form): CsrfForm<SignInForm, ACCOUNT_FORM_LIMIT>,
) -> PageResult {
    match state.core.manage().sign_in(&form.login, &form.password, &client.ip().to_string()).await {
        Ok((_, secret)) => {
            let cookie =
                set_cookie(SESSION_COOKIE, &secret, Some(SESSION_LIFETIME.as_secs()), state.config.secure_cookies);
            let mut headers = HeaderMap::new();
            headers.insert(header::SET_COOKIE, cookie.parse().expect("cookie is a valid header"));
            Ok((headers, Redirect::to(local_redirect(&form.redirect_to))).into_response())
        }
        Err(error) => {
            let (status, message) = form_error(error);
            let signup_enabled = state.core.manage().signup_enabled().await?;
            let page = SignInPage {
                chrome: Chrome::new(&visitor),
                login: form.login,
                error: Some(message),
                redirect_to: form.redirect_to,
                signup_enabled,
            };
            render(status, &page)
        }
    }
}

/// `GET /users/sign_up`
pub async fn sign_up_form(visitor: PageActor) -> PageResult {
    if visitor.actor.user().is_some() {
        return see_other("/dashboard");
    }
    let page = SignUpPage {
        chrome: Chrome::new(&visitor),
        username: String::new(),
        email: String::new(),
        name: String::new(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// `POST /users/sign_up`: creates the account and signs it in, or, when it waits for an
/// administrator's approval, says so on the sign-in page.
pub async fn sign_up(
    State(state): State<AppState>,
    visitor: PageActor,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    CsrfForm(form): CsrfForm<SignUpForm, ACCOUNT_FORM_LIMIT>,
) -> PageResult {
    let account = NewAccount {
        username: form.username.clone(),
        email: form.email.clone(),
        name: form.name.clone(),
        password: form.password.clone(),
    };
    let user = match state.core.manage().sign_up(&account).await {
        Ok(user) => user,
        Err(error) => {
            let (status, message) = form_error(error);
            let page = SignUpPage {
                chrome: Chrome::new(&visitor),
                username: form.username,
                email: form.email,
                name: form.name,
                error: Some(message),
            };
            return render(status, &page);
        }
    };
    if user.pending_approval {
        let notice = "Your account has been created and is waiting for an administrator's approval: \
                      you can sign in once it is approved.";
        return crate::ui::flash::see_other_with(
            &state,
            &visitor,
            "/users/sign_in",
            &crate::ui::flash::Flash::notice(notice),
        );
    }
    let (_, secret) = state.core.manage().sign_in(&form.username, &form.password, &client.ip().to_string()).await?;
    let cookie = set_cookie(SESSION_COOKIE, &secret, Some(SESSION_LIFETIME.as_secs()), state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/dashboard")).into_response())
}

/// `POST /users/sign_out`
pub async fn sign_out(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    if let Some(secret) = &visitor.session {
        state.core.manage().sign_out(secret).await?;
    }
    let cookie = set_cookie(SESSION_COOKIE, "", Some(0), state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/users/sign_in")).into_response())
}

/// `POST /-/profile/sign_out_everywhere`: ends every session of the user, this one included.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    visitor: PageActor,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> PageResult {
    visitor.require_user()?;
    state.core.manage().sign_out_everywhere(&visitor.actor).await?;
    let cookie = set_cookie(SESSION_COOKIE, "", Some(0), state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/users/sign_in")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        for local in ["/group/project?x=1", "/dashboard", "/a/-/tree/main/b%20c.txt", "/a#readme"] {
            assert_eq!(local_redirect(local), local);
        }
        for foreign in [
            "",
            "dashboard",
            "//evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/%09/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/%0d%0a/evil.example",
            "/%5cevil.example",
            "/%2f/evil.example",
            "https:evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            " /evil",
            "/ever\u{7f}",
        ] {
            assert_eq!(local_redirect(foreign), DEFAULT_PAGE, "{foreign:?} is refused");
        }
    }
}
