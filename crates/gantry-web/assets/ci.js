// CI pages: the live job log (Server-Sent Events), collapsible log sections with their
// durations, and lines between jobs and the jobs they need on the pipeline graph. The pages
// work without this script.
(function () {
  "use strict";

  function sectionLines(header) {
    var name = header.getAttribute("data-section");
    return document.querySelectorAll('.log-line[data-sections~="' + name + '"]');
  }

  function toggle(header, collapsed) {
    header.classList.toggle("collapsed", collapsed);
    sectionLines(header).forEach(function (line) { line.classList.toggle("hidden", collapsed); });
  }

  function formatDuration(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return (m > 0 ? m + "m " : "") + (m > 0 && s < 10 ? "0" : "") + s + "s";
  }

  function finishSections(log) {
    log.querySelectorAll(".section-end").forEach(function (end) {
      var name = end.getAttribute("data-section");
      var headers = log.querySelectorAll('.section-header[data-section="' + name + '"]');
      var header = headers[headers.length - 1];
      if (!header || header.getAttribute("data-done")) { return; }
      var seconds = Number(end.getAttribute("data-end")) - Number(header.getAttribute("data-start"));
      header.querySelector(".section-duration").textContent = formatDuration(Math.max(0, seconds));
      header.setAttribute("data-done", "1");
      if (header.getAttribute("data-collapsed") === "true") { toggle(header, true); }
    });
  }

  var log = document.getElementById("job-log");
  if (log) {
    log.addEventListener("click", function (event) {
      var header = event.target.closest(".section-header");
      if (header) { toggle(header, !header.classList.contains("collapsed")); }
    });
    finishSections(log);
    var url = log.getAttribute("data-stream");
    if (url && window.EventSource) {
      var status = document.getElementById("job-status");
      var source = new EventSource(url);
      source.addEventListener("log", function (event) {
        var follow = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
        log.insertAdjacentHTML("beforeend", event.data);
        finishSections(log);
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

  var graph = document.getElementById("pipeline-graph");
  if (graph) {
    var svg = graph.querySelector(".needs-lines");
    var draw = function () {
      var box = graph.getBoundingClientRect();
      var paths = [];
      graph.querySelectorAll(".job-card[data-needs]").forEach(function (card) {
        var needs = card.getAttribute("data-needs");
        if (!needs) { return; }
        needs.split("\n").forEach(function (name) {
          var from = graph.querySelector('.job-card[data-name="' + CSS.escape(name) + '"]');
          if (!from) { return; }
          var a = from.getBoundingClientRect(), b = card.getBoundingClientRect();
          var x1 = a.right - box.left + graph.scrollLeft, y1 = a.top + a.height / 2 - box.top;
          var x2 = b.left - box.left + graph.scrollLeft, y2 = b.top + b.height / 2 - box.top;
          var mid = (x1 + x2) / 2;
          paths.push('<path d="M' + x1 + " " + y1 + " C" + mid + " " + y1 + " " + mid + " " + y2 + " " + x2 + " " + y2 + '"/>');
        });
      });
      svg.innerHTML = paths.join("");
    };
    draw();
    window.addEventListener("resize", draw);
  }
})();
