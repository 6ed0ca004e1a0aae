/* EventHub operations board: place the cards on the day's time axis, keep their controls, the
   summary and the "now" line current, send actions over /live (acks) after a confirmation
   where one is due. Without a live connection, or when /live refuses, the forms post as usual
   (and the server asks for the same confirmation on its own page).
   Positions are set as CSS custom properties through the CSSOM: the page needs no inline
   style, which the Content-Security-Policy forbids. */
(function () {
  "use strict";
  var live = JSON.parse(document.getElementById("live-config").textContent);
  var boardNode = document.getElementById("board-config");
  if (!boardNode) { return; }
  var config = JSON.parse(boardNode.textContent);
  var L = live.labels;
  var B = config.labels;
  var MINUTE = 60000;
  // The server's clock decides what is over; keep the offset to it, not the browser's time.
  var skew = Date.parse(config.now) - Date.now();
  function now() { return Date.now() + skew; }

  document.documentElement.classList.add("board-js");

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  function expected(el) {
    var delay = (parseInt(el.dataset.delay, 10) || 0) * MINUTE;
    return {start: Date.parse(el.dataset.startsAt) + delay, end: Date.parse(el.dataset.endsAt) + delay};
  }

  /* The model's words (Session.is_finished, is_over, has_video; board.is_problem), over the
     data attributes that live.js keeps current. */
  function isFinished(el) { return config.finished.indexOf(el.dataset.status) >= 0; }

  function isOver(el) { return isFinished(el) || expected(el).end <= now(); }

  function hasVideo(el) { return config.video_modes.indexOf(el.dataset.mode) >= 0; }

  function isProblem(el) {
    if (isOver(el)) { return false; }
    var state = el.dataset.roomState || "";
    if (state === "failed" || el.dataset.status === "delayed") { return true; }
    return hasVideo(el) && (state === "" || state === "deleted");
  }

  /* -- the time axis ------------------------------------------------------------------------ */
  var timeline = document.querySelector("[data-timeline]");
  var spanStart = timeline ? Date.parse(timeline.dataset.spanStart) : 0;
  var spanEnd = timeline ? Date.parse(timeline.dataset.spanEnd) : 1;
  function fraction(t) { return Math.min(1, Math.max(0, (t - spanStart) / (spanEnd - spanStart))); }
  function percent(f) { return (f * 100).toFixed(3) + "%"; }

  function clock(t) {
    return new Intl.DateTimeFormat(live.locale, {hour: "numeric", minute: "2-digit",
                                                 timeZone: live.timezone}).format(new Date(t));
  }

  function layoutTrack(track) {
    var items = Array.prototype.slice.call(track.children).map(function (li) {
      var card = li.querySelector(".card");
      return {li: li, time: expected(card)};
    }).sort(function (a, b) { return a.time.start - b.time.start; });
    var laneEnds = [];  // overlapping sessions of one hall share the row in lanes
    items.forEach(function (item) {
      var lane = 0;
      while (lane < laneEnds.length && laneEnds[lane] > item.time.start) { lane += 1; }
      laneEnds[lane] = item.time.end;
      item.lane = lane;
    });
    items.forEach(function (item) {
      var start = fraction(item.time.start);
      var style = item.li.style;
      style.setProperty("--start", percent(start));
      style.setProperty("--span", percent(Math.max(fraction(item.time.end) - start, 0.02)));
      style.setProperty("--lane", String(item.lane));
      style.setProperty("--lanes", String(Math.max(laneEnds.length, 1)));
      item.li.classList.toggle("flip", start > 0.6);
    });
  }

  function layout() {
    if (!timeline) { return; }
    document.querySelectorAll(".hour[data-at]").forEach(function (mark) {
      mark.style.setProperty("--at", percent(fraction(Date.parse(mark.dataset.at))));
    });
    document.querySelectorAll("ol.track").forEach(layoutTrack);
    var line = document.querySelector("[data-now-line]");
    var t = now();
    if (line) {
      line.hidden = t < spanStart || t > spanEnd;
      timeline.style.setProperty("--now", String(fraction(t)));
    }
  }

  /* -- one card's controls ------------------------------------------------------------------ */
  function sync(item) {
    var d = item.dataset;
    var over = isOver(item);
    var allowed = live.transitions[d.status] || [];
    item.querySelectorAll('button[name="status"], [data-status-button]').forEach(function (b) {
      var value = b.value || b.dataset.statusButton;
      b.disabled = allowed.indexOf(value) < 0 || (value === "live" && over);
    });
    var finished = isFinished(item);
    item.querySelectorAll('button[name="mode"]').forEach(function (b) {
      b.setAttribute("aria-pressed", b.value === d.mode ? "true" : "false");
      b.disabled = finished;
    });
    var state = d.roomState || "";
    var label = item.querySelector("[data-room-label]");
    if (label) {
      label.textContent = L.room[state] || state;
      label.className = "room-state room-" + (state || "none");
      label.hidden = !state || state === "deleted";
    }
    var text = item.querySelector("[data-room-text]");
    if (text) {
      text.textContent = L.room[state] || state;
      text.className = "room-state room-" + (state || "none");
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
    var overBadge = item.querySelector("[data-over-badge]");
    if (overBadge) { overBadge.hidden = !over || finished; }
    var times = expected(item);
    var time = item.querySelector("[data-card-time]");
    if (time) { time.textContent = clock(times.start) + "–" + clock(times.end); }
    item.classList.toggle("over", over);
    item.classList.toggle("problem", isProblem(item));
    Object.keys(L.mode).forEach(function (mode) {
      item.classList.toggle("mode-" + mode, d.mode === mode);
    });
  }

  /* The error text of a failed room is not broadcast: ask the board's own JSON route. */
  function loadRoomError(item, node) {
    fetch("/console/sessions/" + item.dataset.sessionId + "/room", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (room) {
        if (room && room.state === "failed") {
          node.querySelector("[data-room-error-detail]").textContent = room.error || "";
          node.hidden = false;
          var provider = item.querySelector("[data-current-provider]");
          if (provider && room.provider) { provider.value = room.provider; }
        }
      })
      .catch(function () { /* the state label already says it failed */ });
  }

  /* -- the summary bar: every session in scope (all days), kept current by live.js ---------- */
  function summary() {
    var counts = {live: 0, video: 0, ready: 0, pending: 0, failed: 0};
    document.querySelectorAll("[data-scope] [data-session-id]").forEach(function (el) {
      var d = el.dataset;
      var finished = isFinished(el);
      if (d.status === "live") { counts.live += 1; }
      if (hasVideo(el) && !isOver(el)) { counts.video += 1; }
      if (hasVideo(el) && !finished && d.roomState in counts) { counts[d.roomState] += 1; }
    });
    Object.keys(counts).forEach(function (key) {
      var node = document.querySelector('[data-sum="' + key + '"]');
      if (node && node.textContent !== String(counts[key])) { node.textContent = counts[key]; }
    });
  }

  function refresh() {
    document.querySelectorAll(".card").forEach(sync);
    layout();
    summary();
  }

  var pending = null;  // one re-layout per burst of updates (a whole-event switch sends many)
  document.addEventListener("eventhub:session", function (e) {
    var item = e.target.closest(".card");
    if (item) {
      var payload = e.detail || {};
      var provider = item.querySelector("[data-room-provider]");
      if (provider && payload.provider) {
        provider.textContent = config.providers[payload.provider] || payload.provider;
      }
      if (provider) { provider.hidden = !payload.room_state || payload.room_state === "deleted"; }
      var current = item.querySelector("[data-current-provider]");
      if (current && payload.provider) { current.value = payload.provider; }
      sync(item);
    }
    if (!pending) {
      pending = window.setTimeout(function () { pending = null; layout(); summary(); }, 50);
    }
  });

  refresh();
  window.setInterval(refresh, 30000);  // the "now" line moves, sessions become over
  window.addEventListener("resize", layout);

  /* One panel open at a time. */
  document.addEventListener("toggle", function (e) {
    var box = e.target;
    if (!box.classList || !box.classList.contains("card-box") || !box.open) { return; }
    document.querySelectorAll(".card-box[open]").forEach(function (other) {
      if (other !== box) { other.open = false; }
    });
  }, true);
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    var open = document.querySelector(".card-box[open]");
    if (open && !document.querySelector("dialog[open]")) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });

  /* Filters apply as they change (their "Apply" button is for pages without the script). */
  var filters = document.querySelector("[data-filters]");
  if (filters) {
    filters.addEventListener("change", function () { filters.submit(); });
  }

  /* -- confirmation --------------------------------------------------------------------------- */
  var dialog = document.querySelector("dialog[data-confirm]");

  function confirmThen(title, lines, yes, action) {
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(title + "\n" + lines.join("\n"))) { action(); }
      return;
    }
    dialog.querySelector("[data-confirm-title]").textContent = title;
    var box = dialog.querySelector("[data-confirm-text]");
    box.textContent = "";
    var list = document.createElement(lines.length > 1 ? "ul" : "div");
    lines.forEach(function (line) {
      var node = document.createElement(lines.length > 1 ? "li" : "p");
      node.textContent = line;
      list.appendChild(node);
    });
    box.appendChild(list);
    dialog.querySelector("[data-confirm-yes]").textContent = yes;
    dialog.returnValue = "";
    dialog.onclose = function () {
      dialog.onclose = null;
      if (dialog.returnValue === "yes") { action(); }
    };
    dialog.showModal();
  }

  function report(item, text, isError) {
    var out = item.querySelector("[data-result]");
    if (!out) { return; }
    out.textContent = text;
    out.classList.toggle("error", !!isError);
  }

  /* Send a form's action over /live; fall back to posting it if /live cannot take it. */
  function send(form, submitter, item, kind, message) {
    var socket = window.eventhubSocket;
    report(item, B.loading, false);
    socket.timeout(10000).emit(kind, message, function (timeoutError, ack) {
      var error = timeoutError ? {code: "timeout"} : (ack && ack.error);
      if (error && (error.code === "unauthorized" || error.code === "timeout")) {
        form.dataset.native = "1";  // this connection may not act: let the server-side form do it
        if (message.status && config.confirmed.indexOf(message.status) >= 0) {
          addConfirmed(form);
        }
        if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
        return;
      }
      if (error) {
        report(item, fill(L.failed, {reason: L.errors[error.code] || L.errors.internal}), true);
        return;
      }
      report(item, L.saved, false);
    });
  }

  function addConfirmed(form) {
    if (form.querySelector('input[name="confirmed"]')) { return; }
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "confirmed";
    input.value = "1";
    form.appendChild(input);
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches("[data-event-switch]")) { eventSwitch(e, form); return; }
    var kind = form.dataset.live;
    var socket = window.eventhubSocket;
    if (!kind || form.dataset.native === "1" || !socket || !socket.connected) { return; }
    e.preventDefault();
    var item = form.closest(".card");
    var submitter = e.submitter;
    var data = new FormData(form);
    if (submitter && submitter.name) { data.set(submitter.name, submitter.value); }
    var message = {session_id: parseInt(item.dataset.sessionId, 10)};
    if (kind === "session.switch") {
      message.mode = data.get("mode");
      if (data.get("provider")) { message.provider = data.get("provider"); }
      send(form, submitter, item, kind, message);
      return;
    }
    message.status = data.get("status");
    if (message.status === "delayed") { message.delay_minutes = parseInt(data.get("delay_minutes"), 10); }
    if (config.confirmed.indexOf(message.status) < 0) {
      send(form, submitter, item, kind, message);
      return;
    }
    var ending = message.status === "ended";
    confirmThen(ending ? B.end_title : B.cancel_title,
                [fill(ending ? B.end_text : B.cancel_text, {title: item.dataset.title})],
                ending ? B.end_yes : B.cancel_yes,
                function () { send(form, submitter, item, kind, message); });
  });

  /* The whole-event switch: ask the server what it would do, say it, then post the switch. */
  function eventSwitch(e, form) {
    e.preventDefault();
    var mode = form.querySelector('[name="mode"]').value;
    var post = document.querySelector("[data-event-switch-post]");
    fetch(form.dataset.eventSwitch + "?mode=" + encodeURIComponent(mode) +
          "&lang=" + encodeURIComponent(live.locale), {credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (preview) {
        confirmThen(fill(B.switch_title, {mode: L.mode[mode] || mode}), preview.lines,
                    preview.confirm, function () {
                      post.querySelector('[name="mode"]').value = mode;
                      post.submit();
                    });
      })
      .catch(function () { form.submit(); });  // the confirmation page says the same
  }
})();
