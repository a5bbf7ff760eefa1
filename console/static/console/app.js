// The agent console page: queue and thread, kept live by the stream.
import { Stream } from "./stream.js";

const boot = JSON.parse(document.getElementById("console-boot").textContent);
const conversations = new Map(boot.conversations.map((c) => [c.id, c]));
let current = null; // id of the open conversation
const shown = new Set(); // event ids on the open timeline

const $ = (id) => document.getElementById(id);
const csrf = () => document.cookie.split("; ").find((c) => c.startsWith("csrftoken="))?.split("=")[1] || "";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) node.append(child); // text nodes only: never HTML
  return node;
}

function waitLabel(since) {
  if (!since) return "";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function renderQueue() {
  const open = [...conversations.values()].filter((c) => c.status !== "resolved");
  open.sort((a, b) => b.priority - a.priority || (Date.parse(a.waiting_since || a.created_at) - Date.parse(b.waiting_since || b.created_at)) || a.id - b.id);
  const list = $("queue");
  list.replaceChildren(...open.map((c) => {
    const item = el("li", { class: "queue-item" + (c.id === current ? " active" : ""), "data-id": String(c.id) },
      el("button", { type: "button", class: "queue-open" },
        el("span", { class: `channel channel-${c.channel}` }, c.channel),
        el("span", { class: "name" }, c.patient_name),
        el("span", { class: "dept" }, c.department_name),
        el("span", { class: "status" }, c.status === "assigned" && c.assignee_name ? `with ${c.assignee_name}` : c.status),
        el("span", { class: "wait", "data-since": c.waiting_since || "" }, waitLabel(c.waiting_since))));
    item.querySelector("button").addEventListener("click", () => openConversation(c.id));
    return item;
  }));
  $("queue-count").textContent = `(${open.length})`;
}

const TICKS = { pending: "◷ sending", queued: "✓ queued", sending: "✓ sending", sent: "✓ sent", delivered: "✓✓ delivered", read: "✓✓ read", undelivered: "⚠ not delivered", failed: "⚠ failed" };

function deliveryText(e) {
  const label = TICKS[e.delivery_status] || e.delivery_status;
  return e.delivery_error ? `${label}: ${e.delivery_error}` : label;
}

function attachmentsNode(e) {
  const items = (e.data && e.data.attachments) || [];
  if (!items.length) return null;
  const box = el("div", { class: "attachments" });
  for (const a of items) {
    if (a.status === "stored" && a.content_type.startsWith("image/")) {
      const link = el("a", { href: `/console/attachments/${a.id}`, target: "_blank", rel: "noopener" });
      link.append(el("img", { src: `/console/attachments/${a.id}`, alt: a.filename || "Picture from the patient", loading: "lazy" }));
      box.append(link);
    } else if (a.status === "stored") {
      box.append(el("a", { href: `/console/attachments/${a.id}`, target: "_blank", rel: "noopener", class: "file" }, `📄 ${a.filename || "Document"} (PDF)`));
    } else if (a.status === "pending") {
      box.append(el("span", { class: "file pending" }, "Attachment arriving…"));
    } else {
      box.append(el("span", { class: "file rejected" }, `Attachment not shown: ${a.reason || a.status}`));
    }
  }
  return box;
}

function renderEvent(e) {
  const existing = document.querySelector(`[data-event="${e.id}"]`);
  if (existing) {
    const delivery = existing.querySelector(".delivery");
    if (delivery) {
      delivery.textContent = deliveryText(e);
      delivery.dataset.status = e.delivery_status;
    }
    const old = existing.querySelector(".attachments");
    const fresh = attachmentsNode(e);
    if (old) old.remove();
    if (fresh) existing.querySelector(".body").after(fresh);
    return;
  }
  shown.add(e.id);
  const who = e.direction === "in" ? "Patient" : e.author_name || (e.data && e.data.automatic ? "Automatic reply" : "Hub");
  const item = el("li", { class: `ev ev-${e.kind} ev-${e.direction}`, "data-event": String(e.id) },
    el("div", { class: "meta" }, `${who} · ${e.channel} · ${new Date(e.created_at).toLocaleTimeString()}`),
    el("div", { class: "body" }, e.body));
  const files = attachmentsNode(e);
  if (files) item.append(files);
  if (e.direction === "out") item.append(el("div", { class: "delivery", "data-status": e.delivery_status }, deliveryText(e)));
  $("timeline").append(item);
  item.scrollIntoView({ block: "end" });
}

async function openConversation(id) {
  current = id;
  shown.clear();
  $("timeline").replaceChildren();
  const response = await fetch(`/api/v1/conversations/${id}?limit=100`, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    $("thread-title").textContent = "This conversation is not available.";
    return;
  }
  const data = await response.json();
  conversations.set(id, data.conversation);
  $("thread-title").textContent = `${data.conversation.patient_name} · ${data.conversation.department_name}`;
  data.events.forEach(renderEvent);
  $("reply").hidden = false;
  renderQueue();
}

$("reply").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const kind = ev.submitter?.value || "message";
  const body = $("reply-body").value;
  if (!body.trim() || current === null) return;
  const response = await fetch(`/api/v1/conversations/${current}/${kind === "note" ? "notes" : "messages"}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
    body: JSON.stringify({ body }),
  });
  const error = $("reply-error");
  if (response.ok) {
    $("reply-body").value = "";
    error.hidden = true;
    renderEvent(await response.json());
  } else {
    const data = await response.json().catch(() => ({}));
    error.textContent = data.detail || "The message could not be sent.";
    error.hidden = false;
  }
});

const stateLabels = { connecting: "Connecting…", reconnecting: "Reconnecting…", live: "Live", down: "Offline", "signed-out": "Signed out" };
const stream = new Stream(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/console/`, {
  cursors: boot.cursors,
  onState(state) {
    $("stream-state").textContent = stateLabels[state] || state;
    $("stream-state").dataset.state = state;
    $("stream-down").hidden = state === "live" || state === "connecting";
  },
  onEvent(msg) {
    if (msg.type === "conversation.updated") {
      conversations.set(msg.payload.id, msg.payload);
      renderQueue();
    } else if ((msg.type === "event.created" || msg.type === "event.updated") && msg.payload.conversation_id === current) {
      renderEvent(msg.payload);
    }
  },
  onResync() {
    window.location.reload();
  },
});
stream.connect();
renderQueue();
setInterval(() => document.querySelectorAll(".wait[data-since]").forEach((n) => { n.textContent = waitLabel(n.dataset.since); }), 1000);
window.hubStream = stream;
