import { get } from '../api.js';
import { badge, currency, duration, h, STATUS_LABELS, time } from '../ui.js';
import { act, boot, pagedList } from '../app.js';

function runDuration(p) {
  const start = Date.parse(p.started_at);
  if (p.completed_at) return duration(Date.parse(p.completed_at) - start);
  if (p.status === 'running') return `running for ${duration(Date.now() - start)}`;
  return '—';
}

function costCell(p) {
  if (p.status === 'running') {
    return h('span', { title: `${p.estimated_cost}: estimated cost, reserved while the run is in progress` },
      currency(p.estimated_cost), h('span', { class: 'muted' }, ' (estimate)'));
  }
  return h('span', { title: `${p.total_cost} (estimated ${p.estimated_cost})` }, currency(p.total_cost));
}

function pipelineRow(p) {
  return h('tr', { dataset: { id: p.id } },
    h('td', { 'data-label': 'Started', class: 'started' },
      h('a', { href: `/pipeline?id=${encodeURIComponent(p.id)}` }, time(p.started_at, true))),
    h('td', { 'data-label': 'Status' }, badge(p.status)),
    h('td', { 'data-label': 'Cost', class: 'num cost' }, costCell(p)),
    h('td', { 'data-label': 'Duration', class: 'num' }, runDuration(p)),
    h('td', { 'data-label': 'Error', class: 'error-message' },
      p.error_message ? p.error_message : h('span', { class: 'muted', text: '—' })),
    h('td', { 'data-label': 'Article' }, p.article_id
      ? h('a', { href: `/article?id=${encodeURIComponent(p.article_id)}` }, 'Open article')
      : h('span', { class: 'muted', text: '—' })));
}

boot(async () => {
  const select = document.getElementById('status');
  const params = new URLSearchParams(location.search);
  if (['running', 'completed', 'failed'].includes(params.get('status'))) select.value = params.get('status');

  const list = pagedList({
    fetch: (cursor) => get('/pipelines', { status: select.value, limit: 20, cursor }),
    row: pipelineRow,
    tbody: document.querySelector('#pipelines tbody'),
    more: document.getElementById('more'),
    empty: document.getElementById('empty'),
    onEmpty: (el) => {
      el.textContent = select.value
        ? `No ${STATUS_LABELS[select.value].toLowerCase()} runs.`
        : 'No pipeline runs yet.';
    },
  });
  select.addEventListener('change', () => act(async () => {
    const url = new URL(location.href);
    if (select.value) url.searchParams.set('status', select.value);
    else url.searchParams.delete('status');
    history.replaceState(null, '', url);
    document.body.dataset.state = 'loading';
    await list.reload();
    document.body.dataset.state = 'ready';
  }));
  document.getElementById('filter').addEventListener('submit', (ev) => ev.preventDefault());
  await list.reload();
});
