// Following one job (GET /api/jobs/{id} every 500 ms, progress, fps, ETA, cancel) and the job list.

import { api, ApiError } from '../shared/api.js';
import { h, clear, $ } from '../shared/dom.js';

const POLL_MS = 500;
const FINAL = new Set(['done', 'failed', 'cancelled']);

function formatEta(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return null;
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

export class JobRunner {
  constructor({ onUpdate, onFinish, onError }) {
    this.onUpdate = onUpdate;
    this.onFinish = onFinish;
    this.onError = onError;
    this.jobId = null;
    this.timer = null;
    this.active = false;
    this.failures = 0;
    this.card = $('#progress-card');
    this.bar = $('#job-progress');
    this.percent = $('#job-percent');
    this.stats = $('#job-stats');
  }

  follow(jobId) {
    this.stop();
    this.jobId = jobId;
    this.active = true;
    this.failures = 0;
    this.card.hidden = false;
    this.render({ id: jobId, status: 'queued', progress: 0 });
    this.onUpdate();
    this.poll();
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.active = false;
  }

  async poll() {
    const id = this.jobId;
    let job;
    try {
      job = await api.job(id);
      this.failures = 0;
    } catch (err) {
      if (id !== this.jobId) return;
      // A dropped connection may come back; anything the server refuses ends the follow.
      if (err instanceof ApiError && err.code === 'network' && ++this.failures < 20) {
        this.stats.textContent = 'Connection lost; retrying…';
        this.timer = setTimeout(() => this.poll(), POLL_MS * 2);
        return;
      }
      this.stop();
      this.onUpdate();
      this.onError(err);
      return;
    }
    if (id !== this.jobId) return;
    this.render(job);
    if (FINAL.has(job.status)) {
      this.stop();
      this.onFinish(job);
    } else {
      this.timer = setTimeout(() => this.poll(), POLL_MS);
      this.onUpdate();
    }
  }

  async cancel() {
    if (!this.jobId) return;
    const job = await api.cancelJob(this.jobId);
    if (job && job.status) this.render({ ...job, progress: Number(this.bar.value) });
  }

  render(job) {
    const progress = Math.max(0, Math.min(1, Number(job.progress) || (job.status === 'done' ? 1 : 0)));
    this.bar.value = progress;
    this.bar.setAttribute('aria-valuetext', `${Math.round(progress * 100)}% ${job.status}`);
    this.percent.textContent = `${Math.round(progress * 100)}%`;
    this.card.dataset.status = job.status;
    const parts = [`Job ${job.status}`];
    if (job.frames_total) parts.push(`${job.frames_done || 0} / ${job.frames_total} frames`);
    if (Number(job.fps) > 0) parts.push(`${Number(job.fps).toFixed(1)} fps`);
    const eta = job.status === 'running' ? formatEta(Number(job.eta_s)) : null;
    if (eta) parts.push(`ETA ${eta}`);
    if (job.status === 'done' && job.result && Number.isFinite(job.result.faces_swapped)) {
      parts.push(`${job.result.faces_swapped} face${job.result.faces_swapped === 1 ? '' : 's'} swapped`);
    }
    if (job.status === 'failed' && job.error) parts.push(job.error.message);
    this.stats.textContent = parts.join(' · ');
  }
}

function shortTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function renderJobList(list, jobs, onShow) {
  clear(list);
  if (!jobs.length) {
    list.append(h('li', { class: 'muted small empty' }, 'No jobs yet.'));
    return;
  }
  for (const job of jobs) {
    const pct = Math.round((Number(job.progress) || 0) * 100);
    const showable = job.status === 'done' || job.status === 'queued' || job.status === 'running';
    const label = `${job.status === 'done' ? 'Show' : 'Follow'} job ${job.id}`;
    const button = showable ? h('button', { type: 'button', class: 'link', 'aria-label': label }, job.status === 'done' ? 'Show' : 'Follow') : null;
    if (button) button.addEventListener('click', () => onShow(job.id));
    list.append(
      h('li', { class: 'job' },
        h('span', { class: `badge ${job.status}` }, job.status),
        h('span', { class: 'job-id mono', title: job.id }, job.id.slice(0, 10)),
        h('span', { class: 'muted small' }, job.kind || ''),
        h('span', { class: 'muted small' }, job.status === 'running' ? `${pct}%` : shortTime(job.finished_at || job.created_at)),
        button || h('span')),
    );
  }
}
