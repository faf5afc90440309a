// What every page may use, as progressive enhancement: the pages work without it.
// Copy buttons: an element marked `data-copy` gets a button after it that copies the
// attribute's value (or, when it is empty, the element's text) and says "Copied".
// Confirmations: a form marked `data-confirm` asks that question before it is sent, and tells
// the server it was confirmed (`confirm=yes`), which otherwise asks on a page of its own.
// Task lists ticked from the page, and issue boards' cards dragged between lists.
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
  // Issue boards: cards (`.board-card[draggable=true]`, `data-issue-id`) are dragged between
  // lists (`.board-list`, `data-list-id`). A drop moves the card on the page at once and posts
  // what each card's "Move to" form posts (which works without this), with the cards it lands
  // between; the board the server answers with (after its redirect) then replaces this one, so
  // labels, counts and order are the server's. A refusal puts the card back and says why.
  // `window.gantryBoard.move(card, list, before)` does the same from a test or the keyboard.
  var board = document.querySelector(".board[data-board-base]");
  if (board) {
    var dragged = null;
    var clearTargets = function () {
      board.querySelectorAll(".drop-target").forEach(function (list) { list.classList.remove("drop-target"); });
    };
    var move = function (card, list, before) {
      var from = card.closest(".board-list");
      var cards = list.querySelector(".board-cards");
      var home = { parent: card.parentNode, next: card.nextSibling };
      if (before === card) { return Promise.resolve(); }
      cards.insertBefore(card, before || null);
      var previous = card.previousElementSibling;
      var following = card.nextElementSibling;
      var body = new URLSearchParams({
        authenticity_token: board.dataset.token,
        return_to: board.dataset.return,
        from: from.dataset.listId,
        to: list.dataset.listId,
        move_before_id: previous ? previous.dataset.issueId : "",
        move_after_id: following ? following.dataset.issueId : ""
      });
      var url = board.dataset.boardBase + "/issues/" + card.dataset.issueId + "/move";
      return fetch(url, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) {
          return response.text().then(function (html) {
            var answered = new DOMParser().parseFromString(html, "text/html").querySelector(".board[data-board-base]");
            if (!response.ok || !answered) {
              var alert = new DOMParser().parseFromString(html, "text/html").querySelector("[role=alert]");
              throw new Error(alert ? alert.textContent.trim() : "the server answered " + response.status);
            }
            board.innerHTML = answered.innerHTML;
          });
        })
        .catch(function (error) {
          home.parent.insertBefore(card, home.next);
          window.alert("The card could not be moved: " + error.message);
        });
    };
    window.gantryBoard = { move: move };
    board.addEventListener("dragstart", function (event) {
      var card = event.target.closest && event.target.closest(".board-card[draggable=true]");
      if (!card) { return; }
      dragged = card;
      card.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.issueId);
    });
    board.addEventListener("dragend", function () {
      if (dragged) { dragged.classList.remove("dragging"); }
      dragged = null;
      clearTargets();
    });
    board.addEventListener("dragover", function (event) {
      var list = event.target.closest && event.target.closest(".board-list");
      if (!list || !dragged) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      if (!list.classList.contains("drop-target")) {
        clearTargets();
        list.classList.add("drop-target");
      }
    });
    board.addEventListener("drop", function (event) {
      var list = event.target.closest && event.target.closest(".board-list");
      if (!list || !dragged) { return; }
      event.preventDefault();
      clearTargets();
      var card = dragged;
      dragged = null;
      card.classList.remove("dragging");
      // It lands before the first other card whose middle is below the pointer.
      var before = null;
      Array.prototype.some.call(list.querySelectorAll(".board-card"), function (other) {
        if (other === card) { return false; }
        var box = other.getBoundingClientRect();
        if (event.clientY < box.top + box.height / 2) {
          before = other;
          return true;
        }
        return false;
      });
      move(card, list, before);
    });
  }
})();
