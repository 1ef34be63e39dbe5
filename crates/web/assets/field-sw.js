// ngoso field app's service worker (VERSION and KEPT are written above by the server): keeps
// the page and what it loads so that the app opens with no connection. The page is asked of
// the network first (a new version is taken as soon as there is one); the content-hashed
// assets come from the cache; the API always goes to the network, the app handles failure.
var CACHE = "ngoso-field-" + VERSION;

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(KEPT); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("ngoso-field-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (e) {
  var url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (e.request.mode === "navigate" && url.pathname === "/app/field/") {
    e.respondWith(fetch(e.request).then(function (res) {
      if (res.ok && !res.redirected) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { return c.put("/app/field/", copy); });
      }
      return res;
    }).catch(function () {
      return caches.match("/app/field/");
    }));
    return;
  }
  if (KEPT.indexOf(url.pathname) >= 0) {
    e.respondWith(caches.match(url.pathname).then(function (hit) { return hit || fetch(e.request); }));
  }
});
