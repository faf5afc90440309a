// What every page may use, as progressive enhancement: the pages work without it.
// Copy buttons: an element marked `data-copy` gets a button after it that copies the
// attribute's value (or, when it is empty, the element's text) and says "Copied".
// Confirmations: a form marked `data-confirm` asks that question before it is sent, and tells
// the server it was confirmed (`confirm=yes`), which otherwise asks on a page of its own.
(function () {
  "use strict";
  function copyWithSelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("the browser refused to copy"));
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyWithSelection(text); });
    }
    return copyWithSelection(text);
  }
  document.querySelectorAll("[data-copy]").forEach(function (element) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", element.getAttribute("data-copy-label") || "Copy");
    button.setAttribute("aria-live", "polite");
    var reset;
    button.addEventListener("click", function () {
      var text = element.getAttribute("data-copy") || element.textContent.trim();
      copy(text).then(
        function () { button.textContent = "Copied"; },
        function () { button.textContent = "Press Ctrl+C to copy"; }
      );
      clearTimeout(reset);
      reset = setTimeout(function () { button.textContent = "Copy"; }, 3000);
    });
    element.insertAdjacentElement("afterend", button);
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (!question) { return; }
    if (!window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (!form.querySelector("input[name='confirm']")) {
      var confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirm";
      confirmed.value = "yes";
      form.appendChild(confirmed);
    }
  });
  // Task lists: the boxes of a description the visitor may edit are ticked from the page.
  document.querySelectorAll(".markdown[data-tasks]").forEach(function (markdown) {
    var boxes = markdown.querySelectorAll("input[type=checkbox]");
    boxes.forEach(function (box, index) {
      box.disabled = false;
      box.setAttribute("aria-label", "Task " + (index + 1));
      box.addEventListener("change", function () {
        boxes.forEach(function (other) { other.disabled = true; });
        var body = new URLSearchParams({
          authenticity_token: markdown.dataset.token,
          index: String(index),
          checked: box.checked ? "yes" : "no",
          digest: markdown.dataset.digest
        });
        fetch(markdown.dataset.tasks, { method: "POST", body: body, credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) { throw new Error("the server answered " + response.status); }
            window.location.reload();
          })
          .catch(function () {
            box.checked = !box.checked;
            boxes.forEach(function (other) { other.disabled = false; });
            window.alert("The task could not be saved: the description may have changed. Reload the page and try again.");
          });
      });
    });
  });
})();
