//! `GET /projects/:id/languages`: the languages of the default branch as percentages of its
//! code, largest first (`{"Rust": 80.5, "Shell": 19.5}`), as GitLab answers.

use axum::Json;
use axum::extract::{Path, State};
use gantry_core::code::languages::LanguageShare;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::ApiResult;
use super::projects::lookup_project;
use crate::AppState;
use crate::auth::ApiActor;

/// The languages as one JSON object, its keys in the order of their shares.
#[derive(Debug)]
pub struct Languages(Vec<LanguageShare>);

impl Serialize for Languages {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for language in &self.0 {
            map.serialize_entry(language.name, &language.share)?;
        }
        map.end()
    }
}

/// `GET /projects/:id/languages`
pub async fn get_languages(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Languages>> {
    let project = lookup_project(&state, &actor, &id).await?;
    Ok(Json(Languages(state.core.code().repository_languages(&actor, &project).await?)))
}
