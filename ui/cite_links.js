() => {
  // One citation is open at a time (the Citation picker's value, its card outlined, its article in the article view).
  // A marker [n] of any answer and a click on a citation card both pick it: the card's group is unfolded, the card
  // scrolled into view inside the panel and outlined, and "<turn>:<n>" goes to the hidden #card-pick box, whose
  // change sets the picker and opens the article (ids: a<turn>-cite-<n>, see ui/render.py; a counter makes a second
  // click on the same citation count too).
  const CARD = /^a(\d+)-cite-(\d+)$/;
  let clicks = 0;
  const pick = (card) => {
    const m = CARD.exec(card.id);
    if (!m) return;
    document.querySelectorAll(".src-card.src-picked").forEach((c) => c.classList.remove("src-picked"));
    card.classList.add("src-picked");
    const box = document.querySelector("#card-pick textarea, #card-pick input");
    if (!box) return;
    box.value = `${m[1]}:${m[2]}#${++clicks}`;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  };
  document.addEventListener("click", (ev) => {
    const link = ev.target instanceof Element ? ev.target.closest("a[href^='#a']") : null;
    if (!link) return;
    const id = decodeURIComponent(link.getAttribute("href").slice(1));
    if (!CARD.test(id)) return;
    ev.preventDefault();
    ev.stopPropagation();
    const card = document.getElementById(id);
    if (!card) return;
    const group = card.closest("details");
    if (group) group.open = true;
    pick(card);
    card.scrollIntoView({ block: "nearest", inline: "nearest" });
  }, true);
  document.addEventListener("click", (ev) => {
    const card = ev.target instanceof Element ? ev.target.closest("#sources-panel .src-card[id]") : null;
    if (!card || ev.target.closest("a, summary, button")) return;
    pick(card);
  });
}
