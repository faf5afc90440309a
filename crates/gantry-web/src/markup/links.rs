//! Where the relative links and images of Markdown shown from a repository lead: an image to
//! the file's bytes (`/-/raw/<ref>/<path>`), a link to the file's page (`/-/blob/…`, or
//! `/-/tree/…` for a path ending in `/`), at the same ref, resolved against the folder of the
//! Markdown file (a path starting with `/` against the repository's root). In a wiki page both
//! lead to `/-/wikis/<path>` (a page, or an attachment's bytes), and `uploads/…`, where
//! attachments are kept, is always from the wiki's root. `.` and `..` are
//! followed, percent-encoded or not, and never above the root. Absolute URLs (with a scheme
//! or a host), anchors and queries alone are left as they are.

use std::borrow::Cow;

use crate::ui::code::url_path;

/// The repository, ref and folder a Markdown file is shown from.
#[derive(Debug, Clone)]
pub struct RepositoryLinks {
    /// The project's full path (`acme/api`).
    pub project: String,
    /// The branch, tag or commit the file was read at.
    pub reference: String,
    /// The folder of the Markdown file, `""` at the root.
    pub dir: String,
    /// What the Markdown is: a file of the repository, a wiki page, or an issue's text.
    pub kind: LinkKind,
}

/// Where a Markdown text is shown from, which decides where its relative links lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A file at `reference` in `dir`.
    Repository,
    /// A wiki page in `dir` (`reference` is unused).
    Wiki,
    /// An issue's description or a comment: only `/uploads/…`, the project's attached files,
    /// is rewritten (to `/<project>/-/uploads/…`); everything else is left as written.
    Notes,
}

impl RepositoryLinks {
    /// The links of a file of the repository at `reference`, in `dir`.
    pub fn repository(project: &str, reference: &str, dir: &str) -> RepositoryLinks {
        RepositoryLinks {
            project: project.to_owned(),
            reference: reference.to_owned(),
            dir: dir.to_owned(),
            kind: LinkKind::Repository,
        }
    }

    /// The links of a wiki page in `dir`.
    pub fn wiki(project: &str, dir: &str) -> RepositoryLinks {
        RepositoryLinks { kind: LinkKind::Wiki, ..RepositoryLinks::repository(project, "", dir) }
    }

    /// The links of an issue's text or a comment in `project`.
    pub fn notes(project: &str) -> RepositoryLinks {
        RepositoryLinks { kind: LinkKind::Notes, ..RepositoryLinks::repository(project, "", "") }
    }

    /// The value an `element`'s `attribute` gets in place of `value`.
    pub fn rewrite<'a>(&self, element: &str, attribute: &str, value: &'a str) -> Cow<'a, str> {
        let verb = match (element, attribute) {
            ("img", "src") => "raw",
            ("a", "href") => "blob",
            _ => return Cow::Borrowed(value),
        };
        if self.kind == LinkKind::Notes {
            return match value.strip_prefix("/uploads/") {
                Some(rest) if !rest.contains("..") => Cow::Owned(format!("/{}/-/uploads/{rest}", self.project)),
                _ => Cow::Borrowed(value),
            };
        }
        if !is_repository_relative(value) {
            return Cow::Borrowed(value);
        }
        let (rest, fragment) = split_at_first(value, '#');
        let (path, query) = split_at_first(rest, '?');
        if self.kind == LinkKind::Wiki {
            let dir = if path.starts_with("uploads/") { "" } else { self.dir.as_str() };
            let (segments, _) = resolve(dir, path);
            return Cow::Owned(format!("/{}/-/wikis/{}{query}{fragment}", self.project, segments.join("/")));
        }
        let (segments, directory) = resolve(&self.dir, path);
        let verb = if verb == "blob" && (directory || segments.is_empty()) { "tree" } else { verb };
        let mut url = format!("/{}/-/{verb}/{}", self.project, url_path(&self.reference));
        if !segments.is_empty() {
            url.push('/');
            url.push_str(&segments.join("/"));
        }
        url.push_str(query);
        url.push_str(fragment);
        Cow::Owned(url)
    }
}

/// Whether `value` is a path into the repository: not empty, not only an anchor or a query,
/// without a scheme (`https:`, `mailto:`) and without a host (`//host`, which browsers also
/// read in `\\host` and `/\host`).
fn is_repository_relative(value: &str) -> bool {
    let starts_host = value.len() >= 2 && value.bytes().take(2).all(|b| b == b'/' || b == b'\\');
    !(value.is_empty() || value.starts_with(['#', '?']) || has_scheme(value) || starts_host)
}

/// Whether `value` starts with a URL scheme (`[A-Za-z][A-Za-z0-9+.-]*:`).
fn has_scheme(value: &str) -> bool {
    let Some((scheme, _)) = value.split_once(':') else { return false };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// `value` cut before the first `mark` (the rest keeps the mark).
fn split_at_first(value: &str, mark: char) -> (&str, &str) {
    match value.find(mark) {
        Some(at) => value.split_at(at),
        None => (value, ""),
    }
}

/// The segments (as they go in a URL) of `path` resolved against the folder `dir`, and whether
/// it names a folder (it ends with a separator, `.` or `..`).
fn resolve(dir: &str, path: &str) -> (Vec<String>, bool) {
    let mut segments: Vec<String> = if path.starts_with(['/', '\\']) {
        Vec::new()
    } else {
        dir.split('/').filter(|s| !s.is_empty()).map(url_path).collect()
    };
    let mut directory = false;
    for segment in path.split(['/', '\\']) {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        directory = true;
        match decoded.as_ref() {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => {
                segments.push(segment.to_owned());
                directory = false;
            }
        }
    }
    (segments, directory)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(dir: &str) -> RepositoryLinks {
        RepositoryLinks::repository("acme/api", "feature/a", dir)
    }

    #[test]
    fn wiki_links_lead_to_pages_and_attachments_from_the_root() {
        let page = RepositoryLinks::wiki("acme/api", "guide");
        assert_eq!(page.rewrite("a", "href", "Install#linux"), "/acme/api/-/wikis/guide/Install#linux");
        assert_eq!(page.rewrite("a", "href", "../home"), "/acme/api/-/wikis/home");
        assert_eq!(page.rewrite("a", "href", "../../../x"), "/acme/api/-/wikis/x");
        assert_eq!(page.rewrite("img", "src", "uploads/ab12/shot.png"), "/acme/api/-/wikis/uploads/ab12/shot.png");
        assert_eq!(page.rewrite("a", "href", "https://example.com/"), "https://example.com/");
    }

    #[test]
    fn an_issues_uploads_lead_to_its_project() {
        let notes = RepositoryLinks::notes("acme/api");
        assert_eq!(notes.rewrite("img", "src", "/uploads/ab12/shot.png"), "/acme/api/-/uploads/ab12/shot.png");
        assert_eq!(notes.rewrite("a", "href", "/uploads/ab12/notes.txt"), "/acme/api/-/uploads/ab12/notes.txt");
        assert_eq!(notes.rewrite("a", "href", "docs/x.md"), "docs/x.md");
        assert_eq!(notes.rewrite("a", "href", "/uploads/../../admin"), "/uploads/../../admin");
    }

    #[test]
    fn relative_paths_resolve_against_the_folder_and_never_above_the_root() {
        let docs = links("docs/guide");
        assert_eq!(docs.rewrite("img", "src", "img/logo.png"), "/acme/api/-/raw/feature/a/docs/guide/img/logo.png");
        assert_eq!(docs.rewrite("a", "href", "../api.md#auth"), "/acme/api/-/blob/feature/a/docs/api.md#auth");
        assert_eq!(docs.rewrite("a", "href", "./x.md?plain=1"), "/acme/api/-/blob/feature/a/docs/guide/x.md?plain=1");
        assert_eq!(docs.rewrite("a", "href", "../../../../etc/passwd"), "/acme/api/-/blob/feature/a/etc/passwd");
        assert_eq!(docs.rewrite("a", "href", "%2e%2e/%2E%2E/%2e%2e/x"), "/acme/api/-/blob/feature/a/x");
        assert_eq!(docs.rewrite("a", "href", "..\\..\\..\\x"), "/acme/api/-/blob/feature/a/x");
        assert_eq!(docs.rewrite("a", "href", "/README.md"), "/acme/api/-/blob/feature/a/README.md");
        assert_eq!(docs.rewrite("a", "href", "examples/"), "/acme/api/-/tree/feature/a/docs/guide/examples");
        assert_eq!(docs.rewrite("a", "href", "../.."), "/acme/api/-/tree/feature/a");
        assert_eq!(links("").rewrite("img", "src", "a%20b.png"), "/acme/api/-/raw/feature/a/a%20b.png");
    }

    #[test]
    fn absolute_urls_anchors_and_other_attributes_are_left_alone() {
        let root = links("");
        for value in
            ["https://example.com/x.png", "mailto:a@example.com", "#usage", "?q=1", "//cdn.example/x", "\\\\host/x", ""]
        {
            assert_eq!(root.rewrite("a", "href", value), value);
            assert_eq!(root.rewrite("img", "src", value), value);
        }
        assert_eq!(root.rewrite("blockquote", "cite", "x.md"), "x.md");
    }
}
