// Knowledge base pages (/console/kb/): a "Copy text" button on each
// snippet block, for pasting into another tool. (In the console, the
// Knowledge panel inserts snippets straight into the reply box.)

for (const button of document.querySelectorAll("[data-copy-snippet]")) {
  const text = button.closest(".kb-snippet")?.querySelector(".kb-snippet-text")?.textContent ?? "";
  if (!navigator.clipboard) continue; // not a secure context: selecting the text still works
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Copy failed: select the text";
    }
    setTimeout(() => { button.textContent = "Copy text"; }, 2500);
  });
}
