// The "Knowledge" section under the EHR panel: the agent's reading
// assignments, articles suggested for the open conversation (its topic's
// articles, then those matching the patient's recent messages) and a
// search. Articles open in a new tab (/console/kb/<slug>/); their snippet
// blocks go into the reply box at the cursor with "Insert into reply",
// never sent by themselves. docs/knowledge.md.

import { request } from "./api.js";
import { el } from "./dom.js";

const MARKS = { new: "New", changed: "Changed since you read it" };

export class KnowledgePanel {
  /** insert(text) puts text into the reply box and answers whether it could. */
  constructor({ insert, notices }) {
    this.insert = insert;
    this.notices = notices;
    this.assigned = document.getElementById("kb-assigned");
    this.form = document.getElementById("kb-search");
    this.input = document.getElementById("kb-q");
    this.results = document.getElementById("kb-results");
    this.conversationId = null;
    this.searching = false;
    this.token = 0;
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.search(this.input.value);
    });
    // The search field's clear button: back to the suggestions.
    this.input.addEventListener("search", () => { if (!this.input.value.trim()) this.search(""); });
    // Back from reading an assignment in another tab: it may be done now.
    document.addEventListener("visibilitychange", () => { if (!document.hidden) this.loadAssigned(); });
    this.clear();
    this.loadAssigned();
  }

  show(conversationId) {
    this.conversationId = conversationId;
    this.input.value = "";
    this.searching = false;
    this.load(`/conversations/${encodeURIComponent(conversationId)}/kb-suggestions`, "Suggested articles",
      "No suggestions for this conversation yet: search instead.");
  }

  clear() {
    this.conversationId = null;
    this.token += 1;
    if (!this.searching) this.results.replaceChildren(el("p", { class: "muted" }, "Suggested articles appear here for an open conversation."));
  }

  /** The patient wrote again: new words, maybe new suggestions. A search on
   * screen, or snippets the agent has open, stay. */
  refresh() {
    if (this.conversationId === null || this.searching || this.results.querySelector("details[open]")) return;
    this.show(this.conversationId);
  }

  search(text) {
    const q = text.trim();
    if (!q) {
      this.searching = false;
      if (this.conversationId !== null) this.show(this.conversationId);
      else this.clear();
      return;
    }
    this.searching = true;
    this.load(`/kb/search?q=${encodeURIComponent(q)}`, `Results for “${q}”`, "No article matches. Try other words.");
  }

  async load(path, title, emptyText) {
    const token = ++this.token;
    this.results.setAttribute("aria-busy", "true");
    let hits;
    try {
      hits = await request("GET", path);
    } catch (err) {
      if (token !== this.token) return;
      this.results.removeAttribute("aria-busy");
      this.results.replaceChildren(el("p", { class: "error" }, `Articles could not be loaded: ${err.detail || err}`));
      return;
    }
    if (token !== this.token) return;
    this.results.removeAttribute("aria-busy");
    this.results.replaceChildren(
      el("h4", { class: "kb-panel-heading" }, title),
      hits.length ? el("ul", { class: "kb-hits" }, hits.map((hit) => this.hitItem(hit))) : el("p", { class: "muted" }, emptyText));
  }

  hitItem(hit) {
    return el("li", { class: "kb-hit", "data-article": hit.slug },
      el("a", { href: hit.url, target: "_blank", rel: "noopener", class: "kb-hit-title" }, hit.title,
        el("span", { class: "visually-hidden" }, " (opens in a new tab)")),
      " ", badges(hit),
      hit.snippet ? el("p", { class: "kb-hit-excerpt" }, hit.snippet) : null,
      hit.snippets.length ? this.snippetList(hit) : null);
  }

  snippetList(hit) {
    const count = hit.snippets.length;
    return el("details", { class: "kb-hit-snippets" },
      el("summary", {}, `${count} snippet${count === 1 ? "" : "s"} to insert`),
      el("ul", {}, hit.snippets.map((s) => {
        const button = el("button", { type: "button", class: "secondary small", "data-insert-snippet": s.label },
          "Insert into reply", el("span", { class: "visually-hidden" }, `: ${s.label}`));
        button.addEventListener("click", () => this.insertSnippet(s));
        return el("li", { class: "kb-panel-snippet" },
          el("span", { class: "kb-snippet-label" }, s.label),
          el("p", { class: "kb-snippet-preview" }, s.text),
          button);
      })));
  }

  insertSnippet(snippet) {
    if (this.insert(snippet.text)) this.notices.show(`“${snippet.label}” is in the reply box. Read it over before sending.`);
    else this.notices.show("Open a conversation you can reply to, then insert the snippet.", { tone: "error" });
  }

  async loadAssigned() {
    let mine;
    try {
      mine = await request("GET", "/kb/assignments/mine", { background: true });
    } catch {
      return; // the list is a reminder; the knowledge base page has it too
    }
    this.assigned.hidden = !mine.length;
    this.assigned.replaceChildren(
      el("h4", { class: "kb-panel-heading" }, "Assigned to you"),
      el("ul", { class: "kb-assigned-list" }, mine.map((a) => el("li", { "data-assignment": a.id },
        el("a", { href: a.article_url, target: "_blank", rel: "noopener" }, a.article_title,
          el("span", { class: "visually-hidden" }, " (opens in a new tab)")),
        a.due ? el("span", { class: "muted" }, ` due ${a.due}`) : null,
        a.overdue ? [" ", el("span", { class: "badge badge-danger" }, "Overdue")] : null))));
  }
}

function badges(hit) {
  return [
    hit.assigned ? el("span", { class: "badge kb-badge-assigned" }, "Assigned to you") : null,
    MARKS[hit.mark] ? el("span", { class: "badge " + (hit.mark === "new" ? "kb-badge-new" : "kb-badge-changed") }, MARKS[hit.mark]) : null,
  ];
}
