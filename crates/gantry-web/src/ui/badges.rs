//! Badges for READMEs: `/{project}/-/badges/{ref}/pipeline.svg` (the ref's newest pipeline's
//! status) and `/{project}/-/badges/{ref}/coverage.svg` (its average job coverage), as the flat
//! SVG badges people paste into a README.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gantry_core::CoreError;
use gantry_core::manage::groups::Lookup;
use gantry_types::CiStatus;

use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageError;
use crate::namespace_dispatch::ProjectTarget;

/// A flat badge: a grey label and a coloured value.
pub fn badge_svg(label: &str, value: &str, colour: &str) -> String {
    let escape =
        |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    // Verdana 11px averages about 7 pixels a character.
    let width = |text: &str| 10 + 7 * text.chars().count();
    let (label_width, value_width) = (width(label), width(value));
    let total = label_width + value_width;
    let (label, value) = (escape(label), escape(value));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"20\" role=\"img\" aria-label=\"{label}: {value}\">\
         <title>{label}: {value}</title>\
         <linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
         <clipPath id=\"r\"><rect width=\"{total}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
         <g clip-path=\"url(#r)\"><rect width=\"{label_width}\" height=\"20\" fill=\"#555\"/>\
         <rect x=\"{label_width}\" width=\"{value_width}\" height=\"20\" fill=\"{colour}\"/>\
         <rect width=\"{total}\" height=\"20\" fill=\"url(#s)\"/></g>\
         <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" font-size=\"11\">\
         <text x=\"{lx}\" y=\"14\">{label}</text><text x=\"{vx}\" y=\"14\">{value}</text></g></svg>",
        lx = label_width / 2,
        vx = label_width + value_width / 2,
    )
}

/// A status's colour; `None` (no pipeline yet) is grey.
fn status_colour(status: Option<CiStatus>) -> &'static str {
    match status {
        Some(CiStatus::Success) => "#4c1",
        Some(CiStatus::Failed) => "#e05d44",
        Some(CiStatus::Running) => "#2f80ed",
        Some(CiStatus::Pending | CiStatus::Created | CiStatus::WaitingForResource | CiStatus::Preparing) => "#dfb317",
        Some(CiStatus::Manual | CiStatus::Scheduled) => "#7a5af8",
        _ => "#9f9f9f",
    }
}

fn coverage_colour(percent: f64) -> &'static str {
    match percent {
        p if p >= 95.0 => "#4c1",
        p if p >= 90.0 => "#97ca00",
        p if p >= 75.0 => "#a4a61d",
        p if p >= 60.0 => "#dfb317",
        _ => "#e05d44",
    }
}

/// `GET /{project}/-/badges/{ref}/pipeline.svg` and `…/coverage.svg`.
pub async fn badge(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<ProjectTarget>,
    Path(rest): Path<String>,
) -> Result<Response, PageError> {
    let (ref_name, kind) = rest
        .rsplit_once('/')
        .filter(|(r, k)| !r.is_empty() && matches!(*k, "pipeline.svg" | "coverage.svg"))
        .ok_or_else(|| visitor.error(CoreError::NotFound("badge")))?;
    let access =
        state.core.project_access(&visitor.actor, &Lookup::Id(target.0.0)).await.map_err(|e| visitor.error(e))?;
    let project = access.project();
    let pipeline =
        state.core.ci().latest_pipeline(&visitor.actor, project, ref_name).await.map_err(|e| visitor.error(e))?;
    let svg = match (kind, pipeline) {
        ("pipeline.svg", Some(pipeline)) => {
            badge_svg("pipeline", pipeline.status.label(), status_colour(Some(pipeline.status)))
        }
        ("pipeline.svg", None) => badge_svg("pipeline", "unknown", status_colour(None)),
        (_, Some(pipeline)) => {
            let (_, jobs) = state.core.ci().pipeline(&access, pipeline.id).await.map_err(|e| visitor.error(e))?;
            let coverages: Vec<f64> = jobs.iter().filter(|j| !j.retried).filter_map(|j| j.coverage).collect();
            if coverages.is_empty() {
                badge_svg("coverage", "unknown", "#9f9f9f")
            } else {
                let average = coverages.iter().sum::<f64>() / coverages.len() as f64;
                badge_svg("coverage", &format!("{average:.2}%"), coverage_colour(average))
            }
        }
        (_, None) => badge_svg("coverage", "unknown", "#9f9f9f"),
    };
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"), (header::CACHE_CONTROL, "no-cache, no-store")], svg)
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_are_escaped_svg_sized_to_their_text() {
        let svg = badge_svg("pipeline", "passed", "#4c1");
        assert!(svg.starts_with("<svg") && svg.contains(">passed</text>") && svg.contains("fill=\"#4c1\""));
        assert!(badge_svg("a", "<b>", "#000").contains("&lt;b&gt;"));
        assert!(badge_svg("pipeline", "running", "#000").contains("width=\"125\""));
    }
}
