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

#[cfg(test)]
mod tests {
    #[test]
    fn formats_like_gitlab() {
        assert_eq!(super::iso8601(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(super::date(0), "1970-01-01");
    }
}
