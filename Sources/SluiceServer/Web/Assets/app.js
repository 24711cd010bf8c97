// Shared by every page: the API key, requests, the SSE reader, safe DOM building.
// Nothing here builds markup from text: every string becomes a text node or an attribute.
'use strict';
const S = {};
S.keyName = 'sluice.key';
S.key = () => sessionStorage.getItem(S.keyName) || '';

// el('a', {href: '/'}, 'text', child…): strings become text nodes.
S.el = (tag, attrs, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'href') node.setAttribute('href', S.safeHref(value));
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  S.append(node, children);
  return node;
};
S.append = (node, children) => {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return node;
};
S.clear = (node) => { while (node.firstChild) node.removeChild(node.firstChild); return node; };

// Only http(s) links, in-page anchors and this site's own paths; anything else goes nowhere.
S.safeHref = (href) => {
  const text = String(href).trim();
  if (/^#[\w.:-]*$/.test(text)) return text;
  if (/^\/(?!\/)/.test(text)) return text;
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch (e) { /* not a URL */ }
  return '#';
};

S.headers = (extra) => {
  const headers = Object.assign({}, extra || {});
  if (S.key()) headers.Authorization = 'Bearer ' + S.key();
  return headers;
};

S.askKey = (message) => {
  const form = document.getElementById('keyform');
  form.hidden = false;
  S.showError(message || 'This server needs an API key.');
};

// fetch with the key; a 401 asks for a key, other failures throw the server's message.
S.api = async (path, options) => {
  const opts = options || {};
  const headers = S.headers(opts.headers);
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const response = await fetch(path, { method: opts.method || 'GET', headers, body, cache: 'no-store', signal: opts.signal });
  if (response.status === 401) {
    S.askKey(S.key() ? 'That API key was not accepted.' : 'This server needs an API key.');
    throw new S.Failure('an API key is needed', 401);
  }
  return response;
};
S.Failure = class extends Error {
  constructor(message, status, details) { super(message); this.status = status; this.details = details; }
};
S.json = async (path, options) => {
  const response = await S.api(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new S.Failure(body.error || ('HTTP ' + response.status), response.status, body.details);
  return body;
};

S.showError = (message) => {
  let box = document.getElementById('error');
  if (!box) {
    box = S.el('p', { id: 'error', class: 'error', role: 'alert' });
    document.body.insertBefore(box, document.getElementById('main'));
  }
  box.textContent = message;
};

// Reads an SSE route with fetch (EventSource cannot send the key), resuming with
// Last-Event-ID when the connection drops (and from `after` when given), until `isDone()`;
// `onClose` runs when a response ends (to learn whether the run still goes on).
S.stream = async (path, onEvent, isDone, onClose, after) => {
  let last = after || 0;
  let failures = 0;
  while (!isDone()) {
    try {
      const response = await S.api(path, { headers: last ? { 'Last-Event-ID': String(last) } : {} });
      if (!response.ok) throw new S.Failure('the event stream answered ' + response.status, response.status);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = S.parseSSE(block);
          if (!event) continue;
          if (event.id) last = Number(event.id) || last;
          failures = 0;
          onEvent(event);
        }
      }
      if (onClose) await onClose();
    } catch (error) {
      if (error.status && error.status !== 503) throw error;
      failures += 1;
    }
    if (!isDone()) await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * (failures + 1))));
  }
};
S.parseSSE = (block) => {
  const event = { id: '', event: 'message', data: '' };
  let any = false;
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') { event.data += (any ? '\n' : '') + value; any = true; }
    else if (field === 'id') event.id = value;
    else if (field === 'event') event.event = value;
  }
  if (!any) return null;
  try { event.payload = JSON.parse(event.data); } catch (e) { event.payload = {}; }
  return event;
};

S.time = (iso) => iso ? new Date(iso).toLocaleString() : '';
S.duration = (ms) => {
  if (ms === undefined || ms === null || isNaN(ms)) return '';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
};
S.tokens = (usage) => usage ? String((usage.input_tokens || 0) + (usage.output_tokens || 0)) : '';
S.cost = (value) => (value === undefined || value === null) ? '' : '$' + Number(value).toFixed(4);
S.badge = (status) => S.el('span', { class: 'badge ' + String(status).replace(/[^a-z_]/g, '') }, String(status));

document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('keyform');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(S.keyName, document.getElementById('key').value);
    location.reload();
  });
  const nav = document.getElementById('nav');
  S.append(nav, [S.el('a', { href: '/' }, 'Runs')]);
  if (S.key()) {
    const forget = S.el('button', { type: 'button', class: 'link', id: 'forget' }, 'Forget key');
    forget.addEventListener('click', () => { sessionStorage.removeItem(S.keyName); location.reload(); });
    S.append(nav, [forget]);
  }
});
