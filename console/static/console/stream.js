// The console's realtime stream client (protocol: docs/protocol.md).
// Keeps the last sequence seen per stream, says hello with those cursors on
// every (re)connect so the server replays exactly what was missed, drops
// anything already seen, and treats a silent socket as dead.

export class Stream {
  constructor(url, { cursors = {}, onEvent, onState, onResync, onWelcome } = {}) {
    this.url = url;
    this.cursors = { ...cursors };
    this.onEvent = onEvent || (() => {});
    this.onState = onState || (() => {});
    this.onResync = onResync || (() => {});
    this.onWelcome = onWelcome || (() => {});
    this.heartbeat = 15;
    this.retries = 0;
    this.lastHeard = Date.now();
    this.closedByUs = false;
  }

  connect() {
    this.onState(this.retries ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.lastHeard = Date.now();
      ws.send(JSON.stringify({ type: "hello", cursors: this.cursors }));
    });
    ws.addEventListener("message", (e) => this.handle(JSON.parse(e.data)));
    ws.addEventListener("close", (e) => this.closed(e));
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
        return;
      case "resync":
        this.cursors[msg.stream] = msg.seq;
        this.onResync(msg.stream);
        return;
      case "error":
        console.warn("stream error", msg.code);
        return;
      default:
        if (typeof msg.seq === "number") {
          const seen = this.cursors[msg.stream] || 0;
          if (msg.seq <= seen) return; // already applied
          this.cursors[msg.stream] = msg.seq;
        }
        this.onEvent(msg);
    }
  }

  checkAlive() {
    // No heartbeat for 2.5 periods: the stream is dead even if TCP says not.
    if (this.ws && this.ws.readyState === WebSocket.OPEN && Date.now() - this.lastHeard > this.heartbeat * 2500) {
      this.ws.close(4000, "heartbeat missed");
    }
  }

  closed(event) {
    clearInterval(this.watchdog);
    if (this.closedByUs) return;
    if (event.code === 4401 || event.code === 4440) {
      this.onState("signed-out");
      window.location.assign("/console/login/?next=" + encodeURIComponent(location.pathname));
      return;
    }
    this.onState("down");
    this.retries += 1;
    const delay = Math.min(10000, 300 * 2 ** Math.min(this.retries, 6)) * (0.75 + Math.random() / 2);
    setTimeout(() => this.connect(), delay);
  }

  close() {
    this.closedByUs = true;
    if (this.ws) this.ws.close(1000);
  }
}
