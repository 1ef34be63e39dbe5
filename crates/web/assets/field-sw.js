// ngoso field app's service worker (VERSION, KEPT and VERSION_HEADER are written above by the
// server): keeps the page and what it loads so that the app opens with no connection. The
// page is asked of the network first, for a few seconds, and kept only when it is this
// worker's version (whose assets this cache holds: a newer page waits for its own worker);
// the content-hashed assets come from the cache; the API always goes to the network, the app
// handles its failures.
var CACHE = "ngoso-field-" + VERSION;
var PAGE = "/app/field/";

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(KEPT); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("ngoso-field-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// The network's answer within `ms`, or a failure.
function soon(request, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    fetch(request).then(function (r) { clearTimeout(timer); resolve(r); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

self.addEventListener("fetch", function (e) {
  var url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (e.request.mode === "navigate" && url.pathname === PAGE) {
    e.respondWith(soon(e.request, 8000).then(function (res) {
      if (!res.ok || res.redirected) throw new Error("status " + res.status);
      if (res.headers.get(VERSION_HEADER) === VERSION) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { return c.put(PAGE, copy); });
      }
      return res;
    }).catch(function () {
      return caches.match(PAGE).then(function (hit) { return hit || fetch(e.request); });
    }));
    return;
  }
  if (KEPT.indexOf(url.pathname) >= 0) {
    e.respondWith(caches.match(url.pathname).then(function (hit) { return hit || fetch(e.request); }));
  }
});
