// The wallboard: the page carries a snapshot (kpi.live.snapshot); the
// /ws/wallboard/ socket sends a fresh one on connect and another whenever
// something changes. Wait times tick here, every second, from
// `oldest_waiting_since`, on the server's clock: `generated_at` (and each
// pong's `ts`) tell how far this screen's clock is from the server's.

const boot = JSON.parse(document.getElementById("wallboard-boot").textContent);
const CHANNELS = { voice: "Phone", sms: "SMS", web: "Web chat", api: "API" };
const BACKOFF = [1000, 2000, 4000, 8000, 15000, 30000];

let snapshot = null;
let skew = 0; // this clock minus the server's, in ms
let socket = null;
let attempt = 0;
let pingTimer = null;
let lastPong = 0;
let pingSentAt = 0;
let stopped = false;

const $ = (id) => document.getElementById(id);

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total}s`;
  if (total < 3600) return `${Math.floor(total / 60)}m ${String(total % 60).padStart(2, "0")}s`;
  if (total < 86400) return `${Math.floor(total / 3600)}h ${String(Math.floor((total % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(total / 86400)}d ${String(Math.floor((total % 86400) / 3600)).padStart(2, "0")}h`;
}

export function percent(share) {
  if (share === null || share === undefined) return "—";
  const text = (share * 100).toFixed(1);
  return (text.endsWith(".0") ? text.slice(0, -2) : text) + "%";
}

function serverNow() {
  return Date.now() - skew;
}

function ageSeconds(iso) {
  return iso ? Math.max(0, (serverNow() - Date.parse(iso)) / 1000) : null;
}

function text(id, value) {
  const el = $(id);
  if (el.textContent !== value) el.textContent = value;
}

function cell(tag, value, className) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (className) el.className = className;
  return el;
}

// --- rendering ------------------------------------------------------------------

function render(data) {
  snapshot = data;
  skew = Date.now() - Date.parse(data.generated_at);
  const today = data.today;

  text("wb-waiting", String(data.waiting_total));
  const channels = {};
  for (const w of data.waiting) channels[w.channel] = (channels[w.channel] || 0) + w.waiting;
  text("wb-waiting-sub", Object.keys(channels).sort()
    .map((c) => `${CHANNELS[c] || c} ${channels[c]}`).join(" · ") || "Queue empty");

  const target = today.service_level_target;
  const sl = today.service_level;
  const tile = $("wb-sl-tile");
  let status = "none";
  let word = "Nothing answered yet";
  if (sl !== null && sl !== undefined) {
    if (sl >= target) { status = "good"; word = "On target"; }
    else if (sl >= target - 0.1) { status = "warn"; word = "Below target"; }
    else { status = "bad"; word = "Well below target"; }
  }
  tile.dataset.status = status;
  text("wb-sl", percent(sl));
  text("wb-sl-sub", `${word} · target ${percent(target)}`);

  text("wb-abandonment", percent(today.abandonment_rate));
  text("wb-abandonment-sub", `${today.abandoned} abandoned of ${today.contacts} contacts`);
  text("wb-average-wait", duration(today.average_wait));
  text("wb-average-wait-sub", `answer in ${duration(today.average_speed_of_answer)} on average`);
  text("wb-breaches", String(today.sla_breaches));
  $("wb-breaches-tile").dataset.status = today.sla_breaches > 0 ? "bad" : "good";
  text("wb-breaches-sub", today.sla_breaches === 1 ? "response deadline missed" : "response deadlines missed");

  const queue = $("wb-queue").querySelector("tbody");
  queue.replaceChildren(...data.waiting.map((w) => {
    const row = document.createElement("tr");
    row.dataset.department = w.department_id ?? "";
    row.dataset.channel = w.channel;
    row.append(cell("th", w.department || "—"), cell("td", CHANNELS[w.channel] || w.channel),
      cell("td", String(w.waiting), "num"), cell("td", "", "num wait"));
    row.lastChild.dataset.since = w.oldest_waiting_since || "";
    row.firstChild.scope = "row";
    return row;
  }));
  $("wb-queue").hidden = data.waiting.length === 0;
  $("wb-queue-empty").hidden = data.waiting.length > 0;

  for (const column of document.querySelectorAll("[data-presence]")) {
    const group = data.agents[column.dataset.presence] || { count: 0, names: [] };
    column.querySelector("[data-count]").textContent = String(group.count);
    column.querySelector("[data-names]").replaceChildren(...group.names.map((n) => cell("li", n)));
  }

  const departments = $("wb-departments").querySelector("tbody");
  departments.replaceChildren(...data.departments.map((d) => {
    const row = document.createElement("tr");
    const head = cell("th", d.department || "—");
    head.scope = "row";
    row.append(head, cell("td", String(d.contacts), "num"), cell("td", percent(d.service_level), "num"),
      cell("td", percent(d.abandonment_rate), "num"), cell("td", duration(d.average_wait), "num"));
    return row;
  }));
  $("wb-departments").hidden = data.departments.length === 0;
  $("wb-departments-empty").hidden = data.departments.length > 0;

  document.body.dataset.generatedAt = data.generated_at;
  tick();
}

function tick() {
  const now = new Date(serverNow());
  text("wb-clock", now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  $("wb-clock").dateTime = now.toISOString();
  if (!snapshot) return;
  let longest = null;
  let where = "";
  for (const w of snapshot.waiting) {
    const age = ageSeconds(w.oldest_waiting_since);
    if (age !== null && (longest === null || age > longest)) {
      longest = age;
      where = `${w.department || "—"} · ${CHANNELS[w.channel] || w.channel}`;
    }
  }
  text("wb-longest", longest === null ? "—" : duration(longest));
  text("wb-longest-sub", longest === null ? "Nobody waiting" : where);
  for (const td of document.querySelectorAll("#wb-queue td.wait")) {
    const value = duration(ageSeconds(td.dataset.since));
    if (td.textContent !== value) td.textContent = value;
  }
}

// --- the socket ---------------------------------------------------------------

function setState(state, label) {
  const el = $("wb-state");
  el.dataset.state = state;
  el.textContent = label;
  $("wb-down").hidden = state !== "reconnecting";
  document.body.dataset.socket = state;
}

function connect() {
  if (stopped) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}${boot.socket}`);
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    if (message.type === "snapshot" || message.type === "update") {
      attempt = 0;
      lastPong = Date.now();
      setState("live", "Live");
      render(message.data);
    } else if (message.type === "pong") {
      lastPong = Date.now();
      const rtt = lastPong - pingSentAt;
      if (message.ts && rtt >= 0 && rtt < 5000) skew = lastPong - rtt / 2 - Date.parse(message.ts);
    }
  });
  socket.addEventListener("open", () => {
    lastPong = Date.now();
    clearInterval(pingTimer);
    pingTimer = setInterval(ping, boot.ping_seconds * 1000);
  });
  socket.addEventListener("close", (event) => {
    clearInterval(pingTimer);
    socket = null;
    if (event.code === 4401 || event.code === 4440 || event.code === 4441) {
      // 4440: the session ended (signed out); 4441: automatic logoff after
      // inactivity. The numbers stop rather than go stale silently.
      stopped = true;
      setState("signed-out", "Signed out");
      showStop(event.code === 4441
        ? "This screen was signed out after a period without activity. " : "This screen was signed out. ",
      "Sign in again", boot.login);
      return;
    }
    if (event.code === 4403) {
      stopped = true;
      setState("refused", "Not allowed");
      showStop(`The server refused this wallboard: ${event.reason || "not allowed"}. `, "Back to the console", "/console/");
      return;
    }
    setState("reconnecting", "Reconnecting…");
    const base = BACKOFF[Math.min(attempt, BACKOFF.length - 1)];
    attempt += 1;
    setTimeout(connect, base + Math.random() * base * 0.3);
  });
}

function ping() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  if (Date.now() - lastPong > boot.ping_seconds * 2500 + 5000) {
    socket.close(); // silent for too long: start again
    return;
  }
  pingSentAt = Date.now();
  socket.send(JSON.stringify({ type: "ping" }));
}

function showStop(message, linkText, href) {
  const banner = $("wb-down");
  const link = document.createElement("a");
  link.href = href;
  link.textContent = linkText;
  banner.replaceChildren(document.createTextNode(message), link);
  banner.hidden = false;
}

render(boot.snapshot);
setInterval(tick, 1000);
connect();
