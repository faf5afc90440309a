//! A page's multipart form read whole (its body is bounded by the route's limit): its text
//! fields and its files, the CSRF token checked. A body past the limit is an outcome the page
//! shows on its form, not an error page.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;

use crate::AppState;
use crate::auth::csrf_token_valid;
use crate::error::AppError;

/// The fields of a multipart form.
#[derive(Debug, Default)]
pub struct MultipartForm {
    /// Text fields, by name, in order.
    pub fields: Vec<(String, String)>,
    /// Files chosen (field, file name, bytes); a file input left empty is not one.
    pub files: Vec<(String, String, Vec<u8>)>,
}

impl MultipartForm {
    /// The text of the field `name` (empty when absent).
    pub fn get(&self, name: &str) -> &str {
        self.fields.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }

    /// Takes the file sent as `field`, if one was.
    pub fn take_file(&mut self, field: &str) -> Option<(String, Vec<u8>)> {
        let index = self.files.iter().position(|(f, _, _)| f == field)?;
        let (_, name, bytes) = self.files.swap_remove(index);
        Some((name, bytes))
    }
}

/// Reads the form; `Ok(None)` when the body is larger than the route allows.
pub async fn read_multipart(state: &AppState, request: Request) -> Result<Option<MultipartForm>, AppError> {
    let headers = request.headers().clone();
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|_| AppError::BadRequest("The form could not be read: send it as multipart/form-data.".into()))?;
    let mut form = MultipartForm::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(None),
            Err(error) => return Err(AppError::BadRequest(format!("The form could not be read: {error}."))),
        };
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(None),
            Err(error) => return Err(AppError::BadRequest(format!("The form could not be read: {error}."))),
        };
        match filename {
            Some(filename) if !filename.is_empty() => form.files.push((name, filename, bytes.to_vec())),
            Some(_) => {}
            None => form.fields.push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    if !csrf_token_valid(state, &headers, form.get("authenticity_token")) {
        return Err(AppError::Csrf);
    }
    Ok(Some(form))
}
