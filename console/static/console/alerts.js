// Alerts from the practice stream (alert.created): an urgent symptom, an
// SLA due soon or missed. A tray above the work area, newest on top, each
// kept until dismissed and with a button to open its conversation. Urgent
// alerts interrupt screen readers (assertive); the others wait their turn.
//
// The tray survives a reload (sessionStorage): a resync reloads the page,
// and an alert a supervisor has not seen yet must not vanish with it.

import { el, icon } from "./dom.js";
import { timeLabel } from "./format.js";

const MAX_KEPT = 20;
const MAX_SEEN = 500; // (stream, seq) keys remembered to drop repeats
const RESTORE_HOURS = 12;
const STORE_KEY = "hub.console.alerts";

const KINDS = {
  urgent: { label: "Urgent", icon: "urgent" },
  sla_warning: { label: "SLA due soon", icon: "clock" },
  sla_breach: { label: "SLA missed", icon: "urgent" },
};

export class AlertTray {
  /**
   * wants(alert): whether this person should see it (supervisors all, agents
   * only urgent ones of their own). onOpen(conversationId) opens it.
   */
  constructor({ wants, onOpen, announcer, urgentAnnouncer }) {
    this.wants = wants;
    this.onOpen = onOpen;
    this.announcer = announcer;
    this.urgentAnnouncer = urgentAnnouncer;

    this.root = document.getElementById("alerts");
    this.list = document.getElementById("alert-list");
    this.count = this.root.querySelector("[data-alert-count]");
    this.dismissAllButton = this.root.querySelector('[data-action="dismiss-all-alerts"]');

    this.items = []; // newest first: { key, alert }
    this.nodes = new Map(); // key -> <li>
    this.seen = new Set();

    this.list.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      const item = button?.closest("li[data-alert-key]");
      if (!item) return;
      const entry = this.items.find((i) => i.key === item.dataset.alertKey);
      if (!entry) return;
      if (button.dataset.action === "open-alert") this.onOpen(entry.alert.conversation_id);
      else if (button.dataset.action === "dismiss-alert") this.dismiss(entry.key);
    });
    this.dismissAllButton.addEventListener("click", () => this.dismissAll());
    this.restore();
  }

  /** An alert.created stream message ({stream, seq, payload}). */
  add(msg) {
    const key = `${msg.stream}:${msg.seq}`;
    // The Stream drops repeats per stream; this also covers a reload that
    // restored the tray and a replay of the same entries.
    if (this.seen.has(key)) return;
    this.remember(key);
    const alert = msg.payload;
    if (!this.wants(alert)) return;
    this.items.unshift({ key, alert });
    this.items.length = Math.min(this.items.length, MAX_KEPT);
    this.render();
    this.save();
    this.announce(alert);
  }

  dismiss(key) {
    const at = this.items.findIndex((i) => i.key === key);
    if (at === -1) return;
    const node = this.nodes.get(key);
    const hadFocus = node?.contains(document.activeElement);
    this.items.splice(at, 1);
    this.render();
    this.save();
    if (hadFocus) {
      // Focus stays in the tray: the alert now in that place, else the one above.
      const next = this.items[at] || this.items[at - 1];
      const target = next ? this.nodes.get(next.key).querySelector('[data-action="open-alert"]') : null;
      (target || document.getElementById("queue-panel")).focus();
    }
  }

  dismissAll() {
    const hadFocus = this.root.contains(document.activeElement);
    this.items = [];
    this.render();
    this.save();
    if (hadFocus) document.getElementById("queue-panel").focus();
  }

  // --- internals ---------------------------------------------------------

  render() {
    const keys = new Set(this.items.map((i) => i.key));
    for (const [key, node] of this.nodes) {
      if (!keys.has(key)) {
        node.remove();
        this.nodes.delete(key);
      }
    }
    // Newest first: walk the list in order, inserting new nodes in place.
    let cursor = this.list.firstElementChild;
    for (const { key, alert } of this.items) {
      let node = this.nodes.get(key);
      if (!node) {
        node = buildAlert(key, alert);
        this.nodes.set(key, node);
      }
      if (node === cursor) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(node, cursor);
    }
    const n = this.items.length;
    // Newest first can push an urgent alert below the fold of the list: the
    // heading counts them so they are not missed.
    const urgent = this.items.filter((i) => i.alert.kind === "urgent").length;
    this.root.hidden = n === 0;
    this.count.textContent = n ? `(${n}${urgent && urgent < n ? `, ${urgent} urgent` : ""})` : "";
    this.dismissAllButton.hidden = n < 2;
    this.root.classList.toggle("has-urgent", urgent > 0);
  }

  announce(alert) {
    const kind = KINDS[alert.kind] || { label: "Alert" };
    const text = `${kind.label} alert: ${alert.patient_name}, ${alert.department_name}. ${alert.text}`;
    if (alert.kind === "urgent") this.urgentAnnouncer.say(text);
    else this.announcer.say(text);
  }

  remember(key) {
    this.seen.add(key);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.values().next().value);
  }

  save() {
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify({ items: this.items, seen: [...this.seen] }));
    } catch {
      // Private mode or quota: the tray just does not survive a reload.
    }
  }

  restore() {
    let saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(STORE_KEY));
    } catch {
      saved = null;
    }
    if (!saved || !Array.isArray(saved.items)) return;
    const since = Date.now() - RESTORE_HOURS * 3600000;
    for (const key of saved.seen || []) this.remember(key);
    this.items = saved.items
      .filter((i) => i?.key && i.alert && Date.parse(i.alert.created_at) > since && this.wants(i.alert))
      .slice(0, MAX_KEPT);
    this.render();
  }
}

function buildAlert(key, alert) {
  const kind = KINDS[alert.kind] || { label: "Alert", icon: "bell" };
  const patient = alert.patient_name || "A patient";
  return el("li", { class: `alert alert-${alert.kind}`, "data-alert-kind": alert.kind, "data-alert-key": key },
    el("span", { class: "alert-kind" }, icon(kind.icon), kind.label),
    el("div", { class: "alert-body" },
      el("p", { class: "alert-what" },
        el("span", { class: "alert-patient" }, patient),
        alert.department_name && el("span", { class: "alert-dept" }, ` · ${alert.department_name}`),
        " ",
        el("time", { class: "alert-time", dateTime: alert.created_at }, timeLabel(alert.created_at))),
      el("p", { class: "alert-text" }, alert.text)),
    el("div", { class: "alert-actions" },
      el("button", { type: "button", class: "small", "data-action": "open-alert" },
        "Open", el("span", { class: "visually-hidden" }, ` ${patient}'s conversation`)),
      el("button", { type: "button", class: "alert-dismiss", "data-action": "dismiss-alert",
        "aria-label": `Dismiss the ${kind.label.toLowerCase()} alert about ${patient}` }, "×")));
}
