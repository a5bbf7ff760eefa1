// A finished run: its automatic scorecard, the supervisor's review (or,
// for a supervisor, the form to score it with the practice's rubric), and
// the transcript with what each reply was read as.

import { byId, el, setChildren } from "./dom.js";
import * as api from "./training-api.js";
import { entryItem, outcomeLabel, seconds, when } from "./training-format.js";

function check(title, result, body) {
  const passed = result.ok;
  return el("li", { class: "check", "data-ok": String(passed) },
    el("div", { class: "check-head" },
      el("h3", {}, title),
      el("span", { class: `badge ${passed ? "badge-ok" : "badge-danger"}` }, passed ? "Met" : "Missed"),
      el("span", { class: "points" }, `${result.points} / 25`)),
    body);
}

function responseCheck(response) {
  return check("Response times", response, [
    el("dl", { class: "figures" },
      figure("First response", seconds(response.first_seconds)),
      figure("Average", seconds(response.average_seconds)),
      figure("Slowest", seconds(response.slowest_seconds)),
      figure("Target", `${response.target_seconds} s`)),
    el("p", {}, `${response.within_target} of ${response.count} responses within the target.`),
  ]);
}

const figure = (label, value) => el("div", {}, el("dt", {}, label), el("dd", {}, value));

function routingCheck(routing) {
  return check("Routing and escalation", routing, [
    el("p", {}, routing.detail),
    el("p", { class: "muted" }, "Right for this patient: ", routing.expected.join("; "),
      routing.within_seconds ? ` (within ${routing.within_seconds} s)` : ""),
    el("p", { class: "muted" }, "You: ", routing.taken.length ? routing.taken.join("; ") : "no routing action",
      routing.took_seconds !== null ? ` (after ${seconds(routing.took_seconds)})` : ""),
  ]);
}

function complianceCheck(compliance) {
  return check("Identity verified before details", compliance, [
    el("p", {}, compliance.detail),
    compliance.misses.length ? el("ul", { class: "misses" },
      compliance.misses.map((m) => el("li", {}, el("q", {}, m.text)))) : null,
  ]);
}

function resolutionCheck(resolution) {
  return check("Resolution", resolution, [
    el("p", {}, `Outcome: ${outcomeLabel(resolution.outcome)}.`),
    el("p", {}, resolution.summary),
  ]);
}

export function renderScorecard(run) {
  const card = run.scorecard;
  byId("result-title").textContent = `Scorecard: ${run.scenario.title}`;
  byId("result-facts").textContent = [run.user_name, when(run.ended_at), run.scenario.channel_label]
    .filter(Boolean).join(" · ");
  if (!card) {
    const why = run.status === "abandoned" ? "This run was abandoned before it ended: it has no scorecard."
      : "Not finished yet.";
    setChildren(byId("scorecard"), el("p", { class: "empty-note" }, why));
  } else {
    setChildren(byId("scorecard"),
      el("p", { class: "overall" },
        el("span", { class: "overall-score", "data-score": card.score }, String(card.score)),
        el("span", { class: "muted" }, " / 100 overall")),
      el("ul", { class: "checks", "aria-label": "Checks" },
        responseCheck(card.response), routingCheck(card.routing),
        complianceCheck(card.compliance), resolutionCheck(card.resolution)),
      card.feedback.length ? el("section", { class: "card coaching", "aria-labelledby": "coach-title" },
        el("h2", { id: "coach-title" }, "Moments to review"),
        el("ul", {}, card.feedback.map((f) => el("li", {},
          el("strong", {}, f.action, ": "), f.text ? el("q", {}, f.text) : null, el("p", {}, f.feedback))))) : null,
      run.scenario.persona_about ? el("section", { class: "card", "aria-labelledby": "persona-title" },
        el("h2", { id: "persona-title" }, `About ${run.scenario.persona_name}`),
        el("p", {}, run.scenario.persona_about)) : null);
  }
  setChildren(byId("result-transcript"),
    run.entries.map((e) => entryItem(e, { persona: run.scenario.persona_name, details: true })));
}

export function renderReview(run, { onReviewed }) {
  const box = byId("review");
  if (run.review) {
    const r = run.review;
    setChildren(box,
      el("p", { class: "review-total" }, `${r.points} / ${r.possible} points (${r.percent}%)`,
        el("span", { class: "muted" }, ` by ${r.reviewer_name}, ${when(r.reviewed_at)}`)),
      el("table", { class: "data" },
        el("caption", { class: "visually-hidden" }, `Scores on the rubric "${r.rubric_name}"`),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Criterion"),
          el("th", { scope: "col", class: "num" }, "Score"))),
        el("tbody", {}, r.criteria.map((c) => el("tr", {},
          el("th", { scope: "row" }, c.label), el("td", { class: "num" }, `${c.score ?? "–"} / ${c.max}`))))),
      r.comment ? el("blockquote", { class: "review-comment" }, r.comment) : null);
  } else {
    setChildren(box, el("p", { class: "empty-note" }, "Not reviewed by a supervisor yet."));
  }
  if (run.may_review && run.rubric) box.append(reviewForm(run, onReviewed));
}

function reviewForm(run, onReviewed) {
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const comment = el("textarea", { id: "review-comment", rows: 3, maxLength: 2000 });
  const selects = run.rubric.criteria.map((c) => {
    const current = run.review?.criteria.find((s) => s.key === c.key)?.score;
    const select = el("select", { id: `review-${c.key}`, name: c.key, "aria-describedby": `review-${c.key}-help` },
      el("option", { value: "" }, "Choose…"),
      Array.from({ length: c.max + 1 },
        (_, n) => el("option", { value: String(n), selected: n === current }, String(n))));
    return { criterion: c, select };
  });
  if (run.review) comment.value = run.review.comment;
  const form = el("form", { class: "review-form", noValidate: true },
    el("h3", {}, run.review ? "Change your scores" : `Score with "${run.rubric.name}"`),
    selects.map(({ criterion, select }) => el("div", { class: "field" },
      el("label", { for: select.id }, `${criterion.label} (0–${criterion.max})`),
      el("p", { class: "muted small-text", id: `review-${criterion.key}-help` }, criterion.description),
      select)),
    el("label", { for: "review-comment" }, "Comment for the agent"), comment, error,
    el("button", { type: "submit" }, "Save review"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const scores = {};
    for (const { criterion, select } of selects) {
      if (select.value === "") {
        error.hidden = false;
        error.textContent = `Score ${criterion.label}.`;
        select.focus();
        return;
      }
      scores[criterion.key] = Number(select.value);
    }
    try {
      onReviewed(await api.review(run.id, scores, comment.value));
    } catch (err) {
      error.hidden = false;
      error.textContent = err.detail || String(err);
    }
  });
  return form;
}
