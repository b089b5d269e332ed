import { get } from '../api.js';
import { badge, h, STATUS_LABELS, time } from '../ui.js';
import { act, boot, pagedList } from '../app.js';

const PAGE = 20;

function wpLink(a) {
  if (!a.wp_url) return h('span', { class: 'muted', text: a.wp_post_id ? `post ${a.wp_post_id}` : '—' });
  return h('a', { href: a.wp_url, target: '_blank', rel: 'noopener noreferrer', class: 'external' },
    a.wp_post_id ? `Post ${a.wp_post_id}` : 'View', h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'));
}

function articleRow(a) {
  return h('tr', { dataset: { id: a.id } },
    h('td', { 'data-label': 'Title', class: 'title' },
      h('a', { href: `/article?id=${encodeURIComponent(a.id)}`, text: a.title })),
    h('td', { 'data-label': 'Status' }, badge(a.status)),
    h('td', { 'data-label': 'SEO score', class: 'num seo' },
      a.seo_score === null || a.seo_score === undefined ? h('span', { class: 'muted', text: '—' }) : String(a.seo_score)),
    h('td', { 'data-label': 'Keyword', class: 'keyword' },
      a.primary_keyword ? a.primary_keyword : h('span', { class: 'muted', text: '—' })),
    h('td', { 'data-label': 'WordPress' }, wpLink(a)),
    h('td', { 'data-label': 'Created' }, time(a.created_at)));
}

// A message left by the page before (an article deleted), shown once.
function flash() {
  let text = null;
  try {
    text = sessionStorage.getItem('bp.notice');
    sessionStorage.removeItem('bp.notice');
  } catch (e) {
    text = null;
  }
  const el = document.getElementById('notice');
  el.textContent = text || '';
  el.hidden = !text;
}

// The place in the list: its filter, order and the cursor of the last page
// loaded are in the URL (replaced, not pushed); the scroll position is in
// the history entry. Back and forward come back to the same rows.
function setUrl(changes) {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries(changes)) {
    if (v) url.searchParams.set(k, v);
    else url.searchParams.delete(k);
  }
  history.replaceState(history.state, '', url);
}

function keepScroll() {
  if ('scrollRestoration' in history) history.scrollRestoration = 'manual';
  let timer = null;
  const save = () => history.replaceState({ ...(history.state || {}), y: window.scrollY }, '');
  window.addEventListener('scroll', () => {
    clearTimeout(timer);
    timer = setTimeout(save, 150);
  }, { passive: true });
  window.addEventListener('pagehide', save);
}

boot(async () => {
  flash();
  keepScroll();
  const select = document.getElementById('status');
  const order = document.getElementById('order');
  const q = document.getElementById('q');
  const params = new URLSearchParams(location.search);
  if (STATUS_LABELS[params.get('status')]) select.value = params.get('status');
  if (params.get('order') === 'oldest') order.value = 'oldest';
  q.value = params.get('q') || '';
  let searched = q.value.trim();
  const caption = () => {
    document.getElementById('articles-caption').textContent = `Your articles, ${order.value} first`;
  };
  caption();

  const list = pagedList({
    fetch: (cursor) => get('/articles', {
      status: select.value, q: searched, order: order.value === 'oldest' ? 'oldest' : null, limit: PAGE, cursor,
    }),
    row: articleRow,
    tbody: document.querySelector('#articles tbody'),
    more: document.getElementById('more'),
    empty: document.getElementById('empty'),
    onEmpty: (el) => {
      const which = select.value ? `${STATUS_LABELS[select.value].toLowerCase()} articles` : 'articles';
      if (searched) el.textContent = `No ${which} whose title contains “${searched}”.`;
      else if (select.value) el.textContent = `No ${which}.`;
      else el.textContent = 'No articles yet. They appear here when the pipeline saves them through the API.';
    },
    onMore: (cursor) => setUrl({ cursor }),
  });

  const changed = () => act(async () => {
    searched = q.value.trim();
    setUrl({
      status: select.value, q: searched, order: order.value === 'oldest' ? 'oldest' : null, cursor: null,
    });
    caption();
    document.body.dataset.state = 'loading';
    await list.reload();
    document.body.dataset.state = 'ready';
  });
  select.addEventListener('change', changed);
  order.addEventListener('change', changed);
  document.getElementById('filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    changed();
  });

  await list.restore(params.get('cursor'));
  const y = history.state && history.state.y;
  if (y) window.scrollTo(0, y);
});
