// The workbench: upload sources and a target, set options, preview, run a job, compare, download.
// Every meaningful interaction is reported through ../shared/telemetry.js (docs/api.md).

import './styles.css';
import { api, apiUrl, ApiError, getToken, setToken, onUnauthorized } from '../shared/api.js';
import { telemetry } from '../shared/telemetry.js';
import { h, clear, $, addMessage } from '../shared/dom.js';
import { OptionsForm } from './options.js';
import { JobRunner, renderJobList } from './jobs.js';
import { Viewer } from './viewer.js';

const state = {
  config: null,
  sources: [], // upload descriptions (docs/api.md, "Uploads")
  target: null,
  uploading: { source: 0, target: 0 },
  previewing: false,
  options: null,
  runner: null,
  viewer: null,
};

const el = {
  serverState: $('#server-state'),
  messages: $('#messages'),
  tokenForm: $('#token-form'),
  tokenInput: $('#token-input'),
  sourceInput: $('#source-input'),
  sourceDrop: $('#source-drop'),
  sourceThumbs: $('#source-thumbs'),
  targetInput: $('#target-input'),
  targetDrop: $('#target-drop'),
  targetInfo: $('#target-info'),
  options: $('#options'),
  previewBtn: $('#preview-btn'),
  runBtn: $('#run-btn'),
  cancelBtn: $('#cancel-btn'),
  downloadLink: $('#download-link'),
  actionHint: $('#action-hint'),
  jobList: $('#job-list'),
  jobsRefresh: $('#jobs-refresh'),
};

// ---- messages and errors -------------------------------------------------------------------------

function showMessage(text, kind = 'error') {
  return addMessage(el.messages, text, kind);
}

function clearMessages() {
  clear(el.messages);
}

const UPLOAD_FIELDS = { sources: '#err-sources', source: '#err-sources', target: '#err-target', file: null };

// Shows an API error where the user looks: next to the field it names and in the message area; reports
// it as a ui.error event (code and a short word for where, never the message).
function reportError(err, where, fieldHint) {
  if (err && err.name === 'AbortError') return;
  const apiError = err instanceof ApiError ? err : new ApiError(0, 'internal', String((err && err.message) || err));
  const field = apiError.field || fieldHint;
  if (field && field in UPLOAD_FIELDS) {
    const sel = UPLOAD_FIELDS[field] || (where === 'upload_target' ? '#err-target' : '#err-sources');
    $(sel).textContent = apiError.message;
  } else if (field && state.options) {
    state.options.showFieldError(field, apiError.message);
  }
  const label = { upload: 'Upload', preview: 'Preview', job: 'Job', cancel: 'Cancel', config: 'Configuration' }[
    where.replace(/_.*/, '')
  ];
  // A missing token is asked for by the token form; everything else is said in the message area.
  if (apiError.code !== 'unauthorized') showMessage(label ? `${label} failed: ${apiError.message}` : apiError.message);
  if (apiError.code !== 'network') telemetry.error(apiError.code, where.replace(/_.*/, ''));
}

// ---- configuration and access token --------------------------------------------------------------

onUnauthorized(() => {
  setToken('');
  el.tokenForm.hidden = false;
  el.tokenInput.focus();
});

el.tokenForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = el.tokenInput.value.trim();
  if (!token) return;
  setToken(token);
  el.tokenInput.value = '';
  el.tokenForm.hidden = true;
  telemetry.action('token', 'submit');
  clearMessages();
  start();
});

async function start() {
  el.serverState.textContent = 'Connecting…';
  let config;
  try {
    config = await api.config();
  } catch (err) {
    el.serverState.textContent = err.code === 'unauthorized' ? 'Token needed' : 'Not connected';
    reportError(err, 'config');
    return;
  }
  if (config.auth_required && !getToken()) {
    el.tokenForm.hidden = false;
    el.tokenInput.focus();
  }
  state.config = config;
  telemetry.setConsent(config.telemetry);
  el.serverState.textContent = `faceweave ${config.version || ''} · connected`;
  if (!state.options) {
    state.options = new OptionsForm(el.options, config, { onChange: optionChanged, onSettled: optionSettled });
    telemetry.beforePageHide(() => state.options.settle());
    if (state.target) state.options.setTarget(state.target.kind, state.target.id, state.target.faceList || []);
  }
  refreshJobs();
}

// ---- options -------------------------------------------------------------------------------------

function optionChanged(key) {
  if (key === 'face_selector_order') reorderFaces();
}

// One ui.action per settled change, with the new and the previous value.
function optionSettled(key, value, old) {
  const extra = {};
  if (Array.isArray(value)) {
    // Mask padding: the side that changed, as numbers.
    const i = value.findIndex((v, n) => v !== old[n]);
    extra.number = value[i];
    extra.old_number = old[i];
  } else if (typeof value === 'number' || (value === null && typeof old === 'number')) {
    if (value !== null) extra.number = value;
    if (typeof old === 'number') extra.old_number = old;
  } else if (typeof value === 'boolean') {
    extra.value = value ? 'on' : 'off';
    extra.old_value = old ? 'on' : 'off';
  } else {
    extra.value = value;
    if (old !== null && old !== undefined) extra.old_value = old;
  }
  telemetry.action(key, 'change', extra);
}

// ---- uploads -------------------------------------------------------------------------------------

function kindOf(file) {
  return file.type && file.type.startsWith('video/') ? 'video' : 'image';
}

async function uploadFiles(role, files) {
  const list = Array.from(files || []);
  if (!list.length) return;
  const errEl = role === 'source' ? $('#err-sources') : $('#err-target');
  errEl.textContent = '';
  const chosen = role === 'target' ? list.slice(0, 1) : list;
  for (const file of chosen) {
    state.uploading[role] += 1;
    const pending = role === 'source' ? addPendingThumb(file) : showTargetPending(file);
    updateActions();
    try {
      const upload = await api.upload(file);
      telemetry.action(role, 'upload', { value: upload.kind || kindOf(file) });
      if (role === 'source') addSource(upload, pending);
      else await setTarget(upload);
    } catch (err) {
      if (pending) pending.remove();
      if (role === 'target') renderTarget();
      reportError(err, `upload_${role}`, role === 'source' ? 'sources' : 'target');
    } finally {
      state.uploading[role] -= 1;
      updateActions();
    }
  }
}

function addPendingThumb(file) {
  const li = h('li', { class: 'thumb pending', 'aria-busy': 'true' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('span', { class: 'small' }, `Uploading ${kindOf(file)}…`));
  el.sourceThumbs.append(li);
  return li;
}

function addSource(upload, pending) {
  if (upload.kind === 'video') {
    pending.remove();
    $('#err-sources').textContent = 'A source must be a photo; this file is a video.';
    telemetry.error('invalid_argument', 'upload');
    return;
  }
  state.sources.push(upload);
  const n = state.sources.length;
  const faces = Array.isArray(upload.faces) ? upload.faces.length : 0;
  const remove = h('button', { type: 'button', class: 'remove', 'aria-label': `Remove source photo ${n}` }, '×');
  const li = h('li', { class: 'thumb', 'data-upload': upload.id },
    h('img', { src: apiUrl(`/api/uploads/${upload.id}/frame`), alt: `Source photo ${n}` }),
    h('span', { class: `small ${faces ? '' : 'warn'}` }, faces ? `${faces} face${faces > 1 ? 's' : ''}` : 'no face found'),
    remove);
  remove.addEventListener('click', () => {
    state.sources = state.sources.filter((s) => s.id !== upload.id);
    li.remove();
    telemetry.action('source', 'click', { value: 'remove' });
    updateActions();
  });
  pending.replaceWith(li);
  if (!faces) showMessage('No face was found in this source photo; choose another one.', 'warning');
}

function showTargetPending(file) {
  clear(el.targetInfo);
  el.targetInfo.hidden = false;
  const pending = h('div', { class: 'pending', 'aria-busy': 'true' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('span', { class: 'small' }, `Uploading ${kindOf(file)}…`));
  el.targetInfo.append(pending);
  return pending;
}

async function setTarget(upload) {
  state.target = upload;
  state.target.faceList = await listFaces(upload);
  renderTarget();
  if (state.options) state.options.setTarget(upload.kind, upload.id, state.target.faceList);
  state.viewer.showTarget(apiUrl(`/api/uploads/${upload.id}/frame`));
}

// The target's faces in the selector's current order, with a crop each.
async function listFaces(upload) {
  const order = state.options ? state.options.values.face_selector_order : undefined;
  try {
    const faces = await api.uploadFaces(upload.id, { order });
    return (faces && faces.faces) || [];
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) reportError(err, 'faces');
    return (upload.faces || []).map((f, n) => ({ ...f, crop: `/api/uploads/${upload.id}/faces/${n}.jpg` }));
  }
}

async function reorderFaces() {
  const target = state.target;
  if (!target) return;
  const faces = await listFaces(target);
  if (state.target !== target) return;
  target.faceList = faces;
  state.options.setTarget(target.kind, target.id, faces);
}

function describeTarget(t) {
  const parts = [t.kind];
  if (t.width && t.height) parts.push(`${t.width}×${t.height}`);
  if (t.kind === 'video') {
    if (t.frames) parts.push(`${t.frames} frames`);
    if (t.duration_s) parts.push(`${Number(t.duration_s).toFixed(1)} s`);
    if (t.has_audio) parts.push('audio');
  }
  const faces = (t.faceList && t.faceList.length) || (Array.isArray(t.faces) ? t.faces.length : 0);
  parts.push(faces === 1 ? '1 face' : `${faces} faces`);
  return parts.join(' · ');
}

function renderTarget() {
  clear(el.targetInfo);
  const t = state.target;
  el.targetInfo.hidden = !t;
  if (!t) return;
  el.targetInfo.append(
    h('img', { src: apiUrl(`/api/uploads/${t.id}/frame`), alt: 'Target' }),
    h('p', { class: 'small' }, describeTarget(t)),
  );
}

function wireDrop(zone, input, role) {
  input.addEventListener('change', () => {
    uploadFiles(role, input.files);
    input.value = '';
  });
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    uploadFiles(role, ev.dataTransfer && ev.dataTransfer.files);
  });
}

// ---- preview, run, cancel ------------------------------------------------------------------------

function payload() {
  return {
    sources: state.sources.map((s) => s.id),
    target: state.target.id,
    options: state.options ? state.options.requestOptions() : {},
  };
}

function updateActions() {
  const ready =
    state.options && state.sources.length > 0 && state.target && !state.uploading.source && !state.uploading.target;
  const running = state.runner && state.runner.active;
  el.previewBtn.disabled = !ready || state.previewing;
  el.runBtn.disabled = !ready || running;
  el.cancelBtn.hidden = !running;
  el.previewBtn.setAttribute('aria-busy', String(state.previewing));
  if (state.uploading.source || state.uploading.target) el.actionHint.textContent = 'Uploading…';
  else if (!state.sources.length && !state.target) el.actionHint.textContent = 'Upload a source photo and a target to start.';
  else if (!state.sources.length) el.actionHint.textContent = 'Add a source photo.';
  else if (!state.target) el.actionHint.textContent = 'Add a target image or video.';
  else if (running) el.actionHint.textContent = 'Job running…';
  else el.actionHint.textContent = '';
}

async function preview() {
  if (el.previewBtn.disabled) return;
  state.options.settle();
  telemetry.action('preview', 'preview');
  clearMessages();
  state.options.clearErrors();
  state.previewing = true;
  updateActions();
  el.actionHint.textContent = 'Rendering preview…';
  try {
    const body = payload();
    if (state.target.kind === 'video') body.frame = state.options.previewFrame;
    const { blob, headers } = await api.preview(body);
    const swapped = headers.get('X-Faceweave-Faces-Swapped');
    const ms = headers.get('X-Faceweave-Ms');
    const caption = ['Preview'];
    if (swapped !== null) caption.push(`${swapped} face${swapped === '1' ? '' : 's'} swapped`);
    if (ms !== null) caption.push(`${Math.round(Number(ms))} ms`);
    state.viewer.showPreview(blob, caption.join(' · '));
  } catch (err) {
    reportError(err, 'preview');
  } finally {
    state.previewing = false;
    updateActions();
  }
}

async function run() {
  if (el.runBtn.disabled) return;
  state.options.settle();
  telemetry.action('run', 'run');
  clearMessages();
  state.options.clearErrors();
  el.downloadLink.hidden = true;
  try {
    const job = await api.createJob(payload());
    state.runner.follow(job.id, state.target);
  } catch (err) {
    reportError(err, 'job');
  }
  updateActions();
}

async function cancel() {
  telemetry.action('cancel', 'click');
  try {
    await state.runner.cancel();
  } catch (err) {
    reportError(err, 'cancel');
  }
}

function jobFinished(job) {
  updateActions();
  refreshJobs();
  if (job.status === 'done') {
    state.viewer.showResult(job);
    el.downloadLink.href = apiUrl(`/api/jobs/${job.id}/result`);
    el.downloadLink.hidden = false;
  } else if (job.status === 'failed') {
    const e = job.error || {};
    reportError(new ApiError(0, e.code || 'internal', e.message || 'The job failed.', e.field), 'job');
  } else if (job.status === 'cancelled') {
    showMessage('The job was cancelled.', 'info');
  }
}

async function refreshJobs() {
  try {
    const { jobs } = await api.jobs(10);
    renderJobList(el.jobList, jobs || [], showJob);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) reportError(err, 'jobs');
  }
}

async function showJob(id) {
  telemetry.action('job_list', 'open');
  try {
    const job = await api.job(id);
    if (job.status === 'done') {
      state.viewer.showResult(job);
      el.downloadLink.href = apiUrl(`/api/jobs/${job.id}/result`);
      el.downloadLink.hidden = false;
    } else if (job.status === 'queued' || job.status === 'running') {
      state.runner.follow(job.id, null);
      updateActions();
    }
  } catch (err) {
    reportError(err, 'job');
  }
}

// ---- start ---------------------------------------------------------------------------------------

state.viewer = new Viewer({
  onCompare: (percent) => telemetry.action('compare', 'change', { number: percent }),
});
state.runner = new JobRunner({
  onUpdate: () => updateActions(),
  onFinish: jobFinished,
  onError: (err) => reportError(err, 'job'),
});

wireDrop(el.sourceDrop, el.sourceInput, 'source');
wireDrop(el.targetDrop, el.targetInput, 'target');
el.previewBtn.addEventListener('click', preview);
el.runBtn.addEventListener('click', run);
el.cancelBtn.addEventListener('click', cancel);
el.downloadLink.addEventListener('click', () => telemetry.action('result', 'download'));
el.jobsRefresh.addEventListener('click', () => {
  telemetry.action('job_list', 'click', { value: 'refresh' });
  refreshJobs();
});
// Dropping a file anywhere else must not navigate away from the workbench.
addEventListener('dragover', (ev) => ev.preventDefault());
addEventListener('drop', (ev) => ev.preventDefault());

telemetry.page('workbench');
updateActions();
start();
