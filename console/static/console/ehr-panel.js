// The EHR panel under the patient: find the patient in the practice's EHR,
// verify who the person is, then show demographics, appointments and
// coverage, check eligibility, and book, move or cancel appointments.
//
// Until the person is verified the panel shows only masked candidates
// (initials), so the agent asks and the patient answers, never the reverse.
// When the EHR is slow or down the panel says so; messaging carries on.

import * as api from "./api.js";
import { el } from "./dom.js";
import { birthDateLabel } from "./format.js";

const METHODS = { details: "name and date of birth", sms_code: "a code sent by text" };
const DONE = new Set(["fulfilled", "cancelled", "noshow", "entered-in-error", "checked-in", "arrived"]);

export class EhrPanel {
  constructor({ notices, timeZone, maySupervise }) {
    this.notices = notices;
    this.maySupervise = maySupervise;
    this.root = document.getElementById("ehr-panel");
    // Beside the thread's title: whether the person has proved who they are.
    this.badge = document.getElementById("thread-identity");
    this.conversationId = null;
    this.token = 0;
    this.zone = timeZone || undefined;
    const fmt = (opts) => new Intl.DateTimeFormat(undefined, { timeZone: this.zone, ...opts });
    this.when = fmt({ weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
    this.time = fmt({ hour: "numeric", minute: "2-digit" });
    this.day = fmt({ weekday: "long", month: "long", day: "numeric" });
    this.schedules = null;
    this.booking = null; // { mode: "book" } or { mode: "reschedule", appointment }
    this.eligibility = new Map(); // coverage id -> the last check's answer, kept across re-renders
  }

  clear() {
    this.conversationId = null;
    this.token += 1;
    this.booking = null;
    this.eligibility.clear();
    this.badge.hidden = true;
    this.root.replaceChildren(el("p", { class: "muted" }, "EHR details appear here for an open conversation."));
  }

  /** Load the panel for a conversation; `quiet` keeps what is shown while loading. */
  async show(conversationId, { quiet = false } = {}) {
    if (conversationId !== this.conversationId) {
      this.booking = null;
      this.eligibility.clear();
    }
    this.conversationId = conversationId;
    const token = ++this.token;
    if (!quiet) this.root.replaceChildren(el("p", { class: "muted" }, "Looking up the EHR…"));
    this.root.setAttribute("aria-busy", "true");
    let state;
    try {
      state = await api.getEhr(conversationId);
    } catch (err) {
      if (token !== this.token) return;
      this.root.removeAttribute("aria-busy");
      this.root.replaceChildren(heading("EHR"), el("p", { class: "error" }, err.detail || String(err)));
      return;
    }
    if (token !== this.token) return;
    this.root.removeAttribute("aria-busy");
    this.render(state);
  }

  refresh() {
    if (this.conversationId !== null) this.show(this.conversationId, { quiet: true });
  }

  render(s) {
    this.state = s;
    this.badge.hidden = s.status === "not_configured";
    this.badge.className = `badge identity-badge ${s.verified ? "badge-ok" : "badge-warn"}`;
    this.badge.textContent = s.verified ? "Identity verified" : "Identity not verified";
    const parts = [heading(s.label || "EHR", s)];
    if (s.status === "not_configured") {
      parts.push(el("p", { class: "muted" }, s.detail));
    } else if (!s.verified) {
      if (s.status === "degraded") parts.push(this.degraded(s.detail));
      else parts.push(...this.unverified(s));
    } else if (!s.patient) {
      parts.push(this.degraded(s.detail));
    } else {
      parts.push(this.demographics(s.patient), this.appointments(s), this.coverage(s));
      if (this.booking) parts.push(this.bookingForm());
    }
    this.root.replaceChildren(...parts);
  }

  degraded(detail) {
    const retry = el("button", { type: "button", class: "secondary small", "data-ehr": "retry" }, "Try again");
    retry.addEventListener("click", () => this.show(this.conversationId));
    return el("div", { class: "ehr-degraded", role: "status" },
      el("p", {}, el("strong", {}, "EHR unavailable. "), detail || "", " Messaging is not affected."), retry);
  }

  // --- before verification ---------------------------------------------------

  unverified(s) {
    const out = [];
    if (!s.phone_searched) {
      out.push(el("p", { class: "muted" }, "No phone number in this conversation: verify by name and date of birth."));
    } else if (!s.candidates.length) {
      out.push(el("p", { class: "muted" }, "No EHR patient has this phone number. If they are a patient, verify by name and date of birth."));
    } else {
      out.push(el("p", {}, `${s.candidates.length === 1 ? "One EHR patient has" : `${s.candidates.length} EHR patients have`} this phone number: `,
        s.candidates.map((c, i) => [i ? ", " : "", el("span", { class: "masked" }, c.label)])));
    }
    out.push(el("p", { class: "ehr-hint" }, "Ask the patient for their name and date of birth; do not read details to them."));
    if (s.attempts_left <= 0) {
      out.push(el("p", { class: "error", role: "alert" }, "Too many failed attempts in this conversation. Do not disclose anything; ask a supervisor."));
      if (this.maySupervise) {
        const error = el("p", { class: "error", role: "alert", hidden: true });
        const reset = el("button", { type: "button", class: "secondary small", "data-ehr": "reset" }, "Allow new attempts");
        const form = el("div", { class: "ehr-form" }, reset, error);
        reset.addEventListener("click", () => this.act(form, error, () => api.resetEhrAttempts(this.conversationId),
          "New verification attempts allowed."));
        out.push(form);
      }
      return out;
    }
    out.push(this.detailsForm(s));
    if (s.candidates.length) out.push(this.codeForm(s));
    return out;
  }

  detailsForm(s) {
    const id = (n) => `ehr-${n}`;
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const form = el("form", { class: "ehr-form", "aria-labelledby": "ehr-verify-title", novalidate: true },
      el("h4", { id: "ehr-verify-title" }, "Verify identity"),
      el("label", { for: id("given") }, "First name"), el("input", { id: id("given"), name: "given", autocomplete: "off", required: true }),
      el("label", { for: id("family") }, "Last name"), el("input", { id: id("family"), name: "family", autocomplete: "off", required: true }),
      el("label", { for: id("dob") }, "Date of birth"), el("input", { id: id("dob"), name: "birth_date", type: "date", required: true }),
      el("p", { class: "muted small-text" }, `${s.attempts_left} attempt${s.attempts_left === 1 ? "" : "s"} left.`),
      error,
      el("button", { type: "submit" }, "Verify"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      if (!data.get("given") || !data.get("family") || !data.get("birth_date")) {
        showError(error, "Enter the first name, last name and date of birth the patient gives.");
        return;
      }
      this.act(form, error, () => api.verifyEhrDetails(this.conversationId, {
        given: data.get("given"), family: data.get("family"), birth_date: data.get("birth_date"),
      }), "Identity verified.");
    });
    return form;
  }

  codeForm(s) {
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const form = el("form", { class: "ehr-form", "aria-labelledby": "ehr-code-title", novalidate: true },
      el("h4", { id: "ehr-code-title" }, "Or verify with a code by text"));
    let select = null;
    if (s.candidates.length > 1) {
      select = el("select", { id: "ehr-code-for" }, s.candidates.map((c) => el("option", { value: c.id }, c.label)));
      form.append(el("label", { for: "ehr-code-for" }, "Who is it? (ask their name)"), select);
    }
    const send = el("button", { type: "button", class: "secondary", "data-ehr": "send-code" }, s.code_pending ? "Send a new code" : "Text a code");
    send.addEventListener("click", () => this.act(form, error,
      () => api.sendEhrCode(this.conversationId, select ? select.value : s.candidates[0].id),
      "Code sent. Ask the patient to read it back."));
    form.append(send);
    if (s.code_pending) {
      form.append(
        el("label", { for: "ehr-code" }, "Code the patient reads back"),
        el("input", { id: "ehr-code", name: "code", inputMode: "numeric", autocomplete: "one-time-code", maxLength: 8 }),
        el("button", { type: "submit" }, "Check code"));
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        this.act(form, error, () => api.verifyEhrCode(this.conversationId, form.elements.code.value), "Identity verified.");
      });
    }
    form.append(error);
    return form;
  }

  // --- after verification ----------------------------------------------------

  demographics(p) {
    const v = this.state.verification;
    const facts = [
      ["Name", p.name], ["Date of birth", birthDateLabel(p.birth_date) || "Not on file"],
      ["MRN", p.mrn || "—"], ["Phone", p.phones.join(", ") || "—"], ["Address", p.address || "—"],
    ];
    return el("section", { class: "ehr-section", "aria-labelledby": "ehr-demo-title" },
      el("h4", { id: "ehr-demo-title" }, "Patient record"),
      el("p", { class: "ehr-verified" }, el("span", { class: "badge badge-ok" }, "Verified"),
        ` by ${METHODS[v.method] || v.method}${v.by ? ` (${v.by})` : ""}`),
      el("dl", { class: "facts" }, facts.flatMap(([t, d]) => [el("dt", {}, t), el("dd", {}, d)])));
  }

  appointments(s) {
    const section = el("section", { class: "ehr-section", "aria-labelledby": "ehr-appt-title" },
      el("h4", { id: "ehr-appt-title" }, "Appointments"));
    if (s.appointments === null) {
      section.append(el("p", { class: "error" }, `Could not be loaded: ${s.appointments_error}`));
      return section;
    }
    const now = Date.now();
    const upcoming = s.appointments.filter((a) => a.start && new Date(a.start) >= now && !DONE.has(a.status));
    const recent = s.appointments.filter((a) => !upcoming.includes(a)).reverse().slice(0, 5);
    const item = (a, actions) => el("li", { class: "ehr-appt", "data-appointment": a.id },
      el("span", { class: "ehr-appt-when" }, a.start ? this.when.format(new Date(a.start)) : "No time"),
      el("span", { class: "muted" }, ` · ${[a.practitioner, a.service_type || a.description].filter(Boolean).join(" · ")}`),
      a.status !== "booked" ? el("span", { class: `badge ehr-status-${a.status}` }, a.status) : null,
      actions ? this.appointmentActions(a) : null);
    section.append(el("h5", {}, "Upcoming"), upcoming.length
      ? el("ul", { class: "ehr-list" }, upcoming.map((a) => item(a, true)))
      : el("p", { class: "muted" }, "None booked."));
    const book = el("button", { type: "button", class: "small", "data-ehr": "book" }, "Book appointment");
    book.addEventListener("click", () => this.openBooking({ mode: "book" }));
    section.append(book);
    if (recent.length) section.append(el("h5", {}, "Recent"), el("ul", { class: "ehr-list" }, recent.map((a) => item(a, false))));
    return section;
  }

  appointmentActions(a) {
    const move = el("button", { type: "button", class: "link", "data-ehr": "reschedule" }, "Reschedule");
    move.addEventListener("click", () => this.openBooking({ mode: "reschedule", appointment: a }));
    const cancel = el("button", { type: "button", class: "link", "data-ehr": "cancel" }, "Cancel");
    cancel.addEventListener("click", async () => {
      const label = this.when.format(new Date(a.start));
      if (!window.confirm(`Cancel the appointment on ${label}? The patient is told on their channel.`)) return;
      try {
        await api.cancelEhrAppointment(this.conversationId, a.id, "Cancelled at the patient's request");
        this.notices.show("Appointment cancelled; the patient was told.", { tone: "success" });
        this.show(this.conversationId, { quiet: true });
      } catch (err) {
        this.notices.show(err.detail || String(err), { tone: "error" });
      }
    });
    return el("span", { class: "ehr-appt-actions" }, " ", move, " ", cancel);
  }

  coverage(s) {
    const section = el("section", { class: "ehr-section", "aria-labelledby": "ehr-cov-title" },
      el("h4", { id: "ehr-cov-title" }, "Insurance"));
    if (s.coverages === null) {
      section.append(el("p", { class: "error" }, `Could not be loaded: ${s.coverages_error}`));
      return section;
    }
    if (!s.coverages.length) {
      section.append(el("p", { class: "muted" }, "No coverage on file."));
      return section;
    }
    for (const c of s.coverages) {
      const result = el("p", { class: "ehr-eligibility", role: "status" });
      const facts = [["Payer", c.payer || "—"], ["Plan", c.plan || "—"], ["Member ID", c.member_id || "—"],
        ["Status", c.status], ["Period", [c.period_start, c.period_end].map((d) => birthDateLabel(d) || "…").join(" – ")]];
      const card = el("div", { class: "ehr-coverage", "data-coverage": c.id },
        el("dl", { class: "facts" }, facts.flatMap(([t, d]) => [el("dt", {}, t), el("dd", {}, d)])));
      if (s.eligibility_supported) {
        const check = el("button", { type: "button", class: "secondary small", "data-ehr": "eligibility" }, "Verify eligibility");
        check.addEventListener("click", async () => {
          check.disabled = true;
          result.textContent = "Checking…";
          try {
            this.eligibility.set(c.id, await api.checkEhrEligibility(this.conversationId, c.id));
            showEligibility(result, this.eligibility.get(c.id));
          } catch (err) {
            result.replaceChildren(el("span", { class: "error" }, err.detail || String(err)));
          } finally {
            check.disabled = false;
          }
        });
        card.append(check);
      } else if (s.eligibility_supported === false) {
        card.append(el("p", { class: "muted" }, "Eligibility checks are not supported by this EHR."));
      }
      if (this.eligibility.has(c.id)) showEligibility(result, this.eligibility.get(c.id));
      card.append(result);
      section.append(card);
    }
    return section;
  }

  // --- booking -----------------------------------------------------------------

  async openBooking(booking) {
    this.booking = booking;
    if (!this.schedules) {
      try {
        this.schedules = await api.getEhrSchedules();
      } catch (err) {
        this.booking = null;
        this.notices.show(err.detail || String(err), { tone: "error" });
        return;
      }
    }
    this.render(this.state);
    document.getElementById("ehr-type")?.focus();
  }

  bookingForm() {
    const b = this.booking;
    const types = [...new Set(this.schedules.flatMap((s) => s.service_types))];
    const title = b.mode === "book" ? "Book an appointment" : `Move the appointment of ${this.when.format(new Date(b.appointment.start))}`;
    const type = el("select", { id: "ehr-type" }, el("option", { value: "" }, "Any visit type"),
      types.map((t) => el("option", { value: t, selected: b.serviceType === t }, t)));
    const who = el("select", { id: "ehr-who" }, el("option", { value: "" }, "Any practitioner"),
      this.schedules.map((s) => el("option", { value: s.id, selected: b.scheduleId === s.id }, s.practitioner)));
    const today = new Date().toLocaleDateString("en-CA", { timeZone: this.zone });
    const day = el("input", { id: "ehr-day", type: "date", value: b.day || today, min: today });
    const results = el("div", { class: "ehr-slots", "aria-live": "polite" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const close = el("button", { type: "button", class: "link", "data-ehr": "close-booking" }, "Close");
    close.addEventListener("click", () => { this.booking = null; this.render(this.state); });
    const form = el("form", { class: "ehr-form ehr-booking", "aria-labelledby": "ehr-book-title", novalidate: true },
      el("h4", { id: "ehr-book-title" }, title, " ", close),
      el("label", { for: "ehr-type" }, "Visit type"), type,
      el("label", { for: "ehr-who" }, "Practitioner"), who,
      el("label", { for: "ehr-day" }, "From"), day,
      el("button", { type: "submit", class: "secondary" }, "Find times"),
      error, results);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      Object.assign(b, { serviceType: type.value, scheduleId: who.value, day: day.value });
      results.replaceChildren(el("p", { class: "muted" }, "Searching…"));
      error.hidden = true;
      try {
        // A week, so that a search on a Friday evening or over a holiday
        // still finds the next open days; the list shows the first three.
        const slots = await api.getEhrSlots({ day: day.value, days: 7, schedule_id: who.value, service_type: type.value });
        results.replaceChildren(this.slotList(slots, type.value));
      } catch (err) {
        results.replaceChildren();
        showError(error, err.detail || String(err));
      }
    });
    return form;
  }

  slotList(slots, serviceType) {
    if (!slots.length) return el("p", { class: "muted" }, "No free times in the week from this date. Try later dates.");
    const byDay = new Map();
    for (const s of slots) {
      const key = this.day.format(new Date(s.start));
      if (!byDay.has(key)) {
        if (byDay.size === 3) break; // the first three days with free times
        byDay.set(key, []);
      }
      byDay.get(key).push(s);
    }
    return el("div", {}, [...byDay].map(([label, list]) => el("div", { class: "ehr-day" },
      el("h5", {}, label),
      el("ul", { class: "ehr-slot-list" }, list.slice(0, 24).map((s) => {
        const pick = el("button", { type: "button", class: "secondary small", "data-slot": s.id },
          `${this.time.format(new Date(s.start))} · ${s.practitioner}`);
        pick.addEventListener("click", () => this.confirmSlot(pick, s, serviceType));
        return el("li", {}, pick);
      })))));
  }

  confirmSlot(button, slot, serviceType) {
    const list = button.closest(".ehr-slots");
    list.querySelector(".ehr-confirm")?.remove();
    const b = this.booking;
    const when = `${this.when.format(new Date(slot.start))} with ${slot.practitioner}`;
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const reason = el("input", { id: "ehr-reason", maxLength: 500, placeholder: "e.g. Check-up" });
    const go = el("button", { type: "submit", "data-ehr": "confirm" }, b.mode === "book" ? "Book" : "Move here");
    const form = el("form", { class: "ehr-confirm", novalidate: true },
      el("p", {}, el("strong", {}, b.mode === "book" ? "Book " : "Move to "), when, "?"),
      b.mode === "book" ? [el("label", { for: "ehr-reason" }, "Reason (the EHR stores it)"), reason] : null,
      el("p", { class: "muted small-text" }, "The patient gets a confirmation on this conversation's channel."),
      error, go);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const call = b.mode === "book"
        ? () => api.bookEhrAppointment(this.conversationId, { slot_id: slot.id, service_type: serviceType, reason: reason.value })
        : () => api.rescheduleEhrAppointment(this.conversationId, b.appointment.id, slot.id);
      this.act(form, error, call, b.mode === "book" ? "Appointment booked; the patient was sent a confirmation."
        : "Appointment moved; the patient was told.", { after: () => { this.booking = null; } });
    });
    list.prepend(form);
    (b.mode === "book" ? reason : go).focus();
  }

  /** Run an action from a form: busy while it runs, the error in the form, then reload. */
  async act(form, error, call, success, { after } = {}) {
    const buttons = [...form.querySelectorAll("button")];
    buttons.forEach((b) => { b.disabled = true; });
    error.hidden = true;
    try {
      const result = await call();
      after?.();
      this.notices.show(success, { tone: "success" });
      if (result && "verified" in result) this.render(result);
      else await this.show(this.conversationId, { quiet: true });
    } catch (err) {
      showError(error, err.detail || String(err));
      if (err.code === "verification_locked") this.show(this.conversationId, { quiet: true });
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }
}

function heading(label, s) {
  const badge = !s || s.status === "not_configured" ? null : s.verified
    ? el("span", { class: "badge badge-ok", "data-ehr-state": "verified" }, "Verified")
    : el("span", { class: "badge badge-warn", "data-ehr-state": "unverified" }, "Not verified");
  return el("h3", { id: "ehr-title", class: "ehr-title" }, label, " ", badge);
}

function showEligibility(node, r) {
  node.replaceChildren(el("span", { class: `badge ${r.in_force ? "badge-ok" : "badge-danger"}` },
    r.in_force ? "In force" : "Not in force"), ` ${r.disposition}`);
}

function showError(node, text) {
  node.textContent = text;
  node.hidden = false;
}
