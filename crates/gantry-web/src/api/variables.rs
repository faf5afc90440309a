//! CI/CD variables: `/projects/:id/variables`, `/groups/:id/variables` and
//! `/admin/ci/variables`, shaped like GitLab's (a key names a variable; when several share a
//! key, `filter[environment_scope]` picks one).

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use gantry_core::Actor;
use gantry_core::ci::variables::{CiVariable, VariableInput, VariableScope};
use serde::{Deserialize, Serialize};

use super::groups::lookup_group;
use super::projects::lookup_project;
use super::{ApiInput, ApiResult, Flag};
use crate::AppState;
use crate::error::AppError;

/// A variable on the wire; a hidden one's value is `null`, as GitLab answers.
#[derive(Debug, Serialize)]
pub struct Variable {
    pub variable_type: String,
    pub key: String,
    pub value: Option<String>,
    pub protected: bool,
    pub masked: bool,
    pub hidden: bool,
    pub raw: bool,
    pub environment_scope: String,
    pub description: Option<String>,
}

impl Variable {
    fn new(variable: CiVariable) -> Variable {
        Variable {
            variable_type: variable.variable_type,
            key: variable.key,
            value: (!variable.hidden).then_some(variable.value),
            protected: variable.protected,
            masked: variable.masked,
            hidden: variable.hidden,
            raw: variable.raw,
            environment_scope: variable.environment_scope,
            description: Some(variable.description).filter(|d| !d.is_empty()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct VariableBody {
    key: Option<String>,
    value: Option<String>,
    variable_type: Option<String>,
    protected: Option<Flag>,
    masked: Option<Flag>,
    /// Masked, and never shown again (new variables only).
    masked_and_hidden: Option<Flag>,
    raw: Option<Flag>,
    environment_scope: Option<String>,
    description: Option<String>,
}

impl VariableBody {
    /// The input for a new variable (`key` and `value` required).
    fn create(self) -> ApiResult<VariableInput> {
        let key =
            self.key.clone().filter(|k| !k.is_empty()).ok_or_else(|| AppError::BadRequest("key is missing".into()))?;
        if self.value.is_none() {
            return Err(AppError::BadRequest("value is missing".into()).into());
        }
        let hidden =
            self.masked_and_hidden.as_ref().map(|f| f.value("masked_and_hidden")).transpose()?.unwrap_or(false);
        let mut input = self.onto(&CiVariable {
            key,
            value: String::new(),
            hidden: false,
            variable_type: "env_var".into(),
            masked: false,
            protected: false,
            raw: false,
            environment_scope: "*".into(),
            description: String::new(),
        })?;
        input.hidden = hidden;
        Ok(input)
    }

    /// The given fields over an existing variable.
    fn onto(self, old: &CiVariable) -> ApiResult<VariableInput> {
        let flag = |f: &Option<Flag>, name: &'static str, default: bool| -> ApiResult<bool> {
            f.as_ref().map(|f| f.value(name)).transpose().map(|v| v.unwrap_or(default))
        };
        Ok(VariableInput {
            key: self.key.unwrap_or_else(|| old.key.clone()),
            // Not given: the stored value stays (a hidden one cannot be read to send back).
            value: self.value,
            hidden: old.hidden,
            variable_type: Some(self.variable_type.unwrap_or_else(|| old.variable_type.clone())),
            masked: flag(&self.masked, "masked", old.masked)?,
            protected: flag(&self.protected, "protected", old.protected)?,
            raw: flag(&self.raw, "raw", old.raw)?,
            environment_scope: Some(self.environment_scope.unwrap_or_else(|| old.environment_scope.clone())),
            description: Some(self.description.unwrap_or_else(|| old.description.clone())),
        })
    }
}

/// `filter[environment_scope]` from the query string, if given.
fn scope_filter(uri: &Uri) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    pairs.into_iter().find(|(k, _)| k == "filter[environment_scope]").map(|(_, v)| v)
}

/// Which owner a route is about.
enum Owner {
    Instance,
    Group(String),
    Project(String),
}

async fn with_scope<T>(
    state: &AppState,
    actor: &Actor,
    owner: Owner,
    run: impl AsyncFnOnce(VariableScope<'_>) -> ApiResult<T>,
) -> ApiResult<T> {
    match owner {
        Owner::Instance => run(VariableScope::Instance).await,
        Owner::Group(id) => {
            let group = lookup_group(state, actor, &id).await?;
            run(VariableScope::Group(&group)).await
        }
        Owner::Project(id) => {
            let project = lookup_project(state, actor, &id).await?;
            run(VariableScope::Project(&project)).await
        }
    }
}

async fn list(state: AppState, actor: Actor, owner: Owner) -> ApiResult<Json<Vec<Variable>>> {
    with_scope(&state, &actor, owner, async |scope| {
        let found = state.core.ci().list_ci_variables(&actor, scope).await?;
        Ok(Json(found.into_iter().map(Variable::new).collect()))
    })
    .await
}

async fn create(state: AppState, actor: Actor, owner: Owner, body: VariableBody) -> ApiResult<Response> {
    let input = body.create()?;
    with_scope(&state, &actor, owner, async |scope| {
        let created = state.core.ci().create_ci_variable(&actor, scope, &input).await?;
        Ok((StatusCode::CREATED, Json(Variable::new(created))).into_response())
    })
    .await
}

async fn get(state: AppState, actor: Actor, owner: Owner, key: String, uri: Uri) -> ApiResult<Json<Variable>> {
    let filter = scope_filter(&uri);
    with_scope(&state, &actor, owner, async |scope| {
        Ok(Json(Variable::new(state.core.ci().ci_variable(&actor, scope, &key, filter.as_deref()).await?)))
    })
    .await
}

async fn update(
    state: AppState,
    actor: Actor,
    owner: Owner,
    key: String,
    uri: Uri,
    body: VariableBody,
) -> ApiResult<Json<Variable>> {
    let filter = scope_filter(&uri);
    with_scope(&state, &actor, owner, async |scope| {
        let old = state.core.ci().ci_variable(&actor, scope, &key, filter.as_deref()).await?;
        let input = body.onto(&old)?;
        let scope_now = Some(old.environment_scope.as_str());
        Ok(Json(Variable::new(state.core.ci().update_ci_variable(&actor, scope, &key, scope_now, &input).await?)))
    })
    .await
}

async fn delete(state: AppState, actor: Actor, owner: Owner, key: String, uri: Uri) -> ApiResult<StatusCode> {
    let filter = scope_filter(&uri);
    with_scope(&state, &actor, owner, async |scope| {
        state.core.ci().delete_ci_variable(&actor, scope, &key, filter.as_deref()).await?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

macro_rules! variable_routes {
    ($list:ident, $create:ident, $get:ident, $update:ident, $delete:ident, $owner:expr, ($($id:ident),*)) => {
        /// List the variables.
        pub async fn $list(
            State(state): State<AppState>,
            crate::auth::ApiActor(actor): crate::auth::ApiActor,
            Path(($($id,)*)): Path<($(variable_routes!(@ty $id),)*)>,
        ) -> ApiResult<Json<Vec<Variable>>> {
            list(state, actor, $owner).await
        }

        /// Create a variable (`key`, `value`, `variable_type`, `protected`, `masked`, `raw`,
        /// `environment_scope`, `description`).
        pub async fn $create(
            State(state): State<AppState>,
            crate::auth::ApiActor(actor): crate::auth::ApiActor,
            Path(($($id,)*)): Path<($(variable_routes!(@ty $id),)*)>,
            ApiInput(body): ApiInput<VariableBody>,
        ) -> ApiResult<Response> {
            create(state, actor, $owner, body).await
        }

        /// Get a variable.
        pub async fn $get(
            State(state): State<AppState>,
            crate::auth::ApiActor(actor): crate::auth::ApiActor,
            Path(($($id,)* key)): Path<($(variable_routes!(@ty $id),)* String)>,
            OriginalUri(uri): OriginalUri,
        ) -> ApiResult<Json<Variable>> {
            get(state, actor, $owner, key, uri).await
        }

        /// Change a variable.
        pub async fn $update(
            State(state): State<AppState>,
            crate::auth::ApiActor(actor): crate::auth::ApiActor,
            Path(($($id,)* key)): Path<($(variable_routes!(@ty $id),)* String)>,
            OriginalUri(uri): OriginalUri,
            ApiInput(body): ApiInput<VariableBody>,
        ) -> ApiResult<Json<Variable>> {
            update(state, actor, $owner, key, uri, body).await
        }

        /// Delete a variable.
        pub async fn $delete(
            State(state): State<AppState>,
            crate::auth::ApiActor(actor): crate::auth::ApiActor,
            Path(($($id,)* key)): Path<($(variable_routes!(@ty $id),)* String)>,
            OriginalUri(uri): OriginalUri,
        ) -> ApiResult<StatusCode> {
            delete(state, actor, $owner, key, uri).await
        }
    };
    (@ty $id:ident) => { String };
}

variable_routes!(list_project, create_project, get_project, update_project, delete_project, Owner::Project(id), (id));
variable_routes!(list_group, create_group, get_group, update_group, delete_group, Owner::Group(id), (id));

/// `GET /admin/ci/variables`
pub async fn list_instance(
    State(state): State<AppState>,
    crate::auth::ApiActor(actor): crate::auth::ApiActor,
) -> ApiResult<Json<Vec<Variable>>> {
    list(state, actor, Owner::Instance).await
}

/// `POST /admin/ci/variables`
pub async fn create_instance(
    State(state): State<AppState>,
    crate::auth::ApiActor(actor): crate::auth::ApiActor,
    ApiInput(body): ApiInput<VariableBody>,
) -> ApiResult<Response> {
    create(state, actor, Owner::Instance, body).await
}

/// `GET /admin/ci/variables/:key`
pub async fn get_instance(
    State(state): State<AppState>,
    crate::auth::ApiActor(actor): crate::auth::ApiActor,
    Path(key): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Variable>> {
    get(state, actor, Owner::Instance, key, uri).await
}

/// `PUT /admin/ci/variables/:key`
pub async fn update_instance(
    State(state): State<AppState>,
    crate::auth::ApiActor(actor): crate::auth::ApiActor,
    Path(key): Path<String>,
    OriginalUri(uri): OriginalUri,
    ApiInput(body): ApiInput<VariableBody>,
) -> ApiResult<Json<Variable>> {
    update(state, actor, Owner::Instance, key, uri, body).await
}

/// `DELETE /admin/ci/variables/:key`
pub async fn delete_instance(
    State(state): State<AppState>,
    crate::auth::ApiActor(actor): crate::auth::ApiActor,
    Path(key): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<StatusCode> {
    delete(state, actor, Owner::Instance, key, uri).await
}
