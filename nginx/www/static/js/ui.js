// DOM helpers, formatting and form errors. Text from the API is only ever
// put in the page as text (textContent, attribute values): never as HTML.

// h('a', {href: '/x', class: 'c'}, 'text', child...) -> element.
// Attributes: class, text, dataset ({k: v}), on{Event} handlers (functions),
// boolean true/false for boolean attributes, anything else via setAttribute.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// ---------------------------------------------------------------- formats

const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});

// "2026-11-27T02:39:45Z" -> "2026-11-27 02:39:45 UTC" (the hover text).
export function utcText(iso) {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(String(iso));
  return m ? `${m[1]} ${m[2]} UTC` : String(iso);
}

// A <time> element showing an RFC 3339 timestamp in the reader's locale and
// time zone; the exact UTC time on hover.
export function time(iso, withTime = false) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', { text: iso });
  return h('time', { datetime: iso, title: utcText(iso) }, (withTime ? dateTimeFmt : dateFmt).format(d));
}

export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const hh = Math.floor(m / 60);
  return `${hh} h ${m % 60} min`;
}

// Money is exact in the API (strings with 4 decimals); arithmetic on it is
// done here in ten-thousandths with BigInt, never in floating point.
export function moneyUnits(s) {
  const m = /^(-?)(\d+)(?:\.(\d{0,4}))?$/.exec(String(s).trim());
  if (!m) return null;
  const units = BigInt(m[2]) * 10000n + BigInt((m[3] || '').padEnd(4, '0') || '0');
  return m[1] ? -units : units;
}

export function moneyText(units) {
  const neg = units < 0n;
  const a = neg ? -units : units;
  return `${neg ? '-' : ''}${a / 10000n}.${String(a % 10000n).padStart(4, '0')}`;
}

// "1.2345" -> "1.2345": the exact value, as the API gives it (tables of
// figures, tooltips, form fields).
export function money(s) {
  return s === null || s === undefined ? '—' : String(s);
}

// Amounts are US dollars (what the pipeline's providers bill in).
const currencyFmt = new Intl.NumberFormat(undefined, {
  style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2,
});

// "1.3345" -> "$1.33" for a person to read: rounded half up to the cent
// in exact arithmetic, then written in the reader's locale.
export function currency(s) {
  if (s === null || s === undefined) return '—';
  const units = moneyUnits(s);
  if (units === null) return String(s);
  const neg = units < 0n;
  const cents = ((neg ? -units : units) + 50n) / 100n;
  return currencyFmt.format((neg ? -1 : 1) * (Number(cents / 100n) + Number(cents % 100n) / 100));
}

// The same as an element, the exact value on hover: <span title="1.3345">$1.33</span>.
export function moneySpan(s, attrs = {}) {
  if (s === null || s === undefined) return h('span', { class: 'muted', text: '—' });
  return h('span', { class: 'money', title: String(s), dataset: { exact: String(s) }, ...attrs }, currency(s));
}

// A ratio 0..1 (for bars), from two exact values.
export function ratio(used, max) {
  if (max <= 0n) return used > 0n ? 1 : 0;
  return Number((used * 1000000n) / max) / 1000000;
}

export const STATUS_LABELS = {
  draft: 'Draft', scheduled: 'Scheduled', published: 'Published', archived: 'Archived',
  running: 'Running', completed: 'Completed', failed: 'Failed',
};

export function badge(status) {
  return h('span', { class: `badge badge-${status}`, text: STATUS_LABELS[status] || status });
}

// ---------------------------------------------------------------- forms

// Shows an API error on a form: next to the field it names (or the field
// that mapField picks for its code), else in the form's own error box.
// Returns the element that got the message.
export function showError(form, err, mapField = {}) {
  const field = err.field || mapField[err.code] || null;
  const input = field ? form.querySelector(`[name="${CSS.escape(field)}"]`) : null;
  if (input) {
    fieldError(input, err.message);
    input.focus();
    return input;
  }
  formError(form, err.message);
  return form;
}

export function fieldError(input, message) {
  const id = `${input.id || input.name}-error`;
  let box = document.getElementById(id);
  if (!box) {
    box = h('p', { id, class: 'field-error' });
    input.insertAdjacentElement('afterend', box);
  }
  box.textContent = message;
  box.hidden = false;
  input.setAttribute('aria-invalid', 'true');
  const described = new Set((input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean));
  described.add(id);
  input.setAttribute('aria-describedby', Array.from(described).join(' '));
}

export function formError(form, message) {
  let box = form.querySelector('.form-error');
  if (!box) {
    box = h('p', { class: 'form-error', role: 'alert' });
    form.prepend(box);
  }
  box.textContent = message;
  box.hidden = false;
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-error')) {
    el.textContent = '';
    el.hidden = true;
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// Runs fn while the form's submit button is disabled.
export async function busy(form, fn) {
  const buttons = Array.from(form.querySelectorAll('button'));
  for (const b of buttons) b.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    for (const b of buttons) b.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

// A polite status message (role=status region with the given id).
export function say(id, message, kind = 'info') {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = message;
  el.className = `notice notice-${kind}`;
  el.hidden = !message;
}

// Only same-site paths are followed after sign-in ("/articles?x", not
// "//evil", "https://evil", or "/\t/evil", which the URL parser, removing
// tabs and newlines, reads as "//evil"). The value is resolved as the
// browser will resolve it, and what is returned is that resolved path:
// what is checked is what is followed.
export function safeNext(value, fallback = '/articles') {
  if (typeof value !== 'string' || !value.startsWith('/')) return fallback;
  let url;
  try {
    url = new URL(value, location.origin);
  } catch {
    return fallback;
  }
  if (url.origin !== location.origin || !url.pathname.startsWith('/') || url.pathname.startsWith('//')) {
    return fallback;
  }
  return url.pathname + url.search + url.hash;
}

// The box that shows a new API key once, with a copy button.
export function keyBox(key, id = 'new-key') {
  const input = h('input', {
    id, type: 'text', readonly: true, class: 'key', value: key,
    spellcheck: 'false', autocomplete: 'off', 'aria-describedby': `${id}-help`,
  });
  const status = h('span', { class: 'copy-status', id: `${id}-status`, role: 'status' });
  const copy = h('button', { type: 'button', id: `${id}-copy` }, 'Copy');
  copy.addEventListener('click', async () => {
    let ok = false;
    try {
      await navigator.clipboard.writeText(key);
      ok = true;
    } catch (e) {
      // no clipboard permission: select it and try the older way
      input.focus();
      input.select();
      try {
        ok = document.execCommand('copy');
      } catch (e2) {
        ok = false;
      }
    }
    status.textContent = ok ? 'Copied to the clipboard.' : 'The key is selected: copy it with Ctrl+C.';
  });
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'key-box' },
    h('label', { for: id }, 'Your new API key'),
    h('div', { class: 'key-row' }, input, copy),
    h('p', { id: `${id}-help`, class: 'help' },
      'This is the only time the whole key is shown: store it now (the pipeline sends it as X-API-Key). ',
      'Only its first characters are kept for display.'),
    status);
}
