// One Chart.js configuration per analytics view (docs/analytics.md, "Views"), built from the view's JSON
// exactly as GET /api/insights/{view} returns it: {view, title, columns, rows: [{column: value}], summary,
// notes}. A builder returns null when the table has nothing to draw (the card then shows its empty state).
// Only the Chart.js parts the charts use are registered, so the bundle stays small.

import {
  Chart,
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
);

// Axis text and grid lines in the page's colours (dark mode included).
const css = getComputedStyle(document.documentElement);
Chart.defaults.color = css.getPropertyValue('--muted').trim() || '#5b6677';
Chart.defaults.borderColor = css.getPropertyValue('--line').trim() || '#dde3eb';

export { Chart };

// Sixteen distinguishable colours (the latency chart stacks up to 14 stages).
const PALETTE = ['#2f6fde', '#d9822b', '#1e8a4c', '#c2352b', '#7a4fd6', '#0f9bb0', '#a36500', '#5b6677', '#d6428f',
  '#6b8e23', '#8c564b', '#17becf', '#e6b400', '#9edae5', '#393b79', '#ff9896'];
const color = (i) => PALETTE[i % PALETTE.length];

// Option words as a person reads them: "identity_strength=(number)" -> "Identity strength changed",
// "color_match=none" -> "Color match: none".
export function readable(text) {
  const s = String(text);
  const words = (w) => w.replace(/_/g, ' ');
  const cap = (w) => w.charAt(0).toUpperCase() + w.slice(1);
  const m = s.match(/^([a-z0-9_]+)=(.*)$/);
  if (!m) return cap(words(s));
  return m[2] === '(number)' ? `${cap(words(m[1]))} changed` : `${cap(words(m[1]))}: ${words(m[2])}`;
}

// Numbers as the page shows them (figures, tables, tooltips): at most 3 decimals, thousands grouped.
export function formatNumber(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === null || v === undefined ? '—' : String(v);
  return v.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

const percent = (v) => `${(v * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })}%`;

function base({ percentAxis = false, horizontal = false, stacked = false, legend = true } = {}) {
  const valueAxis = {
    beginAtZero: true,
    stacked,
    ticks: { callback: (v) => (percentAxis ? percent(v) : formatNumber(v)) },
  };
  if (percentAxis && stacked) valueAxis.max = 1;
  // Horizontal bars label every bar (at most a dozen); dates and hours along x may skip some.
  const categoryAxis = { stacked, ticks: { autoSkip: !horizontal, maxRotation: 0, font: { size: 11 } } };
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    indexAxis: horizontal ? 'y' : 'x',
    plugins: {
      legend: { display: legend, position: 'bottom', labels: { boxWidth: 12, font: { size: 11 } } },
      tooltip: {
        callbacks: {
          label: (ctx) => {
            const v = horizontal ? ctx.parsed.x : ctx.parsed.y;
            return `${ctx.dataset.label}: ${percentAxis ? percent(v) : formatNumber(v)}`;
          },
        },
      },
    },
    scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
  };
}

// A long category label on two lines (Chart.js takes an array), split after its first ': ' or ' · ', so
// the labels of horizontal bars are not cut off on a phone.
function twoLines(label) {
  const text = String(label);
  if (text.length <= 22) return text;
  for (const sep of [': ', ' · ']) {
    const i = text.indexOf(sep);
    if (i > 0) return [text.slice(0, i + (sep === ': ' ? 1 : 0)), text.slice(i + sep.length)];
  }
  return text;
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const uniq = (list) => [...new Set(list)];

function topBars(pairs, label, { percentAxis = false, limit = 12 } = {}) {
  const top = pairs.sort((a, b) => b[1] - a[1]).slice(0, limit);
  if (!top.length) return null;
  return {
    type: 'bar',
    data: {
      labels: top.map((p) => twoLines(p[0])),
      datasets: [{ label, data: top.map((p) => p[1]), backgroundColor: color(0) }],
    },
    options: base({ percentAxis, horizontal: true, legend: false }),
  };
}

function lines(labels, series, { percentAxis = false } = {}) {
  if (!labels.length || !series.length) return null;
  return {
    type: 'line',
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label,
        data: s.data,
        borderColor: color(i),
        backgroundColor: color(i),
        pointRadius: labels.length > 40 ? 0 : 2,
        borderWidth: 2,
        tension: 0, // the values as measured: smoothing invents peaks between days
      })),
    },
    options: base({ percentAxis }),
  };
}

const builders = {
  // The share of swap runs that set each option value over the whole range (the summary's shares).
  usage(t) {
    const shares = t.summary && typeof t.summary.share_over_range === 'object' ? t.summary.share_over_range : {};
    return topBars(Object.entries(shares).map(([k, v]) => [readable(k), num(v)]), 'share of swap runs', { percentAxis: true });
  },
  // Runs per weekday x hour of day as a grid of squares, darker for more runs (a scatter of square points).
  heatmap(t) {
    const hours = t.columns.filter((c) => /^h\d\d$/.test(c));
    const days = t.rows.map((r) => String(r.weekday));
    if (!hours.length || !days.length) return null;
    const cells = [];
    t.rows.forEach((r, y) => hours.forEach((h, x) => cells.push({ x, y, v: num(r[h]) })));
    const max = Math.max(...cells.map((c) => c.v), 0);
    const shade = (v) => `rgba(47, 111, 222, ${max > 0 ? 0.06 + 0.94 * (v / max) : 0.06})`;
    // Each square fills its cell of the plot area, whatever the card's size.
    const radius = (ctx) => {
      const area = ctx.chart.chartArea;
      if (!area) return 4;
      return Math.max(2, Math.min(area.width / hours.length, area.height / days.length) / 2 - 1);
    };
    return {
      type: 'scatter',
      data: {
        datasets: [
          {
            label: 'swap runs',
            data: cells,
            pointStyle: 'rect',
            pointRadius: radius,
            pointHoverRadius: radius,
            backgroundColor: cells.map((c) => shade(c.v)),
            borderWidth: 0,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (ctx) => `${days[ctx.raw.y]} ${Number(hours[ctx.raw.x].slice(1))}h: ${formatNumber(ctx.raw.v)} runs`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            min: -0.5,
            max: hours.length - 0.5,
            grid: { display: false },
            // Ticks on the cells' centres (the axis runs from -0.5 so that the squares fit).
            afterBuildTicks: (axis) => {
              axis.ticks = hours.map((_, i) => ({ value: i })).filter((_, i) => i % 2 === 0);
            },
            ticks: { autoSkip: false, maxRotation: 0, callback: (v) => `${Number(hours[v].slice(1))}h` },
          },
          y: {
            type: 'linear',
            reverse: true,
            min: -0.5,
            max: days.length - 0.5,
            grid: { display: false },
            afterBuildTicks: (axis) => {
              axis.ticks = days.map((_, i) => ({ value: i }));
            },
            ticks: { autoSkip: false, callback: (v) => days[v] },
          },
        },
      },
    };
  },
  actions(t) {
    return topBars(t.rows.map((r) => [`${readable(r.option)} · ${r.action}`, num(r.count)]), 'count');
  },
  // Errors per run per day, one line per version (the `all` rows: every error code together).
  // With the day's swap runs as grey bars on a second axis: a high rate on a day of two runs means little.
  errors(t) {
    const all = t.rows.filter((r) => r.code === 'all');
    const days = uniq(all.map((r) => r.day)).sort();
    const versions = uniq(all.map((r) => r.version)).sort();
    const cfg = lines(
      days,
      versions.map((v) => {
        const rows = all.filter((r) => r.version === v);
        const rate = new Map();
        for (const d of days) {
          const of = rows.filter((r) => r.day === d);
          const runs = of.reduce((a, r) => a + num(r.runs), 0);
          if (runs > 0) rate.set(d, of.reduce((a, r) => a + num(r.errors), 0) / runs);
        }
        return { label: `version ${v}`, data: days.map((d) => (rate.has(d) ? rate.get(d) : null)) };
      }),
      { percentAxis: true },
    );
    if (!cfg) return null;
    const runs = days.map((d) => all.filter((r) => r.day === d).reduce((a, r) => a + num(r.runs), 0));
    cfg.data.datasets.push({ type: 'bar', label: 'swap runs (right axis)', data: runs, yAxisID: 'runs', order: 10,
      backgroundColor: 'rgba(128, 140, 160, 0.28)', borderWidth: 0 });
    cfg.options.scales.runs = { position: 'right', beginAtZero: true, grid: { display: false },
      ticks: { callback: (v) => formatNumber(v) } };
    const label = cfg.options.plugins.tooltip.callbacks.label;
    cfg.options.plugins.tooltip.callbacks.label = (ctx) =>
      ctx.dataset.yAxisID === 'runs' ? `swap runs: ${formatNumber(ctx.parsed.y)}` : label(ctx);
    return cfg;
  },
  // Each stage's share of the processing time, stacked per output (or input) resolution.
  latency(t) {
    const dim = t.columns[0]; // resolution (the output's) or input (the target's)
    // With a comparison (latency --with): the share of each resolution's time per stage, with against without.
    if (t.columns.includes('with_share')) {
      const labels = t.rows.map((r) => `${r[dim]} ${r.stage}`);
      if (!labels.length) return null;
      return {
        type: 'bar',
        data: {
          labels,
          datasets: [
            { label: `with ${t.summary.with}`, data: t.rows.map((r) => num(r.with_share)), backgroundColor: color(0) },
            { label: 'without', data: t.rows.map((r) => num(r.without_share)), backgroundColor: color(1) },
          ],
        },
        options: base({ percentAxis: true, horizontal: true }),
      };
    }
    const resolutions = uniq(t.rows.map((r) => String(r[dim])));
    const stages = uniq(t.rows.map((r) => String(r.stage)));
    if (!resolutions.length) return null;
    const cfg = {
      type: 'bar',
      data: {
        labels: resolutions,
        datasets: stages.map((s, i) => ({
          label: s,
          backgroundColor: color(i),
          data: resolutions.map((res) => {
            const row = t.rows.find((r) => String(r[dim]) === res && String(r.stage) === s);
            return row ? num(row.share) : 0;
          }),
        })),
      },
      options: base({ percentAxis: true, stacked: true }),
    };
    return cfg;
  },
  defaults(t) {
    const labels = t.rows.map((r) => twoLines(`${readable(r.option)}: ${String(r.default).replace(/_/g, ' ')} → ${String(r.switched_to).replace(/_/g, ' ')}`));
    if (!labels.length) return null;
    return {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'share of active users', data: t.rows.map((r) => num(r.share)), backgroundColor: color(0) },
          { label: 'in their first session', data: t.rows.map((r) => num(r.first_session_share)), backgroundColor: color(1) },
        ],
      },
      options: base({ percentAxis: true, horizontal: true }),
    };
  },
  // Each step labelled with its conversion from the step before (and from the first in the tooltip).
  funnel(t) {
    if (!t.rows.length) return null;
    const cfg = {
      type: 'bar',
      data: {
        labels: t.rows.map((r, i) =>
          i === 0 || typeof r.share_of_previous !== 'number' ? readable(r.step) : [readable(r.step), `${percent(r.share_of_previous)} of previous`]),
        datasets: [{ label: 'users', data: t.rows.map((r) => num(r.users)), backgroundColor: color(0) }],
      },
      options: base({ legend: false }),
    };
    cfg.options.plugins.tooltip.callbacks.afterLabel = (ctx) => {
      const r = t.rows[ctx.dataIndex];
      return typeof r.share_of_first === 'number' ? `${percent(r.share_of_first)} of the first step` : '';
    };
    return cfg;
  },
  retention(t) {
    return lines(
      t.rows.map((r) => `week ${r.week}`),
      t.rows.length ? [{ label: 'retention', data: t.rows.map((r) => (r.retention === null ? null : num(r.retention))) }] : [],
      { percentAxis: true },
    );
  },
  users(t) {
    // A day of fewer than k users is "< k": no point (null), not a zero.
    return lines(
      t.rows.map((r) => r.day),
      t.rows.length ? [{ label: 'active users', data: t.rows.map((r) => (typeof r.active_users === 'number' ? r.active_users : null)) }] : [],
    );
  },
  ab(t) {
    if (!t.rows.length) return null;
    return {
      type: 'bar',
      data: {
        labels: t.rows.map((r) => `${r.arm} (${r.version ?? r.profile})`),
        datasets: [{ label: 'rate', data: t.rows.map((r) => num(r.rate)), backgroundColor: t.rows.map((_, i) => color(i)) }],
      },
      options: base({ percentAxis: true, legend: false }),
    };
  },
};

// A view without its own builder: a bar per row of its last numeric column, labelled by the first.
function generic(t) {
  if (!t.rows.length || t.columns.length < 2) return null;
  const valueCol = [...t.columns].reverse().find((c) => typeof t.rows[0][c] === 'number');
  if (!valueCol) return null;
  return topBars(t.rows.map((r) => [String(r[t.columns[0]]), num(r[valueCol])]), valueCol, { limit: 20 });
}

export function chartConfig(table) {
  if (!table || !Array.isArray(table.rows) || !table.rows.length) return null;
  const build = builders[table.view] || generic;
  return build(table);
}

// The view-level numbers a card shows above its chart: the summary's plain values (numbers, words) in the
// API's order, or for views with many (ab) the ones that answer the question. Nested objects (e.g. usage's
// shares) are what the chart draws.
const FIGURE_KEYS = {
  ab: ['verdict', 'difference', 'ci_low', 'ci_high', 'p_value', 'sample_size_per_arm'],
};

export function figures(table) {
  const summary = (table && table.summary) || {};
  const keys = FIGURE_KEYS[table && table.view] || Object.keys(summary);
  const out = [];
  for (const key of keys) {
    const value = summary[key];
    if (value === null || value === undefined || typeof value === 'object') continue;
    out.push([key, value]);
  }
  return out;
}
