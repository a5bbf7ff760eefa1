// Badges shared by the queue rows and the thread header: the priority
// marker and the SLA clock. An SLA badge is filled from a conversation
// snapshot, then redrawn by tickSla() on the page's one-second timer: its
// state moves on with time alone (running → due soon → overdue) without any
// new snapshot, and the server's own warning or breach may come a second
// after the deadline the agent is watching.

import { serverNow } from "./clock.js";
import { el, icon, setChildren } from "./dom.js";
import { clockLabel, isHigh, isUrgent, spokenDuration } from "./format.js";

const KINDS = {
  first_response: { short: "1st reply", long: "First reply" },
  next_response: { short: "Next reply", long: "Next reply" },
  resolution: { short: "Resolve", long: "Resolution" },
};
const ANY_KIND = { short: "SLA", long: "SLA" };

// Under this share of its time left a clock shows "due soon" even before the
// server's warning (at the policy's warning point, 75% by default) arrives.
const DUE_SOON_FRACTION = 0.25;

const badges = new WeakMap(); // badge node -> { c, compact, drawn }
// The clock each conversation was last seen running: once it breaches, the
// snapshot moves on to the next clock (resolution), and this is what still
// says how long ago the missed deadline was.
const runningClocks = new Map(); // conversation id -> { kind, deadline, waitingSince }

/**
 * "Urgent" (red) or "High" for priority 1; null otherwise. `hook` adds the
 * queue row's data-urgent test hook (rows only, so it stays unique per row).
 */
export function priorityBadge(c, { hook = false } = {}) {
  if (isUrgent(c)) return el("span", { class: "urgent", "data-urgent": hook ? "" : undefined }, icon("urgent"), "Urgent");
  if (isHigh(c)) {
    return el("span", { class: "priority-high", "data-priority": "high" },
      icon("high"), "High", el("span", { class: "visually-hidden" }, " priority"));
  }
  return null;
}

/**
 * Fill `node` (a span.sla) with a conversation's SLA clock. `compact`: the
 * queue row's short form; the thread header also says what comes next
 * after a missed target. Returns the node.
 */
export function slaBadge(node, c, { compact = true } = {}) {
  // After a breach the snapshot shows the resolution clock (a reply clock
  // that is running again is shown even while "breached" stays on).
  const live = c.sla_state === "running" || c.sla_state === "warning" ||
    (c.sla_state === "breached" && c.sla_kind !== "resolution");
  if (c.sla_deadline && live) {
    runningClocks.set(c.id, { kind: c.sla_kind, deadline: Date.parse(c.sla_deadline), waitingSince: c.waiting_since });
  }
  badges.set(node, { c, compact, drawn: null });
  drawSla(node, serverNow());
  return node;
}

/** Redraw every SLA badge on the page (each second, with the wait clocks). */
export function tickSla(now = serverNow()) {
  for (const node of document.querySelectorAll(".sla[data-sla-state]")) drawSla(node, now);
}

/** What a badge says at `now`: null when the conversation has no SLA clock. */
export function slaView(c, now, { compact = true } = {}) {
  const state = c.sla_state;
  if (!state) return null;
  const kind = KINDS[c.sla_kind] || ANY_KIND;
  if (state === "paused") {
    return { state: "paused", icon: "pause", kind: kind.short, text: "Paused", spoken: `${kind.long} SLA paused` };
  }
  const deadline = c.sla_deadline ? Date.parse(c.sla_deadline) : null;
  // Past the deadline is overdue, whether or not the server has said so yet.
  if (deadline !== null && deadline <= now) return overdue(kind, now - deadline);
  if (state === "breached") {
    const missed = runningClocks.get(c.id);
    const stillLate = missed && missed.deadline <= now &&
      (missed.kind === "resolution" || (c.waiting_since && c.waiting_since === missed.waitingSince));
    if (stillLate) return overdue(KINDS[missed.kind] || ANY_KIND, now - missed.deadline);
    // Never answered and still waiting: the first reply is what is late
    // (by how much the snapshot does not say).
    if (c.waiting_since && !c.first_response_at) return overdue(KINDS.first_response, null);
    // A target was missed earlier (the state stays "breached" while the
    // conversation is open); the clock shown now is the next one.
    const next = deadline === null ? "" : `${kind.short} ${clockLabel(deadline - now, Math.ceil)} left`;
    return {
      state: "breached", icon: "urgent", kind: "", text: "SLA missed", extra: compact ? "" : next,
      spoken: "An SLA target was missed" +
        (deadline === null ? "" : `; ${kind.long.toLowerCase()} due in ${spokenDuration(deadline - now, Math.ceil)}`),
    };
  }
  if (deadline === null) return { state, icon: "clock", kind: kind.short, text: "", spoken: `${kind.long} SLA running` };
  const left = deadline - now;
  const soon = state === "warning" || dueSoon(c, deadline, now);
  return {
    state: soon ? "warning" : "running", icon: soon ? "urgent" : "clock", kind: kind.short,
    text: `${clockLabel(left, Math.ceil)} left`,
    spoken: soon
      ? `${kind.long} due soon: ${spokenDuration(left, Math.ceil)} left`
      : `${kind.long} due in ${spokenDuration(left, Math.ceil)}`,
  };
}

/** ms: how long past the deadline, or null when that is not known. */
function overdue(kind, ms) {
  return {
    state: "breached", icon: "urgent", kind: kind.short, text: ms === null ? "Overdue" : `Overdue ${clockLabel(ms)}`,
    spoken: ms === null ? `${kind.long} overdue` : `${kind.long} overdue by ${spokenDuration(ms)}`,
  };
}

/**
 * Under a quarter of the clock's time left. The snapshot has no start or
 * target, so the start is estimated: the conversation's opening for a first
 * reply, the patient's last message for a next reply. (Not for resolution:
 * a reopened conversation keeps its old created_at.)
 */
function dueSoon(c, deadline, now) {
  const start = c.sla_kind === "first_response" ? c.created_at : c.sla_kind === "next_response" ? c.waiting_since : null;
  if (!start) return false;
  const total = deadline - Date.parse(start);
  return total > 0 && deadline - now < total * DUE_SOON_FRACTION;
}

function drawSla(node, now) {
  const entry = badges.get(node);
  if (!entry) return;
  const view = slaView(entry.c, now, { compact: entry.compact });
  const drawn = view ? `${view.state}|${view.kind}|${view.text}|${view.extra || ""}` : "";
  if (drawn === entry.drawn) return; // paused, missed, hours away: nothing to redraw this second
  entry.drawn = drawn;
  if (!view) {
    node.removeAttribute("data-sla-state");
    node.removeAttribute("title");
    node.replaceChildren();
    return;
  }
  node.dataset.slaState = view.state;
  node.title = view.spoken;
  // The short visual form is hidden from screen readers, which get the
  // sentence instead ("First reply due in 2 minutes 14 seconds").
  setChildren(node,
    el("span", { class: "sla-visual", "aria-hidden": "true" },
      icon(view.icon),
      view.kind && el("span", { class: "sla-kind" }, view.kind),
      view.text && el("span", { class: "sla-time" }, view.text)),
    el("span", { class: "visually-hidden" }, view.spoken),
    view.extra && el("span", { class: "sla-next", "aria-hidden": "true" }, view.extra));
}
