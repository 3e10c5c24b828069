// Small helpers of the gallery pages: steps follow the chosen model on the generation form, and
// the bulk bar counts the selected pictures.
(function () {
  "use strict";
  const model = document.querySelector("select[name=lora_model]");
  const flux = document.querySelector("select[name=model]");
  const steps = document.querySelector("input[name=num_inference_steps]");
  function fitSteps() {
    if (!steps) return;
    const fast = (model && model.value === "") || (flux && flux.value === "schnell");
    if (fast && Number(steps.value) > 4) steps.value = 4;
    if (!fast && Number(steps.value) <= 4) steps.value = 28;
  }
  if (model) model.addEventListener("change", fitSteps);
  if (flux) flux.addEventListener("change", fitSteps);

  document.addEventListener("change", function (event) {
    if (!event.target.matches("input[name=image_ids]")) return;
    const count = document.querySelectorAll("input[name=image_ids]:checked").length;
    const label = document.getElementById("selected-count");
    if (label) label.textContent = count ? count + " selected" : "";
  });
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("click", function () {
      const boxes = document.querySelectorAll("input[name=image_ids]");
      const check = Array.from(boxes).some(function (box) { return !box.checked; });
      boxes.forEach(function (box) { box.checked = check; });
      const label = document.getElementById("selected-count");
      if (label) label.textContent = check ? boxes.length + " selected" : "";
    });
  }
})();
