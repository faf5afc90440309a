//! The burndown and burnup chart of a milestone's or an iteration's page, drawn on the server as
//! SVG (numbers and dates only, no script): the scope and the completed issues by day (burnup),
//! the open ones (burndown) and a guideline from the first day's open issues to none on the due
//! date; the same numbers, weights too, in a table below it.

use gantry_core::plan::burnup::{Burnup, BurnupDay, Date, MAX_DAYS};

/// The drawing's size and the margin left for the axis labels, in SVG units.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 36.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

/// A chart ready for `_burnup.html`.
pub struct BurnupChart {
    pub width: f64,
    pub height: f64,
    /// `x,y x,y …` of each line.
    pub scope: String,
    pub completed: String,
    pub remaining: String,
    pub guideline: String,
    /// The y axis's top value and its height on the drawing.
    pub max: i64,
    pub top: f64,
    pub bottom: f64,
    pub left: f64,
    pub right: f64,
    pub first_day: String,
    pub due_day: String,
    pub days: Vec<BurnupDay>,
    pub truncated: bool,
    pub empty: bool,
}

impl BurnupChart {
    /// The chart of `burnup` over the timebox from `start` to `due` (the x axis runs to `due`;
    /// the lines stop at today).
    pub fn new(burnup: Burnup, start: Date, due: Date) -> BurnupChart {
        let span = start.until(due).map(|span| i64::from(span.get_days())).unwrap_or(0).clamp(0, MAX_DAYS - 1);
        let first = burnup.days.first().map_or(start, |day| day.date);
        let max = burnup.days.iter().map(|day| day.scope_count).max().unwrap_or(0).max(1);
        let plot_width = WIDTH - LEFT - 8.0;
        let plot_height = HEIGHT - TOP - BOTTOM;
        #[allow(clippy::cast_precision_loss)]
        let x = |date: Date| -> f64 {
            let offset = first.until(date).map(|span| i64::from(span.get_days())).unwrap_or(0);
            let total = first.until(due).map(|span| i64::from(span.get_days())).unwrap_or(span).max(1);
            LEFT + plot_width * offset as f64 / total as f64
        };
        #[allow(clippy::cast_precision_loss)]
        let y = |value: i64| -> f64 { TOP + plot_height * (1.0 - value as f64 / max as f64) };
        let line = |value: &dyn Fn(&BurnupDay) -> i64| -> String {
            burnup
                .days
                .iter()
                .map(|day| format!("{:.1},{:.1}", x(day.date), y(value(day))))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let open_at_start = burnup.days.first().map_or(0, |day| day.scope_count - day.completed_count);
        BurnupChart {
            width: WIDTH,
            height: HEIGHT,
            scope: line(&|day| day.scope_count),
            completed: line(&|day| day.completed_count),
            remaining: line(&|day| day.scope_count - day.completed_count),
            guideline: format!("{:.1},{:.1} {:.1},{:.1}", x(first), y(open_at_start), x(due), y(0)),
            max,
            top: TOP,
            bottom: HEIGHT - BOTTOM,
            left: LEFT,
            right: WIDTH - 8.0,
            first_day: first.to_string(),
            due_day: due.to_string(),
            empty: burnup.days.iter().all(|day| day.scope_count == 0),
            days: burnup.days,
            truncated: burnup.truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_run_from_the_first_day_and_the_axis_to_the_due_date() {
        let day = |date: &str, scope, completed| BurnupDay {
            date: date.parse().unwrap(),
            scope_count: scope,
            completed_count: completed,
            ..BurnupDay::default()
        };
        let burnup = Burnup { days: vec![day("2026-12-01", 2, 0), day("2026-12-02", 4, 1)], ..Burnup::default() };
        let chart = BurnupChart::new(burnup, "2026-12-01".parse().unwrap(), "2026-12-05".parse().unwrap());
        assert_eq!(chart.max, 4);
        // Two points each; the second a quarter of the way (1 day of 4).
        assert_eq!(chart.scope, "36.0,103.0 185.0,10.0");
        assert_eq!(chart.remaining, "36.0,103.0 185.0,56.5");
        // The guideline: from the first day's 2 open to none on the due date.
        assert_eq!(chart.guideline, "36.0,103.0 632.0,196.0");
        assert!(!chart.empty);
    }
}
