// kakehashi dashboard: live job states, hand-written (no framework, no build step).
// The list page polls /jobs/states.json once a second while a listed job is not finished; the
// job page follows /jobs/<id>/events (server-sent events) and, when the job ends, replaces its
// live section with the freshly rendered one (same URL, no reload).
"use strict";
(function () {
  var TERMINAL = { SUCCEEDED: 1, FAILED: 1, CANCELLED: 1 };

  function setState(el, status) {
    el.textContent = status;
    el.className = "state s-" + status;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined) return "";
    return Number(v).toPrecision(digits).replace(/\.?0+(e|$)/, "$1");
  }

  function pollList(table) {
    var rows = table.querySelectorAll("tr[data-job]");
    var open = [];
    rows.forEach(function (tr) {
      var s = tr.querySelector('[data-field="status"]').textContent.trim();
      if (!TERMINAL[s]) open.push(tr.getAttribute("data-job"));
    });
    if (!open.length) return;
    var q = open.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
    fetch("/jobs/states.json?" + q, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { jobs: [] }; })
      .then(function (data) {
        data.jobs.forEach(function (j) {
          var tr = table.querySelector('tr[data-job="' + CSS.escape(j.id) + '"]');
          if (!tr) return;
          setState(tr.querySelector('[data-field="status"]'), j.status);
          tr.querySelector('[data-field="objective"]').textContent = fmt(j.objective, 6);
          tr.querySelector('[data-field="run_seconds"]').textContent = fmt(j.run_seconds, 3);
        });
      })
      .catch(function () {})
      .then(function () { setTimeout(function () { pollList(table); }, 1000); });
  }

  function refreshLive() {
    fetch(location.pathname, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("job-live");
        var here = document.getElementById("job-live");
        if (fresh && here) here.replaceWith(fresh);
        var meta = doc.querySelector("p.meta"), hereMeta = document.querySelector("p.meta");
        if (meta && hereMeta) hereMeta.replaceWith(meta);
        var cancel = document.querySelector('form[action$="/cancel"]');
        if (cancel && !doc.querySelector('form[action$="/cancel"]')) cancel.remove();
      });
  }

  function follow(badge) {
    if (badge.getAttribute("data-terminal") === "yes" || !window.EventSource) return;
    var src = new EventSource(badge.getAttribute("data-job-events"));
    ["queued", "running", "succeeded", "failed", "cancelled"].forEach(function (kind) {
      src.addEventListener(kind, function () {
        var el = document.getElementById("job-state");
        if (el) setState(el, kind.toUpperCase());
      });
    });
    src.addEventListener("end", function () { src.close(); refreshLive(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.querySelector("table[data-live-jobs]");
    if (table) setTimeout(function () { pollList(table); }, 500);
    var badge = document.getElementById("job-state");
    if (badge) follow(badge);
  });
})();
