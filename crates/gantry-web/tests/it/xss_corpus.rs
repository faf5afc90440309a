//! One corpus of hostile Markdown and HTML — script tags, `javascript:`, `vbscript:` and
//! `data:` links (spelt with entities, tabs and mixed case too), event-handler attributes, SVG
//! and MathML payloads, frames, forms, styles, `<base>` and `<meta>` tags, and Markdown that
//! nests HTML in links, images, references and autolinks — written where people write: an
//! issue's title and description, a comment, an epic and a wiki page; and hostile files
//! uploaded to issues and to the wiki. Each page must hold no more of anything active than the
//! same page holding harmless text (the page's own scripts and styles), and no file is served
//! so a browser would run it.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use regex::Regex;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser, multipart};

/// The hostile texts, one Markdown paragraph each.
const CORPUS: &[&str] = &[
    "<script>alert('s1')</script>",
    "<SCRIPT SRC=//evil.example/s2.js></SCRIPT>",
    "<img src=x onerror=\"alert('s3')\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('s4');\">",
    "[click](javascript:alert('s5'))",
    "[click](JaVaScRiPt:alert('s6'))",
    "[click](&#106;&#97;vascript:alert('s7'))",
    "[click](vbscript:msgbox('s8'))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgnczknKTwvc2NyaXB0Pg==)",
    "![pic](javascript:alert('s10'))",
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<a href=\"javascript:alert('s12')\">a</a>",
    "<a href=\" &#14;  javascript:alert('s13')\">a</a>",
    "<svg onload=\"alert('s14')\"><script>alert('s14b')</script></svg>",
    "<svg><a xlink:href=\"javascript:alert('s15')\"><text x=\"20\" y=\"20\">x</text></a></svg>",
    "<math><mi xlink:href=\"javascript:alert('s16')\">x</mi></math>",
    "<math><maction actiontype=\"statusline#http://evil.example\" xlink:href=\"javascript:alert('s17')\">x</maction></math>",
    "<iframe src=\"https://evil.example/s18\"></iframe>",
    "<iframe srcdoc=\"<script>alert('s19')</script>\"></iframe>",
    "<object data=\"https://evil.example/s20.swf\"></object><embed src=\"https://evil.example/s20b.swf\">",
    "<form action=\"https://evil.example/s21\"><input name=\"x\"><button formaction=\"javascript:alert('s21b')\">go</button></form>",
    "<details open ontoggle=\"alert('s22')\">x</details>",
    "<div style=\"background:url(javascript:alert('s23'))\">x</div>",
    "<style>body { background: url(javascript:alert('s24')) }</style>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('s25')\">",
    "<base href=\"https://evil.example/\">",
    "<link rel=\"stylesheet\" href=\"https://evil.example/s27.css\">",
    "[<img src=x onerror=alert('s28')>](https://example.com)",
    "[x](https://example.com \"title\" onmouseover=\"alert('s29')\")",
    "<javascript:alert('s30')>",
    "[ref]\n\n[ref]: javascript:alert('s31')",
    "<!-- --><script>alert('s32')</script><!-- -->",
    "`<script>alert('s33')</script>`",
    "```html\n</code></pre><script>alert('s34')</script>\n```",
    "<p title=\"</p><script>alert('s35')</script>\">x</p>",
    "<a href=\"https://example.com\" target=\"_self\" onclick=\"alert('s36')\">x</a>",
    "<table><tr><td background=\"javascript:alert('s37')\">x</td></tr></table>",
    "<video poster=\"javascript:alert('s38')\"><source onerror=\"alert('s38b')\"></video>",
    "<audio src=x onerror=alert('s39')>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert('s40')>\"></noscript>",
    "<template><script>alert('s41')</script></template>",
    "<x onclick=alert('s42')>custom</x>",
];

/// What a page must hold no more of than its harmless twin: active tags, handler attributes,
/// inline styles, and URLs with a scheme that runs or embeds.
fn active_counts(html: &str) -> Vec<(String, usize)> {
    let patterns = [
        r"(?i)<script",
        r"(?i)<iframe",
        r"(?i)<object",
        r"(?i)<embed",
        r"(?i)<svg",
        r"(?i)<math",
        r"(?i)<style",
        r"(?i)<meta",
        r"(?i)<base",
        r"(?i)<link",
        r"(?i)<form",
        r"(?i)<button",
        r"(?i)<video",
        r"(?i)<audio",
        r"(?i)<template",
        r"(?i)<noscript",
        r"(?i)<details",
        r#"(?i)<[a-z][^>]*\son[a-z]+\s*="#,
        r#"(?i)<[a-z][^>]*\sstyle\s*="#,
        r#"(?i)<[a-z][^>]*\s(srcdoc|formaction|background|poster)\s*="#,
        r#"(?i)<[a-z][^>]*=\s*["']?[\s\x00-\x20]*(javascript|vbscript|data|jav&#)"#,
    ];
    patterns.iter().map(|pattern| (pattern.to_string(), Regex::new(pattern).unwrap().find_iter(html).count())).collect()
}

/// Fails when `hostile` holds more of anything active than `harmless`.
fn assert_neutralised(surface: &str, harmless: &str, hostile: &str) {
    for ((pattern, allowed), (_, found)) in active_counts(harmless).into_iter().zip(active_counts(hostile)) {
        assert!(
            found <= allowed,
            "{surface}: {found} matches of {pattern} where a harmless page has {allowed}:\n{}",
            excerpt(hostile, &pattern)
        );
    }
    assert!(!hostile.contains("evil.example/s2.js\""), "{surface}: a script source survived");
}

/// The first matches of a pattern, with some text around, for the failure message.
fn excerpt(html: &str, pattern: &str) -> String {
    let re = Regex::new(pattern).unwrap();
    re.find_iter(html)
        .take(5)
        .map(|m| {
            let start = html.floor_char_boundary(m.start().saturating_sub(80));
            let end = html.ceil_char_boundary((m.end() + 120).min(html.len()));
            html[start..end].to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

async fn call(app: &TestApp, user: &TestUser, method: Method, path: &str, body: Value) -> Value {
    let answer = app.api(method, path, Some(&user.token), Some(body)).await;
    assert!(answer.status.is_success(), "{path}: {} {}", answer.status, answer.body);
    answer.json()
}

async fn page(app: &TestApp, user: &TestUser, path: &str) -> String {
    let answer = app.page(Method::GET, path, Some(user), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
    answer.body
}

async fn upload(app: &TestApp, user: &TestUser, path: &str, name: &str, content: &[u8]) -> Value {
    let request = Request::post(path)
        .header("PRIVATE-TOKEN", &user.token)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(Body::from(multipart(&[], &[("file", name, content)])))
        .unwrap();
    let answer = app.send(request).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{path} {name}: {}", answer.body);
    answer.json()
}

/// Files a browser would run if served as they claim to be.
const HOSTILE_FILES: &[(&str, &[u8])] = &[
    ("page.html", b"<!doctype html><script>alert('f1')</script>"),
    ("picture.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert('f2')\"/>"),
    ("fake.png", b"<html><body onload=alert('f3')>"),
    ("fake.jpg", b"<script>alert('f4')</script>"),
    ("notes.txt", b"<script>alert('f5')</script>"),
    ("page.xhtml", b"<html xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert('f6')</script></html>"),
    ("data.xml", b"<?xml version=\"1.0\"?><x:script xmlns:x=\"http://www.w3.org/1999/xhtml\">alert('f7')</x:script>"),
    ("movie.swf", b"FWS\x0a\x00\x00\x00"),
    ("doc.pdf", b"%PDF-1.4 /JS (alert('f9'))"),
];

/// Served so that a browser runs nothing: never as HTML, SVG or XML, never sniffed, and
/// sandboxed; anything but plain text and real pictures downloaded.
fn assert_served_inert(what: &str, served: &crate::support::TestResponse) {
    assert_eq!(served.status, StatusCode::OK, "{what}");
    let kind = served.header("content-type").to_ascii_lowercase();
    for active in ["html", "svg", "xml", "javascript", "flash", "pdf"] {
        assert!(!kind.contains(active), "{what} is served as {kind}");
    }
    assert!(
        kind == "text/plain; charset=utf-8" || served.header("content-disposition").starts_with("attachment"),
        "{what} is served as {kind}, {}",
        served.header("content-disposition")
    );
    assert_eq!(served.header("x-content-type-options"), "nosniff", "{what}");
    assert!(served.header("content-security-policy").contains("sandbox"), "{what}");
}

#[tokio::test]
async fn hostile_markdown_and_files_are_neutralised_everywhere_people_write() {
    let app = TestApp::new().await;
    let owner = app.user("owner").await;
    let body = json!({"name": "team", "path": "team", "visibility": "private"});
    let group = call(&app, &owner, Method::POST, "/api/v4/groups", body).await["id"].as_i64().unwrap();
    let body = json!({"name": "app", "visibility": "private", "namespace_id": group});
    let project = call(&app, &owner, Method::POST, "/api/v4/projects", body).await["id"].as_i64().unwrap();
    let hostile = CORPUS.join("\n\n");
    let harmless = CORPUS.iter().enumerate().map(|(n, _)| format!("Paragraph {n}.")).collect::<Vec<_>>().join("\n\n");

    // Issues (title and description) and comments: #1 harmless, #2 hostile.
    for (title, text) in [("A harmless issue", &harmless), (CORPUS[2], &hostile)] {
        let issue = json!({"title": title, "description": text});
        let made = call(&app, &owner, Method::POST, &format!("/api/v4/projects/{project}/issues"), issue).await;
        let path = format!("/api/v4/projects/{project}/issues/{}/notes", made["iid"]);
        call(&app, &owner, Method::POST, &path, json!({"body": text})).await;
    }
    let calm = page(&app, &owner, "/team/app/-/issues/1").await;
    let risky = page(&app, &owner, "/team/app/-/issues/2").await;
    assert!(
        risky.contains("alert(&#x27;s33&#x27;)") || risky.contains("alert(&#39;s33&#39;)"),
        "code is shown as text"
    );
    assert_neutralised("an issue and its comment", &calm, &risky);
    let list = page(&app, &owner, "/team/app/-/issues").await;
    assert_neutralised("the issue list", &calm, &list);
    let found = page(&app, &owner, "/search?search=alert&scope=notes").await;
    assert_neutralised("search results", &calm, &found);

    // Epics: description (and a hostile title).
    for (title, text) in [("A harmless epic", &harmless), (CORPUS[0], &hostile)] {
        call(
            &app,
            &owner,
            Method::POST,
            &format!("/api/v4/groups/{group}/epics"),
            json!({"title": title, "description": text}),
        )
        .await;
    }
    let calm = page(&app, &owner, "/team/-/epics/1").await;
    let risky = page(&app, &owner, "/team/-/epics/2").await;
    assert_neutralised("an epic", &calm, &risky);
    assert_neutralised("the epic list", &calm, &page(&app, &owner, "/team/-/epics").await);

    // Wiki pages, shown and as the API renders them.
    for (title, text) in [("Calm", &harmless), ("Risky", &hostile)] {
        call(
            &app,
            &owner,
            Method::POST,
            &format!("/api/v4/projects/{project}/wikis"),
            json!({"title": title, "content": text}),
        )
        .await;
    }
    let calm = page(&app, &owner, "/team/app/-/wikis/Calm").await;
    let risky = page(&app, &owner, "/team/app/-/wikis/Risky").await;
    assert_neutralised("a wiki page", &calm, &risky);
    let rendered = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v4/projects/{project}/wikis/Risky?render_html=true"),
        Value::Null,
    )
    .await["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let calm_rendered = call(
        &app,
        &owner,
        Method::GET,
        &format!("/api/v4/projects/{project}/wikis/Calm?render_html=true"),
        Value::Null,
    )
    .await["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_neutralised("a wiki page's render_html", &calm_rendered, &rendered);

    // Hostile files, attached to issues and to the wiki.
    for (name, content) in HOSTILE_FILES {
        let uploaded = upload(&app, &owner, &format!("/api/v4/projects/{project}/uploads"), name, content).await;
        let served = app
            .page(Method::GET, &format!("/team/app/-{}", uploaded["url"].as_str().unwrap()), Some(&owner), None)
            .await;
        assert_served_inert(&format!("the issue file {name}"), &served);
        let attached =
            upload(&app, &owner, &format!("/api/v4/projects/{project}/wikis/attachments"), name, content).await;
        let path = attached["file_path"].as_str().unwrap();
        let served = app.page(Method::GET, &format!("/team/app/-/wikis/{path}"), Some(&owner), None).await;
        assert_served_inert(&format!("the wiki file {name}"), &served);
    }
}
