// The REST API (docs/api.md) as small async functions. Session auth: writes
// carry the CSRF token. Failures throw ApiError with the server's `detail`,
// which is written for people and is shown to the agent as is.

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  // Fallback: the sign-out form carries a token too (works even if the
  // cookie is made HttpOnly later).
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

// `background`: the page asks by itself (a refresh after a live update, the
// automatic "away"), not because the person did something, so the request
// does not count as activity against automatic logoff.
export async function request(method, path, { body, signal, background = false, retried = false } = {}) {
  const headers = { Accept: "application/json" };
  if (background) headers["X-Hub-Background"] = "1";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, signal, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "The hub could not be reached. Check the connection and try again.");
  }
  const data = await response.json().catch(() => null);
  if (response.status === 401) {
    // The session ended (signed out in another tab, or automatic logoff).
    const expired = data?.code === "session_expired" ? "&expired=1" : "";
    window.location.assign("/console/login/?next=" + encodeURIComponent(location.pathname + location.hash) + expired);
    throw new ApiError(401, "unauthenticated", "Your session ended. Sign in again.");
  }
  if (response.status === 503 && data?.code === "retry" && !retried) {
    // The hub stored nothing (a database conflict or outage): once more, a
    // moment later, before the person has to.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return request(method, path, { body, signal, background, retried: true });
  }
  if (!response.ok) {
    throw new ApiError(response.status, data?.code || "error", data?.detail || `The hub answered ${response.status}.`);
  }
  return data;
}

const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
};

const conv = (id) => `/conversations/${encodeURIComponent(id)}`;

export const getConversation = (id, { beforeSeq, limit = 50, signal } = {}) =>
  request("GET", conv(id) + query({ limit, before_seq: beforeSeq }), { signal });
export const sendMessage = (id, body, channel) => request("POST", `${conv(id)}/messages`, { body: { body, channel } });
export const addNote = (id, body) => request("POST", `${conv(id)}/notes`, { body: { body } });
export const pickUp = (id) => request("POST", `${conv(id)}/pick-up`, { body: {} });
export const transfer = (id, { reason, departmentId, agentId }) => request("POST", `${conv(id)}/transfer`, {
  body: departmentId ? { reason, department_id: departmentId } : { reason, agent_id: agentId },
});
export const snooze = (id, untilIso) => request("POST", `${conv(id)}/snooze`, { body: { until: untilIso } });
export const resolve = (id, disposition, topicId) => request("POST", `${conv(id)}/resolve`, {
  body: topicId ? { disposition, topic_id: topicId } : { disposition },
});
export const reopen = (id) => request("POST", `${conv(id)}/reopen`, { body: {} });
export const cannedResponses = (id, q, { signal } = {}) =>
  request("GET", `${conv(id)}/canned-responses` + query({ q }), { signal });

export const getDirectory = () => request("GET", "/directory", { background: true });
export const getPatient = (id, { signal } = {}) => request("GET", `/patients/${encodeURIComponent(id)}`, { signal });
export const getPatientConversations = (id, { signal } = {}) =>
  request("GET", `/patients/${encodeURIComponent(id)}/conversations`, { signal });
export const setPresence = (presence, reason = "manual") =>
  request("PUT", "/me/presence", { body: { presence, reason }, background: reason === "idle" });

// Automatic assignment: conversations offered to me (docs/routing.md).
const offer = (id) => `/offers/${encodeURIComponent(id)}`;
export const getOffers = () => request("GET", "/offers", { background: true });
export const acceptOffer = (id) => request("POST", `${offer(id)}/accept`, { body: {} });
export const declineOffer = (id) => request("POST", `${offer(id)}/decline`, { body: {} });

// The EHR panel (docs/ehr.md).
export const getEhr = (id) => request("GET", `${conv(id)}/ehr`);
export const verifyEhrDetails = (id, details) => request("POST", `${conv(id)}/ehr/verify`, { body: details });
export const resetEhrAttempts = (id) => request("POST", `${conv(id)}/ehr/verify/reset`, { body: {} });
export const sendEhrCode = (id, candidateId) => request("POST", `${conv(id)}/ehr/code`, { body: { candidate_id: candidateId } });
export const verifyEhrCode = (id, code) => request("POST", `${conv(id)}/ehr/code/verify`, { body: { code } });
export const checkEhrEligibility = (id, coverageId) =>
  request("POST", `${conv(id)}/ehr/eligibility`, { body: { coverage_id: coverageId } });
export const getEhrSchedules = () => request("GET", "/ehr/schedules");
export const getEhrSlots = (params) => request("GET", "/ehr/slots" + query(params));
export const bookEhrAppointment = (id, booking) => request("POST", `${conv(id)}/ehr/appointments`, { body: booking });
const appt = (id, appointmentId) => `${conv(id)}/ehr/appointments/${encodeURIComponent(appointmentId)}`;
export const rescheduleEhrAppointment = (id, appointmentId, slotId) =>
  request("POST", `${appt(id, appointmentId)}/reschedule`, { body: { slot_id: slotId } });
export const cancelEhrAppointment = (id, appointmentId, reason) =>
  request("POST", `${appt(id, appointmentId)}/cancel`, { body: { reason } });
