// The generate page: Width and Height matter only with the custom size. Without this script
// they show with a hint; with it they hide (and are disabled, so not sent) for any other shape.
// The server checks the combination either way.
(function () {
  "use strict";
  function setUp() {
    var ratio = document.querySelector("#generate-form select[name=aspect_ratio]");
    var boxes = document.querySelectorAll("#generate-form [data-custom-size]");
    if (!ratio || !boxes.length) return;
    function update() {
      var custom = ratio.value === "custom";
      boxes.forEach(function (box) {
        box.hidden = !custom;
        box.querySelectorAll("input").forEach(function (input) { input.disabled = !custom; });
      });
    }
    ratio.addEventListener("change", update);
    update();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
