// The consent selfie with the camera: progressive enhancement of the file input, which works
// alone (its capture="user" opens the front camera on phones). Where the browser has a camera
// API, "Use the camera" shows a preview and "Take the selfie" puts the picture in the input.
(function () {
  "use strict";

  function enhance(form) {
    var input = form.querySelector('input[type="file"][name="selfie"]');
    var start = form.querySelector("[data-selfie-start]");
    var camera = form.querySelector("[data-selfie-camera]");
    var video = form.querySelector("[data-selfie-video]");
    var canvas = form.querySelector("[data-selfie-canvas]");
    var preview = form.querySelector("[data-selfie-preview]");
    var capture = form.querySelector("[data-selfie-capture]");
    var status = form.querySelector("[data-selfie-status]");
    var stream = null;
    if (!input || !start || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return; // the file input does it all
    }
    if (typeof DataTransfer === "undefined") {
      return; // a taken picture could not be put in the input
    }
    start.hidden = false;

    function stop() {
      if (stream) {
        stream.getTracks().forEach(function (track) { track.stop(); });
        stream = null;
      }
    }

    start.addEventListener("click", function () {
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: "user", width: { ideal: 1280 } }, audio: false })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          camera.hidden = false;
          preview.hidden = true;
          video.hidden = false;
          capture.hidden = false;
          start.hidden = true;
          status.textContent = "Look at the camera, then take the selfie.";
        })
        .catch(function () {
          status.textContent =
            "The camera could not be used. Choose a photo or take one with the button above.";
        });
    });

    capture.addEventListener("click", function () {
      if (!stream || !video.videoWidth) {
        return;
      }
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob(
        function (blob) {
          var transfer = new DataTransfer();
          transfer.items.add(new File([blob], "selfie.jpg", { type: "image/jpeg" }));
          input.files = transfer.files;
          preview.src = URL.createObjectURL(blob);
          preview.hidden = false;
          video.hidden = true;
          capture.hidden = true; // the camera is off: "Take it again" turns it back on
          stop();
          start.hidden = false;
          start.textContent = "Take it again";
          status.textContent = "Selfie taken. Save it, or take it again.";
        },
        "image/jpeg",
        0.92
      );
    });

    window.addEventListener("pagehide", stop);
  }

  document.querySelectorAll("[data-selfie-form]").forEach(enhance);
})();
