// Line anchors on file pages: #L12 marks one line (CSS :target does that without this
// script); #L12-20 marks a range, and shift-clicking a line number extends the mark.
(function () {
  "use strict";
  function rows() { return document.querySelectorAll("table.code tr[id^='L']"); }
  function mark() {
    var match = /^#L(\d+)(?:-L?(\d+))?$/.exec(window.location.hash);
    rows().forEach(function (row) { row.classList.remove("marked"); });
    if (!match) { return; }
    var from = parseInt(match[1], 10), to = parseInt(match[2] || match[1], 10);
    if (to < from) { var swap = from; from = to; to = swap; }
    for (var n = from; n <= to; n++) {
      var row = document.getElementById("L" + n);
      if (row) { row.classList.add("marked"); }
    }
    var first = document.getElementById("L" + from);
    if (first) { first.scrollIntoView({ block: "center" }); }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("table.code td.num a");
    if (!link || !event.shiftKey) { return; }
    var current = /^#L(\d+)/.exec(window.location.hash);
    var clicked = link.getAttribute("href").slice(2);
    if (!current) { return; }
    event.preventDefault();
    window.location.hash = "#L" + current[1] + "-" + clicked;
  });
  window.addEventListener("hashchange", mark);
  mark();
})();

// The tree page lists a folder at once; each entry's last commit arrives after.
(function () {
  "use strict";
  var table = document.querySelector("table.files[data-last-commits]");
  if (!table || !window.fetch) { return; }
  fetch(table.getAttribute("data-last-commits"), { credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : {}; })
    .then(function (commits) {
      table.querySelectorAll("td.last-commit").forEach(function (cell) {
        var commit = commits[cell.getAttribute("data-name")];
        if (!commit) { return; }
        var link = document.createElement("a");
        link.className = "muted";
        link.href = commit.href;
        link.textContent = commit.title;
        cell.appendChild(link);
      });
      table.querySelectorAll("td.last-when").forEach(function (cell) {
        var commit = commits[cell.getAttribute("data-name")];
        if (commit) { cell.textContent = commit.when; }
      });
    });
})();

// A file page shows the commit that last changed the file once it is known.
(function () {
  "use strict";
  var line = document.querySelector("p.last-commit[data-last-commit]");
  if (!line || !window.fetch) { return; }
  fetch(line.getAttribute("data-last-commit"), { credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : {}; })
    .then(function (commits) {
      var names = Object.keys(commits);
      if (names.length === 0) { return; }
      var commit = commits[names[0]];
      var link = document.createElement("a");
      link.href = commit.href;
      var id = document.createElement("code");
      id.textContent = commit.id.slice(0, 8);
      link.appendChild(id);
      link.appendChild(document.createTextNode(" " + commit.title));
      line.appendChild(link);
      line.appendChild(document.createTextNode(" · " + commit.author + ", " + commit.when));
    });
})();

// The file editor's text area: line numbers beside it, and Tab indents (Escape, then Tab,
// leaves the field as usual). The form works the same without this script.
(function () {
  "use strict";
  document.querySelectorAll("textarea[data-editor]").forEach(function (area) {
    var frame = document.createElement("div");
    frame.className = "editor";
    var gutter = document.createElement("pre");
    gutter.className = "editor-lines";
    gutter.setAttribute("aria-hidden", "true");
    area.parentNode.insertBefore(frame, area);
    frame.appendChild(gutter);
    frame.appendChild(area);
    area.setAttribute("wrap", "off");
    var shown = 0;
    function number() {
      var lines = area.value.split("\n").length;
      if (lines !== shown) {
        var text = [];
        for (var n = 1; n <= lines; n++) { text.push(n); }
        gutter.textContent = text.join("\n");
        shown = lines;
      }
      gutter.scrollTop = area.scrollTop;
    }
    var escaped = false;
    area.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { escaped = true; return; }
      if (event.key === "Tab" && !escaped && !event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey) {
        event.preventDefault();
        area.setRangeText("\t", area.selectionStart, area.selectionEnd, "end");
        number();
      }
      escaped = false;
    });
    area.addEventListener("input", number);
    area.addEventListener("scroll", number);
    number();
  });
})();
