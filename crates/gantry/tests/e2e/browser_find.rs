//! Finding things in a real headless Chromium, on a laptop (1366×900) and a phone (390×844):
//! find file from the tree page with the keyboard only (`t`, typing, arrows, Enter; Esc goes
//! back), the branch filter of the ref picker, a code search from the top bar that lands on the
//! matching line, and a comparison of two branches with `/` in their names chosen in the compare
//! form. No page scrolls sideways on the phone. Screenshots land in `test-output/screenshots/`
//! beside the other browser tests'.

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

use crate::browser::{fill, in_chromium, push_a_real_repository, save_screenshot, submit, wait_for_text};
use crate::browser_phone::{SIDEWAYS, set_viewport};
use crate::server::Server;

/// A window size, and the prefix of its screenshots' names.
#[derive(Clone, Copy)]
struct Size {
    name: &'static str,
    width: u32,
    height: u32,
}

const SIZES: [Size; 2] =
    [Size { name: "desktop", width: 1366, height: 900 }, Size { name: "phone", width: 390, height: 844 }];

/// Keeps a screenshot named for the size, and checks that the page does not scroll sideways.
async fn look(client: &Client, size: Size, name: &str) {
    save_screenshot(client, &format!("{}-{name}.png", size.name)).await;
    let sideways = client.execute(SIDEWAYS, vec![]).await.unwrap();
    assert!(
        sideways.as_array().is_some_and(|found| found.is_empty()),
        "{name} scrolls sideways at {} pixels: {sideways}",
        size.width
    );
}

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

async fn find_a_file_with_the_keyboard(client: &Client, base: &str, size: Size) {
    set_viewport(client, size.width, size.height).await;
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
    look(client, size, "find-file").await;
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
    look(client, size, "ref-filter").await;
    filter.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for_location(client, "/root/gantry-git/-/tree/release/1.0").await;
}

async fn search_code_and_land_on_the_line(client: &Client, base: &str, size: Size) {
    set_viewport(client, size.width, size.height).await;
    client.goto(&format!("{base}/root/gantry-git/-/tree/main")).await.unwrap();
    let search = client.wait().for_element(Locator::Id("top-search")).await.unwrap();
    assert_eq!(search.attr("placeholder").await.unwrap().as_deref(), Some("Search this project"));
    search.send_keys("PushPolicy").await.unwrap();
    search.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for_location(client, "/search").await;
    client.wait().for_element(Locator::Css(".search-blob mark")).await.expect("matches marked");
    let tab = wait_for_text(client, ".tabs a[aria-current=page]", "Code").await;
    assert!(tab.chars().any(|c| c.is_ascii_digit()), "the Code tab counts its matches: {tab}");
    look(client, size, "search-code").await;

    let link = client.find(Locator::Css(".search-blob a.search-file")).await.unwrap();
    let href = link.attr("href").await.unwrap().unwrap();
    let (file, line) = href.split_once("#L").expect("a link to a line");
    link.click().await.unwrap();
    wait_for_location(client, &format!("{file}#L{line}")).await;
    let row = client.wait().for_element(Locator::Css(&format!("tr#L{line}.marked"))).await.expect("the line marked");
    let text = row.text().await.unwrap();
    assert!(text.to_lowercase().contains("pushpolicy"), "line {line} reads {text:?}");
    look(client, size, "search-line").await;

    // From the results, the same search everywhere.
    client.back().await.unwrap();
    client.wait().for_element(Locator::Id("search-everywhere")).await.unwrap().click().await.unwrap();
    wait_for_text(client, ".tabs a[aria-current=page]", "Projects").await;
}

/// Chooses two branches with `/` in their names in the compare form and reads what it shows.
async fn compare_two_branches_with_slashes(client: &Client, base: &str, size: Size) {
    set_viewport(client, size.width, size.height).await;
    client.goto(&format!("{base}/root/gantry-git/-/compare")).await.unwrap();
    fill(client, "from", "release/1.0").await;
    fill(client, "to", "feature/notes").await;
    submit(client).await;
    wait_for_location(client, "/root/gantry-git/-/compare/release/1.0...feature/notes").await;
    wait_for_text(client, "ul.commits", "Add the release notes").await;
    let diff = client.wait().for_element(Locator::Css("table.code")).await.expect("the diff");
    assert!(diff.text().await.unwrap().contains("Nothing broke."), "the diff shows the new file");
    assert_eq!(
        client.find(Locator::Id("from")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("release/1.0")
    );
    look(client, size, "compare-slashes").await;
}

#[test]
fn find_file_search_and_compare_work_on_a_laptop_and_a_phone_in_chromium() {
    let server = Server::start();
    let token = server.admin_token("root");
    push_a_real_repository(&server, &token);
    let branch = serde_json::json!({"branch": "release/1.0", "ref": "main"});
    let project = "/api/v4/projects/root%2Fgantry-git/repository/branches";
    assert_eq!(server.post_json(project, &token, &branch).status(), 201);
    let notes = serde_json::json!({"branch": "feature/notes", "start_branch": "main", "commit_message": "Add the release notes",
        "actions": [{"action": "create", "file_path": "NOTES.md", "content": "# Notes\n\nNothing broke.\n"}]});
    let commits = "/api/v4/projects/root%2Fgantry-git/repository/commits";
    assert_eq!(server.post_json(commits, &token, &notes).status(), 201);
    in_chromium(&server, "find-failure.png", |client, base| async move {
        for size in SIZES {
            find_a_file_with_the_keyboard(&client, &base, size).await;
            search_code_and_land_on_the_line(&client, &base, size).await;
            compare_two_branches_with_slashes(&client, &base, size).await;
        }
    });
}
