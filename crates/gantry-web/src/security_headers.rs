//! Headers every response carries, set in one place: other sites may not frame our pages
//! (clickjacking: `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`) and browsers may
//! not guess content types (`X-Content-Type-Options: nosniff`).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The CSP directive that forbids framing.
const NO_FRAMING: &str = "frame-ancestors 'none'";

/// Middleware: adds the headers to every response. A policy a route set itself (raw files
/// are sandboxed) keeps its directives and gets `frame-ancestors 'none'` in place of any
/// other `frame-ancestors`.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let policies: Vec<String> = headers
        .get_all(header::CONTENT_SECURITY_POLICY)
        .iter()
        .map(|value| without_framing(&String::from_utf8_lossy(value.as_bytes())))
        .collect();
    headers.remove(header::CONTENT_SECURITY_POLICY);
    if policies.is_empty() {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(NO_FRAMING));
    }
    for policy in policies {
        let value = HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(NO_FRAMING));
        headers.append(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// `policy` with its `frame-ancestors` directive (if any) replaced by `frame-ancestors 'none'`.
fn without_framing(policy: &str) -> String {
    let mut directives: Vec<&str> = policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter(|d| !d.split_whitespace().next().is_some_and(|name| name.eq_ignore_ascii_case("frame-ancestors")))
        .collect();
    directives.push(NO_FRAMING);
    directives.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_is_forbidden_in_every_policy() {
        assert_eq!(without_framing(""), "frame-ancestors 'none'");
        assert_eq!(
            without_framing("default-src 'none'; sandbox"),
            "default-src 'none'; sandbox; frame-ancestors 'none'"
        );
        assert_eq!(
            without_framing("default-src 'self'; Frame-Ancestors https://evil.example;"),
            "default-src 'self'; frame-ancestors 'none'"
        );
    }
}
