// A small bar chart in inline SVG (no library). Colours and fonts come from
// the stylesheet (classes), never from inline styles.

const NS = 'http://www.w3.org/2000/svg';
let seq = 0;

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten (for
// whole numbers, at least 2 and even, so that the middle line is whole too).
function niceMax(v, integer) {
  if (integer) {
    if (!(v > 0)) return 2;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 2, 4, 6, 8, 10]) {
      if (m * p >= v && (m * p) % 2 === 0) return m * p;
    }
    return 20 * p;
  }
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

function fmtTick(v) {
  if (v === 0) return '0';
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(v < 1 ? 2 : 1);
}

// barChart({title, description, bars: [{key, label, sublabel, value, text}]})
// value is a number (for the height); text the exact value shown; integer:
// the values are counts; width: the width it will be shown at (pixels);
// describedBy: the id of the table that holds the same figures as text.
export function barChart({ title, description, bars, integer = false, width = 640, describedBy = null }) {
  const id = `chart-${++seq}`;
  // Drawn at about the width it is shown at, so that its text stays readable
  // on a phone (the SVG scales, its font size with it).
  const W = Math.round(Math.min(640, Math.max(320, width)));
  const H = 230;
  const left = 44;
  const right = 8;
  const top = 22;
  const bottom = 42;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)), integer);
  const slot = plotW / Math.max(1, bars.length);
  const barW = Math.max(4, slot * 0.62);

  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`, 'aria-describedby': describedBy, preserveAspectRatio: 'xMidYMid meet',
  },
  s('title', { id: `${id}-title` }, title),
  s('desc', { id: `${id}-desc` }, description || ''));

  for (const f of [0, 0.5, 1]) {
    const y = top + plotH - f * plotH;
    svg.append(
      s('line', { x1: left, x2: W - right, y1: y, y2: y, class: f === 0 ? 'axis' : 'grid' }),
      s('text', { x: left - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, fmtTick(max * f)));
  }

  bars.forEach((b, i) => {
    const cx = left + slot * i + slot / 2;
    const hgt = b.value > 0 ? Math.max(1.5, (b.value / max) * plotH) : 0;
    const y = top + plotH - hgt;
    const g = s('g', { class: 'bar-group', 'data-key': b.key, 'data-value': b.text });
    g.append(s('title', null, `${b.label}${b.sublabel ? ` ${b.sublabel}` : ''}: ${b.text}`));
    g.append(s('rect', {
      x: (cx - barW / 2).toFixed(2), y: y.toFixed(2), width: barW.toFixed(2), height: hgt.toFixed(2),
      class: b.current ? 'bar bar-current' : 'bar', rx: 2,
    }));
    if (b.value > 0 && slot >= 30) { // too narrow: the values are in the title and the table
      g.append(s('text', { x: cx.toFixed(2), y: (y - 5).toFixed(2), class: 'value', 'text-anchor': 'middle' }, b.short || b.text));
    }
    // Narrow: "N" for "Nov", "'26" for "2026".
    const narrow = slot < 34;
    g.append(s('text', { x: cx.toFixed(2), y: H - bottom + 16, class: 'label', 'text-anchor': 'middle' },
      narrow ? b.label.slice(0, 1) : b.label));
    if (b.sublabel) {
      g.append(s('text', { x: cx.toFixed(2), y: H - bottom + 30, class: 'sublabel', 'text-anchor': 'middle' },
        narrow && b.sublabel.length === 4 ? `'${b.sublabel.slice(2)}` : b.sublabel));
    }
    svg.append(g);
  });
  return svg;
}
