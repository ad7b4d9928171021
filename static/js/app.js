// Behaviour every page shares, kept out of the markup: the Content-Security-Policy to come allows no
// inline script or event handler.
(function () {
  "use strict";

  // A select marked data-autosubmit sends its form as soon as it changes (the language menu).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.requestSubmit();
    }
  });

  // Print buttons (letters, notices): <button data-print>.
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-print]") : null;
    if (el) {
      window.print();
    }
  });

  // A checkbox marked data-select-all="NAME" ticks or clears every checkbox of that name in its form.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("input[data-select-all]")) {
      var scope = el.form || document;
      scope.querySelectorAll('input[type=checkbox][name="' + el.getAttribute("data-select-all") + '"]').forEach(function (box) {
        box.checked = el.checked;
      });
    }
  });

  // A form marked data-disable-on-submit disables its buttons once sent (no second run by a double click).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-disable-on-submit]")) {
      form.querySelectorAll("button").forEach(function (button) {
        button.disabled = true;
      });
    }
  });

  // A list's filter select sends the filter bar at once (the search box waits for its button).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("form[data-testid=list-filters] select") && el.form) {
      el.form.requestSubmit();
    }
  });

  // Progress bars: their width comes from data-percent (set through the CSSOM, which the CSP allows,
  // not a style attribute), on load and whenever htmx swaps a new bar in.
  function widths(root) {
    (root || document).querySelectorAll("[data-percent]").forEach(function (bar) {
      bar.style.width = bar.getAttribute("data-percent") + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    widths(document);
  });
  document.addEventListener("htmx:afterSettle", function () {
    widths(document);
  });

  // On a wide screen the side menu folds to its icons and back; this browser remembers the choice.
  var KEY = "app-menu-folded";
  function fold(folded) {
    document.body.classList.toggle("app-menu-folded", folded);
    document.querySelectorAll("[data-menu-fold]").forEach(function (button) {
      button.setAttribute("aria-expanded", String(!folded));
    });
  }
  function remembered() {
    try {
      return window.localStorage.getItem(KEY) === "1";
    } catch (e) {
      return false; // storage refused (private mode): the menu stays open
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    fold(remembered());
    document.querySelectorAll("[data-menu-fold]").forEach(function (button) {
      button.addEventListener("click", function () {
        var folded = !document.body.classList.contains("app-menu-folded");
        fold(folded);
        try {
          window.localStorage.setItem(KEY, folded ? "1" : "0");
        } catch (e) {
          /* not remembered, still folded for this page */
        }
      });
    });
  });
})();

// A table that scrolls sideways inside its card (.table-responsive) must be reachable by keyboard, or
// someone without a mouse cannot read its hidden columns (axe: scrollable-region-focusable). One rule
// here rather than an attribute copied into every template.
(function () {
  function focusable(root) {
    root.querySelectorAll(".table-responsive:not([tabindex])").forEach(function (region) {
      region.tabIndex = 0;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    focusable(document);
  });
  document.addEventListener("htmx:load", function (event) {
    focusable(event.target);
  });
})();
