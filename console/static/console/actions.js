// Conversation verbs that need no dialog (pick up, reopen), with the
// conflicts agents meet every day turned into short notices.

import * as api from "./api.js";

export class ConversationActions {
  constructor({ store, queue, notices, applyConversation, afterPickUp, isOpen }) {
    this.store = store;
    this.queue = queue;
    this.notices = notices;
    this.applyConversation = applyConversation;
    this.afterPickUp = afterPickUp;
    this.isOpen = isOpen;
    this.pickingUp = new Set();
  }

  async pickUp(id) {
    if (this.pickingUp.has(id)) return;
    this.pickingUp.add(id);
    this.queue.setPickUpPending(id, true);
    try {
      const { conversation } = await api.pickUp(id);
      this.applyConversation(conversation);
      this.notices.show(`You picked up ${conversation.patient_name}.`, { tone: "success" });
      this.afterPickUp(conversation);
    } catch (err) {
      this.notices.show(err.detail, { tone: "error" });
      // Someone else was first (or it closed, or left our departments). Its
      // new snapshot is on the stream; until it lands, do not leave a row
      // that can no longer be picked up. (A snapshot that already landed
      // is newer than our row and is kept.)
      if ((err.code === "taken" || err.code === "resolved" || err.status === 404) && this.store.get(id)?.status === "queued") {
        this.store.remove(id);
      }
      // The agent is looking at it: show who has it now.
      if (err.code === "taken" && this.isOpen(id)) {
        api.getConversation(id, { limit: 1 }).then(({ conversation }) => this.applyConversation(conversation), () => {});
      }
    } finally {
      this.pickingUp.delete(id);
      this.queue.setPickUpPending(id, false);
    }
  }

  async reopen(id) {
    try {
      const { conversation } = await api.reopen(id);
      this.applyConversation(conversation);
      this.notices.show(`Reopened: ${conversation.patient_name} is assigned to you.`, { tone: "success" });
    } catch (err) {
      this.notices.show(err.detail, { tone: "error" });
    }
  }
}
