import { ApiError, get } from '../api.js';
import {
  badge, duration, h, moneySpan, time,
} from '../ui.js';
import { boot } from '../app.js';

function row(label, value, id) {
  return [h('dt', null, label), h('dd', { id }, value === null || value === undefined || value === ''
    ? h('span', { class: 'muted', text: '—' }) : value)];
}

// The run's article: its title as a link, or why there is none.
async function articleCell(p) {
  if (!p.article_id) return h('span', { class: 'muted', text: 'none (not linked, or deleted since)' });
  try {
    const a = await get(`/articles/${encodeURIComponent(p.article_id)}`);
    return h('a', { href: `/article?id=${encodeURIComponent(a.id)}`, id: 'run-article-link' }, a.title);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return h('span', { class: 'muted', text: 'deleted' });
    throw err;
  }
}

boot(async () => {
  const id = new URLSearchParams(location.search).get('id') || '';
  let p;
  try {
    p = await get(`/pipelines/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      document.title = 'Run not found · blogposter';
      throw new ApiError(404, 'not_found', 'There is no such pipeline run among yours.');
    }
    throw err;
  }
  const started = Date.parse(p.started_at);
  let took = null;
  if (p.completed_at) took = duration(Date.parse(p.completed_at) - started);
  else if (p.status === 'running') took = `running for ${duration(Date.now() - started)}`;
  document.getElementById('run-meta').append(
    ...row('Status', badge(p.status), 'run-status'),
    ...row('Article', await articleCell(p), 'run-article'),
    ...row('Started', time(p.started_at, true), 'run-started'),
    ...row('Ended', p.completed_at ? time(p.completed_at, true) : null, 'run-ended'),
    ...row('Duration', took, 'run-duration'),
    ...row('Estimated cost', moneySpan(p.estimated_cost), 'run-estimate'),
    ...row('Total cost', p.status === 'running' ? 'not known until the run ends' : moneySpan(p.total_cost), 'run-cost'));
  if (p.error_message) {
    document.getElementById('run-error-text').textContent = p.error_message;
    document.getElementById('run-error').hidden = false;
  }
  document.getElementById('run').hidden = false;
});
