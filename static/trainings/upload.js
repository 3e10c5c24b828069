// Drag and drop, many files at once, with upload progress. Without JavaScript the form still posts.
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const zone = form.querySelector("[data-dropzone]");
  const input = form.querySelector("#upload-files");
  const bar = form.querySelector("[data-upload-progress]");
  const status = form.querySelector("[data-upload-status]");

  ["dragenter", "dragover"].forEach((name) =>
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("is-over"); }));
  ["dragleave", "drop"].forEach((name) =>
    zone.addEventListener(name, () => zone.classList.remove("is-over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    input.files = event.dataTransfer.files;
    status.textContent = `${input.files.length} file(s) ready to upload.`;
  });
  input.addEventListener("change", () => {
    status.textContent = `${input.files.length} file(s) ready to upload.`;
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.upload.addEventListener("progress", (progress) => {
      if (!progress.lengthComputable) return;
      const percent = Math.round((progress.loaded / progress.total) * 100);
      bar.hidden = false;
      bar.firstElementChild.style.width = `${percent}%`;
      status.textContent = `Uploading… ${percent}%`;
    });
    request.addEventListener("load", () => {
      let next = window.location.href;
      try { next = JSON.parse(request.responseText).redirect || next; } catch (error) { /* a page */ }
      window.location = next;
    });
    request.addEventListener("error", () => { status.textContent = "The upload failed. Check your connection and try again."; });
    form.querySelector("button[type=submit]").disabled = true;
    request.send(new FormData(form));
  });
})();
