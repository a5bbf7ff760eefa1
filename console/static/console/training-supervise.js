// Supervisors on the practice page: the team's finished runs to review, and
// scenario assignments (assign with an optional due date; status per
// assignment; withdraw).

import { byId, el, setChildren } from "./dom.js";
import * as api from "./training-api.js";
import { outcomeLabel, when } from "./training-format.js";

const STATUS = { open: "Open", overdue: "Overdue", done: "Done", late: "Done late" };
const STATUS_BADGE = { open: "badge-auto", overdue: "badge-danger", done: "badge-ok", late: "badge-warn" };

const hiddenHeader = (text) => el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, text));

export function runsTable(runs, { caption, showAgent, onOpen }) {
  if (!runs.length) return el("p", { class: "empty-note" }, "No runs yet.");
  return el("table", { class: "data" },
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {},
      showAgent ? el("th", { scope: "col" }, "Agent") : null,
      el("th", { scope: "col" }, "Scenario"), el("th", { scope: "col" }, "Started"),
      el("th", { scope: "col" }, "Outcome"), el("th", { scope: "col" }, "Score"),
      el("th", { scope: "col" }, "Review"), hiddenHeader("Open"))),
    el("tbody", {}, runs.map((r) => el("tr", { "data-run": r.id },
      showAgent ? el("td", {}, r.user_name) : null,
      el("td", {}, r.scenario_title), el("td", {}, when(r.started_at)),
      el("td", {}, outcomeLabel(r.outcome)),
      el("td", { class: "num" }, r.score ?? "–"),
      el("td", {}, r.reviewed ? `${r.review_percent}%` : "–"),
      el("td", {}, el("button", { type: "button", class: "secondary small", onclick: () => onOpen(r) },
        r.status === "in_progress" ? "Resume" : (showAgent && !r.reviewed ? "Review" : "Open"),
        el("span", { class: "visually-hidden" }, ` ${r.scenario_title}, ${when(r.started_at)}`)))))));
}

export class Supervision {
  constructor(boot, { onOpenRun }) {
    this.onOpenRun = onOpenRun;
    this.form = byId("assign-form");
    this.error = byId("assign-error");
    setChildren(byId("assign-people"), el("legend", {}, "Assign to"),
      boot.team.filter((p) => p.id !== boot.user.id).map((p) => el("label", { class: "person" },
        el("input", { type: "checkbox", name: "people", value: String(p.id) }), ` ${p.name} `,
        el("span", { class: "muted" }, `(${p.role})`))));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.assign();
    });
  }

  setScenarios(scenarios) {
    const select = byId("assign-scenario");
    const chosen = select.value;
    setChildren(select, scenarios.map((s) => el("option", { value: s.slug, selected: s.slug === chosen }, s.title)));
  }

  async refresh() {
    const [runs, assignments] = await Promise.all([api.listRuns({ team: true }), api.listAssignments()]);
    setChildren(byId("team-runs"), runsTable(runs, {
      caption: "The team's finished practice runs", showAgent: true, onOpen: (r) => this.onOpenRun(r.id),
    }));
    setChildren(byId("assignment-list"), this.assignmentTable(assignments));
  }

  assignmentTable(items) {
    if (!items.length) return el("p", { class: "empty-note" }, "Nothing assigned yet.");
    return el("table", { class: "data" },
      el("caption", { class: "visually-hidden" }, "Assignments and where each stands"),
      el("thead", {}, el("tr", {}, ["Agent", "Scenario", "Assigned", "Due", "Status", "Score"].map(
        (h) => el("th", { scope: "col" }, h)), hiddenHeader("Withdraw"))),
      el("tbody", {}, items.map((a) => el("tr", { "data-assignment": a.id },
        el("td", {}, a.user_name), el("td", {}, a.scenario_title), el("td", {}, when(a.assigned_at)),
        el("td", {}, a.due || "–"),
        el("td", {}, el("span", { class: `badge ${STATUS_BADGE[a.status] || ""}` }, STATUS[a.status] || a.status)),
        el("td", { class: "num" }, a.score ?? "–"),
        el("td", {}, a.completed_at ? null : el("button", {
          type: "button", class: "link", onclick: () => this.withdraw(a),
        }, "Withdraw", el("span", { class: "visually-hidden" }, ` ${a.scenario_title} for ${a.user_name}`)))))));
  }

  async assign() {
    const people = [...this.form.querySelectorAll("input[name=people]:checked")].map((i) => Number(i.value));
    this.showError("");
    if (!people.length) {
      this.showError("Choose at least one person.");
      return;
    }
    try {
      const made = await api.assign(byId("assign-scenario").value, people, byId("assign-due").value);
      byId("assign-status").textContent = `Assigned to ${made.length} ${made.length === 1 ? "person" : "people"}.`;
      for (const box of this.form.querySelectorAll("input[name=people]")) box.checked = false;
      await this.refresh();
    } catch (err) {
      this.showError(err.detail || String(err));
    }
  }

  async withdraw(assignment) {
    try {
      await api.removeAssignment(assignment.id);
      byId("assign-status").textContent = "Assignment withdrawn.";
      await this.refresh();
    } catch (err) {
      this.showError(err.detail || String(err));
    }
  }

  showError(message) {
    this.error.hidden = !message;
    this.error.textContent = message;
  }
}
