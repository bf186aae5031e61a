// The REST client every page shares (docs/api.md). It keeps the access token, turns the API's error
// shape into ApiError and builds URLs for <img>/<a> elements, which cannot send headers (?token=).

const TOKEN_KEY = 'faceweave.token';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be unavailable (private mode); the token then lasts for this page only.
  }
  memoryToken = token;
}

let memoryToken = getToken();

function currentToken() {
  return memoryToken || getToken();
}

// Listeners called when the server answers 401, so the page can ask for a token again.
const unauthorizedListeners = new Set();
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

// A URL usable where no header can be set: the token goes into the query string.
export function apiUrl(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
  }
  const token = currentToken();
  if (token) url.searchParams.set('token', token);
  return url.pathname + url.search;
}

function authHeaders() {
  const token = currentToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const e = body && body.error;
  if (response.status === 401) for (const l of unauthorizedListeners) l();
  if (e && typeof e === 'object') {
    return new ApiError(response.status, e.code || 'internal', e.message || response.statusText, e.field);
  }
  return new ApiError(response.status, codeForStatus(response.status), `The server answered ${response.status} ${response.statusText}.`);
}

function codeForStatus(status) {
  return (
    {
      400: 'invalid_argument',
      401: 'unauthorized',
      404: 'not_found',
      405: 'method_not_allowed',
      409: 'conflict',
      413: 'too_large',
      415: 'unsupported_media',
      422: 'no_face',
      429: 'rate_limited',
    }[status] || 'internal'
  );
}

// fetch() with the token, mapping network failures and error answers to ApiError.
export async function request(method, path, { json, body, accept = 'json', signal } = {}) {
  const headers = { ...authHeaders() };
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server cannot be reached. Is `faceweave serve` still running?');
  }
  if (!response.ok) throw await errorFrom(response);
  if (accept === 'json') return response.status === 204 ? null : response.json();
  if (accept === 'blob') return { blob: await response.blob(), headers: response.headers };
  return response;
}

export const api = {
  // client: the browser's id, so the defaults include its arm of each running experiment (docs/experiments.md).
  config: (client) => request('GET', client ? `/api/config?client=${encodeURIComponent(client)}` : '/api/config'),
  upload(file) {
    const form = new FormData();
    form.append('file', file, file.name);
    return request('POST', '/api/uploads', { body: form });
  },
  getUpload: (id) => request('GET', `/api/uploads/${encodeURIComponent(id)}`),
  // The faces in the selector's order: `position` is what reference_face_position takes.
  uploadFaces: (id, { frame, order } = {}) =>
    request('GET', apiPath(`/api/uploads/${encodeURIComponent(id)}/faces`, { frame, order })),
  preview: (payload) => request('POST', '/api/preview', { json: payload, accept: 'blob' }),
  createJob: (payload) => request('POST', '/api/jobs', { json: payload }),
  job: (id) => request('GET', `/api/jobs/${encodeURIComponent(id)}`),
  jobs: (limit = 20) => request('GET', `/api/jobs?limit=${limit}`),
  // Is a done job's result (or an upload) marked as synthetic? docs/provenance.md
  inspect: (target) => request('POST', '/api/inspect', { json: target }),
  cancelJob: (id) => request('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
};

function apiPath(path, params) {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return q.length ? `${path}?${q.join('&')}` : path;
}
