// Progressive enhancement for the admin console: every page works without this file.
// It adds: select-all, drag-and-drop ordering, live sync progress, focus after a redirect,
// confirmations, and the feed preview. No framework, no build step.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
  }

  // After a post/redirect/get, put keyboard focus back on the post that was acted on.
  // (On load: the browser's own scroll to the fragment comes first and would take focus.)
  window.addEventListener("load", function () {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (!target) return;
    var pressed = sessionStorage.getItem("igs-pressed");
    sessionStorage.removeItem("igs-pressed");
    var again = pressed && target.querySelector('button[value="' + pressed + '"]');
    (again || target.querySelector("button, select, input, a") || target).focus();
  });
  // Remember which button submitted, to give it focus again after the redirect (up, up, up).
  document.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.value) {
      sessionStorage.setItem("igs-pressed", event.submitter.value.replace(/[^a-z-]/g, ""));
    }
  });

  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll('input[name="ids"][form="bulk"]').forEach(function (b) {
        b.checked = box.checked;
      });
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // Drag and drop: the new order of this page's posts goes to the server, then a reload.
  var list = document.querySelector("[data-reorder]");
  if (list) {
    var dragged = null;
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest(".post");
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.id);
    });
    list.addEventListener("dragover", function (event) {
      var over = event.target.closest(".post");
      if (!dragged || !over || over === dragged) return;
      event.preventDefault();
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      var ids = Array.prototype.map.call(list.querySelectorAll(".post"), function (li) {
        return Number(li.dataset.id);
      });
      post(list.dataset.reorder, { ids: ids }).then(function (response) {
        if (response.ok) location.reload();
        else response.text().then(function (t) { window.alert("Reorder refused: " + t); });
      });
    });
  }

  // Live progress of a sync job: poll its JSON until it ends.
  document.querySelectorAll("[data-job-progress]").forEach(function (box) {
    var url = box.getAttribute("data-job-progress");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          Object.keys(job).forEach(function (name) {
            var cell = box.querySelector('[data-field="' + name + '"]');
            if (cell) cell.textContent = job[name] === null ? "" : String(job[name]);
          });
          var bar = box.querySelector("progress");
          if (bar && job.expected) { bar.max = job.expected; bar.value = job.posts_processed; }
          if (job.status === "PENDING" || job.status === "RUNNING") setTimeout(tick, 700);
          else { box.setAttribute("data-done", job.status); if (bar) { bar.max = 1; bar.value = 1; } }
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    tick();
  });

  // Feed preview: the widget with the attributes chosen in the form.
  var preview = document.querySelector("[data-feed-preview]");
  if (preview) {
    var form = document.getElementById(preview.getAttribute("data-feed-preview"));
    var render = function () {
      var el = document.createElement("instagram-gallery");
      el.setAttribute("feed", preview.getAttribute("data-slug"));
      var values = {};  // several inputs may make one attribute (columns: "2 3 4")
      form.querySelectorAll("[data-attr]").forEach(function (input) {
        var value = input.type === "checkbox" ? (input.checked ? "true" : "false") : input.value;
        var name = input.getAttribute("data-attr");
        if (value !== "") values[name] = values[name] ? values[name] + " " + value : value;
      });
      Object.keys(values).forEach(function (name) { el.setAttribute(name, values[name]); });
      if (preview.getAttribute("data-api")) el.setAttribute("api", preview.getAttribute("data-api"));
      preview.replaceChildren(el);
      var snippet = document.getElementById("snippet");
      if (snippet) {
        var copy = el.cloneNode(false);
        copy.removeAttribute("api");
        snippet.textContent = snippet.getAttribute("data-script") + "\n" + copy.outerHTML;
      }
    };
    form.addEventListener("input", render);
    render();
  }
})();
