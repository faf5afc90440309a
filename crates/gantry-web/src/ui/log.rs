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

/// Turns log bytes into HTML lines.
#[derive(Debug, Default)]
pub struct LogRenderer {
    style: Style,
    /// Bytes of a line not ended yet.
    partial: Vec<u8>,
    /// Open sections, innermost last.
    sections: Vec<String>,
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

/// A section name as GitLab allows them (letters, digits, `_`, `.`, `-`).
fn section_name(text: &str) -> Option<String> {
    let name = text.split('[').next().unwrap_or(text);
    (!name.is_empty() && name.len() <= 100 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)))
        .then(|| name.to_owned())
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

    fn render_line(&mut self, raw: &[u8], out: &mut String) {
        let text = String::from_utf8_lossy(raw);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        // Section markers: `section_start:<time>:<name>\r\x1b[0K<header>`.
        for (marker, starts) in [("section_start:", true), ("section_end:", false)] {
            if let Some(rest) = text.strip_prefix(marker)
                && let Some((time, rest)) = rest.split_once(':')
                && let Some((name, header)) = rest.split_once('\r')
                && let Some(name) = section_name(name)
            {
                let header = header.trim_start_matches("\x1b[0K").trim_start_matches("\x1b[K");
                let time: i64 = time.parse().unwrap_or(0);
                if starts {
                    self.line_number += 1;
                    let collapsed = rest.contains("[collapsed=true]");
                    let _ = write!(
                        out,
                        "<div class=\"log-line section-header\" data-section=\"{name}\" data-start=\"{time}\"{}>\
                         <span class=\"ln\">{}</span><span class=\"toggle\" aria-hidden=\"true\"></span>",
                        if collapsed { " data-collapsed=\"true\"" } else { "" },
                        self.line_number
                    );
                    if let Ok(at) = time::OffsetDateTime::from_unix_timestamp(time) {
                        let _ = write!(
                            out,
                            "<time class=\"section-time\" datetime=\"{}\">{:02}:{:02}:{:02}</time> ",
                            crate::time_format::iso8601(time.saturating_mul(1000)),
                            at.hour(),
                            at.minute(),
                            at.second()
                        );
                    }
                    self.render_text(header, out);
                    out.push_str("<span class=\"section-duration\"></span></div>");
                    self.sections.push(name);
                } else {
                    if let Some(at) = self.sections.iter().rposition(|s| *s == name) {
                        self.sections.truncate(at);
                    }
                    let _ =
                        write!(out, "<div class=\"section-end\" data-section=\"{name}\" data-end=\"{time}\"></div>");
                }
                return;
            }
        }
        // A carriage return rewrites the line (progress bars): keep what came last.
        let text = text.rsplit('\r').next().unwrap_or(text);
        self.line_number += 1;
        let sections = self.sections.join(" ");
        let _ = write!(
            out,
            "<div class=\"log-line\" data-sections=\"{sections}\"><span class=\"ln\">{}</span>",
            self.line_number
        );
        self.render_text(text, out);
        out.push_str("</div>");
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

    #[test]
    fn sections_and_pieces_render_like_the_whole() {
        let log = b"section_start:1700000000:step_script\r\x1b[0KExecuting step\nhello\nsection_end:1700000003:step_script\r\x1b[0K\ndone";
        let whole = LogRenderer::render_all(log);
        assert!(whole.contains(">22:13:20</time>"), "the section's start time (UTC) is shown: {whole}");
        assert!(whole.contains("data-section=\"step_script\" data-start=\"1700000000\""), "{whole}");
        assert!(whole.contains("data-sections=\"step_script\"><span class=\"ln\">2</span>hello"), "{whole}");
        assert!(whole.contains("data-end=\"1700000003\""), "{whole}");
        let mut renderer = LogRenderer::new();
        let mut pieces = String::new();
        for piece in log.chunks(3) {
            pieces.push_str(&renderer.push(piece));
        }
        pieces.push_str(&renderer.finish());
        assert_eq!(pieces, whole);
    }

    #[test]
    fn carriage_returns_keep_the_last_text() {
        let html = LogRenderer::render_all(b"10%\r50%\r100%\n");
        assert!(html.contains(">100%</div>"), "{html}");
        assert!(!html.contains("50%"), "{html}");
    }
}
