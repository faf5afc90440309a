//! Turning repository text into HTML: GitHub-flavoured markdown (rendered by comrak, then
//! sanitised by ammonia, always) and syntax highlighting (syntect with two-face's syntaxes,
//! loaded on the first highlighted file, about 10 ms, so a server that shows none never holds
//! them), one line at a time so every line can carry its number and anchor. Fenced code blocks
//! in Markdown that name a known language are highlighted the same way.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use syntect::highlighting::{Color, FontStyle, HighlightIterator, HighlightState, Highlighter, Style, Theme};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};

pub mod links;

use gantry_core::plan::references::{
    Reference, ReferenceKind, Resolutions, Resolved, for_each_text_node, markdown_options, scan,
};
use links::RepositoryLinks;

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

/// Renders GitHub-flavoured markdown to sanitised HTML. Relative links and images of a file
/// shown from a repository lead into it (`links.rs`).
pub fn render_markdown(text: &str, links: Option<&RepositoryLinks>) -> String {
    render_markdown_with(text, links, &Resolutions::new())
}

/// Marks standing for a piece of HTML (a reference's link, a highlighted code block) until the
/// HTML is clean: a private-use character, this render's secret, the piece's number and another
/// private-use character. A text's own mark characters are replaced before it is read, and the
/// ones it writes as character references (`&#63728;`) cannot carry the secret, so only the
/// marks put in here are replaced, each once.
const OPEN_MARK: char = '\u{F8F0}';
const CLOSE_MARK: char = '\u{F8F1}';

/// An unguessable value for one render's marks (std's randomly keyed hasher over a counter).
fn render_secret() -> String {
    use std::hash::{BuildHasher, Hasher};
    static RENDERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(RENDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}

/// The mark of piece `index`.
fn mark(secret: &str, index: usize) -> String {
    format!("{OPEN_MARK}{secret}{index}{CLOSE_MARK}")
}

/// [`render_markdown`], with the references the viewer may follow (`references`, resolved by
/// the Plan stage) shown as links with titles: `#12` (and "(closed)"), `@ada`, `~bug` as its
/// coloured chip, `%v1`, commit ids. The links are put in after sanitising, so they may carry
/// what the sanitiser would drop (a label's colours), and every value in them is escaped here.
pub fn render_markdown_with(text: &str, links: Option<&RepositoryLinks>, references: &Resolutions) -> String {
    let prepared = prepared(text, links);
    let pieces: Vec<Cow<'_, str>> = prepared
        .pieces
        .iter()
        .map(|piece| match piece {
            Piece::Html(html) => Cow::Borrowed(html.as_str()),
            Piece::Reference { written, reference } => match references.get(reference) {
                Some(resolved) => Cow::Owned(reference_html(written, reference, resolved)),
                None => Cow::Owned(escape_text(written)),
            },
        })
        .collect();
    if pieces.is_empty() { prepared.html.clone() } else { put_back(&prepared.html, &prepared.secret, &pieces) }
}

/// A text rendered and sanitised, whoever looks: every reference it holds and every
/// highlighted code block stand in it as marks until [`render_markdown_with`] puts in what the
/// viewer gets for each.
struct Prepared {
    html: String,
    secret: String,
    pieces: Vec<Piece>,
}

/// What a mark of a [`Prepared`] text stands for.
enum Piece {
    /// Highlighted code, escaped.
    Html(String),
    /// A reference as written: a link when the viewer may follow it, else its text.
    Reference { written: String, reference: Reference },
}

/// Rendered texts, by text and where they are shown from: a page of 200 comments renders each
/// once, not on every view (GitLab keeps each note's HTML likewise).
fn markdown_cache() -> &'static Mutex<BoundedCache<Prepared>> {
    static CACHE: OnceLock<Mutex<BoundedCache<Prepared>>> = OnceLock::new();
    CACHE.get_or_init(|| BoundedCache::new(32 * 1024 * 1024))
}

/// `text` prepared (see [`Prepared`]), from the cache when it was rendered before.
fn prepared(text: &str, links: Option<&RepositoryLinks>) -> Arc<Prepared> {
    let key = match links {
        Some(links) => format!("{links:?}\n{text}"),
        None => format!("-\n{text}"),
    };
    if let Some(found) = BoundedCache::get(markdown_cache(), &key) {
        return found;
    }
    let prepared = Arc::new(prepare(text, links));
    let size = prepared.html.len()
        + prepared
            .pieces
            .iter()
            .map(|piece| match piece {
                Piece::Html(html) => html.len(),
                Piece::Reference { written, .. } => written.len() + 64,
            })
            .sum::<usize>();
    BoundedCache::put(markdown_cache(), key, prepared.clone(), size);
    prepared
}

fn prepare(text: &str, links: Option<&RepositoryLinks>) -> Prepared {
    let options = markdown_options();
    let text = text.replace([OPEN_MARK, CLOSE_MARK], "\u{FFFD}");
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, &text, &options);
    let mut pieces: Vec<Piece> = Vec::new();
    let secret = render_secret();
    let mut nodes = Vec::new();
    for_each_text_node(root, |node| nodes.push(node));
    for node in nodes {
        let mut data = node.data.borrow_mut();
        let comrak::nodes::NodeValue::Text(literal) = &mut data.value else { continue };
        let mut marked = String::with_capacity(literal.len());
        let mut copied = 0;
        for found in scan(literal) {
            marked.push_str(&literal[copied..found.range.start]);
            marked.push_str(&mark(&secret, pieces.len()));
            pieces.push(Piece::Reference {
                written: literal[found.range.clone()].to_owned(),
                reference: found.reference,
            });
            copied = found.range.end;
        }
        if copied > 0 {
            marked.push_str(&literal[copied..]);
            *literal = marked.into();
        }
    }
    highlight_code_blocks(root, &secret, &mut pieces);
    let mut html = String::new();
    if comrak::format_html(root, &options, &mut html).is_err() {
        return Prepared { html: escape(&text), secret, pieces: Vec::new() };
    }
    let mut cleaner = ammonia::Builder::default();
    cleaner
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("h1", ["id"])
        .add_tag_attributes("h2", ["id"])
        .add_tag_attributes("h3", ["id"])
        .add_tag_attributes("h4", ["id"])
        .link_rel(Some("noopener noreferrer nofollow"));
    if let Some(links) = links {
        // The filter runs once ammonia has kept only allowed attributes and schemes.
        let links = links.clone();
        cleaner.attribute_filter(move |element, attribute, value| Some(links.rewrite(element, attribute, value)));
    }
    Prepared { html: cleaner.clean(&html).to_string(), secret, pieces }
}

/// Text escaped as the sanitiser writes text (quotes kept), for a reference left as written.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\u{a0}', "&nbsp;")
}

/// Code blocks a text highlights at most, and the largest one highlighted (bytes): the rest
/// are shown plain, so a text cannot make its page slow.
const MAX_HIGHLIGHTED_BLOCKS: usize = 50;
const MAX_HIGHLIGHTED_BLOCK_BYTES: usize = 64 * 1024;

/// Highlights the fenced code blocks whose language is known (```rust): each block's text is
/// replaced by a mark and its highlighted HTML (every piece escaped) becomes a piece put back
/// after sanitising, inside the `<pre><code>` comrak writes.
fn highlight_code_blocks<'a>(root: &'a comrak::nodes::AstNode<'a>, secret: &str, pieces: &mut Vec<Piece>) {
    let mut highlighted = 0;
    for node in root.descendants() {
        if highlighted == MAX_HIGHLIGHTED_BLOCKS {
            break;
        }
        let mut data = node.data.borrow_mut();
        let comrak::nodes::NodeValue::CodeBlock(block) = &mut data.value else { continue };
        let language = block.info.split_whitespace().next().unwrap_or_default();
        if !block.fenced || language.is_empty() || block.literal.len() > MAX_HIGHLIGHTED_BLOCK_BYTES {
            continue;
        }
        let Some(mut highlighter) = LineHighlighter::for_language(language) else { continue };
        let lines: Vec<String> = block.literal.split_inclusive('\n').map(|line| highlighter.line(line)).collect();
        let mut html = lines.join("\n");
        if block.literal.ends_with('\n') {
            html.push('\n');
        }
        block.literal = mark(secret, pieces.len());
        pieces.push(Piece::Html(html));
        highlighted += 1;
    }
}

/// `html` with each of this render's marks replaced by its piece, each piece at most once;
/// anything else that looks like a mark is left as it is.
fn put_back(html: &str, secret: &str, pieces: &[Cow<'_, str>]) -> String {
    let mut out = String::with_capacity(html.len() + pieces.iter().map(|piece| piece.len()).sum::<usize>());
    let mut used = vec![false; pieces.len()];
    let mut rest = html;
    while let Some(open) = rest.find(OPEN_MARK) {
        out.push_str(&rest[..open]);
        let after = &rest[open + OPEN_MARK.len_utf8()..];
        let found = after.strip_prefix(secret).and_then(|numbered| {
            let close = numbered.find(CLOSE_MARK)?;
            let index =
                numbered[..close].parse::<usize>().ok().filter(|&index| index < pieces.len() && !used[index])?;
            Some((index, &numbered[close + CLOSE_MARK.len_utf8()..]))
        });
        match found {
            Some((index, after_mark)) => {
                used[index] = true;
                out.push_str(&pieces[index]);
                rest = after_mark;
            }
            None => {
                out.push(OPEN_MARK);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The link a resolved reference is shown as, every value escaped.
fn reference_html(written: &str, reference: &Reference, resolved: &Resolved) -> String {
    let kind = resolved.kind.as_str();
    let href = escape(&resolved.href);
    let title =
        if resolved.title.is_empty() { String::new() } else { format!(" title=\"{}\"", escape(&resolved.title)) };
    let inner = match (reference, &resolved.color) {
        (Reference::Label(name), Some(color)) => {
            let valid = color.len() == 7 && color.starts_with('#') && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
            let background = if valid { color.as_str() } else { "#6699cc" };
            format!(
                "<span class=\"label-chip\" style=\"background-color: {background}; color: {}\">{}</span>",
                label_text_color(background),
                escape(name)
            )
        }
        (Reference::Commit(_), _) => format!("<code>{}</code>", escape(written)),
        _ => escape(written),
    };
    let closed = if resolved.closed && matches!(resolved.kind, ReferenceKind::Issue | ReferenceKind::Epic) {
        " (closed)"
    } else {
        ""
    };
    format!("<a href=\"{href}\" class=\"ref ref-{kind}\"{title}>{inner}</a>{closed}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_and_sanitised() {
        let html = render_markdown(
            "# Title\n\n<script>alert(1)</script>\n\n- [x] done\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[doc](docs/x.md) <img src=x onerror=alert(1)>",
            Some(&RepositoryLinks::repository("acme/api", "main", "")),
        );
        assert!(html.contains("<h1") && html.contains("Title"));
        assert!(!html.contains("<script") && !html.contains("onerror"), "{html}");
        assert!(html.contains("<table>") && html.contains("checkbox"), "{html}");
        assert!(html.contains("href=\"/acme/api/-/blob/main/docs/x.md\""), "{html}");
        let javascript = render_markdown("[x](javascript:alert(1))", None);
        assert!(!javascript.contains("javascript:"), "{javascript}");
    }

    #[test]
    fn fenced_code_in_markdown_is_highlighted_and_stays_text() {
        let html = render_markdown(
            "```rust\nfn main() { let s = \"</code><script>x</script>\"; }\n```\n\n```\nplain <b>\n```\n\n```nosuchlang\nkept\n```",
            None,
        );
        assert!(html.contains("<span class=\"h"), "known languages are highlighted: {html}");
        assert!(html.contains("&lt;/code&gt;&lt;script&gt;") && !html.contains("<script"), "{html}");
        assert!(html.contains("plain &lt;b&gt;") && html.contains(">kept\n</code>"), "others stay plain: {html}");
        assert_eq!(html.matches("<pre").count(), 3, "{html}");
    }

    #[test]
    fn marks_written_as_character_references_never_copy_a_piece() {
        let block = "```rust\nfn main() {}\n```\n\n";
        let alone = render_markdown(block, None);
        let forged = "&#63728;0&#63729; [x](y \"&#63728;0&#63729;\") ".repeat(1000);
        let html = render_markdown(&format!("{block}{forged}"), None);
        assert_eq!(html.matches("<span").count(), alone.matches("<span").count(), "{html}");
        assert!(html.len() < alone.len() + forged.len() * 2, "{} bytes", html.len());
        let unclosed = put_back("a\u{F8F0}b", "0123456789abcdef", &[Cow::Borrowed("piece")]);
        assert_eq!(unclosed, "a\u{F8F0}b");
    }

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
