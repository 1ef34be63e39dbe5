// ngoso field app: the walk list, the visit and feedback forms, and a queue of what was
// recorded, all kept on the phone (IndexedDB) so that they work with no connection. A
// record leaves the phone only when the server has confirmed it; one the server refuses
// stays, marked with the server's reason, until the member fixes or discards it.
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("strings").textContent);
  var LANG = document.documentElement.lang || "vi";
  var BATCH = 500;
  function t(k, args) {
    var s = T[k] || k;
    if (args) Object.keys(args).forEach(function (a) { s = s.split("{" + a + "}").join(String(args[a])); });
    return s;
  }

  // ---- storage -------------------------------------------------------------------------
  var dbp = null;
  function db() {
    if (!dbp) dbp = new Promise(function (res, rej) {
      var r = indexedDB.open("ngoso-field", 1);
      r.onupgradeneeded = function () {
        var d = r.result;
        d.createObjectStore("kv");
        d.createObjectStore("households", { keyPath: "id" });
        d.createObjectStore("queue", { keyPath: "id" });
      };
      r.onsuccess = function () { res(r.result); };
      r.onerror = function () { rej(r.error); };
    });
    return dbp;
  }
  // Runs `fn(stores)` in one transaction; resolves when it has committed.
  function tx(names, mode, fn) {
    return db().then(function (d) {
      return new Promise(function (res, rej) {
        var x = d.transaction(names, mode), out;
        x.oncomplete = function () { res(out instanceof IDBRequest ? out.result : out); };
        x.onerror = x.onabort = function () { rej(x.error || new Error("IndexedDB")); };
        var stores = {};
        names.forEach(function (n) { stores[n] = x.objectStore(n); });
        out = fn(stores);
      });
    });
  }
  function getAll(name) { return tx([name], "readonly", function (s) { return s[name].getAll(); }); }
  function kvGet(k) { return tx(["kv"], "readonly", function (s) { return s.kv.get(k); }); }

  // ---- state -----------------------------------------------------------------------------
  var S = {
    account: null, teams: [], services: [], categories: [], cursor: null, lastSync: null,
    households: new Map(), queue: [], syncing: false, error: null, needLogin: false, signedOut: false,
    notice: null, sent: [], search: "", unreachable: false,
  };
  function mine(q) { return S.account && q.user === S.account.id; }
  function waiting() { return S.queue.filter(function (q) { return q.state === "waiting" && mine(q); }); }

  function load() {
    return Promise.all([
      getAll("households"), getAll("queue"), kvGet("bundle"), kvGet("cursor"), kvGet("lastSync"), kvGet("sent"),
      kvGet("signedOut"),
    ]).then(function (r) {
      S.households = new Map(r[0].map(function (h) { return [h.id, h]; }));
      S.queue = r[1].sort(function (a, b) { return a.created - b.created; });
      var b = r[2] || {};
      S.account = b.account || null; S.teams = b.teams || []; S.services = b.services || [];
      S.categories = b.categories || [];
      S.cursor = r[3] === undefined ? null : r[3];
      S.lastSync = r[4] || null;
      S.sent = r[5] || [];
      // Set by the site's logout (app.js), until the next sync.
      S.signedOut = !!r[6];
    });
  }

  // ---- ids and times ---------------------------------------------------------------------
  function uuid() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function rfc3339(d) {
    var off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }
  function when(ms) {
    var d = new Date(ms);
    return pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function fold(s) {
    return (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }

  // ---- the network -----------------------------------------------------------------------
  function Failure(kind, message, status) { this.kind = kind; this.message = message; this.status = status; }
  function api(method, url, body) {
    var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = typeof body === "string" ? body : JSON.stringify(body); }
    url += (url.indexOf("?") < 0 ? "?" : "&") + "lang=" + LANG;
    return fetch(url, init).catch(function () { S.unreachable = true; throw new Failure("offline", t("fapp-offline")); })
      .then(function (r) {
        S.unreachable = false;
        if (r.status === 401) { S.needLogin = true; throw new Failure("login", t("fapp-login-again")); }
        // Only our API's JSON counts as an answer (not a gateway's page, nor a redirect).
        var json = (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (r.redirected || !json) throw new Failure("server", t("fapp-server-error", { status: r.status }), r.status);
        return r.json().then(function (j) { return { status: r.status, body: j }; },
          function () { throw new Failure("server", t("fapp-server-error", { status: r.status }), r.status); });
      });
  }
  function problem(res) {
    var e = res.body && res.body.error;
    return new Failure("server", (e && e.message) || t("fapp-server-error", { status: res.status }), res.status);
  }

  // The visits waiting, in batches of at most BATCH visits and MAX_BYTES of JSON (the
  // server's body limit is 1 MiB; notes can be long).
  var MAX_BYTES = 256 * 1024;
  function batches(list) {
    var out = [], cur = [], bytes = 0;
    list.forEach(function (q) {
      var n = JSON.stringify(q.body).length * 3;
      if (cur.length && (cur.length >= BATCH || bytes + n > MAX_BYTES)) { out.push(cur); cur = []; bytes = 0; }
      cur.push(q); bytes += n;
    });
    if (cur.length) out.push(cur);
    return out;
  }
  // Sends one batch; the server's answer per visit: accepted ones leave the phone, refused
  // ones stay with the reason. A batch too large for the server is sent in halves.
  function sendVisits(part) {
    function halves() {
      var half = Math.ceil(part.length / 2);
      return sendVisits(part.slice(0, half)).then(function () { return sendVisits(part.slice(half)); });
    }
    return api("POST", "/api/v1/visits", { visits: part.map(function (q) { return q.body; }) }).then(function (res) {
      if (res.status === 413 && part.length > 1) return halves();
      if (res.status !== 200 || !Array.isArray(res.body.results)) throw problem(res);
      var byId = new Map(part.map(function (q) { return [q.id, q]; }));
      return tx(["queue"], "readwrite", function (s) {
        res.body.results.forEach(function (r) {
          var q = byId.get(r.id);
          if (!q) return;
          if (r.status === "accepted") s.queue.delete(q.id);
          else if (r.status === "refused") s.queue.put(Object.assign({}, q, { state: "refused", error: r.error || {} }));
        });
      });
    }, function (e) {
      if (e.status === 413 && part.length > 1) return halves();
      throw e;
    });
  }
  function sendFeedback(q) {
    return api("POST", "/api/v1/feedback", q.body).then(function (res) {
      if ((res.status === 200 || res.status === 201) && typeof res.body.code === "string") {
        return tx(["queue", "kv"], "readwrite", function (s) {
          s.queue.delete(q.id);
          // Read and written in the one transaction: another tab's send is not overwritten.
          var r = s.kv.get("sent");
          r.onsuccess = function () {
            var sent = [{ code: res.body.code, at: Date.now(), key: res.body.citizen_key || "" }].concat(r.result || []);
            s.kv.put(sent.slice(0, 20), "sent");
          };
        });
      }
      if (res.status === 422 || res.status === 403 || res.status === 404) {
        var e = (res.body && res.body.error) || {};
        return tx(["queue"], "readwrite", function (s) { s.queue.put(Object.assign({}, q, { state: "refused", error: e })); });
      }
      throw problem(res);
    });
  }
  // Sends the queue: visits in batches, then feedback one by one, each part tried even when
  // another failed; the first failure is reported.
  function sendQueue() {
    var first = null;
    function keep(e) { if (!first) first = e; if (e.kind === "offline" || e.kind === "login") throw e; }
    var chain = Promise.resolve();
    batches(waiting().filter(function (q) { return q.kind === "visit"; })).forEach(function (part) {
      chain = chain.then(function () { return sendVisits(part).catch(keep); });
    });
    waiting().filter(function (q) { return q.kind === "feedback"; }).forEach(function (q) {
      chain = chain.then(function () { return sendFeedback(q).catch(keep); });
    });
    return chain.then(function () { if (first) throw first; });
  }

  // Downloads what changed since the last sync: the account, teams and catalogue whole, the
  // households changed, and the ids of all (the others leave the phone). A household the
  // phone lacks and was not sent (it came into the area unchanged) makes a whole sync.
  function pull(whole) {
    var since = whole ? null : S.cursor;
    var url = "/api/v1/field/sync" + (since === null ? "" : "?since=" + since);
    return api("GET", url).then(function (res) {
      if (res.status !== 200 || !Array.isArray(res.body.household_ids)) throw problem(res);
      var b = res.body;
      if (S.account && S.account.id !== b.account.id && since !== null) {
        // Another account: its area, read whole.
        S.account = b.account;
        return tx(["households"], "readwrite", function (s) { s.households.clear(); })
          .then(function () { S.households = new Map(); return pull(true); });
      }
      var sent = new Set(b.households.map(function (h) { return h.id; }));
      if (since !== null && b.household_ids.some(function (id) { return !S.households.has(id) && !sent.has(id); })) return pull(true);
      var keep = new Set(b.household_ids);
      return tx(["households", "kv"], "readwrite", function (s) {
        b.households.forEach(function (h) { s.households.put(h); });
        S.households.forEach(function (_, id) { if (!keep.has(id)) s.households.delete(id); });
        s.kv.put({ account: b.account, teams: b.teams, services: b.services, categories: b.categories }, "bundle");
        s.kv.put(b.cursor, "cursor");
        s.kv.put(Date.now(), "lastSync");
        s.kv.delete("signedOut");
      }).then(function () { S.needLogin = false; S.signedOut = false; });
    });
  }

  // One sync at a time, across the tabs of the app too (where the browser has locks).
  function exclusive(fn) {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("ngoso-field-sync", { ifAvailable: true }, function (lock) { return lock ? fn() : null; });
    }
    return fn();
  }
  function sync() {
    if (S.syncing) return Promise.resolve();
    S.syncing = true; S.error = null; refresh();
    // The account first (the phone may have been signed in again as someone else), then the
    // queue, then what the server made of it: statuses merged with other phones' visits.
    return exclusive(function () {
      return load().then(function () { return pull(); })
        .then(load)
        .then(function () { return waiting().length ? sendQueue().then(load).then(function () { return pull(); }) : null; });
    })
      .catch(function (e) { S.error = e instanceof Failure ? e : new Failure("server", String(e && e.message || e)); })
      .then(load)
      .then(function () { S.syncing = false; refresh(); }, function () { S.syncing = false; refresh(); });
  }

  // ---- recording -------------------------------------------------------------------------
  function save(entry) {
    return tx(["queue"], "readwrite", function (s) { s.queue.put(entry); }).then(load);
  }
  function discard(id) {
    return tx(["queue"], "readwrite", function (s) { s.queue.delete(id); }).then(load);
  }
  // After a form's save: back to the list, and a send if there is a connection; a save that
  // failed says so and leaves the form as it was.
  function saved(saving, button) {
    saving.then(function () {
      S.notice = t("fapp-saved");
      location.hash = "#/";
      if (navigator.onLine) sync();
    }, function (e) {
      button.disabled = false;
      S.error = new Failure("save", t("fapp-save-failed") + " " + (e && e.message || ""));
      refresh();
    });
  }

  // ---- views -----------------------------------------------------------------------------
  var root = document.getElementById("app");
  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") el.textContent = v;
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      (Array.isArray(c) ? c : [c]).forEach(function (x) {
        if (x === null || x === undefined || x === false) return;
        el.appendChild(typeof x === "string" ? document.createTextNode(x) : x);
      });
    }
    return el;
  }
  function statusById(id) {
    for (var i = 0; i < S.services.length; i++) {
      var st = S.services[i].statuses.find(function (x) { return x.id === id; });
      if (st) return st;
    }
    return null;
  }
  function statusByCode(service, code) { return service.statuses.find(function (x) { return x.code === code; }); }
  // A household's statuses as the server sent them, moved forward by the visits waiting.
  function merged(hh) {
    var m = new Map();
    (hh.statuses || []).forEach(function (s) {
      var st = statusById(s.status_id);
      m.set(s.service_id + ":" + s.resident_id, { status: st, pending: false });
    });
    S.queue.forEach(function (q) {
      if (q.kind !== "visit" || q.body.household_id !== hh.id || q.state !== "waiting") return;
      q.body.outcomes.forEach(function (o) {
        var sv = S.services.find(function (x) { return x.code === o.service; });
        var st = sv && statusByCode(sv, o.status);
        if (!st) return;
        var k = sv.id + ":" + (o.resident_id || 0), cur = m.get(k);
        if (!cur || !cur.status || st.rank > cur.status.rank) m.set(k, { status: st, pending: true });
      });
    });
    return m;
  }

  function top() {
    var n = waiting().length, refused = S.queue.filter(function (q) { return q.state === "refused" && mine(q); }).length;
    // The browser's word, unless the last request found no network.
    var online = navigator.onLine && !S.unreachable;
    return h("header", { class: "bar", id: "bar" },
      h("a", { class: "brand", href: "#/" }, t("fapp-title")),
      S.account ? h("span", { class: "account", id: "account" }, S.account.display_name) : null,
      h("span", { class: "net " + (online ? "on" : "off"), id: "net" }, online ? t("fapp-online") : t("fapp-offline-now")),
      h("a", { class: "queue-link" + (n ? " has" : ""), href: "#/queue", id: "queue-count" },
        t("fapp-waiting-count", { n: n }) + (refused ? " · " + t("fapp-refused-count", { n: refused }) : "")));
  }

  function banners() {
    var out = [];
    if (S.needLogin) {
      out.push(h("p", { class: "notice warn", id: "login-banner" }, t(S.signedOut ? "fapp-signed-out" : "fapp-session-expired") + " ",
        h("a", { href: "/login?next=/app/field/" }, t("fapp-login"))));
    }
    if (S.error && S.error.kind !== "login") out.push(h("p", { class: "notice error", role: "alert" }, S.error.message));
    if (S.notice) { out.push(h("p", { class: "notice ok", role: "status" }, S.notice)); S.notice = null; }
    return out;
  }

  function syncButton() {
    return h("button", { type: "button", id: "sync", disabled: S.syncing, onclick: function () { sync(); } },
      S.syncing ? t("fapp-syncing") : t("fapp-sync-now"));
  }

  function home() {
    var list = Array.from(S.households.values()).sort(function (a, b) { return a.code < b.code ? -1 : a.code > b.code ? 1 : 0; });
    var q = fold(S.search.trim());
    var shown = q ? list.filter(function (hh) { return fold(hh.code + " " + (hh.head_name || "") + " " + (hh.address || "")).indexOf(q) >= 0; }) : list;
    var pending = new Set(waiting().filter(function (x) { return x.kind === "visit"; }).map(function (x) { return x.body.household_id; }));
    var items = shown.slice(0, 100).map(function (hh) {
      return h("li", null, h("a", { href: "#/h/" + hh.id, "data-household": hh.code },
        h("span", { class: "who" }, h("b", null, hh.code), " ", hh.head_name || "", h("small", null, hh.address || "")),
        h("span", { class: "count" }, pending.has(hh.id) ? t("fapp-pending") : t("fapp-visits", { n: hh.visit_count }))));
    });
    var search = h("input", { type: "search", id: "search", value: S.search, "aria-label": t("fapp-search"), placeholder: t("fapp-search") });
    search.addEventListener("input", function () { S.search = search.value; render(); });
    return [
      h("div", { class: "actions" }, syncButton(), h("a", { class: "button secondary", href: "#/feedback", id: "new-feedback" }, t("fapp-new-feedback"))),
      h("p", { class: "muted", id: "last-sync" }, S.lastSync ? t("fapp-last-sync", { at: when(S.lastSync), n: S.households.size }) : t("fapp-never-synced")),
      S.households.size ? search : null,
      h("ul", { class: "walk", id: "walk" }, items),
      shown.length > 100 ? h("p", { class: "muted" }, t("fapp-more", { n: shown.length - 100 })) : null,
    ];
  }

  function select(id, label, options, value) {
    var s = h("select", { id: id, name: id });
    options.forEach(function (o) { s.appendChild(h("option", { value: o[0], selected: o[0] === value }, o[1])); });
    return h("label", { for: id }, label, s);
  }

  function householdView(id, entry) {
    var hh = S.households.get(id);
    var body = entry ? entry.body : null;
    if (!hh && !entry) return [h("p", { class: "notice warn" }, t("fapp-household-gone")), h("a", { href: "#/" }, t("fapp-back"))];
    hh = hh || { id: id, code: "#" + id, residents: [], statuses: [], address: "", head_name: "" };
    var m = merged(hh);
    var out = [h("p", null, h("a", { href: entry ? "#/queue" : "#/" }, "← " + t("fapp-back"))),
      h("h1", null, hh.code + (hh.head_name ? " · " + hh.head_name : "")), hh.address ? h("p", { class: "muted" }, hh.address) : null];
    var facts = h("ul", { class: "statuses" });
    S.services.forEach(function (sv) {
      var subjects = sv.subject === "household" ? [{ id: 0, name: "" }] : hh.residents.map(function (r) { return { id: r.id, name: r.full_name || "" }; });
      subjects.forEach(function (sub) {
        var cur = m.get(sv.id + ":" + sub.id);
        if (cur && cur.status) facts.appendChild(h("li", null, sv.name + (sub.name ? " — " + sub.name : "") + ": ", h("b", null, cur.status.name), cur.pending ? h("small", null, " " + t("fapp-pending")) : null));
      });
    });
    if (facts.childNodes.length) out.push(h("h2", null, t("fapp-statuses")), facts);
    if (!S.teams.length) { out.push(h("p", { class: "notice warn" }, t("fapp-no-team"))); return out; }

    var form = h("form", { class: "stack", id: "visit-form" });
    // The id is made once, with the form: a second tap on Save saves the same visit again.
    var vid = entry ? entry.id : uuid();
    var teamId = body ? body.team_id : S.teams[0].id;
    if (S.teams.length > 1) form.appendChild(select("team", t("fapp-team"), S.teams.map(function (x) { return [String(x.id), x.name]; }), String(teamId)));
    var result = body ? body.result : "met";
    var rs = h("fieldset", null, h("legend", null, t("fapp-result")));
    ["met", "not_home", "refused", "moved"].forEach(function (r) {
      rs.appendChild(h("label", { class: "check" }, h("input", { type: "radio", name: "result", value: r, checked: r === result }), t("result-" + r)));
    });
    form.appendChild(rs);
    var bs = h("fieldset", null, h("legend", null, t("fapp-barriers")));
    ["no_smartphone", "elderly_alone", "no_id_card", "no_internet", "disability", "language"].forEach(function (b) {
      bs.appendChild(h("label", { class: "check" }, h("input", { type: "checkbox", name: "barrier", value: b, checked: body && body.barriers.indexOf(b) >= 0 }), t("barrier-" + b)));
    });
    form.appendChild(bs);
    var chosen = new Map((body ? body.outcomes : []).map(function (o) { return [o.service + ":" + (o.resident_id || 0), o.status]; }));
    function outcomeSelect(sv, sub) {
      var cur = m.get(sv.id + ":" + sub.id), rank = cur && cur.status ? cur.status.rank : 0;
      var opts = [["", t("fapp-no-change")]].concat(sv.statuses.filter(function (x) { return x.rank > rank; }).map(function (x) { return [x.code, x.name]; }));
      if (opts.length === 1) return null;
      var sid = "o-" + sv.code + "-" + sub.id;
      var s = select(sid, sv.name, opts, chosen.get(sv.code + ":" + sub.id) || "");
      s.querySelector("select").setAttribute("data-service", sv.code);
      s.querySelector("select").setAttribute("data-resident", String(sub.id));
      return s;
    }
    var hs = h("fieldset", null, h("legend", null, t("fapp-household-services")));
    S.services.filter(function (sv) { return sv.subject === "household"; }).forEach(function (sv) { var x = outcomeSelect(sv, { id: 0 }); if (x) hs.appendChild(x); });
    if (hs.querySelector("select")) form.appendChild(hs);
    hh.residents.forEach(function (r) {
      var ps = h("fieldset", null, h("legend", null, (r.full_name || t("fapp-resident")) + (r.birth_year ? " (" + r.birth_year + ")" : "")));
      S.services.filter(function (sv) { return sv.subject === "person"; }).forEach(function (sv) { var x = outcomeSelect(sv, r); if (x) ps.appendChild(x); });
      if (ps.querySelector("select")) form.appendChild(ps);
    });
    form.appendChild(h("label", { for: "note" }, t("fapp-note"), h("textarea", { id: "note", name: "note", rows: "2", maxlength: "2000" }, body ? body.note : "")));
    form.appendChild(h("button", { type: "submit", id: "save-visit" }, t("fapp-save-visit")));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = form.querySelector("#save-visit");
      button.disabled = true;
      var tid = S.teams.length > 1 ? Number(form.querySelector("#team").value) : S.teams[0].id;
      var team = S.teams.find(function (x) { return x.id === tid; });
      var outcomes = [];
      form.querySelectorAll("select[data-service]").forEach(function (s) {
        if (!s.value) return;
        var o = { service: s.getAttribute("data-service"), status: s.value };
        var rid = Number(s.getAttribute("data-resident"));
        if (rid) o.resident_id = rid;
        outcomes.push(o);
      });
      var v = {
        id: vid, household_id: hh.id, team_id: tid, member_id: team && team.member_id || undefined,
        visited_at: body ? body.visited_at : rfc3339(new Date()),
        result: form.querySelector("input[name=result]:checked").value,
        barriers: Array.from(form.querySelectorAll("input[name=barrier]:checked")).map(function (x) { return x.value; }),
        note: form.querySelector("#note").value, outcomes: outcomes,
      };
      saved(save({ id: v.id, kind: "visit", user: S.account.id, created: entry ? entry.created : Date.now(), state: "waiting", label: hh.code, body: v }), button);
    });
    out.push(h("h2", null, t("fapp-new-visit")), form);
    return out;
  }

  function feedbackView(entry) {
    var b = entry ? entry.body : {};
    var form = h("form", { class: "stack", id: "feedback-form" });
    var fid = entry ? entry.id : uuid();
    var cats = S.categories.map(function (c) { return [c.code, c.name]; });
    if (!cats.length) return [h("p", { class: "notice warn" }, t("fapp-never-synced"))];
    form.appendChild(select("category", t("fapp-category"), cats, b.category || cats[0][0]));
    var extra = h("div", { id: "extra" });
    form.appendChild(extra);
    function questions() {
      extra.textContent = "";
      var c = S.categories.find(function (x) { return x.code === form.querySelector("#category").value; });
      (c ? c.fields : []).forEach(function (f) {
        var id = "f-" + f.code, val = (b.attributes && b.attributes[f.code]) || [];
        var input;
        if (f.datatype === "singlevaluelist" || f.datatype === "multivaluelist") {
          input = h("select", { id: id, "data-attr": f.code, multiple: f.datatype === "multivaluelist", required: f.required });
          if (f.datatype === "singlevaluelist") input.appendChild(h("option", { value: "" }, "—"));
          f.values.forEach(function (v) { input.appendChild(h("option", { value: v.key, selected: val.indexOf(v.key) >= 0 }, v.name)); });
        } else if (f.datatype === "text") {
          input = h("textarea", { id: id, "data-attr": f.code, required: f.required }, val[0] || "");
        } else {
          input = h("input", { id: id, "data-attr": f.code, required: f.required, value: val[0] || "", type: f.datatype === "number" ? "number" : f.datatype === "datetime" ? "datetime-local" : "text" });
        }
        extra.appendChild(h("label", { for: id }, f.name + (f.required ? " *" : ""), input));
      });
    }
    form.querySelector("#category").addEventListener("change", questions);
    questions();
    form.appendChild(h("label", { for: "description" }, t("fapp-description") + " *", h("textarea", { id: "description", rows: "4", required: true, maxlength: "5000" }, b.description || "")));
    form.appendChild(h("label", { for: "address" }, t("fapp-address"), h("input", { id: "address", value: b.address || "" })));
    form.appendChild(h("label", { for: "contact_name" }, t("fapp-contact-name"), h("input", { id: "contact_name", value: b.contact_name || "", autocomplete: "off" })));
    form.appendChild(h("label", { for: "contact_phone" }, t("fapp-contact-phone"), h("input", { id: "contact_phone", type: "tel", value: b.contact_phone || "", autocomplete: "off" })));
    form.appendChild(h("label", { class: "check" }, h("input", { type: "checkbox", id: "consent", checked: !!b.consent }), t("fapp-consent")));
    form.appendChild(h("button", { type: "submit", id: "save-feedback" }, t("fapp-save-feedback")));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = form.querySelector("#save-feedback");
      button.disabled = true;
      var team = S.teams[0];
      var attrs = {};
      form.querySelectorAll("[data-attr]").forEach(function (x) {
        var vals = x.multiple ? Array.from(x.selectedOptions).map(function (o) { return o.value; }) : [x.value];
        vals = vals.filter(function (v) { return v !== ""; });
        if (vals.length) attrs[x.getAttribute("data-attr")] = vals;
      });
      var id = fid;
      var body = {
        client_id: id, category: form.querySelector("#category").value, description: form.querySelector("#description").value,
        unit: b.unit || (team ? team.unit_code : ""), address: form.querySelector("#address").value,
        contact_name: form.querySelector("#contact_name").value, contact_phone: form.querySelector("#contact_phone").value,
        consent: form.querySelector("#consent").checked, channel: "team", attributes: attrs,
      };
      var label = body.description.slice(0, 40);
      saved(save({ id: id, kind: "feedback", user: S.account.id, created: entry ? entry.created : Date.now(), state: "waiting", label: label, body: body }), button);
    });
    return [h("p", null, h("a", { href: entry ? "#/queue" : "#/" }, "← " + t("fapp-back"))), h("h1", null, t("fapp-new-feedback")), form];
  }

  function queueView() {
    var items = S.queue.map(function (q) {
      var other = !mine(q);
      var li = h("li", { class: q.state, "data-id": q.id },
        h("b", null, q.kind === "visit" ? t("fapp-kind-visit") : t("fapp-kind-feedback")), " ", q.label || "",
        h("small", null, " " + when(q.created)),
        other ? h("p", { class: "muted" }, t("fapp-other-account")) : null,
        q.state === "refused" ? h("p", { class: "reason" }, t("fapp-refused-because") + " " + ((q.error && q.error.message) || (q.error && q.error.code) || "")) : null);
      if (q.state === "refused" && !other) {
        li.appendChild(h("div", { class: "actions" },
          h("a", { class: "button secondary", href: "#/q/" + q.id }, t("fapp-fix")),
          h("button", { type: "button", class: "secondary", onclick: function () { if (confirm(t("fapp-discard-confirm"))) discard(q.id).then(render); } }, t("fapp-discard"))));
      }
      return li;
    });
    var sent = S.sent.map(function (s) { return h("li", null, h("b", null, s.code), " ", h("small", null, when(s.at)), s.key ? h("span", null, " · " + t("fapp-citizen-key") + " " + s.key) : null); });
    return [
      h("h1", null, t("fapp-queue-title")),
      h("p", { class: "muted" }, t("fapp-queue-help")),
      h("div", { class: "actions" }, syncButton()),
      items.length ? h("ul", { class: "queue", id: "queue" }, items) : h("p", { id: "queue-empty" }, t("fapp-queue-empty")),
      sent.length ? h("h2", null, t("fapp-sent-title")) : null,
      sent.length ? h("ul", { class: "sent" }, sent) : null,
    ];
  }

  function route() { return location.hash.replace(/^#\/?/, "").split("/"); }
  // Whether the view is a form a member may be filling in: a sync does not redraw it.
  function formOpen() { var r = route()[0]; return r === "h" || r === "feedback" || r === "q"; }
  function view() {
    var r = route();
    if (r[0] === "h" && r[1]) return householdView(Number(r[1]), null);
    if (r[0] === "feedback") return feedbackView(null);
    if (r[0] === "queue") return queueView();
    if (r[0] === "q" && r[1]) {
      var e = S.queue.find(function (q) { return q.id === r[1]; });
      return !e ? queueView() : e.kind === "visit" ? householdView(e.body.household_id, e) : feedbackView(e);
    }
    return home();
  }
  function replace(id, el) {
    var old = document.getElementById(id);
    if (old) old.replaceWith(el); else return false;
    return true;
  }
  // Redraws everything.
  function render() {
    var active = document.activeElement && document.activeElement.id;
    root.textContent = "";
    root.appendChild(top());
    root.appendChild(h("main", null, h("div", { id: "banners" }, banners()), h("div", { id: "view" }, view())));
    if (active === "search") { var s = document.getElementById("search"); if (s) { s.focus(); s.setSelectionRange(s.value.length, s.value.length); } }
  }
  // Redraws the bar and the notices, and the view unless it is a form.
  function refresh() {
    if (!document.getElementById("view") || !formOpen()) return render();
    replace("bar", top());
    replace("banners", h("div", { id: "banners" }, banners()));
  }

  window.addEventListener("hashchange", function () { window.scrollTo(0, 0); render(); });
  window.addEventListener("online", function () { refresh(); sync(); });
  window.addEventListener("offline", refresh);
  // Every 30 s while something waits, and every 5 minutes anyway (what others recorded).
  setInterval(function () {
    if (navigator.onLine && !S.syncing && (waiting().length || Date.now() - (S.lastSync || 0) > 300000)) sync();
  }, 30000);
  // Ask the browser not to clear the queue under storage pressure.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/field/sw.js", { scope: "/app/field/" }).catch(function () {});
  load().then(function () {
    render();
    document.documentElement.setAttribute("data-ready", "1");
    if (navigator.onLine) return sync();
  }).catch(function (e) { root.textContent = String(e); });
  // For the browser tests and the curious: the state, read only.
  window.ngosoField = { state: function () { return S; }, sync: sync };
})();
