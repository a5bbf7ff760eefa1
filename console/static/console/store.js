// The open conversations this console follows, kept current from the page's
// snapshot plus the stream. Plain data and the queue's rules (who sees what,
// in which order); the views subscribe to "change".

export const TABS = {
  waiting: (c) => c.status === "queued",
  mine: (c, me) => c.assignee_id === me && (c.status === "assigned" || c.status === "snoozed"),
  all: (c) => c.status !== "resolved",
};

// Queue order: priority (high first), then who has waited longest, then id.
// Conversations nobody waits on sort after those with a wait clock.
function compare(a, b) {
  return b.c.priority - a.c.priority || a.waitTs - b.waitTs || a.c.id - b.c.id;
}

export class ConversationStore extends EventTarget {
  constructor({ userId, departmentIds }) {
    super();
    this.userId = userId;
    this.departmentIds = new Set(departmentIds);
    this.entries = new Map(); // id -> { c: ConversationOut, waitTs }
    this.unread = new Set(); // ids with a patient message not seen yet
  }

  /** Followed: in a department I follow, or assigned to me (protocol.md). */
  follows(c) {
    return this.departmentIds.has(c.department_id) || c.assignee_id === this.userId;
  }

  load(conversations) {
    this.entries.clear();
    for (const c of conversations) this.put(c);
    this.changed(null);
  }

  get(id) {
    return this.entries.get(id)?.c;
  }

  /**
   * Apply a full snapshot (replace, don't merge). A snapshot older than what
   * we hold (an HTTP answer can overtake the stream) is ignored.
   * Returns the previous snapshot, or undefined.
   */
  upsert(c) {
    const previous = this.get(c.id);
    if (previous && c.last_event_seq < previous.last_event_seq) return previous;
    if (c.status === "resolved" || !this.follows(c)) {
      if (previous) {
        this.entries.delete(c.id);
        this.unread.delete(c.id);
        this.changed(c.id);
      }
      return previous;
    }
    this.put(c);
    this.changed(c.id);
    return previous;
  }

  remove(id) {
    if (this.entries.delete(id)) this.changed(id);
  }

  /** An event.created: the conversation's last event and activity moved. */
  touch(event) {
    const entry = this.entries.get(event.conversation_id);
    if (!entry || event.seq <= entry.c.last_event_seq) return;
    // In place: no row shows these fields, so nothing needs re-rendering;
    // they only keep the stale-snapshot check in upsert() honest.
    entry.c.last_event_seq = event.seq;
    entry.c.last_activity_at = event.created_at;
  }

  markUnread(id, unread) {
    const had = this.unread.has(id);
    if (unread === had || (unread && !this.entries.has(id))) return;
    if (unread) this.unread.add(id);
    else this.unread.delete(id);
    this.changed(id);
  }

  /** Sorted conversations for a tab, optionally one department's. */
  list(tab, departmentId = null) {
    const accept = TABS[tab] || TABS.waiting;
    const out = [];
    for (const entry of this.entries.values()) {
      if (departmentId !== null && entry.c.department_id !== departmentId) continue;
      if (accept(entry.c, this.userId)) out.push(entry);
    }
    out.sort(compare);
    return out.map((e) => e.c);
  }

  count(tab, departmentId = null) {
    const accept = TABS[tab] || TABS.waiting;
    let n = 0;
    for (const { c } of this.entries.values()) {
      if ((departmentId === null || c.department_id === departmentId) && accept(c, this.userId)) n += 1;
    }
    return n;
  }

  /** Waiting (unassigned) conversations per department id. */
  waitingByDepartment() {
    const counts = new Map();
    for (const { c } of this.entries.values()) {
      if (c.status === "queued") counts.set(c.department_id, (counts.get(c.department_id) || 0) + 1);
    }
    return counts;
  }

  put(c) {
    this.entries.set(c.id, { c, waitTs: c.waiting_since ? Date.parse(c.waiting_since) : Number.POSITIVE_INFINITY });
  }

  changed(id) {
    this.dispatchEvent(new CustomEvent("change", { detail: { id } }));
  }
}
