// The /insights dashboard: one card per analytics view (docs/web.md) with a one-line explanation, its
// key figures, a chart, the data table behind it and CSV/JSON downloads. Filters (dates, version,
// platform) apply to every card. GET /api/insights/stream (server-sent events) says when new telemetry
// was stored or a job changed; the cards then reload (debounced), so running jobs show up without a reload.

import './styles.css';
import { api, apiUrl, request, ApiError, getToken, setToken, onUnauthorized } from '../shared/api.js';
import { telemetry } from '../shared/telemetry.js';
import { h, clear, $, addMessage } from '../shared/dom.js';
import { Chart, chartConfig, figures, formatNumber } from './charts.js';
import { EXPERIMENTS_VIEW, renderExperiments } from './experiments.js';
import { makeExplorer } from './explorer.js';

const REFRESH_DEBOUNCE_MS = 800;
// Live refreshes start at most this often: a running video job stores events every second, and reloading
// nine views each time would keep a large database busy.
const LIVE_MIN_INTERVAL_MS = 5000;
const TABLE_ROWS = 200;
const FILTERS = ['from', 'to', 'version', 'platform'];
const AB_KEYS = ['by', 'metric', 'a', 'b'];
const TITLES = {
  usage: 'Feature usage',
  heatmap: 'When it is used',
  actions: 'Actions',
  errors: 'Errors',
  latency: 'Latency',
  defaults: 'Defaults switched',
  funnel: 'Funnel',
  retention: 'Retention',
  ab: 'A/B test',
  experiments: 'Experiments on defaults',
  users: 'Active users',
};

const el = {
  live: $('#live-state'),
  messages: $('#messages'),
  tokenForm: $('#token-form'),
  tokenInput: $('#token-input'),
  form: $('#filters'),
  from: $('#f-from'),
  to: $('#f-to'),
  version: $('#f-version'),
  platform: $('#f-platform'),
  reset: $('#f-reset'),
  filterState: $('#filter-state'),
  empty: $('#empty-state'),
  charts: $('#charts'),
  summary: $('#summary'),
};

const state = {
  index: null, // GET /api/insights
  cards: new Map(), // view name -> card
  ab: { by: '', metric: '', a: '', b: '' }, // the A/B card's settings (by: '' = version, or profile)
  loading: null, // AbortController of the refresh in flight
  pending: false,
  timer: null,
  lastRefresh: 0, // when the last refresh started (ms)
  source: null,
  generation: 0, // refreshes done (the browser test waits on it)
  badFilter: false, // the last refresh was refused for a filter: new telemetry cannot change that
  reported: '', // the last error reported as ui.error (each problem once, not at every refresh)
  ownSent: 0, // this page's own ui.* events already counted against the live stream
  ownPending: 0, // of those, how many the stream has not announced yet
};

// This page's own events (ui.page, ui.error, ui.action) come back over the live stream like anyone's;
// they change nothing shown, so they must not reload the page (that looped: an error event reloaded the
// page, which failed again and sent another error). Returns how many of `n` new events are not ours.
function foreignEvents(n) {
  const sent = telemetry.sent;
  state.ownPending += sent - state.ownSent;
  state.ownSent = sent;
  // Events the server did not keep (sampling, consent) are never announced: forget them after a while.
  if (Date.now() - telemetry.lastSentAt > 15000) state.ownPending = 0;
  const foreign = n - state.ownPending;
  state.ownPending = Math.max(0, state.ownPending - n);
  return Math.max(0, foreign);
}

// ---- messages ------------------------------------------------------------------------------------

function showMessage(text, kind = 'error') {
  return addMessage(el.messages, text, kind);
}

function clearFieldErrors() {
  for (const f of FILTERS) $(`#err-${f}`).textContent = '';
  for (const f of FILTERS) el[f].removeAttribute('aria-invalid');
}

// ---- filters -------------------------------------------------------------------------------------

function filters() {
  const out = {};
  for (const f of FILTERS) {
    const v = el[f].value.trim();
    if (v) out[f] = v;
  }
  return out;
}

function filtersFromUrl() {
  const q = new URLSearchParams(location.search);
  for (const f of FILTERS) {
    if (!q.has(f)) continue;
    // The version list comes from the server later; until then the wanted version is its only choice.
    if ((f === 'version' || f === 'platform') && q.get(f)) el[f].append(h('option', { value: q.get(f) }, q.get(f)));
    el[f].value = q.get(f);
  }
  for (const k of AB_KEYS) if (q.has(k)) state.ab[k] = q.get(k);
}

function filtersToUrl() {
  const q = new URLSearchParams(filters());
  for (const k of AB_KEYS) if (state.ab[k]) q.set(k, state.ab[k]);
  const s = q.toString();
  history.replaceState(null, '', s ? `?${s}` : location.pathname);
}

function describeFilters() {
  const f = filters();
  const parts = [];
  if (f.from || f.to) parts.push(`${f.from || 'the first day'} to ${f.to || 'the last day'}`);
  else parts.push('all days');
  parts.push(f.version ? `version ${f.version}` : 'all versions');
  if (f.platform) parts.push(`platform ${f.platform}`);
  el.filterState.textContent = `Showing ${parts.join(', ')}.`;
}

// The A/B view by version compares versions, so the version filter does not apply to it (the API refuses
// both); by profile it compares the profiles within the filtered versions.
function viewParams(name) {
  const p = filters();
  if (name === 'ab') {
    if (state.ab.by !== 'profile') delete p.version;
    for (const k of AB_KEYS) if (state.ab[k]) p[k] = state.ab[k];
  }
  if (name === 'latency' && state.latencyWith) p.with = state.latencyWith;
  if (name === 'latency' && state.latencyBy) p.by = state.latencyBy;
  return p;
}

function viewPath(name, params) {
  const q = new URLSearchParams(params).toString();
  return `/api/insights/${encodeURIComponent(name)}${q ? `?${q}` : ''}`;
}

// ---- cards ---------------------------------------------------------------------------------------

function makeCard(view) {
  const id = `view-${view.name}`;
  const card = {
    name: view.name,
    chart: null,
    canvas: h('canvas', { role: 'img', 'aria-label': `Chart: ${view.explanation || view.name}` }),
    figures: h('dl', { class: 'figures' }),
    notes: h('div', { class: 'notes', 'aria-live': 'polite' }),
    table: h('div', { class: 'table-wrap' }),
    rowsLabel: h('span', {}, 'Data'),
    csv: h('a', { class: 'download', download: `faceweave-insights-${view.name}.csv` }, 'CSV'),
    json: h('a', { class: 'download', download: `faceweave-insights-${view.name}.json` }, 'JSON'),
    extra: null,
  };
  card.box = h('div', { class: 'chart-box' }, card.canvas);
  card.csv.setAttribute('aria-label', `Download ${view.name} as CSV`);
  card.json.setAttribute('aria-label', `Download ${view.name} as JSON`);
  card.csv.addEventListener('click', () => telemetry.action('export', 'download', { value: `${view.name}_csv` }));
  card.json.addEventListener('click', () => telemetry.action('export', 'download', { value: `${view.name}_json` }));
  const header = h(
    'header',
    { class: 'card-head' },
    h('h2', { id: `${id}-title` }, TITLES[view.name] || view.name),
    h('span', { class: 'downloads' }, card.csv, card.json),
  );
  if (view.name === 'ab') card.extra = abControls();
  if (view.name === 'latency') card.extra = latencyControls();
  card.el = h(
    'section',
    { class: 'card view', id, 'data-view': view.name, 'data-state': 'loading', 'aria-labelledby': `${id}-title` },
    header,
    h('p', { class: 'explain' }, view.explanation || ''),
    card.extra,
    card.figures,
    card.box,
    card.notes,
    h('details', { class: 'data' }, h('summary', {}, card.rowsLabel), card.table),
  );
  return card;
}

// The A/B card's own settings: what the arms are (app versions or defaults profiles), the metric and the
// two arms (empty: the two with the most swap runs). They go into the URL with the filters.
const PROFILE_METRICS = ['error_rate'];

function abControls() {
  const box = h('div', { class: 'ab-controls small' });
  const render = () => {
    const byProfile = state.ab.by === 'profile';
    const arms = byProfile ? state.index.profiles || [] : state.index.versions || [];
    const metrics = byProfile ? PROFILE_METRICS : state.index.ab_metrics || [];
    const make = (key, label, choices, empty) => {
      const select = h('select', { id: `ab-${key}`, 'aria-label': `A/B ${label}` });
      if (empty) select.append(h('option', { value: '' }, empty));
      for (const c of choices) select.append(h('option', { value: c }, c));
      if (state.ab[key] && !choices.includes(state.ab[key])) select.append(h('option', { value: state.ab[key] }, state.ab[key]));
      // The metric has no "automatic": without a choice it shows the API's default (the first listed).
      select.value = state.ab[key] || (empty === null && choices.length ? choices[0] : '');
      select.addEventListener('change', () => {
        state.ab[key] = select.value;
        telemetry.action(`ab_${key}`, 'change', { value: select.value || 'auto' });
        filtersToUrl();
        loadView(state.cards.get('ab'));
      });
      return [h('label', { for: `ab-${key}` }, label), select];
    };
    // By version or by profile: the arms (and a metric only versions have) start over.
    const by = h('select', { id: 'ab-by', 'aria-label': 'A/B Compare' }, h('option', { value: '' }, 'by version'), h('option', { value: 'profile' }, 'by profile'));
    by.value = byProfile ? 'profile' : '';
    by.addEventListener('change', () => {
      state.ab.by = by.value;
      state.ab.a = '';
      state.ab.b = '';
      if (by.value === 'profile' && state.ab.metric && !PROFILE_METRICS.includes(state.ab.metric) && !state.ab.metric.includes('=')) state.ab.metric = '';
      telemetry.action('ab_by', 'change', { value: by.value || 'version' });
      filtersToUrl();
      render();
      loadView(state.cards.get('ab'));
    });
    clear(box);
    box.append(
      h(
        'div',
        { class: 'row' },
        h('label', { for: 'ab-by' }, 'Compare'),
        by,
        ...make('metric', 'Metric', metrics, null),
        ...make('a', 'Arm a', arms, 'automatic'),
        ...make('b', 'Arm b', arms, 'automatic'),
      ),
      h(
        'p',
        { class: 'muted' },
        byProfile
          ? 'Automatic arms: the two defaults profiles with the most swap runs; (none) is the runs without a profile. The version filter applies.'
          : 'Automatic arms: the two versions with the most swap runs. The version filter does not apply.',
      ),
    );
  };
  render();
  return box;
}

// The latency card's comparison: the stage times of runs that set OPTION=VALUE against the other runs
// (empty: the plain view). Not recorded: looking at the data is not usage.
function latencyControls() {
  const input = h('input', { id: 'latency-with', type: 'text', placeholder: 'color_match=none', autocomplete: 'off', spellcheck: 'false', value: state.latencyWith || '' });
  const apply = () => {
    state.latencyWith = input.value.trim();
    loadView(state.cards.get('latency'));
  };
  input.addEventListener('change', apply);
  // Group by the output resolution (the default) or the target's resolution as read.
  const by = h(
    'select',
    { id: 'latency-by' },
    h('option', { value: '' }, 'output resolution'),
    h('option', { value: 'input' }, 'input resolution'),
  );
  by.value = state.latencyBy || '';
  by.addEventListener('change', () => {
    state.latencyBy = by.value;
    loadView(state.cards.get('latency'));
  });
  return h(
    'div',
    { class: 'ab-controls small' },
    h('div', { class: 'row' }, h('label', { for: 'latency-by' }, 'Group by'), by),
    h('div', { class: 'row' }, h('label', { for: 'latency-with' }, 'Compare runs with option'), input),
    h('p', { class: 'muted' }, 'OPTION=VALUE: each stage in runs that set it and in the others.'),
  );
}

function renderTable(card, table) {
  clear(card.table);
  const rows = table.rows || [];
  card.rowsLabel.textContent = rows.length ? `Data (${rows.length} row${rows.length === 1 ? '' : 's'})` : 'Data (no rows)';
  if (!rows.length) return;
  const head = h('tr', {}, ...table.columns.map((c) => h('th', { scope: 'col' }, c)));
  const body = rows.slice(0, TABLE_ROWS).map((r) =>
    h('tr', {}, ...table.columns.map((c) => h('td', { class: typeof r[c] === 'number' ? 'num' : '' }, formatNumber(r[c])))),
  );
  card.table.append(h('table', {}, h('thead', {}, head), h('tbody', {}, ...body)));
  if (rows.length > TABLE_ROWS) card.table.append(h('p', { class: 'small muted' }, `First ${TABLE_ROWS} rows; the downloads have all.`));
}

function renderCard(card, table) {
  card.data = table;
  card.el.classList.remove('blocked');
  clear(card.figures);
  for (const [key, value] of figures(table)) {
    card.figures.append(
      h('div', { class: 'figure' }, h('dt', {}, key.replace(/_/g, ' ')), h('dd', { 'data-key': key, 'data-value': JSON.stringify(value) }, formatNumber(value))),
    );
  }
  // Each note on its own line, starting with a capital: they are separate facts.
  const notes = table.notes || [];
  clear(card.notes);
  for (const n of notes) card.notes.append(h('p', {}, sentence(n)));
  card.notes.hidden = !notes.length;
  renderTable(card, table);
  if (table.view === 'experiments') renderExperiments(card, table);
  const cfg = table.view === 'experiments' ? null : chartConfig(table);
  if (card.chart) {
    card.chart.destroy();
    card.chart = null;
  }
  card.box.hidden = !cfg;
  // Horizontal bars get the height their labels need (two-line labels on a phone).
  card.box.style.height = '';
  if (cfg && cfg.options && cfg.options.indexAxis === 'y') {
    const labels = cfg.data.labels || [];
    const perBar = labels.some(Array.isArray) ? 30 : 20;
    const bars = labels.length * Math.max(1, (cfg.data.datasets || []).length > 1 ? 1.4 : 1);
    card.box.style.height = `${Math.max(230, Math.round(bars * perBar + 70))}px`;
  }
  if (cfg) card.chart = new Chart(card.canvas, cfg);
  if (card.scale) card.scale.remove();
  card.scale = table.view === 'heatmap' && cfg ? heatScale(table) : null;
  if (card.scale) card.box.after(card.scale);
  card.el.dataset.state = cfg ? 'ready' : 'empty';
  card.el.dataset.rows = String((table.rows || []).length);
}

// The heat map's colour scale: from no runs to the busiest hour's count.
function heatScale(table) {
  const max = Math.max(0, ...table.rows.flatMap((r) => table.columns.filter((c) => /^h\d\d$/.test(c)).map((c) => Number(r[c]) || 0)));
  return h('div', { class: 'heat-scale small muted', 'aria-label': `Colour scale: lighter is fewer runs, darker up to ${formatNumber(max)} runs in an hour` },
    h('span', {}, '0'), h('span', { class: 'heat-bar', 'aria-hidden': 'true' }), h('span', {}, `${formatNumber(max)} swap runs`));
}

function sentence(text) {
  const t = String(text).trim();
  if (!t) return t;
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?)]$/.test(t) ? '' : '.'}`;
}

// ---- summary row ---------------------------------------------------------------------------------

// The headline numbers of the range, read from the views' summaries, each with its change against the
// period of the same length just before (when the range has both ends).
const HEADLINES = [
  { view: 'users', key: 'active_users', label: 'Active users' },
  { view: 'usage', key: 'runs', label: 'Swap runs' },
  { view: 'errors', key: 'errors_per_run', label: 'Errors per run', percent: true, lowerIsBetter: true },
];

function previousRange() {
  const f = filters();
  if (!f.from || !f.to) return null;
  const day = 86400000;
  const from = Date.parse(`${f.from}T00:00:00Z`);
  const to = Date.parse(`${f.to}T00:00:00Z`);
  if (!(to >= from)) return null;
  const days = Math.round((to - from) / day) + 1;
  const iso = (t) => new Date(t).toISOString().slice(0, 10);
  return { from: iso(from - days * day), to: iso(from - day), days };
}

async function renderSummary(signal) {
  const current = HEADLINES.map((hl) => {
    const card = state.cards.get(hl.view);
    const v = card && card.data && card.data.summary ? card.data.summary[hl.key] : undefined;
    return typeof v === 'number' ? v : null;
  });
  el.summary.hidden = current.every((v) => v === null);
  if (el.summary.hidden) return;
  const prev = previousRange();
  let before = HEADLINES.map(() => null);
  if (prev) {
    const params = { ...filters(), from: prev.from, to: prev.to };
    before = await Promise.all(
      HEADLINES.map(async (hl) => {
        try {
          const t = await request('GET', viewPath(hl.view, params), { signal });
          const v = t.summary ? t.summary[hl.key] : undefined;
          return typeof v === 'number' ? v : null;
        } catch (err) {
          if (err && err.name === 'AbortError') throw err;
          return null;
        }
      }),
    );
  }
  clear(el.summary);
  HEADLINES.forEach((hl, i) => {
    const v = current[i];
    const show = (x) => (hl.percent ? `${(x * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })}%` : formatNumber(x));
    let change = null;
    if (v !== null && before[i] !== null && prev) {
      const b = before[i];
      const diff = hl.percent ? (v - b) * 100 : b ? ((v - b) / b) * 100 : null;
      if (diff !== null) {
        const better = hl.lowerIsBetter ? diff < 0 : diff > 0;
        const unit = hl.percent ? ' points' : '%';
        const arrow = diff > 0 ? '▲' : diff < 0 ? '▼' : '';
        change = h('span', { class: `change ${diff === 0 ? '' : better ? 'good' : 'bad'}` },
          `${arrow} ${Math.abs(diff).toLocaleString('en-US', { maximumFractionDigits: 1 })}${unit} vs the ${prev.days} days before (${show(b)})`);
      }
    }
    el.summary.append(h('div', { class: 'headline', 'data-key': hl.key },
      h('span', { class: 'headline-label' }, hl.label),
      h('span', { class: 'headline-value' }, v === null ? '—' : show(v)),
      change));
  });
}

function renderCardError(card, err) {
  card.data = null;
  card.el.classList.remove('blocked');
  if (card.scale) card.scale.remove();
  card.scale = null;
  if (card.chart) {
    card.chart.destroy();
    card.chart = null;
  }
  clear(card.figures);
  clear(card.table);
  card.box.hidden = true;
  card.notes.hidden = false;
  card.notes.textContent = `Could not load this view: ${err.message}`;
  card.el.dataset.state = 'error';
}

function setLinks(card) {
  const params = viewParams(card.name);
  card.csv.href = apiUrl(`/api/insights/${card.name}`, { ...params, format: 'csv' });
  card.json.href = apiUrl(`/api/insights/${card.name}`, { ...params, format: 'json' });
}

async function loadView(card, signal) {
  if (!card) return;
  setLinks(card);
  // Settings changed in quick succession (arm a, arm b, metric) load the card several times at once, and
  // the answers may come back in any order: only the newest load's answer is shown.
  const seq = (card.seq = (card.seq || 0) + 1);
  try {
    const table = await request('GET', viewPath(card.name, viewParams(card.name)), { signal });
    if (seq === card.seq) renderCard(card, table);
    return null;
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    if (seq !== card.seq) return null;
    renderCardError(card, err);
    return err;
  }
}

// Reloads every card. A refresh asked for while one runs is done once it ends.
async function refresh() {
  if (state.loading) {
    state.pending = true;
    return;
  }
  const controller = new AbortController();
  state.loading = controller;
  state.lastRefresh = Date.now();
  el.charts.setAttribute('aria-busy', 'true');
  clearFieldErrors();
  clear(el.messages); // what is still wrong is said again below
  describeFilters();
  try {
    const cards = [...state.cards.values()];
    const errors = await Promise.all(cards.map((c) => loadView(c, controller.signal)));
    // The same bad parameter fails every card: say it once, next to its field and at the top; the cards
    // only point there.
    const first = errors.find((e) => e);
    const field = first && first instanceof ApiError && FILTERS.includes(first.field) ? first.field : null;
    state.badFilter = Boolean(field);
    if (state.explorer && !field) state.explorer.refresh();
    if (first) {
      if (field) {
        $(`#err-${field}`).textContent = first.message;
        el[field].setAttribute('aria-invalid', 'true');
      }
      if (first.code !== 'unauthorized') showMessage(first.message);
      errors.forEach((e, i) => {
        if (e && e.message === first.message) {
          cards[i].notes.textContent = field ? 'Not shown: see the filter above.' : 'Not shown: see the message above.';
          cards[i].el.classList.add('blocked'); // the problem is said once, above; the card only points there
        }
      });
      const key = `${first.code}|${first.message}`;
      if (first.code !== 'network' && key !== state.reported) telemetry.error(first.code || 'internal', 'insights');
      state.reported = key;
    } else {
      state.reported = '';
    }
    await renderSummary(controller.signal);
    state.generation += 1;
    document.body.dataset.generation = String(state.generation);
  } catch (err) {
    if (!(err && err.name === 'AbortError')) showMessage(String(err.message || err));
  } finally {
    state.loading = null;
    el.charts.setAttribute('aria-busy', 'false');
  }
  if (state.pending) {
    state.pending = false;
    refresh();
  }
}

// Filter changes: a refresh after `delay`, replacing any scheduled one.
function scheduleRefresh(delay = REFRESH_DEBOUNCE_MS) {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    state.timer = null;
    refresh();
  }, delay);
}

// New telemetry: one refresh after the debounce, and no sooner than LIVE_MIN_INTERVAL_MS after the last
// one started; events arriving meanwhile are covered by the refresh already scheduled.
function liveRefresh() {
  if (state.timer || state.badFilter) return;
  const wait = Math.max(REFRESH_DEBOUNCE_MS, state.lastRefresh + LIVE_MIN_INTERVAL_MS - Date.now());
  state.timer = setTimeout(() => {
    state.timer = null;
    refresh();
  }, wait);
}

// ---- live updates --------------------------------------------------------------------------------

function setLive(kind, text) {
  el.live.dataset.state = kind;
  el.live.textContent = text;
}

function connect() {
  if (state.source) state.source.close();
  const source = new EventSource(apiUrl('/api/insights/stream'));
  state.source = source;
  source.addEventListener('hello', () => setLive('live', 'Live: waiting for new telemetry'));
  source.addEventListener('telemetry', (ev) => {
    let n = 0;
    try {
      n = JSON.parse(ev.data).new || 0;
    } catch {
      n = 0;
    }
    setLive('live', `Live: ${formatNumber(n)} new event${n === 1 ? '' : 's'} at ${new Date().toLocaleTimeString()}`);
    // The first events of a new database: read the index again (versions, the empty-state banner).
    if (!foreignEvents(n)) return;
    if (state.index && !state.index.database) start();
    else liveRefresh();
  });
  source.addEventListener('job', () => setLive('live', `Live: a job changed at ${new Date().toLocaleTimeString()}`));
  // EventSource reconnects by itself (the server says retry: 3000); a closed source is not retried.
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) setLive('off', 'Live updates stopped; reload the page to retry');
    else setLive('reconnecting', 'Reconnecting to live updates…');
  };
}

// ---- start ---------------------------------------------------------------------------------------

function fillPlatforms(platforms) {
  const current = el.platform.value;
  clear(el.platform);
  el.platform.append(h('option', { value: '' }, 'All platforms'));
  for (const p of platforms) el.platform.append(h('option', { value: p }, p));
  if (current && !platforms.includes(current)) el.platform.append(h('option', { value: current }, `${current} (no data)`));
  el.platform.value = current;
}

function fillVersions(versions) {
  const current = el.version.value;
  clear(el.version);
  el.version.append(h('option', { value: '' }, 'All versions'));
  for (const v of versions) el.version.append(h('option', { value: v }, v));
  // A version from the URL that has no data stays selectable, so its empty state can be shown.
  if (current && !versions.includes(current)) el.version.append(h('option', { value: current }, `${current} (no data)`));
  el.version.value = current;
}

async function start() {
  let config;
  try {
    config = await api.config();
  } catch (err) {
    setLive('off', 'Not connected');
    showMessage(err.message);
    return;
  }
  telemetry.setConsent(config.telemetry);
  if (config.auth_required && !getToken()) {
    el.tokenForm.hidden = false;
    el.tokenInput.focus();
    setLive('off', 'Token needed');
    return;
  }
  try {
    state.index = await request('GET', '/api/insights');
  } catch (err) {
    setLive('off', err.code === 'unauthorized' ? 'Token needed' : 'Not connected');
    if (err.code !== 'unauthorized') showMessage(err.message);
    return;
  }
  fillVersions(state.index.versions || []);
  fillPlatforms(state.index.platforms || []);
  el.empty.hidden = state.index.database;
  clear(el.empty);
  for (const n of state.index.notes || []) el.empty.append(h('span', { class: 'note-line' }, sentence(n)));
  clear(el.charts);
  state.cards.clear();
  for (const view of [...(state.index.views || []), EXPERIMENTS_VIEW]) {
    const card = makeCard(view);
    state.cards.set(view.name, card);
    el.charts.append(card.el);
  }
  state.explorer = state.index.database ? makeExplorer(filters) : null;
  if (state.explorer) el.charts.append(state.explorer.el);
  await refresh();
  connect();
}

function filterChanged(ev) {
  const name = ev.target.name;
  if (!FILTERS.includes(name)) return;
  telemetry.action(name, 'change', name === 'version' ? { value: el.version.value || 'all' } : {});
  filtersToUrl();
  scheduleRefresh(0);
}

// The last n days up to today (UTC, as the views count days).
function preset(days) {
  const day = (d) => d.toISOString().slice(0, 10);
  const to = new Date();
  el.from.value = day(new Date(to.getTime() - (days - 1) * 86400000));
  el.to.value = day(to);
  telemetry.action('filters', 'click', { value: `last_${days}` });
  filtersToUrl();
  refresh();
}
for (const b of document.querySelectorAll('.presets button')) b.addEventListener('click', () => preset(Number(b.dataset.days)));

el.form.addEventListener('change', filterChanged);
el.form.addEventListener('submit', (ev) => ev.preventDefault());
el.reset.addEventListener('click', () => {
  for (const f of FILTERS) el[f].value = '';
  telemetry.action('filters', 'click', { value: 'clear' });
  filtersToUrl();
  refresh();
});
el.tokenForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken(el.tokenInput.value.trim());
  el.tokenForm.hidden = true;
  start();
});
onUnauthorized(() => {
  el.tokenForm.hidden = false;
});

// New versions appear as telemetry arrives: the version list is read again every 30 s.
setInterval(async () => {
  if (!state.index || document.visibilityState !== 'visible') return;
  try {
    const index = await request('GET', '/api/insights');
    fillVersions(index.versions || []);
    fillPlatforms(index.platforms || []);
    if (index.database !== state.index.database) start();
  } catch {
    // The live state line already says when the server is away.
  }
}, 30000);

filtersFromUrl();
describeFilters();
telemetry.page('insights');
start();
