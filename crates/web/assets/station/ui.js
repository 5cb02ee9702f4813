// Rendering: the order to pack, the camera's messages and the upload queue.
// Only whitelisted fields of an order are ever shown; all words come from t().

import { localDigits } from './i18n.js';

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export function formatDuration(lang, ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const text = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return localDigits(lang, text);
}

export function formatSize(t, lang, bytes) {
  const mb = (bytes || 0) / (1024 * 1024);
  return t('station-size-mb', { size: localDigits(lang, mb >= 10 ? mb.toFixed(0) : mb.toFixed(1)) });
}

function localTime(lang, ms) {
  const d = new Date(ms);
  return localDigits(lang, `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`);
}

/**
 * The order panel. `view` is one of:
 *   {state: 'none'} | {state: 'loading', number} | {state: 'ok', order}
 *   {state: 'not-found' | 'offline' | 'signin' | 'invalid' | 'error', number, text, detail}
 */
export function renderOrder(root, view, { t, lang, signIn }) {
  root.replaceChildren();
  root.dataset.state = view.state;
  root.dataset.number = view.number || (view.order && view.order.number) || '';
  if (view.state === 'none') {
    root.append(el('p', { class: 'muted', text: t('station-order-none') }));
    return;
  }
  if (view.state === 'loading') {
    root.append(el('p', { class: 'muted', text: t('station-order-loading', { number: view.number }) }));
    return;
  }
  if (view.state !== 'ok') {
    const key = {
      'not-found': 'station-order-not-found',
      offline: 'station-order-offline',
      signin: 'station-order-signin',
      invalid: 'station-order-invalid',
      error: 'station-order-error',
    }[view.state];
    const p = el('p', { class: view.state === 'offline' ? 'msg warn' : 'msg error', role: 'alert',
      text: t(key, { number: view.number || '', text: view.text || '', detail: view.detail || '' }) });
    root.append(p);
    if (view.state === 'signin') {
      // A new tab, so a recording in progress here goes on.
      root.append(el('p', {}, el('a', { href: signIn, target: '_blank', rel: 'noopener', class: 'button', text: t('station-signin-link') })));
    }
    return;
  }
  const o = view.order;
  const items = Array.isArray(o.items) ? o.items : [];
  const head = el('div', { class: 'order-head' },
    el('h2', { id: 'order-h', text: t('station-order-heading', { number: o.number }) }),
    o.status ? el('span', { class: `status status-${o.status}`, 'data-status': o.status,
      text: t(`station-status-${o.status}`) }) : null);
  const list = el('ul', { class: 'items', 'aria-label': t('station-order-items') },
    items.map((it) => el('li', { class: 'item' },
      el('span', { class: 'qty', 'aria-label': t('station-item-quantity', { quantity: Number(it.quantity) || 0 }),
        text: `× ${localDigits(lang, Number(it.quantity) || 0)}` }),
      el('span', { class: 'item-text' },
        el('span', { class: 'item-name', text: String(it.name || '') }),
        it.sku ? el('span', { class: 'sku', text: t('station-item-sku', { sku: String(it.sku) }) }) : null))));
  root.append(head, el('h3', { text: t('station-order-items') }), list);
  const totalQty = items.reduce((n, it) => n + (Number(it.quantity) || 0), 0);
  root.append(el('p', { class: 'total-qty', text: t('station-order-count', { count: totalQty }) }));
  if (o.delivery_instructions) {
    root.append(el('h3', { text: t('station-order-instructions') }),
      el('p', { class: 'instructions', text: String(o.delivery_instructions) }));
  }
  const a = o.address || {};
  const where = [a.area, a.district].filter(Boolean).map(String).join(', ');
  if (where) root.append(el('p', { class: 'where' }, el('strong', { text: `${t('station-order-area')}: ` }), where));
}

/** The queue list. `proofs` newest first; `progress` is a Map id → percent. */
export function renderQueue(list, empty, proofs, progress, { t, lang, onRetry }) {
  empty.hidden = proofs.length > 0;
  const items = proofs.map((p) => {
    const percent = progress.get(p.id) ?? (p.size ? Math.floor(((p.offset || 0) / p.size) * 100) : 0);
    let stateText;
    if (p.state === 'recording') stateText = t('station-state-recording');
    else if (p.state === 'waiting') stateText = t('station-state-waiting');
    else if (p.state === 'uploading') stateText = t('station-state-uploading', { percent });
    else if (p.state === 'done') stateText = t('station-state-done');
    else {
      const e = p.error || {};
      const reason = t(`station-reason-${e.reason || 'unknown'}`, { status: e.status || 0, detail: e.detail || '' });
      stateText = t('station-state-failed', { reason });
    }
    const li = el('li', {
      class: `proof state-${p.state}`,
      'data-id': p.id,
      'data-order': p.order,
      'data-state': p.state,
      'data-media': p.media,
      'data-sha256': p.sha256 || '',
      'data-size': String(p.size || 0),
      'data-upload-url': p.uploadUrl || '',
      'data-reason': (p.error && p.error.reason) || '',
    },
    el('div', { class: 'proof-main' },
      el('strong', { class: 'proof-order', text: p.order }),
      el('span', { class: 'proof-what', text: `${t(`station-media-${p.media}`)} · ${t(`station-kind-${p.kind}`)}` }),
      el('span', { class: 'proof-when', text: `${localTime(lang, p.createdAt)} · ${formatSize(t, lang, p.size)}` })),
    el('div', { class: 'proof-state' },
      el('span', { class: 'state-text', text: stateText }),
      p.state === 'uploading' ? el('progress', { max: 100, value: percent, 'aria-hidden': 'true' }) : null,
      p.state === 'failed' ? el('button', { type: 'button', class: 'retry', text: t('station-queue-retry'),
        onclick: () => onRetry(p.id) }) : null));
    return li;
  });
  // Replace only what changed, so a focused button survives progress updates.
  const existing = [...list.children];
  const sameOrder = existing.length === items.length && existing.every((li, i) => li.dataset.id === items[i].dataset.id);
  if (!sameOrder) {
    list.replaceChildren(...items);
    return;
  }
  items.forEach((li, i) => {
    if (!existing[i].isEqualNode(li)) existing[i].replaceWith(li);
  });
}
