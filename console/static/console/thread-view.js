// The centre column: the open conversation's header, its actions and its
// timeline (newest at the bottom; older pages load when scrolled to the
// top). Entries are keyed by event id, so the POST answer, the stream's
// event.created and event.updated never show an entry twice.

import { getConversation } from "./api.js";
import { priorityBadge, slaBadge } from "./badges.js";
import { el, icon } from "./dom.js";
import { channelInfo, timeLabel, waitLabel } from "./format.js";
import { isNewer, renderEvent } from "./timeline.js";

const PAGE = 50;
const NEAR_BOTTOM_PX = 80;
const TYPING_MS = 6000;

export class ThreadView {
  constructor({ userId, follows, onOpened, onAction }) {
    this.userId = userId;
    this.follows = follows; // may I still work on it? (transferred out of my departments: no)
    this.onOpened = onOpened;
    this.onAction = onAction;

    this.root = document.getElementById("thread");
    this.title = document.getElementById("thread-title");
    this.facts = document.getElementById("thread-facts");
    this.routing = document.getElementById("thread-routing");
    this.actions = document.getElementById("thread-actions");
    this.scroller = document.getElementById("thread-scroll");
    this.timeline = document.getElementById("timeline");
    this.olderButton = document.getElementById("load-older");
    this.jumpButton = document.getElementById("jump-latest");
    this.status = document.getElementById("thread-status");
    this.typing = document.querySelector("[data-typing]");

    this.conversation = null;
    this.id = null;
    this.items = new Map(); // event id -> { e, node }
    this.hasMore = false;
    this.loadingOlder = false;
    this.token = 0; // bumps on every open; late answers for another conversation are dropped
    this.loading = null;
    this.early = []; // live events for the conversation being loaded, applied once it is

    this.actions.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (button && this.conversation) this.onAction(button.dataset.action, this.conversation);
    });
    this.olderButton.addEventListener("click", () => this.loadOlder());
    this.jumpButton.addEventListener("click", () => this.scrollToBottom({ focusLast: true }));
    this.scroller.addEventListener("scroll", () => {
      if (this.nearBottom()) this.jumpButton.hidden = true;
    }, { passive: true });
    // Scrolling to the top reveals the "earlier messages" button: load then.
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadOlder();
    }, { root: this.scroller, rootMargin: "120px 0px 0px 0px" }).observe(this.olderButton);
  }

  /** Open a conversation; asking again for the one loading returns the same promise. */
  open(id) {
    if (id === this.id && (this.conversation || this.loading)) return this.loading || Promise.resolve();
    this.loading = this.load(id).finally(() => { this.loading = null; });
    return this.loading;
  }

  async load(id) {
    const token = ++this.token;
    this.id = id;
    this.conversation = null;
    this.items.clear();
    this.early = [];
    this.timeline.replaceChildren();
    this.hasMore = false;
    this.olderButton.hidden = true;
    this.jumpButton.hidden = true;
    this.hideTyping();
    this.root.classList.remove("empty");
    this.title.textContent = "Loading conversation…";
    this.status.hidden = true;
    this.facts.replaceChildren();
    this.routing.hidden = true;
    this.setActionsVisible(null);
    this.timeline.setAttribute("aria-busy", "true");
    let data;
    try {
      data = await getConversation(id, { limit: PAGE });
    } catch (err) {
      if (token !== this.token) return;
      this.timeline.removeAttribute("aria-busy");
      this.title.textContent = err.status === 404 ? "This conversation is not available." : "The conversation could not be loaded.";
      this.status.textContent = err.status === 404 ? "It may have moved to a department you do not follow." : err.detail;
      this.status.hidden = false;
      this.onOpened(null, id);
      return;
    }
    if (token !== this.token) return;
    this.timeline.removeAttribute("aria-busy");
    this.setConversation(data.conversation);
    // Live events may have arrived while loading: merge, keyed by id.
    for (const e of data.events) this.upsert(e);
    for (const e of this.early) this.upsert(e);
    this.early = [];
    this.setHasMore(data.has_more);
    this.scrollToBottom();
    this.onOpened(this.conversation, id);
  }

  /** The open conversation, if this agent can still work on it (else null). */
  get workable() {
    return this.conversation && this.follows(this.conversation) ? this.conversation : null;
  }

  /** A newer snapshot of the open conversation (stream or action answer). */
  applyConversation(c) {
    if (!this.conversation || c.id !== this.id) return;
    if (c.last_event_seq < this.conversation.last_event_seq) return; // overtaken by a newer one
    this.setConversation(c);
  }

  /** event.created / event.updated / a POST answer. Returns true if it is new on screen. */
  applyEvent(e) {
    if (e.conversation_id !== this.id) return false;
    if (!this.conversation) {
      // Still loading: the page may have been read before this event committed.
      this.early.push(e);
      return false;
    }
    const first = this.timeline.firstElementChild;
    // An update to an entry older than the loaded page: nothing to show.
    if (!this.items.has(e.id) && first && this.hasMore && e.seq < Number(first.dataset.seq)) return false;
    const wasNearBottom = this.nearBottom();
    const added = this.upsert(e);
    if (added && this.timeline.lastElementChild === this.items.get(e.id)?.node) {
      if (wasNearBottom || e.direction === "out" || e.kind === "note") this.scrollToBottom();
      else this.jumpButton.hidden = false;
    }
    if (added && e.direction === "in") this.hideTyping();
    return added;
  }

  showTyping() {
    this.typing.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_MS);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typing.hidden = true;
  }

  focusTitle() {
    this.title.focus();
  }

  // --- internals ---------------------------------------------------------

  setConversation(c) {
    this.conversation = c;
    this.title.replaceChildren(c.patient_name);
    const priority = priorityBadge(c);
    if (priority) this.title.append(" ", priority);
    const channel = channelInfo(c.channel);
    const facts = [
      ["Channel", el("span", { class: `channel channel-${c.channel}` }, icon(channel.icon), el("span", { class: "channel-label" }, channel.label))],
      ["Department", c.department_name],
      ["Topic", c.topic_name || "None"],
      ["Status", statusText(c, this.userId)],
    ];
    if (c.waiting_since) {
      facts.push(["Waiting", el("span", { "data-wait-since": c.waiting_since }, waitLabel(c.waiting_since))]);
    }
    if (c.sla_state) facts.push(["SLA", slaBadge(el("span", { class: "sla" }), c, { compact: false })]);
    // <div> groups keep each term with its value when the line wraps.
    this.facts.replaceChildren(...facts.map(([term, value]) => el("div", {}, el("dt", {}, term), el("dd", {}, value))));
    // Why it is in this department (a rule, the channel's choice, the default).
    this.routing.textContent = c.routing_reason ? `Routed: ${c.routing_reason}` : "";
    this.routing.hidden = !c.routing_reason;
    const workable = this.follows(c);
    this.setActionsVisible(workable ? c : null);
    this.status.hidden = workable;
    if (!workable) this.status.textContent = `Now in ${c.department_name}, outside your departments: you can no longer work on it here.`;
    this.root.dataset.status = c.status;
  }

  setActionsVisible(c) {
    const show = {
      "pick-up": c?.status === "queued",
      transfer: Boolean(c) && c.status !== "resolved",
      snooze: Boolean(c) && c.status !== "resolved",
      resolve: Boolean(c) && c.status !== "resolved",
      reopen: c?.status === "resolved",
    };
    for (const button of this.actions.querySelectorAll("button[data-action]")) {
      const visible = Boolean(show[button.dataset.action]);
      // Hiding the focused button would drop focus to <body>: keep it nearby.
      if (!visible && button === document.activeElement) this.title.focus();
      button.hidden = !visible;
    }
    this.actions.hidden = !c;
  }

  /** Insert or replace an entry in seq order. Returns true when it was new. */
  upsert(e) {
    const existing = this.items.get(e.id);
    if (existing) {
      if (!isNewer(existing.e, e)) return false;
      const node = renderEvent(e, { patientName: this.conversation?.patient_name });
      existing.node.replaceWith(node);
      this.items.set(e.id, { e, node });
      return false;
    }
    const node = renderEvent(e, { patientName: this.conversation?.patient_name });
    this.items.set(e.id, { e, node });
    // Usually the newest: walk back from the end to find its place.
    let after = this.timeline.lastElementChild;
    while (after && Number(after.dataset.seq) > e.seq) after = after.previousElementSibling;
    if (after) after.after(node);
    else this.timeline.prepend(node);
    return true;
  }

  async loadOlder() {
    if (!this.hasMore || this.loadingOlder || !this.conversation) return;
    const first = this.timeline.firstElementChild;
    if (!first) return;
    const token = this.token;
    this.loadingOlder = true;
    this.olderButton.textContent = "Loading earlier messages…";
    try {
      const data = await getConversation(this.id, { beforeSeq: Number(first.dataset.seq), limit: PAGE });
      if (token !== this.token) return;
      // Keep what the agent is looking at in place while history grows above it.
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
      for (const e of data.events) this.upsert(e);
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
      this.setHasMore(data.has_more);
    } catch (err) {
      if (token === this.token) this.olderButton.textContent = `Earlier messages could not be loaded (${err.detail}). Try again`;
      return;
    } finally {
      this.loadingOlder = false;
    }
    this.olderButton.textContent = "Load earlier messages";
    // Still at the top (a short page): the observer will not fire again.
    if (this.hasMore && this.scroller.scrollTop < 120) setTimeout(() => this.loadOlder(), 0);
  }

  setHasMore(hasMore) {
    this.hasMore = hasMore;
    this.olderButton.hidden = !hasMore;
    this.olderButton.textContent = "Load earlier messages";
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom({ focusLast = false } = {}) {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jumpButton.hidden = true;
    if (focusLast) {
      const last = this.timeline.lastElementChild;
      if (last) {
        last.tabIndex = -1;
        last.focus();
      }
    }
  }
}

function statusText(c, me) {
  const who = c.assignee_id === me ? "you" : c.assignee_name || "someone";
  switch (c.status) {
    case "queued":
      return "Waiting for an agent";
    case "assigned":
      return `Assigned to ${who}`;
    case "snoozed":
      return `Snoozed until ${timeLabel(c.snoozed_until)} (${who})`;
    case "resolved":
      return c.disposition === "follow_up" ? "Resolved, follow-up needed" : "Resolved";
    default:
      return c.status;
  }
}
