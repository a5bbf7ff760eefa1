// Conversations offered to this agent by automatic assignment (docs/routing.md):
// a banner at the top of the queue, oldest first, each with a countdown to
// its expiry and Accept / Decline. The server decides what is offered and
// when it ends; offer.updated on agent.<me> says so, and any status but
// "pending" takes the offer off the banner.

import * as api from "./api.js";
import { serverNow } from "./clock.js";
import { el, icon } from "./dom.js";
import { channelInfo, clockLabel, plural } from "./format.js";

// The server expires an offer within a few seconds of its time (task or
// sweep). If no word has come by then (the stream is down), stop showing it.
const SILENT_EXPIRY_MS = 15000;
const HURRY_MS = 10000;

export class OfferBanner {
  constructor({ notices, announcer, onAccepted, isMine }) {
    this.notices = notices;
    this.announcer = announcer;
    this.onAccepted = onAccepted; // (conversation) => void, after a successful accept
    this.isMine = isMine; // (conversation id) => bool: picked up (or being picked up) by this agent

    this.root = document.getElementById("offers");
    this.list = document.getElementById("offer-list");
    this.offers = new Map(); // id -> { o, node, busy }
    // Offers that ended: a late GET answer or a replayed "pending" must not bring them back.
    this.closed = new Set();
    // Conversation ids being accepted: their "assigned to you" snapshot may
    // come on the stream before the answer, and is no news to this agent.
    this.accepting = new Set();

    this.list.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      const id = Number(button?.closest("li[data-offer-id]")?.dataset.offerId);
      if (!id) return;
      if (button.dataset.action === "accept-offer") this.accept(id);
      else if (button.dataset.action === "decline-offer") this.decline(id);
    });
  }

  /** The pending offers made before this page loaded. */
  async load() {
    let offers;
    try {
      offers = await api.getOffers();
    } catch (err) {
      this.notices.show(`Conversations offered to you could not be loaded: ${err.detail}`, { tone: "error" });
      return;
    }
    for (const o of offers) this.apply(o);
  }

  /** An OfferOut, from offer.updated or the list. */
  apply(o) {
    if (this.closed.has(o.id)) return;
    const known = this.offers.get(o.id);
    if (o.status === "pending") {
      // Seen already (the list and the stream both had it): keep its node,
      // which may hold focus or an accept under way.
      if (known) known.o = o;
      else this.offers.set(o.id, { o, node: buildOffer(o), busy: false });
      this.render();
      this.tick(serverNow()); // its countdown, now rather than in up to a second
      if (!known) this.announceNew(o);
      return;
    }
    this.close(o.id);
    if (!known) return;
    if (o.status === "expired") this.notices.show(`The offer for ${o.patient_name} expired.`);
    // Withdrawn because this agent picked it up from the queue: no news.
    else if (o.status === "withdrawn" && !this.isMine(o.conversation_id)) {
      this.notices.show(`${o.patient_name} is no longer offered to you.`);
    }
  }

  /** The oldest pending offer (the one the a/d shortcuts act on), or null. */
  get oldest() {
    return this.sorted()[0] || null;
  }

  /** The a and d shortcuts. Says so when there is nothing to act on. */
  actOnOldest(action) {
    const entry = this.oldest;
    if (!entry || this.ended(entry)) {
      this.announcer.say(entry ? "That offer has ended." : "Nothing is offered to you right now.");
      return;
    }
    if (action === "accept") this.accept(entry.o.id);
    else this.decline(entry.o.id);
  }

  async accept(id) {
    const entry = this.offers.get(id);
    if (!entry || entry.busy || this.ended(entry)) return;
    this.setBusy(entry, "accept");
    this.accepting.add(entry.o.conversation_id);
    try {
      const { conversation } = await api.acceptOffer(id);
      this.close(id);
      this.onAccepted(conversation);
    } catch (err) {
      this.failed(id, err);
    } finally {
      this.accepting.delete(entry.o.conversation_id);
    }
  }

  async decline(id) {
    const entry = this.offers.get(id);
    if (!entry || entry.busy || this.ended(entry)) return;
    this.setBusy(entry, "decline");
    try {
      await api.declineOffer(id);
      this.close(id);
      this.announcer.say(`You declined ${entry.o.patient_name}.`);
    } catch (err) {
      this.failed(id, err);
    }
  }

  /** Each second, with the page's other clocks. */
  tick(now) {
    for (const entry of [...this.offers.values()]) {
      const left = Date.parse(entry.o.expires_at) - now;
      if (left < -SILENT_EXPIRY_MS) {
        this.close(entry.o.id);
        this.notices.show(`The offer for ${entry.o.patient_name} expired.`);
        continue;
      }
      const countdown = entry.node.querySelector("[data-offer-countdown]");
      const text = left > 0 ? `${clockLabel(left, Math.ceil)} left` : "Time is up";
      if (countdown.textContent !== text) countdown.textContent = text;
      entry.node.classList.toggle("hurry", left <= HURRY_MS);
      if (left <= 0 && !entry.node.classList.contains("ended")) {
        // Accepting now would only get "this offer has ended".
        entry.node.classList.add("ended");
        for (const b of entry.node.querySelectorAll("button")) b.setAttribute("aria-disabled", "true");
      }
    }
  }

  // --- internals ---------------------------------------------------------

  sorted() {
    return [...this.offers.values()].sort((a, b) => Date.parse(a.o.expires_at) - Date.parse(b.o.expires_at) || a.o.id - b.o.id);
  }

  ended(entry) {
    return entry.node.classList.contains("ended");
  }

  failed(id, err) {
    const entry = this.offers.get(id);
    this.notices.show(err.detail, { tone: "error" });
    // Ended (409 offer_closed) or gone (404): the stream will say so too.
    if (err.code === "offer_closed" || err.status === 404) this.close(id);
    else if (entry) this.setBusy(entry, null);
  }

  setBusy(entry, what) {
    entry.busy = Boolean(what);
    const accept = entry.node.querySelector('[data-action="accept-offer"]');
    const decline = entry.node.querySelector('[data-action="decline-offer"]');
    // aria-disabled, not disabled: a disabled button would drop keyboard focus.
    for (const b of [accept, decline]) {
      if (what) b.setAttribute("aria-disabled", "true");
      else b.removeAttribute("aria-disabled");
    }
    accept.firstChild.textContent = what === "accept" ? "Accepting…" : "Accept";
    decline.firstChild.textContent = what === "decline" ? "Declining…" : "Decline";
  }

  close(id) {
    this.closed.add(id);
    const entry = this.offers.get(id);
    if (!entry) return;
    const hadFocus = entry.node.contains(document.activeElement);
    this.offers.delete(id);
    entry.node.remove();
    this.render();
    if (hadFocus) {
      const next = this.oldest;
      (next ? next.node.querySelector('[data-action="accept-offer"]') : document.getElementById("queue-panel")).focus();
    }
  }

  render() {
    const entries = this.sorted();
    entries.forEach(({ node }, i) => {
      if (this.list.children[i] !== node) this.list.insertBefore(node, this.list.children[i] || null);
      // The a/d shortcuts act on the oldest offer: say so on its buttons only.
      for (const [action, key] of [["accept-offer", "a"], ["decline-offer", "d"]]) {
        const button = node.querySelector(`[data-action="${action}"]`);
        if (i === 0) button.setAttribute("aria-keyshortcuts", key);
        else button.removeAttribute("aria-keyshortcuts");
      }
    });
    this.root.hidden = entries.length === 0;
  }

  announceNew(o) {
    const left = Math.max(0, Math.round((Date.parse(o.expires_at) - serverNow()) / 1000));
    const first = this.oldest?.o.id === o.id;
    this.announcer.say(`Offered to you: ${o.patient_name}, ${o.department_name}, ${channelInfo(o.channel).name}. ` +
      `${plural(left, "second")} to accept.${first ? " Press A to accept or D to decline." : ""}`);
  }
}

function buildOffer(o) {
  const channel = channelInfo(o.channel);
  const who = `${o.patient_name} (${o.department_name})`;
  return el("li", { class: "offer", "data-offer-id": String(o.id), "data-offer-conversation": String(o.conversation_id) },
    el("div", { class: "offer-main" },
      el("p", { class: "offer-who" },
        el("span", { class: "offer-name" }, o.patient_name),
        el("span", { class: "offer-dept" }, o.department_name)),
      el("p", { class: "offer-meta" },
        el("span", { class: `channel channel-${o.channel}` }, icon(channel.icon), el("span", { class: "channel-label" }, channel.label)),
        el("span", { class: "offer-countdown", "data-offer-countdown": "" }, ""))),
    el("div", { class: "offer-actions" },
      el("button", { type: "button", "data-action": "accept-offer" },
        "Accept", el("span", { class: "visually-hidden" }, ` ${who}`)),
      el("button", { type: "button", class: "secondary", "data-action": "decline-offer" },
        "Decline", el("span", { class: "visually-hidden" }, ` ${who}`))));
}
