import { get } from '../api.js';
import { currency, h, money, moneyText, moneyUnits, ratio } from '../ui.js';
import { boot } from '../app.js';
import { barChart } from '../chart.js';

const monthName = new Intl.DateTimeFormat(undefined, { month: 'short', timeZone: 'UTC' });
const monthLong = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });

function monthDate(ym) {
  const [y, m] = ym.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, 1));
}

// The 12 months ending with ym, oldest first ("2026-11" -> "2025-12".."2026-11").
function lastMonths(ym, n = 12) {
  const [y, m] = ym.split('-').map(Number);
  const out = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(y, m - 1 - i, 1));
    out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

// level class of a bar: ok, warn (80 %), full (100 %)
function level(r) {
  if (r >= 1) return 'full';
  if (r >= 0.8) return 'warn';
  return 'ok';
}

function setBar(bar, usedText, maxText, r) {
  const max = Number(maxText);
  if (max > 0) {
    bar.max = max;
    bar.value = Math.min(max, Number(usedText));
  } else {
    bar.max = 1;
    bar.value = r > 0 ? 1 : 0;
  }
  bar.dataset.used = usedText;
  bar.dataset.max = maxText;
  bar.className = `level-${level(r)}`;
}

function showMonth(u) {
  document.getElementById('month').textContent = `(${monthLong.format(monthDate(u.month))}, UTC)`;

  const used = moneyUnits(u.total_cost);
  const max = moneyUnits(u.limits.max_monthly_cost);
  const left = moneyUnits(u.remaining.cost);
  const costRatio = ratio(used, max);
  setBar(document.getElementById('cost-bar'), u.total_cost, u.limits.max_monthly_cost, costRatio);
  const costText = document.getElementById('cost-text');
  costText.textContent = `${currency(u.total_cost)} of ${currency(u.limits.max_monthly_cost)} (${Math.floor(costRatio * 100)} %)`;
  costText.title = `${money(u.total_cost)} of ${money(u.limits.max_monthly_cost)}`;
  const reserved = max - used - left; // what runs in progress hold
  const notes = [`${currency(u.remaining.cost)} left.`];
  const exact = [`${money(u.remaining.cost)} left.`];
  if (u.articles_in_progress > 0 && reserved > 0n) {
    notes.push(`Runs in progress reserve ${currency(moneyText(reserved))}.`);
    exact.push(`Reserved ${moneyText(reserved)}.`);
  }
  const costNote = document.getElementById('cost-note');
  costNote.textContent = notes.join(' ');
  costNote.title = exact.join(' ');

  const aMax = u.limits.max_articles_per_month;
  const aRatio = aMax > 0 ? u.articles_generated / aMax : (u.articles_generated > 0 ? 1 : 0);
  setBar(document.getElementById('articles-bar'), String(u.articles_generated), String(aMax), aRatio);
  document.getElementById('articles-text').textContent =
    `${u.articles_generated} of ${aMax} (${Math.floor(aRatio * 100)} %)`;
  const aNotes = [`${u.remaining.articles} left.`];
  if (u.articles_in_progress > 0) {
    aNotes.push(`${u.articles_in_progress} ${u.articles_in_progress === 1 ? 'run' : 'runs'} in progress.`);
  }
  document.getElementById('articles-note').textContent = aNotes.join(' ');

  const limitNote = document.getElementById('limit-note');
  if (left === 0n || u.remaining.articles === 0) {
    limitNote.textContent = 'A monthly limit is reached: new pipeline runs are refused until next month or until an administrator raises it.';
    limitNote.hidden = false;
  }
}

function showHistory(month, items) {
  const byMonth = new Map(items.map((i) => [i.month, i]));
  const months = lastMonths(month);
  const rows = months.map((m) => byMonth.get(m) || { month: m, articles_generated: 0, total_cost: '0.0000' });
  const label = (m, i) => {
    const d = monthDate(m);
    return { label: monthName.format(d), sublabel: i === 0 || d.getUTCMonth() === 0 ? String(d.getUTCFullYear()) : '' };
  };
  const costBars = rows.map((r, i) => ({
    key: r.month, ...label(r.month, i), value: Number(r.total_cost), text: money(r.total_cost),
    short: currency(r.total_cost).replace(/\.\d\d$/, (c) => (Number(r.total_cost) >= 100 ? '' : c)),
    current: r.month === month,
  }));
  const articleBars = rows.map((r, i) => ({
    key: r.month, ...label(r.month, i), value: r.articles_generated, text: String(r.articles_generated),
    current: r.month === month,
  }));
  const costFig = document.getElementById('cost-chart');
  const articlesFig = document.getElementById('articles-chart');
  costFig.append(barChart({
    width: costFig.clientWidth,
    title: 'Cost per month', description: `Cost of the pipeline runs, ${rows[0].month} to ${month}`, bars: costBars,
    describedBy: 'history',
  }));
  articlesFig.append(barChart({
    width: articlesFig.clientWidth,
    title: 'Articles per month', description: `Articles generated, ${rows[0].month} to ${month}`, bars: articleBars,
    describedBy: 'history',
    integer: true,
  }));
  const tbody = document.querySelector('#history tbody');
  for (const r of rows.slice().reverse()) {
    tbody.append(h('tr', { dataset: { month: r.month } },
      h('th', { scope: 'row', 'data-label': 'Month' }, r.month),
      h('td', { class: 'num', 'data-label': 'Articles' }, String(r.articles_generated)),
      h('td', { class: 'num', 'data-label': 'Cost' }, money(r.total_cost))));
  }
}

boot(async () => {
  const [usage, history] = await Promise.all([get('/usage'), get('/usage/history', { months: 12 })]);
  showMonth(usage);
  showHistory(usage.month, history.items);
});
