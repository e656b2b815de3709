() => {
  // A file the browser refuses before it is sent (wrong type, too large) leaves only a red "Error" in the upload
  // box and a toast that fades: put the toast's one-line reason into the box itself, where the user looks.
  let last = { text: "", at: 0 };
  const boxes = () => Array.from(document.querySelectorAll("input[data-testid='file-upload']"))
    .map((input) => input.closest(".block")).filter(Boolean);
  const apply = () => {
    if (!last.text || Date.now() - last.at > 8000) return;
    for (const box of boxes()) {
      const mark = box.querySelector("[data-testid='status-tracker'] .error");
      if (mark && mark.textContent.trim() === "Error") {
        mark.textContent = "Not added: " + last.text;
        mark.classList.add("upload-refusal");
      }
    }
  };
  new MutationObserver(() => {
    const toasts = document.querySelectorAll("[data-testid='toast-text'].error");
    const newest = toasts.length ? toasts[toasts.length - 1].textContent.trim() : "";
    if (newest && newest !== last.text) last = { text: newest, at: Date.now() };
    apply();
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}
