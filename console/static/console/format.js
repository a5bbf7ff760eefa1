// Labels and time formatting shared by the views. Pure functions: no DOM.

const CHANNELS = {
  sms: { label: "SMS", name: "SMS text message", icon: "sms" },
  voice: { label: "Call", name: "Phone call", icon: "voice" },
  web: { label: "Web chat", name: "Web chat", icon: "web" },
  api: { label: "API", name: "API integration", icon: "api" },
  internal: { label: "Internal", name: "Internal", icon: "note" },
};

export function channelInfo(channel) {
  return CHANNELS[channel] || { label: String(channel || "").toUpperCase() || "Other", name: channel || "Other", icon: "api" };
}

export const PRESENCE_LABELS = { available: "Available", busy: "Busy", away: "Away", offline: "Offline" };

export function isUrgent(conversation) {
  return Boolean(conversation.urgent) || conversation.priority >= 2;
}

/** Priority 1 (e.g. raised after an SLA breach), short of urgent. */
export function isHigh(conversation) {
  return !isUrgent(conversation) && conversation.priority === 1;
}

/** "45s", "12m 05s", "3h 12m", "2d 4h": compact, and stable width per unit. */
export function durationLabel(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function waitLabel(since, now = Date.now()) {
  return since ? durationLabel(now - Date.parse(since)) : "";
}

/**
 * A countdown to the second: "2:14", "59:59"; from an hour on "3h 12m", then
 * "2d 4h" (seconds stop mattering, and "1:02:14" reads like a time of day).
 * `round` is Math.ceil for time left (0:01 until the very end), Math.floor
 * for time past.
 */
export function clockLabel(ms, round = Math.floor) {
  const s = Math.max(0, round(Math.abs(ms) / 1000));
  if (s >= 3600) return durationLabel(s * 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The same span in words, for screen readers: "2 minutes 14 seconds". */
export function spokenDuration(ms, round = Math.floor) {
  const s = Math.max(0, round(Math.abs(ms) / 1000));
  const parts = s >= 86400
    ? [[Math.floor(s / 86400), "day"], [Math.floor((s % 86400) / 3600), "hour"]]
    : s >= 3600
      ? [[Math.floor(s / 3600), "hour"], [Math.floor((s % 3600) / 60), "minute"]]
      : [[Math.floor(s / 60), "minute"], [s % 60, "second"]];
  const words = parts.filter(([n], i) => n || (i === 1 && !parts[0][0])).map(([n, unit]) => plural(n, unit));
  return words.join(" ") || plural(0, "second");
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const weekdayTime = new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "numeric", minute: "2-digit" });
const dateTime = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
const fullDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

/** Short, relative-to-today time: "10:42 AM", "Mon 10:42 AM", "Nov 20, 10:42 AM". */
export function timeLabel(iso, now = new Date()) {
  if (!iso) return "";
  const at = new Date(iso);
  if (at.toDateString() === now.toDateString()) return timeOnly.format(at);
  if (Math.abs(now - at) < 6 * 86400000) return weekdayTime.format(at);
  return dateTime.format(at);
}

export const fullTimeLabel = (iso) => (iso ? fullDateTime.format(new Date(iso)) : "");
export const dateLabel = (iso) => (iso ? dateOnly.format(new Date(iso)) : "");

/** A date of birth ("1980-04-02") shown without time-zone shifts. */
export function birthDateLabel(isoDate) {
  if (!isoDate) return "";
  const [y, m, d] = isoDate.split("-").map(Number);
  return dateOnly.format(new Date(y, m - 1, d));
}

/** Local time as ISO 8601 with its UTC offset, e.g. 2026-11-27T09:00:00-05:00 (what /snooze needs). */
export function isoWithOffset(date) {
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

export function formatBytes(n) {
  if (!Number.isFinite(n) || n <= 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export const plural = (n, one, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;
