/* Registration panel: "填为关联原事项" copies a candidate's number into the form's 关联原事项编号
   and ticks 同一事实和理由, so the workflow applies Art.19/36 when the case is routed or accepted. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dedup-relate]");
    if (!button) return;
    var number = document.getElementById("id_related_number");
    var same = document.getElementById("id_same_facts");
    if (number) { number.value = button.getAttribute("data-dedup-relate"); number.dispatchEvent(new Event("change", { bubbles: true })); }
    if (same) same.checked = true;
    if (number) number.focus();
  });
})();
