// Canned responses: typing "/" at the start of the reply box (the box itself
// becomes the search field: "/hours") or pressing the Canned button (a
// search field in the popup) lists matches from the server, with variables
// already filled in for this conversation. ↑/↓ choose, Enter inserts, Esc closes.

import { cannedResponses } from "./api.js";
import { el } from "./dom.js";

const SLASH = /^\/([^\n]{0,60})$/;
const DEBOUNCE_MS = 120;

export class CannedPicker {
  constructor({ textarea, button, getConversationId }) {
    this.textarea = textarea;
    this.button = button;
    this.getConversationId = getConversationId;
    this.popup = document.getElementById("canned");
    this.searchRow = document.getElementById("canned-search-row");
    this.search = document.getElementById("canned-search");
    this.list = document.getElementById("canned-list");
    this.status = document.getElementById("canned-status");

    this.mode = null; // null (closed) | "slash" | "search"
    this.items = [];
    this.active = -1;
    this.dismissed = false; // Esc in slash mode: stay closed until the "/" goes
    this.requestId = 0;

    textarea.addEventListener("input", () => this.onTextareaInput());
    this.search.addEventListener("input", () => this.query(this.search.value));
    this.search.addEventListener("keydown", (e) => this.handleKey(e));
    button.addEventListener("click", () => (this.mode ? this.close({ focus: true }) : this.openSearch()));
    // Keep focus in the box while clicking an option.
    this.list.addEventListener("mousedown", (e) => e.preventDefault());
    this.list.addEventListener("click", (e) => {
      const option = e.target.closest("[role=option]");
      if (option) this.insert(Number(option.dataset.index));
    });
    textarea.form.addEventListener("focusout", (e) => {
      if (this.mode && !textarea.form.contains(e.relatedTarget)) this.close();
    });
  }

  get isOpen() {
    return this.mode !== null;
  }

  /** "/" shortcut: start a slash search in an empty box, else open the search field. */
  openFromShortcut() {
    if (!this.textarea.value) {
      this.textarea.focus();
      this.textarea.value = "/";
      this.dismissed = false;
      this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
    } else {
      this.openSearch();
    }
  }

  openSearch() {
    this.open("search");
    this.search.value = "";
    this.search.focus();
    this.query("");
  }

  onTextareaInput() {
    const match = SLASH.exec(this.textarea.value);
    if (!match) {
      this.dismissed = false;
      if (this.mode === "slash") this.close();
      return;
    }
    if (this.dismissed || this.mode === "search") return;
    if (this.mode !== "slash") this.open("slash");
    this.query(match[1].trim());
  }

  /** Keys while open. Returns true when the key was used (the caller stops there). */
  handleKey(e) {
    if (!this.mode || e.altKey || e.ctrlKey || e.metaKey) return false;
    switch (e.key) {
      case "ArrowDown":
      case "ArrowUp":
        if (this.items.length) this.setActive((this.active + (e.key === "ArrowDown" ? 1 : -1) + this.items.length) % this.items.length);
        break;
      case "Enter":
        if (this.active < 0) return false; // nothing to insert: let Enter type a newline
        this.insert(this.active);
        break;
      case "Escape":
        if (this.mode === "slash") this.dismissed = true;
        this.close({ focus: true });
        break;
      default:
        return false;
    }
    e.preventDefault();
    e.stopPropagation();
    return true;
  }

  close({ focus = false } = {}) {
    if (!this.mode) return;
    const wasSearch = this.mode === "search";
    this.mode = null;
    this.requestId += 1;
    clearTimeout(this.timer);
    this.popup.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    this.search.setAttribute("aria-expanded", "false");
    this.textarea.removeAttribute("aria-activedescendant");
    this.textarea.removeAttribute("aria-controls");
    if (focus && (wasSearch || document.activeElement !== this.textarea)) this.textarea.focus();
  }

  // --- internals ---------------------------------------------------------

  open(mode) {
    this.mode = mode;
    this.items = [];
    this.active = -1;
    this.list.replaceChildren();
    this.popup.hidden = false;
    this.searchRow.hidden = mode !== "search";
    this.button.setAttribute("aria-expanded", "true");
    this.search.setAttribute("aria-expanded", String(mode === "search"));
    if (mode === "slash") this.textarea.setAttribute("aria-controls", "canned-list");
  }

  query(q) {
    clearTimeout(this.timer);
    const id = ++this.requestId;
    this.status.textContent = "Looking up canned responses…";
    this.timer = setTimeout(async () => {
      const conversationId = this.getConversationId();
      if (!conversationId) return;
      try {
        const items = await cannedResponses(conversationId, q);
        if (id === this.requestId) this.show(items, q);
      } catch (err) {
        if (id === this.requestId) this.status.textContent = `Canned responses could not be loaded: ${err.detail}`;
      }
    }, DEBOUNCE_MS);
  }

  show(items, q) {
    this.items = items;
    this.list.replaceChildren(...items.map((item, index) => el("li", {
      role: "option", id: `canned-opt-${item.id}`, class: "canned-option", "data-index": String(index), "aria-selected": "false",
    },
    el("span", { class: "canned-shortcut" }, `/${item.shortcut}`),
    el("span", { class: "canned-title" }, item.title),
    el("span", { class: "canned-body" }, item.body))));
    this.status.textContent = items.length
      ? `${items.length} canned ${items.length === 1 ? "response" : "responses"}. Up and down arrows to choose, Enter to insert, Escape to close.`
      : q ? `No canned response matches “${q}”.` : "There are no canned responses yet.";
    this.setActive(items.length ? 0 : -1);
  }

  setActive(index) {
    this.active = index;
    const options = this.list.children;
    for (let i = 0; i < options.length; i += 1) options[i].setAttribute("aria-selected", String(i === index));
    const owner = this.mode === "search" ? this.search : this.textarea;
    if (index >= 0) {
      owner.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      owner.removeAttribute("aria-activedescendant");
    }
  }

  insert(index) {
    const item = this.items[index];
    if (!item) return;
    const box = this.textarea;
    if (this.mode === "slash") {
      box.value = item.body; // replaces the "/query" typed so far
      box.setSelectionRange(box.value.length, box.value.length);
    } else {
      // At the caret, with a space if it would otherwise run into a word.
      const before = box.value.slice(0, box.selectionStart);
      const glue = before && !/\s$/.test(before) ? " " : "";
      box.setRangeText(glue + item.body, box.selectionStart, box.selectionEnd, "end");
    }
    this.close();
    box.focus();
    box.dispatchEvent(new Event("input", { bubbles: true })); // drafts and typing notice see it
  }
}
