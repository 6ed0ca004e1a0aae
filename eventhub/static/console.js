/* EventHub console: send actions over /live (acks), keep buttons, room state and host link
   current. Without a live connection, or when /live refuses, the forms post as usual. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("live-config").textContent);
  var L = config.labels;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  function report(item, text, isError) {
    var out = item.querySelector("[data-result]");
    if (!out) { return; }
    out.textContent = text;
    out.classList.toggle("error", !!isError);
  }

  /* Keep the controls of one session in line with its status, mode and room. */
  function sync(item) {
    var d = item.dataset;
    var allowed = config.transitions[d.status] || [];
    item.querySelectorAll('button[name="status"], [data-status-button]').forEach(function (b) {
      var value = b.value || b.dataset.statusButton;
      // A session past its expected end offers no "go live" (live.js keeps data-past).
      b.disabled = allowed.indexOf(value) < 0 || (value === "live" && d.past === "1");
    });
    item.querySelectorAll('button[name="mode"]').forEach(function (b) {
      b.setAttribute("aria-pressed", b.value === d.mode ? "true" : "false");
    });
    var state = d.roomState || "";
    var label = item.querySelector("[data-room-label]");
    if (label) {
      label.textContent = L.room[state] || state;
      label.className = "room-state room-" + (state || "none");
    }
    var retry = item.querySelector("[data-retry]");
    if (retry) {
      retry.hidden = state !== "failed";
      retry.querySelector("[data-current-mode]").value = d.mode;
    }
    var host = item.querySelector("[data-host]");
    if (host) { host.hidden = state !== "ready"; }
    var error = item.querySelector("[data-room-error]");
    if (error && state !== "failed") { error.hidden = true; }
    if (error && state === "failed" && error.hidden) { loadRoomError(item, error); }
  }

  /* The error text of a failed room is not broadcast: ask the console's own JSON route. */
  function loadRoomError(item, node) {
    fetch("/console/sessions/" + item.dataset.sessionId + "/room", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (room) {
        if (room && room.state === "failed") {
          node.querySelector("[data-room-error-detail]").textContent = room.error || "";
          node.hidden = false;
        }
      })
      .catch(function () { /* the state label already says it failed */ });
  }

  document.addEventListener("eventhub:session", function (e) {
    var item = e.target.closest(".console-item");
    if (item) { sync(item); }
  });

  document.querySelectorAll(".console-item").forEach(sync);

  /* Send a form's action over /live; fall back to posting it if /live cannot take it. */
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var kind = form.dataset.live;
    var socket = window.eventhubSocket;
    if (!kind || form.dataset.native === "1" || !socket || !socket.connected) { return; }
    e.preventDefault();
    var item = form.closest(".console-item");
    var submitter = e.submitter;
    var data = new FormData(form);
    if (submitter && submitter.name) { data.set(submitter.name, submitter.value); }
    var message = {session_id: parseInt(item.dataset.sessionId, 10)};
    if (kind === "session.switch") {
      message.mode = data.get("mode");
    } else {
      message.status = data.get("status");
      if (message.status === "delayed") { message.delay_minutes = parseInt(data.get("delay_minutes"), 10); }
    }
    report(item, "", false);
    socket.timeout(10000).emit(kind, message, function (timeoutError, ack) {
      var error = timeoutError ? {code: "timeout"} : (ack && ack.error);
      if (error && (error.code === "unauthorized" || error.code === "timeout")) {
        form.dataset.native = "1";  // this connection may not act: let the server-side form do it
        if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
        return;
      }
      if (error) {
        report(item, fill(L.failed, {reason: L.errors[error.code] || L.errors.internal}), true);
        return;
      }
      report(item, L.saved, false);
    });
  });
})();
