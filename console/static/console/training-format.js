// Shared pieces of the practice page: times, labels and transcript lines.
// Everything from the server goes in as text (dom.js el()).

import { el } from "./dom.js";

export const seconds = (value) => (value === null || value === undefined ? "–" : `${Number(value).toFixed(1)} s`);

export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export const OUTCOMES = {
  resolved: "Resolved", escalated: "Escalated", transferred: "Transferred", unresolved: "Unresolved",
  abandoned: "Abandoned", "": "In progress",
};

export const outcomeLabel = (outcome) => OUTCOMES[outcome] ?? outcome;

/** A transcript line. With `details`, an agent reply shows what it was read
 * as, its flags and the scenario's coaching note. */
export function entryItem(entry, { persona, details = false }) {
  const time = el("time", { class: "entry-time", dateTime: entry.at }, new Date(entry.at).toLocaleTimeString());
  if (entry.kind === "system") {
    return el("li", { class: "entry entry-system", "data-kind": "system" }, entry.label, " ", time);
  }
  if (entry.kind === "agent" && entry.action !== "reply") {
    return el("li", { class: "entry entry-action", "data-kind": "action" },
      el("strong", {}, "You: "), entry.label, " ", time, details ? extras(entry) : null);
  }
  const who = entry.kind === "patient" ? persona || "Patient" : "You";
  return el("li", { class: `entry entry-${entry.kind}`, "data-kind": entry.kind },
    el("span", { class: "entry-who" }, who, " ", time),
    el("p", { class: "entry-text" }, entry.text),
    details && entry.kind === "agent" ? extras(entry) : null);
}

function extras(entry) {
  const parts = [];
  if (entry.intents?.length) {
    parts.push(el("p", { class: "intents" }, "Read as: ",
      entry.intents.map((i) => el("span", { class: "chip" }, i.replaceAll("_", " ")))));
  } else if (entry.action === "reply") {
    parts.push(el("p", { class: "intents muted" }, "Read as: no recognised intent"));
  }
  if (entry.flags?.includes("disclosed_unverified")) {
    parts.push(el("p", { class: "flag" }, "Disclosed a detail before the patient was verified."));
  }
  if (entry.feedback) parts.push(el("p", { class: "coach" }, entry.feedback));
  return parts;
}
