// "Copy link" next to a share link: the clipboard API where the page may use it, else the text
// is selected so that Ctrl+C / the phone's "Copy" does it. Without JavaScript the read-only box
// is still there to select, and the button stays hidden.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.hidden = false;
  });

  function say(button, text) {
    const status = button.parentElement.querySelector(".copy-status");
    if (status) status.textContent = text;
  }

  function selectText(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length); // iOS Safari ignores select() alone
  }

  function fallback(button, field) {
    selectText(field);
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    say(button, copied ? "Copied." : "Selected: press Ctrl+C (or Copy) to copy it.");
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const field = document.getElementById(button.dataset.copyTarget);
    if (!field) return;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { say(button, "Copied."); },
        function () { fallback(button, field); }
      );
    } else {
      fallback(button, field);
    }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-copy-source]")) {
      event.target.select();
    }
  });
})();
