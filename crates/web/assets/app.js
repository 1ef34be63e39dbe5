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
})();
