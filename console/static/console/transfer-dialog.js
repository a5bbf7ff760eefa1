// Transfer: hand the conversation to a department's queue or to a colleague
// (shown with presence and load, so agents pick someone who can take it),
// with a required reason that the next person reads on the timeline.

import { transfer } from "./api.js";
import { FormDialog } from "./dialog.js";
import { el } from "./dom.js";
import { PRESENCE_LABELS } from "./format.js";

const PRESENCE_ORDER = ["available", "busy", "away", "offline"];

export class TransferDialog extends FormDialog {
  constructor({ directory, userId, onDone }) {
    super(document.getElementById("transfer-dialog"));
    this.directory = directory;
    this.userId = userId;
    this.onDone = onDone;
    this.department = document.getElementById("transfer-department");
    this.agent = document.getElementById("transfer-agent");
    this.reason = document.getElementById("transfer-reason");
    this.context = document.getElementById("transfer-context");
    this.conversation = null;
    // One target only: choosing one clears the other.
    this.department.addEventListener("change", () => { if (this.department.value) this.agent.value = ""; });
    this.agent.addEventListener("change", () => { if (this.agent.value) this.department.value = ""; });
    directory.addEventListener("change", () => { if (this.dialog.open) this.populate(); });
  }

  open(conversation) {
    this.conversation = conversation;
    this.department.value = "";
    this.agent.value = "";
    this.reason.value = "";
    this.context.textContent = `${conversation.patient_name} is in ${conversation.department_name}` +
      (conversation.assignee_name ? `, with ${conversation.assignee_name}.` : ", waiting.");
    this.populate();
    this.show(this.department);
    // Loads and presence change all the time: show what we have, then refresh.
    this.directory.refresh().catch(() => {});
  }

  populate() {
    const c = this.conversation;
    const { departments, staff } = this.directory.data;
    keepSelection(this.department, () => [
      el("option", { value: "" }, "Choose a department…"),
      ...departments.map((d) => el("option", { value: String(d.id) },
        `${d.name} — ${d.waiting.toLocaleString()} waiting${d.id === c.department_id ? " (current)" : ""}`)),
    ]);
    const names = new Map(departments.map((d) => [d.id, d.name]));
    const groups = PRESENCE_ORDER.map((presence) => {
      const people = staff
        .filter((s) => s.user_id !== this.userId && s.presence === presence)
        .sort((a, b) => a.load / (a.capacity || 1) - b.load / (b.capacity || 1) || a.name.localeCompare(b.name));
      if (!people.length) return null;
      return el("optgroup", { label: PRESENCE_LABELS[presence] || presence }, people.map((s) => {
        const full = s.capacity && s.load >= s.capacity;
        const depts = s.department_ids.map((id) => names.get(id)).filter(Boolean).join(", ") || "All departments";
        const current = s.user_id === c.assignee_id;
        return el("option", { value: String(s.user_id), disabled: current },
          `${s.name} — ${PRESENCE_LABELS[s.presence] || s.presence} · ${s.load}/${s.capacity} open${full ? " (full)" : ""} · ${depts}` +
          (current ? " (has it now)" : ""));
      }));
    });
    keepSelection(this.agent, () => [el("option", { value: "" }, "Choose a person…"), ...groups.filter(Boolean)]);
  }

  submit() {
    const departmentId = Number(this.department.value) || null;
    const agentId = Number(this.agent.value) || null;
    const reason = this.reason.value.trim();
    if (!departmentId && !agentId) return this.showError("Choose a department or a person.", this.department);
    if (!reason) return this.showError("Give a reason: the next person reads it.", this.reason);
    const id = this.conversation.id;
    const target = departmentId
      ? this.directory.department(departmentId)?.name
      : this.directory.staffMember(agentId)?.name;
    return this.run(async () => {
      const { conversation } = await transfer(id, { reason, departmentId, agentId });
      this.onDone(conversation, `Transferred to ${target || "the new owner"}.`);
    });
  }
}

/** Rebuild a select's options without losing what the agent chose. */
function keepSelection(select, build) {
  const value = select.value;
  select.replaceChildren(...build());
  select.value = value;
  if (select.value !== value) select.value = "";
}
