// Browser test of what a first-time user meets on a phone (390x844) and a desktop (1280x800), against a
// real `faceweave serve` on a simulated telemetry history:
// - no page is wider than its viewport (no sideways scrolling), the dashboard included;
// - keyboard only: choose the photos, reach Run early in the tab order, run, and download the result,
//   which is named after the target;
// - option values whose model this server does not have are shown greyed out, not offered;
// - a source photo without a face is refused at once and never sent with a run; an image target without
//   a face keeps Preview and Run disabled and says why;
// - a mask padding out of range is said next to the field (not clamped silently) and blocks Run;
// - uploads and options survive a reload;
// - a pasted image becomes the source; a video target's timeline previews a frame and trims there;
// - the dashboard's date presets, summary row (numbers as the API's, change against the period before);
// - the workbench stops saying "connected" when the server is gone;
// - the dashboard with a bad filter does not reload itself (its own error and page events come back over
//   the live stream): its view requests are counted for 20 s.
//
// node flows.test.mjs --faceweave PATH
// Environment: as workbench.test.mjs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, artifacts, chromiumPath, faceweave, launchOptions, nodeModules, sleep, sourceImage, targetImage, testdata } from './support.mjs';

const videoTarget = path.join(testdata, 'video', 'video_01.mp4');

const UI_WAIT_MS = 60_000;
const JOB_WAIT_MS = 120_000;
const VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
];

const started = Date.now();
function step(text) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);
}

async function pageWidth(page) {
  return page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
}

async function expectFits(page, what, width) {
  const w = await pageWidth(page);
  assert.ok(w <= width, `${what} is ${w} px wide in a ${width} px viewport (sideways scrolling)`);
}

// A photo without a face (a colour gradient), drawn by the browser itself.
async function facelessPng(page) {
  const b64 = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 480;
    c.height = 360;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 480, 360);
    grad.addColorStop(0, '#3a6ea5');
    grad.addColorStop(1, '#e8c07d');
    g.fillStyle = grad;
    g.fillRect(0, 0, 480, 360);
    return c.toDataURL('image/png').split(',')[1];
  });
  return { name: 'sky.png', mimeType: 'image/png', buffer: Buffer.from(b64, 'base64') };
}

// Presses Tab until `selector` has the focus; returns how many presses it took.
async function tabTo(page, selector, limit = 40) {
  for (let n = 1; n <= limit; n += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return n;
  }
  throw new Error(`${selector} not reached with ${limit} Tab presses`);
}

// Playwright intercepts file choosers only once a 'filechooser' listener has reached the browser; a key
// press sent in the same tick as the first listener can open the native chooser instead (nothing happens
// headless), so the page keeps a listener from its start (see workbench()).
async function chooseByKeyboard(page, selector, file) {
  await tabTo(page, selector);
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
  await chooser.setFiles(file);
}

async function waitJobEnd(page) {
  await page.waitForFunction(
    () => ['done', 'failed', 'cancelled'].includes(document.querySelector('#progress-card').dataset.status),
    null,
    { timeout: JOB_WAIT_MS, polling: 200 },
  );
  return page.locator('#progress-card').getAttribute('data-status');
}

async function workbench(browser, base, vp, downloads) {
  const context = await browser.newContext({ viewport: vp, acceptDownloads: true });
  context.setDefaultTimeout(UI_WAIT_MS);
  const page = await context.newPage();
  page.on('filechooser', () => {}); // file choosers intercepted from the start (chooseByKeyboard)
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  const posted = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && /\/api\/(preview|jobs)$/.test(new URL(req.url()).pathname)) posted.push(req.postDataJSON());
  });
  await page.goto(`${base}/`);
  await page.getByLabel('Identity strength').waitFor();
  await expectFits(page, `the empty workbench at ${vp.width}`, vp.width);

  // What the server cannot run (a model not installed; float16 on OpenCV 4.6) is offered greyed out.
  const config = await (await fetch(`${base}/api/config`)).json();
  let greyed = 0;
  for (const [key, values] of Object.entries(config.unavailable || {})) {
    const select = page.locator(`#opt-${key}`);
    if (!(await select.count())) continue;
    for (const value of Object.keys(values)) {
      const option = select.locator(`option[value="${value}"]`);
      assert.ok(await option.isDisabled(), `${key}=${value} cannot run here but is offered`);
      assert.match(await option.textContent(), /not installed/);
      greyed += 1;
    }
  }
  step(`${vp.width} px: ${greyed} option values greyed out as not installed`);

  // Keyboard only: photos, then Run within a few Tab presses of the target chooser.
  await chooseByKeyboard(page, '#source-input', sourceImage);
  await page.getByRole('img', { name: 'Source photo 1' }).waitFor();
  await chooseByKeyboard(page, '#target-input', targetImage);
  await page.locator('#target-info img').waitFor();
  await page.waitForFunction(() => !document.querySelector('#run-btn').disabled);
  const presses = await tabTo(page, '#run-btn', 10);
  assert.ok(presses <= 3, `Run is ${presses} Tab presses after the target chooser (expected at most 3)`);
  await page.keyboard.press('Enter');
  assert.equal(await waitJobEnd(page), 'done', await page.locator('#job-stats').innerText());
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'download-link');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  assert.equal(download.suggestedFilename(), 'biden-faceweave.jpg', 'the download is named after the target');
  const file = path.join(downloads, `${vp.width}-${download.suggestedFilename()}`);
  await download.saveAs(file);
  assert.ok(fs.statSync(file).size > 10_000, 'the downloaded result has content');
  await expectFits(page, `the workbench with a result at ${vp.width}`, vp.width);
  // The target is tall (970x2204): the compare zooms to its face and back.
  await page.getByRole('button', { name: 'Zoom to the face' }).click();
  const zoom = await page.locator('#compare-zoom').evaluate((e) => e.style.transform);
  assert.match(zoom, /^scale\((\d|\.)+\)$/, 'the compare is zoomed');
  assert.ok(Number(zoom.slice(6, -1)) > 1.5, `zoomed only ${zoom}`);
  await page.getByRole('button', { name: 'Whole frame' }).click();
  assert.equal(await page.locator('#compare-zoom').evaluate((e) => e.style.transform), '');
  step(`${vp.width} px: keyboard path upload -> run -> download (Run ${presses} Tab presses after the target)`);

  // The job list: a thumbnail, what it ran with, Show and Reuse; nothing squeezed.
  const row = page.locator('#job-list .job').first();
  await row.locator('.badge.done').waitFor();
  assert.match(await row.innerText(), /image · default options/);
  for (const cell of await row.locator('.job-line > *').all()) {
    const box = await cell.boundingBox();
    assert.ok(box.width >= 20, `a job list cell is squeezed to ${box.width} px at ${vp.width}`);
  }

  // A source photo without a face is refused at once and never sent.
  const sky = await facelessPng(page);
  await page.getByLabel('Source photos', { exact: true }).setInputFiles(sky);
  await page.locator('#err-sources').filter({ hasText: 'No face was found in sky.png' }).waitFor();
  assert.equal(await page.locator('#source-thumbs .thumb').count(), 1, 'the faceless photo is not in the list');
  posted.length = 0;
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  await page.getByRole('img', { name: 'Preview of the swap' }).waitFor();
  assert.equal(posted.length, 1);
  assert.equal(posted[0].sources.length, 1, 'only the photo with a face is sent');
  step(`${vp.width} px: a source without a face is refused and not sent`);

  // Mask padding out of range: said next to the field, Run disabled, nothing clamped.
  await page.locator('summary', { hasText: 'Mask' }).click(); // a folded group
  const top = page.getByLabel('Mask padding top');
  await top.fill('150');
  await top.press('Tab');
  await page.locator('#err-face_mask_padding').filter({ hasText: 'Each side takes 0 to 99' }).waitFor();
  assert.equal(await top.inputValue(), '150', 'the value typed stays for the user to fix');
  assert.ok(await page.locator('#run-btn').isDisabled(), 'Run is disabled while the padding is out of range');
  assert.match(await page.locator('#action-hint').innerText(), /Fix Mask padding first/);
  posted.length = 0;
  await top.fill('10');
  await top.press('Tab');
  await page.waitForFunction(() => !document.querySelector('#run-btn').disabled);
  step(`${vp.width} px: padding 150 is refused with a message, 10 is taken`);
  // A preview is on screen, so the changed option renders it again by itself.
  const deadline = Date.now() + 15_000;
  while (!posted.length && Date.now() < deadline) await sleep(100);
  assert.equal(posted.length, 1, 'one automatic preview after the option change');
  assert.deepEqual(posted[0].options.face_mask_padding, [10, 0, 0, 0]);
  step(`${vp.width} px: the preview renders again after an option change`);

  // A reload keeps the uploads and the changed options.
  await page.getByLabel('Blend mode').selectOption('laplacian');
  await page.reload();
  await page.getByRole('img', { name: 'Source photo 1' }).waitFor();
  await page.locator('#target-info img').waitFor();
  assert.equal(await page.getByLabel('Blend mode').inputValue(), 'laplacian');
  assert.equal(await page.getByLabel('Mask padding top').inputValue(), '10');
  await page.waitForFunction(() => !document.querySelector('#run-btn').disabled);
  step(`${vp.width} px: uploads and options survive a reload`);

  // Reuse puts a job's photos and options back: the keyboard run used the defaults.
  await page.locator('#job-list .job').last().getByRole('button', { name: /^Reuse/ }).click();
  await page.waitForFunction(() => document.querySelector('#opt-blend').value === 'auto');
  assert.equal(await page.getByLabel('Mask padding top').inputValue(), '0');
  assert.equal(await page.locator('#source-thumbs .thumb').count(), 1);
  step(`${vp.width} px: Reuse restores a job's photos and options`);

  // An image target without a face: Preview and Run stay disabled, and the page says why.
  await page.getByLabel('Target image or video', { exact: true }).setInputFiles(sky);
  await page.locator('#target-info').filter({ hasText: 'no face found' }).waitFor();
  assert.ok(await page.locator('#run-btn').isDisabled(), 'Run is disabled for a target without a face');
  assert.ok(await page.locator('#preview-btn').isDisabled(), 'Preview is disabled for a target without a face');
  assert.match(await page.locator('#action-hint').innerText(), /No face was found in the target/);
  step(`${vp.width} px: a target without a face disables Preview and Run`);

  await page.screenshot({ path: path.join(artifacts, `browser-flows-workbench-${vp.width}.png`), fullPage: true });
  assert.deepEqual(problems, [], 'no script errors');
  await context.close();
}

// A video target: the timeline shows its frames, trims at the chosen frame and says what is kept.
async function videoTimeline(browser, base) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(UI_WAIT_MS);
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel('Identity strength').waitFor();
  // Paste (Ctrl+V of a copied image): with no source yet, it becomes the source.
  await page.evaluate((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'pasted.jpg', { type: 'image/jpeg' }));
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, fs.readFileSync(sourceImage).toString('base64'));
  await page.getByRole('img', { name: 'Source photo 1' }).waitFor();
  step('a pasted image became the source');
  await page.getByLabel('Target image or video', { exact: true }).setInputFiles(videoTarget);
  await page.locator('#target-info').filter({ hasText: '90 frames' }).waitFor();
  const slider = page.getByLabel('Preview frame');
  assert.equal(await slider.getAttribute('max'), '89');
  await slider.fill('45');
  await page.waitForFunction(() => /index=45/.test(document.querySelector('#single-img').src));
  await page.getByRole('button', { name: 'Start here' }).click();
  assert.equal(await page.getByLabel('Trim start frame').inputValue(), '45');
  await slider.fill('59');
  await page.getByRole('button', { name: 'End after this frame' }).click();
  assert.equal(await page.getByLabel('Trim end frame').inputValue(), '60');
  assert.match(await page.locator('#opt-preview_frame-kept').innerText(), /Keeps frames 45 to 59 of 90 \(0\.5 s\)/);
  step('video: the timeline previews frame 45 and trims to frames 45-59');
  await context.close();
}

async function dashboard(browser, base, vp) {
  const context = await browser.newContext({ viewport: vp });
  context.setDefaultTimeout(UI_WAIT_MS);
  const page = await context.newPage();
  await page.goto(`${base}/insights/`);
  await page.waitForFunction(() => Number(document.body.dataset.generation || 0) > 0);
  await page.locator('section[data-view="usage"][data-state="ready"]').waitFor();
  await expectFits(page, `the dashboard at ${vp.width}`, vp.width);
  // The A/B metric in effect is shown (it was blank).
  assert.equal(await page.locator('#ab-metric').inputValue(), 'error_rate');
  // A date preset sets both ends; the summary row shows the API's numbers with a change against the
  // 7 days before; the platform filter is a list of the platforms with data.
  const gen = Number(await page.locator('body').getAttribute('data-generation'));
  await page.getByRole('button', { name: '7 days' }).click();
  await page.waitForFunction((g) => Number(document.body.dataset.generation) > g, gen);
  const day = (t) => new Date(t).toISOString().slice(0, 10);
  const to = day(Date.now());
  const from = day(Date.now() - 6 * 86400000);
  assert.equal(await page.locator('#f-from').inputValue(), from);
  assert.equal(await page.locator('#f-to').inputValue(), to);
  const usage = await (await fetch(`${base}/api/insights/usage?from=${from}&to=${to}`)).json();
  const runs = page.locator('#summary .headline[data-key="runs"]');
  assert.equal(await runs.locator('.headline-value').innerText(), usage.summary.runs.toLocaleString('en-US'));
  assert.match(await runs.locator('.change').innerText(), /vs the 7 days before/);
  assert.equal(await page.locator('#f-platform').evaluate((e) => e.tagName), 'SELECT');
  await expectFits(page, `the dashboard with a summary at ${vp.width}`, vp.width);
  await page.screenshot({ path: path.join(artifacts, `browser-flows-insights-${vp.width}.png`), fullPage: true });
  await context.close();
}

// A bad filter, then 20 s of counting the dashboard's view requests: one load, no loop.
async function noReloadLoop(browser, base) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  let views = 0;
  page.on('request', (req) => {
    if (/^\/api\/insights\/(?!stream)[a-z]+$/.test(new URL(req.url()).pathname)) views += 1;
  });
  await page.goto(`${base}/insights/?from=2030-01-02&to=2030-01-01`);
  await page.waitForFunction(() => Number(document.body.dataset.generation || 0) > 0);
  await page.locator('#err-from').filter({ hasText: /./ }).waitFor();
  const first = views;
  await sleep(20_000);
  const generation = Number(await page.locator('body').getAttribute('data-generation'));
  assert.equal(views, first, `the dashboard reloaded itself after a bad filter: ${views - first} more view requests in 20 s`);
  assert.equal(generation, 1, 'one refresh');
  const messages = await page.locator('#messages .message').count();
  assert.equal(messages, 1, 'one message for the one problem');
  step(`bad filter: ${first} view requests at load, none more in 20 s`);
  await context.close();
}

// The top bar stops saying "connected" once the server is gone (checked every 10 s).
async function serverGone(browser, server) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.base}/`);
  await page.locator('#server-state').filter({ hasText: 'connected' }).waitFor();
  await server.stop();
  await page.locator('#server-state').filter({ hasText: 'Not connected' }).waitFor({ timeout: 20_000 });
  step('the workbench says "Not connected" once the server is stopped');
  await page.close();
}

async function main() {
  assert.ok(faceweave && fs.existsSync(faceweave), `faceweave binary not found: ${faceweave} (pass --faceweave PATH)`);
  assert.ok(fs.existsSync(chromiumPath), `${chromiumPath} missing: apt-get install chromium (scripts/install-deps.sh)`);
  const { chromium } = createRequire(path.join(nodeModules, 'noop.js'))('playwright-core');
  fs.mkdirSync(artifacts, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'faceweave-flows-'));
  const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'faceweave-flows-dl-'));
  const today = new Date().toISOString().slice(0, 10);
  execFileSync(faceweave, ['--telemetry', 'off', '--data-dir', dataDir, 'telemetry', 'simulate', '--users', '60', '--days', '14',
    '--seed', '5', '--end', today], { encoding: 'utf8' });
  const server = new Server(faceweave, dataDir, path.join(artifacts, 'browser-flows-server.log'));
  let browser = null;
  let ok = false;
  try {
    await server.waitReady(60_000);
    browser = await chromium.launch(launchOptions());
    for (const vp of VIEWPORTS) {
      await workbench(browser, server.base, vp, downloads);
      await dashboard(browser, server.base, vp);
    }
    await videoTimeline(browser, server.base);
    await noReloadLoop(browser, server.base);
    await serverGone(browser, server);
    ok = true;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop().catch(() => {});
    if (!ok) console.error(`--- faceweave serve log (tail) ---\n${server.tail()}`);
    fs.rmSync(downloads, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => {
    step('PASS');
    process.exit(0);
  },
  (err) => {
    console.error(`FAIL: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
