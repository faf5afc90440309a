//! Turning repository text into HTML: GitHub-flavoured markdown (`markdown.rs`: rendered by
//! comrak, then sanitised by ammonia, always) and syntax highlighting (syntect with two-face's
//! syntaxes, loaded on the first highlighted file, about 10 ms, so a server that shows none
//! never holds them), one line at a time so every line can carry its number and anchor. Fenced
//! code blocks in Markdown that name a known language are highlighted the same way.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use syntect::highlighting::{Color, FontStyle, HighlightIterator, HighlightState, Highlighter, Style, Theme};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};

pub mod links;
mod markdown;

pub use markdown::{render_markdown, render_markdown_with};

/// Files larger than this are shown without highlighting (it is the slow part).
pub const HIGHLIGHT_LIMIT_BYTES: usize = 512 * 1024;

fn syntaxes() -> &'static SyntaxSet {
    static SYNTAXES: OnceLock<SyntaxSet> = OnceLock::new();
    SYNTAXES.get_or_init(two_face::syntax::extra_newlines)
}

/// The colour theme and the short class name of each foreground colour it uses.
struct Palette {
    theme: &'static Theme,
    colours: Vec<Color>,
}

fn palette() -> &'static Palette {
    static THEMES: OnceLock<two_face::theme::EmbeddedLazyThemeSet> = OnceLock::new();
    static PALETTE: OnceLock<Palette> = OnceLock::new();
    PALETTE.get_or_init(|| {
        let theme = THEMES.get_or_init(two_face::theme::extra).get(two_face::theme::EmbeddedThemeName::InspiredGithub);
        let mut colours = Vec::new();
        for colour in
            theme.settings.foreground.into_iter().chain(theme.scopes.iter().filter_map(|item| item.style.foreground))
        {
            if !colours.contains(&colour) {
                colours.push(colour);
            }
        }
        Palette { theme, colours }
    })
}

/// The stylesheet for highlighted code (served as `/assets/highlight.css`): one short class per
/// colour of the theme (`.h3`) and three for bold, italic and underline. Highlighted code names
/// only these, which keeps a file page a few times the size of the file rather than thirty.
pub fn highlight_css() -> &'static str {
    static CSS: OnceLock<String> = OnceLock::new();
    CSS.get_or_init(|| {
        let mut css = String::from(
            ".hb { font-weight: bold; }\n.hi { font-style: italic; }\n.hu { text-decoration: underline; }\n",
        );
        for (index, colour) in palette().colours.iter().enumerate() {
            let [r, g, b] = readable_on_light_surfaces([colour.r, colour.g, colour.b]);
            css.push_str(&format!(".h{index} {{ color: #{r:02x}{g:02x}{b:02x}; }}\n"));
        }
        css
    })
}

/// The darkest light background the stylesheet puts text on (inline code's): a colour readable
/// on it is readable on every background a line of code has (marked, added, removed).
const DARKEST_LIGHT_SURFACE: [u8; 3] = [0xee, 0xf0, 0xf3];

/// `colour`, darkened (its hue kept) until it meets WCAG AA's 4.5:1 on the light surfaces
/// (with a margin for rounding): the theme's comments and strings are paler than that.
fn readable_on_light_surfaces(colour: [u8; 3]) -> [u8; 3] {
    let mut scale = 1.0;
    loop {
        let darker = colour.map(|channel| (f64::from(channel) * scale).round() as u8);
        if contrast_ratio(darker, DARKEST_LIGHT_SURFACE) >= 4.6 || scale <= 0.0 {
            return darker;
        }
        scale -= 0.01;
    }
}

/// WCAG 2's contrast ratio of two colours (1 to 21; text needs 4.5 for level AA).
pub fn contrast_ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let luminance = |c: [u8; 3]| {
        let linear = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * linear(c[0]) + 0.7152 * linear(c[1]) + 0.0722 * linear(c[2])
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The text colour for a label chip of background `hex` (`#rrggbb`): black or white, whichever
/// contrasts more (both meet 4.5:1 on some side of every colour).
pub fn label_text_color(hex: &str) -> &'static str {
    let channel = |at: usize| hex.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()).unwrap_or(0);
    let background = [channel(1), channel(3), channel(5)];
    if contrast_ratio(background, [0, 0, 0]) >= contrast_ratio(background, [255, 255, 255]) {
        "#000000"
    } else {
        "#ffffff"
    }
}

/// The classes of a highlighted piece of text, or None when it looks like plain text.
fn style_classes(style: Style) -> Option<String> {
    let palette = palette();
    let mut classes = String::new();
    if Some(style.foreground) != palette.theme.settings.foreground
        && let Some(index) = palette.colours.iter().position(|c| *c == style.foreground)
    {
        classes.push_str(&format!("h{index}"));
    }
    for (flag, class) in [(FontStyle::BOLD, "hb"), (FontStyle::ITALIC, "hi"), (FontStyle::UNDERLINE, "hu")] {
        if style.font_style.contains(flag) {
            if !classes.is_empty() {
                classes.push(' ');
            }
            classes.push_str(class);
        }
    }
    (!classes.is_empty()).then_some(classes)
}

fn syntax_for(path: &str, first_line: &str) -> Option<&'static SyntaxReference> {
    let set = syntaxes();
    let name = path.rsplit('/').next().unwrap_or(path);
    let by_extension = name.rsplit_once('.').and_then(|(_, ext)| set.find_syntax_by_extension(ext));
    by_extension
        .or_else(|| set.find_syntax_by_extension(name))
        .or_else(|| set.find_syntax_by_first_line(first_line))
        .filter(|syntax| syntax.name != "Plain Text")
}

/// The language a path is highlighted as, if any (for the page to show).
pub fn language_of(path: &str, text: &str) -> Option<&'static str> {
    syntax_for(path, text.lines().next().unwrap_or("")).map(|s| s.name.as_str())
}

/// Values kept in memory by key, first in first out, bounded by their size in bytes (each
/// value's as its maker counts it, its key's included); one value over an eighth of the bound
/// is not kept.
struct BoundedCache<V> {
    entries: HashMap<String, Arc<V>>,
    order: VecDeque<(String, usize)>,
    bytes: usize,
    limit: usize,
}

impl<V> BoundedCache<V> {
    fn new(limit: usize) -> Mutex<BoundedCache<V>> {
        Mutex::new(BoundedCache { entries: HashMap::new(), order: VecDeque::new(), bytes: 0, limit })
    }

    fn get(cache: &Mutex<BoundedCache<V>>, key: &str) -> Option<Arc<V>> {
        cache.lock().ok().and_then(|cache| cache.entries.get(key).cloned())
    }

    fn put(cache: &Mutex<BoundedCache<V>>, key: String, value: Arc<V>, size: usize) {
        let size = size + key.len();
        let Ok(mut cache) = cache.lock() else { return };
        if size > cache.limit / 8 {
            return;
        }
        while cache.bytes + size > cache.limit {
            let Some((old, old_size)) = cache.order.pop_front() else { break };
            cache.entries.remove(&old);
            cache.bytes -= old_size;
        }
        if cache.entries.insert(key.clone(), value).is_none() {
            cache.order.push_back((key, size));
            cache.bytes += size;
        }
    }
}

/// Highlighted files, by blob id and language: a blob never changes, and highlighting is the
/// slow part of a file page.
fn highlight_cache() -> &'static Mutex<BoundedCache<Highlighted>> {
    static CACHE: OnceLock<Mutex<BoundedCache<Highlighted>>> = OnceLock::new();
    CACHE.get_or_init(|| BoundedCache::new(32 * 1024 * 1024))
}

/// A highlighted file: its lines, and the numbered table the file page shows.
pub struct Highlighted {
    pub lines: Vec<String>,
    pub table: String,
}

/// [`highlight_lines`] of the blob `blob_id` and its table, remembered for the next time.
pub fn highlight_blob(blob_id: &str, path: &str, text: &str) -> Arc<Highlighted> {
    let language = language_of(path, text).unwrap_or("plain");
    // A large file's page highlights its start only: the length tells the two apart.
    let key = format!("{blob_id}:{language}:{}", text.len());
    if let Some(found) = BoundedCache::get(highlight_cache(), &key) {
        return found;
    }
    let lines = highlight_lines(path, text);
    let mut table = String::with_capacity(lines.iter().map(|l| l.len() + 96).sum());
    table.push_str("<table class=\"code\"><tbody>\n");
    for (index, line) in lines.iter().enumerate() {
        let n = index + 1;
        table.push_str(&format!(
            "<tr id=\"L{n}\"><td class=\"num\"><a href=\"#L{n}\">{n}</a></td><td class=\"line\"><code>{line}</code></td></tr>\n"
        ));
    }
    table.push_str("</tbody></table>");
    let lines = Arc::new(Highlighted { lines, table });
    let size: usize = lines.lines.iter().map(|l| l.len() + 24).sum::<usize>() + lines.table.len();
    BoundedCache::put(highlight_cache(), key, lines.clone(), size);
    lines
}

/// The escaped HTML of each line of `text`, highlighted when its language is known and it is
/// small enough. Every line's spans are closed at its end, so lines can be wrapped in rows.
pub fn highlight_lines(path: &str, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let highlighter = (text.len() <= HIGHLIGHT_LIMIT_BYTES)
        .then(|| LineHighlighter::for_file(path, lines.first().copied().unwrap_or("")))
        .flatten();
    match highlighter {
        Some(mut highlighter) => lines.into_iter().map(|line| highlighter.line(line)).collect(),
        None => lines.iter().map(|line| escape(line.trim_end_matches(['\n', '\r']))).collect(),
    }
}

/// Highlights the lines of one file in order, each line's colours following from the lines
/// before it (a comment opened on one line colours the next).
pub struct LineHighlighter {
    syntax: &'static SyntaxReference,
    highlighter: Highlighter<'static>,
    parse: ParseState,
    colours: HighlightState,
}

impl LineHighlighter {
    /// A highlighter for the file at `path` (whose first line is `first_line`), when its
    /// language is known.
    pub fn for_file(path: &str, first_line: &str) -> Option<LineHighlighter> {
        let syntax = syntax_for(path, first_line)?;
        let highlighter = Highlighter::new(palette().theme);
        let colours = HighlightState::new(&highlighter, ScopeStack::new());
        Some(LineHighlighter { syntax, parse: ParseState::new(syntax), colours, highlighter })
    }

    /// A highlighter for code in a language named as Markdown's fences name it (`rust`, `py`,
    /// `yaml`), when it is known.
    pub fn for_language(token: &str) -> Option<LineHighlighter> {
        let syntax = syntaxes().find_syntax_by_token(token).filter(|syntax| syntax.name != "Plain Text")?;
        let highlighter = Highlighter::new(palette().theme);
        let colours = HighlightState::new(&highlighter, ScopeStack::new());
        Some(LineHighlighter { syntax, parse: ParseState::new(syntax), colours, highlighter })
    }

    /// The escaped, highlighted HTML of the next line (its newline dropped).
    pub fn line(&mut self, line: &str) -> String {
        let Ok(ops) = self.parse.parse_line(line, syntaxes()) else {
            // A line the grammar cannot handle is shown plain, and the state starts afresh.
            self.parse = ParseState::new(self.syntax);
            self.colours = HighlightState::new(&self.highlighter, ScopeStack::new());
            return escape(line.trim_end_matches(['\n', '\r']));
        };
        let mut html = String::with_capacity(line.len() * 2);
        // Neighbouring pieces of the same style share one span.
        let mut open: Option<String> = None;
        for (style, piece) in HighlightIterator::new(&mut self.colours, &ops, line, &self.highlighter) {
            let piece = piece.trim_end_matches(['\n', '\r']);
            if piece.is_empty() {
                continue;
            }
            let classes = if piece.trim().is_empty() { open.clone() } else { style_classes(style) };
            if classes != open {
                if open.is_some() {
                    html.push_str("</span>");
                }
                if let Some(classes) = &classes {
                    html.push_str("<span class=\"");
                    html.push_str(classes);
                    html.push_str("\">");
                }
                open = classes;
            }
            html.push_str(&escape(piece));
        }
        if open.is_some() {
            html.push_str("</span>");
        }
        html
    }
}

/// HTML-escapes text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_highlighted_line_by_line() {
        let lines = highlight_lines("src/main.rs", "/* a\n comment */\nfn main() { let x = \"<b>\"; }\n");
        assert_eq!(lines.len(), 3);
        for line in &lines {
            assert_eq!(line.matches("<span").count(), line.matches("</span>").count(), "{line}");
        }
        assert!(lines[0].starts_with("<span class=\"h"), "{}", lines[0]);
        let comment = &lines[0][..lines[0].find('>').unwrap()];
        assert!(lines[1].starts_with(comment), "a comment spanning lines stays a comment: {}", lines[1]);
        assert!(lines[2].contains("&lt;b&gt;") && lines[2].contains("class=\"h"), "{}", lines[2]);
        assert!(highlight_css().contains(".h1 { color: #"));
        let plain = highlight_lines("notes.unknownext", "a <b>\n");
        assert_eq!(plain, vec!["a &lt;b&gt;".to_owned()]);
        assert_eq!(language_of("Cargo.toml", "[package]"), Some("TOML"));
    }
}
