// The picture viewer: ← and → step to the previous and next picture, Esc goes back to the grid,
// and a horizontal swipe on the picture steps too (pointer events: touch and pen). Everything
// here follows the page's own links (rel=prev / rel=next / back), which work without it.
(function () {
  "use strict";
  const stage = document.querySelector("[data-viewer-stage]");
  if (!stage) return;

  const SWIPE_MIN_PX = 50;

  function follow(name) {
    const link = document.querySelector('a[data-viewer="' + name + '"]');
    if (!link) return false;
    window.location.assign(link.href);
    return true;
  }

  function typingIn(target) {
    return Boolean(
      target && target.closest && target.closest("input, textarea, select, [contenteditable]")
    );
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    if (typingIn(event.target)) return;
    // Esc first closes an open menu (the account menu is a <details>).
    const openMenu = document.querySelector("details[open]");
    const names = { ArrowLeft: "previous", ArrowRight: "next", Escape: "back" };
    const name = names[event.key];
    if (!name || (name === "back" && openMenu)) return;
    if (follow(name)) event.preventDefault();
  });

  let start = null;
  stage.addEventListener("pointerdown", function (event) {
    if (event.pointerType === "mouse" || !event.isPrimary) return;
    start = { x: event.clientX, y: event.clientY, id: event.pointerId };
  });
  stage.addEventListener("pointerup", function (event) {
    if (!start || event.pointerId !== start.id) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start = null;
    // Mostly sideways and far enough: a swipe, not a scroll or a tap.
    if (Math.abs(dx) < SWIPE_MIN_PX || Math.abs(dx) < Math.abs(dy) * 1.5) return;
    follow(dx < 0 ? "next" : "previous");
  });
  stage.addEventListener("pointercancel", function () {
    start = null;
  });
})();
