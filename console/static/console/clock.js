// The server's clock, as seen from this browser. SLA deadlines and offer
// expiries are the server's timestamps; a desk PC whose clock is a minute
// off would otherwise show "Overdue" a minute early (or late). Heartbeats
// carry the server's time; we keep the difference and apply it.

const SETTLE_MS = 1000; // network jitter: do not move the clocks for less

let offset = 0;

/** Milliseconds since the epoch by the server's clock (best estimate). */
export function serverNow() {
  return Date.now() + offset;
}

/** A server timestamp just received (heartbeat or pong `ts`). */
export function observeServerTime(iso, receivedAt = Date.now()) {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return;
  // The message took some milliseconds to arrive, so this slightly
  // underestimates the server's time; well under the second we display.
  const measured = at - receivedAt;
  if (Math.abs(measured - offset) >= SETTLE_MS) offset = measured;
}
