// The agent's presence: the selector in the top bar, and auto-away. After
// `idle_minutes` without keyboard, mouse or touch activity in any console
// tab, presence goes "away" (reason "idle"); the next activity brings it
// back ("back"). The server applies idle only over "available" and back only
// over "away", so a deliberate "busy" is never overridden.

import { setPresence } from "./api.js";

const ACTIVITY_KEY = "hub.console.lastActivity"; // shared by this person's tabs
const AUTO_AWAY_KEY = "hub.console.autoAway"; // set while away because idle
const ACTIVITY_EVENTS = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"];
const WRITE_EVERY_MS = 5000;
const CHECK_EVERY_MS = 10000;
const ACTIVE_EVERY_MS = 20000;

export class PresenceControl {
  constructor({ select, idleMinutes, notices, onActive }) {
    // Called (at most every ACTIVE_EVERY_MS) while the person uses the page:
    // keeps their session from automatic logoff.
    this.onActive = onActive || (() => {});
    this.lastReported = 0;
    this.select = select;
    this.wrapper = select.closest(".presence");
    this.notices = notices;
    this.idleMs = (idleMinutes > 0 ? idleMinutes : 10) * 60000;
    this.lastActivity = Date.now();
    this.lastWritten = 0;
    this.known = select.value;

    select.addEventListener("change", () => this.change(select.value, "manual"));
  }

  /** What the server says (directory, presence.updated): no request. */
  setKnown(presence) {
    this.known = presence;
    this.select.value = presence;
    if (this.wrapper) this.wrapper.dataset.presence = presence;
    if (presence !== "away") forget(AUTO_AWAY_KEY);
  }

  async change(presence, reason) {
    const before = this.known;
    if (reason === "manual") forget(AUTO_AWAY_KEY);
    try {
      const answer = await setPresence(presence, reason);
      this.setKnown(answer.presence);
      return answer.presence;
    } catch (err) {
      this.setKnown(before);
      this.notices.show(`Your status could not be changed: ${err.detail}`, { tone: "error" });
      return before;
    }
  }

  startIdleWatch() {
    const onActivity = () => this.activity();
    for (const type of ACTIVITY_EVENTS) window.addEventListener(type, onActivity, { passive: true, capture: true });
    setInterval(() => this.checkIdle(), CHECK_EVERY_MS);
  }

  activity() {
    const now = Date.now();
    this.lastActivity = now;
    if (now - this.lastReported > ACTIVE_EVERY_MS) {
      this.lastReported = now;
      this.onActive();
    }
    if (now - this.lastWritten > WRITE_EVERY_MS) {
      this.lastWritten = now;
      remember(ACTIVITY_KEY, String(now));
    }
    if (this.known === "away" && recall(AUTO_AWAY_KEY) && !this.returning) {
      // Only one request even though activity events come by the dozen.
      this.returning = true;
      forget(AUTO_AWAY_KEY);
      this.change("available", "back").finally(() => { this.returning = false; });
    }
  }

  async checkIdle() {
    const shared = Number(recall(ACTIVITY_KEY)) || 0;
    const idleFor = Date.now() - Math.max(this.lastActivity, shared);
    if (idleFor < this.idleMs || this.known !== "available") return;
    const presence = await this.change("away", "idle");
    if (presence === "away") {
      remember(AUTO_AWAY_KEY, "1");
      this.notices.show("You were idle, so your status is now Away. It returns to Available when you come back.");
    }
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Storage disabled: tabs just track activity on their own.
  }
}

function recall(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function forget(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    // see remember
  }
}
