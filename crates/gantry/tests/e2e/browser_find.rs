//! Finding things in a real headless Chromium at 1366×900: find file from the tree page with
//! the keyboard only (`t`, typing, arrows, Enter; Esc goes back), the branch filter of the ref
//! picker, and a code search from the top bar that lands on the matching line. Screenshots land
//! in `test-output/screenshots/` beside the other browser tests'.

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use crate::browser::{in_chromium, push_a_real_repository, save_screenshot};
use crate::server::Server;

/// Presses one key on whatever has the focus, as a person would.
async fn press(client: &Client, key: char) {
    let keys =
        KeyActions::new("keyboard".to_owned()).then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
    client.perform_actions(keys).await.unwrap();
}

/// Waits until the page's path (and fragment, when `expected` has one) is `expected`; a
/// trailing slash (a folder's empty path) does not count.
async fn wait_for_location(client: &Client, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = client.current_url().await.unwrap();
        let here = match url.fragment() {
            Some(fragment) if expected.contains('#') => format!("{}#{fragment}", url.path()),
            _ => url.path().trim_end_matches('/').to_owned(),
        };
        if here == expected {
            return;
        }
        assert!(Instant::now() < deadline, "expected to be at {expected}, the browser is at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the element `css` selects holds `expected` in its text.
async fn wait_for_text(client: &Client, css: &str, expected: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(expected) {
            return text;
        }
        assert!(Instant::now() < deadline, "{css} reads {text:?}, without {expected:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn find_a_file_with_the_keyboard(client: &Client, base: &str) {
    client.set_window_size(1366, 900).await.unwrap();
    client.goto(&format!("{base}/root/gantry-git/-/tree/main")).await.unwrap();
    client.wait().for_element(Locator::Id("find-file")).await.expect("the tree's Find file button");
    // `t` opens find file at the ref being browsed, its input focused.
    press(client, 't').await;
    wait_for_location(client, "/root/gantry-git/-/find_file/main").await;
    client.wait().for_element(Locator::Css("#find-file-results li.selected")).await.unwrap();
    press(client, 'r').await;
    for letter in "efchk".chars() {
        press(client, letter).await;
    }
    let first = wait_for_text(client, "#find-file-results li:first-child", "src/refcheck.rs").await;
    assert_eq!(first, "src/refcheck.rs");
    client.wait().for_element(Locator::Css("#find-file-results li.selected mark")).await.expect("the letters marked");
    // Arrows move the choice and come back.
    press(client, char::from(Key::Down)).await;
    wait_for_text(client, "#find-file-results li.selected", "").await;
    press(client, char::from(Key::Up)).await;
    wait_for_text(client, "#find-file-results li.selected", "src/refcheck.rs").await;
    save_screenshot(client, "find-file.png").await;
    press(client, char::from(Key::Enter)).await;
    wait_for_location(client, "/root/gantry-git/-/blob/main/src/refcheck.rs").await;
    client.wait().for_element(Locator::Css("table.code td.line")).await.unwrap();

    // Esc goes back to the files.
    press(client, 't').await;
    wait_for_location(client, "/root/gantry-git/-/find_file/main").await;
    client.wait().for_element(Locator::Css("#find-file-results li.selected")).await.unwrap();
    press(client, char::from(Key::Escape)).await;
    wait_for_location(client, "/root/gantry-git/-/tree/main").await;

    // The ref picker's filter narrows the branches and tags; Enter switches to the first left.
    let filter = client.wait().for_element(Locator::Css("form.ref-picker input.ref-filter")).await.unwrap();
    filter.send_keys("rele").await.unwrap();
    let shown: Vec<String> = client
        .execute(
            "return Array.from(document.querySelectorAll('form.ref-picker option')).filter(o => !o.hidden).map(o => o.value)",
            vec![],
        )
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown, ["release/1.0"], "the filter leaves the matching branch");
    save_screenshot(client, "ref-filter.png").await;
    filter.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for_location(client, "/root/gantry-git/-/tree/release/1.0").await;
}

async fn search_code_and_land_on_the_line(client: &Client, base: &str) {
    client.set_window_size(1366, 900).await.unwrap();
    client.goto(&format!("{base}/root/gantry-git/-/tree/main")).await.unwrap();
    let search = client.wait().for_element(Locator::Id("top-search")).await.unwrap();
    assert_eq!(search.attr("placeholder").await.unwrap().as_deref(), Some("Search this project"));
    search.send_keys("PushPolicy").await.unwrap();
    search.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for_location(client, "/search").await;
    client.wait().for_element(Locator::Css(".search-blob mark")).await.expect("matches marked");
    let tab = wait_for_text(client, ".tabs a[aria-current=page]", "Code").await;
    assert!(tab.chars().any(|c| c.is_ascii_digit()), "the Code tab counts its matches: {tab}");
    save_screenshot(client, "search-code.png").await;

    let link = client.find(Locator::Css(".search-blob a.search-file")).await.unwrap();
    let href = link.attr("href").await.unwrap().unwrap();
    let (file, line) = href.split_once("#L").expect("a link to a line");
    link.click().await.unwrap();
    wait_for_location(client, &format!("{file}#L{line}")).await;
    let row = client.wait().for_element(Locator::Css(&format!("tr#L{line}.marked"))).await.expect("the line marked");
    let text = row.text().await.unwrap();
    assert!(text.to_lowercase().contains("pushpolicy"), "line {line} reads {text:?}");
    save_screenshot(client, "search-line.png").await;

    // From the results, the same search everywhere.
    client.back().await.unwrap();
    client.wait().for_element(Locator::Id("search-everywhere")).await.unwrap().click().await.unwrap();
    wait_for_text(client, ".tabs a[aria-current=page]", "Projects").await;
}

#[test]
fn find_file_and_code_search_work_from_the_keyboard_in_chromium() {
    let server = Server::start();
    let token = server.admin_token("root");
    push_a_real_repository(&server, &token);
    let branch = serde_json::json!({"branch": "release/1.0", "ref": "main"});
    let project = "/api/v4/projects/root%2Fgantry-git/repository/branches";
    assert_eq!(server.post_json(project, &token, &branch).status(), 201);
    in_chromium(&server, "find-failure.png", |client, base| async move {
        find_a_file_with_the_keyboard(&client, &base).await;
        search_code_and_land_on_the_line(&client, &base).await;
    });
}
