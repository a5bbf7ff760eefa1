// Single-key shortcuts for agents who live on the keyboard. They never fire
// while typing in a field (the reply box handles its own Ctrl/Cmd+Enter and
// Esc) nor while a dialog is open (dialogs handle Esc natively).
// The help dialog is built from the same list, so it cannot drift.

import { anyDialogOpen, openDialog } from "./dialog.js";
import { el, isTextEntry } from "./dom.js";

export const SHORTCUTS = [
  { keys: ["j"], action: "next", help: "Next conversation in the queue" },
  { keys: ["k"], action: "previous", help: "Previous conversation in the queue" },
  { keys: ["Enter"], action: "open", help: "Open the selected conversation" },
  { keys: ["p"], action: "pick-up", help: "Pick up (the open conversation, or the selected one)" },
  { keys: ["r"], action: "reply", help: "Write a reply" },
  { keys: ["n"], action: "note", help: "Switch between reply and internal note" },
  { keys: ["/"], action: "canned", help: "Write a reply with a canned response" },
  { keys: ["t"], action: "transfer", help: "Transfer" },
  { keys: ["s"], action: "snooze", help: "Snooze" },
  { keys: ["e"], action: "resolve", help: "Resolve" },
  { keys: ["o"], action: "reopen", help: "Reopen a resolved conversation" },
  { keys: ["a"], action: "accept-offer", help: "Accept the oldest conversation offered to you" },
  { keys: ["d"], action: "decline-offer", help: "Decline the oldest conversation offered to you" },
  { keys: ["?"], action: "help", help: "Show these shortcuts" },
  { keys: ["Ctrl", "Enter"], join: "+", help: "Send the reply or note (in the reply box; ⌘+Enter on a Mac)" },
  { keys: ["Esc"], help: "Close a dialog or the canned response list" },
  { keys: ["↑", "↓"], join: " / ", help: "Move in the queue, tabs and lists" },
];

const BY_KEY = new Map(SHORTCUTS.filter((s) => s.action && s.keys.length === 1).map((s) => [s.keys[0], s.action]));

/** handlers: { [action]: () => void }. */
export function installShortcuts(handlers) {
  const help = document.getElementById("help-dialog");
  fillHelp(document.getElementById("help-list"));
  help.querySelector("[data-close]").addEventListener("click", () => help.close());

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (anyDialogOpen() || isTextEntry(e.target)) return;
    const action = BY_KEY.get(e.key);
    if (!action) return;
    // Enter on a button or link already does what it says.
    if (action === "open" && e.target.closest?.("button, a, summary, [role=tab]")) return;
    if (action === "help") {
      e.preventDefault();
      openDialog(help, { focus: help.querySelector("[data-close]") });
      return;
    }
    const handler = handlers[action];
    if (handler) {
      e.preventDefault(); // e.g. "/" must not also type into the box it focuses
      handler();
    }
  });
}

function fillHelp(list) {
  list.replaceChildren(...SHORTCUTS.flatMap((s) => [
    el("dt", {}, s.keys.flatMap((k, i) => (i ? [s.join || " ", el("kbd", {}, k)] : [el("kbd", {}, k)]))),
    el("dd", {}, s.help),
  ]));
}
