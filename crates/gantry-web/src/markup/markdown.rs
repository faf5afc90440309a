//! GitHub-flavoured Markdown to HTML: parsed and rendered by comrak, then sanitised by
//! ammonia, always. References (`#12`, `@ada`, `~bug`…) and fenced code blocks in a known
//! language stand as marks while the text is sanitised; the sanitised text is kept by text (a
//! page of 200 comments renders each once), and each view puts in the references as the
//! viewer may follow them and the highlighted code.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};

use gantry_core::plan::references::{
    Reference, ReferenceKind, Resolutions, Resolved, for_each_text_node, markdown_options, scan,
};

use super::links::RepositoryLinks;
use super::{BoundedCache, LineHighlighter, escape, label_text_color};

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
    // Not in headings: their anchors are made from their text, marks included.
    for_each_text_node(root, |node| {
        let in_heading =
            node.ancestors().any(|up| matches!(up.data.borrow().value, comrak::nodes::NodeValue::Heading(_)));
        if !in_heading {
            nodes.push(node);
        }
    });
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
    fn headings_keep_anchors_made_of_their_own_words_and_references_elsewhere_still_link() {
        let text = "## Release 20241207 fixes #12\n\nSee #12.\n";
        let mut references = Resolutions::new();
        let resolved = Resolved {
            kind: ReferenceKind::Issue,
            href: "/acme/api/-/issues/12".into(),
            title: "Crash".into(),
            closed: false,
            color: None,
        };
        references.insert(Reference::Issue { project: None, iid: 12 }, resolved);
        for _ in 0..2 {
            let html = render_markdown_with(text, None, &references);
            assert!(html.contains("id=\"user-content-release-20241207-fixes-12\""), "{html}");
            assert!(html.contains("<p>See <a href=\"/acme/api/-/issues/12\""), "{html}");
            assert!(!html.contains('\u{F8F0}'), "{html}");
        }
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
}
