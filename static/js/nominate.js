// 特殊类别: ticking a special category selects the tier the district funds it at, where the teacher
// sees it before submitting (issue 19: the rule is applied at nomination, never silently at approval).
// The teacher may still choose another tier; the reviewers then see both.
(function () {
  "use strict";
  function wire(form) {
    var special = (form.dataset.specialCodes || "").split(",").filter(Boolean);
    var tier = form.dataset.specialTier;
    var select = form.querySelector("select[name=proposed_tier]");
    var note = form.querySelector("[data-testid=tier-rule]");
    if (!select || !tier) return;
    function apply() {
      var boxes = form.querySelectorAll("input[name=categories]:checked");
      var hit = Array.prototype.some.call(boxes, function (b) { return special.indexOf(b.value) !== -1; });
      if (hit) select.value = tier;
      if (note) note.hidden = !hit;
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "categories") apply();
    });
    apply();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-special-tier]").forEach(wire);
  });
})();
