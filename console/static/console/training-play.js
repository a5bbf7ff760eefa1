// Playing a practice run: the chat-like transcript, the reply box and the
// Transfer / Escalate / Resolve actions. The server decides when each
// patient message is visible; the page asks again when the next one is due
// (`next_message_in`) and shows how long the patient has been waiting.

import { byId, el, setChildren } from "./dom.js";
import { openDialog } from "./dialog.js";
import * as api from "./training-api.js";
import { entryItem } from "./training-format.js";

const TICK_MS = 1000;

export class Player {
  constructor(boot, { onComplete }) {
    this.onComplete = onComplete;
    this.run = null;
    this.shown = 0;
    this.busy = false;
    this.revealTimer = null;
    this.tickTimer = null;
    this.clockOffset = 0;
    this.form = byId("reply-form");
    this.text = byId("reply-text");
    this.error = byId("play-error");
    this.buttons = [...this.form.querySelectorAll("button")];
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.reply();
    });
    this.text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.reply();
      }
    });
    byId("resolve").addEventListener("click", () => this.send({ kind: "resolve" }));
    this.setUpTransfer(boot.departments);
    this.setUpEscalate(boot.escalations);
  }

  setUpTransfer(departments) {
    const dialog = byId("transfer-dialog");
    const select = byId("transfer-department");
    setChildren(select, departments.map((d) => el("option", { value: d.slug }, d.label)));
    byId("open-transfer").addEventListener("click", () => openDialog(dialog, { focus: select }));
    this.dialogForm(dialog, () => ({ kind: "transfer", department: select.value }));
  }

  setUpEscalate(escalations) {
    const dialog = byId("escalate-dialog");
    const choices = byId("escalate-choices");
    escalations.forEach((e, i) => choices.append(el("label", {},
      el("input", { type: "radio", name: "escalate-to", value: e.to, checked: i === 0 }), " ", e.label)));
    byId("open-escalate").addEventListener("click", () => openDialog(dialog));
    const chosen = () => dialog.querySelector("input[name=escalate-to]:checked").value;
    this.dialogForm(dialog, () => ({ kind: "escalate", to: chosen() }));
  }

  dialogForm(dialog, action) {
    const form = dialog.querySelector("form");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const chosen = action();
      dialog.close();
      this.send(chosen);
    });
    dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  }

  /** Show a run (just started, or resumed) and follow it. */
  open(run) {
    this.run = null;
    this.shown = 0;
    setChildren(byId("transcript"));
    this.text.value = "";
    this.showError("");
    byId("play-title").textContent = run.scenario.title;
    byId("play-facts").textContent = [run.scenario.channel_label, run.scenario.department_label,
      `Patient: ${run.scenario.persona_name}`, `Target response: ${run.scenario.target_response_seconds} s`]
      .filter(Boolean).join(" · ");
    this.show(run);
    this.text.focus();
  }

  stop() {
    clearTimeout(this.revealTimer);
    clearInterval(this.tickTimer);
    this.revealTimer = this.tickTimer = null;
  }

  show(run) {
    this.run = run;
    this.clockOffset = Date.parse(run.now) - Date.now();
    const list = byId("transcript");
    for (const entry of run.entries.slice(this.shown)) {
      list.append(entryItem(entry, { persona: run.scenario.persona_name }));
    }
    this.shown = run.entries.length;
    list.lastElementChild?.scrollIntoView({ block: "nearest" });
    const typing = byId("typing");
    typing.hidden = !run.typing;
    typing.textContent = run.typing ? `${run.scenario.persona_name || "The patient"} is typing…` : "";
    for (const button of this.buttons) button.disabled = !run.may_act || this.busy;
    this.text.disabled = !run.may_act;
    this.schedule(run);
  }

  schedule(run) {
    this.stop();
    if (run.complete) {
      this.onComplete(run);
      return;
    }
    if (run.next_message_in !== null) {
      this.revealTimer = setTimeout(() => this.refresh(), Math.ceil(run.next_message_in * 1000) + 50);
    }
    this.tick();
    if (run.waiting_since) this.tickTimer = setInterval(() => this.tick(), TICK_MS);
  }

  tick() {
    const timer = byId("play-timer");
    const run = this.run;
    if (!run?.waiting_since) {
      timer.hidden = true;
      return;
    }
    const waited = Math.max(0, (Date.now() + this.clockOffset - Date.parse(run.waiting_since)) / 1000);
    const target = run.scenario.target_response_seconds;
    timer.hidden = false;
    timer.dataset.over = String(waited > target);
    timer.textContent = `The patient has waited ${Math.floor(waited)} s for you (target ${target} s).`;
  }

  async refresh() {
    try {
      this.show(await api.getRun(this.run.id, { background: true }));
    } catch (err) {
      this.showError(err.detail || String(err));
      this.revealTimer = setTimeout(() => this.refresh(), 3000);
    }
  }

  reply() {
    const text = this.text.value.trim();
    if (!text) {
      this.showError("Write a reply first.");
      this.text.focus();
      return;
    }
    this.send({ kind: "reply", text }, () => {
      this.text.value = "";
    });
  }

  async send(action, done) {
    if (this.busy || !this.run?.may_act) return;
    this.busy = true;
    this.showError("");
    for (const button of this.buttons) button.disabled = true;
    try {
      const run = await api.act(this.run.id, action);
      done?.();
      this.busy = false;
      this.show(run);
    } catch (err) {
      this.busy = false;
      this.showError(err.detail || String(err));
      for (const button of this.buttons) button.disabled = false;
    }
  }

  showError(message) {
    this.error.hidden = !message;
    this.error.textContent = message;
  }
}
