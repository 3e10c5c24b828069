// Every page: on a phone, the "Menu" button in the header shows and hides the main links.
// The button only shows when this script runs (base.html marks <html class="js">).
(function () {
  "use strict";
  function setUp() {
    var header = document.querySelector(".site-header");
    var toggle = header && header.querySelector(".nav-toggle");
    if (!toggle) return;
    function setOpen(open) {
      header.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("nav-open")) {
        setOpen(false);
        toggle.focus();
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
