//! `GET /api/v4/openapi.json`: the OpenAPI 3.1 document of the API, generated from the same
//! route table the router is built from, so it cannot miss a route; each operation's
//! `x-gantry-requires` is what its route declares it requires of the caller.

use axum::Json;
use serde_json::{Map, Value, json};

use crate::router::{RouteScope, route_table};

/// Builds the document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in route_table().into_iter().filter(|r| matches!(r.scope, RouteScope::Api | RouteScope::Runner)) {
        let path = route.path.trim_start_matches("/api/v4");
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let description = match name {
                    "id" => "numeric id or URL-encoded full path",
                    "user_id" => "numeric user id",
                    "issue_iid" => "the issue's number in its project",
                    "label_id" => "numeric id or the label's name",
                    _ => "numeric id",
                };
                json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
            })
            .collect();
        let method = route.method.as_str().to_ascii_lowercase();
        let success = match method.as_str() {
            "post" => "201",
            "delete" => "204",
            _ => "200",
        };
        let operation = json!({
            "summary": route.summary,
            "x-gantry-requires": route.requires.to_string(),
            "operationId": format!("{method}{}", path.replace(['/', '{', '}'], "_")),
            "parameters": parameters,
            "responses": {
                success: {"description": "success"},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
            },
        });
        let entry = paths.entry(path.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(methods) = entry {
            methods.insert(method, operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gantry REST API",
            "version": "v4",
            "description": "A GitLab-v4-shaped API. Authenticate with a personal access token in the PRIVATE-TOKEN header or as Authorization: Bearer. Lists are paginated with page and per_page (at most 100) and report X-Total, X-Next-Page and Link headers. Each operation's x-gantry-requires says what it needs of the caller: a role names the lowest that may (reading also follows the project's or group's visibility); what the caller may not see answers 404, what they see but may not change 403."
        },
        "servers": [{"url": "/api/v4"}],
        "security": [{"privateToken": []}, {"bearer": []}],
        "components": {
            "securitySchemes": {
                "privateToken": {"type": "apiKey", "in": "header", "name": "PRIVATE-TOKEN"},
                "bearer": {"type": "http", "scheme": "bearer"}
            },
            "responses": {
                "Error": {
                    "description": "the request failed; message says why",
                    "content": {"application/json": {"schema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}}}
                }
            }
        },
        "paths": paths,
    })
}

/// Serves the document.
pub async fn openapi() -> Json<Value> {
    Json(document())
}
