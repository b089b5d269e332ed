import { ApiError, get, patch } from '../api.js';
import { busy, clear, clearErrors, currency, formError, h, moneySpan, say, showError } from '../ui.js';
import { act, boot, pagedList } from '../app.js';

let me = null;
let seq = 0;

function statusCell(u, row) {
  const label = h('span', { class: u.is_active ? 'badge badge-completed' : 'badge badge-failed' },
    u.is_active ? 'Active' : 'Deactivated');
  const self = u.id === me.id;
  const button = h('button', {
    type: 'button', class: u.is_active ? 'danger-outline small' : 'small',
    'aria-label': `${u.is_active ? 'Deactivate' : 'Activate'} ${u.email}`,
    disabled: self && u.is_active ? true : null,
    title: self ? 'You cannot deactivate yourself' : null,
  }, u.is_active ? 'Deactivate' : 'Activate');
  button.addEventListener('click', () => act(async () => {
    button.disabled = true;
    const updated = await patch(`/admin/users/${u.id}`, { is_active: !u.is_active });
    const fresh = userRow({ ...u, ...updated, usage: u.usage });
    row.replaceWith(fresh);
    fresh.querySelector('td.status button').focus();
  }, (err) => {
    button.disabled = false;
    rowError(row, err);
  }));
  return h('td', { 'data-label': 'Status', class: 'status' }, h('div', null,
    label, ' ', u.role === 'admin' ? h('span', { class: 'badge badge-scheduled' }, 'Admin') : null, ' ', button));
}

function rowError(row, err) {
  if (!(err instanceof ApiError)) throw err;
  const box = row.querySelector('.row-error');
  box.textContent = err.message;
  box.hidden = false;
}

function usageCell(u) {
  const us = u.usage;
  if (!us) return h('td', { 'data-label': 'This month' }, '—');
  return h('td', { 'data-label': 'This month', class: 'usage' }, h('div', null,
    h('div', { title: `${us.total_cost} of ${us.limits.max_monthly_cost}` },
      `Cost ${currency(us.total_cost)} of ${currency(us.limits.max_monthly_cost)}`),
    h('div', null, `${us.articles_generated} of ${us.limits.max_articles_per_month} articles`,
      us.articles_in_progress ? ` (${us.articles_in_progress} running)` : '')));
}

// "Default" or "Override": whether the user's limit is the server's default.
function sourceLabel(u, limit) {
  const src = u.limits_source && u.limits_source[limit];
  return src === 'override' ? 'Override' : src === 'default' ? 'Default' : '';
}

function limitsCell(u, row) {
  const n = ++seq;
  const cost = h('input', {
    id: `cost-${n}`, name: 'max_monthly_cost', type: 'text', inputmode: 'decimal', size: 9,
    value: u.limits.max_monthly_cost, autocomplete: 'off', 'aria-describedby': `cost-${n}-src`,
  });
  const arts = h('input', {
    id: `arts-${n}`, name: 'max_articles_per_month', type: 'number', min: 0, step: 1,
    value: u.limits.max_articles_per_month, autocomplete: 'off', 'aria-describedby': `arts-${n}-src`,
  });
  const costSrc = h('span', { id: `cost-${n}-src`, class: 'help limit-source' }, sourceLabel(u, 'max_monthly_cost'));
  const artsSrc = h('span', { id: `arts-${n}-src`, class: 'help limit-source' }, sourceLabel(u, 'max_articles_per_month'));
  const status = h('span', { class: 'saved', role: 'status' });
  const form = h('form', { class: 'limits', 'aria-label': `Limits of ${u.email}`, novalidate: true },
    h('div', { class: 'field' }, h('label', { for: `cost-${n}` }, 'Cost'), cost, costSrc),
    h('div', { class: 'field' }, h('label', { for: `arts-${n}` }, 'Articles'), arts, artsSrc),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'small' }, 'Save'),
      h('button', { type: 'button', class: 'small defaults' }, 'Defaults')),
    status);
  const save = (body) => {
    clearErrors(form);
    status.textContent = '';
    row.querySelector('.row-error').hidden = true;
    return busy(form, () => act(async () => {
      const updated = await patch(`/admin/users/${u.id}`, body);
      u.limits = updated.limits;
      u.limits_source = updated.limits_source;
      costSrc.textContent = sourceLabel(u, 'max_monthly_cost');
      artsSrc.textContent = sourceLabel(u, 'max_articles_per_month');
      if (u.usage) {
        u.usage.limits = updated.limits;
        const cell = row.querySelector('td.usage');
        if (cell) cell.replaceWith(usageCell(u));
      }
      cost.value = updated.limits.max_monthly_cost;
      arts.value = updated.limits.max_articles_per_month;
      status.textContent = 'Saved.';
    }, (err) => {
      if (!(err instanceof ApiError)) throw err;
      if (err.field) showError(form, err);
      else formError(form, err.message);
    }));
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const c = cost.value.trim();
    const a = arts.value.trim();
    save({
      max_monthly_cost: c === '' ? null : c,
      max_articles_per_month: a === '' ? null : (/^\d+$/.test(a) ? Number(a) : a),
    });
  });
  form.querySelector('.defaults').addEventListener('click', () => save({ max_monthly_cost: null, max_articles_per_month: null }));
  return h('td', { 'data-label': 'Limits' }, form);
}

function userRow(u) {
  const row = h('tr', { dataset: { id: u.id, email: u.email } });
  row.append(
    h('td', { 'data-label': 'Email', class: 'email' }, h('div', null, u.email,
      h('p', { class: 'row-error notice notice-error', role: 'alert', hidden: true }))),
    statusCell(u, row),
    usageCell(u),
    limitsCell(u, row));
  return row;
}

async function showMonth(month) {
  const box = document.getElementById('month-error');
  box.hidden = true;
  const res = await get('/admin/usage', { month });
  const tbody = clear(document.querySelector('#month-usage tbody'));
  for (const i of res.items) {
    tbody.append(h('tr', null,
      h('th', { scope: 'row', 'data-label': 'User' }, i.email),
      h('td', { class: 'num', 'data-label': 'Articles' }, String(i.articles_generated)),
      h('td', { class: 'num', 'data-label': 'Cost' }, moneySpan(i.total_cost))));
  }
  if (!res.items.length) {
    tbody.append(h('tr', null, h('td', { colspan: 3, class: 'empty' }, 'Nobody used the pipeline that month.')));
  }
  document.getElementById('total-articles').textContent = String(res.totals.articles_generated);
  const total = document.getElementById('total-cost');
  total.textContent = currency(res.totals.total_cost);
  total.title = res.totals.total_cost;
}

boot(async ({ user, usage }) => {
  me = user;
  if (user.role !== 'admin') {
    throw new ApiError(403, 'forbidden', 'This page is for administrators.');
  }
  const q = document.getElementById('q');
  const list = pagedList({
    fetch: (cursor) => get('/admin/users', { q: q.value.trim(), limit: 25, cursor }),
    row: userRow,
    tbody: document.querySelector('#users tbody'),
    more: document.getElementById('more'),
    empty: document.getElementById('empty'),
    onEmpty: (el) => { el.textContent = 'No user matches.'; },
  });
  document.getElementById('search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => list.reload());
  });
  const monthForm = document.getElementById('month-form');
  monthForm.month.value = usage.month;
  monthForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => showMonth(monthForm.month.value), (err) => say('month-error', err.message, 'error'));
  });
  await Promise.all([list.reload(), showMonth(usage.month)]);
});
