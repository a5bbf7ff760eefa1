// Snooze: put the conversation aside until a time (quick picks, or any date
// and time). Times are the agent's local time, sent as ISO 8601 with the
// UTC offset, which is what the API requires.

import { snooze } from "./api.js";
import { FormDialog } from "./dialog.js";
import { fullTimeLabel, isoWithOffset } from "./format.js";

/** The quick picks, computed when the dialog opens (so "tomorrow" is right after midnight). */
export function quickPicks(now = new Date()) {
  const inOneHour = new Date(now.getTime() + 3600000);
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 9, 0, 0);
  const daysToMonday = ((8 - now.getDay()) % 7) || 7; // the coming Monday, a week ahead on Mondays
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() + daysToMonday, 9, 0, 0);
  return { "1h": inOneHour, tomorrow, monday };
}

function toLocalInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export class SnoozeDialog extends FormDialog {
  constructor({ onDone }) {
    super(document.getElementById("snooze-dialog"));
    this.onDone = onDone;
    this.until = document.getElementById("snooze-until");
    this.picks = {};
    this.dialog.querySelector(".quick-picks").addEventListener("click", (e) => {
      const button = e.target.closest("button[data-snooze]");
      if (button) this.snoozeUntil(this.picks[button.dataset.snooze]);
    });
  }

  open(conversation) {
    this.conversation = conversation;
    this.picks = quickPicks();
    for (const button of this.dialog.querySelectorAll("button[data-snooze]")) {
      button.querySelector(".when").textContent = fullTimeLabel(this.picks[button.dataset.snooze].toISOString());
    }
    const now = new Date();
    this.until.min = toLocalInputValue(new Date(now.getTime() + 2 * 60000));
    this.until.max = toLocalInputValue(new Date(now.getTime() + 30 * 86400000));
    this.until.value = "";
    this.show(this.dialog.querySelector("button[data-snooze]"));
  }

  submit() {
    if (!this.until.value) return this.showError("Choose a date and time, or one of the quick picks.", this.until);
    // "2026-11-27T09:00" without a zone is read as local time by Date.
    const [date, time] = this.until.value.split("T");
    const [y, m, d] = date.split("-").map(Number);
    const [hh, mm] = time.split(":").map(Number);
    return this.snoozeUntil(new Date(y, m - 1, d, hh, mm, 0));
  }

  snoozeUntil(when) {
    const id = this.conversation.id;
    return this.run(async () => {
      const { conversation } = await snooze(id, isoWithOffset(when));
      this.onDone(conversation, `Snoozed until ${fullTimeLabel(when.toISOString())}.`);
    });
  }
}
