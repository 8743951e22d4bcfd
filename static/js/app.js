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
