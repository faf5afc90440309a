//! Request and response bodies to and from the object store: an upload streamed into a blob
//! (bounded, nothing kept when it is refused) and a stored file streamed out.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use gantry_blob::{BlobError, BlobStore, StoredBlob};
use gantry_core::CoreError;
use tokio::io::AsyncReadExt;

use crate::error::AppError;

/// Bytes read from a stored file per piece of a response.
const CHUNK: usize = 256 << 10;

/// Streams a request body into the object store; `413` past `limit` bytes.
pub(crate) async fn store_body(blobs: &BlobStore, body: Body, limit: u64) -> Result<StoredBlob, AppError> {
    let mut writer = blobs.writer(limit).await.map_err(blob_error)?;
    let mut stream = body.into_data_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|error| AppError::BadRequest(format!("the upload was cut short: {error}")))?;
        writer.write(&piece).await.map_err(blob_error)?;
    }
    writer.finish().await.map_err(blob_error)
}

fn blob_error(error: BlobError) -> AppError {
    match error {
        BlobError::TooLarge { limit } => AppError::PayloadTooLarge(limit),
        BlobError::NotFound => AppError::NotFound,
        other => AppError::Core(CoreError::Internal(Box::new(other))),
    }
}

/// A file as a response body, read a piece at a time.
pub fn file_body(file: tokio::fs::File) -> Body {
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0; CHUNK];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok::<_, std::io::Error>(Bytes::from(buffer)), Some(file)))
            }
            Err(error) => Some((Err(error), None)),
        }
    });
    Body::from_stream(stream)
}

/// Content read a piece at a time as a response body; an error cuts the response short (its
/// length then tells the client it is incomplete).
pub fn content_body(content: gantry_core::ContentStream) -> Body {
    let gantry_core::ContentStream { head, rest, .. } = content;
    let stream = futures_util::stream::unfold((Some(head), rest), |(head, mut rest)| async move {
        if let Some(head) = head {
            return Some((Ok::<_, std::io::Error>(Bytes::from(head)), (None, rest)));
        }
        let piece = rest.recv().await?;
        Some((piece.map(Bytes::from), (None, rest)))
    });
    Body::from_stream(stream)
}

/// A stored file as a download: `content_type`, its length, and `attachment` with `file_name`.
pub(crate) fn file_response(file: tokio::fs::File, size: u64, content_type: &str, file_name: &str) -> Response {
    let mut response = file_body(file).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(&content_disposition(file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `attachment; filename="…"` with the name made safe for a header.
pub(crate) fn content_disposition(file_name: &str) -> String {
    let safe: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    format!("attachment; filename=\"{safe}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_cannot_break_the_header() {
        assert_eq!(content_disposition("a b.zip"), "attachment; filename=\"a b.zip\"");
        assert_eq!(content_disposition("x\"\r\ny.zip"), "attachment; filename=\"x___y.zip\"");
        assert_eq!(content_disposition("résumé.txt"), "attachment; filename=\"r_sum_.txt\"");
    }
}
