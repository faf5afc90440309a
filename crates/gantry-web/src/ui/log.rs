//! Job logs as HTML: ANSI colours (SGR) become classes, GitLab's `section_start`/`section_end`
//! markers become collapsible section headers, `\r` rewrites keep the last text of a line.
//! The renderer is fed bytes in pieces and keeps its state (colours, open sections, a partial
//! last line) between them, so the live view renders exactly what the full page does.

use std::fmt::Write;

/// The text style ANSI codes have set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    fg: Option<u8>,
    bg: Option<u8>,
    bold: bool,
    italic: bool,
    underline: bool,
}

impl Style {
    fn classes(&self) -> String {
        let mut classes = Vec::new();
        if let Some(fg) = self.fg {
            classes.push(format!("fg{fg}"));
        }
        if let Some(bg) = self.bg {
            classes.push(format!("bg{bg}"));
        }
        if self.bold {
            classes.push("b".to_owned());
        }
        if self.italic {
            classes.push("i".to_owned());
        }
        if self.underline {
            classes.push("u".to_owned());
        }
        classes.join(" ")
    }

    /// Applies one SGR sequence (`1;32`).
    fn apply(&mut self, params: &str) {
        let codes: Vec<u16> = params.split(';').map(|p| p.parse().unwrap_or(0)).collect();
        let mut at = 0;
        while at < codes.len() {
            match codes[at] {
                0 => *self = Style::default(),
                1 => self.bold = true,
                3 => self.italic = true,
                4 => self.underline = true,
                22 => self.bold = false,
                23 => self.italic = false,
                24 => self.underline = false,
                code @ 30..=37 => self.fg = Some((code - 30) as u8),
                code @ 90..=97 => self.fg = Some((code - 90 + 8) as u8),
                39 => self.fg = None,
                code @ 40..=47 => self.bg = Some((code - 40) as u8),
                code @ 100..=107 => self.bg = Some((code - 100 + 8) as u8),
                49 => self.bg = None,
                // 256-colour and true-colour forms: take the palette index when it is one of
                // the 16 base colours, skip the rest.
                38 | 48 => {
                    let is_fg = codes[at] == 38;
                    match codes.get(at + 1) {
                        Some(5) => {
                            let colour = codes.get(at + 2).copied().filter(|c| *c < 16).map(|c| c as u8);
                            if is_fg {
                                self.fg = colour
                            } else {
                                self.bg = colour
                            }
                            at += 2;
                        }
                        Some(2) => at += 4,
                        _ => {}
                    }
                }
                _ => {}
            }
            at += 1;
        }
    }
}

/// A section opened and not closed yet.
#[derive(Debug)]
struct OpenSection {
    /// The section's name as GitLab compares them (lower case, other characters as `-`).
    name: String,
    /// Unique in this log (`s1`, `s2`, …): a name may be opened again after it was closed.
    id: String,
    start: i64,
}

/// Turns log bytes into HTML lines.
#[derive(Debug, Default)]
pub struct LogRenderer {
    style: Style,
    /// Bytes of a line not ended yet.
    partial: Vec<u8>,
    /// Open sections, in the order they were opened.
    sections: Vec<OpenSection>,
    sections_opened: usize,
    line_number: usize,
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
}

/// A section marker: `section_start:<unix time>:<name>[<options>]\r\e[0K` or
/// `section_end:<unix time>:<name>\r\e[0K` (GitLab's `build_trace_section_regex`; the
/// `\r\e[0K` is part of it, `\e[K` alone does not count).
#[derive(Debug, PartialEq, Eq)]
struct Marker<'a> {
    starts: bool,
    time: i64,
    name: &'a str,
    /// `collapsed=true`, `hide_duration=true`, … (only a start's are used).
    options: Vec<(&'a str, &'a str)>,
    /// Where the marker begins and ends in the line.
    from: usize,
    to: usize,
}

/// The first section marker in `text`, wherever it is in the line.
fn next_marker(text: &str) -> Option<Marker<'_>> {
    text.match_indices("section_").find_map(|(from, _)| marker_at(text, from))
}

fn marker_at(text: &str, from: usize) -> Option<Marker<'_>> {
    let rest = &text[from + "section_".len()..];
    let (starts, rest) = match rest.strip_prefix("start:") {
        Some(rest) => (true, rest),
        None => (false, rest.strip_prefix("end:")?),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let time = rest[..digits].parse::<i64>().ok()?;
    let rest = rest[digits..].strip_prefix(':')?;
    let name_length = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b)).count();
    if name_length == 0 {
        return None;
    }
    let (name, mut rest) = rest.split_at(name_length);
    let mut options = Vec::new();
    if let Some(inside) = rest.strip_prefix('[') {
        let (list, after) = inside.split_once(']')?;
        let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        for option in list.split(',') {
            let (key, value) = option.strip_prefix(' ').unwrap_or(option).split_once('=')?;
            if !word(key) || !word(value) {
                return None;
            }
            options.push((key, value));
        }
        rest = after;
    }
    let after = rest.strip_prefix("\r\x1b[0K")?;
    Some(Marker { starts, time, name, options, from, to: text.len() - after.len() })
}

/// A section name as GitLab compares them: lower case, anything but letters and digits as `-`.
fn section_key(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// A section's duration as GitLab shows it: `mm:ss`, or `hh:mm:ss` from an hour on.
pub fn section_duration(seconds: i64) -> String {
    let seconds = seconds.clamp(0, 365 * 86_400);
    let (hours, minutes, seconds) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    if hours > 0 { format!("{hours:02}:{minutes:02}:{seconds:02}") } else { format!("{minutes:02}:{seconds:02}") }
}

/// What a terminal shows of `text`: a carriage return starts the line over.
fn after_carriage_return(text: &str) -> &str {
    text.rsplit('\r').next().unwrap_or(text)
}

/// Whether `text` shows anything once its escape sequences are left out.
fn shows_text(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find('\x1b') {
        if rest[..at].chars().any(|c| !c.is_control()) {
            return true;
        }
        let after = &rest[at + 1..];
        rest = match after.strip_prefix('[') {
            Some(params) => {
                let end = params.find(|c: char| c.is_ascii_alphabetic()).map_or(params.len(), |e| e + 1);
                &params[end..]
            }
            None => after,
        };
    }
    rest.chars().any(|c| !c.is_control())
}

impl LogRenderer {
    pub fn new() -> LogRenderer {
        LogRenderer::default()
    }

    /// Renders every line `bytes` completes; a partial last line waits for the next piece.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        let mut out = String::new();
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.render_line(&line[..line.len() - 1], &mut out);
        }
        out
    }

    /// Renders what is left (the log ended without a newline).
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.render_line(&line, &mut out);
        }
        out
    }

    /// Renders a whole log at once.
    pub fn render_all(bytes: &[u8]) -> String {
        let mut renderer = LogRenderer::new();
        let mut out = renderer.push(bytes);
        out.push_str(&renderer.finish());
        out
    }

    /// The ids of the open sections, as a line inside them carries them.
    fn open_ids(&self) -> String {
        self.sections.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// One line of the log: its text, cut where section markers are (GitLab reads them anywhere
    /// in a line; the text after a start marker is the section's header).
    fn render_line(&mut self, raw: &[u8], out: &mut String) {
        let text = String::from_utf8_lossy(raw);
        let mut rest = text.strip_suffix('\r').unwrap_or(&text);
        let mut had_marker = false;
        loop {
            let Some(marker) = next_marker(rest) else {
                // A line without markers is shown even when blank; the piece after a marker
                // only when it shows something.
                if !had_marker || shows_text(after_carriage_return(rest)) {
                    self.render_plain(rest, out);
                }
                return;
            };
            had_marker = true;
            let before = &rest[..marker.from];
            if shows_text(after_carriage_return(before)) {
                self.render_plain(before, out);
            } else {
                self.track_style(before);
            }
            rest = &rest[marker.to..];
            let key = section_key(marker.name);
            if marker.starts {
                // The header is the text up to the next marker or the end of the line.
                let header_end = next_marker(rest).map_or(rest.len(), |next| next.from);
                let (header, after) = rest.split_at(header_end);
                self.open_section(&marker, key, header, out);
                rest = after;
            } else if let Some(at) = self.sections.iter().position(|s| s.name == key) {
                // Only that section closes (GitLab's); one opened inside it stays open.
                let section = self.sections.remove(at);
                let _ = write!(
                    out,
                    "<div class=\"section-end\" data-for=\"{}\" data-sections=\"{}\" data-end=\"{}\" data-duration=\"{}\"></div>",
                    section.id,
                    self.open_ids(),
                    marker.time,
                    section_duration(marker.time - section.start)
                );
            }
        }
    }

    fn open_section(&mut self, marker: &Marker<'_>, key: String, header: &str, out: &mut String) {
        // Opening an open name again starts it anew (GitLab keeps one start time per name).
        self.sections.retain(|s| s.name != key);
        self.sections_opened += 1;
        self.line_number += 1;
        let id = format!("s{}", self.sections_opened);
        let option = |name: &str| marker.options.iter().any(|(k, v)| *k == name && *v == "true");
        let _ = write!(
            out,
            "<div class=\"log-line section-header\" data-section=\"{key}\" data-id=\"{id}\" data-sections=\"{}\" \
             data-start=\"{}\"{}{} role=\"button\" tabindex=\"0\" aria-expanded=\"true\">\
             <span class=\"ln\">{}</span><span class=\"toggle\" aria-hidden=\"true\"></span>",
            self.open_ids(),
            marker.time,
            if option("collapsed") { " data-collapsed=\"true\"" } else { "" },
            if option("hide_duration") { " data-hide-duration=\"true\"" } else { "" },
            self.line_number
        );
        if let Ok(at) = time::OffsetDateTime::from_unix_timestamp(marker.time) {
            let _ = write!(
                out,
                "<time class=\"section-time\" datetime=\"{}\">{:02}:{:02}:{:02}</time> ",
                crate::time_format::iso8601(marker.time.saturating_mul(1000)),
                at.hour(),
                at.minute(),
                at.second()
            );
        }
        self.render_visible(header, out);
        out.push_str("<span class=\"section-duration\"></span></div>");
        self.sections.push(OpenSection { name: key, id, start: marker.time });
    }

    fn render_plain(&mut self, text: &str, out: &mut String) {
        self.line_number += 1;
        let _ = write!(
            out,
            "<div class=\"log-line\" data-sections=\"{}\"><span class=\"ln\">{}</span>",
            self.open_ids(),
            self.line_number
        );
        self.render_visible(text, out);
        out.push_str("</div>");
    }

    /// Renders what a terminal would show of `text`: a carriage return starts the line over
    /// (progress bars), so only what follows the last one shows; the colours set before it
    /// still hold.
    fn render_visible(&mut self, text: &str, out: &mut String) {
        let shown = after_carriage_return(text);
        self.track_style(&text[..text.len() - shown.len()]);
        self.render_text(shown, out);
    }

    /// Follows the colour changes in text that is not shown.
    fn track_style(&mut self, text: &str) {
        let mut ignored = String::new();
        self.render_text(text, &mut ignored);
    }

    fn render_text(&mut self, text: &str, out: &mut String) {
        let mut open = false;
        let mut rest = text;
        let open_span = |style: &Style, out: &mut String| -> bool {
            let classes = style.classes();
            if classes.is_empty() {
                return false;
            }
            let _ = write!(out, "<span class=\"{classes}\">");
            true
        };
        open |= open_span(&self.style, out);
        while let Some(at) = rest.find('\x1b') {
            escape_into(out, &rest[..at]);
            rest = &rest[at + 1..];
            let Some(params) = rest.strip_prefix('[') else { continue };
            let end = params.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(params.len());
            let (code, command) = (&params[..end], params[end..].chars().next());
            rest = params.get(end + 1..).unwrap_or("");
            if command == Some('m') {
                if open {
                    out.push_str("</span>");
                }
                self.style.apply(if code.is_empty() { "0" } else { code });
                open = open_span(&self.style, out);
            }
        }
        escape_into(out, rest);
        if open {
            out.push_str("</span>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_become_classes_and_html_is_escaped() {
        let html = LogRenderer::render_all(b"\x1b[32;1m$ echo <b>\x1b[0;m\nplain & simple\n");
        assert!(html.contains("<span class=\"fg2 b\">$ echo &lt;b&gt;</span>"), "{html}");
        assert!(html.contains("plain &amp; simple"), "{html}");
    }

    /// Renders `log` whole and in pieces of `size` bytes, and checks both give the same HTML.
    fn rendered(log: &[u8], size: usize) -> String {
        let whole = LogRenderer::render_all(log);
        let mut renderer = LogRenderer::new();
        let mut pieces = String::new();
        for piece in log.chunks(size) {
            pieces.push_str(&renderer.push(piece));
        }
        pieces.push_str(&renderer.finish());
        assert_eq!(pieces, whole, "pieces of {size} bytes render like the whole");
        whole
    }

    #[test]
    fn sections_and_pieces_render_like_the_whole() {
        let log = b"section_start:1700000000:step_script\r\x1b[0KExecuting step\nhello\nsection_end:1700000003:step_script\r\x1b[0K\ndone";
        let whole = rendered(log, 3);
        assert!(whole.contains(">22:13:20</time>"), "the section's start time (UTC) is shown: {whole}");
        assert!(
            whole.contains("data-section=\"step-script\" data-id=\"s1\" data-sections=\"\" data-start=\"1700000000\""),
            "{whole}"
        );
        assert!(whole.contains("data-sections=\"s1\"><span class=\"ln\">2</span>hello"), "{whole}");
        assert!(
            whole.contains("data-for=\"s1\" data-sections=\"\" data-end=\"1700000003\" data-duration=\"00:03\""),
            "{whole}"
        );
        assert!(whole.contains("data-sections=\"\"><span class=\"ln\">3</span>done"), "{whole}");
    }

    /// The raw log of GitLab's documentation on custom collapsible sections.
    #[test]
    fn sections_written_as_gitlab_documents_them() {
        let log = b"\x1b[0Ksection_start:1560896352:my_first_section\r\x1b[0KHeader of the 1st collapsible section\n\
                    this line should be hidden when collapsed\n\
                    \x1b[0Ksection_end:1560896353:my_first_section\r\x1b[0K\n";
        let html = rendered(log, 5);
        assert!(!html.contains("section_start") && !html.contains("section_end"), "markers are not shown: {html}");
        assert!(
            html.contains("</time> Header of the 1st collapsible section<span class=\"section-duration\">"),
            "{html}"
        );
        assert!(html.contains("data-sections=\"s1\"><span class=\"ln\">2</span>this line should be hidden"), "{html}");
        assert!(html.contains("data-duration=\"00:01\""), "{html}");
        assert_eq!(html.matches("class=\"log-line").count(), 2, "the markers' own lines are not lines: {html}");

        let collapsed = rendered(
            b"\x1b[0Ksection_start:1560896352:my_first_section[collapsed=true]\r\x1b[0KHeader\nhidden\n\
              \x1b[0Ksection_end:1560896353:my_first_section\r\x1b[0K\n",
            4,
        );
        assert!(collapsed.contains("data-collapsed=\"true\""), "{collapsed}");
        assert!(!collapsed.contains("data-hide-duration"), "{collapsed}");
        let both = rendered(b"section_start:1:quiet[hide_duration=true,collapsed=true]\r\x1b[0KQuiet\nx\n", 7);
        assert!(both.contains("data-collapsed=\"true\" data-hide-duration=\"true\""), "{both}");
        // `\e[K` alone does not make a marker (GitLab's documentation says so): the carriage
        // return starts the line over and the header is all that shows.
        let short = rendered(b"section_start:1:short\r\x1b[KOnly the header\n", 6);
        assert!(!short.contains("section-header") && short.contains(">Only the header</div>"), "{short}");
    }

    #[test]
    fn nested_sections_and_markers_inside_lines() {
        let log = b"section_start:100:outer\r\x1b[0KOuter\n\
                    a\n\
                    section_start:110:inner[collapsed=true]\r\x1b[0KInner\n\
                    b\n\
                    section_end:170:inner\r\x1b[0K\n\
                    c\n\
                    section_end:3825:outer\r\x1b[0K\n\
                    before section_start:4000:Mixed.Case\r\x1b[0KHeader after text\n\
                    inside\n\
                    section_end:4001:mixed-case\r\x1b[0Kafter the end\n\
                    section_end:5000:never_opened\r\x1b[0K\n";
        let html = rendered(log, 2);
        assert!(
            html.contains("data-section=\"inner\" data-id=\"s2\" data-sections=\"s1\""),
            "the inner header is in the outer section: {html}"
        );
        assert!(html.contains("data-sections=\"s1 s2\"><span class=\"ln\">4</span>b"), "{html}");
        assert!(
            html.contains("data-for=\"s2\" data-sections=\"s1\" data-end=\"170\" data-duration=\"01:00\""),
            "{html}"
        );
        assert!(html.contains("data-sections=\"s1\"><span class=\"ln\">5</span>c"), "{html}");
        assert!(
            html.contains("data-for=\"s1\" data-sections=\"\" data-end=\"3825\" data-duration=\"01:02:05\""),
            "{html}"
        );
        // Text before a marker is a line of its own; names compare as GitLab's do.
        assert!(html.contains("<span class=\"ln\">6</span>before </div>"), "{html}");
        assert!(html.contains("data-section=\"mixed-case\" data-id=\"s3\""), "{html}");
        assert!(html.contains("data-for=\"s3\""), "{html}");
        assert!(html.contains("data-sections=\"\"><span class=\"ln\">9</span>after the end"), "{html}");
        assert!(!html.contains("never"), "an end without a start is left out: {html}");

        // Closing the outer section first leaves the inner one open (GitLab's rule).
        let crossed = rendered(
            b"section_start:1:a\r\x1b[0KA\nsection_start:2:b\r\x1b[0KB\nsection_end:3:a\r\x1b[0K\nstill in b\n",
            4,
        );
        assert!(crossed.contains("data-sections=\"s2\"><span class=\"ln\">3</span>still in b"), "{crossed}");
    }

    #[test]
    fn durations_read_as_gitlab_shows_them() {
        assert_eq!(section_duration(0), "00:00");
        assert_eq!(section_duration(65), "01:05");
        assert_eq!(section_duration(3725), "01:02:05");
        assert_eq!(section_duration(-5), "00:00", "a clock that went back");
    }

    #[test]
    fn carriage_returns_keep_the_last_text() {
        let html = LogRenderer::render_all(b"10%\r50%\r100%\n");
        assert!(html.contains(">100%</div>"), "{html}");
        assert!(!html.contains("50%"), "{html}");
    }
}
