import { ApiError, get } from '../api.js';
import { badge, h, time } from '../ui.js';
import { boot } from '../app.js';
import { previewDocument } from '../sanitize.js';

const ARTICLE_CSS = new URL('../../css/article.css', import.meta.url).href;

function row(label, value) {
  return [h('dt', null, label), h('dd', null, value === null || value === undefined || value === ''
    ? h('span', { class: 'muted', text: '—' }) : value)];
}

function showContent(a) {
  const frame = document.getElementById('content');
  if (a.content_html) {
    // sandbox is in the markup, before srcdoc is ever set.
    frame.srcdoc = previewDocument(a.content_html, ARTICLE_CSS);
    frame.hidden = false;
  } else if (a.content_markdown) {
    const pre = document.getElementById('markdown');
    pre.textContent = a.content_markdown;
    pre.hidden = false;
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

boot(async () => {
  const id = new URLSearchParams(location.search).get('id') || '';
  let a;
  try {
    a = await get(`/articles/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      document.title = 'Article not found · blogposter';
      throw new ApiError(404, 'not_found', 'There is no such article among yours.');
    }
    throw err;
  }
  document.title = `${a.title} · blogposter`;
  document.getElementById('title').textContent = a.title;
  const wp = a.wp_url
    ? h('a', { href: a.wp_url, target: '_blank', rel: 'noopener noreferrer', class: 'external', id: 'wp-link' },
      a.wp_url, h('span', { class: 'visually-hidden' }, ' (opens in a new tab)'))
    : null;
  document.getElementById('meta').append(
    ...row('Status', badge(a.status)),
    ...row('SEO score', a.seo_score === null ? null : String(a.seo_score)),
    ...row('Primary keyword', a.primary_keyword),
    ...row('Slug', a.slug ? h('code', null, a.slug) : null),
    ...row('Meta description', a.meta_description),
    ...row('WordPress', wp || (a.wp_post_id ? `post ${a.wp_post_id}` : null)),
    ...row('Created', time(a.created_at, true)),
    ...row('Updated', time(a.updated_at, true)));
  document.getElementById('article').hidden = false;
  showContent(a);
  await showRelated(a);
});
