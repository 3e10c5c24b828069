// The review queue's keyboard and flow. j and k move between the cards, a approves the current
// card, r rejects it with the reason chosen on it, x selects it for the bulk bar (the page shows
// this legend). A decision goes through htmx: the card turns into its outcome and the next card
// becomes the current one. Without this script the forms still work, one page load each.
(function () {
  "use strict";
  const list = document.getElementById("review-list");
  if (!list) return;
  const CARD = "[data-review-card]";
  let current = null;
  let nextAfterDecision = null;

  function openCards() {
    return Array.from(list.querySelectorAll(CARD + ":not([data-decided])"));
  }

  function setCurrent(card, focus) {
    if (current) current.classList.remove("is-current");
    current = card || null;
    if (!current) return;
    current.classList.add("is-current");
    if (focus) {
      current.focus({ preventScroll: true });
      current.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }

  function move(step) {
    const cards = openCards();
    if (!cards.length) return;
    const index = cards.indexOf(current);
    const target = index === -1 ? cards[0] : cards[Math.min(cards.length - 1, Math.max(0, index + step))];
    setCurrent(target, true);
  }

  function currentCard() {
    if (!current || !current.isConnected || current.hasAttribute("data-decided")) {
      setCurrent(openCards()[0], true);
    }
    return current;
  }

  function press(selector) {
    const card = currentCard();
    const button = card && card.querySelector(selector);
    if (button) button.click();
  }

  // The bulk bar shows its reason and buttons once a picture is selected.
  const bulk = document.getElementById("review-bulk");
  function syncBulk() {
    if (bulk) bulk.classList.toggle("has-selection", !!list.querySelector("input[name=image_ids]:checked"));
  }
  if (bulk) {
    bulk.classList.add("is-enhanced");
    document.addEventListener("change", function (event) {
      if (event.target.matches("input[name=image_ids]")) syncBulk();
    });
    const all = document.getElementById("select-all");
    if (all) all.addEventListener("click", function () { setTimeout(syncBulk); });
  }

  function toggleSelected() {
    const card = currentCard();
    const box = card && card.querySelector("input[name=image_ids]");
    if (!box) return;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));  // the bulk bar counts it
  }

  const typing = "input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]";
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest && event.target.closest(typing)) return;
    const actions = {
      j: function () { move(1); },
      k: function () { move(-1); },
      a: function () { press("[data-review-approve]"); },
      r: function () { press("[data-review-reject]"); },
      x: toggleSelected,
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // Working inside a card (a click, a tab into its fields) makes it the current one.
  list.addEventListener("focusin", function (event) {
    const card = event.target.closest(CARD);
    if (card && card !== current && !card.hasAttribute("data-decided")) setCurrent(card, false);
  });
  list.addEventListener("click", function (event) {
    const card = event.target.closest(CARD);
    if (card && card !== current && !card.hasAttribute("data-decided")) setCurrent(card, false);
  });

  // Before a decision is sent, remember which card comes next; once the card is replaced by
  // its outcome, that one becomes current. A refused decision comes back as the card itself.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const card = event.detail.elt.closest && event.detail.elt.closest(CARD);
    if (!card) return;
    const cards = openCards();
    const index = cards.indexOf(card);
    nextAfterDecision = cards[index + 1] || cards[index - 1] || null;
  });
  document.addEventListener("htmx:load", function (event) {
    const card = event.target;
    if (!card.matches || !card.matches(CARD)) return;
    syncBulk();
    if (!card.hasAttribute("data-decided")) {
      setCurrent(card, true);
      return;
    }
    const remaining = document.querySelector("[data-review-remaining]");
    if (remaining) remaining.textContent = Math.max(0, Number(remaining.textContent) - 1);
    const next = nextAfterDecision && nextAfterDecision.isConnected ? nextAfterDecision : openCards()[0];
    nextAfterDecision = null;
    if (next) {
      setCurrent(next, true);
    } else {
      setCurrent(null);
      const done = document.getElementById("review-done");
      if (done) done.hidden = false;
    }
  });

  syncBulk();
  setCurrent(openCards()[0], false);
})();
