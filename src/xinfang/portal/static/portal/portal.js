/* Citizen portal: small progressive enhancements; every page works without this file.
   - the category guidance shows the paragraph for the chosen category;
   - a form marked data-once disables its submit button after the first submit (the server's
     one-time token is what really prevents a second case). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    var guides = document.querySelectorAll(".p-guide[data-category]");
    var radios = document.querySelectorAll("input[name=category]");
    function showGuide() {
      var chosen = document.querySelector("input[name=category]:checked");
      guides.forEach(function (g) {
        g.classList.toggle("is-current", !!chosen && g.getAttribute("data-category") === chosen.value);
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", showGuide); });
    showGuide();

    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) {
          // Disable after this event, so the button's own value is still sent.
          setTimeout(function () { b.disabled = true; }, 0);
        });
      });
    });
  });
})();
