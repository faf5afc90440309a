//! Dead ends of a first hour in the web UI, in a real Chromium: a signed-out visitor of a
//! private page signs in from its "Page not found" and comes back to it; copy buttons copy a
//! clone URL and a commit's SHA and say so; deleting a branch asks first (a browser dialog) and
//! the branches page says what happened.

use fantoccini::{Client, Locator};

use crate::browser::{
    expect_heading, fill, in_chromium, push_a_real_repository, save_screenshot, submit, wait_for_text,
};
use crate::server::Server;

async fn sign_in_comes_back_copy_buttons_copy_and_branch_deletion_asks(client: &Client, base: &str) {
    // Signed out, the private project is "not found", with a way to sign in that comes back.
    let page = format!("{base}/root/gantry-git/-/tree/main/src");
    client.goto(&page).await.unwrap();
    expect_heading(client, "Page not found").await;
    client.find(Locator::Css("header.topbar")).await.expect("the error page keeps the top bar");
    client.find(Locator::Css("main a.button.primary")).await.unwrap().click().await.unwrap();
    expect_heading(client, "Sign in").await;
    fill(client, "login", "root").await;
    fill(client, "password", "a long password").await;
    submit(client).await;
    client.wait().for_element(Locator::LinkText("refcheck.rs")).await.expect("back on the folder after signing in");
    assert_eq!(client.current_url().await.unwrap().as_str(), page);

    // Copy buttons appear with JavaScript and say so once they have copied.
    client.goto(&format!("{base}/root/gantry-git")).await.unwrap();
    let copy = client
        .wait()
        .for_element(Locator::Css("button.copy[aria-label='Copy the HTTP clone URL']"))
        .await
        .expect("a copy button beside the clone URL");
    copy.click().await.unwrap();
    wait_for_text(client, "button.copy[aria-label='Copy the HTTP clone URL']", "Copied").await;
    save_screenshot(client, "copy-clone-url.png").await;
    client.goto(&format!("{base}/root/gantry-git/-/commits/main")).await.unwrap();
    client.wait().for_element(Locator::LinkText("Add part 3 of the sources")).await.unwrap().click().await.unwrap();
    let sha = client.wait().for_element(Locator::Css("#commit-sha")).await.unwrap().text().await.unwrap();
    assert_eq!(sha.len(), 40, "the page shows the full SHA: {sha}");
    client.find(Locator::Css("#commit-sha + button.copy")).await.unwrap().click().await.unwrap();
    wait_for_text(client, "#commit-sha + button.copy", "Copied").await;
    // What was copied is what the page shows, pasted back into a field of the page.
    let pasted: serde_json::Value = client
        .execute_async(
            "const done = arguments[0]; navigator.clipboard.readText().then(done, () => done(null));",
            Vec::new(),
        )
        .await
        .unwrap();
    if let Some(pasted) = pasted.as_str() {
        assert_eq!(pasted, sha, "the clipboard holds the commit's SHA");
    }

    // Deleting a branch asks first: dismissing keeps it, accepting deletes it and says so.
    client.goto(&format!("{base}/root/gantry-git/-/branches")).await.unwrap();
    let delete = "button[aria-label='Delete branch feature/doomed']";
    client.wait().for_element(Locator::Css(delete)).await.unwrap().click().await.unwrap();
    assert!(client.get_alert_text().await.unwrap().contains("Delete branch feature/doomed?"));
    client.dismiss_alert().await.unwrap();
    assert!(client.source().await.unwrap().contains("feature/doomed"), "dismissed: the branch stays");
    client.find(Locator::Css(delete)).await.unwrap().click().await.unwrap();
    client.accept_alert().await.unwrap();
    wait_for_text(client, "#flash", "Branch feature/doomed was deleted.").await;
    assert!(client.find(Locator::Css(delete)).await.is_err(), "the branch is gone from the list");
    save_screenshot(client, "branch-deleted.png").await;
}

#[test]
fn a_signed_out_visitor_comes_back_copies_and_deletes_a_branch_after_confirming_in_chromium() {
    let server = Server::start();
    let token = server.admin_token("root");
    push_a_real_repository(&server, &token);
    let private =
        server.put_json("/api/v4/projects/root%2Fgantry-git", &token, &serde_json::json!({"visibility": "private"}));
    assert_eq!(private.status(), 200);
    let branch = server.post_json(
        "/api/v4/projects/root%2Fgantry-git/repository/branches",
        &token,
        &serde_json::json!({"branch": "feature/doomed", "ref": "main"}),
    );
    assert_eq!(branch.status(), 201);
    in_chromium(&server, "dead-ends-failure.png", |client, base| async move {
        sign_in_comes_back_copy_buttons_copy_and_branch_deletion_asks(&client, &base).await
    });
}
