// Start-up of the signed-in pages: who is signed in (GET /me), the site
// header and navigation, and what happens to errors.
//
// Every page ends in one of two states, set on <body data-state>: "ready"
// (its data is shown) or "error" (a message is shown instead); the browser
// tests wait for it.

import { ApiError, get, post, setSignedInHint } from './api.js';
import { clear, h } from './ui.js';

const NAV = [
  ['/articles', 'Articles', 'articles'],
  ['/pipelines', 'Pipelines', 'pipelines'],
  ['/usage', 'Usage', 'usage'],
  ['/account', 'Account', 'account'],
];

export function setState(state) {
  document.body.dataset.state = state;
}

// Away to the sign-in page, coming back here afterwards.
export function toSignIn() {
  setSignedInHint(false);
  const next = location.pathname + location.search;
  location.replace(`/signin?next=${encodeURIComponent(next)}`);
}

// Shows an error that stops the page (in #page-error).
export function pageError(err) {
  const box = document.getElementById('page-error');
  const message = err instanceof ApiError ? err.message : 'Something went wrong in this page. Reload it to try again.';
  if (box) {
    box.textContent = message;
    box.hidden = false;
  }
  setState('error');
  if (!(err instanceof ApiError)) throw err; // a bug: let it reach the console
}

// Runs an action (button, form, "load more"): a lost session goes to the
// sign-in page; any other API error goes to onError (default: pageError).
export async function act(fn, onError = pageError) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'unauthorized') {
      toSignIn();
      return undefined;
    }
    return onError(err);
  }
}

function renderHeader(user, page) {
  const header = document.getElementById('site-header');
  if (!header) return;
  const links = NAV.slice();
  if (user.role === 'admin') links.push(['/admin', 'Admin', 'admin']);
  const signOut = h('button', { type: 'button', class: 'link-button', id: 'sign-out' }, 'Sign out');
  signOut.addEventListener('click', () => act(async () => {
    signOut.disabled = true;
    await post('/auth/logout');
    setSignedInHint(false);
    location.assign('/signin?signed_out=1');
  }));
  clear(header).append(
    h('div', { class: 'bar' },
      h('a', { class: 'brand', href: '/articles' }, 'blogposter'),
      h('nav', { 'aria-label': 'Main' },
        h('ul', null, links.map(([href, label, key]) => h('li', null,
          h('a', { href, 'aria-current': key === page || `${key}` === `${page}s` ? 'page' : null }, label))))),
      h('div', { class: 'who' },
        h('span', { class: 'email', id: 'who-email', text: user.email }),
        signOut)));
}

// boot(async (me) => { ... }): loads /me ({user, usage}), draws the header,
// runs the page. A signed-out visitor goes to the sign-in page.
export async function boot(main) {
  const page = document.body.dataset.page;
  let me;
  try {
    me = await get('/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      toSignIn();
      return;
    }
    pageError(err);
    return;
  }
  setSignedInHint(true);
  renderHeader(me.user, page);
  const ok = await act(async () => {
    await main(me);
    return true;
  });
  if (ok) setState('ready');
}

// "Load more" lists: fetch(cursor) -> {items, next_cursor}; each item is
// drawn by row(item) into tbody; onMore(cursor) after "load more" fetched
// the page of that cursor. Returns {reload(), restore(until)}: restore loads
// the pages again up to and including the one of cursor until (a page
// revisited with its cursor in the URL keeps its place).
export function pagedList({ fetch, row, tbody, more, empty, onEmpty, onMore }) {
  let cursor = null;
  let generation = 0;
  async function load(reset, quiet = false) {
    const gen = reset ? ++generation : generation;
    const page = await fetch(reset ? null : cursor);
    if (gen !== generation) return; // a newer reload won
    if (reset) clear(tbody);
    const rows = page.items.map(row);
    tbody.append(...rows);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    const none = reset && page.items.length === 0;
    const table = tbody.closest('table');
    if (table && reset) table.hidden = none;
    if (empty) {
      empty.hidden = !none;
      if (none && onEmpty) onEmpty(empty);
    }
    if (!reset && !quiet && rows.length && more.hidden) {
      // the button that had focus is gone: keep the keyboard in the list
      const target = rows[0].querySelector('a, button');
      if (target) target.focus();
    }
  }
  more.addEventListener('click', () => act(async () => {
    more.disabled = true;
    const used = cursor;
    try {
      await load(false);
    } finally {
      more.disabled = false;
    }
    if (onMore) onMore(used);
  }));
  async function restore(until) {
    await load(true);
    for (let n = 0; until && cursor && n < 50; n++) {
      const used = cursor;
      await load(false, true);
      if (used === until) break;
    }
  }
  return { reload: () => load(true), restore };
}

