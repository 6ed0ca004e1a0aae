/* EventHub live pages: keep session badges, join buttons, times and lists current from /live.
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
  var OVER = config.finished;  // the statuses after which a session is over (models.FINISHED)

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

  function dayAndClock(date, zone) {
    var options = {dateStyle: "medium", timeStyle: "short"};
    if (zone) { options.timeZone = zone; }
    return new Intl.DateTimeFormat(config.locale, options).format(date);
  }

  function dayText(date, zone, style) {
    var options = {dateStyle: style || "medium"};
    if (zone) { options.timeZone = zone; }
    return new Intl.DateTimeFormat(config.locale, options).format(date);
  }

  /* A zone as people say it ("Central European Time"), not its IANA id. */
  function zoneName(zone) {
    try {
      var parts = new Intl.DateTimeFormat(config.locale, {timeZone: zone,
        timeZoneName: "longGeneric"}).formatToParts(new Date());
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "timeZoneName") { return parts[i].value; }
      }
    } catch (e) { /* an old browser: the id is better than nothing */ }
    return zone;
  }

  /* When a session is expected: as planned plus the announced delay (ms since the epoch). */
  function expected(el) {
    var delay = (parseInt(el.dataset.delay, 10) || 0) * 60000;
    return {start: Date.parse(el.dataset.startsAt) + delay,
            end: Date.parse(el.dataset.endsAt) + delay};
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
    var times = expected(el);
    var opens = times.start - (parseInt(d.joinWindow, 10) || 0) * 60000;
    var ends = times.end;
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
      message = fill(L.opens, {date: dayText(result.opens, config.timezone),
                               time: clock(result.opens, config.timezone)});
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

  /* The times shown for a session follow its expected times (a delay or a new time). */
  function updateTimes(el) {
    var times = expected(el);
    el.querySelectorAll("time[data-time]").forEach(function (node) {
      if (node.closest("[data-session-id]") !== el) { return; }
      var instant = new Date(node.dataset.time === "end" ? times.end : times.start);
      node.setAttribute("datetime", instant.toISOString());
      var shown = node.dataset.dated ? dayAndClock(instant, config.timezone)
        : clock(instant, config.timezone);
      if (node.textContent !== shown) { node.textContent = shown; }
    });
    var day = el.querySelector("[data-day]");
    if (day) { day.textContent = dayText(new Date(times.start), config.timezone, "full"); }
  }

  /* A session whose expected end has passed is shown as past (and offers no "go live"). */
  function markPast(el) {
    var finished = OVER.indexOf(el.dataset.status) >= 0;
    var past = finished || Date.now() >= expected(el).end;
    if (past) { el.dataset.past = "1"; } else { delete el.dataset.past; }
    el.querySelectorAll('[data-badge="past"]').forEach(function (badge) {
      if (badge.closest("[data-session-id]") === el) { badge.hidden = !past || finished; }
    });
  }

  /* Lists (the programme by day and hall, "Now and next", the agenda) are the server's: when
     a change moves a session between them, fetch the page again and swap those regions. */
  var refreshTimer = null;
  function scheduleRefresh() {
    if (!document.querySelector("[data-live-region]")) { return; }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshRegions, 300);
  }

  function refreshRegions() {
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-region]").forEach(function (region) {
          var next = region.id && fresh.getElementById(region.id);
          if (next) { region.replaceWith(document.importNode(next, true)); }
        });
        document.documentElement.dataset.refreshed =
          String((parseInt(document.documentElement.dataset.refreshed, 10) || 0) + 1);
        viewerTimes();
        refreshAll();
        planBoundary();
      })
      .catch(function () { /* offline: the next change or boundary tries again */ });
  }

  /* "Now and next" also changes by the clock: refresh at the next expected start or end. */
  var boundaryTimer = null;
  function planBoundary() {
    if (!document.querySelector("[data-live-region]")) { return; }
    var now = Date.now();
    var next = Infinity;
    document.querySelectorAll("[data-session-id]").forEach(function (el) {
      var times = expected(el);
      [times.start, times.end].forEach(function (t) { if (t > now && t < next) { next = t; } });
    });
    clearTimeout(boundaryTimer);
    if (next !== Infinity && next - now < 24 * 3600000) {
      boundaryTimer = setTimeout(scheduleRefresh, next - now + 1000);
    }
  }

  /* Apply a session.updated payload (or a subscribe snapshot) to every element of the session. */
  function apply(payload, snapshot) {
    var nodes = document.querySelectorAll('[data-session-id="' + payload.session_id + '"]');
    var moved = nodes.length === 0 && !snapshot;  // a session this page does not list yet
    nodes.forEach(function (el) {
      if (!newer(el, payload)) { return; }  // an older state says nothing about moves
      var d = el.dataset;
      if (d.startsAt !== payload.starts_at && payload.starts_at &&
          Date.parse(d.startsAt) !== Date.parse(payload.starts_at)) { moved = true; }
      if (d.endsAt !== payload.ends_at && payload.ends_at &&
          Date.parse(d.endsAt) !== Date.parse(payload.ends_at)) { moved = true; }
      if ((parseInt(d.delay, 10) || 0) !== (payload.delay_minutes || 0)) { moved = true; }
      if (d.status !== payload.status) { moved = true; }
    });
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
      updateTimes(el);
      markPast(el);
      updateJoin(el);
      el.dispatchEvent(new CustomEvent("eventhub:session", {bubbles: true, detail: payload}));
    });
    if (moved) { scheduleRefresh(); }
  }

  /* The viewer's own clock next to the event's, when the two differ. */
  function viewerTimes() {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    document.querySelectorAll("[data-viewer-time]").forEach(function (span) {
      var el = span.closest("[data-session-id]");
      if (!el || !zone || zone === config.timezone) { return; }
      var times = expected(el);
      var start = new Date(times.start);
      var end = new Date(times.end);
      span.textContent = fill(L.viewer_time, {time: dayAndClock(start) + "–" + clock(end),
                                              zone: zoneName(zone)});
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
    document.querySelectorAll("[data-session-id]").forEach(function (el) {
      markPast(el);
      updateJoin(el);
    });
  }

  viewerTimes();
  refreshAll();
  planBoundary();
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
          apply(payload, true);
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
  socket.on("session.updated", function (payload) { apply(payload, false); });
  socket.on("session.deleted", function (data) {
    document.querySelectorAll('[data-session-id="' + data.session_id + '"]').forEach(
      function (el) { el.remove(); });
    scheduleRefresh();
  });
  socket.on("join.open", joinOpen);
  socket.on("presence", presence);
})();
