//! `GET /projects/:id/issues/:issue_iid/description_versions`: the descriptions an issue has
//! had, oldest first, with who wrote each, when, and the "changed the description" note that
//! announced it (GitLab keeps the same record but offers it only in its GraphQL API and pages).
//! Empty for an issue whose description was never edited.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::issue_iid;
use crate::AppState;
use crate::api::ApiResult;
use crate::api::projects::lookup_access;
use crate::api::types::User;
use crate::auth::ApiActor;
use crate::time_format::iso8601;

#[derive(Debug, Default, Deserialize)]
pub struct VersionsQuery {
    /// Versions to skip (they come at most 100 at a time).
    #[serde(default)]
    skip: Option<i64>,
}

/// `GET /projects/:id/issues/:issue_iid/description_versions` (`skip`)
pub async fn list_description_versions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, iid)): Path<(String, String)>,
    Query(query): Query<VersionsQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let access = lookup_access(&state, &actor, &id).await?;
    let versions = state.core.plan().description_versions(&access, issue_iid(&iid)?, query.skip.unwrap_or(0)).await?;
    Ok(Json(
        versions
            .iter()
            .map(|version| {
                json!({
                    "id": version.row.id,
                    "description": version.row.description,
                    "author": version.author.as_ref().map(|user| User::new(user, &state.config, false)),
                    "note_id": version.row.note_id.map(|note| note.0),
                    "created_at": iso8601(version.row.created_at),
                })
            })
            .collect(),
    ))
}
