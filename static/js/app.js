// Small progressive enhancements; every page works without them.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyTarget);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.innerText).then(function () {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 1500);
  });
});
// Warn before leaving a page with an unsaved editor (autosave pending or failed).
window.addEventListener("beforeunload", function (event) {
  if (document.querySelector("[data-dirty='true']")) {
    event.preventDefault();
    event.returnValue = "";
  }
});
document.addEventListener("input", function (event) {
  const form = event.target.closest("form[data-autosave]");
  if (form) form.dataset.dirty = "true";
});
document.addEventListener("htmx:afterRequest", function (event) {
  const form = event.detail.elt.closest && event.detail.elt.closest("form[data-autosave]");
  if (form && event.detail.successful && event.detail.xhr.status === 200) form.dataset.dirty = "false";
});
// Live character counts for slot items the user edits in place ("27/30"; over the limit: red).
document.addEventListener("input", function (event) {
  const item = event.target.closest("[data-count-target]");
  if (!item) return;
  const badge = document.getElementById(item.dataset.countTarget);
  if (!badge) return;
  const n = item.innerText.trim().length;
  const max = item.dataset.max ? parseInt(item.dataset.max, 10) : null;
  badge.textContent = max ? n + "/" + max : String(n);
  badge.classList.toggle("bad", max !== null && n > max);
});
// Comments on a passage: the selection in the text (the editor's textarea, or a version's text)
// goes into the comment form's hidden fields; the server finds the passage again by its text.
function passageSelected(source) {
  if (source.tagName === "TEXTAREA") {
    const start = source.selectionStart, end = source.selectionEnd;
    return {quote: source.value.substring(start, end), start: start, end: end};
  }
  const sel = window.getSelection();
  if (!sel || sel.rangeCount === 0 || !source.contains(sel.anchorNode)) return null;
  return {quote: sel.toString(), start: "", end: ""};
}
function rememberPassage(event) {
  const source = event.target && event.target.closest && event.target.closest("#doc-body, #version-text");
  if (!source) return;
  const picked = passageSelected(source);
  if (!picked || !picked.quote.trim()) return;
  document.querySelectorAll("form[data-passage-form]").forEach(function (form) {
    form.querySelector("[data-passage-quote]").value = picked.quote;
    form.querySelector("[data-passage-start]").value = picked.start;
    form.querySelector("[data-passage-end]").value = picked.end;
    const preview = form.querySelector("[data-passage-preview]");
    if (preview) preview.textContent = "Selected: \u201c" + picked.quote.slice(0, 200) + "\u201d";
  });
}
["select", "mouseup", "keyup"].forEach(function (name) {
  document.addEventListener(name, rememberPassage, true);
});
