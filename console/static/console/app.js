// The agent console: wires the page's snapshot, the realtime stream and the
// views together. Each view lives in its own module; this one only routes
// data between them.

import { ConversationActions } from "./actions.js";
import { AlertTray } from "./alerts.js";
import { tickSla } from "./badges.js";
import { observeServerTime, serverNow } from "./clock.js";
import { Composer } from "./composer.js";
import { openDialog } from "./dialog.js";
import { Directory } from "./directory.js";
import { byId } from "./dom.js";
import { waitLabel } from "./format.js";
import { Announcer, Notices } from "./notices.js";
import { OfferBanner } from "./offers.js";
import { PatientPanel } from "./patient-panel.js";
import { EhrPanel } from "./ehr-panel.js";
import { KnowledgePanel } from "./knowledge-panel.js";
import { PresenceControl } from "./presence.js";
import { QueueView } from "./queue-view.js";
import { ResolveDialog } from "./resolve-dialog.js";
import { installShortcuts } from "./shortcuts.js";
import { SnoozeDialog } from "./snooze-dialog.js";
import { ConversationStore } from "./store.js";
import { Stream } from "./stream.js";
import { ThreadView } from "./thread-view.js";
import { TransferDialog } from "./transfer-dialog.js";

const boot = JSON.parse(byId("console-boot").textContent);
const me = boot.user;

const notices = new Notices(byId("notices"), byId("announcer"));
const alertAnnouncer = new Announcer(byId("alert-announcer"));
const urgentAnnouncer = new Announcer(byId("urgent-announcer"));
const directory = new Directory();
const store = new ConversationStore({ userId: me.id, departmentIds: me.department_ids });
store.load(boot.conversations);

const stream = new Stream(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/console/`, {
  cursors: boot.cursors,
  heartbeat: boot.heartbeat,
  onState: showStreamState,
  onEvent: onStreamMessage,
  onSignal: onStreamSignal,
  onResync,
  onServerTime: (ts) => observeServerTime(ts),
});

const queue = new QueueView({
  store, directory, userId: me.id, departmentIds: me.department_ids,
  onOpen: navigate,
  onPickUp: (id) => actions.pickUp(id),
});
const thread = new ThreadView({ userId: me.id, follows: (c) => store.follows(c), onOpened, onAction: runAction });
const composer = new Composer({
  stream,
  onSent(event) {
    thread.applyEvent(event);
    store.touch(event);
  },
});
const patientPanel = new PatientPanel({ onPatient: (patient) => composer.setPatient(patient) });
const ehrPanel = new EhrPanel({
  notices, timeZone: boot.practice_timezone, maySupervise: me.role === "supervisor" || me.role === "admin",
});
const knowledgePanel = new KnowledgePanel({ notices, insert: (text) => composer.insertText(text) });
const presence = new PresenceControl({
  select: byId("presence"), idleMinutes: boot.idle_minutes, notices,
  onActive: () => stream.send({ type: "activity" }),
});
const actions = new ConversationActions({
  store, queue, notices, applyConversation,
  isOpen: (id) => thread.id === id,
  async afterPickUp(conversation) {
    await navigate(conversation.id);
    composer.focus(); // picked up to answer: straight to the reply box
  },
});
const offers = new OfferBanner({
  notices,
  announcer: alertAnnouncer,
  async onAccepted(conversation) {
    applyConversation(conversation);
    notices.show(`You accepted ${conversation.patient_name}.`, { tone: "success" });
    await navigate(conversation.id);
    composer.focus(); // accepted to answer, as after a pick-up
  },
  isMine: (id) => actions.pickingUp.has(id) || store.get(id)?.assignee_id === me.id,
});
const supervising = me.role === "supervisor" || me.role === "admin";
const alerts = new AlertTray({
  // Supervisors see every alert; agents only urgent ones they could act on.
  wants: (a) => supervising || (a.kind === "urgent" &&
    (me.department_ids.includes(a.department_id) || store.get(a.conversation_id)?.assignee_id === me.id)),
  onOpen: (id) => navigate(id),
  announcer: alertAnnouncer,
  urgentAnnouncer,
});
const dialogs = {
  transfer: new TransferDialog({ directory, userId: me.id, onDone: actionDone }),
  snooze: new SnoozeDialog({ onDone: actionDone }),
  resolve: new ResolveDialog({ directory, onDone: actionDone }),
};

// --- conversations --------------------------------------------------------

/** A new snapshot, from the stream or an action's answer: every view that shows it. */
function applyConversation(c) {
  const before = thread.conversation;
  store.upsert(c);
  if (thread.id === c.id) {
    thread.applyConversation(c);
    composer.setConversation(thread.workable);
    if (before && before.status !== c.status && thread.workable) patientPanel.refresh(c.id);
  }
}

function actionDone(conversation, message) {
  applyConversation(conversation);
  notices.show(message, { tone: "success" });
}

function runAction(action, conversation) {
  if (action === "pick-up") actions.pickUp(conversation.id);
  else if (action === "reopen") actions.reopen(conversation.id);
  else dialogs[action]?.open(conversation);
}

/** Shortcut for a header action: only when its button is offered. */
function headerAction(action) {
  const button = document.querySelector(`#thread-actions button[data-action="${action}"]`);
  if (thread.conversation && button && !button.hidden && !byId("thread-actions").hidden) runAction(action, thread.conversation);
}

// --- navigation: #conversation/ID, so reloads and Back keep the open thread --

function conversationFromHash() {
  const match = /^#conversation\/(\d+)$/.exec(location.hash);
  return match ? Number(match[1]) : null;
}

/** Open a conversation and record it in the URL; resolves once it is shown. */
function navigate(id) {
  const hash = `#conversation/${id}`;
  if (location.hash !== hash) location.hash = hash; // its hashchange finds it already opening
  return openConversation(id);
}

function openConversation(id) {
  queue.setActive(id);
  store.markUnread(id, false);
  return thread.open(id);
}

function onOpened(conversation, id) {
  composer.setConversation(thread.workable);
  if (conversation) {
    patientPanel.show(conversation.patient_id, id);
    ehrPanel.show(id);
    knowledgePanel.show(id);
  } else {
    patientPanel.clear();
    ehrPanel.clear();
    knowledgePanel.clear();
  }
  updateTitle();
}

window.addEventListener("hashchange", () => {
  const id = conversationFromHash();
  if (id !== null) openConversation(id);
});

// --- the stream -------------------------------------------------------------

function onStreamMessage(msg) {
  const payload = msg.payload;
  switch (msg.type) {
    case "conversation.updated": {
      const before = store.get(payload.id);
      applyConversation(payload);
      announceConversation(before, payload);
      break;
    }
    case "event.created":
      store.touch(payload);
      thread.applyEvent(payload);
      announceEvent(payload);
      // Consent changed (STOP/START): the patient panel's badges must follow.
      if (payload.conversation_id === thread.id && payload.data?.consent) patientPanel.refresh(thread.id);
      // The patient wrote: their words may suggest other articles.
      if (payload.conversation_id === thread.id && payload.direction === "in" && payload.kind === "message") knowledgePanel.refresh();
      // Verified or booked (here or by a colleague): the EHR panel follows.
      if (payload.conversation_id === thread.id && payload.data?.ehr) {
        ehrPanel.refresh();
        if (payload.data.ehr === "identity_verified") patientPanel.refresh(thread.id);
      }
      break;
    case "event.updated":
      thread.applyEvent(payload);
      break;
    case "presence.updated":
      directory.applyPresence(payload);
      if (payload.user_id === me.id) presence.setKnown(payload.presence);
      break;
    case "alert.created":
      alerts.add(msg); // whole message: its (stream, seq) identifies it
      break;
    case "offer.updated":
      offers.apply(payload);
      break;
    default:
      break;
  }
}

function announceConversation(before, c) {
  if (!store.get(c.id)) return; // not (or no longer) in our queue
  if (!before && c.status === "queued") {
    notices.announce(`New conversation waiting: ${c.patient_name}, ${c.department_name}.`);
  } else if (c.assignee_id === me.id && before && before.assignee_id !== me.id && !actions.pickingUp.has(c.id) && !offers.accepting.has(c.id)) {
    notices.show(`${c.patient_name} was assigned to you.`);
  }
}

function announceEvent(e) {
  if (e.direction !== "in" || (e.kind !== "message" && e.kind !== "call")) return;
  const c = store.get(e.conversation_id) || (thread.id === e.conversation_id ? thread.conversation : null);
  const name = c?.patient_name || "A patient";
  if (thread.id === e.conversation_id) {
    const text = e.body.length > 160 ? `${e.body.slice(0, 160)}…` : e.body;
    notices.announce(`New message from ${name}: ${text}`);
  } else {
    store.markUnread(e.conversation_id, true);
    if (c?.assignee_id === me.id) notices.announce(`New message from ${name}.`);
  }
}

function onStreamSignal(msg) {
  if (msg.type === "session.expiring") {
    const minutes = Math.max(1, Math.round(msg.seconds_left / 60));
    notices.show(`You will be signed out in about ${minutes} minute${minutes === 1 ? "" : "s"} because of inactivity. `
      + "Move the mouse or press a key to stay signed in.", { tone: "error" });
    return;
  }
  if (msg.type === "typing" && msg.who === "patient" && msg.conversation_id === thread.id) thread.showTyping();
}

let reloadTimer = null;
function onResync(streamName) {
  if (streamName.startsWith("practice.")) {
    // Presence reloads over HTTP; alerts cannot be fetched again.
    directory.refresh().catch(() => {});
    if (supervising) notices.show("Some alerts may have been missed while live updates were interrupted. Check the queue for urgent conversations.");
    return;
  }
  // The server cannot replay what we missed: start again from a fresh
  // snapshot. Drafts (sessionStorage) and the open thread (#hash) survive.
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => location.reload(), 300);
}

const STREAM_VIEWS = {
  connecting: ["connecting", "Connecting…"],
  live: ["live", "Live"],
  down: ["reconnecting", "Reconnecting…"],
  reconnecting: ["reconnecting", "Reconnecting…"],
  "signed-out": ["offline", "Signed out"],
  forbidden: ["offline", "Offline"],
};
let streamState = "connecting";

function showStreamState(state) {
  streamState = state;
  let [key, label] = STREAM_VIEWS[state] || ["offline", "Offline"];
  if (key !== "live" && !navigator.onLine) [key, label] = ["offline", "Offline"];
  const pill = byId("stream-state");
  pill.dataset.state = key;
  pill.textContent = label;
  const banner = byId("stream-down");
  banner.hidden = key === "live" || key === "connecting";
  banner.textContent = state === "forbidden"
    ? "Live updates are off: this account cannot use the console from here. Reload, or ask a practice admin."
    : !navigator.onLine
      ? "You are offline. Live updates resume when the connection is back."
      : "Live updates are interrupted. Reconnecting… The queue may be out of date until then.";
}

window.addEventListener("online", () => {
  showStreamState(streamState);
  stream.reconnectNow();
});
window.addEventListener("offline", () => showStreamState(streamState));

// --- page chrome --------------------------------------------------------------

// Wait clocks, SLA badges and offer countdowns tick for what is on screen
// only (at most a few hundred nodes), by the server's clock.
setInterval(() => {
  const now = serverNow();
  for (const node of document.querySelectorAll("[data-wait-since]")) node.textContent = waitLabel(node.dataset.waitSince, now);
  tickSla(now);
  offers.tick(now);
}, 1000);

// The tab title counts who is waiting, so a background tab still says so.
let titleFrame = 0;
function updateTitle() {
  if (titleFrame) return;
  titleFrame = requestAnimationFrame(() => {
    titleFrame = 0;
    const waiting = store.count("waiting");
    const base = thread.conversation ? `${thread.conversation.patient_name} · Hub console` : "Queue · Hub console";
    document.title = waiting ? `(${waiting.toLocaleString()}) ${base}` : base;
  });
}
store.addEventListener("change", updateTitle);

// The skip link lands on the queue's current row without replacing the
// #conversation/ID in the address (which reloads reopen).
document.querySelector(".skip-link").addEventListener("click", (e) => {
  e.preventDefault();
  if (queue.shownIds.length) queue.focusRow(queue.shownIds.includes(queue.selectedId) ? queue.selectedId : queue.shownIds[0]);
  else byId("queue-panel").focus();
});

byId("help-open").addEventListener("click", () => openDialog(byId("help-dialog"), { focus: byId("help-dialog").querySelector("[data-close]") }));

installShortcuts({
  next: () => queue.moveSelection(1),
  previous: () => queue.moveSelection(-1),
  open: () => { if (queue.selectedId !== null) navigate(queue.selectedId); },
  "pick-up": () => {
    // In the queue, p means the row under the cursor; elsewhere, the open conversation.
    const inQueue = Boolean(document.activeElement?.closest?.("#queue"));
    const rowId = queue.selectedId !== null && store.get(queue.selectedId)?.status === "queued" ? queue.selectedId : null;
    const openId = thread.workable?.status === "queued" ? thread.workable.id : null;
    const id = inQueue ? rowId ?? openId : openId ?? rowId;
    if (id !== null) actions.pickUp(id);
  },
  reply: () => composer.focus(),
  note: () => composer.toggleNote(),
  canned: () => composer.openCanned(),
  transfer: () => headerAction("transfer"),
  snooze: () => headerAction("snooze"),
  resolve: () => headerAction("resolve"),
  reopen: () => headerAction("reopen"),
  "accept-offer": () => offers.actOnOldest("accept"),
  "decline-offer": () => offers.actOnOldest("decline"),
});

// Esc in the reply box (nothing else open) leaves it, so single-key shortcuts work again.
byId("reply-body").addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !e.defaultPrevented) thread.focusTitle();
});

// --- start --------------------------------------------------------------------

// The page carries both, so nothing waits for the directory to show them.
if (boot.practice_name) byId("practice-name").textContent = boot.practice_name;
if (boot.user.presence) presence.setKnown(boot.user.presence);

directory.refresh().then((data) => {
  byId("practice-name").textContent = data.practice_name;
  const mine = directory.staffMember(me.id);
  if (mine) presence.setKnown(mine.presence);
}).catch((err) => notices.show(`The practice directory could not be loaded: ${err.detail}`, { tone: "error" }));

queue.render();
presence.startIdleWatch();
stream.connect();
offers.load(); // offered before this page loaded; later ones come on the stream
const initial = conversationFromHash();
if (initial !== null) openConversation(initial);
window.hubStream = stream; // for debugging and browser tests
