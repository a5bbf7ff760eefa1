// The role-play practice page (/console/training/, docs/training.md): the
// scenario list with assignments and past scores, playing a run, and its
// scorecard. The address remembers an open run (#run/<id>), so a reload
// comes back to it.

import { byId, el, setChildren } from "./dom.js";
import * as api from "./training-api.js";
import { Player } from "./training-play.js";
import { renderReview, renderScorecard } from "./training-scorecard.js";
import { Supervision, runsTable } from "./training-supervise.js";

const boot = JSON.parse(byId("training-boot").textContent);
const views = { home: byId("home-view"), play: byId("play-view"), result: byId("result-view") };

let lastRun = null;
const player = new Player(boot, { onComplete: showResult });
const supervision = boot.may_supervise ? new Supervision(boot, { onOpenRun: openRun }) : null;

function setHash(hash) {
  history.replaceState(null, "", hash ? `#${hash}` : location.pathname);
}

function showView(name, heading) {
  for (const [key, view] of Object.entries(views)) view.hidden = key !== name;
  if (name !== "play") player.stop();
  heading?.focus();
}

function showError(message) {
  const error = byId("home-error");
  error.hidden = !message;
  error.textContent = message;
}

function scenarioItem(s) {
  const assignment = s.assignment && !s.assignment.completed_at ? s.assignment : null;
  const titleId = `scenario-${s.slug}`;
  const assignedBadge = assignment && el("span", {
    class: `badge ${assignment.status === "overdue" ? "badge-danger" : "badge-warn"}`, "data-assigned": "true",
  }, assignment.due ? `Assigned to you · due ${assignment.due}` : "Assigned to you");
  const open = () => (s.in_progress_run_id ? openRun(s.in_progress_run_id) : start(s.slug));
  return el("li", { class: "scenario", "data-scenario": s.slug, "aria-labelledby": titleId },
    el("div", { class: "scenario-head" },
      el("h3", { id: titleId }, s.title),
      assignedBadge),
    el("p", { class: "scenario-meta muted" },
      `${s.channel_label} · ${s.department_label} · target ${s.target_response_seconds} s`),
    el("p", {}, s.summary),
    el("p", { class: "skills" }, s.skills.map((k) => el("span", { class: "chip" }, k))),
    el("p", { class: "scenario-scores" }, s.runs
      ? `Best ${s.best_score} · last ${s.last_score} · ${s.runs} ${s.runs === 1 ? "run" : "runs"}` : "Not played yet"),
    el("button", { type: "button", onclick: open },
      s.in_progress_run_id ? "Resume" : "Start", el("span", { class: "visually-hidden" }, ` ${s.title}`)));
}

async function showHome() {
  setHash("");
  showView("home");
  showError("");
  try {
    const [scenarios, runs] = await Promise.all([api.listScenarios(), api.listRuns()]);
    const list = byId("scenario-list");
    setChildren(list, scenarios.map(scenarioItem));
    list.removeAttribute("aria-busy");
    setChildren(byId("my-runs"), runsTable(runs, { caption: "Your practice runs", showAgent: false,
      onOpen: (r) => openRun(r.id) }));
    if (supervision) {
      supervision.setScenarios(scenarios);
      await supervision.refresh();
    }
  } catch (err) {
    showError(err.detail || String(err));
  }
}

async function start(slug) {
  try {
    play(await api.startRun(slug));
  } catch (err) {
    showError(err.detail || String(err));
  }
}

function play(run) {
  lastRun = run;
  setHash(`run/${run.id}`);
  showView("play");
  player.open(run);
}

function showResult(run) {
  lastRun = run;
  setHash(`run/${run.id}`);
  byId("result-again").hidden = run.user_id !== boot.user.id;
  renderScorecard(run);
  renderReview(run, { onReviewed: showResult });
  showView("result", byId("result-title"));
}

async function openRun(id) {
  try {
    const run = await api.getRun(id);
    if (run.may_act) play(run);
    else showResult(run);
  } catch (err) {
    showView("home");
    showError(err.detail || String(err));
  }
}

byId("play-leave").addEventListener("click", showHome);
byId("result-back").addEventListener("click", showHome);
byId("result-again").addEventListener("click", () => start(lastRun.scenario.slug));

const linked = /^#run\/(\d+)$/.exec(location.hash);
if (linked) {
  showHome().then(() => openRun(Number(linked[1])));
} else {
  showHome();
}
