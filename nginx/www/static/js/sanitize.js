// Prepares an article's HTML for its preview. The preview is an iframe with
// srcdoc and a sandbox without allow-scripts and without allow-same-origin:
// whatever the HTML holds, it cannot run script, and it runs in an opaque
// origin, never in the app's. That is the protection.
//
// This module only keeps the preview free of what the sandbox and the
// site's Content-Security-Policy (inherited by a srcdoc document) would
// block anyway, each block being a console error: scripts and event
// handlers, inline styles and <style> (the CSP allows only the site's own
// stylesheets; the preview gets css/article.css instead), frames, forms,
// plugins, media, images other than https: or data:, and links other than
// http(s), mailto and #fragments. The HTML is parsed with DOMParser, which
// runs nothing and loads nothing, and rebuilt from an allow-list (after the
// lexical pass of stripInline, below).

const KEEP = new Set(`a abbr article aside b bdi bdo blockquote br caption cite code col colgroup dd del details dfn div dl dt em
figcaption figure footer h1 h2 h3 h4 h5 h6 header hgroup hr i img ins kbd li main mark nav ol p pre q rp rt ruby s samp
section small span strong sub summary sup table tbody td tfoot th thead time tr u ul var wbr`.split(/\s+/));

// Dropped with everything inside them.
const DROP = new Set(`script style noscript template iframe frame frameset object embed applet param link meta base title
head form input button select textarea option optgroup datalist output fieldset legend label audio video source track
canvas svg math dialog slot portal map area picture`.split(/\s+/));
// Anything else (font, center, custom elements...) is unwrapped: its text stays.

const GLOBAL_ATTRS = new Set(['title', 'lang', 'dir', 'id', 'class']);
const ATTRS = {
  a: ['href'],
  img: ['src', 'alt', 'width', 'height'],
  td: ['colspan', 'rowspan', 'headers'],
  th: ['colspan', 'rowspan', 'headers', 'scope', 'abbr'],
  col: ['span'],
  colgroup: ['span'],
  ol: ['start', 'reversed', 'type'],
  li: ['value'],
  time: ['datetime'],
  details: ['open'],
  abbr: ['title'],
};
const NUMERIC = new Set(['width', 'height', 'colspan', 'rowspan', 'span', 'start', 'value']);

function safeHref(v) {
  const s = v.trim();
  if (s.startsWith('#')) return s;
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'mailto:') return u.href;
  } catch (e) {
    /* relative or malformed: a relative link would point into this app */
  }
  return null;
}

function safeImg(v) {
  const s = v.trim();
  if (/^data:image\/(png|gif|jpeg|webp|avif);base64,[a-z0-9+/=\s]+$/i.test(s)) return s;
  try {
    const u = new URL(s);
    if (u.protocol === 'https:') return u.href;
  } catch (e) {
    /* not absolute */
  }
  return null;
}

function copyInto(doc, from, to) {
  for (const node of Array.from(from.childNodes)) {
    if (node.nodeType === Node.TEXT_NODE) {
      to.append(doc.createTextNode(node.data));
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue; // comments, CDATA, PIs
    const tag = node.localName;
    if (node.namespaceURI !== 'http://www.w3.org/1999/xhtml' || DROP.has(tag)) continue;
    if (!KEEP.has(tag)) {
      copyInto(doc, node, to);
      continue;
    }
    if (tag === 'img') {
      const src = safeImg(node.getAttribute('src') || '');
      if (!src) {
        const alt = (node.getAttribute('alt') || '').trim();
        if (alt) to.append(doc.createTextNode(`[${alt}]`));
        continue;
      }
    }
    const el = doc.createElement(tag);
    const allowed = ATTRS[tag] || [];
    for (const attr of Array.from(node.attributes)) {
      const name = attr.name.toLowerCase();
      if (!GLOBAL_ATTRS.has(name) && !allowed.includes(name)) continue;
      let value = attr.value;
      if (NUMERIC.has(name) && !/^\d{1,5}%?$/.test(value.trim())) continue;
      if (name === 'href') value = safeHref(value);
      else if (name === 'src') value = safeImg(value);
      if (value === null) continue;
      el.setAttribute(name, value);
    }
    if (tag === 'a' && el.hasAttribute('href') && !el.getAttribute('href').startsWith('#')) {
      // A link opens in a new tab (the sandbox allows that popup, and only
      // that); it is never navigated inside the preview.
      el.setAttribute('target', '_blank');
      el.setAttribute('rel', 'noopener noreferrer');
    }
    if (tag === 'img') {
      el.setAttribute('loading', 'lazy');
      el.setAttribute('referrerpolicy', 'no-referrer');
    }
    copyInto(doc, node, el);
    to.append(el);
  }
}

// Parsing HTML in this page, even into an inert document (DOMParser,
// <template>), makes Chromium check the style and on* attributes it meets
// against the page's CSP, and report each as a console error (nothing
// runs: the CSP forbids it). So a lexical pass takes them out first, with
// <script>, <style> and the other raw-text elements and comments, following
// the tokenizer rules of HTML for tags and attributes. It does not need to
// be perfect: what it misses only costs a console report, since the
// DOMParser document runs nothing and the allow-list below is what decides.
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext']);
const TAG_OPEN = /<(\/?)([a-zA-Z][^\s/>]*)/y;
const SKIP = /[\s/]*/y;
const ATTR_NAME = /[^\s/>][^\s/>=]*/y;
const SPACES = /\s*/y;
const UNQUOTED = /[^\s>]*/y;

function match(re, str, at) {
  re.lastIndex = at;
  const m = re.exec(str);
  return m ? m[0] : '';
}

export function stripInline(html) {
  let out = '';
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    i = lt;
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (html[i + 1] === '!' || html[i + 1] === '?') { // doctype, CDATA, PI: dropped
      const end = html.indexOf('>', i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    TAG_OPEN.lastIndex = i;
    const m = TAG_OPEN.exec(html);
    if (!m) {
      out += '&lt;';
      i += 1;
      continue;
    }
    const closing = m[1] === '/';
    const name = m[2].toLowerCase();
    i += m[0].length;
    const attrs = [];
    while (i < n) {
      i += match(SKIP, html, i).length;
      if (i >= n) break;
      if (html[i] === '>') {
        i += 1;
        break;
      }
      const an = match(ATTR_NAME, html, i);
      i += an.length;
      let value = null;
      const sp = match(SPACES, html, i);
      if (html[i + sp.length] === '=') {
        i += sp.length + 1;
        i += match(SPACES, html, i).length;
        const q = html[i];
        if (q === '"' || q === "'") {
          const end = html.indexOf(q, i + 1);
          const stop = end < 0 ? n : end + 1;
          value = html.slice(i, stop);
          i = stop;
        } else {
          value = match(UNQUOTED, html, i);
          i += value.length;
        }
      }
      attrs.push([an, value]);
    }
    if (closing) {
      out += `</${name}>`;
      continue;
    }
    if (RAW_TEXT.has(name)) {
      const re = new RegExp(`</${name}[\\s/>]`, 'ig');
      re.lastIndex = i;
      const e = re.exec(html);
      if (!e) break;
      const gt = html.indexOf('>', e.index);
      i = gt < 0 ? n : gt + 1;
      continue;
    }
    const kept = attrs.filter(([a]) => !/^on/i.test(a) && a.toLowerCase() !== 'style');
    out += `<${name}${kept.map(([a, v]) => ` ${a}${v === null ? '' : `=${v}`}`).join('')}>`;
  }
  return out;
}

// The whole srcdoc document for an article's HTML.
export function previewDocument(html, stylesheetHref) {
  const doc = new DOMParser().parseFromString(stripInline(String(html)), 'text/html');
  const out = doc.createElement('div');
  copyInto(doc, doc.body, out);
  const head = doc.createElement('div');
  const link = doc.createElement('link');
  link.setAttribute('rel', 'stylesheet');
  link.setAttribute('href', stylesheetHref);
  head.append(link);
  return `<!doctype html><html><head><meta charset="utf-8">${head.innerHTML}</head><body>${out.innerHTML}</body></html>`;
}
