// Browser test of the /insights dashboard (issue 7). Simulates a telemetry history into a fresh data
// folder, starts a real `faceweave serve` (telemetry `all`), and drives Debian's headless chromium with
// playwright-core at 1280x800: every view's chart is drawn (non-blank canvas), the figures and data tables
// shown equal GET /api/insights/{view}, a version filter changes them, a bad date range is shown as an
// error next to its field, and a swap job submitted through the API shows up without a reload (the live
// stream makes the page reload its data, so the swap-run count grows). A screenshot is saved.
//
// node insights.test.mjs --faceweave PATH
// Environment (CTest sets these): FACEWEAVE_TESTDATA_DIR, FACEWEAVE_BROWSER_NODE_MODULES,
// FACEWEAVE_ARTIFACTS_DIR, FACEWEAVE_CHROMIUM (default /usr/bin/chromium), FACEWEAVE_KEEP_DATA=1.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Server,
  artifacts,
  chromiumPath,
  faceweave,
  launchOptions,
  nodeModules,
  sleep,
  sourceImage,
  targetImage,
  uiEvents,
} from './support.mjs';

const VIEWS = ['usage', 'heatmap', 'actions', 'errors', 'latency', 'defaults', 'funnel', 'retention', 'ab', 'users'];

// Upper bounds that only stop a hung run; never the thing tested.
const UI_WAIT_MS = 30_000;
const JOB_WAIT_MS = 60_000;

const started = Date.now();
function step(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);
}

// The page's number format (web/src/insights/charts.js formatNumber).
function formatNumber(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === null || v === undefined ? '—' : String(v);
  return v.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

async function apiView(base, view, params = {}) {
  const q = new URLSearchParams(params).toString();
  const r = await fetch(`${base}/api/insights/${view}${q ? `?${q}` : ''}`);
  assert.equal(r.status, 200, `GET /api/insights/${view}?${q}`);
  return r.json();
}

// What a card shows: its figures (key, data-value, text), its row count and the first rows' cells.
async function shown(page, view) {
  return page.locator(`section[data-view="${view}"]`).evaluate((card) => ({
    state: card.dataset.state,
    figures: [...card.querySelectorAll('.figures dd')].map((dd) => [dd.dataset.key, dd.dataset.value, dd.textContent]),
    rows: Number(card.dataset.rows),
    cells: [...card.querySelectorAll('tbody tr')].slice(0, 3).map((tr) => [...tr.children].map((td) => td.textContent)),
  }));
}

// Every figure shown is the summary's value (data-value is its JSON, the text its formatted form), the
// row count is the API's and the first rows' cells are the API's, formatted.
function compare(view, got, table) {
  const problems = [];
  const summary = table.summary || {};
  const plain = Object.values(summary).filter((v) => v !== null && typeof v !== 'object');
  if (plain.length && !got.figures.length) problems.push('no figures shown');
  for (const [key, value, text] of got.figures) {
    if (!(key in summary)) problems.push(`figure ${key} is not in the summary`);
    else if (value !== JSON.stringify(summary[key]) || text !== formatNumber(summary[key]))
      problems.push(`figure ${key}: shown ${text} (${value}), API ${JSON.stringify(summary[key])}`);
  }
  if (got.rows !== table.rows.length) problems.push(`rows: shown ${got.rows}, API ${table.rows.length}`);
  const cells = table.rows.slice(0, 3).map((r) => table.columns.map((c) => formatNumber(r[c])));
  try {
    assert.deepEqual(got.cells, cells);
  } catch {
    problems.push(`first rows: shown ${JSON.stringify(got.cells)}, API ${JSON.stringify(cells)}`);
  }
  return problems.map((p) => `${view}: ${p}`);
}

// Compares every card with the API under the same filter. Live events (the page's own ui.* events among
// them) can change the numbers between the two reads, so it retries until both agree.
async function expectCardsEqualApi(page, base, params, views = VIEWS) {
  const deadline = Date.now() + UI_WAIT_MS;
  for (;;) {
    const mismatches = [];
    for (const view of views) {
      // The A/B card compares versions: the page leaves the version filter out of it (by profile it applies).
      const { version, ...rest } = params;
      const keep = version && (view !== 'ab' || params.by === 'profile');
      const table = await apiView(base, view, keep ? { ...rest, version } : rest);
      mismatches.push(...compare(view, await shown(page, view), table));
    }
    if (!mismatches.length) return;
    if (Date.now() > deadline) throw new Error(`the page does not show the API's numbers:\n${mismatches.join('\n')}`);
    await sleep(300);
  }
}

async function generation(page) {
  return Number((await page.locator('body').getAttribute('data-generation')) || 0);
}

async function waitGeneration(page, above) {
  await page.waitForFunction((n) => Number(document.body.dataset.generation || 0) > n, above, { polling: 100 });
}

async function runsShown(page) {
  const v = await page.locator('section[data-view="usage"] dd[data-key="runs"]').getAttribute('data-value');
  return Number(v);
}

async function upload(base, file) {
  const form = new FormData();
  form.append('file', new Blob([fs.readFileSync(file)]), path.basename(file));
  const r = await fetch(`${base}/api/uploads`, { method: 'POST', body: form });
  assert.equal(r.status, 201, `upload ${file}`);
  return r.json();
}

async function main() {
  assert.ok(faceweave && fs.existsSync(faceweave), `faceweave binary not found: ${faceweave} (pass --faceweave PATH)`);
  assert.ok(fs.existsSync(sourceImage), `test image missing: ${sourceImage} (set FACEWEAVE_TESTDATA_DIR)`);
  assert.ok(fs.existsSync(chromiumPath), `${chromiumPath} missing: apt-get install chromium (scripts/install-deps.sh)`);
  const { chromium } = createRequire(path.join(nodeModules, 'noop.js'))('playwright-core');
  let browser = null;

  fs.mkdirSync(artifacts, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'faceweave-insights-'));
  browser = await chromium.launch(launchOptions());

  // Before any telemetry exists (the server's own is off): the page says how to get data, and every card
  // shows its empty state instead of an error.
  {
    const empty = new Server(faceweave, dataDir, path.join(artifacts, 'browser-insights-empty-server.log'), [], 'off');
    try {
      await empty.waitReady(60_000);
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${empty.base}/insights/`);
      await page.waitForFunction(() => Number(document.body.dataset.generation || 0) > 0, null, { timeout: UI_WAIT_MS });
      assert.match(await page.locator('#empty-state').innerText(), /telemetry simulate/);
      for (const view of VIEWS) {
        const card = page.locator(`section[data-view="${view}"]`);
        assert.equal(await card.getAttribute('data-state'), 'empty', `${view} without a database`);
        assert.ok((await card.locator('.notes').innerText()).length > 0, `${view} says why it is empty`);
      }
      assert.equal(await page.locator('#messages .message').count(), 0, 'no error message without a database');
      await page.close();
      step('without a telemetry database every card shows its empty state');
    } catch (err) {
      await browser.close();
      console.log(`server log (tail):\n${empty.tail()}`);
      throw err;
    } finally {
      await empty.stop();
    }
  }

  const today = new Date().toISOString().slice(0, 10);
  const sim = execFileSync(
    faceweave,
    ['--telemetry', 'off', '--data-dir', dataDir, 'telemetry', 'simulate', '--users', '150', '--days', '21', '--seed', '11', '--end', today],
    { encoding: 'utf8' },
  );
  step(`simulated history: ${sim.trim().split('\n')[0]}`);

  const server = new Server(faceweave, dataDir, path.join(artifacts, 'browser-insights-server.log'));
  const pageErrors = [];
  let ok = false;
  try {
    const health = await server.waitReady(60_000);
    const base = server.base;
    step(`faceweave serve ${health.version} at ${base}`);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(UI_WAIT_MS);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      // The bad date range below is answered 400 on purpose; chromium logs each such fetch.
      if (msg.type() === 'error' && !/status of 400/.test(msg.text())) pageErrors.push(`console: ${msg.text()}`);
    });
    const foreign = [];
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (!['127.0.0.1', 'localhost'].includes(url.hostname) && !['data:', 'blob:'].includes(url.protocol)) foreign.push(req.url());
    });

    // The workbench links to the dashboard; /insights redirects to /insights/.
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Insights' }).click();
    await page.waitForURL(/\/insights\/$/);
    await waitGeneration(page, 0);
    assert.match(await page.title(), /insights/);
    const bare = await fetch(`${base}/insights`, { redirect: 'manual' });
    assert.equal(bare.status, 302, 'GET /insights redirects');
    step('dashboard loaded');

    // Every view: a one-line explanation, a drawn chart, download links.
    for (const view of VIEWS) {
      const card = page.locator(`section[data-view="${view}"]`);
      assert.equal(await card.getAttribute('data-state'), 'ready', `${view}: ${await card.locator('.notes').innerText()}`);
      assert.ok((await card.locator('.explain').innerText()).length > 20, `${view} explains its chart`);
      const painted = await card.locator('canvas').evaluate((c) => {
        const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
        return { n, w: c.width, h: c.height };
      });
      assert.ok(painted.w > 300 && painted.h > 150, `${view}: canvas ${painted.w}x${painted.h}`);
      assert.ok(painted.n > 2000, `${view}: only ${painted.n} pixels drawn`);
      const csv = await card.getByRole('link', { name: `Download ${view} as CSV` }).getAttribute('href');
      const r = await fetch(base + csv);
      assert.equal(r.status, 200, `${view} CSV`);
      assert.match(r.headers.get('content-disposition') || '', /^attachment; filename="faceweave-insights-/);
    }
    step('every chart is drawn');

    // The event explorer: the newest stored events, filtered by event name, a page at a time, as the API.
    await page.waitForFunction(() => document.querySelector('section[data-view="events"]')?.dataset.state === 'ready');
    const explorer = page.locator('section[data-view="events"]');
    assert.match(await explorer.locator('#ex-status').innerText(), /^1–20 of [\d,]+ events$/);
    await explorer.getByLabel('Event', { exact: true }).fill('command.run');
    await explorer.getByRole('button', { name: 'Show' }).click();
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('section[data-view="events"] tbody tr td:nth-child(2)')];
      return cells.length === 20 && cells.every((td) => td.textContent === 'command.run');
    });
    const runsApi = await (await fetch(`${base}/api/insights/events?event=command.run&limit=20`)).json();
    const statusText = await explorer.locator('#ex-status').innerText();
    assert.equal(statusText, `1–20 of ${runsApi.summary.matching.toLocaleString('en-US')} events`);
    await explorer.getByRole('button', { name: 'Older' }).click();
    await page.waitForFunction(() => /^21–40 of/.test(document.querySelector('#ex-status')?.textContent || ''));
    await explorer.getByLabel('Event', { exact: true }).fill('no.such.event');
    await explorer.getByRole('button', { name: 'Show' }).click();
    await page.waitForFunction(() => (document.querySelector('#ex-error')?.textContent || '').length > 0);
    await explorer.getByLabel('Event', { exact: true }).fill('');
    await explorer.getByRole('button', { name: 'Show' }).click();
    await page.waitForFunction(() => document.querySelector('section[data-view="events"]')?.dataset.state === 'ready');
    step(`the event explorer pages through ${runsApi.summary.matching} command.run events, as the API`);

    // The page fits 1280 px: no horizontal scrolling.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at 1280x800`);

    await expectCardsEqualApi(page, base, {});
    const allRuns = await runsShown(page);
    step(`figures and tables equal the API (${allRuns} swap runs)`);

    // A filter change reloads every card with the filter.
    let gen = await generation(page);
    await page.getByLabel('App version', { exact: true }).selectOption('0.1.0');
    await waitGeneration(page, gen);
    await expectCardsEqualApi(page, base, { version: '0.1.0' });
    const versionRuns = await runsShown(page);
    assert.ok(versionRuns > 0 && versionRuns < allRuns, `version 0.1.0: ${versionRuns} of ${allRuns} runs`);
    assert.match(page.url(), /version=0\.1\.0/);
    step(`version 0.1.0 shows ${versionRuns} runs, equal to the API`);

    // The A/B card's own settings: arms and metric, reloading that card only.
    await page.getByLabel('A/B Arm a').selectOption('0.2.0');
    await page.getByLabel('A/B Arm b').selectOption('0.1.0');
    await page.getByLabel('A/B Metric').selectOption('download_conversion');
    await expectCardsEqualApi(page, base, { a: '0.2.0', b: '0.1.0', metric: 'download_conversion' }, ['ab']);
    assert.equal((await shown(page, 'ab')).cells[0][1], '0.2.0', 'arm a is version 0.2.0');
    await page.getByLabel('A/B Arm a').selectOption('');
    await page.getByLabel('A/B Arm b').selectOption('');
    await page.getByLabel('A/B Metric').selectOption('error_rate');
    await expectCardsEqualApi(page, base, {}, ['ab']);
    step('the A/B card takes its arms and metric');

    // By profile: the arms are the defaults profiles with runs (the simulated runs carry none: only (none),
    // so there is nothing to compare), the version filter applies; then back to versions.
    await page.getByLabel('A/B Compare').selectOption('profile');
    await expectCardsEqualApi(page, base, { version: '0.1.0', by: 'profile' }, ['ab']);
    assert.deepEqual(await page.getByLabel('A/B Arm a').locator('option').allTextContents(), ['automatic', '(none)']);
    assert.deepEqual(await page.getByLabel('A/B Metric').locator('option').allTextContents(), ['error_rate']);
    assert.match(page.url(), /by=profile/);
    await page.getByLabel('A/B Compare').selectOption('');
    await expectCardsEqualApi(page, base, {}, ['ab']);
    step('the A/B card compares versions or defaults profiles');

    // The latency card groups by the target's resolution on request: the API's by=input table (the version
    // filter still applies), then back.
    await page.getByLabel('Group by').selectOption('input');
    await expectCardsEqualApi(page, base, { version: '0.1.0', by: 'input' }, ['latency']);
    assert.equal(await page.locator('section[data-view="latency"] thead th').first().textContent(), 'input');
    await page.getByLabel('Group by').selectOption('');
    await expectCardsEqualApi(page, base, { version: '0.1.0' }, ['latency']);
    step('the latency card groups by input resolution');

    // A bad range: a clear error next to the field, the cards say they could not load, nothing crashes.
    gen = await generation(page);
    await page.getByLabel('From', { exact: true }).fill('2026-12-31');
    await page.getByLabel('To', { exact: true }).fill('2026-01-01');
    await page.getByLabel('To', { exact: true }).dispatchEvent('change');
    await page.waitForFunction(() => document.querySelector('#err-from').textContent.includes('after'), null, { polling: 100 });
    assert.equal(await page.getByLabel('From', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('section[data-view="usage"]').getAttribute('data-state'), 'error');
    step(`bad range shown: ${await page.locator('#err-from').innerText()}`);

    gen = await generation(page);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await waitGeneration(page, gen);
    await expectCardsEqualApi(page, base, {});
    const before = await runsShown(page);

    // A live job: submitted through the API while the page is open; the page must show it without a reload.
    await page.evaluate(() => {
      window.__notReloaded = true;
    });
    const source = await upload(base, sourceImage);
    const target = await upload(base, targetImage);
    const created = await fetch(`${base}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sources: [source.id], target: target.id }),
    });
    assert.equal(created.status, 201, 'POST /api/jobs');
    const job = await created.json();
    const jobDeadline = Date.now() + JOB_WAIT_MS;
    let status = job.status;
    while (!['done', 'failed', 'cancelled'].includes(status) && Date.now() < jobDeadline) {
      await sleep(200);
      status = (await (await fetch(`${base}/api/jobs/${job.id}`)).json()).status;
    }
    assert.equal(status, 'done', `job ${job.id} ended ${status}`);
    const jobDone = Date.now();
    step(`job ${job.id} done`);
    await page.waitForFunction(
      (n) => Number(document.querySelector('section[data-view="usage"] dd[data-key="runs"]')?.dataset.value) > n,
      before,
      { polling: 200 },
    );
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was not reloaded');
    assert.equal(await page.locator('#live-state').getAttribute('data-state'), 'live');
    await expectCardsEqualApi(page, base, {});
    step(`the job shows up live: ${before} -> ${await runsShown(page)} swap runs, ${((Date.now() - jobDone) / 1000).toFixed(1)} s after it was done`);

    const screenshot = path.join(artifacts, 'browser-insights.png');
    await page.screenshot({ path: screenshot, fullPage: false });
    await page.screenshot({ path: path.join(artifacts, 'browser-insights-full.png'), fullPage: true });
    step(`screenshots: ${screenshot} (1280x800) and browser-insights-full.png (the whole page)`);

    // The dashboard's own use is recorded with the existing allow-list (ui.page, ui.action, ui.error),
    // sent when the page is left.
    await page.close({ runBeforeUnload: true });
    await context.close();
    assert.deepEqual(foreign, [], 'the dashboard loads nothing from other hosts');
    assert.deepEqual(pageErrors, [], 'no script errors');
    const dbPath = path.join(dataDir, 'telemetry', 'events.db');
    const has = (events, name, props) =>
      events.some((e) => e.event === name && Object.entries(props).every(([k, v]) => e.props[k] === v));
    const wanted = [
      ['ui.page', { page: 'insights' }],
      ['ui.action', { control: 'version', action: 'change', value: '0_1_0' }],
      ['ui.action', { control: 'filters', action: 'click', value: 'clear' }],
      ['ui.error', { code: 'invalid_argument', where: 'insights' }],
    ];
    const eventsDeadline = Date.now() + 15_000;
    let events = [];
    while (Date.now() < eventsDeadline) {
      events = uiEvents(dbPath);
      if (wanted.every(([name, props]) => has(events, name, props))) break;
      await sleep(250);
    }
    const missing = wanted.filter(([name, props]) => !has(events, name, props));
    assert.deepEqual(missing, [], `dashboard events missing; stored: ${JSON.stringify(events.map((e) => [e.event, e.props]))}`);
    step(`the dashboard's events are stored (page view, filter changes, the error shown; ${events.length} ui.* events in all)`);
    ok = true;
  } finally {
    if (browser) await browser.close();
    const exit = await server.stop();
    if (!ok) console.log(`server log (tail):\n${server.tail()}`);
    if (ok) assert.equal(exit.code, 0, `faceweave serve exit ${JSON.stringify(exit)}`);
    if (process.env.FACEWEAVE_KEEP_DATA !== '1') fs.rmSync(dataDir, { recursive: true, force: true });
  }
  step(`passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
