// ngoso: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Ask before a form marked data-confirm is sent.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  // Filter a long list as one types: <input data-filter="#list"> over <li data-key="…">.
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "d").toLowerCase();
  }
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var list = document.querySelector(input.getAttribute("data-filter"));
    if (!list) return;
    input.hidden = false;
    input.addEventListener("input", function () {
      var q = fold(input.value.trim());
      list.querySelectorAll("li[data-key]").forEach(function (li) {
        li.hidden = q !== "" && li.getAttribute("data-key").indexOf(q) < 0;
      });
    });
  });
  // Show only the extra fields of the chosen feedback category.
  document.querySelectorAll("select[data-fields]").forEach(function (sel) {
    function sync() {
      document.querySelectorAll("fieldset[data-category]").forEach(function (fs) {
        var on = fs.getAttribute("data-category") === sel.value;
        fs.hidden = !on;
        fs.disabled = !on;
      });
    }
    sel.addEventListener("change", sync);
    sync();
  });
  // Signing out of a phone others may pick up: the field app's copy of the area (households
  // with their heads' names and addresses, the account, the tracking codes of feedback sent)
  // leaves the phone with the session. Records not yet sent stay, to be sent when their
  // author signs in again: nothing recorded is lost. The app, opened next, says the member
  // logged out. The app's database is opened at whatever version it has; where the app was
  // never opened, nothing is created.
  function forgetArea() {
    if (!window.indexedDB) return Promise.resolve();
    return new Promise(function (done) {
      var r = window.indexedDB.open("ngoso-field");
      r.onupgradeneeded = function () { r.transaction.abort(); };
      r.onerror = function () { done(); };
      r.onsuccess = function () {
        var d = r.result, names = ["households", "kv"].filter(function (n) { return d.objectStoreNames.contains(n); });
        if (!names.length) { d.close(); return done(); }
        var x = d.transaction(names, "readwrite");
        names.forEach(function (n) { x.objectStore(n).clear(); });
        if (names.indexOf("kv") >= 0) x.objectStore("kv").put(Date.now(), "signedOut");
        x.oncomplete = x.onerror = x.onabort = function () { d.close(); done(); };
      };
    });
  }
  // The logout goes ahead whatever the store does: refused (a browser that gives pages no
  // IndexedDB throws on opening it) or silent for two seconds.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || form.getAttribute("action") !== "/logout" || form.hasAttribute("data-forgotten")) return;
    e.preventDefault();
    var go = function () {
      if (form.hasAttribute("data-forgotten")) return;
      form.setAttribute("data-forgotten", "");
      form.submit();
    };
    setTimeout(go, 2000);
    forgetArea().then(go, go);
  });
})();
