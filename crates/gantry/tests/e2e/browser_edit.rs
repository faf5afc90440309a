//! Changing files in headless Chromium against a real `gantry serve`: a file edited in the
//! browser (line numbers, Tab indents) and committed to a new branch, an image uploaded there
//! and shown by the README that names it, a Markdown preview; at a laptop's and a phone's
//! size, with screenshots beside the other browser tests'.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{expect_heading, fill, in_chromium, save_screenshot, submit, wait_for_text};
use crate::browser_phone::{SIDEWAYS, set_viewport};
use crate::server::Server;

/// A 2×2 PNG, for the upload.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a, 0x73, 0x00, 0x00, 0x00, 0x16, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x9f, 0x81, 0xe1, 0x3f, 0x03, 0x03, 0x03, 0x00, 0x1f,
    0xef, 0x03, 0xfd, 0x6f, 0x9b, 0x2b, 0x4a, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn click_button(client: &Client, label: &str) {
    let button = client.find(Locator::XPath(&format!("//main//button[normalize-space()='{label}']"))).await;
    button.unwrap_or_else(|_| panic!("a {label} button")).click().await.unwrap();
}

/// Edits the README into a new branch `docs/<size>` at the given viewport, uploads the image
/// into that branch and sees the README show it; screenshots are named for the size.
async fn edit_and_upload(client: &Client, base: &str, (size, width, height): (&str, u32, u32), image: &str) {
    set_viewport(client, width, height).await;
    let branch = format!("docs/{size}");

    // Edit from the file's page: the editor numbers lines and Tab indents.
    client.goto(&format!("{base}/root/site/-/blob/main/README.md")).await.unwrap();
    client.wait().for_element(Locator::LinkText("Edit")).await.unwrap().click().await.unwrap();
    let area = client.wait().for_element(Locator::Id("content")).await.unwrap();
    client.wait().for_element(Locator::Css(".editor .editor-lines")).await.expect("line numbers");
    area.clear().await.unwrap();
    area.send_keys("# Site\n\nOur logo:\n\n![logo](logo.png)\n\n- a list\n\u{e004}indented\n").await.unwrap();
    let text: String = client
        .execute("return document.getElementById('content').value", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .into();
    assert!(text.contains("\tindented"), "Tab indents: {text:?}");
    wait_for_text(client, ".editor-lines", "9").await;
    fill(client, "branch_name", &branch).await;
    save_screenshot(client, &format!("{size}-edit-file.png")).await;
    click_button(client, "Preview").await;
    client.wait().for_element(Locator::Css(".preview-box li")).await.expect("the Markdown preview");
    click_button(client, "Commit changes").await;
    wait_for_text(client, "main .flash", &format!("committed to the new branch {branch}")).await;
    assert!(client.current_url().await.unwrap().path().ends_with(&format!("/-/blob/{branch}/README.md")));

    // Upload the image into that branch's root, then the README shows it.
    client.goto(&format!("{base}/root/site/-/tree/{branch}")).await.unwrap();
    client.wait().for_element(Locator::LinkText("Upload")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Id("files")).await.unwrap().send_keys(image).await.unwrap();
    save_screenshot(client, &format!("{size}-edit-upload.png")).await;
    click_button(client, "Commit changes").await;
    wait_for_text(client, "main .flash", &format!("committed to {branch}")).await;
    client.wait().for_element(Locator::LinkText("logo.png")).await.expect("the image is in the folder");
    let shown = client
        .execute(
            "const img = document.querySelector('.readme img'); \
             return img ? [img.complete, img.naturalWidth, img.getAttribute('src')] : null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown[1], 2, "the README shows the uploaded image: {shown}");
    save_screenshot(client, &format!("{size}-edit-readme-image.png")).await;

    let sideways = client.execute(SIDEWAYS, vec![]).await.unwrap();
    assert_eq!(sideways, json!([]), "the pages fit {width} pixels");
}

#[test]
fn a_file_is_edited_and_an_image_uploaded_to_a_new_branch_in_chromium() {
    let server = Server::start();
    let token = server.admin_token("root");
    let created =
        server.post_json("/api/v4/projects", &token, &json!({"name": "site", "visibility": "public"})).status();
    assert_eq!(created, 201);
    let readme = json!({"branch": "main", "content": "# Site\n", "commit_message": "Start"});
    assert_eq!(
        server.post_json("/api/v4/projects/root%2Fsite/repository/files/README.md", &token, &readme).status(),
        201
    );
    let image_dir = tempfile::tempdir().unwrap();
    let image = image_dir.path().join("logo.png");
    std::fs::write(&image, PNG).unwrap();
    let image = image.display().to_string();

    in_chromium(&server, "failure-edit.png", move |client, base| async move {
        client.goto(&format!("{base}/users/sign_in")).await.unwrap();
        fill(&client, "login", "root").await;
        fill(&client, "password", "a long password").await;
        submit(&client).await;
        expect_heading(&client, "Your projects").await;
        for size in [("desktop", 1366, 900), ("phone", 390, 844)] {
            edit_and_upload(&client, &base, size, &image).await;
        }
    });
}
