// /api/v1/training/ (docs/training.md) as small async functions for the
// practice page, through api.js's request (CSRF, errors as ApiError with the
// server's `detail`, a sign-in page when the session ended).

import { request } from "./api.js";

const call = (method, path, body, options = {}) => request(method, `/training${path}`, { body, ...options });

const run = (id) => `/runs/${encodeURIComponent(id)}`;

export const listScenarios = () => call("GET", "/scenarios");
export const listRuns = ({ team = false } = {}) => call("GET", `/runs?team=${team}`);
export const startRun = (scenario) => call("POST", "/runs", { scenario });
// `background`: the page fetching the patient's next message by itself is
// not the agent's activity (automatic logoff).
export const getRun = (id, { background = false } = {}) => call("GET", run(id), undefined, { background });
export const act = (id, action) => call("POST", `${run(id)}/actions`, action);
export const review = (id, scores, comment) => call("POST", `${run(id)}/review`, { scores, comment });
export const listAssignments = () => call("GET", "/assignments");
export const assign = (scenario, userIds, due) =>
  call("POST", "/assignments", { scenario, user_ids: userIds, due: due || null });
export const removeAssignment = (id) => call("DELETE", `/assignments/${encodeURIComponent(id)}`);
