//! Planning in a real headless Chromium: an issue written with a table, a task list, a code
//! block and a reference to another issue; a task ticked on the page; a quick action in a
//! comment; the issue's card dragged to another list of a board, which changes its labels; the
//! project's wiki with its sidebar.
//! Screenshots land beside the other browser tests'.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::browser::{expect_heading, fill, in_chromium, save_screenshot, submit, wait_for_text};
use crate::server::Server;

const DESCRIPTION: &str = "Before the release, see #1.\n\n\
| Step | Owner |\n|------|-------|\n| Build | ada |\n| Ship | bob |\n\n\
- [ ] write the notes\n- [ ] tag the release\n\n\
```rust\nfn main() {\n    println!(\"ship it\");\n}\n```\n";

/// Waits until `check` holds of the issue as the API shows it.
async fn wait_for_issue(base: &str, token: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (url, token) = (format!("{base}/api/v4/projects/root%2Fplan/issues/2"), token.to_owned());
        let issue: Value = tokio::task::spawn_blocking(move || {
            let client = crate::http_client().build().unwrap();
            client.get(url).header("PRIVATE-TOKEN", token).send().unwrap().json().unwrap()
        })
        .await
        .unwrap();
        if check(&issue) {
            return issue;
        }
        assert!(Instant::now() < deadline, "the issue never changed as expected: {issue}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn plan_in_the_browser(client: &Client, base: &str, token: &str, review_list: i64) {
    client.goto(&format!("{base}/users/sign_in")).await.unwrap();
    fill(client, "login", "root").await;
    fill(client, "password", "a long password").await;
    submit(client).await;
    expect_heading(client, "Your projects").await;

    // The issue, written in Markdown.
    client.goto(&format!("{base}/root/plan/-/issues/new")).await.unwrap();
    fill(client, "title", "Release 1.0").await;
    fill(client, "description", DESCRIPTION).await;
    submit(client).await;
    wait_for_text(client, "h1.issue-title", "Release 1.0").await;
    let markdown = client.find(Locator::Css(".markdown")).await.unwrap();
    let html = markdown.html(false).await.unwrap();
    assert!(html.contains("<table>") && html.contains("<td>ada</td>"), "{html}");
    assert!(html.contains("<pre") && html.contains("ship it"), "{html}");
    // The Rust block is highlighted: its keyword is coloured by the highlighting stylesheet.
    let colours = client
        .execute(
            "const span = document.querySelector('.markdown pre code span[class^=\"h\"]');\
             return span ? [getComputedStyle(span).color, getComputedStyle(span.closest('pre')).color] : null;",
            vec![],
        )
        .await
        .unwrap();
    assert!(colours.as_array().is_some_and(|pair| pair[0] != pair[1]), "not highlighted: {colours} {html}");
    let reference = client.find(Locator::Css(".markdown a[href$='/root/plan/-/issues/1']")).await.unwrap();
    assert_eq!(reference.text().await.unwrap(), "#1");
    assert!(reference.attr("title").await.unwrap().unwrap_or_default().contains("Earlier work"));
    save_screenshot(client, "plan-issue.png").await;

    // A task ticked on the page is ticked in the description. The page reloads once the server
    // has it: the mark set here is gone then, and only then is the comment typed (typed into
    // the page before its reload, it would be lost).
    client.execute("window.gantryBeforeTick = true; return true;", vec![]).await.unwrap();
    client.find(Locator::Css(".markdown input[type=checkbox]")).await.unwrap().click().await.unwrap();
    wait_for_issue(base, token, |issue| {
        issue["description"].as_str().is_some_and(|d| d.contains("- [x] write the notes"))
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reloaded = client
            .execute(
                "const box = document.querySelector('.markdown input[type=checkbox]');\
                 return window.gantryBeforeTick === undefined && document.readyState === 'complete' \
                     && !!box && box.checked;",
                vec![],
            )
            .await;
        // A script run while the page is being replaced may fail: ask again.
        if reloaded.is_ok_and(|value| value == json!(true)) {
            break;
        }
        assert!(Instant::now() < deadline, "the page never came back with the ticked task");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A quick action in a comment sets a label.
    fill(client, "body", "Starting now.\n/label ~Doing").await;
    client.find(Locator::Css("form[action$='/notes'] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_text(client, "main", "Starting now.").await;
    wait_for_issue(base, token, |issue| issue["labels"] == json!(["Doing"])).await;
    save_screenshot(client, "plan-quick-action.png").await;

    // On the board the card is in Doing; dragged to Review, the issue's label follows.
    client.goto(&format!("{base}/root/plan/-/boards")).await.unwrap();
    wait_for_text(client, "main", "Release 1.0").await;
    save_screenshot(client, "plan-board-before.png").await;
    let moved = client
        .execute(
            "const card = document.querySelector('.board-card[data-issue-iid=\"2\"]');\
             const list = document.querySelector('.board-list[data-list-id=\"' + arguments[0] + '\"]');\
             window.gantryBoard.move(card, list, null); return !!card && !!list;",
            vec![json!(review_list.to_string())],
        )
        .await
        .unwrap();
    assert_eq!(moved, json!(true), "the card and the Review list are on the page");
    wait_for_issue(base, token, |issue| issue["labels"] == json!(["Review"])).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let inside = client
            .execute(
                "return !!document.querySelector('.board-list[data-list-id=\"' + arguments[0] + '\"] \
                 .board-card[data-issue-iid=\"2\"]');",
                vec![json!(review_list.to_string())],
            )
            .await
            .unwrap();
        if inside == json!(true) {
            break;
        }
        assert!(Instant::now() < deadline, "the card never showed in the Review list");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    save_screenshot(client, "plan-board-after.png").await;

    // The wiki: a page with a folder and the sidebar's list of pages.
    client.goto(&format!("{base}/root/plan/-/wikis")).await.unwrap();
    wait_for_text(client, "h1.issue-title", "home").await;
    wait_for_text(client, ".wiki-sidebar", "Install").await;
    save_screenshot(client, "plan-wiki.png").await;
}

#[test]
fn an_issue_is_written_ticked_labelled_and_moved_on_a_board_in_chromium() {
    let server = Server::start();
    let token = server.admin_token("root");
    let project = json!({"name": "plan", "visibility": "private"});
    assert_eq!(server.post_json("/api/v4/projects", &token, &project).status(), 201);
    let project_path = "/api/v4/projects/root%2Fplan";
    let earlier = json!({"title": "Earlier work"});
    assert_eq!(server.post_json(&format!("{project_path}/issues"), &token, &earlier).status(), 201);
    let mut labels = Vec::new();
    for (name, color) in [("Doing", "#1f78d1"), ("Review", "#8e44ad")] {
        let label: Value = server
            .post_json(&format!("{project_path}/labels"), &token, &json!({"name": name, "color": color}))
            .json()
            .unwrap();
        labels.push(label["id"].as_i64().unwrap());
    }
    let board: Value =
        server.post_json(&format!("{project_path}/boards"), &token, &json!({"name": "Release"})).json().unwrap();
    let lists = format!("{project_path}/boards/{}/lists", board["id"]);
    let mut review_list = 0;
    for label in &labels {
        let list: Value = server.post_json(&lists, &token, &json!({"label_id": label})).json().unwrap();
        review_list = list["id"].as_i64().unwrap();
    }

    let wikis = format!("{project_path}/wikis");
    for (title, content) in [
        ("home", "# Welcome\n\nStart with [installing](guides/Install), then read #1.\n"),
        ("guides/Install", "Download it and run it.\n"),
    ] {
        assert_eq!(server.post_json(&wikis, &token, &json!({"title": title, "content": content})).status(), 201);
    }

    in_chromium(&server, "failure-plan.png", move |client, base| async move {
        plan_in_the_browser(&client, &base, &token, review_list).await;
    });
}
