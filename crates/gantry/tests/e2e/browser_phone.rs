//! The main pages at a phone's size (390×844) and a laptop's (1366×900) in headless Chromium,
//! against a real `gantry serve` holding a real repository, a group, a tag and a finished
//! pipeline: no page scrolls sideways (code blocks scroll inside themselves), and every piece of
//! text drawn meets WCAG AA (4.5:1) against the background drawn under it; code, blame and diff
//! tables keep their rows. Screenshots land beside the other browser tests' as
//! `phone-<page>.png` and `desktop-<page>.png` (and `…-code.png` scrolled to a page's code).

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::browser::{expect_heading, fill, in_chromium, push_a_real_repository, save_screenshot, submit};
use crate::ci_pipelines::{encoded, finished, jobs, push_project, wait_for_pipeline};
use crate::server::Server;

/// A job with colours, a long unbroken line, and a JUnit report with a failing test (whose
/// output the Tests tab shows).
const CI: &str = r#"checks:
  script:
    - printf '\033[32mgreen\033[0m \033[31mred\033[0m \033[1;33mbold yellow\033[0m \033[90mgrey\033[0m\n'
    - printf 'a long line %s\n' "$(printf 'abcdefghij%.0s' $(seq 1 40))"
    - printf '<testsuite name="unit"><testcase classname="calc" name="adds"/><testcase classname="calc" name="divides"><failure message="off by one">expected 2, got 3 in a rather long explanation of what went wrong</failure><system-out>computing 1/1 then 2/1 and so on</system-out></testcase></testsuite>' > report.xml
  artifacts:
    reports:
      junit: report.xml
"#;

/// Finds, in the page, what sticks out past the viewport's right edge: the outermost elements
/// that do (each with its right edge), empty when the page does not scroll sideways.
pub(crate) const SIDEWAYS: &str = r#"
const width = window.innerWidth;
if (document.documentElement.scrollWidth <= width) return [];
const out = [];
for (const element of document.querySelectorAll('body *')) {
  const right = element.getBoundingClientRect().right;
  if (right <= width + 0.5) continue;
  // Inside a box that scrolls by itself, sticking out is that box's business.
  let scroller = element.parentElement, clipped = false;
  while (scroller && scroller !== document.body) {
    const overflow = getComputedStyle(scroller).overflowX;
    if (overflow !== 'visible') { clipped = true; break; }
    scroller = scroller.parentElement;
  }
  if (clipped) continue;
  const parentRight = element.parentElement.getBoundingClientRect().right;
  if (parentRight > width + 0.5 && element.parentElement !== document.body) continue;
  out.push(`${element.tagName.toLowerCase()}${element.id ? '#' + element.id : ''}.${[...element.classList].join('.')} reaches ${Math.round(right)}px`);
}
return [`the page is ${document.documentElement.scrollWidth}px wide in a ${width}px window`, ...out.slice(0, 8)];
"#;

/// Every visible element with text of its own whose colour has less than 4.5:1 against the
/// background drawn under it (the first opaque background of it or its ancestors), as
/// `contrast, colours, element and text`.
const LOW_CONTRAST: &str = r#"
const parse = (value) => {
  const m = value.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
  return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : null;
};
const luminance = (c) => {
  const l = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
};
const background = (element) => {
  for (let at = element; at; at = at.parentElement) {
    const colour = parse(getComputedStyle(at).backgroundColor);
    if (colour && colour[3] > 0) return colour;
  }
  return [255, 255, 255, 1];
};
const out = [];
for (const element of document.querySelectorAll('body *')) {
  const own = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
  if (!own || element.getClientRects().length === 0) continue;
  const style = getComputedStyle(element);
  if (style.visibility !== 'visible' || +style.opacity === 0) continue;
  const under = background(element);
  let text = parse(style.color);
  // A translucent colour is what it looks like over its background.
  text = text.slice(0, 3).map((v, i) => v * text[3] + under[i] * (1 - text[3]));
  const [a, b] = [luminance(text), luminance(under)];
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < 4.5) {
    out.push(`${ratio.toFixed(2)}:1 ${style.color} on ${getComputedStyle(element).backgroundColor} (${element.tagName.toLowerCase()}.${[...element.classList].join('.')}): ${element.textContent.trim().slice(0, 40)}`);
  }
}
return out.slice(0, 10);
"#;

/// The pages to look at: (name, path).
type Pages = Vec<(&'static str, String)>;

/// A server with root's real repository `root/gantry-git` (tagged `v1.0`), a group, and a
/// project `root/ci` whose pipeline has finished; and the pages to look at.
fn a_server_with_one_of_everything() -> (Server, Pages) {
    let server = Server::start();
    let token = server.admin_token("root");
    push_a_real_repository(&server, &token);
    let group = server.post_json("/api/v4/groups", &token, &json!({"name": "Acme Platform", "path": "acme"}));
    assert_eq!(group.status(), 201);
    let repo = "root/gantry-git";
    let tag = server.post_json(
        &format!("/api/v4/projects/{}/repository/tags", encoded(repo)),
        &token,
        &json!({"tag_name": "v1.0", "ref": "main", "message": "The first release"}),
    );
    assert_eq!(tag.status(), 201);
    let commits: Value =
        server.get(&format!("/api/v4/projects/{}/repository/commits", encoded(repo)), &token).json().unwrap();
    let commits = commits.as_array().unwrap();
    let newest = commits.first().unwrap()["id"].as_str().unwrap().to_owned();
    let oldest = commits.last().unwrap()["id"].as_str().unwrap().to_owned();

    let ci = push_project(&server, &token, "ci", &[(".gitlab-ci.yml", CI)]);
    let pipeline = wait_for_pipeline(&server, &token, &ci, |p| finished(&p["status"]));
    let pipeline = pipeline["id"].as_i64().unwrap();
    let job = jobs(&server, &token, &ci, pipeline).first().expect("the pipeline has its job")["id"].as_i64().unwrap();

    let pages = vec![
        ("dashboard", "/dashboard".to_owned()),
        ("explore", "/explore".to_owned()),
        ("group", "/acme".to_owned()),
        ("project", format!("/{repo}")),
        ("tree", format!("/{repo}/-/tree/main/src")),
        ("blob", format!("/{repo}/-/blob/main/src/refcheck.rs")),
        ("blame", format!("/{repo}/-/blame/main/src/refcheck.rs")),
        ("edit", format!("/{repo}/-/edit/main/src/refcheck.rs")),
        ("upload", format!("/{repo}/-/upload/main/src")),
        ("commits", format!("/{repo}/-/commits/main")),
        ("commit", format!("/{repo}/-/commit/{newest}")),
        ("compare", format!("/{repo}/-/compare/{oldest}...main")),
        ("branches", format!("/{repo}/-/branches")),
        ("tags", format!("/{repo}/-/tags")),
        ("pipelines", format!("/{ci}/-/pipelines")),
        ("pipeline", format!("/{ci}/-/pipelines/{pipeline}")),
        ("pipeline-tests", format!("/{ci}/-/pipelines/{pipeline}/test_report")),
        ("job", format!("/{ci}/-/jobs/{job}")),
        ("settings", format!("/{repo}/-/settings")),
        ("members", format!("/{repo}/-/members")),
        ("profile", "/-/profile".to_owned()),
        ("admin", "/admin".to_owned()),
    ];
    (server, pages)
}

/// Sizes the window so that the page's viewport is `width`×`height` CSS pixels.
pub(crate) async fn set_viewport(client: &Client, width: u32, height: u32) {
    client.set_window_size(width, height).await.unwrap();
    let inner = client.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.unwrap();
    let (inner_width, inner_height) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
    if (inner_width, inner_height) != (width, height) {
        client
            .set_window_size(width + width.saturating_sub(inner_width), height + height.saturating_sub(inner_height))
            .await
            .unwrap();
    }
    let inner = client.execute("return window.innerWidth;", vec![]).await.unwrap();
    assert_eq!(inner, json!(width), "the viewport is {width} pixels wide");
}

/// Waits until the page has its main content (pages that fail show an error's status code).
async fn wait_for_main(client: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while client.find(Locator::Css("main#main")).await.is_err() {
        assert!(Instant::now() < deadline, "{path} shows no main content");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let error = client.find(Locator::Css("main .status-code")).await;
    assert!(error.is_err(), "{path} shows an error page");
}

#[test]
fn the_main_pages_fit_a_phone_and_a_laptop_and_their_text_is_readable_in_chromium() {
    let (server, pages) = a_server_with_one_of_everything();
    in_chromium(&server, "failure-phone.png", move |client, base| async move {
        client.goto(&format!("{base}/users/sign_in")).await.unwrap();
        fill(&client, "login", "root").await;
        fill(&client, "password", "a long password").await;
        submit(&client).await;
        expect_heading(&client, "Your projects").await;
        let mut problems = Vec::new();
        for (size, width, height) in [("phone", 390, 844), ("desktop", 1366, 900)] {
            set_viewport(&client, width, height).await;
            for (name, path) in &pages {
                client.goto(&format!("{base}{path}")).await.unwrap();
                wait_for_main(&client, path).await;
                let sideways = client.execute(SIDEWAYS, vec![]).await.unwrap();
                if sideways.as_array().is_some_and(|found| !found.is_empty()) {
                    problems.push(format!("{size} {path} scrolls sideways: {sideways}"));
                }
                let faint = client.execute(LOW_CONTRAST, vec![]).await.unwrap();
                if faint.as_array().is_some_and(|found| !found.is_empty()) {
                    problems.push(format!("{size} {path} has text below 4.5:1: {faint}"));
                }
                save_screenshot(&client, &format!("{size}-{name}.png")).await;
                // Code, blame and diff tables keep their rows; the first is shown too.
                let code_rows = client
                    .execute(
                        "const rows = [...document.querySelectorAll('table.code tr')];
                         if (rows.length) rows[0].closest('table').scrollIntoView();
                         return [rows.length, rows.filter((r) => getComputedStyle(r).display !== 'table-row').length];",
                        vec![],
                    )
                    .await
                    .unwrap();
                if code_rows[1] != json!(0) {
                    problems.push(format!("{size} {path}: {} rows of code are not table rows", code_rows[1]));
                }
                if code_rows[0] != json!(0) {
                    save_screenshot(&client, &format!("{size}-{name}-code.png")).await;
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    });
}
