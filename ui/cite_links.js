() => {
  // A marker [n] of any answer opens that answer's own card in the sources panel: the card's group is unfolded,
  // the card scrolled into view inside the panel and outlined (ids: a<turn>-cite-<n>, see ui/render.py).
  const CARD = /^a(\d+)-cite-(\d+)$/;
  const outline = (card) => {
    document.querySelectorAll(".src-card.src-picked").forEach((c) => c.classList.remove("src-picked"));
    card.classList.add("src-picked");
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
    outline(card);
    card.scrollIntoView({ block: "nearest", inline: "nearest" });
  }, true);
  // A click on a citation card picks it, as the Citation picker would, and opens its article: the card's
  // "<turn>:<n>" goes to the hidden #card-pick box (a counter makes a second click on the same card count too).
  let clicks = 0;
  document.addEventListener("click", (ev) => {
    const card = ev.target instanceof Element ? ev.target.closest("#sources-panel .src-card[id]") : null;
    if (!card || ev.target.closest("a, summary, button")) return;
    const m = CARD.exec(card.id);
    const box = document.querySelector("#card-pick textarea, #card-pick input");
    if (!m || !box) return;
    outline(card);
    box.value = `${m[1]}:${m[2]}#${++clicks}`;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  });
}
