// The mask drawing canvas of the generation form: paint over the chosen picture (white =
// repaint), then the mask goes with the form as a PNG data URI in the hidden `mask_data` field.
(function () {
  "use strict";
  const input = document.querySelector("[data-mask-source]");
  const editor = document.getElementById("mask-editor");
  const hidden = document.querySelector("input[name=mask_data]");
  if (!input || !editor || !hidden) return;
  const preview = editor.querySelector("img");
  const canvas = editor.querySelector("canvas");
  const tools = document.getElementById("mask-tools");
  const brush = document.getElementById("mask-brush");
  const context = canvas.getContext("2d");
  let drawing = false;
  let painted = false;

  function reset() {
    context.clearRect(0, 0, canvas.width, canvas.height);
    painted = false;
    hidden.value = "";
  }

  input.addEventListener("change", function () {
    const file = input.files && input.files[0];
    if (!file) { editor.hidden = true; tools.hidden = true; reset(); return; }
    const url = URL.createObjectURL(file);
    preview.onload = function () {
      canvas.width = preview.naturalWidth;
      canvas.height = preview.naturalHeight;
      reset();
      editor.hidden = false;
      tools.hidden = false;
    };
    preview.src = url;
  });

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return {
      x: (event.clientX - box.left) * canvas.width / box.width,
      y: (event.clientY - box.top) * canvas.height / box.height,
    };
  }

  function paint(event) {
    if (!drawing) return;
    const { x, y } = point(event);
    const radius = Number(brush.value) * canvas.width / 400;
    context.fillStyle = "#ffffff";
    context.beginPath();
    context.arc(x, y, radius, 0, Math.PI * 2);
    context.fill();
    painted = true;
  }

  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    paint(event);
  });
  canvas.addEventListener("pointermove", paint);
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
    canvas.addEventListener(name, function () { drawing = false; });
  });
  document.getElementById("mask-clear").addEventListener("click", reset);

  // On submit: black everywhere, white where painted, as a PNG of the picture's size.
  input.form.addEventListener("submit", function () {
    if (!painted) { hidden.value = ""; return; }
    const out = document.createElement("canvas");
    out.width = canvas.width;
    out.height = canvas.height;
    const outContext = out.getContext("2d");
    outContext.fillStyle = "#000000";
    outContext.fillRect(0, 0, out.width, out.height);
    outContext.drawImage(canvas, 0, 0);
    hidden.value = out.toDataURL("image/png");
  });
})();
