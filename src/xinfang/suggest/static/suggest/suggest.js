/* Suggestion panel: an "采用" button copies the suggested value into the registration form field.
   The clerk still decides: nothing is submitted, the field is only filled. */
(function () {
  "use strict";
  function setField(name, value) {
    var el = document.getElementById("id_" + name);
    if (!el || value === undefined || value === "") { return false; }
    el.value = value;
    el.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }
  document.addEventListener("click", function (event) {
    var btn = event.target.closest("[data-suggest-fill]");
    if (!btn) { return; }
    event.preventDefault();
    var filled = setField(btn.getAttribute("data-suggest-fill"), btn.getAttribute("data-suggest-value"));
    var kind = btn.getAttribute("data-suggest-kind");
    if (kind) { setField("route_kind", kind); }
    if (filled) { btn.classList.add("suggest-done"); }
  });
})();
