import { ApiError, del, get, request } from '../api.js';
import {
  badge, busy, clearErrors, formError, h, say, showError, time,
} from '../ui.js';
import { act, boot } from '../app.js';

const ARTICLE_CSS = new URL('../../css/article.css', import.meta.url).href;

// The srcdoc of the preview: the article's HTML as it is, after a head with
// the preview's stylesheet and links opening in a new tab. It is not
// cleaned: the frame's sandbox (no allow-scripts, no allow-same-origin) and
// the site's CSP, which a srcdoc document inherits, are the boundary. What
// they block (scripts, handlers, inline styles, frames) does not run or
// apply, and the browser says so in its console (docs/operations.md).
function previewDocument(html) {
  return '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">'
    + `<link rel="stylesheet" href="${ARTICLE_CSS}"></head><body>${html}</body></html>`;
}
const META_MAX = 320;

// The editable fields: form control name -> how its value is read and
// written. The API's field names are the controls' names, so that an error
// naming a field (error.field) lands next to its control.
const NULLABLE_TEXT = ['primary_keyword', 'meta_description', 'wp_url', 'content_markdown'];
const FIELDS = ['title', 'slug', 'status', 'primary_keyword', 'seo_score', 'meta_description',
  'wp_post_id', 'wp_url', 'content_markdown'];

let article = null; // as last loaded or saved
let etag = null; // its ETag: sent back in If-Match
let shown = {}; // the controls' texts as filled from it (a textarea normalises line ends)

function row(label, value) {
  return [h('dt', null, label), h('dd', null, value === null || value === undefined || value === ''
    ? h('span', { class: 'muted', text: '—' }) : value)];
}

// The API value of a field -> the text of its control.
function toControl(name, v) {
  if (v === null || v === undefined) return '';
  return String(v);
}

// The text of a control -> its API value; {raw} for an integer that must be
// sent as written (beyond 2^53 a JavaScript number is not exact).
function fromControl(name, text) {
  if (name === 'seo_score') {
    const t = text.trim();
    if (t === '') return null;
    const n = Number(t);
    return Number.isFinite(n) && /^-?\d+(\.\d+)?$/.test(t) ? n : t; // a string: the API names the field
  }
  if (name === 'wp_post_id') {
    const t = text.trim();
    if (t === '') return null;
    return /^-?\d{1,19}$/.test(t) ? { raw: t } : t;
  }
  if (NULLABLE_TEXT.includes(name)) return text === '' ? null : text;
  return text;
}

function control(name) {
  return document.querySelector(`#edit-form [name="${name}"]`);
}

// What the form holds that differs from the article as loaded.
function changes() {
  const out = {};
  for (const name of FIELDS) {
    const el = control(name);
    if (el.value !== shown[name]) out[name] = fromControl(name, el.value);
  }
  return out;
}

// JSON of the changes, integers given as {raw} written as they are.
function serialise(body) {
  const raws = [];
  const json = JSON.stringify(body, (k, v) => {
    if (v && typeof v === 'object' && typeof v.raw === 'string') {
      raws.push(v.raw);
      return `\u0000raw${raws.length - 1}\u0000`;
    }
    return v;
  });
  return json.replace(/"\\u0000raw(\d+)\\u0000"/g, (m, i) => raws[Number(i)]);
}

function chars(s) {
  return Array.from(s).length;
}

function updateCount() {
  const el = control('meta_description');
  const out = document.getElementById('edit-meta-count');
  const n = chars(el.value);
  out.textContent = n > META_MAX
    ? `${n} of ${META_MAX} characters: ${n - META_MAX} too many`
    : `${n} of ${META_MAX} characters`;
  out.classList.toggle('over', n > META_MAX);
}

function fillForm(a) {
  shown = {};
  for (const name of FIELDS) {
    const el = control(name);
    el.value = toControl(name, a[name]);
    shown[name] = el.value;
  }
  updateCount();
}

function showMeta(a) {
  document.title = `${a.title} · blogposter`;
  document.getElementById('title').textContent = a.title;
  const wp = a.wp_url
    ? h('a', { href: a.wp_url, target: '_blank', rel: 'noopener noreferrer', class: 'external', id: 'wp-link' },
      a.wp_url, h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'))
    : null;
  const meta = document.getElementById('meta');
  while (meta.firstChild) meta.removeChild(meta.firstChild);
  meta.append(
    ...row('Status', badge(a.status)),
    ...row('WordPress', wp || (a.wp_post_id !== null ? `post ${a.wp_post_id}` : null)),
    ...row('Embedding', a.has_embedding ? 'Yes' : 'No'),
    ...row('Created', time(a.created_at, true)),
    ...row('Updated', time(a.updated_at, true)));
}

function showContent(a) {
  const frame = document.getElementById('content');
  if (a.content_html) {
    // sandbox is in the markup, before srcdoc is ever set.
    frame.srcdoc = previewDocument(a.content_html);
    frame.hidden = false;
  } else {
    document.getElementById('no-content').hidden = false;
  }
}

async function showRelated(a) {
  const list = document.getElementById('related');
  const none = document.getElementById('no-related');
  if (!a.has_embedding) {
    none.textContent = 'This article has no embedding yet, so there is nothing to compare it with.';
    none.hidden = false;
    return;
  }
  const res = await get(`/articles/${encodeURIComponent(a.id)}/related`, { limit: 5 });
  for (const r of res.items) {
    list.append(h('li', null,
      h('a', { href: `/article?id=${encodeURIComponent(r.id)}`, text: r.title }), ' ',
      badge(r.status), ' ',
      h('span', { class: 'muted' }, `distance ${Number(r.distance).toFixed(4)}`)));
  }
  if (!res.items.length) {
    none.textContent = 'No other article of yours has an embedding yet.';
    none.hidden = false;
  }
}

async function load(id) {
  const res = await request('GET', `/articles/${encodeURIComponent(id)}`);
  article = res.data;
  etag = res.headers.get('ETag');
}

// Sends the changed fields with the ETag loaded; true when the article
// changed elsewhere meanwhile (409): nothing was saved.
async function save(form) {
  const conflict = document.getElementById('conflict');
  clearErrors(form);
  say('save-status', '');
  conflict.hidden = true;
  const body = changes();
  if (!Object.keys(body).length) {
    say('save-status', 'Nothing to save: no field was changed.', 'info');
    return false;
  }
  try {
    const res = await request('PATCH', `/articles/${encodeURIComponent(article.id)}`, {
      json: serialise(body),
      headers: etag ? { 'If-Match': etag } : {},
    });
    article = res.data;
    etag = res.headers.get('ETag');
  } catch (err) {
    if (!(err instanceof ApiError) || err.code === 'unauthorized') throw err;
    if (err.status === 409 && err.code === 'conflict') {
      document.getElementById('conflict-text').textContent = 'This article was changed elsewhere since '
        + 'you opened it, so your changes were not saved. Load the current version (copy what you '
        + 'wrote first), then make your changes again.';
      conflict.hidden = false;
      return true;
    }
    showError(form, err);
    return false;
  }
  fillForm(article);
  showMeta(article);
  say('save-status', 'Saved.', 'ok');
  return false;
}

function setupEditing() {
  const form = document.getElementById('edit-form');
  const conflict = document.getElementById('conflict');
  control('meta_description').addEventListener('input', updateCount);

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(async () => {
      // busy() disables the form's buttons: the focus moves once it is done
      const conflicted = await busy(form, () => save(form));
      if (conflicted) document.getElementById('reload').focus();
    });
  });

  document.getElementById('reload').addEventListener('click', () => act(async () => {
    await load(article.id);
    clearErrors(form);
    fillForm(article);
    showMeta(article);
    conflict.hidden = true;
    say('save-status', 'The current version is loaded.', 'info');
    control('title').focus();
  }));

  // Delete, after a confirmation that names the article.
  const confirmBox = document.getElementById('delete-confirm');
  const deleteButton = document.getElementById('delete');
  deleteButton.addEventListener('click', () => {
    document.getElementById('delete-confirm-text').textContent = `Delete “${article.title}” for good? `
      + 'Its pipeline runs keep their history without it. This cannot be undone.';
    confirmBox.hidden = false;
    document.getElementById('delete-yes').focus();
  });
  document.getElementById('delete-no').addEventListener('click', () => {
    confirmBox.hidden = true;
    deleteButton.focus();
  });
  confirmBox.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') document.getElementById('delete-no').click();
  });
  document.getElementById('delete-yes').addEventListener('click', () => act(async () => {
    await del(`/articles/${encodeURIComponent(article.id)}`);
    try {
      sessionStorage.setItem('bp.notice', `“${article.title}” was deleted.`);
    } catch (e) {
      /* storage disabled: the list still updates */
    }
    location.assign('/articles');
  }, (err) => {
    confirmBox.hidden = true;
    formError(form, err.message);
    deleteButton.focus();
  }));
}

boot(async () => {
  const id = new URLSearchParams(location.search).get('id') || '';
  try {
    await load(id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      document.title = 'Article not found · blogposter';
      throw new ApiError(404, 'not_found', 'There is no such article among yours.');
    }
    throw err;
  }
  showMeta(article);
  fillForm(article);
  setupEditing();
  document.getElementById('article').hidden = false;
  showContent(article);
  await showRelated(article);
});
