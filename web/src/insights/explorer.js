// The raw event explorer card of the dashboard (GET /api/insights/events, docs/analytics.md "Event
// explorer"): stored events filtered by event name, one property (KEY:VALUE) and the page's day range,
// newest first, a page at a time. Its own controls record nothing (looking at the data is not usage).

import { request } from '../shared/api.js';
import { h, clear } from '../shared/dom.js';
import { formatNumber } from './charts.js';

const PAGE = 20;
const COLUMNS = ['time', 'event', 'version', 'platform', 'props', 'duration_ms', 'outcome'];

export function makeExplorer(pageFilters) {
  const state = { offset: 0, next: null };
  const event = h('input', { id: 'ex-event', name: 'event', type: 'text', placeholder: 'command.run', autocomplete: 'off', spellcheck: 'false' });
  const prop = h('input', { id: 'ex-prop', name: 'prop', type: 'text', placeholder: 'provider:cpu', autocomplete: 'off', spellcheck: 'false' });
  const apply = h('button', { type: 'submit', class: 'primary' }, 'Show');
  const prev = h('button', { type: 'button', id: 'ex-prev' }, 'Newer');
  const next = h('button', { type: 'button', id: 'ex-next' }, 'Older');
  const status = h('p', { class: 'small muted', id: 'ex-status', 'aria-live': 'polite' });
  const error = h('p', { class: 'field-error', id: 'ex-error', role: 'alert' });
  const table = h('div', { class: 'table-wrap' });
  const form = h(
    'form',
    { class: 'explorer-form', 'aria-label': 'Event filters', novalidate: '' },
    h('div', { class: 'field' }, h('label', { for: 'ex-event' }, 'Event'), event),
    h('div', { class: 'field' }, h('label', { for: 'ex-prop' }, 'Property (key:value)'), prop),
    h('div', { class: 'field actions' }, apply),
  );
  const el = h(
    'section',
    { class: 'card explorer', id: 'view-events', 'data-view': 'events', 'data-state': 'loading', 'aria-labelledby': 'view-events-title' },
    h('header', { class: 'card-head' }, h('h2', { id: 'view-events-title' }, 'Event explorer')),
    h('p', { class: 'explain' }, 'The stored events, newest first, in the date range above: no pseudonym or session is shown.'),
    form,
    error,
    table,
    h('div', { class: 'pager row' }, prev, status, next),
  );

  async function load() {
    const f = pageFilters();
    const params = { limit: String(PAGE), offset: String(state.offset) };
    if (f.from) params.from = f.from;
    if (f.to) params.to = f.to;
    if (event.value.trim()) params.event = event.value.trim();
    if (prop.value.trim()) params.prop = prop.value.trim();
    error.textContent = '';
    event.removeAttribute('aria-invalid');
    prop.removeAttribute('aria-invalid');
    el.dataset.state = 'loading';
    try {
      const t = await request('GET', `/api/insights/events?${new URLSearchParams(params)}`);
      render(t);
    } catch (err) {
      error.textContent = err.message || String(err);
      if (err.field === 'event') event.setAttribute('aria-invalid', 'true');
      if (err.field === 'prop') prop.setAttribute('aria-invalid', 'true');
      clear(table);
      el.dataset.state = 'error';
    }
  }

  function render(t) {
    const rows = t.rows || [];
    const s = t.summary || {};
    state.next = typeof s.next_offset === 'number' ? s.next_offset : null;
    clear(table);
    if (rows.length) {
      const head = h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col' }, c)));
      const body = rows.map((r) =>
        h('tr', {}, ...COLUMNS.map((c) => {
          const v = c === 'props' ? JSON.stringify(r[c]) : r[c];
          return h('td', { class: typeof v === 'number' ? 'num' : c === 'props' ? 'code' : '' }, formatNumber(v));
        })),
      );
      table.append(h('table', {}, h('thead', {}, head), h('tbody', {}, ...body)));
    }
    const total = typeof s.matching === 'number' ? s.matching : rows.length;
    status.textContent = rows.length
      ? `${formatNumber(state.offset + 1)}–${formatNumber(state.offset + rows.length)} of ${formatNumber(total)} events`
      : 'No matching events';
    prev.disabled = state.offset === 0;
    next.disabled = state.next === null;
    el.dataset.state = rows.length ? 'ready' : 'empty';
    el.dataset.rows = String(rows.length);
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.offset = 0;
    load();
  });
  prev.addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - PAGE);
    load();
  });
  next.addEventListener('click', () => {
    if (state.next === null) return;
    state.offset = state.next;
    load();
  });
  // refresh: the same page again (new events, changed dates); reset: back to the newest page.
  return {
    el,
    refresh: load,
    reset: () => {
      state.offset = 0;
      return load();
    },
  };
}
