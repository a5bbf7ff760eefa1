// The right column: who the patient is, how they can be reached (and
// whether they agreed to texts), and their other conversations. The EHR
// section is left for the EHR integration to fill.

import { getPatient, getPatientConversations } from "./api.js";
import { el, icon } from "./dom.js";
import { birthDateLabel, channelInfo, dateLabel } from "./format.js";

const CONTACT_KINDS = { phone: "Phone", web: "Web chat", external: "External id" };
const STATUS = { queued: "Waiting", assigned: "Open", snoozed: "Snoozed", resolved: "Resolved" };

export class PatientPanel {
  constructor({ onPatient }) {
    this.onPatient = onPatient;
    this.root = document.getElementById("patient-panel");
    this.body = document.getElementById("patient-details");
    this.patientId = null;
    this.token = 0;
  }

  clear() {
    this.patientId = null;
    this.token += 1;
    this.body.replaceChildren(el("p", { class: "muted" }, "Open a conversation to see the patient."));
  }

  /** Show a patient; `conversationId` is the open one (marked in the list). */
  async show(patientId, conversationId, { quiet = false } = {}) {
    const token = ++this.token;
    this.patientId = patientId;
    this.body.setAttribute("aria-busy", "true");
    const [patient, conversations] = await Promise.allSettled([
      getPatient(patientId), getPatientConversations(patientId),
    ]);
    if (token !== this.token) return;
    this.body.removeAttribute("aria-busy");
    if (patient.status === "rejected") {
      if (quiet) return; // a background refresh: keep what is shown
      this.body.replaceChildren(el("p", { class: "error" }, `Patient details could not be loaded: ${patient.reason.detail}`));
      this.onPatient(null);
      return;
    }
    const p = patient.value;
    this.body.replaceChildren(
      identity(p),
      contacts(p.contact_points),
      history(conversations, conversationId),
    );
    this.onPatient(p);
  }

  /** Refresh the conversation list (a status changed) without flicker. */
  refresh(conversationId) {
    if (this.patientId !== null) this.show(this.patientId, conversationId, { quiet: true });
  }
}

function identity(p) {
  const facts = [["Date of birth", birthDateLabel(p.date_of_birth) || "Not on file"], ["Patient since", dateLabel(p.created_at)]];
  return el("section", { class: "panel-section", "aria-labelledby": "patient-name" },
    el("h3", { id: "patient-name", class: "patient-name" }, p.display_name),
    el("dl", { class: "facts" }, facts.flatMap(([t, d]) => [el("dt", {}, t), el("dd", {}, d)])));
}

function contacts(points) {
  const items = points.map((c) => el("li", { class: "contact" },
    el("span", { class: "contact-kind" }, CONTACT_KINDS[c.kind] || c.kind),
    " ",
    // Web-chat visitor ids are long tokens: shown shortened, in full on hover.
    el("span", { class: `contact-address contact-${c.kind}`, title: c.address }, c.address),
    c.kind === "phone" && (c.sms_opted_out
      ? el("span", { class: "badge badge-danger" }, "Opted out of SMS")
      : el("span", { class: "badge badge-ok" }, "SMS OK"))));
  return el("section", { class: "panel-section", "aria-labelledby": "contacts-title" },
    el("h3", { id: "contacts-title" }, "Contact"),
    items.length ? el("ul", { class: "contacts" }, items) : el("p", { class: "muted" }, "No contact points on file."));
}

function history(result, currentId) {
  const section = el("section", { class: "panel-section", "aria-labelledby": "history-title" },
    el("h3", { id: "history-title" }, "Conversations"));
  if (result.status === "rejected") {
    section.append(el("p", { class: "error" }, `Could not be loaded: ${result.reason.detail}`));
    return section;
  }
  if (!result.value.length) {
    section.append(el("p", { class: "muted" }, "No other conversations."));
    return section;
  }
  section.append(el("ul", { class: "history" }, result.value.map((c) => {
    const current = c.id === currentId;
    const channel = channelInfo(c.channel);
    const label = `${dateLabel(c.created_at)} · ${c.department_name}${c.topic_name ? ` · ${c.topic_name}` : ""}`;
    const status = c.status === "resolved" && c.disposition === "follow_up" ? "Resolved, follow-up" : STATUS[c.status] || c.status;
    return el("li", { class: "history-item" + (current ? " current" : "") },
      current
        ? el("span", { "aria-current": "page" }, label, el("span", { class: "muted" }, " (viewing)"))
        : el("a", { href: `#conversation/${c.id}` }, label),
      el("span", { class: "history-meta" },
        el("span", { class: `channel channel-${c.channel}` }, icon(channel.icon), el("span", { class: "channel-label" }, channel.label)),
        el("span", { class: `status-text status-${c.status}` }, status)));
  })));
  return section;
}
