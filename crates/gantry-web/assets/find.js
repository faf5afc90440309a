// Finding things on code pages; every page works without this script.
//  - Find file: the server answers the best matches as you type; ↑ ↓ choose, Enter opens,
//    Esc goes back to the files.
//  - `t` on a page with the branch and tag picker opens find file at its ref.
//  - The branch and tag picker gets a filter: typing narrows the list, Enter switches to the
//    first that is left.
(function () {
  "use strict";
  var section = document.querySelector("section.find-file[data-matches]");
  if (!section || !window.fetch) { return; }
  var input = section.querySelector("#find-file-input");
  var list = section.querySelector("#find-file-results");
  var count = section.querySelector(".find-file-count");
  var selected = 0;
  var asked = 0;
  function options() { return list.querySelectorAll("li"); }
  function select(index) {
    var items = options();
    if (items.length === 0) { return; }
    selected = Math.max(0, Math.min(index, items.length - 1));
    items.forEach(function (item, n) {
      item.classList.toggle("selected", n === selected);
      item.setAttribute("aria-selected", n === selected ? "true" : "false");
      item.id = "find-file-option-" + n;
    });
    input.setAttribute("aria-activedescendant", "find-file-option-" + selected);
    items[selected].scrollIntoView({ block: "nearest" });
  }
  function show(answer) {
    list.textContent = "";
    answer.files.forEach(function (file) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      var link = document.createElement("a");
      link.href = file.href;
      var marked = {};
      file.positions.forEach(function (p) { marked[p] = true; });
      Array.from(file.path).forEach(function (c, n) {
        var last = link.lastChild;
        var wantMark = !!marked[n];
        if (last && (last.nodeName === "MARK") === wantMark) {
          last.appendChild(document.createTextNode(c));
          last.normalize();
        } else if (wantMark) {
          var mark = document.createElement("mark");
          mark.textContent = c;
          link.appendChild(mark);
        } else {
          var span = document.createElement("span");
          span.textContent = c;
          link.appendChild(span);
        }
      });
      item.appendChild(link);
      list.appendChild(item);
    });
    var query = input.value.trim();
    count.textContent = answer.total + (query ? " matching file" : " file") + (answer.total === 1 ? "" : "s") +
      (answer.complete ? "" : " (the tree is too large to list whole)");
    select(0);
  }
  function ask() {
    var mine = ++asked;
    var url = section.getAttribute("data-matches") + "?q=" + encodeURIComponent(input.value);
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer && mine === asked) { show(answer); } });
  }
  input.addEventListener("input", ask);
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") { event.preventDefault(); select(selected + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); select(selected - 1); }
    else if (event.key === "Enter") {
      var item = options()[selected];
      if (item) { event.preventDefault(); window.location.href = item.querySelector("a").href; }
    } else if (event.key === "Escape") {
      event.preventDefault();
      window.location.href = section.getAttribute("data-back");
    }
  });
  input.focus();
  var end = input.value.length;
  input.setSelectionRange(end, end);
  select(0);
})();

(function () {
  "use strict";
  var picker = document.querySelector("form.ref-picker[data-find-file]");
  if (!picker) { return; }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "t" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.nodeName))) { return; }
    event.preventDefault();
    window.location.href = picker.getAttribute("data-find-file");
  });
})();

(function () {
  "use strict";
  var picker = document.querySelector("form.ref-picker");
  var select = picker && picker.querySelector("select");
  if (!select) { return; }
  var filter = document.createElement("input");
  filter.type = "search";
  filter.className = "ref-filter";
  filter.placeholder = "Filter branches and tags";
  filter.setAttribute("aria-label", "Filter branches and tags");
  filter.autocomplete = "off";
  select.parentNode.insertBefore(filter, select);
  function visible() {
    return Array.from(select.options).filter(function (option) { return !option.hidden; });
  }
  filter.addEventListener("input", function () {
    var text = filter.value.trim().toLowerCase();
    Array.from(select.options).forEach(function (option) {
      option.hidden = text !== "" && option.value.toLowerCase().indexOf(text) < 0;
    });
    Array.from(select.querySelectorAll("optgroup")).forEach(function (group) {
      group.hidden = Array.from(group.children).every(function (option) { return option.hidden; });
    });
    var left = visible();
    select.size = text === "" ? 0 : Math.max(2, Math.min(left.length, 8));
    if (left.length > 0 && text !== "") { select.value = left[0].value; }
  });
  filter.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      var left = visible();
      if (left.length > 0) { select.value = left[0].value; picker.submit(); }
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      select.focus();
    } else if (event.key === "Escape") {
      filter.value = "";
      filter.dispatchEvent(new Event("input"));
    }
  });
  select.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && select.size > 1) { event.preventDefault(); picker.submit(); }
  });
  select.addEventListener("click", function () {
    if (select.size > 1 && select.value) { picker.submit(); }
  });
})();
