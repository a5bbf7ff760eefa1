// Resolve: the outcome (resolved, or follow-up needed) and the topic, which
// starts as the conversation's own so that reporting stays right by default.

import { resolve } from "./api.js";
import { FormDialog } from "./dialog.js";
import { el } from "./dom.js";

export class ResolveDialog extends FormDialog {
  constructor({ directory, onDone }) {
    super(document.getElementById("resolve-dialog"));
    this.directory = directory;
    this.onDone = onDone;
    this.topic = document.getElementById("resolve-topic");
  }

  open(conversation) {
    this.conversation = conversation;
    this.form.elements.disposition.value = "resolved";
    this.populateTopics(conversation);
    this.show(this.form.querySelector('input[name="disposition"]:checked'));
  }

  populateTopics(c) {
    // The conversation's department first: its topics are the likely ones.
    const groups = this.directory.topicsByDepartment()
      .sort((a, b) => (b.department.id === c.department_id) - (a.department.id === c.department_id));
    const options = [el("option", { value: "" }, c.topic_id ? "Keep the current topic" : "No topic")];
    for (const { department, topics } of groups) {
      options.push(el("optgroup", { label: department.name },
        topics.map((t) => el("option", { value: String(t.id) }, t.name))));
    }
    if (c.topic_id && !this.directory.data.topics.some((t) => t.id === c.topic_id)) {
      options.push(el("option", { value: String(c.topic_id) }, c.topic_name || `Topic ${c.topic_id}`));
    }
    this.topic.replaceChildren(...options);
    this.topic.value = c.topic_id ? String(c.topic_id) : "";
  }

  submit() {
    const disposition = this.form.elements.disposition.value || "resolved";
    const topicId = Number(this.topic.value) || undefined;
    const id = this.conversation.id;
    return this.run(async () => {
      const { conversation } = await resolve(id, disposition, topicId);
      this.onDone(conversation, disposition === "follow_up" ? "Resolved, follow-up needed." : "Resolved.");
    });
  }
}
