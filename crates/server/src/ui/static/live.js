// Warroom web UI: live countdowns and live reloads. Loaded as a file (the CSP forbids inline
// scripts); the pages work without it, showing times as of rendering.
"use strict";

(function () {
  function span(seconds) {
    var s = Math.abs(Math.trunc(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + m + "m";
    if (m > 0) return m + "m " + sec + "s";
    return sec + "s";
  }

  // Every <time data-countdown datetime=...> counts down; past due it says "overdue" in
  // words and its row gets the overdue class, so colour is never the only signal.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) return;
      var left = (due - now) / 1000;
      var overdue = left <= 0;
      el.textContent = overdue ? "overdue by " + span(left) : "in " + span(left);
      var holder = el.closest("[data-due]");
      if (holder) holder.classList.toggle("overdue", overdue);
    });
  }

  // Replace every [data-live] region with the same region of a fresh copy of this page.
  // Forms sit outside those regions, so typing is never lost.
  function reload() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var next = fresh.getElementById(el.id);
          if (next) el.replaceWith(next);
        });
        var data = fresh.getElementById("page-data");
        var mine = document.getElementById("page-data");
        if (data && mine) mine.setAttribute("data-marker", data.getAttribute("data-marker"));
        showCopyButtons();
        tick();
      })
      .catch(function () {});
  }

  // Copy buttons beside playbook commands: shown only when this script runs (without it the
  // command is still there to select by hand). The result is said in a status region, not
  // only by a change of look.
  function showCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
  }

  function say(button, text) {
    var holder = button.parentElement;
    var status = holder.querySelector("[data-copy-status]");
    if (!status) {
      status = document.createElement("span");
      status.setAttribute("role", "status");
      status.setAttribute("data-copy-status", "");
      status.className = "muted";
      holder.appendChild(status);
    }
    status.textContent = text;
  }

  function copy(button) {
    var code = button.parentElement.querySelector("code");
    if (!code) return;
    var selectIt = function () {
      // No clipboard access (a page not served over HTTPS): select the text for Ctrl+C.
      var range = document.createRange();
      range.selectNodeContents(code);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      say(button, "Selected; press Ctrl+C to copy.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code.textContent).then(
        function () { say(button, "Copied."); },
        selectIt
      );
    } else {
      selectIt();
    }
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("button[data-copy]");
    if (button) copy(button);
  });

  function listen() {
    if (!window.EventSource) return;
    var data = document.getElementById("page-data");
    if (!data) return;
    var marker = data.getAttribute("data-marker");
    var source = new EventSource("/ui/events?since=" + encodeURIComponent(marker));
    source.addEventListener("change", reload);
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    showCopyButtons();
    listen();
  });
})();
