// Following one job (GET /api/jobs/{id} every 500 ms, progress, fps, ETA, cancel) and the job list.

import { api, apiUrl, ApiError } from '../shared/api.js';
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
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// One row per job: the target's frame, status and time, what it ran with (or why it failed), and
// buttons: Show (a finished result) or Follow (a running job), and Reuse (its uploads and options back
// into the form). describe(options) turns the job's options into words.
export function renderJobList(list, jobs, { onShow, onReuse, describe }) {
  clear(list);
  if (!jobs.length) {
    list.append(h('li', { class: 'muted small empty' }, 'No jobs yet.'));
    return;
  }
  for (const job of jobs) {
    const pct = Math.round((Number(job.progress) || 0) * 100);
    const buttons = h('span', { class: 'job-buttons' });
    const short = job.id.slice(0, 10);
    if (job.status === 'done' || job.status === 'queued' || job.status === 'running') {
      const verb = job.status === 'done' ? 'Show' : 'Follow';
      const b = h('button', { type: 'button', class: 'link', 'aria-label': `${verb} job ${short}` }, verb);
      b.addEventListener('click', () => onShow(job.id));
      buttons.append(b);
    }
    if (job.target && Array.isArray(job.sources)) {
      const b = h('button', { type: 'button', class: 'link', 'aria-label': `Reuse the photos and options of job ${short}`,
        title: 'Put its photos and options back into the form' }, 'Reuse');
      b.addEventListener('click', () => onReuse(job));
      buttons.append(b);
    }
    const when = job.status === 'running' ? `${pct}%` : shortTime(job.finished_at || job.created_at);
    const reason = job.status === 'failed' && job.error && job.error.message ? job.error.message : '';
    const detail = reason || [job.kind, describe(job.options || {})].filter(Boolean).join(' · ');
    const thumb = h('img', { class: 'job-thumb', alt: '', loading: 'lazy',
      src: job.target ? apiUrl(`/api/uploads/${job.target}/frame`) : '' });
    thumb.addEventListener('error', () => (thumb.style.visibility = 'hidden'));
    list.append(
      h('li', { class: 'job', 'data-job': job.id },
        thumb,
        h('div', { class: 'job-main' },
          h('div', { class: 'job-line' },
            h('span', { class: `badge ${job.status}` }, job.status),
            h('span', { class: 'muted small num' }, when),
            h('span', { class: 'job-id mono muted small', title: job.id }, short)),
          h('span', { class: `job-detail small ${reason ? 'reason' : 'muted'}`, title: detail }, detail)),
        buttons),
    );
  }
}
