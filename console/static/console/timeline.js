// Rendering of one timeline entry (an EventOut) as an <li>. Pure builders:
// the thread view decides where entries go and when they are replaced.

import { el, icon } from "./dom.js";
import { channelInfo, formatBytes, fullTimeLabel, timeLabel } from "./format.js";

const SYSTEM_KINDS = new Set(["assignment", "transfer", "status", "system"]);
// Content the practice's retention policy removed (the event itself stays).
const PURGED_NOTE = "removed under the practice's retention policy";

// Delivery moves forward only; failures are final.
const DELIVERY_RANK = { "": 0, pending: 1, queued: 2, sending: 3, sent: 4, delivered: 5, read: 6, failed: 7, undelivered: 7 };
const DELIVERY = {
  pending: ["◷", "Sending"],
  queued: ["◷", "Queued"],
  sending: ["◷", "Sending"],
  sent: ["✓", "Sent"],
  delivered: ["✓✓", "Delivered"],
  read: ["✓✓", "Read"],
  failed: ["⚠", "Failed"],
  undelivered: ["⚠", "Not delivered"],
};

/** ev-in / ev-out / ev-note / ev-internal: where and how an entry is drawn. */
export function eventSide(e) {
  if (e.kind === "note") return "ev-note";
  if (SYSTEM_KINDS.has(e.kind) || e.direction === "internal") return "ev-internal";
  return e.direction === "in" ? "ev-in" : "ev-out";
}

/**
 * Should `next` replace `current` (same event id)? The POST answer, the
 * stream's event.created and event.updated can arrive in any order; never
 * go back to an older delivery state or to attachments still arriving.
 */
export function isNewer(current, next) {
  const rank = (e) => DELIVERY_RANK[e.delivery_status] ?? 0;
  if (rank(next) !== rank(current)) return rank(next) > rank(current);
  const settled = (e) => (e.data?.attachments || []).filter((a) => a.status !== "pending").length;
  return settled(next) >= settled(current);
}

export function renderEvent(e, { patientName = "Patient" } = {}) {
  const side = eventSide(e);
  const item = el("li", { class: `ev ${side} ev-kind-${e.kind}`, "data-event-id": String(e.id), "data-seq": String(e.seq) });
  if (side === "ev-internal") {
    item.append(systemLine(e));
    return item;
  }
  if (side === "ev-note") {
    item.append(el("p", { class: "note-label" }, icon("note"), "Internal note — not sent to the patient"));
  }
  item.append(meta(e, side, patientName));
  if (e.kind === "call") item.append(callBody(e));
  else if (e.purged && !e.body) item.append(purgedBody(e.kind === "note" ? "Note" : "Message"));
  else if (e.body) item.append(el("p", { class: "ev-body" }, e.body));
  const files = attachments(e);
  if (files) item.append(files);
  if (side === "ev-out" && e.kind === "message") item.append(delivery(e));
  return item;
}

function when(e) {
  return el("time", { dateTime: e.created_at, title: fullTimeLabel(e.created_at) }, timeLabel(e.created_at));
}

function meta(e, side, patientName) {
  const automatic = Boolean(e.data?.automatic);
  const who = side === "ev-in" ? patientName : e.author_name || (automatic ? "Automatic reply" : "The practice");
  const channel = side === "ev-note" ? null : channelInfo(e.channel);
  return el("p", { class: "ev-meta" },
    el("span", { class: "ev-author" }, who),
    // Say "automatic" even when a person's name is attached to it.
    automatic && e.author_name && el("span", { class: "badge badge-auto" }, "Automatic reply"),
    channel && el("span", { class: "ev-channel" }, icon(channel.icon), channel.label),
    when(e));
}

function callBody(e) {
  const voicemail = Boolean(e.data?.voicemail || e.data?.transcript);
  return el("div", { class: "ev-call" },
    el("p", { class: "ev-call-title" }, icon("voice"), voicemail ? "Voicemail" : "Phone call"),
    e.purged && !e.body ? purgedBody("Details") : e.body && el("p", { class: "ev-body" }, e.body));
}

function purgedBody(what) {
  return el("p", { class: "ev-body ev-purged" }, `${what} ${PURGED_NOTE}`);
}

function systemLine(e) {
  const reason = e.data?.reason;
  // Transfers already name their reason in the body; say it only if not.
  const extra = e.kind === "transfer" && reason && !e.body.includes(reason) ? ` — Reason: ${reason}` : "";
  const text = e.purged && !e.body ? `Details ${PURGED_NOTE}` : e.body + extra;
  return el("p", { class: "ev-system" }, el("span", {}, text), " ", when(e));
}

function delivery(e) {
  const [glyph, label] = DELIVERY[e.delivery_status] || ["", e.delivery_status || "Unknown"];
  return el("p", { class: "delivery", "data-status": e.delivery_status },
    el("span", { class: "delivery-glyph", "aria-hidden": "true" }, glyph),
    el("span", {}, label),
    e.delivery_error && el("span", { class: "delivery-error" }, `: ${e.delivery_error}`));
}

function attachments(e) {
  const items = e.data?.attachments || [];
  if (!items.length) return null;
  return el("ul", { class: "attachments", "aria-label": "Attachments" }, items.map(attachment));
}

function attachment(a) {
  const url = `/console/attachments/${encodeURIComponent(a.id)}`;
  const name = a.filename || (a.content_type === "application/pdf" ? "Document.pdf" : "Attachment");
  if (a.status === "pending") return el("li", { class: "file file-pending" }, `${name} arriving…`);
  if (a.status === "purged") {
    const what = (a.content_type || "").startsWith("audio/") ? "Recording" : "File";
    return el("li", { class: "file file-purged" }, `${what} ${PURGED_NOTE}`);
  }
  if (a.status === "rejected") {
    return el("li", { class: "file file-rejected" }, `${name} was not accepted${a.reason ? `: ${a.reason}` : "."}`);
  }
  if (a.status !== "stored") {
    return el("li", { class: "file file-rejected" }, `${name} could not be received${a.reason ? `: ${a.reason}` : "."}`);
  }
  if ((a.content_type || "").startsWith("image/")) {
    return el("li", { class: "file file-image" },
      el("a", { href: url, target: "_blank", rel: "noopener", title: `Open ${name} full size` },
        el("img", { src: url, alt: a.filename ? `Picture: ${a.filename}` : "Picture from the patient", loading: "lazy" })));
  }
  const kind = a.content_type === "application/pdf" ? "PDF" : a.content_type || "file";
  return el("li", { class: "file" },
    el("a", { href: url, target: "_blank", rel: "noopener" }, icon("file"), name),
    el("span", { class: "file-info" }, ` (${[kind, formatBytes(a.size)].filter(Boolean).join(", ")})`));
}
