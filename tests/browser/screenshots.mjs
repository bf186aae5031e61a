// Full-page screenshots of every page state at a phone (390x844) and a desktop (1280x800) viewport (and the desktop in dark mode), to
// look at (`make screenshots` writes them to build/screenshots). Starts a real `faceweave serve` on a
// simulated telemetry history, uploads a source and a target, previews, runs a job (so the job list has
// entries) and opens the dashboard. Prints each page's width and fails when a page is wider than its
// viewport (sideways scrolling on a phone).
//
// node screenshots.mjs --faceweave PATH [--out DIR]
// Environment: as the browser tests (FACEWEAVE_TESTDATA_DIR, FACEWEAVE_BROWSER_NODE_MODULES, FACEWEAVE_CHROMIUM).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, chromiumPath, faceweave, launchOptions, nodeModules, sourceImage, targetImage, testdata } from './support.mjs';

const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'dark', width: 1280, height: 800, colorScheme: 'dark' },
];

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function pageWidth(page) {
  return page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
}

async function main() {
  const out = path.resolve(arg('--out', 'build/screenshots'));
  assert.ok(faceweave && fs.existsSync(faceweave), `faceweave binary not found: ${faceweave} (pass --faceweave PATH)`);
  fs.mkdirSync(out, { recursive: true });
  const { chromium } = createRequire(path.join(nodeModules, 'noop.js'))('playwright-core');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'faceweave-screens-'));
  const today = new Date().toISOString().slice(0, 10);
  execFileSync(faceweave, ['--telemetry', 'off', '--data-dir', dataDir, 'telemetry', 'simulate', '--users', '150',
    '--days', '21', '--seed', '11', '--end', today], { encoding: 'utf8' });
  // An experiment on a default with a true effect, so the dashboard's experiments panel has a verdict.
  execFileSync(faceweave, ['--telemetry', 'off', '--data-dir', dataDir, 'experiments', 'simulate', 'color-match-none',
    '--option', 'color_match', '--arms', 'reinhard,none', '--metric', 'explicit_rate', '--users', '1500', '--days', '14',
    '--seed', '3', '--effect', '-0.1', '--end', today], { encoding: 'utf8' });
  const server = new Server(faceweave, dataDir, path.join(out, 'server.log'));
  const browser = await chromium.launch(launchOptions(chromiumPath));
  const wide = [];
  try {
    await server.waitReady(60_000);
    for (const vp of VIEWPORTS) {
      const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, colorScheme: vp.colorScheme || 'light' });
      const tag = vp.colorScheme === 'dark' ? `${vp.width}-dark` : `${vp.width}`;
      context.setDefaultTimeout(60_000);
      const page = await context.newPage();
      // Full page from the top (sticky bars at their place), and what the viewport shows after the action.
      const shot = async (name) => {
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(out, `${name}-${tag}-viewport.png`) });
        await page.evaluate(() => window.scrollTo(0, 0));
        const file = path.join(out, `${name}-${tag}.png`);
        await page.screenshot({ path: file, fullPage: true });
        const width = await pageWidth(page);
        if (width > vp.width) wide.push(`${name} at ${vp.width} px is ${width} px wide`);
        console.log(`${file} (page ${width} px wide)`);
      };
      await page.goto(`${server.base}/`);
      await page.getByLabel('Identity strength').waitFor();
      await shot('workbench-empty');
      await page.getByLabel('Source photos', { exact: true }).setInputFiles(sourceImage);
      await page.getByRole('img', { name: 'Source photo 1' }).waitFor();
      await page.getByLabel('Target image or video', { exact: true }).setInputFiles(targetImage);
      await page.locator('#target-info img').waitFor();
      await page.getByRole('button', { name: 'Preview', exact: true }).click();
      await page.getByRole('img', { name: 'Preview of the swap' }).waitFor();
      await shot('workbench-preview');
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await page.waitForFunction(() => ['done', 'failed', 'cancelled'].includes(document.querySelector('#progress-card').dataset.status),
        null, { timeout: 120_000 });
      await page.locator('#job-list .badge.done').first().waitFor();
      await shot('workbench-result');
      await page.getByRole('button', { name: 'Zoom to the face' }).click();
      await shot('workbench-result-zoom');
      await page.getByLabel('Target image or video', { exact: true }).setInputFiles(path.join(testdata, 'video', 'video_01.mp4'));
      await page.locator('#target-info').filter({ hasText: 'frames' }).waitFor();
      await page.getByLabel('Preview frame').fill('45');
      await page.getByRole('button', { name: 'Start here' }).click();
      await shot('workbench-video');
      await page.goto(`${server.base}/insights/`);
      await page.waitForFunction(() => Number(document.body.dataset.generation || 0) > 0);
      await shot('insights');
      const gen = await page.evaluate(() => Number(document.body.dataset.generation));
      await page.getByRole('button', { name: '7 days' }).click();
      await page.waitForFunction((g) => Number(document.body.dataset.generation) > g, gen);
      await shot('insights-7-days');
      await page.goto(`${server.base}/insights/?from=2030-01-02&to=2030-01-01`);
      await page.waitForFunction(() => Number(document.body.dataset.generation || 0) > 0);
      await shot('insights-bad-filter');
      await context.close();
    }
  } finally {
    await browser.close().catch(() => {});
    await server.stop().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  assert.deepEqual(wide, [], 'pages wider than their viewport');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`FAIL: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
