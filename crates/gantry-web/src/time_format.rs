//! Stored times (Unix milliseconds, UTC) as the API and the pages show them.

use time::OffsetDateTime;
use time::macros::format_description;

/// ISO 8601 with milliseconds, as GitLab's API returns: `2026-11-27T12:00:00.000Z`.
pub fn iso8601(millis: i64) -> String {
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000) else {
        return String::new();
    };
    at.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"))
        .unwrap_or_default()
}

/// A short human date for pages: `2026-11-27`.
pub fn date(millis: i64) -> String {
    iso8601(millis).get(..10).unwrap_or_default().to_owned()
}

/// How long before `now` something happened, in words (`3 hours ago`); the date after a month.
pub fn ago(millis: i64, now: i64) -> String {
    let seconds = (now - millis).max(0) / 1000;
    let (amount, unit) = match seconds {
        0..60 => return "just now".to_owned(),
        60..3600 => (seconds / 60, "minute"),
        3600..86_400 => (seconds / 3600, "hour"),
        86_400..2_592_000 => (seconds / 86_400, "day"),
        _ => return date(millis),
    };
    format!("{amount} {unit}{} ago", if amount == 1 { "" } else { "s" })
}

/// How long after `now` something is due, in words (`in 3 minutes`); `now` when it is due.
pub fn from_now(millis: i64, now: i64) -> String {
    let seconds = (millis - now).max(0) / 1000;
    let (amount, unit) = match seconds {
        0 => return "now".to_owned(),
        1..60 => (seconds, "second"),
        60..3600 => (seconds / 60, "minute"),
        3600..86_400 => (seconds / 3600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    format!("in {amount} {unit}{}", if amount == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_gitlab() {
        assert_eq!(super::iso8601(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(super::date(0), "1970-01-01");
    }

    #[test]
    fn says_how_long_until() {
        let now = 1_700_000_000_000;
        assert_eq!(super::from_now(now - 5_000, now), "now");
        assert_eq!(super::from_now(now + 1_000, now), "in 1 second");
        assert_eq!(super::from_now(now + 20_000, now), "in 20 seconds");
        assert_eq!(super::from_now(now + 7_200_000, now), "in 2 hours");
    }

    #[test]
    fn says_how_long_ago() {
        let now = 1_700_000_000_000;
        assert_eq!(super::ago(now - 5_000, now), "just now");
        assert_eq!(super::ago(now - 60_000, now), "1 minute ago");
        assert_eq!(super::ago(now - 7_200_000, now), "2 hours ago");
        assert_eq!(super::ago(now - 3 * 86_400_000, now), "3 days ago");
        assert_eq!(super::ago(0, now), "1970-01-01");
    }
}
