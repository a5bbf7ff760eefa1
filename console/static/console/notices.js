// Short notices for the agent ("Alice already took this conversation"),
// shown as dismissable toasts in a polite live region, plus a screen-reader
// only announcer for new messages (announcing them visually too would bury
// the notices that matter).

import { el } from "./dom.js";

const SHOW_MS = { info: 6000, success: 5000, error: 12000 };

export class Notices {
  constructor(region, announcer) {
    this.region = region;
    this.announcer = announcer;
  }

  /** tone: "info" | "success" | "error". */
  show(text, { tone = "info" } = {}) {
    const dismiss = el("button", { type: "button", class: "notice-dismiss", "aria-label": "Dismiss notice" }, "×");
    const notice = el("div", { class: `notice notice-${tone}` }, el("span", { class: "notice-text" }, text), dismiss);
    const remove = () => {
      // Focus must not fall to <body> when the notice under it goes.
      if (notice.contains(document.activeElement)) document.getElementById("thread-title")?.focus();
      notice.remove();
    };
    dismiss.addEventListener("click", remove);
    this.region.append(notice);
    // Keep at most a few on screen: older ones were already announced.
    while (this.region.children.length > 4) this.region.firstElementChild.remove();
    // Time out, but not while the agent is pointing at or focused on it.
    let timer = setTimeout(remove, SHOW_MS[tone] || SHOW_MS.info);
    const hold = () => clearTimeout(timer);
    const release = () => { clearTimeout(timer); timer = setTimeout(remove, 3000); };
    notice.addEventListener("mouseenter", hold);
    notice.addEventListener("focusin", hold);
    notice.addEventListener("mouseleave", release);
    notice.addEventListener("focusout", release);
    return notice;
  }

  announce(text) {
    // Clear first so that the same text twice in a row is read twice.
    this.announcer.textContent = "";
    setTimeout(() => { this.announcer.textContent = text; }, 50);
  }
}

/**
 * A live region for things that may come in bursts (alerts, offers): each
 * text is added as its own line, so three alerts in one second are all
 * read, where replacing the text would leave only the last. Lines are
 * removed once read (the region's politeness is set in the page).
 */
export class Announcer {
  constructor(region, { keepMs = 15000 } = {}) {
    this.region = region;
    this.keepMs = keepMs;
  }

  say(text) {
    const line = el("p", {}, text);
    // A short delay: a region changed in the same task as it became
    // relevant is sometimes skipped by screen readers.
    setTimeout(() => {
      this.region.append(line);
      setTimeout(() => line.remove(), this.keepMs);
    }, 50);
  }
}
