//! Static assets embedded in the binary (and the highlighting stylesheet, made at start-up).

use axum::http::header;
use axum::response::IntoResponse;

const STYLESHEET: &str = include_str!("../assets/style.css");
const CODE_SCRIPT: &str = include_str!("../assets/code.js");
const CI_SCRIPT: &str = include_str!("../assets/ci.js");
const FIND_SCRIPT: &str = include_str!("../assets/find.js");
const SITE_SCRIPT: &str = include_str!("../assets/site.js");

/// `/assets/style.css`, cacheable for a day.
pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], STYLESHEET)
}

/// `/assets/highlight.css`: the colours of highlighted code.
pub async fn highlight_stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        crate::markup::highlight_css(),
    )
}

/// `/assets/code.js`: line-range selection on file pages (the pages work without it).
pub async fn code_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        CODE_SCRIPT,
    )
}

/// `/assets/site.js`: copy buttons, confirmations before destructive forms, task lists ticked
/// from the page and board cards dragged between lists (the pages work without it: no copy
/// buttons, such forms confirm on a page of their own, cards move by their forms).
pub async fn site_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        SITE_SCRIPT,
    )
}

/// `/assets/ci.js`: live job logs, log sections and the pipeline graph's lines (the pages work
/// without it).
pub async fn ci_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        CI_SCRIPT,
    )
}

/// `/assets/find.js`: find file as you type, its `t` key, and the branch and tag picker's
/// filter (the pages work without it).
pub async fn find_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        FIND_SCRIPT,
    )
}
