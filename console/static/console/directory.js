// The practice directory (departments, topics, staff with presence and
// load), fetched from /api/v1/directory and kept fresh by presence.updated.
// Dispatches "change" whenever it has new data.

import { getDirectory } from "./api.js";

export class Directory extends EventTarget {
  constructor() {
    super();
    this.data = { practice_name: "", departments: [], topics: [], staff: [] };
    this.pending = null;
  }

  /** Fetch again; concurrent callers share one request. */
  refresh() {
    if (!this.pending) {
      this.pending = getDirectory()
        .then((data) => {
          this.data = data;
          this.changed();
          return data;
        })
        .finally(() => { this.pending = null; });
    }
    return this.pending;
  }

  department(id) {
    return this.data.departments.find((d) => d.id === id);
  }

  staffMember(userId) {
    return this.data.staff.find((s) => s.user_id === userId);
  }

  /** Topics grouped by department, in the directory's department order. */
  topicsByDepartment() {
    return this.data.departments.map((d) => ({
      department: d,
      topics: this.data.topics.filter((t) => t.department_id === d.id).sort((a, b) => a.name.localeCompare(b.name)),
    })).filter((group) => group.topics.length);
  }

  /** A presence.updated payload: {user_id, name, presence, changed_at}. */
  applyPresence({ user_id: userId, presence }) {
    const member = this.staffMember(userId);
    if (member && member.presence !== presence) {
      member.presence = presence;
      this.changed();
    }
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }
}
