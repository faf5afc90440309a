// CI pages: the live job log (Server-Sent Events) with GitLab's collapsible sections and their
// durations, the pipeline page and the pipeline list kept up to date over their streams, and
// the lines between jobs and the jobs they need on the pipeline graph. The pages work without
// this script.
(function () {
  "use strict";

  // --- Job log sections -------------------------------------------------------------------
  // Each line names the sections it is in (`data-sections`, their ids); a line is hidden while
  // any of them is collapsed, so a section inside a collapsed one stays hidden when it is
  // expanded, and shows again when the outer one is.
  function setUpLog(log) {
    var collapsed = {};
    var headers = {};

    function hiddenNow(line) {
      var ids = (line.getAttribute("data-sections") || "").split(" ");
      return ids.some(function (id) { return id && collapsed[id]; });
    }

    function setCollapsed(header, isCollapsed) {
      var id = header.getAttribute("data-id");
      collapsed[id] = isCollapsed;
      header.classList.toggle("collapsed", isCollapsed);
      header.setAttribute("aria-expanded", String(!isCollapsed));
      log.querySelectorAll('[data-sections~="' + id + '"]').forEach(function (line) {
        line.classList.toggle("hidden", hiddenNow(line));
      });
    }

    // New lines (the page's own, then each streamed piece): headers collapsed by their
    // `[collapsed=true]` start so, durations go to the headers, lines of collapsed sections hide.
    function adopt(nodes) {
      nodes.forEach(function (node) {
        if (node.classList.contains("section-header")) {
          var id = node.getAttribute("data-id");
          headers[id] = node;
          collapsed[id] = node.getAttribute("data-collapsed") === "true";
          node.classList.toggle("collapsed", collapsed[id]);
          node.setAttribute("aria-expanded", String(!collapsed[id]));
        } else if (node.classList.contains("section-end")) {
          var header = headers[node.getAttribute("data-for")];
          if (header && header.getAttribute("data-hide-duration") !== "true") {
            header.querySelector(".section-duration").textContent = node.getAttribute("data-duration");
          }
        }
        if (node.hasAttribute("data-sections")) {
          node.classList.toggle("hidden", hiddenNow(node));
        }
      });
    }

    log.addEventListener("click", function (event) {
      var header = event.target.closest(".section-header");
      if (header) { setCollapsed(header, !header.classList.contains("collapsed")); }
    });
    log.addEventListener("keydown", function (event) {
      var header = event.target.closest(".section-header");
      if (header && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        setCollapsed(header, !header.classList.contains("collapsed"));
      }
    });
    adopt(Array.prototype.slice.call(log.children));

    return function append(html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var nodes = Array.prototype.slice.call(holder.children);
      adopt(nodes);
      nodes.forEach(function (node) { log.appendChild(node); });
    };
  }

  var log = document.getElementById("job-log");
  if (log) {
    var append = setUpLog(log);
    var url = log.getAttribute("data-stream");
    if (url && window.EventSource) {
      var status = document.getElementById("job-status");
      var source = new EventSource(url);
      source.addEventListener("log", function (event) {
        var follow = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
        append(event.data);
        if (follow) { window.scrollTo(0, document.body.scrollHeight); }
      });
      source.addEventListener("status", function (event) {
        status.textContent = event.data;
        status.className = "status " + event.data;
      });
      source.addEventListener("end", function (event) {
        source.close();
        status.textContent = event.data;
        status.className = "status " + event.data;
        log.setAttribute("data-finished", "true");
      });
    }
  }

  // --- The pipeline graph's needs lines -----------------------------------------------------
  // A curve from the right edge of the needed job to the left edge of the job that needs it,
  // with a dot at each end on the cards' edges; a job needing one in its own stage (or a later
  // column) gets a loop out to the left of both.
  function drawNeeds() {
    var graph = document.getElementById("pipeline-graph");
    if (!graph) { return; }
    var svg = graph.querySelector(".needs-lines");
    svg.setAttribute("width", graph.scrollWidth);
    svg.setAttribute("height", graph.scrollHeight);
    var box = graph.getBoundingClientRect();
    var at = function (x, y) {
      return { x: x - box.left + graph.scrollLeft, y: y - box.top + graph.scrollTop };
    };
    var shapes = [];
    graph.querySelectorAll(".job-card[data-needs]").forEach(function (card) {
      var needs = card.getAttribute("data-needs");
      if (!needs) { return; }
      needs.split("\n").forEach(function (name) {
        var from = graph.querySelector('.job-card[data-name="' + CSS.escape(name) + '"]');
        if (!from) { return; }
        var a = from.getBoundingClientRect(), b = card.getBoundingClientRect();
        var start, end, path;
        if (b.left >= a.right) {
          start = at(a.right, a.top + a.height / 2);
          end = at(b.left, b.top + b.height / 2);
          var mid = (start.x + end.x) / 2;
          path = "M" + start.x + " " + start.y + " C" + mid + " " + start.y + " " + mid + " " + end.y + " " + end.x + " " + end.y;
        } else {
          start = at(a.left, a.top + a.height / 2);
          end = at(b.left, b.top + b.height / 2);
          var out = Math.min(start.x, end.x) - 18;
          path = "M" + start.x + " " + start.y + " C" + out + " " + start.y + " " + out + " " + end.y + " " + end.x + " " + end.y;
        }
        shapes.push('<path d="' + path + '"/>');
        shapes.push('<circle cx="' + start.x + '" cy="' + start.y + '" r="3"/>');
        shapes.push('<circle cx="' + end.x + '" cy="' + end.y + '" r="3"/>');
      });
    });
    svg.innerHTML = shapes.join("");
  }
  drawNeeds();
  window.addEventListener("resize", drawNeeds);
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(drawNeeds); }

  // --- Live pipeline page and pipeline list -------------------------------------------------
  // Each stream sends the changing part of its page as HTML (its event id is the version shown)
  // and `end` when nothing there runs any more; the list then looks again now and then.
  function follow(container, eventName, reopenAfter) {
    if (!container || !window.EventSource) { return; }
    var url = container.getAttribute("data-stream");
    var open = function () {
      var source = new EventSource(url);
      source.addEventListener(eventName, function (event) {
        container.innerHTML = event.data;
        if (event.lastEventId) {
          url = url.replace(/([?&]seen=)[^&]*/, "$1" + encodeURIComponent(event.lastEventId));
        }
        drawNeeds();
      });
      source.addEventListener("end", function () {
        source.close();
        if (reopenAfter) { window.setTimeout(open, reopenAfter); }
      });
    };
    open();
  }
  follow(document.getElementById("pipeline-live"), "pipeline", 0);
  follow(document.getElementById("pipelines-live"), "pipelines", 15000);
})();
