//! A group's roadmap (`/{group}/-/roadmap`): its epics the visitor may see drawn on a time line,
//! one bar from start to due date each (a date it lacks is its other one), as an SVG drawn on
//! the server (every text escaped, no script), with the same epics as a list below it.

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use gantry_core::plan::epics::{EpicOrder, EpicQuery};
use gantry_types::IssueState;
use serde::Deserialize;

use super::epics::{EpicLine, Home};
use crate::AppState;
use crate::auth::PageActor;
use crate::markup::escape;
use crate::namespace_dispatch::NamespaceTarget;
use crate::ui::{Chrome, PageResult, render};

/// The drawing's width, the names' column and one row's height, in SVG units.
const WIDTH: i64 = 1000;
const NAMES: i64 = 260;
const ROW: i64 = 28;
const HEADER: i64 = 30;

/// Days since 1970-01-01 of a `YYYY-MM-DD` day (the proleptic Gregorian calendar).
fn day_number(date: &str) -> Option<i64> {
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// The first days of the months from the one holding `first` to the one after `last`, as
/// `(day number, "YYYY-MM")`.
fn months(first: &str, last: &str) -> Vec<(i64, String)> {
    let parse = |date: &str| -> Option<(i64, i64)> {
        let mut parts = date.splitn(3, '-');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    let (Some((mut year, mut month)), Some((end_year, end_month))) = (parse(first), parse(last)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while (year, month) <= (end_year, end_month) && out.len() < 240 {
        let label = format!("{year:04}-{month:02}");
        if let Some(day) = day_number(&format!("{label}-01")) {
            out.push((day, label));
        }
        (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    }
    let (year, month) = if month == 13 { (year + 1, 1) } else { (year, month) };
    if let Some(day) = day_number(&format!("{year:04}-{month:02}-01")) {
        out.push((day, String::new()));
    }
    out
}

/// The epics with at least one date, drawn as bars under a line of months.
pub fn draw(epics: &[(EpicLine, String, String)]) -> String {
    let first = epics.iter().map(|(_, start, _)| start.as_str()).min().unwrap_or_default().to_owned();
    let last = epics.iter().map(|(_, _, due)| due.as_str()).max().unwrap_or_default().to_owned();
    let ticks = months(&first, &last);
    let (Some((from, _)), Some((to, _))) = (ticks.first(), ticks.last()) else { return String::new() };
    let span = (to - from).max(1);
    let chart = WIDTH - NAMES;
    let x = |day: i64| NAMES + (day - from) * chart / span;
    let height = HEADER + ROW * i64::try_from(epics.len()).unwrap_or(0) + 4;
    let mut svg = format!(
        "<svg class=\"roadmap\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" role=\"img\" aria-label=\"Roadmap of the epics\">"
    );
    for (day, label) in &ticks {
        let at = x(*day);
        svg.push_str(&format!(
            "<line x1=\"{at}\" y1=\"{HEADER}\" x2=\"{at}\" y2=\"{height}\" stroke=\"#dcdcde\" stroke-width=\"1\"/>"
        ));
        if !label.is_empty() {
            svg.push_str(&format!(
                "<text x=\"{}\" y=\"20\" font-size=\"12\" fill=\"#333238\">{}</text>",
                at + 4,
                escape(label)
            ));
        }
    }
    for (row, (epic, start, due)) in epics.iter().enumerate() {
        let top = HEADER + ROW * i64::try_from(row).unwrap_or(0);
        let (Some(start), Some(due)) = (day_number(start), day_number(due)) else { continue };
        let left = x(start);
        let width = (x(due + 1) - left).max(3);
        let fill = if epic.closed { "#737278" } else { "#1f75cb" };
        svg.push_str(&format!(
            "<a href=\"{href}\"><text x=\"4\" y=\"{ty}\" font-size=\"13\" fill=\"#333238\">{name}</text>\
             <rect x=\"{left}\" y=\"{ry}\" width=\"{width}\" height=\"{rh}\" rx=\"3\" fill=\"{fill}\">\
             <title>{title}</title></rect></a>",
            href = escape(&epic.href),
            ty = top + 18,
            name = escape(&shorten(&format!("{} {}", epic.reference, epic.title))),
            ry = top + 5,
            rh = ROW - 10,
            title = escape(&format!("{} ({} – {})", epic.title, epic.start_date, epic.due_date)),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A name cut to fit the names' column.
fn shorten(text: &str) -> String {
    if text.chars().count() <= 34 {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(33).collect::<String>())
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RoadmapQuery {
    #[serde(default)]
    state: String,
}

#[derive(Template)]
#[template(path = "epics/roadmap.html")]
struct RoadmapPage {
    chrome: Chrome,
    home: Home,
    all: bool,
    svg: String,
    epics: Vec<EpicLine>,
    undated: usize,
}

/// `GET /{group}/-/roadmap` (`state`: opened, the default, or all)
pub async fn show(
    State(state): State<AppState>,
    visitor: PageActor,
    Extension(target): Extension<NamespaceTarget>,
    Query(query): Query<RoadmapQuery>,
) -> PageResult {
    let home = Home::load(&state, &visitor, target).await?;
    let all = query.state == "all";
    let filter = EpicQuery {
        state: if all { None } else { Some(IssueState::Opened) },
        order_by: EpicOrder::StartDate,
        ascending: true,
        include_descendant_groups: true,
        ..EpicQuery::default()
    };
    let views = state.core.plan().list_epics(&home.access, &filter).await.map_err(|e| visitor.error(e))?;
    let mut dated = Vec::new();
    let mut undated = 0;
    for view in &views {
        let line = EpicLine::new(view, &home);
        let (start, due) = (line.start_date.clone(), line.due_date.clone());
        match (start.is_empty(), due.is_empty()) {
            (true, true) => undated += 1,
            (false, true) => dated.push((line, start.clone(), start)),
            (true, false) => dated.push((line, due.clone(), due)),
            (false, false) => dated.push((line, start, due)),
        }
    }
    let svg = draw(&dated);
    let page = RoadmapPage {
        chrome: Chrome::new(&visitor),
        all,
        svg,
        epics: dated.into_iter().map(|(line, _, _)| line).collect(),
        undated,
        home,
    };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_count_from_1970() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2000-03-01"), Some(11_017));
        assert_eq!(day_number("2026-13-01"), None);
        let ticks = months("2026-11-15", "2027-01-02");
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, vec!["2026-11", "2026-12", "2027-01", ""]);
    }
}
