//! `GET` and `PUT /application/settings`: the instance settings Gantry has, under GitLab's
//! names (administrators; others are told there is nothing here). Settings GitLab has and
//! Gantry does not are ignored in a `PUT`, as GitLab ignores parameters it does not know.

use axum::Json;
use axum::extract::State;
use gantry_core::manage::application_settings::{ApplicationSettings, ApplicationSettingsChanges, SETTING_NAMES};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::{ApiInput, ApiResult, params};
use crate::AppState;
use crate::auth::ApiActor;
use crate::error::AppError;

/// The settings on the wire.
#[derive(Debug, Serialize)]
pub struct ApplicationSettingsJson {
    signup_enabled: bool,
    require_admin_approval_after_user_signup: bool,
    default_projects_limit: i64,
    default_project_visibility: &'static str,
    /// `null` while new projects start with `main`.
    default_branch_name: Option<String>,
    /// MiB.
    max_artifacts_size: u64,
    default_artifacts_expire_in: String,
    /// The hosts `include:remote` may fetch CI files from.
    ci_remote_include_hosts: Vec<String>,
}

impl From<ApplicationSettings> for ApplicationSettingsJson {
    fn from(settings: ApplicationSettings) -> Self {
        ApplicationSettingsJson {
            signup_enabled: settings.signup_enabled,
            require_admin_approval_after_user_signup: settings.require_admin_approval_after_user_signup,
            default_projects_limit: settings.default_projects_limit,
            default_project_visibility: settings.default_project_visibility.as_str(),
            default_branch_name: settings.default_branch_name,
            max_artifacts_size: settings.max_artifacts_size,
            default_artifacts_expire_in: settings.default_artifacts_expire_in,
            ci_remote_include_hosts: settings.ci_remote_include_hosts,
        }
    }
}

/// The settings a `PUT` may change.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsBody {
    signup_enabled: Option<bool>,
    require_admin_approval_after_user_signup: Option<bool>,
    default_projects_limit: Option<i64>,
    default_project_visibility: Option<String>,
    /// `null` (or empty) goes back to `main`.
    #[serde(default, deserialize_with = "given")]
    default_branch_name: Option<Option<String>>,
    max_artifacts_size: Option<i64>,
    default_artifacts_expire_in: Option<String>,
    /// A list, or one text of hosts separated by commas, spaces or lines (as a form sends it);
    /// `null` or empty allows none.
    #[serde(default, deserialize_with = "host_list")]
    ci_remote_include_hosts: Option<Vec<String>>,
}

/// A list of hosts given as a list or as one text.
fn host_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Hosts {
        List(Vec<String>),
        Text(String),
    }
    Ok(Some(match Option::<Hosts>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(Hosts::List(hosts)) => hosts,
        Some(Hosts::Text(text)) => split_hosts(&text),
    }))
}

/// Hosts written in one text, separated by commas, spaces or lines.
pub(crate) fn split_hosts(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|h| !h.is_empty()).map(str::to_owned).collect()
}

/// Tells a parameter sent as `null` from one not sent.
fn given<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// `GET /application/settings`
pub async fn get_application_settings(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<ApplicationSettingsJson>> {
    Ok(Json(state.core.manage().application_settings(&actor).await?.into()))
}

/// `PUT /application/settings`
pub async fn update_application_settings(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiInput(raw): ApiInput<Map<String, Value>>,
) -> ApiResult<Json<ApplicationSettingsJson>> {
    // Who asks is checked before what they sent is read.
    state.core.manage().application_settings(&actor).await?;
    let body: SettingsBody = params::read(raw).map_err(AppError::BadRequest)?;
    let changes = ApplicationSettingsChanges {
        signup_enabled: body.signup_enabled,
        require_admin_approval_after_user_signup: body.require_admin_approval_after_user_signup,
        default_projects_limit: body.default_projects_limit,
        default_project_visibility: body.default_project_visibility,
        default_branch_name: body.default_branch_name.map(Option::unwrap_or_default),
        max_artifacts_size: body.max_artifacts_size,
        default_artifacts_expire_in: body.default_artifacts_expire_in,
        ci_remote_include_hosts: body.ci_remote_include_hosts,
    };
    if changes.is_empty() {
        return Err(AppError::BadRequest(format!(
            "{} are missing, at least one parameter must be provided (Gantry has no other settings)",
            SETTING_NAMES.join(", ")
        ))
        .into());
    }
    Ok(Json(state.core.manage().update_application_settings(&actor, &changes).await?.into()))
}
