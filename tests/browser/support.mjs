// Shared by the browser tests: a real `faceweave serve` child process on a free loopback port.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// What every browser test runs with (CTest sets the environment; the flags are for running one by hand).
const here = path.dirname(fileURLToPath(import.meta.url));
function arg(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
export const faceweave = arg('--faceweave') || process.env.FACEWEAVE_BINARY;
export const testdata = process.env.FACEWEAVE_TESTDATA_DIR || path.resolve(here, '../../../shared/testdata');
export const nodeModules = process.env.FACEWEAVE_BROWSER_NODE_MODULES || path.join(here, 'node_modules');
export const artifacts = process.env.FACEWEAVE_ARTIFACTS_DIR || path.join(os.tmpdir(), 'faceweave-test-artifacts');
export const chromiumPath = process.env.FACEWEAVE_CHROMIUM || '/usr/bin/chromium';
export const sourceImage = path.join(testdata, 'images', 'obama.jpg');
export const targetImage = path.join(testdata, 'images', 'biden.jpg');

// How every browser test and the screenshot script start Debian's headless chromium.
export function launchOptions(executablePath = chromiumPath) {
  return {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-dev-shm-usage'],
  };
}

export class Server {
  // Port 0: the server picks a free port and prints "serving on http://HOST:PORT"; no race for a port.
  // extraArgs go after `serve` (e.g. ['--token', T]); telemetry is the consent level.
  constructor(binary, dataDir, logFile, extraArgs = [], telemetry = 'all') {
    this.base = null;
    this.logFile = logFile;
    this.log = fs.openSync(logFile, 'w');
    // Global flags go before the sub-command (CLI11).
    this.proc = spawn(binary, ['--data-dir', dataDir, '--telemetry', telemetry, 'serve', '--host', '127.0.0.1', '--port', '0', ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FACEWEAVE_DATA_DIR: dataDir },
    });
    let seen = '';
    this.listening = new Promise((resolve) => {
      const onData = (chunk) => {
        if (this.log !== null) fs.writeSync(this.log, chunk);
        if (this.base) return;
        seen = (seen + chunk.toString()).slice(-4096);
        const m = seen.match(/serving on (http:\/\/[^\s]+?)\/?(\s|$)/);
        if (m) {
          this.base = m[1];
          resolve(this.base);
        }
      };
      this.proc.stdout.on('data', onData);
      this.proc.stderr.on('data', onData);
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    this.exitInfo = null;
    this.exited.then((info) => (this.exitInfo = info));
  }

  async waitReady(limitMs) {
    const deadline = Date.now() + limitMs;
    const early = this.exited.then((info) => {
      throw new Error(`faceweave serve exited before listening (${JSON.stringify(info)})`);
    });
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`faceweave serve did not say where it listens within ${limitMs / 1000} s`)), limitMs);
    });
    try {
      await Promise.race([this.listening, early, late]);
    } finally {
      clearTimeout(timer);
      early.catch(() => {});
    }
    while (Date.now() < deadline) {
      if (this.exitInfo) throw new Error(`faceweave serve exited early (${JSON.stringify(this.exitInfo)})`);
      try {
        const r = await fetch(`${this.base}/healthz`);
        assert.equal(r.status, 200, '/healthz status');
        const body = await r.json();
        assert.equal(body.status, 'ok', '/healthz body');
        return body;
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
      }
      await sleep(100);
    }
    throw new Error(`faceweave serve did not answer /healthz within ${limitMs / 1000} s`);
  }

  async stop() {
    if (!this.exitInfo) {
      this.proc.kill('SIGTERM'); // the server stops cleanly on SIGTERM and flushes its telemetry
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
      await this.exited;
      clearTimeout(t);
    }
    if (this.log !== null) fs.closeSync(this.log);
    this.log = null;
    return this.exitInfo;
  }

  tail(lines = 40) {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

// The ui.* events stored in a telemetry database (events_view, docs/telemetry.md), read with sqlite3.
export function uiEvents(dbPath) {
  const sql =
    "SELECT id, event, user, props, outcome FROM events_view WHERE event LIKE 'ui.%' ORDER BY id";
  const out = execFileSync('sqlite3', ['-readonly', '-json', dbPath, sql], { encoding: 'utf8' });
  const rows = out.trim() ? JSON.parse(out) : [];
  return rows.map((r) => ({ ...r, props: typeof r.props === 'string' ? JSON.parse(r.props) : r.props }));
}
