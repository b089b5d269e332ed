// The one place the pages talk to the API (docs/API.md). The session is the
// HttpOnly bp_session cookie set by login or registration: the pages never
// see a token and never store one.

export class ApiError extends Error {
  constructor(status, code, message, field, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.details = details || null;
  }
}

const BASE = '/api/v1';

// JSON.parse reviver: an integer beyond what a number holds exactly (a
// WordPress post id is any 64-bit integer) is kept as its text, where the
// browser gives the reviver the source (others keep the rounded number).
function exactIntegers(key, value, context) {
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)
      && context && typeof context.source === 'string' && /^-?\d+$/.test(context.source)) {
    return context.source;
  }
  return value;
}

// api(method, path, body?, query?) -> the decoded JSON answer (null for a
// 204). Any other answer throws an ApiError carrying the API's error code,
// message and field. Every write sends Content-Type: application/json, which
// the API requires of cookie-authenticated writes (a cross-site form cannot
// send it).
export async function api(method, path, body, query) {
  return (await request(method, path, { body, query })).data;
}

// request(method, path, {body?, json?, query?, headers?}) -> {data, headers}:
// api() with the answer's headers (the ETag of an article) and extra request
// headers (If-Match). json: a body already serialised (for integers beyond
// what a JavaScript number holds exactly).
export async function request(method, path, { body, json, query, headers } = {}) {
  let url = BASE + path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { Accept: 'application/json', ...(headers || {}) },
  };
  if (body !== undefined || json !== undefined || method !== 'GET') {
    init.headers['Content-Type'] = 'application/json';
    if (json !== undefined) init.body = json;
    else if (body !== undefined) init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (res.status === 204) return { data: null, headers: res.headers };
  let data = null;
  try {
    data = JSON.parse(await res.text(), exactIntegers);
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    let message = err.message;
    if (!message) {
      message = res.status === 429
        ? 'Too many attempts. Wait a moment and try again.'
        : `The server answered ${res.status}. Try again later.`;
    }
    throw new ApiError(res.status, err.code || `http_${res.status}`, message, err.field, err.details);
  }
  return { data, headers: res.headers };
}

export const get = (path, query) => api('GET', path, undefined, query);
export const post = (path, body, query) => api('POST', path, body, query);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path, body) => api('DELETE', path, body);

// A hint (never a credential) that this browser signed in: it only spares a
// signed-out visitor of "/" and the sign-in page a request that would answer
// 401. The session itself is the HttpOnly cookie, out of the pages' reach.
const HINT = 'bp.signedIn';
export function setSignedInHint(on) {
  try {
    if (on) localStorage.setItem(HINT, '1');
    else localStorage.removeItem(HINT);
  } catch (e) {
    /* storage disabled: the hint is only an optimisation */
  }
}
export function signedInHint() {
  try {
    return localStorage.getItem(HINT) === '1';
  } catch (e) {
    return false;
  }
}
