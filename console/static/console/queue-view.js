// The live queue: tabs (Waiting / Mine / All open), department chips with
// waiting counts, and the rows. Thousands of conversations may be open, so
// at most MAX_ROWS rows are in the DOM, rows are reused while their
// conversation snapshot is unchanged, and renders are batched per frame.

import { priorityBadge, slaBadge } from "./badges.js";
import { el, icon } from "./dom.js";
import { channelInfo, timeLabel, waitLabel } from "./format.js";

const MAX_ROWS = 300;
const STATE_KEY = "hub.console.queue";

const EMPTY_TEXT = {
  waiting: "Nobody is waiting. New conversations appear here.",
  mine: "Nothing is assigned to you right now.",
  all: "No open conversations.",
};

export class QueueView {
  constructor({ store, directory, userId, departmentIds, onOpen, onPickUp }) {
    this.store = store;
    this.directory = directory;
    this.userId = userId;
    this.departmentIds = departmentIds;
    this.onOpen = onOpen;
    this.onPickUp = onPickUp;

    this.list = document.getElementById("queue");
    this.tabs = [...document.querySelectorAll("#queue-tabs [role=tab]")];
    this.panel = document.getElementById("queue-panel");
    this.chips = document.getElementById("dept-filter");
    this.empty = document.getElementById("queue-empty");
    this.more = document.getElementById("queue-more");

    this.rows = new Map(); // id -> { c, key, node }
    this.activeId = null; // the conversation open in the thread
    this.selectedId = null; // the keyboard cursor (j/k)
    this.shownIds = [];
    this.pendingPickUps = new Set();
    this.frame = 0;

    const saved = readState();
    this.tab = this.tabs.some((t) => t.dataset.tab === saved.tab) ? saved.tab : "waiting";
    this.departmentId = departmentIds.includes(saved.departmentId) ? saved.departmentId : null;

    this.bindTabs();
    this.bindList();
    this.chips.addEventListener("click", (e) => {
      const chip = e.target.closest("button[data-dept]");
      if (chip) this.filterDepartment(chip.dataset.dept ? Number(chip.dataset.dept) : null);
    });
    store.addEventListener("change", () => this.scheduleRender());
    directory.addEventListener("change", () => this.scheduleRender());
  }

  // --- public -------------------------------------------------------------

  scheduleRender() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  setActive(id) {
    this.activeId = id;
    if (id !== null) this.selectedId = id;
    this.scheduleRender();
  }

  setPickUpPending(id, pending) {
    if (pending) this.pendingPickUps.add(id);
    else this.pendingPickUps.delete(id);
    this.scheduleRender();
  }

  /** j/k: move the keyboard cursor and focus that row. */
  moveSelection(delta) {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
      this.render();
    }
    const ids = this.shownIds;
    if (!ids.length) return;
    let at = ids.indexOf(this.selectedId);
    if (at === -1) at = delta > 0 ? -1 : ids.length;
    this.focusRow(ids[Math.min(ids.length - 1, Math.max(0, at + delta))]);
  }

  focusRow(id) {
    this.selectedId = id;
    this.updateRovingTabindex();
    const button = this.rows.get(id)?.node.querySelector(".row-open");
    if (button) {
      button.focus();
      button.scrollIntoView({ block: "nearest" });
    }
  }

  // --- tabs and filters -----------------------------------------------------

  bindTabs() {
    this.tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => this.selectTab(tab.dataset.tab));
      tab.addEventListener("keydown", (e) => {
        const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: this.tabs.length - 1 };
        if (!(e.key in moves)) return;
        e.preventDefault();
        const target = this.tabs[(moves[e.key] + this.tabs.length) % this.tabs.length];
        this.selectTab(target.dataset.tab);
        target.focus();
      });
    });
  }

  selectTab(name) {
    this.tab = name;
    saveState(this);
    this.render();
  }

  filterDepartment(id) {
    this.departmentId = id;
    saveState(this);
    this.render();
  }

  // --- rows -----------------------------------------------------------------

  bindList() {
    this.list.addEventListener("click", (e) => {
      const row = e.target.closest("li[data-conversation-id]");
      if (!row) return;
      const id = Number(row.dataset.conversationId);
      if (e.target.closest('[data-action="pick-up"]')) this.onPickUp(id);
      else if (!e.target.closest("a, input")) this.onOpen(id);
    });
    this.list.addEventListener("keydown", (e) => {
      if (!e.target.closest(".row-open, .row-pickup") || e.altKey || e.ctrlKey || e.metaKey) return;
      const moves = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity };
      if (!(e.key in moves)) return;
      e.preventDefault();
      this.moveSelection(moves[e.key]);
    });
  }

  render() {
    const { store } = this;
    const conversations = store.list(this.tab, this.departmentId);
    const shown = conversations.slice(0, MAX_ROWS);
    this.shownIds = shown.map((c) => c.id);

    // Moving a focused node in the DOM loses focus: remember where it was.
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const focusedId = focused ? Number(focused.closest("li")?.dataset.conversationId) : null;
    const focusedPickUp = Boolean(focused?.closest(".row-pickup"));

    const nodes = shown.map((c) => this.rowFor(c));
    const keep = new Set(nodes);
    for (const child of [...this.list.children]) if (!keep.has(child)) child.remove();
    let cursor = this.list.firstChild;
    for (const node of nodes) {
      if (node === cursor) cursor = cursor.nextSibling;
      else this.list.insertBefore(node, cursor);
    }
    const shownSet = new Set(this.shownIds);
    for (const id of this.rows.keys()) if (!shownSet.has(id)) this.rows.delete(id);

    if (!shownSet.has(this.selectedId)) {
      // The cursor's row left (picked up elsewhere, filtered): stay near it.
      this.selectedId = shownSet.has(this.activeId) ? this.activeId : null;
    }
    this.updateRovingTabindex();
    if (focusedId && document.activeElement !== focused) {
      const row = this.rows.get(focusedId)?.node;
      const target = row?.querySelector(focusedPickUp ? ".row-pickup" : ".row-open") || row?.querySelector(".row-open");
      if (target) target.focus();
      else if (this.shownIds.length) this.focusRow(this.shownIds[0]);
      else this.panel.focus();
    }

    this.empty.hidden = conversations.length > 0;
    this.empty.textContent = this.departmentId === null ? EMPTY_TEXT[this.tab] : "Nothing here for this department.";
    this.more.hidden = conversations.length <= MAX_ROWS;
    if (conversations.length > MAX_ROWS) {
      this.more.textContent = `Showing the first ${MAX_ROWS} of ${conversations.length.toLocaleString()}: ` +
        `${(conversations.length - MAX_ROWS).toLocaleString()} more. Pick a department to narrow the list.`;
    }
    this.renderTabs();
    this.renderChips();
  }

  rowFor(c) {
    const active = c.id === this.activeId;
    const unread = this.store.unread.has(c.id);
    const pending = this.pendingPickUps.has(c.id);
    const key = `${active}|${unread}|${pending}`;
    const cached = this.rows.get(c.id);
    if (cached && cached.c === c && cached.key === key) return cached.node;
    const node = buildRow(c, { me: this.userId, active, unread, pending });
    this.rows.set(c.id, { c, key, node });
    return node;
  }

  /** One tab stop for the whole list (the cursor's row); arrows and j/k move it. */
  updateRovingTabindex() {
    const current = this.shownIds.includes(this.selectedId) ? this.selectedId : this.shownIds[0];
    for (const [id, { node }] of this.rows) {
      const tabIndex = id === current ? 0 : -1;
      node.classList.toggle("selected", id === this.selectedId);
      for (const button of node.querySelectorAll("button")) button.tabIndex = tabIndex;
    }
  }

  renderTabs() {
    for (const tab of this.tabs) {
      const selected = tab.dataset.tab === this.tab;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      const count = tab.querySelector("[data-tab-count]");
      if (count) count.textContent = this.store.count(tab.dataset.tab, this.departmentId).toLocaleString();
      if (selected) this.panel.setAttribute("aria-labelledby", tab.id);
    }
  }

  renderChips() {
    const counts = this.store.waitingByDepartment();
    const total = [...counts.entries()].filter(([id]) => this.departmentIds.includes(id)).reduce((n, [, v]) => n + v, 0);
    const chips = [chip({ id: "", name: "All", count: total, pressed: this.departmentId === null })];
    for (const id of this.departmentIds) {
      chips.push(chip({ id, name: this.departmentName(id), count: counts.get(id) || 0, pressed: this.departmentId === id }));
    }
    // Rebuilding the chips would drop keyboard focus: update in place when
    // the set of departments is unchanged.
    const existing = [...this.chips.children];
    if (existing.length === chips.length && existing.every((node, i) => node.dataset.dept === chips[i].dataset.dept)) {
      existing.forEach((node, i) => {
        node.setAttribute("aria-pressed", chips[i].getAttribute("aria-pressed"));
        node.querySelector(".chip-name").textContent = chips[i].querySelector(".chip-name").textContent;
        node.querySelector(".chip-count").textContent = chips[i].querySelector(".chip-count").textContent;
      });
    } else {
      this.chips.replaceChildren(...chips);
    }
  }

  departmentName(id) {
    const known = this.directory.department(id);
    if (known) return known.name;
    for (const { c } of this.store.entries.values()) if (c.department_id === id) return c.department_name;
    return `Department ${id}`;
  }
}

function chip({ id, name, count, pressed }) {
  const props = { type: "button", class: "chip", "data-dept": String(id), "aria-pressed": String(pressed) };
  if (id !== "") props["data-dept-count"] = String(id);
  return el("button", props,
    el("span", { class: "chip-name" }, name), " ",
    el("span", { class: "chip-count" }, count.toLocaleString()),
    el("span", { class: "visually-hidden" }, " waiting"));
}

function statusText(c, me) {
  if (c.status === "snoozed") return `Snoozed until ${timeLabel(c.snoozed_until)}`;
  if (c.status === "assigned") return c.assignee_id === me ? "Yours" : `With ${c.assignee_name || "someone"}`;
  return "";
}

function buildRow(c, { me, active, unread, pending }) {
  const channel = channelInfo(c.channel);
  const where = [c.department_name, c.topic_name].filter(Boolean).join(" · ");
  const status = statusText(c, me);
  const slaId = c.sla_state ? `sla-${c.id}` : undefined;
  // The badge sits outside the row's button: describe the button by it, so
  // moving through the queue also reads each conversation's SLA.
  const open = el("button", { type: "button", class: "row-open", "aria-current": active ? "true" : undefined, "aria-describedby": slaId },
    el("span", { class: `channel channel-${c.channel}`, title: channel.name },
      icon(channel.icon), el("span", { class: "channel-label" }, channel.label)),
    el("span", { class: "row-main" },
      el("span", { class: "row-top" },
        el("span", { class: "row-name" }, c.patient_name),
        priorityBadge(c, { hook: true }),
        unread && el("span", { class: "row-unread" }, icon("unread"), "New message")),
      el("span", { class: "row-where" }, where || "No department"),
      status && el("span", { class: `row-status status-${c.status}` }, status)),
    c.waiting_since && el("span", { class: "row-wait", title: "Waiting for a reply" },
      el("span", { class: "visually-hidden" }, "waiting "),
      el("span", { "data-wait-since": c.waiting_since }, waitLabel(c.waiting_since))));
  const row = el("li", {
    class: "queue-row" + (active ? " active" : "") + (unread ? " unread" : "") + (c.sla_state ? " has-sla" : ""),
    "data-conversation-id": String(c.id), "data-status": c.status,
  }, open);
  const side = el("div", { class: "row-side" }, slaBadge(el("span", { class: "sla", "data-sla": "", id: slaId }), c));
  row.append(side);
  if (c.status === "queued") {
    side.append(el("button", {
      // aria-disabled, not disabled: a disabled button would drop keyboard focus.
      type: "button", class: "row-pickup", "data-action": "pick-up", "aria-disabled": pending ? "true" : undefined,
      "aria-label": `Pick up ${c.patient_name}`,
    }, pending ? "Picking up…" : "Pick up"));
  }
  return row;
}

function readState() {
  try {
    return JSON.parse(sessionStorage.getItem(STATE_KEY)) || {};
  } catch {
    return {};
  }
}

function saveState(view) {
  try {
    sessionStorage.setItem(STATE_KEY, JSON.stringify({ tab: view.tab, departmentId: view.departmentId }));
  } catch {
    // Private mode or quota: the filter simply is not remembered.
  }
}

