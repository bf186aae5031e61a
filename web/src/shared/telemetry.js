// Browser telemetry (docs/api.md, "Browser telemetry"): events are queued and sent in batches to
// POST /api/events with navigator.sendBeacon — every 2 s, at 20 events, and when the page is hidden or
// left. Only words of [a-z0-9_-] and numbers leave the browser: never file names or free text.

import { getToken } from './api.js';
// The events and properties the server keeps (it also checks every word against this list).
import UI_EVENTS from './ui_events.json';

const CLIENT_KEY = 'faceweave.client';
const FLUSH_MS = 2000;
const FLUSH_AT = 20;
const MAX_BATCH = 50; // the server's limit per request
const WORD = /^[a-z0-9_-]+$/;

function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

function clientId() {
  const valid = (id) => typeof id === 'string' && /^c_[0-9a-f]{24}$/.test(id);
  try {
    const stored = localStorage.getItem(CLIENT_KEY);
    if (valid(stored)) return stored;
    const id = `c_${randomHex(12)}`;
    localStorage.setItem(CLIENT_KEY, id);
    return id;
  } catch {
    return `c_${randomHex(12)}`;
  }
}

// Makes a value safe to send as a word: lower case, anything else than [a-z0-9_-] becomes '_', at most
// 24 characters (the server's limit). Returns null when nothing usable is left.
export function toWord(value) {
  if (value === undefined || value === null) return null;
  const w = String(value)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '_')
    .slice(0, 24);
  return WORD.test(w) ? w : null;
}

function cleanProps(event, props) {
  const out = {};
  const allowed = UI_EVENTS.events[event] || {};
  for (const [key, raw] of Object.entries(props)) {
    if (raw === undefined || raw === null || !(key in allowed)) continue;
    if (allowed[key] === 'number') {
      const n = Number(raw);
      if (Number.isFinite(n)) out[key] = n;
    } else {
      const w = toWord(raw);
      if (w !== null) out[key] = w;
    }
  }
  return out;
}

class Telemetry {
  constructor() {
    this.client = clientId();
    this.queue = [];
    this.timer = null;
    this.enabled = true;
    this.hideHooks = [];
    this.sent = 0; // events handed to the server so far (the dashboard tells its own from others')
    this.lastSentAt = 0;
    addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.pageHidden();
    });
    addEventListener('pagehide', () => this.pageHidden());
  }

  // fn runs before the last flush when the page is hidden or left (to record what is still pending).
  beforePageHide(fn) {
    this.hideHooks.push(fn);
  }

  pageHidden() {
    for (const fn of this.hideHooks) fn();
    this.flush();
  }

  // The server says its consent level in /api/config; with `off` nothing is sent (or kept).
  setConsent(level) {
    this.enabled = level !== 'off';
    if (!this.enabled) this.queue = [];
  }

  record(event, props = {}) {
    if (!this.enabled || !(event in UI_EVENTS.events)) return;
    this.queue.push({ event, props: cleanProps(event, props) });
    if (this.queue.length >= FLUSH_AT) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  page(page) {
    this.record('ui.page', { page });
  }

  // control: the option key or a control's name; action: change|click|toggle|open|drop|submit|upload|
  // preview|run|download; extra: value/old_value (words) and number/old_number.
  action(control, action, extra = {}) {
    this.record('ui.action', { control, action, ...extra });
  }

  error(code, where) {
    this.record('ui.error', { code, where });
  }

  flush() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.queue.length) {
      const events = this.queue.splice(0, MAX_BATCH);
      this.sent += events.length;
      this.lastSentAt = Date.now();
      this.send(JSON.stringify({ client: this.client, events }));
    }
  }

  send(body) {
    // sendBeacon cannot set headers: a token travels in the query string.
    const token = getToken();
    const url = token ? `/api/events?token=${encodeURIComponent(token)}` : '/api/events';
    const blob = new Blob([body], { type: 'text/plain;charset=UTF-8' });
    let queued = false;
    try {
      queued = typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(url, blob);
    } catch {
      queued = false;
    }
    if (!queued) {
      fetch(url, { method: 'POST', body, keepalive: true, headers: { 'Content-Type': 'application/json' } }).catch(
        () => {},
      );
    }
  }
}

export const telemetry = new Telemetry();
