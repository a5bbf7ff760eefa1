// The reply box: channel choice, internal-note mode, send (button or
// Ctrl/Cmd+Enter), server errors shown under the box with the text kept,
// per-conversation drafts (they survive a reload), canned responses and
// the "agent is typing" signal.

import { addNote, sendMessage } from "./api.js";
import { CannedPicker } from "./canned.js";
import { el } from "./dom.js";
import { channelInfo } from "./format.js";

const TYPING_EVERY_MS = 3000;
const DRAFT_KEY = (id) => `hub.console.draft.${id}`;
const REPLY_CHANNELS = { sms: "SMS text", web: "Web chat", api: "API (integration)" };

/** Where a reply can go: the conversation's own channel when it takes replies, and always SMS. */
export function replyChannels(conversationChannel) {
  const channels = conversationChannel in REPLY_CHANNELS ? [conversationChannel] : [];
  if (!channels.includes("sms")) channels.push("sms");
  return channels;
}

export class Composer {
  constructor({ stream, onSent }) {
    this.stream = stream;
    this.onSent = onSent;
    this.form = document.getElementById("reply");
    this.box = document.getElementById("reply-body");
    this.label = document.getElementById("reply-label");
    this.sendButton = document.getElementById("reply-send");
    this.note = document.getElementById("reply-note");
    this.channel = document.getElementById("reply-channel");
    this.error = document.getElementById("reply-error");
    this.hint = document.getElementById("reply-hint");

    this.conversation = null;
    this.patient = null;
    this.sending = false;
    this.lastTypingSent = 0;

    this.canned = new CannedPicker({
      textarea: this.box,
      button: document.getElementById("canned-open"),
      getConversationId: () => this.conversation?.id,
    });

    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.box.addEventListener("keydown", (e) => {
      if (this.canned.handleKey(e)) return;
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.submit();
      }
    });
    this.box.addEventListener("input", () => {
      this.saveDraft();
      this.signalTyping();
    });
    this.note.addEventListener("change", () => this.updateMode());
    this.channel.addEventListener("change", () => this.updateHint());
  }

  setConversation(c) {
    const switched = c?.id !== this.conversation?.id;
    this.conversation = c;
    this.form.hidden = !c;
    if (!c) return;
    if (switched) {
      this.canned.close();
      this.box.value = readDraft(c.id);
      this.note.checked = false;
      this.patient = null;
      this.showError("");
      this.fillChannels(c);
    } else if (![...this.channel.options].some((o) => o.value === c.channel) && c.channel in REPLY_CHANNELS) {
      this.fillChannels(c); // the conversation moved to another channel
    }
    this.updateMode();
  }

  /** The patient's contact points, to warn before texting someone who opted out. */
  setPatient(patient) {
    this.patient = patient;
    this.updateHint();
  }

  focus() {
    if (!this.form.hidden) this.box.focus();
  }

  toggleNote() {
    if (this.form.hidden) return;
    this.note.checked = !this.note.checked;
    this.updateMode();
    this.box.focus();
  }

  openCanned() {
    if (this.form.hidden) return;
    this.canned.openFromShortcut();
  }

  /** Put text into the reply at the cursor (over any selection), without sending. */
  insertText(text) {
    if (this.form.hidden) return false;
    this.box.setRangeText(text, this.box.selectionStart, this.box.selectionEnd, "end");
    this.saveDraft();
    this.box.focus();
    return true;
  }

  // --- internals ---------------------------------------------------------

  fillChannels(c) {
    this.channel.replaceChildren(...replyChannels(c.channel).map((ch) => el("option", { value: ch }, REPLY_CHANNELS[ch])));
    this.channel.value = c.channel in REPLY_CHANNELS ? c.channel : "sms";
  }

  updateMode() {
    const note = this.note.checked;
    this.form.classList.toggle("note-mode", note);
    this.channel.disabled = note;
    this.box.placeholder = note
      ? "Internal note — not sent to the patient. Only staff see it."
      : "Write a reply… (type / for canned responses)";
    this.label.textContent = note ? "Internal note (not sent to the patient)" : `Reply to ${this.conversation?.patient_name || "the patient"}`;
    this.sendButton.textContent = note ? "Add note" : "Send";
    this.updateHint();
  }

  updateHint() {
    const c = this.conversation;
    let text = "";
    if (c && !this.note.checked) {
      const channel = this.channel.value;
      const phones = (this.patient?.contact_points || []).filter((p) => p.kind === "phone");
      if (channel === "sms" && this.patient && !phones.length) text = "No phone number on file: a text cannot be sent.";
      else if (channel === "sms" && phones.length && phones.every((p) => p.sms_opted_out)) {
        text = `${c.patient_name} opted out of SMS: a text will not be sent.`;
      } else if (channel !== c.channel) {
        text = `This reply goes by ${REPLY_CHANNELS[channel]}, not ${channelInfo(c.channel).name.toLowerCase()}.`;
      }
    }
    this.hint.textContent = text;
    this.hint.hidden = !text;
  }

  async submit() {
    const c = this.conversation;
    if (!c || this.sending) return;
    const body = this.box.value;
    if (!body.trim()) {
      this.showError(this.note.checked ? "Write the note first." : "Write a reply first.");
      this.box.focus();
      return;
    }
    const note = this.note.checked;
    const channel = this.channel.value;
    this.sending = true;
    this.sendButton.disabled = true;
    this.form.setAttribute("aria-busy", "true");
    try {
      const event = note ? await addNote(c.id, body) : await sendMessage(c.id, body, channel);
      // The agent may have switched conversation meanwhile: clear only that draft.
      clearDraft(c.id);
      if (this.conversation?.id === c.id && this.box.value === body) {
        this.box.value = "";
        this.showError("");
      }
      this.onSent(event);
    } catch (err) {
      // Keep the text: the agent fixes the problem (or the channel) and sends again.
      if (this.conversation?.id === c.id) this.showError(err.detail || "The message could not be sent.");
    } finally {
      this.sending = false;
      this.sendButton.disabled = false;
      this.form.removeAttribute("aria-busy");
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  saveDraft() {
    if (!this.conversation) return;
    try {
      if (this.box.value) sessionStorage.setItem(DRAFT_KEY(this.conversation.id), this.box.value);
      else sessionStorage.removeItem(DRAFT_KEY(this.conversation.id));
    } catch {
      // Storage full or disabled: drafts are a convenience only.
    }
  }

  signalTyping() {
    // Notes are for staff: the patient must not see "typing…" for them.
    if (!this.conversation || this.note.checked || !this.box.value.trim() || this.canned.isOpen) return;
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_EVERY_MS) return;
    this.lastTypingSent = now;
    this.stream?.send({ type: "typing", conversation_id: this.conversation.id });
  }
}

function readDraft(id) {
  try {
    return sessionStorage.getItem(DRAFT_KEY(id)) || "";
  } catch {
    return "";
  }
}

function clearDraft(id) {
  try {
    sessionStorage.removeItem(DRAFT_KEY(id));
  } catch {
    // see saveDraft
  }
}
