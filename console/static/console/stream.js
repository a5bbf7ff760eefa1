// The console's realtime stream client (protocol: docs/protocol.md).
// Keeps the last sequence seen per stream, says hello with those cursors on
// every (re)connect so the server replays exactly what was missed, drops
// anything already seen, and treats a silent socket as dead.
//
// States reported to onState: "connecting" (first attempt), "live",
// "down" (closed, a retry is scheduled), "reconnecting" (retry under way),
// "signed-out" (4401: going to the login page), "forbidden" (4403: stopped).

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_SESSION_ENDED = 4440;
const CLOSE_IDLE_LOGOFF = 4441; // automatic logoff after inactivity
const CLOSE_HEARTBEAT_MISSED = 4000;

export class Stream {
  constructor(url, { cursors = {}, heartbeat = 15, onEvent, onState, onResync, onWelcome, onSignal, onError, onServerTime } = {}) {
    this.url = url;
    this.cursors = { ...cursors };
    this.onEvent = onEvent || (() => {}); // sequenced messages, each once, in order per stream
    this.onState = onState || (() => {});
    this.onResync = onResync || (() => {});
    this.onWelcome = onWelcome || (() => {});
    this.onSignal = onSignal || (() => {}); // unsequenced, best-effort messages (e.g. "typing")
    this.onError = onError || ((msg) => console.warn("stream error", msg.code, msg.detail || ""));
    this.onServerTime = onServerTime || (() => {}); // heartbeat/pong `ts`, for countdowns to server deadlines
    this.heartbeat = heartbeat; // seconds; the server's welcome has the final word
    this.retries = 0;
    this.lastHeard = Date.now();
    this.closedByUs = false;
    this.retryTimer = null;
    this.ws = null;
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.onState(this.retries ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.lastHeard = Date.now();
      ws.send(JSON.stringify({ type: "hello", cursors: this.cursors }));
    });
    ws.addEventListener("message", (e) => {
      // A socket we already replaced may still deliver a last frame; ignore it
      // so it cannot move the cursors behind the new socket's back.
      if (ws !== this.ws) return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      this.handle(msg);
    });
    ws.addEventListener("close", (e) => {
      if (ws === this.ws) this.closed(e);
    });
    clearInterval(this.watchdog);
    this.watchdog = setInterval(() => this.checkAlive(), 1000);
  }

  handle(msg) {
    this.lastHeard = Date.now();
    switch (msg.type) {
      case "welcome":
        this.retries = 0;
        this.heartbeat = msg.heartbeat || this.heartbeat;
        this.onState("live");
        this.onWelcome(msg);
        return;
      case "heartbeat":
      case "pong":
        if (msg.ts) this.onServerTime(msg.ts);
        return;
      case "resync":
        this.cursors[msg.stream] = msg.seq;
        this.onResync(msg.stream, msg.seq);
        return;
      case "error":
        this.onError(msg);
        return;
      default:
        if (typeof msg.seq === "number" && typeof msg.stream === "string") {
          const seen = this.cursors[msg.stream] || 0;
          if (msg.seq <= seen) return; // already applied
          this.cursors[msg.stream] = msg.seq;
          this.onEvent(msg);
        } else {
          this.onSignal(msg);
        }
    }
  }

  /** Send a JSON message if the socket is open; returns whether it went. */
  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  /** Skip the backoff wait (e.g. the browser says the network is back). */
  reconnectNow() {
    if (this.closedByUs || this.retryTimer === null) return;
    this.connect();
  }

  checkAlive() {
    // No heartbeat for 2.5 periods: the stream is dead even if TCP says not.
    if (this.ws && this.ws.readyState === WebSocket.OPEN && Date.now() - this.lastHeard > this.heartbeat * 2500) {
      this.ws.close(CLOSE_HEARTBEAT_MISSED, "heartbeat missed");
    }
  }

  closed(event) {
    clearInterval(this.watchdog);
    if (this.closedByUs) return;
    if (event.code === CLOSE_UNAUTHENTICATED || event.code === CLOSE_SESSION_ENDED || event.code === CLOSE_IDLE_LOGOFF) {
      this.onState("signed-out");
      const expired = event.code === CLOSE_IDLE_LOGOFF;
      window.location.assign("/console/login/?next=" + encodeURIComponent(location.pathname + location.hash)
        + (expired ? "&expired=1" : ""));
      return;
    }
    if (event.code === CLOSE_FORBIDDEN) {
      // Retrying cannot help: the account or origin is not allowed.
      this.onState("forbidden");
      return;
    }
    this.onState("down");
    this.retries += 1;
    // Exponential backoff with jitter, so a restarted server is not hit by
    // every console at the same instant.
    const delay = Math.min(10000, 300 * 2 ** Math.min(this.retries, 6)) * (0.75 + Math.random() / 2);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  close() {
    this.closedByUs = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    if (this.ws) this.ws.close(1000);
  }
}
