/* EventHub live pages: keep session badges, join buttons and times current from /live.
   No framework, no build step. Every session element carries data-session-id, data-status,
   data-mode (and data-version, data-room-state, data-delay, data-starts-at, data-ends-at,
   data-join-window). A payload (broadcast or snapshot) whose version is not newer than the one
   an element shows is older news that arrived late: it is ignored. */
(function () {
  "use strict";
  var configNode = document.getElementById("live-config");
  if (!configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var L = config.labels;
  var OVER = ["ended", "cancelled"];

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  function clock(date, zone) {
    var options = {hour: "numeric", minute: "2-digit"};
    if (zone) { options.timeZone = zone; }
    return new Intl.DateTimeFormat(config.locale, options).format(date);
  }

  function statusText(status, delay) {
    return fill(L.status[status] || status, {minutes: delay});
  }

  /* Join buttons: shown inside the join window (or while live) once the room is ready. */
  function joinState(el, now) {
    var d = el.dataset;
    if (OVER.indexOf(d.status) >= 0) { return {state: "over"}; }
    if (d.mode === "in_person") { return {state: "in_person"}; }
    if (d.joinOpen === "1") { return {state: "open"}; }  // the server said so (join.open)
    var delay = (parseInt(d.delay, 10) || 0) * 60000;
    var opens = Date.parse(d.startsAt) + delay - (parseInt(d.joinWindow, 10) || 0) * 60000;
    var ends = Date.parse(d.endsAt) + delay;
    var running = d.status === "live" || d.status === "paused";
    if (!running && now < opens) { return {state: "not_yet", opens: new Date(opens)}; }
    if (!running && now > ends) { return {state: "over"}; }
    if (d.roomState === "ready") { return {state: "open"}; }
    return {state: "preparing"};
  }

  function updateJoin(el) {
    var box = el.querySelector(".join-box");
    if (!box) { return; }
    var link = box.querySelector(".join-link");
    var wait = box.querySelector(".join-wait");
    var result = joinState(el, Date.now());
    link.hidden = result.state !== "open";
    var message = "";
    if (result.state === "not_yet") {
      message = fill(L.opens, {time: clock(result.opens, config.timezone)});
      box.dataset.joinOpensAt = result.opens.toISOString();
    } else if (result.state !== "open") {
      message = L[result.state] || "";
    }
    if (wait.textContent !== message) { wait.textContent = message; }
  }

  function setBadge(el, kind, value, text, hide) {
    el.querySelectorAll('[data-badge="' + kind + '"]').forEach(function (badge) {
      badge.className = "badge " + kind + "-" + value;
      badge.textContent = text;
      badge.hidden = hide;
    });
  }

  /* Whether a payload is newer than what an element shows (an element without a version, or a
     payload without one, takes it). */
  function newer(el, payload) {
    if (typeof payload.version !== "number" || el.dataset.version === undefined ||
        el.dataset.version === "") { return true; }
    return payload.version > parseInt(el.dataset.version, 10);
  }

  /* Apply a session.updated payload (or a subscribe snapshot) to every element of the session. */
  function apply(payload) {
    var nodes = document.querySelectorAll('[data-session-id="' + payload.session_id + '"]');
    nodes.forEach(function (el) {
      if (!newer(el, payload)) { return; }
      if (typeof payload.version === "number") { el.dataset.version = payload.version; }
      el.dataset.status = payload.status;
      el.dataset.mode = payload.mode;
      el.dataset.delay = payload.delay_minutes || 0;
      el.dataset.roomState = payload.room_state || "";
      if (payload.starts_at) { el.dataset.startsAt = payload.starts_at; }
      if (payload.ends_at) { el.dataset.endsAt = payload.ends_at; }
      if (payload.mode === "in_person" || OVER.indexOf(payload.status) >= 0 ||
          payload.room_state !== "ready") {
        delete el.dataset.joinOpen;
      }
      setBadge(el, "status", payload.status, statusText(payload.status, payload.delay_minutes),
               payload.status === "scheduled");
      setBadge(el, "mode", payload.mode, L.mode[payload.mode] || payload.mode,
               payload.mode === "in_person");
      var modeText = el.querySelector("[data-mode-text]");
      if (modeText) { modeText.textContent = L.mode[payload.mode] || payload.mode; }
      updateJoin(el);
      el.dispatchEvent(new CustomEvent("eventhub:session", {bubbles: true, detail: payload}));
    });
  }

  /* The viewer's own clock next to the event's, when the two differ. */
  function viewerTimes() {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    document.querySelectorAll("[data-viewer-time]").forEach(function (span) {
      var el = span.closest("[data-session-id]");
      if (!el || !zone || zone === config.timezone) { return; }
      var start = new Date(el.dataset.startsAt);
      var end = new Date(el.dataset.endsAt);
      span.textContent = fill(L.viewer_time, {time: clock(start) + "–" + clock(end), zone: zone});
      span.hidden = false;
    });
  }

  /* join.open (and a participant's subscribe snapshot): this participant's link is open now. */
  function joinOpen(data) {
    document.querySelectorAll('[data-session-id="' + data.session_id + '"]').forEach(function (el) {
      var link = el.querySelector(".join-link");
      if (!link) { return; }
      if (data.join_url) { link.setAttribute("href", data.join_url); }
      el.dataset.joinOpen = "1";
      updateJoin(el);
    });
  }

  /* Moderators: how many browsers and apps are following the event. */
  function presence(data) {
    document.querySelectorAll('[data-presence-event="' + data.event_id + '"]').forEach(
      function (node) { node.textContent = fill(L.clients, {count: data.clients}); });
  }

  function refreshAll() {
    document.querySelectorAll("[data-session-id]").forEach(updateJoin);
  }

  viewerTimes();
  refreshAll();
  setInterval(refreshAll, 15000);  // the window opens by the clock, too

  var stateNode = document.querySelector("[data-live-state]");
  if (typeof io === "undefined") { return; }
  // The page's cookie session identifies a moderator or participant to /live (same origin).
  var socket = io("/live", {transports: ["websocket", "polling"]});
  window.eventhubSocket = socket;

  socket.on("connect", function () {
    if (stateNode) { stateNode.textContent = ""; }
    document.documentElement.dataset.live = "connected";
    config.events.forEach(function (eventId) {
      socket.emit("subscribe", {event_id: eventId}, function (ack) {
        if (!ack || !ack.sessions) { return; }
        ack.sessions.forEach(function (payload) {
          apply(payload);
          if (payload.join_open) { joinOpen(payload); }
        });
        if (ack.presence) { presence(ack.presence); }
      });
    });
  });
  socket.on("disconnect", function () {
    document.documentElement.dataset.live = "disconnected";
    if (stateNode) { stateNode.textContent = L.offline; }
  });
  socket.on("session.updated", apply);
  socket.on("session.deleted", function (data) {
    document.querySelectorAll('[data-session-id="' + data.session_id + '"]').forEach(
      function (el) { el.remove(); });
  });
  socket.on("join.open", joinOpen);
  socket.on("presence", presence);
})();
