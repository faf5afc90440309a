//! Variables in values (`$VAR`, `${VAR}`, `$$` for a dollar sign), and durations as GitLab writes
//! them (`90`, `1h 30m`, `2 days`, `1.5 hours`).

/// Replaces variable references in `text`. A variable `lookup` does not know is left as written
/// when `keep_unknown`, or removed otherwise (GitLab's `expand_existing` and `expand`).
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>, keep_unknown: bool) -> String {
    if !text.contains('$') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            let next = text[i..].find('$').map(|n| i + n).unwrap_or(bytes.len());
            out.push_str(&text[i..next]);
            i = next;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'$') {
            out.push('$');
            i += 2;
            continue;
        }
        let braced = bytes.get(i + 1) == Some(&b'{');
        let start = if braced { i + 2 } else { i + 1 };
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        let closed = !braced || bytes.get(end) == Some(&b'}');
        if end == start || !closed || bytes[start].is_ascii_digit() {
            out.push('$');
            i += 1;
            continue;
        }
        let whole_end = if braced { end + 1 } else { end };
        match lookup(&text[start..end]) {
            Some(value) => out.push_str(&value),
            None if keep_unknown => out.push_str(&text[i..whole_end]),
            None => {}
        }
        i = whole_end;
    }
    out
}

/// The variables `text` refers to, in order of appearance.
pub fn references(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'$') {
            i += 2;
            continue;
        }
        if bytes[i] == b'$' {
            let braced = bytes.get(i + 1) == Some(&b'{');
            let start = if braced { i + 2 } else { i + 1 };
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end > start && !bytes[start].is_ascii_digit() && (!braced || bytes.get(end) == Some(&b'}')) {
                names.push(text[start..end].to_owned());
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    names
}

/// Seconds in a duration written as GitLab accepts it; None when it cannot be read.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(seconds);
    }
    let mut total = 0f64;
    let mut rest = text.as_str();
    let mut parts = 0;
    while !rest.trim_start().is_empty() {
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        if let Some(after) = rest.strip_prefix("and ") {
            rest = after;
        }
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..number_end].parse().ok()?;
        rest = rest[number_end..].trim_start();
        let unit_end = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let scale = match unit {
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "" | "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "w" | "wk" | "wks" | "week" | "weeks" => 604_800.0,
            "mo" | "month" | "months" => 2_629_746.0,
            "y" | "yr" | "yrs" | "year" | "years" => 31_556_952.0,
            _ => return None,
        };
        if unit.is_empty() && parts == 0 && rest.trim().is_empty() {
            // A bare number was handled above; "1.5" alone is seconds.
            return Some(number as u64);
        }
        total += number * scale;
        parts += 1;
        if parts > 16 {
            return None;
        }
    }
    (total.is_finite() && total < 1e12).then_some(total.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "A" => Some("apple".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expansion() {
        assert_eq!(expand("$A-${A}/$$A/$EMPTY.", &lookup, true), "apple-apple/$A/.");
        assert_eq!(expand("x $MISSING ${MISSING} y", &lookup, true), "x $MISSING ${MISSING} y");
        assert_eq!(expand("x $MISSING ${MISSING} y", &lookup, false), "x   y");
        assert_eq!(expand("cost $5 ${ and $", &lookup, false), "cost $5 ${ and $");
        assert_eq!(references("echo $A ${B} $$C $1"), vec!["A", "B"]);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Some(90));
        assert_eq!(parse_duration("1h 30m"), Some(5400));
        assert_eq!(parse_duration("1 hour and 30 minutes"), Some(5400));
        assert_eq!(parse_duration("2 days"), Some(172_800));
        assert_eq!(parse_duration("1.5 hours"), Some(5400));
        assert_eq!(parse_duration("3 weeks"), Some(1_814_400));
        assert_eq!(parse_duration("10 mins"), Some(600));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5 parsecs"), None);
        assert_eq!(parse_duration(""), None);
    }
}
